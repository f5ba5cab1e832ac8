"""``Backend``: one array library on one device, and everything nnxp does that depends on which.

    Backend(xp, device)                 the generic array-API backend (array-api-strict uses it
                                        as it is); each library's class overrides a few methods
    name                                "numpy", "jax", "cupy", "torch", "array_api_strict"
    xp, device                          the array API namespace and the device arrays live on
    float_dtype(name) / index_dtype()   the namespace's dtypes ("float32"/"float64") on the device
    asarray(host, dtype=None)           host (NumPy) -> device; dtype "float32", "float64" or
                                        "index", cast on the host first so every backend
                                        receives the same bits
    to_numpy(x)                         device -> host, as a NumPy array
    owns(x)                             True for an array of this backend's library
    place_data(dataset)                 a prepared Dataset on this backend's device (JAX moves
                                        one prepared on another device, a mesh replicates it;
                                        others take it as it is)
    synchronize(x)                      wait until ``x`` is computed (asynchronous libraries)
    compile(fn)                         ``fn`` compiled where the library compiles (JAX), else fn
    make_step(spec, transform)          the training step: core.make_step, or a fast path
    device_scope()                      a context in which kernels launch on ``device`` (CuPy)
    limit_threads(work)                 a context that runs ``work`` (multiply-adds per call)
                                        with a fitting number of BLAS / OpenMP threads
    engines                             {name: "module.Class" in nnxp/engines/}, the best
                                        first: engines by name, imported by nnxp.engines when
                                        first used (backends never import engines)
    engine_path(name=None) -> str       the "module.Class" of engine ``name`` (None: the best),
                                        or a ConfigError naming the ones this backend has
    single() -> Backend                 this library on one device: itself (a mesh: the backend
                                        it was made from)
    with_devices(devices, *, members=None, mini_batch_size=None)
                                        this library on several devices (JAX: a mesh,
                                        backends/jax_mesh.py); others refuse with a ConfigError

This module and its siblings are, with ``nnxp/engines/``, the only places that name an array
library (docs/architecture.md): a new backend is one small file with a subclass and a loader.
Each imports its library only inside ``load`` (selection.import_library, which says what to
install when it is missing) or inside methods, so that every backend module imports where
its library is not installed.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..checks import show
from ..core import make_step
from ..dtypes import FLOAT_DTYPES, dtype_name  # re-exported: their home is nnxp/dtypes.py
from ..errors import ConfigError

__all__ = ["Backend", "FLOAT_DTYPES", "dtype_name"]

class Backend:
    """The generic backend: the array API standard and nothing else (see the module doc)."""

    name = "generic"
    engines = {"plain": "plain.PlainEngine"}
    device_name = None  # the device's name it was loaded with (selection.load), None: default

    def __init__(self, xp, device):
        self.xp, self.device = xp, device

    def __eq__(self, other):
        return type(self) is type(other) and self.device == other.device

    def __hash__(self):
        return hash((type(self), str(self.device)))

    def __repr__(self):
        return f"Backend({self.name!r}, device={self.device!r})"

    def describe(self) -> str:
        return f"{self.name} on {self.device}"

    # -- dtypes ---------------------------------------------------------------------------
    def float_dtype(self, dtype="float32"):
        """The namespace's float dtype called ``dtype`` on this device, or a ConfigError."""
        dtype = dtype_name(dtype)
        if dtype not in FLOAT_DTYPES:
            raise ConfigError(f"dtype must be one of {FLOAT_DTYPES}, got {dtype!r}")
        if dtype == "float64":
            self.enable_float64()
        floats = self.xp.__array_namespace_info__().dtypes(device=self.device,
                                                           kind="real floating")
        if dtype not in floats:
            raise ConfigError(f"device {self.device} of backend {self.name!r} has no {dtype} "
                              f"(it has {', '.join(floats)}); use dtype='float32'")
        return floats[dtype]

    def enable_float64(self) -> None:
        """Make float64 computable (JAX needs a switch; others have it)."""

    def index_dtype(self):
        """The namespace's default integer dtype for indices and labels on this device."""
        return self.xp.__array_namespace_info__().default_dtypes(device=self.device)["indexing"]

    # -- transfers ------------------------------------------------------------------------
    def host(self, host, dtype=None) -> np.ndarray:
        """``host`` as a NumPy array cast to ``dtype`` (see asarray), still on the host."""
        host = np.asarray(host)
        if dtype == "index":
            return host.astype(dtype_name(self.index_dtype()), copy=False)
        if dtype is not None:
            self.float_dtype(dtype)  # checks the policy (and enables x64 on JAX)
            with np.errstate(over="ignore"):  # callers check finiteness in this dtype
                return host.astype(dtype, copy=False)
        return host

    def asarray(self, host, dtype=None):
        """Copy a host (NumPy) array to this device as ``dtype``."""
        return self.xp.asarray(self.host(host, dtype), device=self.device)

    def to_numpy(self, x) -> np.ndarray:
        """Copy an array of this backend to the host as a NumPy array."""
        if isinstance(x, np.ndarray):
            return x
        return np.from_dlpack(x)

    def owns(self, x) -> bool:
        """Whether ``x`` is an array of this backend's library."""
        from ..namespace import namespace
        try:
            return namespace(x) is self.xp
        except TypeError:
            return False

    def place_data(self, data):
        """A prepared Dataset (``data.prepare``'s) on this backend's device; None stays None.
        Here as it is: libraries with several devices of one kind override it."""
        return data

    def synchronize(self, x) -> None:
        """Wait until ``x`` is computed; for honest timings (no-op for synchronous ones)."""

    # -- running --------------------------------------------------------------------------
    def compile(self, fn):
        """``fn``, a pure function of arrays, compiled where this library compiles."""
        return fn

    def trim(self, fn, most) -> None:
        """Where ``compile`` keeps one program per argument shape: forget ``fn``'s programs
        once it holds more than ``most`` (else memory grows with every new data size)."""

    def device_scope(self):
        """A context in which kernels run on this backend's device."""
        return contextlib.nullcontext()

    def limit_threads(self, work=None):
        """A context for a call doing ``work`` multiply-adds, with fitting thread counts."""
        return contextlib.nullcontext()

    def make_step(self, spec, transform):
        """The training step for ``spec`` and ``transform``: the generic core.make_step, or a
        faster one of this backend's that gives the same numbers (to the parity suite's
        bounds) and falls back to the generic one for what it does not cover."""
        return make_step(spec, transform)

    def single(self):
        """This library on one device: the backend itself (a mesh overrides it)."""
        return self

    def with_devices(self, devices, *, members=None, mini_batch_size=None):
        """The backend for training on several devices at once (``SGD(devices=...)``)."""
        raise ConfigError(f"devices= trains on several devices at once, which nnxp does with "
                          f"JAX (jax.sharding); this network computes with {self.describe()}. "
                          "Select the jax backend (NNXP_BACKEND=jax) or leave devices out")

    def engine_path(self, name=None) -> str:
        """The "module.Class" in nnxp/engines/ of the engine called ``name`` (None: this
        backend's best); nnxp.engines.engine_for imports it."""
        if name is None:
            return next(iter(self.engines.values()))
        if not isinstance(name, str) or name not in self.engines:
            raise ConfigError(f"engine {show(name)} does not run on the {self.name} backend; "
                              f"it has {', '.join(self.engines)} (or None for the best)")
        return self.engines[name]
