"""Engines: how an epoch of training steps runs on a backend.

    get_engine(name, backend, step) -> Engine
    Engine.run_epoch(params, state, data, order, mini_batch_size, hyper) -> (params, state)

``data`` is a ``nnxp.data.Dataset`` already on the device; ``order`` the epoch's permutation of
the examples (an index array on the device, or None to keep the given order); ``hyper`` an
``nnxp.optimizers.Hyper`` of Python numbers.  Every engine runs the same pure ``step``
(nnxp/step.py) over the same mini-batches and gives the same numbers:

    "plain"   a Python loop over mini-batches: works on every namespace (engines/plain.py)
    "jax"     the whole epoch as one compiled jax.jit(lax.scan(step)) (engines/jax_scan.py)

    compiled(backend, fn) -> fn, compiled with jax.jit on JAX (e.g. accuracy and cost in one
                             compiled pass instead of dozens of eagerly dispatched ops)

``None`` picks the fastest engine for the backend ("jax" on JAX, "plain" elsewhere).  This package
and nnxp/backend.py are the only places that may name an array library.
"""

from ..errors import ConfigError

ENGINES = ("plain", "jax")


def get_engine(name, backend, step):
    """The engine called ``name`` (None: the backend's best) running ``step`` on ``backend``."""
    if name is None:
        name = "jax" if backend.name == "jax" else "plain"
    if name == "plain":
        from .plain import PlainEngine
        return PlainEngine(backend, step)
    if name == "jax":
        if backend.name != "jax":
            raise ConfigError(f"engine 'jax' needs the jax backend; this network uses "
                              f"{backend.name!r} (use engine='plain' or None)")
        from .jax_scan import JaxScanEngine
        return JaxScanEngine(backend, step)
    raise ConfigError(f"unknown engine {name!r}; known: {', '.join(ENGINES)} or None")


def compiled(backend, fn):
    """``fn`` (a pure function of arrays), compiled where the backend compiles (JAX), and run
    with the network's GPU current on CuPy."""
    if backend.name == "jax":
        import jax
        return jax.jit(fn)
    if backend.name == "cupy":
        def on_device(*args):
            with device_scope(backend):
                return fn(*args)
        return on_device
    return fn


def device_scope(backend):
    """CuPy launches kernels on the *current* CUDA device, not on the arrays' device: make the
    network's device current (``cupy.cuda.Device`` is a context manager).  No-op elsewhere."""
    if backend.name == "cupy":
        return backend.device
    import contextlib
    return contextlib.nullcontext()
