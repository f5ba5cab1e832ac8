"""Engines: the one owner of a network's compiled programs, and how an epoch runs.

    engine_for(backend, spec, name=None, cls=None) -> Engine
                                                        cached per (backend, spec, engine);
                                                        ``cls``: an Engine class of one's own
                                                        (nnxp.compat's book engine)
    clear()                                            forget them all
    Engine.run_epoch(transform, params, state, data, order, mini_batch_size,
                     every=None, on_chunk=None, masks=None) -> (params, state)
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

Dropout: ``masks`` is the run's masks.MaskStream (required, and only allowed, when a layer of
the spec has p_dropout > 0: a ConfigError otherwise, so that no dropout network trains without
its masks).  An engine draws the masks of about masks.CHUNK_ROWS rows of whole mini-batches at
a time, in the order of the mini-batches, moves that chunk to the device (bool) and gives each
mini-batch its masks: ``step(params, state, x, y, masks)``.  Every engine draws the same stream
in the same order, so they give the same numbers.

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
import sys

from ..core import apply as _apply
from ..core import classes as _classes
from ..core import scores as _scores
from ..errors import ConfigError
from ..masks import CHUNK_ROWS, has_dropout
from ..namespace import namespace
from ..optimizers import step_key

__all__ = ["Engine", "engine_for", "clear", "check_masks", "mask_chunks"]

_engines: dict = {}


EVAL_ROWS = 1000  # examples per scoring pass of a network with image-shaped layers
MAX_SCORE_PROGRAMS = 16  # programs kept per compiled function (JAX: one per input shape;
                         # what each costs: docs/reliability.md, the sixth sweep)


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
    ones, e.g. after changing a backend's thread policy or fast path.  Where JAX is loaded its
    own caches of compiled programs are cleared too (jax.clear_caches()), so that the memory
    of programs compiled for many shapes comes back."""
    _engines.clear()
    jax = sys.modules.get("jax")
    if jax is not None and hasattr(jax, "clear_caches"):
        jax.clear_caches()


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
        or (K, 5) for a population), from one pass and one transfer; a network with
        image-shaped layers (convolutions: their patches take tens of kB per example) in
        passes of EVAL_ROWS examples, their hits and costs summed, so that memory does not
        grow with the evaluation set (docs/reliability.md has the measured peak)."""
        spec = self.spec
        fn = self.function("scores", lambda: lambda p, x, y, labels: _scores(
            spec, p, x, y, labels))
        rows = EVAL_ROWS if self._images() else data.n
        with self.backend.device_scope(), self.backend.limit_threads(self.work(min(rows,
                                                                                  data.n))):
            parts = [self.backend.to_numpy(fn(params, data.x[i:i + rows, ...],
                                              data.y[i:i + rows, ...],
                                              data.labels[i:i + rows])).astype(float)
                     for i in range(0, data.n, rows)] if data.n > rows else \
                [self.backend.to_numpy(fn(params, data.x, data.y, data.labels)).astype(float)]
        self.backend.trim(fn, MAX_SCORE_PROGRAMS)  # one program per evaluation-set size
        out = parts[0]
        if len(parts) > 1:
            out[..., :2] = sum(p[..., :2] for p in parts)  # hits and summed costs
        return out

    def apply(self, params, x):
        """core.apply(spec, params, x) (outputs), compiled by the backend: on JAX one program
        per input shape, at most MAX_SCORE_PROGRAMS kept (run op by op, JAX kept its own
        per-operation programs for every new batch size)."""
        return self._compiled_call("apply", _apply, params, x)

    def classes(self, params, x):
        """core.classes(spec, params, x) (each row's class), compiled as ``apply``."""
        return self._compiled_call("classes", _classes, params, x)

    def finite(self, x) -> bool:
        """Whether every value of ``x`` is finite, compiled as ``apply`` (predict's check of
        its input, run op by op, kept a program per batch size too)."""
        return bool(self._compiled_call("inputs_finite", _all_finite, None, x))

    def _compiled_call(self, key, of, params, x):
        spec = self.spec
        fn = self.function(key, lambda: lambda p, rows: of(spec, p, rows))
        with self.backend.device_scope():
            out = fn(params, x)
        self.backend.trim(fn, MAX_SCORE_PROGRAMS)
        return out

    def _images(self) -> bool:
        """Whether a layer's output has more than one axis (convolutions, pooling)."""
        if self.spec.layers is None:
            return False
        from ..layers.sequential import output_shapes
        return any(len(s) > 1 for s in output_shapes(self.spec.layers, (self.spec.sizes[0],)))

    def run_epoch(self, transform, params, state, data, order, mini_batch_size, every=None,
                  on_chunk=None, masks=None):
        raise NotImplementedError


def _all_finite(spec, params, x):
    xp = namespace(x)
    return xp.all(xp.isfinite(x))


def check_masks(spec, masks) -> None:
    """A MaskStream exactly when ``spec`` has dropout (see the module docstring)."""
    if has_dropout(spec) and masks is None:
        raise ConfigError("this network has dropout (a layer with p_dropout > 0): it trains "
                          "with masks (train.fit draws them from its seed; an engine's "
                          "run_epoch takes masks=MaskStream(...), nnxp.masks)")
    if masks is not None and not has_dropout(spec):
        raise ConfigError("dropout masks were given for a network without dropout")


def mask_chunks(n, m, every=None):
    """The epoch's mini-batches cut into chunks for the masks: (first mini-batch, count,
    rows) with ``rows`` m for whole mini-batches, or n % m for the last smaller one alone;
    at most about CHUNK_ROWS rows each, and cut after every ``every`` mini-batches (where
    on_chunk runs), so that every chunk runs whole between two calls of on_chunk."""
    full, per = n // m, max(1, CHUNK_ROWS // m)
    chunks, start = [], 0
    while start < full:
        stop = min(start + per, full)
        if every:
            stop = min(stop, (start // every + 1) * every)
        chunks.append((start, stop - start, m))
        start = stop
    if n % m:
        chunks.append((full, 1, n % m))
    return chunks
