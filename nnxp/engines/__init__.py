"""Engines: the one owner of a network's compiled programs, and how an epoch runs.

    engine_for(backend, spec, name=None, cls=None) -> Engine
                                                        cached per (backend, spec, engine);
                                                        ``cls``: an Engine class of one's own
                                                        (nnxp.compat's book engine)
    clear()                                            forget them all
    Engine.run_epoch(transform, params, state, data, order, mini_batch_size,
                     every=None, on_chunk=None) -> (params, state)
    Engine.scores(params, data) -> NumPy (..., 5)      [hits, summed cost, sum w^2, sum |w|,
                                                        finite] from one pass, one transfer
    Engine.function(key, build) -> fn                  ``build()`` compiled once and kept
                                                        (diagnostics, the finder, the shells)
    Engine.step_for(transform) -> step                 the backend's make_step (core.make_step
                                                        or a fast path), kept by everything
                                                        that decides the program
                                                        (optimizers.step_key: names, flags
                                                        and constants; hyper-parameter
                                                        values are data in the state)
    Engine.compile_seconds                             the time spent compiling
    Engine.work(rows) -> int                           multiply-adds of the largest product
                                                        for ``rows`` examples (thread policy)

``data`` is an nnxp.data.Dataset on the device; ``order`` the epoch's permutation (a device index
array, or None for the given order); ``transform`` an optimizers.Transform whose hyper-parameters
live in ``state``.  Every engine runs the same pure step over the same mini-batches:

    "plain"   a Python loop over mini-batches, any namespace (engines/plain.py)
    "jax"     the whole epoch as one compiled jax.jit(lax.scan(step)) (engines/jax_scan.py)

With ``every=k``, ``on_chunk(params, batches_done)`` runs after every k mini-batches but the
last; ``params`` are valid during the call only (the plain engine on NumPy goes on to update
them in place: engines/plain.py).
Which engines a backend offers is the backend class's ``engines``: names and "module.Class"
paths in this package, imported here when first used (so the backends never import the engines,
and the engines never import the backends).  This package and ``nnxp/backends/`` are the only
places that may name an array library.
"""

from __future__ import annotations

import importlib

from ..core import scores as _scores
from ..optimizers import step_key

__all__ = ["Engine", "engine_for", "clear"]

_engines: dict = {}


def engine_for(backend, spec, name=None, cls=None) -> "Engine":
    """The engine called ``name`` (None: the backend's best; or of class ``cls``) for ``spec``
    on ``backend``, created once and kept, so that its compiled programs serve every later
    call."""
    cls = cls or _engine_class(backend.engine_path(name))
    key = (backend, spec, cls)
    if key not in _engines:
        if len(_engines) >= 64:  # a long search over shapes: forget the oldest
            _engines.pop(next(iter(_engines)))
        _engines[key] = cls(backend, spec)
    return _engines[key]


def _engine_class(path):
    """The engine class at ``path``, "module.Class" in this package (imported on first use)."""
    module, _, cls = path.rpartition(".")
    return getattr(importlib.import_module(f".{module}", __package__), cls)


def clear() -> None:
    """Forget every engine (and its compiled programs and steps): the next call builds new
    ones, e.g. after changing a backend's thread policy or fast path."""
    _engines.clear()


class Engine:
    """What every engine shares: the compile cache, steps by structure, scores."""

    name = "base"

    def __init__(self, backend, spec):
        self.backend, self.spec = backend, spec
        self.compile_seconds = 0.0
        self._functions: dict = {}
        self._steps: dict = {}

    def function(self, key, build):
        """``build()`` (a pure function of arrays), compiled by the backend, kept by ``key``."""
        fn = self._functions.get(key)
        if fn is None:
            fn = self._functions[key] = self.backend.compile(build())
        return fn

    def step_for(self, transform):
        key = step_key(transform)
        step = self._steps.get(key)
        if step is None:
            if len(self._steps) >= 64:  # many custom transforms: forget the oldest
                self._steps.pop(next(iter(self._steps)))
            step = self._steps[key] = self.backend.make_step(self.spec, transform)
        return step

    def work(self, rows) -> int:
        """Multiply-adds of the largest matrix product over ``rows`` examples (one member's:
        the backend's thread policy, Backend.limit_threads, is chosen from it)."""
        sizes = self.spec.sizes
        return int(rows) * max(a * b for a, b in zip(sizes[:-1], sizes[1:]))

    def scores(self, params, data):
        """[hits, summed cost, sum w^2, sum |w|, finite] of ``data`` as a NumPy array ((5,),
        or (K, 5) for a population), from one pass and one transfer."""
        spec = self.spec
        fn = self.function("scores", lambda: lambda p, x, y, labels: _scores(
            spec, p, x, y, labels))
        with self.backend.device_scope(), self.backend.limit_threads(self.work(data.n)):
            out = fn(params, data.x, data.y, data.labels)
        return self.backend.to_numpy(out).astype(float)

    def run_epoch(self, transform, params, state, data, order, mini_batch_size, every=None,
                  on_chunk=None):
        raise NotImplementedError
