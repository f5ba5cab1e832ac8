"""The backend selector: which array library nnxp computes with, on which device, in which dtype.

This is one of the two places (with ``nnxp/engines/``) where code may name an array library.

    BACKENDS                          ("numpy", "jax", "cupy", "torch", "array_api_strict")
    get_backend() -> str              NNXP_BACKEND, or the name given to set_backend / use_backend
    set_backend(name, device=None)    select for the rest of the process
    use_backend(name, device=None)    ... or inside a ``with`` block only
    current() -> Backend              the selected backend, imported and checked

A ``Backend`` carries the namespace ``xp`` (array API standard), the ``device`` arrays live on,
and the only host <-> device conversions nnxp makes: ``asarray(numpy_array)`` (host -> device)
and ``to_numpy(array)`` (device -> host).  Devices come from ``NNXP_DEVICE`` or ``device=``:
"cpu", "gpu", "gpu:1", "cuda:0", or an array-api-strict device name such as "device1".

Dtype policy: float32 unless float64 is asked for.  JAX computes in float32 only until x64 is
enabled, so asking a JAX backend for float64 enables ``jax_enable_x64`` for the process (a
global JAX setting; set ``JAX_ENABLE_X64=1`` yourself to make that explicit).  A device that has
no float64 at all (array-api-strict's "no_x64", some GPUs) refuses with a clear error.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from .errors import BackendError, ConfigError

__all__ = ["BACKENDS", "Backend", "get_backend", "set_backend", "use_backend", "current"]

BACKENDS = ("numpy", "jax", "cupy", "torch", "array_api_strict")
_ALIASES = {"np": "numpy", "strict": "array_api_strict", "pytorch": "torch"}
_EXTRA = {"jax": "jax", "cupy": "cupy", "torch": "torch", "array_api_strict": "strict"}
_PACKAGE = {"numpy": "numpy", "jax": "jax", "cupy": "cupy", "torch": "torch",
            "array_api_strict": "array_api_strict"}
FLOAT_DTYPES = ("float32", "float64")

_selected: list[tuple[str, str | None]] = []  # stack of (name, device) set in code
_cache: dict[tuple[str, str | None], "Backend"] = {}


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise BackendError(f"backend name must be a string such as 'numpy', got {name!r}")
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in BACKENDS:
        raise BackendError(
            f"unknown backend {name!r}; valid backends: {', '.join(BACKENDS)} "
            "(set NNXP_BACKEND or call nnxp.set_backend)")
    return key


def get_backend() -> str:
    """Name of the selected backend: set_backend / use_backend, else NNXP_BACKEND, else numpy."""
    if _selected:
        return _selected[-1][0]
    return _canonical(os.environ.get("NNXP_BACKEND", "numpy") or "numpy")


def _device_spec() -> str | None:
    """The device given with the selection, else NNXP_DEVICE when the selected backend is the
    one NNXP_BACKEND names (a device name means nothing to another library)."""
    if _selected and _selected[-1][1] is not None:
        return _selected[-1][1]
    if _selected:
        try:
            same = _canonical(os.environ.get("NNXP_BACKEND") or "numpy") == _selected[-1][0]
        except BackendError:
            same = False
        if not same:
            return None
    return os.environ.get("NNXP_DEVICE") or None


def set_backend(name: str, device: str | None = None) -> None:
    """Select backend ``name`` (and optionally a device) for the rest of the process."""
    previous = list(_selected)
    _selected[:] = [(_canonical(name), device)]
    try:
        current()  # import and check now, not at first use
    except BaseException:
        _selected[:] = previous
        raise


@contextlib.contextmanager
def use_backend(name: str, device: str | None = None) -> Iterator["Backend"]:
    """``with nnxp.use_backend("jax"):`` selects a backend inside the block only."""
    _selected.append((_canonical(name), device))
    try:
        backend = current()
    except BaseException:
        _selected.pop()
        raise
    try:
        yield backend
    finally:
        _selected.pop()


def current() -> "Backend":
    """The selected backend, imported and checked (errors name the extra to install)."""
    return _load(get_backend(), _device_spec())


def _load(name: str, device: str | None) -> "Backend":
    key = (name, device)
    if key not in _cache:
        _cache[key] = _LOADERS[name](device)
    return _cache[key]


def _import(name: str):
    try:
        return importlib.import_module(_PACKAGE[name])
    except ImportError as exc:
        raise BackendError(
            f"backend {name!r} needs the package {_PACKAGE[name]!r}, which is not installed "
            f"({exc}); install it with: pip install 'nnxp[{_EXTRA.get(name, name)}]'") from None


def _split(spec: str | None, default_kind: str) -> tuple[str, int]:
    if not spec:
        return default_kind, 0
    kind, _, index = spec.partition(":")
    try:
        return kind.lower(), int(index or 0)
    except ValueError:
        raise BackendError(f"device must look like 'cpu', 'gpu' or 'gpu:1', got {spec!r}") from None


# ---------------------------------------------------------------------------------------------
# One loader per backend: import, namespace, device.

def _load_numpy(device):
    if device not in (None, "cpu", "cpu:0"):
        raise BackendError(f"the numpy backend runs on the CPU only; got device {device!r}")
    import array_api_compat
    # NumPy >= 2 is itself an array API namespace; using it directly avoids wrapper overhead.
    xp = array_api_compat.array_namespace(np.empty(0), use_compat=False) \
        if int(np.__version__.split(".")[0]) >= 2 else array_api_compat.array_namespace(np.empty(0))
    return Backend("numpy", xp, "cpu")


def _load_jax(device):
    jax = _import("jax")
    kind, index = _split(device, jax.default_backend())
    kind = {"cuda": "gpu", "rocm": "gpu"}.get(kind, kind)
    try:
        devices = jax.devices(kind)
    except RuntimeError:
        raise BackendError(f"JAX has no {kind!r} device here (it has: "
                           f"{', '.join(str(d) for d in jax.devices())}); for JAX on a GPU "
                           "install 'jax[cuda12]'") from None
    if index >= len(devices):
        raise BackendError(f"JAX has {len(devices)} {kind} device(s); device index {index} "
                           "is out of range")
    return Backend("jax", jax.numpy, devices[index])


def _load_cupy(device):
    cupy = _import("cupy")
    kind, index = _split(device, "gpu")
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
    return Backend("cupy", xp, cupy.cuda.Device(index))


def _load_torch(device):
    torch = _import("torch")
    import array_api_compat.torch as xp
    spec = device or "cpu"
    spec = {"gpu": "cuda"}.get(spec.split(":")[0], spec.split(":")[0]) + spec[len(spec.split(":")[0]):]
    try:
        dev = torch.device(spec)
        torch.empty(0, device=dev)
    except (RuntimeError, AssertionError) as exc:
        raise BackendError(f"torch cannot use device {spec!r}: {exc}") from None
    return Backend("torch", xp, dev)


def _load_strict(device):
    xp = _import("array_api_strict")
    name = "CPU_DEVICE" if device in (None, "cpu") else device
    known = xp.__array_namespace_info__().devices()
    try:
        dev = xp.Device(name)
    except ValueError:
        dev = None
    if dev not in known:
        raise BackendError(f"array_api_strict has devices {', '.join(map(str, known))}; "
                           f"got device {device!r}")
    return Backend("array_api_strict", xp, dev)


_LOADERS = {"numpy": _load_numpy, "jax": _load_jax, "cupy": _load_cupy, "torch": _load_torch,
            "array_api_strict": _load_strict}


def _dtype_name(dtype) -> str:
    """ "float64" for "float64", np.float64, jnp.float64, torch.float64, strict's float64."""
    if isinstance(dtype, str):
        return dtype
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype).rsplit(".", 1)[-1]


# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Backend:
    """An array namespace bound to one device, with nnxp's host <-> device conversions."""

    name: str
    xp: Any = field(repr=False)
    device: Any

    # -- dtypes ---------------------------------------------------------------------------
    def float_dtype(self, dtype: str = "float32"):
        """The namespace's dtype for "float32" / "float64" on this device (see module doc)."""
        dtype = _dtype_name(dtype)
        if dtype not in FLOAT_DTYPES:
            raise ConfigError(f"dtype must be one of {FLOAT_DTYPES}, got {dtype!r}")
        if dtype == "float64" and self.name == "jax":
            import jax
            if not jax.config.jax_enable_x64:
                jax.config.update("jax_enable_x64", True)
        floats = self.xp.__array_namespace_info__().dtypes(device=self.device,
                                                           kind="real floating")
        if dtype not in floats:
            raise ConfigError(f"device {self.device} of backend {self.name!r} has no {dtype} "
                              f"(it has {', '.join(floats)}); use dtype='float32'")
        return floats[dtype]

    def index_dtype(self):
        """The namespace's default integer dtype for indices and labels on this device."""
        return self.xp.__array_namespace_info__().default_dtypes(device=self.device)["indexing"]

    # -- transfers ------------------------------------------------------------------------
    def asarray(self, host, dtype=None):
        """Copy a host (NumPy) array to this device, as ``dtype`` ("float32", "float64",
        "index") cast on the host first, so every backend receives the same bits."""
        host = np.asarray(host)
        if dtype == "index":
            host = host.astype(_dtype_name(self.index_dtype()), copy=False)
        elif dtype is not None:
            self.float_dtype(dtype)  # checks the policy (and enables x64 on JAX)
            host = host.astype(dtype, copy=False)
        if self.name == "numpy":
            return host
        if self.name == "jax":
            import jax
            # wait for the copy: an asynchronous one keeps the host array alive meanwhile,
            # and loading a data set's splits would hold every host copy at once
            return jax.device_put(host, self.device).block_until_ready()
        if self.name == "torch":
            import torch
            return torch.from_numpy(np.ascontiguousarray(host)).to(self.device)
        if self.name == "cupy":
            import cupy
            with self.device:
                return cupy.asarray(host)
        return self.xp.asarray(host, device=self.device)

    def to_numpy(self, x) -> np.ndarray:
        """Copy a backend array to the host as a NumPy array (for saving and reporting)."""
        if isinstance(x, np.ndarray):
            return x
        if self.name == "jax":
            import jax
            return np.asarray(jax.device_get(x))
        if self.name == "torch":
            return x.detach().cpu().numpy()
        if self.name == "cupy":
            return x.get()
        if self.name == "array_api_strict":
            return np.from_dlpack(x.to_device(self.xp.Device("CPU_DEVICE")))
        return np.asarray(x)

    def synchronize(self, x) -> None:
        """Wait until ``x`` is computed (asynchronous backends); for honest timings."""
        if self.name == "jax":
            import jax
            jax.block_until_ready(x)
        elif self.name == "cupy":
            self.device.synchronize()
        elif self.name == "torch" and self.device.type == "cuda":
            import torch
            torch.cuda.synchronize(self.device)

    def describe(self) -> str:
        return f"{self.name} on {self.device}"
