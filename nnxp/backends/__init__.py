"""Backends: one small class per array library, and the selector.

    selection.py         BACKENDS, get_backend, set_backend, use_backend, current, load,
                         available (NNXP_BACKEND / NNXP_DEVICE)
    base.py              Backend: the generic array-API backend every class derives from
    numpy_backend.py     NumpyBackend      (CPU)
    jax_backend.py       JaxBackend        (compiled epochs; CPU/GPU/TPU)
    jax_mesh.py          MeshBackend       (JAX on several devices: ``devices=``)
    torch_backend.py     TorchBackend      (CPU/CUDA, through array-api-compat)
    cupy_backend.py      CupyBackend       (CUDA; kernels on the network's device)
    strict_backend.py    StrictBackend     (array-api-strict, for testing the standard)
    numpy_fast.py        the NumPy backend's fused training step (fast_step)
    primitives.py        fast_primitives(xp): faster conv / max-pool primitives for the layers
                         (conv_numpy.py, conv_jax.py, conv_torch.py), by array namespace
    threads.py           BLAS / OpenMP threads by product size: threads_for, set_thread_policy,
                         NNXP_NUM_THREADS

A new backend is one module with a Backend subclass (overriding what differs: transfers,
compile, synchronisation, device scope, engines) and ``load(device) -> Backend``, plus its name
in selection.BACKENDS.  A module imports its array library only in ``load`` or in methods
(``selection.import_library`` names the requirements file when it is missing), so nnxp imports
without it; engines are named, not imported (``Backend.engines``: this package never imports
``nnxp/engines/``, nor that one this).  Nothing outside this package and ``nnxp/engines/``
tests which backend it runs on.
"""

from .base import FLOAT_DTYPES, Backend, dtype_name
from .selection import (BACKENDS, available, canonical, clear_cache, current, get_backend, load, resolve,
                        set_backend, use_backend)
from .threads import get_thread_policy, set_thread_policy, threads_for

__all__ = ["BACKENDS", "Backend", "FLOAT_DTYPES", "available", "canonical", "clear_cache",
           "current",
           "dtype_name", "get_backend", "load", "resolve", "set_backend", "use_backend",
           "get_thread_policy", "set_thread_policy", "threads_for"]
