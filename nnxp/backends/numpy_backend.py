"""NumPy: the default backend, on the CPU.  NumPy >= 2 is itself an array API namespace and is
used directly (its functions are faster than array-api-compat's wrappers).  Training runs the
fused step of numpy_fast.py where it covers the network and the optimizer (the generic one
elsewhere), with BLAS threads chosen by the size of the products (threads.py)."""

import contextlib

import numpy as np

from ..errors import BackendError
from .base import Backend
from .selection import split_device
from .threads import blas_limits, threads_for

__all__ = ["NumpyBackend", "load"]


class NumpyBackend(Backend):
    name = "numpy"

    def asarray(self, host, dtype=None):
        return self.host(host, dtype)

    def to_numpy(self, x):
        return np.asarray(x)

    def owns(self, x):
        return isinstance(x, np.ndarray)

    def limit_threads(self, work=None):
        """NumPy's and SciPy's BLAS at the thread count of threads.threads_for(work), inside
        the context only (threadpoolctl); the fused step learns the count from it (it uses
        SciPy's BLAS only when that count is 1: two multi-threaded pools would compete)."""
        return _limited(threads_for(work))

    def make_step(self, spec, transform):
        """The fused step of numpy_fast.py where it covers ``spec`` and ``transform``, else
        the generic one (core.make_step)."""
        from .numpy_fast import fast_step
        return fast_step(spec, transform) or super().make_step(spec, transform)


@contextlib.contextmanager
def _limited(n):
    from .numpy_fast import BLAS_THREADS
    token = BLAS_THREADS.set(n or 0)
    try:
        if n is None:
            yield
        else:
            try:
                import scipy.linalg.blas  # noqa: F401  (the fast step's BLAS must be listed)
            except ImportError:  # pragma: no cover - scipy is a dependency
                pass
            with blas_limits(n):
                yield
    finally:
        BLAS_THREADS.reset(token)


def load(device=None) -> NumpyBackend:
    if split_device(device, "cpu") != ("cpu", 0):  # "cpu", "CPU", "cpu:0", as JAX reads them
        raise BackendError(f"the numpy backend runs on the CPU only; got device {device!r}")
    import array_api_compat
    xp = (np if int(np.__version__.split(".")[0]) >= 2
          else array_api_compat.array_namespace(np.empty(0)))
    return NumpyBackend(xp, "cpu")
