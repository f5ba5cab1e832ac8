"""The JAX engine: a whole epoch as one compiled program, jax.jit over lax.scan of the step.

The epoch function scans the pure ``step`` over the permutation cut into (n_batches, m) rows of
indices; each step gathers its mini-batch from the data on the device (``take``), so no shuffled
copy of the whole training set is ever made (a 157 MB saving on MNIST, and faster: the gathered
rows stay in cache), and runs the last, smaller mini-batch (when m does not divide n) as one more
step inside the same program.  Its inputs are all device arrays: the hyper-parameters are device
scalars in the network's dtype (a Python float would be a host-to-device transfer at every call,
and a float64 scalar would promote float32 weights once x64 is on), and the mini-batch size is a
compile-time constant.  So a whole epoch runs under
``jax.transfer_guard_host_to_device("disallow")`` (tests/test_transfers.py).

With monitoring every k mini-batches the epoch is split: one program runs k mini-batches
starting at a position held in a device scalar (``dynamic_slice`` of the permutation, so one
compilation serves every chunk), one runs what is left.  Same steps, same numbers.

Programs are compiled ahead of time (``lower().compile()``) once per shape, and the time it
takes is reported apart in ``compile_seconds``.  Same numbers as the plain engine.
"""

import time

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["JaxScanEngine"]


class JaxScanEngine:
    name = "jax"

    def __init__(self, backend, step):
        self.backend = backend
        self.step = step
        self.compile_seconds = 0.0
        self._compiled = {}

    def device_hyper(self, hyper, dtype):
        """The hyper-parameters as device scalars of ``dtype`` (None fields stay None)."""
        return type(hyper)(*(None if v is None else
                             jax.device_put(np.asarray(v, dtype), self.backend.device)
                             for v in hyper))

    def _call(self, fn, static, *args):
        """Compile ``fn`` for these argument shapes once (timed apart), then run it."""
        key = (fn.__name__, static, jax.tree_util.tree_structure(args),
               tuple((a.shape, a.dtype) for a in jax.tree_util.tree_leaves(args)))
        compiled = self._compiled.get(key)
        if compiled is None:
            start = time.perf_counter()
            n_args = len(args)
            compiled = jax.jit(fn, static_argnums=tuple(range(n_args, n_args + len(static))))
            compiled = compiled.lower(*args, *static).compile()
            self.compile_seconds += time.perf_counter() - start
            self._compiled[key] = compiled
        return compiled(*args)

    def run_epoch(self, params, state, data, order, mini_batch_size, hyper, every=None,
                  on_chunk=None):
        if not isinstance(hyper.eta, jax.Array):
            hyper = self.device_hyper(hyper, data.x.dtype)
        if order is None:  # the given order: the identity permutation, made on the device
            order = self._call(_identity, (data.n,), data.labels)
        elif isinstance(order, np.ndarray):
            order = jax.device_put(order, self.backend.device)
        m, n = mini_batch_size, data.n
        args = (params, state, data.x, data.y, order, hyper)
        if not every or every * m >= n:
            return self._call(self._epoch, (m,), *args)
        pos = self._call(_zero, (), order)
        done, n_batches = 0, n // m
        while done + every < -(-n // m):
            params, state, pos = self._call(self._chunk, (m, every), params, state, data.x,
                                            data.y, order, hyper, pos)
            done += every
            on_chunk(params, done)
        return self._call(self._tail, (m, n_batches - done), params, state, data.x, data.y,
                          order, hyper, pos)

    def _scan(self, params, state, x, y, rows, hyper):
        """The step over each row of indices ``rows`` (n_batches, m), gathering as it goes."""
        def body(carry, index):
            xb, yb = jnp.take(x, index, axis=0), jnp.take(y, index, axis=0)
            return self.step(*carry, xb, yb, hyper), None

        (params, state), _ = jax.lax.scan(body, (params, state), rows)
        return params, state

    def _epoch(self, params, state, x, y, order, hyper, m):
        n = x.shape[0]
        full = (n // m) * m
        if full:
            params, state = self._scan(params, state, x, y, order[:full].reshape(n // m, m),
                                       hyper)
        if full < n:
            rest = order[full:]
            params, state = self.step(params, state, jnp.take(x, rest, axis=0),
                                      jnp.take(y, rest, axis=0), hyper)
        return params, state

    def _chunk(self, params, state, x, y, order, hyper, pos, m, k):
        """k full mini-batches starting at position ``pos`` (a device scalar) of ``order``."""
        rows = jax.lax.dynamic_slice_in_dim(order, pos, k * m).reshape(k, m)
        params, state = self._scan(params, state, x, y, rows, hyper)
        return params, state, pos + k * m

    def _tail(self, params, state, x, y, order, hyper, pos, m, k):
        """The last k full mini-batches from ``pos`` and the smaller one after them."""
        n = x.shape[0]
        if k:
            params, state, pos = self._chunk(params, state, x, y, order, hyper, pos, m, k)
        rest = n - (n // m) * m
        if rest:
            index = order[n - rest:]
            params, state = self.step(params, state, jnp.take(x, index, axis=0),
                                      jnp.take(y, index, axis=0), hyper)
        return params, state


def _identity(labels, n):
    return jnp.arange(n, dtype=labels.dtype)


def _zero(order):
    return jnp.zeros((), dtype=order.dtype)
