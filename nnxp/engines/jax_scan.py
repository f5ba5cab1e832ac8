"""The JAX engine: a whole epoch as one compiled program, jax.jit over lax.scan of the step.

The epoch scans the pure step over the permutation cut into (n_batches, m) rows of indices;
the mini-batches are gathered from the data on the device (``take``) a block of about
``BLOCK_ROWS`` rows at a time, then scanned, so no shuffled copy of the training set is made
(the same mini-batches in the same order as a gather per step, faster at small ones:
docs/speed.md), and the last, smaller mini-batch (when m does not divide n) runs as one more
step inside the same program.  Every input is a device array: the hyper-parameters are arrays
in the optimizer state (optimizers.py), the mini-batch size a compile-time constant.
So a whole epoch runs under ``jax.transfer_guard_host_to_device("disallow")`` and a new eta
never recompiles.

With monitoring every k mini-batches the epoch is split: one program runs k mini-batches
starting at a position held in a device scalar (``dynamic_slice`` of the permutation, so one
compilation serves every chunk), one runs what is left.  Same steps, same numbers.

Dropout (``masks``, a masks.MaskStream): the epoch runs as one program per chunk of whole
mini-batches (engines.mask_chunks: about masks.CHUNK_ROWS rows, cut where on_chunk runs), the
chunk's masks drawn on the host and moved to the device (bool) before the call, then scanned
with the mini-batches' rows (gathered one mini-batch at a time); the last smaller mini-batch
is one more call.  The chunks have a few lengths at most (the chunk's, what monitoring and the
epoch's end leave, the smaller mini-batch), so a few compilations.

Programs are compiled ahead of time (``lower().compile()``) once per shape and structure, and
the time it takes is reported apart in ``compile_seconds``.  Same numbers as the plain engine.
"""

import time

import jax
import jax.numpy as jnp

from ..optimizers import step_key
from . import Engine, check_masks, mask_chunks

__all__ = ["JaxScanEngine"]

MAX_PROGRAMS = 32  # compiled training programs an engine keeps (the least recently used go)


class JaxScanEngine(Engine):
    name = "jax"

    def __init__(self, backend, spec):
        super().__init__(backend, spec)
        self._compiled = {}

    def _call(self, fn, transform, static, *args):
        """Compile ``fn`` for this structure and these argument shapes once (timed apart)."""
        key = (fn.__name__, step_key(transform) if transform else None, static,
               jax.tree_util.tree_structure(args), self._signature(args))
        compiled = self._compiled.pop(key, None)
        if compiled is not None:
            self._compiled[key] = compiled  # the most recently used last
        else:
            start = time.perf_counter()
            step = self.step_for(transform) if transform else None
            n_args = len(args)
            jitted = jax.jit(lambda *a: fn(step, *a),
                             static_argnums=tuple(range(n_args, n_args + len(static))))
            compiled = jitted.lower(*args, *static).compile()
            self.compile_seconds += time.perf_counter() - start
            if len(self._compiled) >= MAX_PROGRAMS:  # every new mini-batch size or training-
                self._compiled.pop(next(iter(self._compiled)))  # set size compiles one: the
            self._compiled[key] = compiled                      # least recently used goes
        return compiled(*args)

    def _signature(self, args):
        """What, besides the structure, a compiled program depends on: shapes and dtypes (the
        mesh engine adds shardings)."""
        return tuple((a.shape, a.dtype) for a in jax.tree_util.tree_leaves(args))

    def run_epoch(self, transform, params, state, data, order, mini_batch_size, every=None,
                  on_chunk=None, masks=None):
        check_masks(self.spec, masks)
        if order is None:  # the given order: the identity permutation, made on the device
            order = self._call(_identity, None, (data.n,), data.labels)
        m, n = mini_batch_size, data.n
        if masks is not None:
            return self._run_masked(transform, params, state, data, order, m, every, on_chunk,
                                    masks)
        if not every or every * m >= n:
            return self._call(_epoch, transform, (m,), params, state, data.x, data.y, order)
        pos = self._call(_zero, None, (), order)
        done, n_batches = 0, n // m
        while done + every < -(-n // m):
            params, state, pos = self._call(_chunk, transform, (m, every), params, state,
                                            data.x, data.y, order, pos)
            done += every
            on_chunk(params, done)
        return self._call(_tail, transform, (m, n_batches - done), params, state, data.x,
                          data.y, order, pos)

    def _run_masked(self, transform, params, state, data, order, m, every, on_chunk, masks):
        pos = self._call(_zero, None, (), order)
        n = data.n
        for first, count, rows in mask_chunks(n, m, every):
            chunk = masks.draw_on(self.backend, count, rows)
            params, state, pos = self._call(_masked, transform, (rows, count), params, state,
                                            data.x, data.y, order, pos, chunk)
            done = first + count
            if every and done * m < n and done % every == 0:
                on_chunk(params, done)
        return params, state


# Rows gathered at once: the mini-batches of a block of about this many rows are gathered in one
# ``take`` and then scanned (one large gather is cheaper than many small ones inside the loop,
# and a block of 1024 MNIST rows, 3 MB, stays in cache where a shuffled copy of the whole
# training set would not).  Mini-batches of BLOCK_ROWS rows or more are gathered one by one.
BLOCK_ROWS = 1024


def _scan(step, params, state, x, y, rows):
    """The step over each row of indices ``rows`` (n_batches, m): the mini-batches gathered
    by blocks of ``BLOCK_ROWS // m`` (the same rows, in the same order, as one at a time)."""
    def gather(index):
        return jnp.take(x, index, axis=0), jnp.take(y, index, axis=0)

    def one(carry, index):
        return step(*carry, *gather(index)), None

    def block(carry, index):  # index: (per_block, m)
        xs, ys = gather(index.reshape(-1))
        batches = (xs.reshape(index.shape + x.shape[1:]), ys.reshape(index.shape + y.shape[1:]))
        carry, _ = jax.lax.scan(lambda c, b: (step(*c, *b), None), carry, batches)
        return carry, None

    n_batches, m = rows.shape
    per_block = BLOCK_ROWS // m
    n_blocks = n_batches // per_block if per_block > 1 else 0
    carry = (params, state)
    if n_blocks:
        whole = n_blocks * per_block
        carry, _ = jax.lax.scan(block, carry, rows[:whole].reshape(n_blocks, per_block, m))
        rows = rows[whole:]
    if rows.shape[0]:
        carry, _ = jax.lax.scan(one, carry, rows)
    return carry


def _epoch(step, params, state, x, y, order, m):
    n = x.shape[0]
    full = (n // m) * m
    if full:
        params, state = _scan(step, params, state, x, y, order[:full].reshape(n // m, m))
    if full < n:
        rest = order[full:]
        params, state = step(params, state, jnp.take(x, rest, axis=0), jnp.take(y, rest, axis=0))
    return params, state


def _chunk(step, params, state, x, y, order, pos, m, k):
    """k full mini-batches starting at position ``pos`` (a device scalar) of ``order``."""
    rows = jax.lax.dynamic_slice_in_dim(order, pos, k * m).reshape(k, m)
    params, state = _scan(step, params, state, x, y, rows)
    return params, state, pos + k * m


def _tail(step, params, state, x, y, order, pos, m, k):
    """The last k full mini-batches from ``pos`` and the smaller one after them."""
    n = x.shape[0]
    if k:
        params, state, pos = _chunk(step, params, state, x, y, order, pos, m, k)
    rest = n - (n // m) * m
    if rest:
        index = order[n - rest:]
        params, state = step(params, state, jnp.take(x, index, axis=0),
                             jnp.take(y, index, axis=0))
    return params, state


def _masked(step, params, state, x, y, order, pos, masks, m, k):
    """k mini-batches of m rows from position ``pos`` of ``order``, mini-batch i with the
    masks ``masks[l][i]`` (None for a layer without dropout)."""
    rows = jax.lax.dynamic_slice_in_dim(order, pos, k * m).reshape(k, m)

    def one(carry, batch):
        index, batch_masks = batch
        xb, yb = jnp.take(x, index, axis=0), jnp.take(y, index, axis=0)
        return step(*carry, xb, yb, batch_masks), None

    (params, state), _ = jax.lax.scan(one, (params, state), (rows, masks))
    return params, state, pos + k * m


def _identity(step, labels, n):
    del step
    return jnp.arange(n, dtype=labels.dtype)


def _zero(step, order):
    del step
    return jnp.zeros((), dtype=order.dtype)
