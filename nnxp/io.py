"""Network files: JSON that network2's own ``load`` reads, and that nnxp reads back exactly.

    network_dict(spec, params, dtype, seed) -> dict       params: host NumPy (w, b) per layer
    read_network(path, dtype=None) -> NetworkFile          checked before anything is built
    NetworkFile(sizes, cost, activations, dtype, seed, params, extra, path)

A file holds network2's keys (``sizes``, ``weights`` as (n_out, n_in) nested lists, ``biases``
as (n_out, 1), ``cost`` by class name) and nnxp's (``format``, ``version``, ``activations``,
``dtype``, ``seed``; a checkpoint adds ``checkpoint``, see checkpoint.py).  Why JSON and not
pickle (as network2 says): readable, portable, and loading a file never runs code.  Names in a
file are looked up in fixed tables (costs.cost_from_name, activations.from_name), never with
getattr on a module.  Numbers are written with Python's shortest round-trip repr of float64, so
float32 and float64 parameters come back bit for bit.

network2's files have no dtype: they are read as float64 (their precision) where the backend
has it without a global switch, and as float32 on JAX unless ``dtype="float64"`` is asked for
(JAX's float64 is a process-wide setting a file must not turn on).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from .activations import from_name
from .costs import cost_from_name
from .errors import ConfigError, DataError

__all__ = ["FORMAT", "VERSION", "NetworkFile", "network_dict", "read_network", "read_json"]

FORMAT = "nnxp.network"
VERSION = 1


class NetworkFile(NamedTuple):
    sizes: list
    cost: type
    activations: list | None
    dtype: str | None
    seed: int | None
    params: tuple          # host float64 (w, b) per layer, b of shape (n_out,)
    extra: dict            # the file's other top-level keys (e.g. "checkpoint")
    path: str


def network_dict(spec, params, dtype, seed) -> dict:
    """The JSON-safe dict of a network (see the module docstring)."""
    return {
        "sizes": list(spec.sizes),
        "weights": [np.asarray(w, dtype=np.float64).tolist() for w, _ in params],
        "biases": [np.asarray(b, dtype=np.float64).reshape(-1, 1).tolist() for _, b in params],
        "cost": spec.cost.name,
        "format": FORMAT,
        "version": VERSION,
        "activations": [a.to_dict() for a in spec.activations],
        "dtype": dtype,
        "seed": None if seed is None else str(seed),
    }


def read_json(path) -> object:
    import json
    where = os.fspath(path)
    try:
        with open(where, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataError(f"no network file at {where!r}") from None
    except IsADirectoryError:
        raise DataError(f"{where!r} is a directory, not a network file") from None
    except PermissionError:
        raise DataError(f"{where!r} cannot be read (permission denied)") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise DataError(f"{where!r} is not a JSON network file ({str(exc)[:200]})") from None


def read_network(path) -> NetworkFile:
    """Read and check a network file; nothing is allocated beyond the file's own numbers."""
    d = read_json(path)
    where = os.fspath(path)
    if not isinstance(d, dict) or not {"sizes", "weights", "biases", "cost"} <= set(d):
        found = sorted(map(str, d))[:20] if isinstance(d, dict) else type(d).__name__
        raise DataError(f"{where!r} lacks the keys of a network file (sizes, weights, biases, "
                        f"cost); found {found}")
    fmt = d.get("format")
    if fmt is not None and (fmt != FORMAT or not isinstance(d.get("version"), int)
                            or isinstance(d.get("version"), bool) or d["version"] > VERSION):
        raise DataError(f"{where!r} is format {str(fmt)[:100]!r} version "
                        f"{str(d.get('version'))[:20]}; this nnxp reads {FORMAT!r} up to "
                        f"version {VERSION}")
    from . import checks
    try:
        sizes = checks.sizes(d["sizes"])
        cost = cost_from_name(d["cost"])
        acts = d.get("activations")
        if acts is not None:
            if not isinstance(acts, list) or len(acts) != len(sizes) - 1:
                raise ConfigError(f"activations must list {len(sizes) - 1} activations")
            acts = [from_name(a) for a in acts]
        dtype = None if d.get("dtype") is None else checks.dtype(d["dtype"])
        seed = d.get("seed")
        seed = int(seed) if isinstance(seed, str) and seed.isdigit() and len(seed) < 60 \
            else None
    except ConfigError as exc:
        raise DataError(f"{where!r}: {exc}") from None
    params = tuple(_layer(where, i, sizes[i], sizes[i + 1], w, b, dtype)
                   for i, (w, b) in enumerate(_pairs(d, where, len(sizes) - 1)))
    extra = {k: v for k, v in d.items() if k not in ("sizes", "weights", "biases", "cost")}
    return NetworkFile(sizes, cost, acts, dtype, seed, params, extra, where)


def _pairs(d, where, n_layers):
    weights, biases = d["weights"], d["biases"]
    if not (isinstance(weights, list) and isinstance(biases, list)
            and len(weights) == len(biases) == n_layers):
        count = lambda v: len(v) if isinstance(v, list) else type(v).__name__
        raise DataError(f"{where!r}: sizes {d['sizes']} need {n_layers} weight matrices and "
                        f"bias vectors; found {count(weights)} and {count(biases)}")
    return zip(weights, biases)


def _layer(where, i, n_in, n_out, w, b, dtype):
    """One layer's arrays, shapes checked row by row before any conversion."""
    if not (isinstance(w, list) and len(w) == n_out
            and all(isinstance(row, list) and len(row) == n_in for row in w)):
        raise DataError(f"{where!r}: layer {i} weights must be {n_out} rows of {n_in} numbers")
    if not (isinstance(b, list) and len(b) == n_out and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) or
            isinstance(v, list) and len(v) == 1 and isinstance(v[0], (int, float))
            and not isinstance(v[0], bool) for v in b)):
        raise DataError(f"{where!r}: layer {i} biases must be {n_out} numbers (or [number] "
                        "rows)")
    try:
        w = np.asarray(w, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64).reshape(-1)
    except (ValueError, TypeError, OverflowError):
        raise DataError(f"{where!r}: layer {i} holds something other than numbers") from None
    for name, a in (("weights", w), ("biases", b)):
        finite = np.isfinite(a.astype(dtype or "float64")) if a.size else np.array(True)
        if not np.all(finite):
            raise DataError(f"{where!r}: layer {i} {name} contain NaN or infinite values (in "
                            f"{dtype or 'float64'})")
    return w, b
