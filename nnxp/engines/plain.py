"""The plain engine: a Python loop over mini-batches, for any array API namespace.

Each mini-batch is gathered on the device from the data by its slice of the epoch's permutation
(``take``), so nothing moves between host and device inside the loop and no shuffled copy of
the whole training set is made.  With the given order (order None) the mini-batches are plain
slices.  The loop never synchronises with the device: on asynchronous backends (CuPy, PyTorch
on CUDA) the kernels of successive steps queue up.

Where the backend's step offers an ``overwriting`` variant (NumPy's fused step), the epoch copies
the parameters once (``step.own``) and then updates that copy in place, mini-batch after
mini-batch: the parameters between two mini-batches are seen by nobody but the loop (and
``on_chunk``, which only reads them before the next step), so this is the epoch's pure result
(what JAX calls donating the buffers), with one copy per epoch instead of one per mini-batch.
The caller's arrays are never written.
"""

from . import Engine

__all__ = ["PlainEngine"]


class PlainEngine(Engine):
    name = "plain"

    def run_epoch(self, transform, params, state, data, order, mini_batch_size, every=None,
                  on_chunk=None):
        with self.backend.device_scope(), self.backend.limit_threads(self.work(mini_batch_size)):
            return self._run(self.step_for(transform), params, state, data, order,
                             mini_batch_size, every, on_chunk)

    def _run(self, step, params, state, data, order, m, every, on_chunk):
        xp, n, x, y = self.backend.xp, data.n, data.x, data.y
        overwriting = getattr(step, "overwriting", None)
        if overwriting is not None:
            params, step = step.own(params), overwriting
        for k in range(0, n, m):
            stop = min(k + m, n)  # the standard leaves out-of-bounds slice stops unspecified
            if order is None:
                x_batch, y_batch = x[k:stop, ...], y[k:stop, ...]
            else:
                rows = order[k:stop]
                x_batch, y_batch = xp.take(x, rows, axis=0), xp.take(y, rows, axis=0)
            params, state = step(params, state, x_batch, y_batch)
            if every and stop < n and (k // m + 1) % every == 0:
                on_chunk(params, k // m + 1)
        return params, state
