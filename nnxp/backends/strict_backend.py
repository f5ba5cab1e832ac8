"""array-api-strict: the standard's reference implementation, nothing more.  Its devices
("CPU_DEVICE", "device1", "device2", "no_float64", and "no_x64" with no 64-bit dtype at all)
test that nnxp never mixes devices and never assumes float64 (or int64) exists.

One fix, for a bug of array-api-strict (2.6.1) itself: its ``argmax`` returns NumPy's int64
indices on every device, where the standard asks for the device's default index dtype, so on
"no_x64" (whose index dtype is int32 and which refuses int64) every argmax raises
``ValueError: Device ... does not support dtype=int64``, and accuracy with it:

    import array_api_strict as xp
    a = xp.asarray([[0.1, 0.9]], dtype=xp.float32, device=xp.Device("no_x64"))
    xp.argmax(a, axis=-1)          # ValueError (argmin, nonzero, count_nonzero alike)

The backend's namespace is therefore the library's with ``argmax`` replaced by ``argmax``
below (registered for array-api-strict's arrays with ``namespace.register``, so the math
modules get it from ``namespace(x)`` as ever): the library's own where the device has the
int64 it returns, else the same answer composed from the standard (the first maximum, or the
first NaN where there is one, as NumPy's; in the device's index dtype).
"""

import functools
import types

import numpy as np

from ..errors import BackendError
from ..namespace import register
from .base import Backend
from .selection import import_library

__all__ = ["StrictBackend", "load", "fixed_namespace"]


class StrictBackend(Backend):
    name = "array_api_strict"

    def to_numpy(self, x):
        return np.from_dlpack(x.to_device(self.xp.Device("CPU_DEVICE")))


@functools.cache
def fixed_namespace(xp):
    """``xp`` (the array_api_strict module) with ``argmax`` that works on every device."""
    fixed = types.ModuleType(f"{__name__}.namespace", "array_api_strict, argmax fixed")
    fixed.__dict__.update({k: v for k, v in vars(xp).items() if not k.startswith("__")
                           or k.startswith("__array")})
    fixed.argmax = functools.partial(argmax, xp)
    register(type(xp.asarray(0)), fixed)
    return fixed


def argmax(xp, x, /, *, axis=None, keepdims=False):
    """The standard's argmax, in the default index dtype of ``x``'s device."""
    index = xp.__array_namespace_info__().default_dtypes(device=x.device)["indexing"]
    if index == xp.int64:   # what the library's own returns: it works here
        return xp.argmax(x, axis=axis, keepdims=keepdims)
    if axis is None:
        first = _first_max(xp, xp.reshape(x, (-1,)), 0, index, False)
        return xp.reshape(first, (1,) * x.ndim) if keepdims else first
    return _first_max(xp, x, axis % x.ndim, index, keepdims)


def _first_max(xp, x, axis, index, keepdims):
    """Along ``axis``: the position of the first maximum, or of the first NaN if any."""
    n = x.shape[axis]
    hit = x == xp.max(x, axis=axis, keepdims=True)
    if xp.isdtype(x.dtype, "real floating"):
        hit = hit | xp.isnan(x)   # the maximum is NaN there, which equals nothing
    shape = tuple(n if i == axis else 1 for i in range(x.ndim))
    positions = xp.reshape(xp.arange(n, dtype=index, device=x.device), shape)
    beyond = xp.asarray(n, dtype=index, device=x.device)
    return xp.min(xp.where(hit, positions, beyond), axis=axis, keepdims=keepdims)


def load(device=None) -> StrictBackend:
    xp = import_library("array_api_strict")
    cpu = device is None or device.lower() in ("cpu", "cpu:0")  # any case, as JAX reads it
    name = "CPU_DEVICE" if cpu else device
    known = xp.__array_namespace_info__().devices()
    try:
        dev = xp.Device(name)
    except ValueError:
        dev = None
    if dev not in known:
        raise BackendError(f"array_api_strict has devices {', '.join(map(str, known))}; "
                           f"got device {device!r}")
    return StrictBackend(fixed_namespace(xp), dev)
