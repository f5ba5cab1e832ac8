"""What nnxp's own tests read of its caches: introspection, not part of the user contract.

    engines() -> list                   every engine cached now (nnxp.engines.engine_for),
                                        oldest first
    compiled(engine) -> list            the epoch programs a JAX engine compiled so far
                                        (jax.stages.Compiled: ``.as_text()`` is the HLO)
    programs(engine) -> int             how many programs ``engine`` holds compiled (on JAX
                                        one per shape and structure: the count stays put
                                        when only hyper-parameter values change)
    data_cache_info() -> CacheInfo(scanned, unscanned, hits, size, maxsize)
        what nnxp.data's preparation of host data did since its last ``clear_cache()``, counted
        as functools.lru_cache does: preparations that scanned the values (``scanned``), that
        skipped the scans of frozen arrays checked before (``unscanned``), calls answered by a
        kept Dataset (``hits``), and how many are kept (``size`` of ``maxsize``)

These read private state of nnxp.engines and nnxp.data; names here may change with any commit.
Users need none of them: ``Engine.compile_seconds`` says how long an engine spent compiling,
``nnxp.engines.clear()`` and ``nnxp.data.clear_cache()`` free the caches.
"""

from __future__ import annotations

from typing import NamedTuple

from . import data as _data
from . import engines as _engines

__all__ = ["engines", "compiled", "programs", "data_cache_info", "CacheInfo"]


def engines() -> list:
    """Every engine cached now (nnxp.engines.engine_for), oldest first."""
    return list(_engines._engines.values())


def compiled(engine) -> list:
    """The epoch programs ``engine`` compiled ahead of time so far (JAX engines; [] for
    others)."""
    return list(getattr(engine, "_compiled", {}).values())


def programs(engine) -> int:
    """How many programs ``engine`` holds compiled: its kept functions and epoch programs."""
    return len(engine._functions) + len(getattr(engine, "_compiled", ()))


class CacheInfo(NamedTuple):
    scanned: int    # host preparations that checked every value
    unscanned: int  # host preparations of frozen arrays checked before (no scans)
    hits: int       # calls answered by a kept Dataset (no work at all)
    size: int       # Datasets kept now
    maxsize: int    # nnxp.data.CACHE_SIZE


def data_cache_info() -> CacheInfo:
    """What the preparation of host data did since the last ``nnxp.data.clear_cache()``."""
    counts = _data._counts
    return CacheInfo(counts["scanned"], counts["unscanned"], counts["hits"], len(_data._cache),
                     _data.CACHE_SIZE)
