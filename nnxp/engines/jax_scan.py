"""The JAX engine: a whole epoch as one compiled program, jax.jit over lax.scan of the step.

The epoch function gathers the shuffled data on the device, reshapes the full mini-batches into
(n_batches, m, features), scans the pure ``step`` over them, and runs the last, smaller
mini-batch (when m does not divide n) as one more step inside the same program.  Its inputs are
all device arrays: the hyper-parameters are device scalars in the network's dtype (a Python
float would be a host-to-device transfer at every call, and a float64 scalar would promote
float32 weights once x64 is on), and the mini-batch size is a compile-time constant.  So a whole
epoch runs under ``jax.transfer_guard_host_to_device("disallow")`` (tests/test_transfers.py).

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

    def run_epoch(self, params, state, data, order, mini_batch_size, hyper):
        dtype = data.x.dtype
        if not isinstance(hyper.eta, jax.Array):
            hyper = self.device_hyper(hyper, dtype)
        if isinstance(order, np.ndarray):
            order = jax.device_put(order, self.backend.device)
        args = (params, state, data.x, data.y, order, hyper)
        key = (mini_batch_size, jax.tree_util.tree_structure(args),
               tuple((a.shape, a.dtype) for a in jax.tree_util.tree_leaves(args)))
        compiled = self._compiled.get(key)
        if compiled is None:
            start = time.perf_counter()
            compiled = jax.jit(self._epoch, static_argnums=6).lower(
                *args, mini_batch_size).compile()
            self.compile_seconds += time.perf_counter() - start
            self._compiled[key] = compiled
        return compiled(*args)

    def _epoch(self, params, state, x, y, order, hyper, m):
        step = self.step
        if order is not None:
            x, y = jnp.take(x, order, axis=0), jnp.take(y, order, axis=0)
        n = x.shape[0]
        full = (n // m) * m
        if full:
            batches = (x[:full].reshape(n // m, m, x.shape[1]),
                       y[:full].reshape(n // m, m, y.shape[1]))

            def body(carry, batch):
                return step(*carry, batch[0], batch[1], hyper), None

            (params, state), _ = jax.lax.scan(body, (params, state), batches)
        if full < n:
            params, state = step(params, state, x[full:], y[full:], hyper)
        return params, state
