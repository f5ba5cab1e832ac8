"""CuPy on a CUDA device.  CuPy launches kernels on the *current* device, not on the arrays'
device, so every run makes the network's device current (``device_scope``).  Runs the plain
engine, the very code the CPU backends run; no CUDA device here means no CuPy test here."""

from ..errors import BackendError
from .base import Backend
from .selection import import_library, split_device

__all__ = ["CupyBackend", "load"]


class CupyBackend(Backend):
    name = "cupy"

    def asarray(self, host, dtype=None):
        import cupy
        host = self.host(host, dtype)
        with self.device:
            return cupy.asarray(host)

    def to_numpy(self, x):
        return x.get()

    def owns(self, x):
        import cupy
        return isinstance(x, cupy.ndarray)

    def synchronize(self, x):
        self.device.synchronize()

    def device_scope(self):
        return self.device  # cupy.cuda.Device is a context manager

    def compile(self, fn):
        def on_device(*args):
            with self.device:
                return fn(*args)
        return on_device


def load(device=None) -> CupyBackend:
    cupy = import_library("cupy")
    kind, index = split_device(device, "gpu")
    if kind not in ("gpu", "cuda"):
        raise BackendError(f"the cupy backend runs on CUDA devices ('gpu', 'gpu:1'); "
                           f"got device {device!r}")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken: cupy raises its own error types
        raise BackendError(f"CuPy is installed but no CUDA device is available ({exc}); "
                           "use NNXP_BACKEND=numpy or jax on this machine") from None
    if count == 0:
        raise BackendError("CuPy is installed but no CUDA device is available; "
                           "use NNXP_BACKEND=numpy or jax on this machine")
    if index >= count:
        raise BackendError(f"there are {count} CUDA device(s); device index {index} is out "
                           "of range")
    import array_api_compat.cupy as xp
    return CupyBackend(xp, cupy.cuda.Device(index))
