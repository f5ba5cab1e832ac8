"""The plain engine: a Python loop over mini-batches, for any array API namespace.

The mini-batches are gathered on the device from the data by their slice of the epoch's
permutation (``take``), a block of whole mini-batches (about ``BLOCK_ROWS`` rows) at a time, so
nothing moves between host and device inside the loop, no shuffled copy of the whole training
set is made, and the cost of a call to ``take`` (most of a small gather's time on NumPy) is paid
once per block; each mini-batch is then a slice of its block.  With the given order (order
None) the mini-batches are plain slices of the data.  The loop never synchronises with the device: on asynchronous backends (CuPy, PyTorch
on CUDA) the kernels of successive steps queue up.

Where the backend's step offers an ``overwriting`` variant (NumPy's fused step), the epoch copies
the parameters once (``step.own``) and then updates that copy in place, mini-batch after
mini-batch, through a step made for this epoch (``step.overwriting()``: its work buffers belong
to this call, so threads that train networks of one shape at once never share them): the parameters between two mini-batches are seen by nobody but the loop (and
``on_chunk``, which only reads them before the next step), so this is the epoch's pure result
(what JAX calls donating the buffers), with one copy per epoch instead of one per mini-batch.
The caller's arrays are never written.

Dropout (``masks``, a masks.MaskStream): the epoch runs chunk by chunk (engines.mask_chunks:
about masks.CHUNK_ROWS rows of whole mini-batches, the last smaller mini-batch alone); each
chunk's rows are gathered with one ``take`` and its masks drawn on the host and moved to the
device at once, then every mini-batch is a slice of both.
"""

from . import Engine, check_masks, mask_chunks

__all__ = ["PlainEngine", "BLOCK_ROWS"]

BLOCK_ROWS = 128  # about this many rows (whole mini-batches) are gathered by one take


class PlainEngine(Engine):
    name = "plain"

    def run_epoch(self, transform, params, state, data, order, mini_batch_size, every=None,
                  on_chunk=None, masks=None):
        check_masks(self.spec, masks)
        with self.backend.device_scope(), self.backend.limit_threads(self.work(mini_batch_size)):
            if masks is not None:
                return self._run_masked(self.step_for(transform), params, state, data, order,
                                        mini_batch_size, every, on_chunk, masks)
            return self._run(self.step_for(transform), params, state, data, order,
                             mini_batch_size, every, on_chunk)

    def _run_masked(self, step, params, state, data, order, m, every, on_chunk, masks):
        xp, n, x, y = self.backend.xp, data.n, data.x, data.y
        for first, count, rows in mask_chunks(n, m, every):
            start, end = first * m, first * m + count * rows
            if order is None:
                x_block, y_block = x[start:end, ...], y[start:end, ...]
            else:
                index = order[start:end]
                x_block, y_block = xp.take(x, index, axis=0), xp.take(y, index, axis=0)
            chunk = masks.draw_on(self.backend, count, rows)
            for i in range(count):
                params, state = step(params, state, x_block[i * rows:(i + 1) * rows, ...],
                                     y_block[i * rows:(i + 1) * rows, ...],
                                     tuple(None if k is None else k[i, ...] for k in chunk))
            done = first + count
            if every and done * m < n and done % every == 0:
                on_chunk(params, done)
        return params, state

    def _run(self, step, params, state, data, order, m, every, on_chunk):
        xp, n, x, y = self.backend.xp, data.n, data.x, data.y
        overwriting = getattr(step, "overwriting", None)
        if overwriting is not None:
            params, step = step.own(params), overwriting()  # this epoch's own buffers
        block = m * max(1, BLOCK_ROWS // m)  # rows gathered at once: whole mini-batches
        for start in range(0, n, block):
            end = min(start + block, n)  # out-of-bounds slice stops are unspecified
            if order is None:
                x_block, y_block = x[start:end, ...], y[start:end, ...]
            else:
                rows = order[start:end]
                x_block, y_block = xp.take(x, rows, axis=0), xp.take(y, rows, axis=0)
            for k in range(start, end, m):
                stop = min(k + m, end)
                params, state = step(params, state, x_block[k - start:stop - start, ...],
                                     y_block[k - start:stop - start, ...])
                if every and stop < n and (k // m + 1) % every == 0:
                    on_chunk(params, k // m + 1)
        return params, state
