"""The plain engine: a Python loop over mini-batches, for any array API namespace.

Per epoch the shuffled data are gathered once on the device (``take`` by the permutation), then
each mini-batch is a slice of that copy, so nothing moves between host and device inside the
loop and no mini-batch is copied.  The loop itself never synchronises with the device: on
asynchronous backends (CuPy, PyTorch on CUDA) the kernels of successive steps queue up.
"""

__all__ = ["PlainEngine"]


class PlainEngine:
    name = "plain"
    compile_seconds = 0.0

    def __init__(self, backend, step):
        self.backend = backend
        self.step = step

    def run_epoch(self, params, state, data, order, mini_batch_size, hyper, every=None,
                  on_chunk=None):
        """One epoch; with ``every=k``, ``on_chunk(params, batches_done)`` after every k
        mini-batches (not after the last one: the epoch's own measurements follow it)."""
        xp, step, m, n = self.backend.xp, self.step, mini_batch_size, data.n
        x, y = data.x, data.y
        if order is not None:
            x, y = xp.take(x, order, axis=0), xp.take(y, order, axis=0)
        for k in range(0, n, m):
            stop = min(k + m, n)  # the standard leaves out-of-bounds slice stops unspecified
            params, state = step(params, state, x[k:stop, ...], y[k:stop, ...], hyper)
            if every and stop < n and (k // m + 1) % every == 0:
                on_chunk(params, k // m + 1)
        return params, state
