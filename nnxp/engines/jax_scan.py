"""The JAX engine: a whole epoch as one compiled program, jax.jit over lax.scan of the step.

The epoch function gathers the shuffled data on the device, reshapes the full mini-batches into
(n_batches, m, features), scans the pure ``step`` over them, and runs the last, smaller
mini-batch (when m does not divide n) as one more step inside the same program.  Its inputs are
all device arrays: the hyper-parameters are device scalars in the network's dtype (a Python
float would be a host-to-device transfer at every call, and a float64 scalar would promote
float32 weights once x64 is on), and the mini-batch size is a compile-time constant.  So a whole
epoch runs under ``jax.transfer_guard_host_to_device("disallow")`` (tests/test_transfers.py).

With monitoring every k mini-batches the epoch is split: one program gathers the shuffled data,
one runs k mini-batches starting at a position held in a device scalar (``dynamic_slice``, so
one compilation serves every chunk), one runs what is left.  Same steps, same numbers.

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
        if isinstance(order, np.ndarray):
            order = jax.device_put(order, self.backend.device)
        m, n = mini_batch_size, data.n
        if not every or every * m >= n:
            return self._call(self._epoch, (m,), params, state, data.x, data.y, order, hyper)
        x, y = (data.x, data.y) if order is None else self._call(_gather, (), data.x, data.y,
                                                                  order)
        pos = jnp.zeros((), dtype=order.dtype if order is not None else jnp.int32)
        done, n_batches = 0, n // m
        while done + every < -(-n // m):
            params, state, pos = self._call(self._chunk, (m, every), params, state, x, y, pos,
                                            hyper)
            done += every
            on_chunk(params, done)
        return self._call(self._tail, (m, n_batches - done), params, state, x, y, pos, hyper)

    def _scan(self, params, state, xb, yb, hyper):
        def body(carry, batch):
            return self.step(*carry, batch[0], batch[1], hyper), None

        (params, state), _ = jax.lax.scan(body, (params, state), (xb, yb))
        return params, state

    def _epoch(self, params, state, x, y, order, hyper, m):
        if order is not None:
            x, y = _gather(x, y, order)
        n = x.shape[0]
        full = (n // m) * m
        if full:
            params, state = self._scan(params, state, x[:full].reshape(n // m, m, x.shape[1]),
                                       y[:full].reshape(n // m, m, y.shape[1]), hyper)
        if full < n:
            params, state = self.step(params, state, x[full:], y[full:], hyper)
        return params, state

    def _chunk(self, params, state, x, y, pos, hyper, m, k):
        """k full mini-batches starting at example ``pos`` (a device scalar)."""
        xs = jax.lax.dynamic_slice_in_dim(x, pos, k * m).reshape(k, m, x.shape[1])
        ys = jax.lax.dynamic_slice_in_dim(y, pos, k * m).reshape(k, m, y.shape[1])
        params, state = self._scan(params, state, xs, ys, hyper)
        return params, state, pos + k * m

    def _tail(self, params, state, x, y, pos, hyper, m, k):
        """The last k full mini-batches from ``pos`` and the smaller one after them."""
        n = x.shape[0]
        if k:
            params, state, pos = self._chunk(params, state, x, y, pos, hyper, m, k)
        rest = n - (n // m) * m
        if rest:
            params, state = self.step(params, state, x[n - rest:], y[n - rest:], hyper)
        return params, state


def _gather(x, y, order):
    return jnp.take(x, order, axis=0), jnp.take(y, order, axis=0)
