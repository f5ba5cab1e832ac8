"""array-api-strict: the standard's reference implementation, nothing more.  Its devices
("CPU_DEVICE", "device1", "device2" with no float64) test that nnxp never mixes devices and
never assumes float64 exists."""

import numpy as np

from ..errors import BackendError
from .base import Backend
from .selection import import_library

__all__ = ["StrictBackend", "load"]


class StrictBackend(Backend):
    name = "array_api_strict"

    def to_numpy(self, x):
        return np.from_dlpack(x.to_device(self.xp.Device("CPU_DEVICE")))


def load(device=None) -> StrictBackend:
    xp = import_library("array_api_strict")
    name = "CPU_DEVICE" if device in (None, "cpu") else device
    known = xp.__array_namespace_info__().devices()
    try:
        dev = xp.Device(name)
    except ValueError:
        dev = None
    if dev not in known:
        raise BackendError(f"array_api_strict has devices {', '.join(map(str, known))}; "
                           f"got device {device!r}")
    return StrictBackend(xp, dev)
