"""NumPy: the default backend, on the CPU.  NumPy >= 2 is itself an array API namespace and is
used directly (its functions are faster than array-api-compat's wrappers)."""

import numpy as np

from ..errors import BackendError
from .base import Backend

__all__ = ["NumpyBackend", "load"]


class NumpyBackend(Backend):
    name = "numpy"

    def asarray(self, host, dtype=None):
        return self.host(host, dtype)

    def to_numpy(self, x):
        return np.asarray(x)

    def owns(self, x):
        return isinstance(x, np.ndarray)


def load(device=None) -> NumpyBackend:
    if device not in (None, "cpu", "cpu:0"):
        raise BackendError(f"the numpy backend runs on the CPU only; got device {device!r}")
    import array_api_compat
    xp = (np if int(np.__version__.split(".")[0]) >= 2
          else array_api_compat.array_namespace(np.empty(0)))
    return NumpyBackend(xp, "cpu")
