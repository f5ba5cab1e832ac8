"""Network files: JSON that network2's own ``load`` reads, and that nnxp reads back exactly.

    network_dict(spec, params, dtype, seed) -> dict       params: host NumPy (w, b) per layer
    population_dict(spec, params, dtype, seeds) -> dict   K members: (w, b) with axis K first
    read_network(path, *, dtype=None, default_dtype="float64", max_bytes=MAX_FILE_BYTES)
        -> formats.NetworkFields                           every field checked (formats.py)
                                                           before anything is built

A layered network (core.layered_spec) is written by ``layered_dict``: its layers by registered
name and fields, one list of arrays per layer (formats.py says what is checked).

A file holds network2's keys (``sizes``, ``weights`` as (n_out, n_in) nested lists, ``biases``
as (n_out, 1), ``cost`` by class name) and nnxp's (``format``, ``version``, ``activations``,
``dtype``, ``seed``; a checkpoint adds ``checkpoint``, see checkpoint.py).  A population file
is ``{"format": "nnxp.population", "version": 1, "members": [network file, ...]}`` (and its
checkpoint).  Why JSON and not
pickle (as network2 says): readable, portable, and loading a file never runs code.  Names in a
file are looked up in fixed tables (costs.cost_from_name, activations.from_name), never with
getattr on a module.  Numbers are written with Python's shortest round-trip repr of float64, so
float32 and float64 parameters come back bit for bit.

network2's files have no dtype: they are read as float64 (their precision) where the backend
has it without a global switch, and as float32 on JAX unless ``dtype="float64"`` is asked for
(JAX's float64 is a process-wide setting a file must not turn on).  Reading goes through
nnxp.files (size limits, clear errors) and nnxp.formats (the checks, field by field).
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .files import as_path, parse_json, read_bytes
from .formats import (FORMAT, LAYERED_VERSION, MAX_FILE_BYTES, VERSION, NetworkFields,
                      check_header, check_network_dict)
from .layers.base import layer_config

__all__ = ["FORMAT", "VERSION", "MAX_FILE_BYTES", "POPULATION", "network_dict",
           "layered_dict", "population_dict", "read_network"]

POPULATION = "nnxp.population"


def network_dict(spec, params, dtype, seed) -> dict:
    """The JSON-safe dict of a network (see the module docstring)."""
    if spec.layers is not None:
        return layered_dict(spec, params, dtype, seed)
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


def layered_dict(spec, params, dtype, seed) -> dict:
    """A layered network's JSON-safe dict (formats.py): its layers by registered name and
    fields (not their initializers), and one list of arrays per layer."""
    return {
        "format": FORMAT,
        "version": LAYERED_VERSION,
        "input_size": int(spec.sizes[0]),
        "layers": [layer_config(layer) for layer in spec.layers],
        "cost": spec.cost.name,
        "dtype": dtype,
        "seed": None if seed is None else str(seed),
        "params": [[np.asarray(a, dtype=np.float64).tolist() for a in layer]
                   for layer in params],
    }


def population_dict(spec, params, dtype, seeds) -> dict:
    """A population's JSON-safe dict: its members' network files, in order (params: host
    NumPy arrays with axis K first, one tuple per layer)."""
    return {"format": POPULATION, "version": VERSION,
            "members": [network_dict(spec, [tuple(a[k] for a in layer) for layer in params],
                                     dtype, seed)
                        for k, seed in enumerate(seeds)]}


def read_network(path, *, dtype=None, default_dtype="float64",
                 max_bytes=MAX_FILE_BYTES) -> NetworkFields:
    """Read and check a network file (nnxp.files, nnxp.formats): nothing is allocated beyond
    the file's own numbers, and a file larger than ``max_bytes`` is refused unread."""
    where = as_path(path, "network file")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ConfigError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
    raw = read_bytes(where, max_bytes=max_bytes, what="network file")
    check_header(raw, where)
    d = parse_json(raw, where, "network file")
    return check_network_dict(d, where, dtype=dtype, default_dtype=default_dtype,
                              file_bytes=len(raw))
