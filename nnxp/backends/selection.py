"""Which backend is selected: NNXP_BACKEND / NNXP_DEVICE, ``set_backend``, ``use_backend``.

    BACKENDS                            ("numpy", "jax", "cupy", "torch", "array_api_strict")
    canonical(name) -> str              "np" -> "numpy", "strict" -> "array_api_strict", ...
    get_backend() -> str                the selected name (default "numpy")
    set_backend(name, device=None)      select for the whole process, every thread (None: back
                                        to NNXP_BACKEND)
    use_backend(name, device=None)      ... or inside a ``with`` block only, in the thread (or
                                        asyncio task) that entered it
    current() -> Backend                the selected backend, imported and checked
    load(name, device=None) -> Backend  that backend (cached: one per name and device, also
                                        when threads load it at once), whatever is selected
    available() -> list[str]            the backends that import and have a device here
    clear_cache()                       forget loaded backends (load them afresh)
    resolve(backend) -> Backend         None: current(); a name: load(name); a Backend: itself

What is selected, first match wins: the innermost ``use_backend`` block of the current context,
then ``set_backend``'s choice, then NNXP_BACKEND, then "numpy".

``use_backend`` is scoped like ``decimal.localcontext`` and NumPy's ``errstate``: its blocks are
kept in a ``contextvars.ContextVar``, so a block selects for the code that runs in the context
that entered it, and nowhere else.  Two threads, each inside its own block, each compute on
their own backend, however the blocks interleave, and a thread outside any block sees the
process-wide selection meanwhile.  An asyncio task starts from a copy of the context that
created it (a task created inside a block computes on the block's backend; a block entered
inside a task is the task's own).  A plain ``threading.Thread`` (a ThreadPoolExecutor's
worker, a Dask thread) starts from an empty context, as Python's threads do by default: a thread
started inside a block sees the process-wide selection, not the block.  To hand a block over,
run the thread's function in the caller's context (``contextvars.copy_context().run(fn)``, made
inside the block) or pass the backend by name (``backend=``; nnxp's search sends its backend's
name with every task, so a search started inside a block trains on that backend on any
executor).

``set_backend`` selects for the whole process: every thread that is not inside a block of its
own sees it at once.  It also ends the selections of the blocks the calling context is inside
(a ``set_backend`` inside a block holds inside it and after it); blocks of other threads and
tasks keep their selection until they end.  Each block's end removes its own selection only.

Devices come from ``NNXP_DEVICE`` or ``device=``, by name (a str; a library's device object is
refused): "cpu", "gpu", "gpu:1", "cuda:0" (indices >= 0), or an array-api-strict device name
such as "device1".  NNXP_DEVICE applies to the backend NNXP_BACKEND
names (a device name means nothing to another library).  Each library's Backend class and loader
is in its own module here, imported only when that backend is first used.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import threading
from typing import Iterator

from ..checks import clip, show
from ..errors import BackendError

__all__ = ["BACKENDS", "canonical", "get_backend", "set_backend", "use_backend", "current",
           "load", "resolve", "available", "clear_cache", "import_library", "split_device"]

BACKENDS = ("numpy", "jax", "cupy", "torch", "array_api_strict")
_ALIASES = {"np": "numpy", "strict": "array_api_strict", "pytorch": "torch"}
_MODULE = {"numpy": "numpy_backend", "jax": "jax_backend", "cupy": "cupy_backend",
           "torch": "torch_backend", "array_api_strict": "strict_backend"}
_REQUIREMENTS = {"jax": "backends/jax.txt", "cupy": "backends/cupy-cuda12.txt",
                 "torch": "backends/torch.txt", "array_api_strict": "backends/strict.txt"}

_process: list = [None]  # set_backend's (name, device), for every thread; None: NNXP_BACKEND
_blocks: contextvars.ContextVar = contextvars.ContextVar("nnxp_use_backend", default=())
# ^ this context's use_backend selections, innermost last: (name, device, the block's token)
_cache: dict = {}
_loading = threading.RLock()


def canonical(name) -> str:
    """The backend's canonical name, or a BackendError listing the valid ones."""
    if not isinstance(name, str):
        raise BackendError(f"backend name must be a string such as 'numpy', got "
                           f"{type(name).__name__}")
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in BACKENDS:
        raise BackendError(f"unknown backend {show(name)}; valid backends: "
                           f"{', '.join(BACKENDS)} (set NNXP_BACKEND or call nnxp.set_backend)")
    return key


def get_backend() -> str:
    """Name of the selected backend: this context's use_backend block, else set_backend's,
    else NNXP_BACKEND, else numpy."""
    chosen = _chosen()
    return _env_name() if chosen is None else chosen[0]


def _chosen():
    """(name, device, ...) chosen in code for this context, or None (the environment's)."""
    blocks = _blocks.get()
    return blocks[-1] if blocks else _process[0]


def _env_name() -> str:
    try:
        return canonical(os.environ.get("NNXP_BACKEND") or "numpy")
    except BackendError as exc:  # say where the name came from: it is not in the code
        raise BackendError(f"{exc} (the name comes from the environment variable "
                           f"NNXP_BACKEND)") from None


def _target(chosen) -> tuple:
    """(name, device, whether the device comes from NNXP_DEVICE) for a selection."""
    if chosen is None:
        name = _env_name()
    elif chosen[1] is not None:
        return chosen[0], chosen[1], False
    else:
        name = chosen[0]
        try:
            same = canonical(os.environ.get("NNXP_BACKEND") or "numpy") == name
        except BackendError:
            same = False
        if not same:  # NNXP_DEVICE names a device of NNXP_BACKEND's library
            return name, None, False
    device = os.environ.get("NNXP_DEVICE") or None
    return name, device, device is not None


def _load_selected(chosen):
    """The Backend of a selection, imported and checked (errors name NNXP_DEVICE when the
    device came from it)."""
    name, device, from_env = _target(chosen)
    try:
        return load(name, device)
    except BackendError as exc:
        if not from_env:
            raise
        raise BackendError(f"{exc} (the device comes from the environment variable "
                           f"NNXP_DEVICE)") from None


def set_backend(name, device=None) -> None:
    """Select backend ``name`` (and optionally a device) for the whole process, every thread;
    ``set_backend(None)`` goes back to NNXP_BACKEND (default numpy).  The blocks the calling
    context is inside end their selection here (it holds inside them and after them); other
    threads' blocks keep theirs until they end (module docstring)."""
    entry = None
    if name is not None:
        entry = (canonical(name), device)
        _load_selected(entry)  # import and check now, not at first use
    _process[0] = entry
    _blocks.set(())


@contextlib.contextmanager
def use_backend(name, device=None) -> Iterator:
    """``with nnxp.use_backend("jax") as backend:`` selects a backend inside the block only,
    for the thread (or asyncio task) that entered it: other threads keep their selection, and
    a thread started inside the block sees the process-wide one (module docstring).  The
    block's end removes its own selection, not whatever is last: a ``set_backend`` inside the
    block holds after it."""
    entry = (canonical(name), device, object())  # unique: removed by identity
    backend = _load_selected(entry)
    _blocks.set(_blocks.get() + (entry,))
    try:
        yield backend
    finally:
        _leave(entry)


def _leave(entry) -> None:
    """Remove ``entry`` from this context's blocks (gone already: set_backend ended it)."""
    blocks = _blocks.get()
    if any(e is entry for e in blocks):
        _blocks.set(tuple(e for e in blocks if e is not entry))


def current():
    """The selected backend, imported and checked (errors name the file to install, and
    NNXP_DEVICE when the device came from it)."""
    return _load_selected(_chosen())


def load(name, device=None):
    """The Backend ``name`` on ``device`` (cached), whatever is selected.  ``device`` is
    None or a device's name (a str: "cpu", "gpu:1", "device1"), never a library's object."""
    if device is not None and not isinstance(device, str):
        raise BackendError(f"device must be None or a device name such as 'cpu', 'gpu:1' or "
                           f"array_api_strict's 'device1' (a str), got "
                           f"{type(device).__name__}: {show(device)}")
    key = (canonical(name), device)
    backend = _cache.get(key)
    if backend is None:
        with _loading:  # threads loading at once share one Backend (one import, one check)
            backend = _cache.get(key)
            if backend is None:
                module = importlib.import_module(f".{_MODULE[key[0]]}", __package__)
                backend = module.load(device)
                backend.device_name = device  # the name, for processes that load it again
                _cache[key] = backend
    return backend


def resolve(backend=None):
    """The Backend meant by ``backend``: None (the selected one), a name, or a Backend."""
    if backend is None:
        return current()
    if isinstance(backend, str):
        return load(backend)
    from .base import Backend
    if isinstance(backend, Backend):
        return backend
    raise BackendError(f"backend must be a name such as 'numpy' or 'jax', a Backend, or None; "
                       f"got {type(backend).__name__}")


def clear_cache() -> None:
    """Forget the backends loaded so far: the next use imports and checks them again (after
    installing a library, or in tests that fake one)."""
    _cache.clear()


def available() -> list:
    """The backends usable here: installed, and with a device (CuPy needs a CUDA GPU)."""
    names = []
    for name in BACKENDS:
        with contextlib.suppress(BackendError):
            load(name)
            names.append(name)
    return names


def import_library(name):
    """Import the array library of backend ``name``, or say how to install it: nnxp is
    installed from a checkout, whose backends/ folder holds one requirements file per
    backend."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise BackendError(
            f"backend {name!r} needs the package {name!r}, which is not installed here "
            f"({clip(exc)}); install it from the nnxp checkout with: pip install -r "
            f"{_REQUIREMENTS.get(name, 'backends/' + name + '.txt')}") from None


def split_device(spec, default_kind) -> tuple:
    """ "gpu:1" -> ("gpu", 1); None -> (default_kind, 0)."""
    if not spec:
        return default_kind, 0
    if not isinstance(spec, str):
        raise BackendError(f"device must be a string such as 'cpu', 'gpu' or 'gpu:1', got "
                           f"{type(spec).__name__}")
    kind, colon, index = spec.partition(":")
    # an index of ASCII digits only: int() would read "gpu:-1" from the end, and take
    # "cpu:", "cpu:+1", "cpu:1_0" (10), "cpu:0\n" or other scripts' digits
    if not kind or kind != kind.strip() or (colon and not (index.isascii() and index.isdigit())):
        raise BackendError(f"device must look like 'cpu', 'gpu' or 'gpu:1' (an index >= 0), "
                           f"got {show(spec)}")
    return kind.lower(), int(index or 0)
