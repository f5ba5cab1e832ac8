"""JAX: CPU, GPU or TPU.  Programs are compiled (``jax.jit``); the training epoch runs as one
compiled ``lax.scan`` (engines/jax_scan.py).  float64 needs ``jax_enable_x64``, which asking for
float64 turns on for the process (set ``JAX_ENABLE_X64=1`` yourself to make that explicit).
JAX is imported by ``load`` (a clear BackendError when it is missing), never at import time;
meshes (``devices=``) are backends/jax_mesh.py's."""

import os

import numpy as np

from ..checks import clip
from ..core import make_step
from ..errors import BackendError
from .base import Backend
from .selection import import_library, split_device

__all__ = ["JaxBackend", "load"]


class JaxBackend(Backend):
    name = "jax"
    engines = {"jax": "jax_scan.JaxScanEngine", "plain": "plain.PlainEngine"}

    def enable_float64(self):
        import jax
        if not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)

    def asarray(self, host, dtype=None):
        import jax
        # wait for the copy: an asynchronous one keeps the host array alive meanwhile, and
        # loading a data set's splits would hold every host copy at once
        return jax.device_put(self.host(host, dtype), self.device).block_until_ready()

    def to_numpy(self, x):
        import jax
        return np.asarray(jax.device_get(x))

    def owns(self, x):
        import jax
        return isinstance(x, jax.Array)

    def place_data(self, data):
        """A Dataset prepared on another JAX device (a network on "cpu:0" gave it to one on
        "cpu:1", or a mesh to its home device) copied to this one: JAX refuses to compute
        with arrays of two devices."""
        import jax
        if data is None or all(a.devices() == {self.device}
                               for a in (data.x, data.y, data.labels)):
            return data
        x, y, labels = jax.block_until_ready(
            [jax.device_put(a, self.device) for a in (data.x, data.y, data.labels)])
        return data._replace(x=x, y=y, labels=labels)

    def synchronize(self, x):
        import jax
        jax.block_until_ready(x)

    def compile(self, fn):
        import jax
        return jax.jit(fn)

    def trim(self, fn, most) -> None:
        """jax.jit keeps one executable per argument shape, for good: cleared past ``most``."""
        size = getattr(fn, "_cache_size", None)
        if size is not None and size() > most:
            fn.clear_cache()

    def make_step(self, spec, transform):
        """The generic step, a population's first layer computed as one product for all
        members (backprop.py's ``stacked``): XLA runs K small products of a shared input more
        slowly than one large one (docs/populations.md)."""
        return make_step(spec, transform, stacked=True)

    def with_devices(self, devices, *, members=None, mini_batch_size=None):
        from .jax_mesh import mesh_backend
        return mesh_backend(self, devices, members=members, mini_batch_size=mini_batch_size)


def load(device=None) -> JaxBackend:
    jax = import_library("jax")
    try:
        kind, index = split_device(device, jax.default_backend())
        kind = {"cuda": "gpu", "rocm": "gpu"}.get(kind, kind)
        devices = jax.devices(kind)
    except (RuntimeError, AssertionError) as exc:  # AssertionError: JAX_PLATFORMS=cuda, no GPU
        wanted = device or os.environ.get("JAX_PLATFORMS") or "default"
        raise BackendError(f"JAX has no {wanted!r} device here ({clip(exc) or 'none found'}"
                           "); for JAX on an NVIDIA GPU, install it from the nnxp checkout "
                           "with: pip install -r backends/jax-cuda12.txt (and check "
                           "JAX_PLATFORMS)") from None
    if index >= len(devices):
        raise BackendError(f"JAX has {len(devices)} {kind} device(s); device index {index} "
                           "is out of range")
    return JaxBackend(jax.numpy, devices[index])


def started() -> bool:
    """Whether JAX has started a backend in this process (importing it alone does not): a
    process forked from it then hangs (search.executors refuses a forking pool)."""
    import sys
    bridge = sys.modules.get("jax._src.xla_bridge")
    return bool(getattr(bridge, "_backends", None))
