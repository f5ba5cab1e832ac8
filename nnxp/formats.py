"""The network file format, checked before anything is allocated.

    check_network_dict(d, where, *, dtype=None, default_dtype="float64", file_bytes=None)
        -> NetworkFields          every field of a parsed network file, validated: a clear
                                  DataError naming ``where`` and the field otherwise
    check_header(raw, where)      before parsing: refuse a file whose leading ``"sizes"``
                                  cannot match its byte size (too small to hold them, or far
                                  larger than they need), without parsing it whole
    parameter_count(sizes) -> int;  byte_bounds(sizes) -> (least, most) bytes of JSON
    default_dtype(backend) -> str  the dtype of a file that names none (network2's)
    MAX_FILE_BYTES                 the largest file ``nnxp.load`` reads unless told otherwise

A network file (network2's keys plus nnxp's): ``sizes`` a list of at least two positive ints;
``weights`` one (n_out, n_in) nested list per layer and ``biases`` one (n_out, 1) column (or a
flat (n_out,) list) per layer, checked level by level (lengths, then the types of the numbers:
int or float, never bool, str or null) before any array is made; ``cost`` and ``activations``
looked up in nnxp's fixed tables; ``dtype`` "float32" or "float64"; ``format``/``version`` if
present "nnxp.network" and 1; ``seed`` digits; ``checkpoint`` an object (its content is checked
by the checkpoint code).  Unknown extra keys are ignored.  Every number must be finite in the
dtype the network will compute in: 1e39 is a float64 but overflows float32, so it is refused,
naming the layer.

Size limits: a file's byte size and its ``sizes`` must agree.  Each of the P numbers in the
weights and biases takes at least one character and a separator, so a file of fewer than 2P - 1
bytes cannot hold them (a 70-byte file claiming [20000, 20000, 3] is refused at once, instead
of building a 3 GB network).  A file may take at most 128 bytes per number for two copies
(parameters and a checkpoint's momentum), plus 32 MiB for the rest (a long run's history):
more is refused before parsing when ``sizes`` comes first (as nnxp and network2 write it).
``MAX_FILE_BYTES`` (256 MiB, about a 10-million-parameter network or a 5-million-parameter
checkpoint with momentum, far beyond the book's networks) bounds what is read at all: parsing
JSON can take up to ~20 times a file's size in memory, so this bounds what a hostile file
can cost.  ``nnxp.load(path, max_bytes=...)`` raises it for larger networks.

A layered network's file (``"format": "nnxp.network", "version": 2``): ``input_size`` the
input size, ``layers`` one object per layer (``{"type": "ConvPool", "n_filters": 20, ...}``,
layers.base.layer_config: a registered name, looked up in the fixed table ``LAYERS``, and
exactly its fields, each checked by the layer's constructor; the initializers are functions and
are not saved: a loaded network has its trained parameters), ``params`` one list per layer of
its arrays as nested lists, in the shapes its layers give (checked level by level, as above,
before any array is made: layers.param_shapes, nothing drawn), ``cost``, ``dtype``, ``seed``,
``checkpoint`` as above.  The network is rebuilt (core.layered_spec) and its parameter count
checked against the file's byte size before the parameters are read.  Unknown layer names,
fields or activations, wrong shapes, NaN: a DataError naming the file and the layer.

network2 files name no dtype.  They are read as float64 (their precision) on backends that
have float64 without a process-wide switch, and as float32 where float64 needs one (JAX until
``jax_enable_x64`` is set; a device without float64): loading a file must not change how the
rest of the process computes.  ``nnxp.load(path, dtype="float64")`` asks for float64 anyway
(which, on JAX, enables x64 for the process, as ``Network(dtype="float64")`` does).
"""

from __future__ import annotations

import json
import math
import numbers
import re
from typing import NamedTuple

import numpy as np

from .activations import Sigmoid, from_name
from .checks import clip, show
from .core import layered_spec, param_shapes
from .costs import cost_from_name
from .dtypes import FLOAT_DTYPES
from .errors import ConfigError, DataError
from .layers.base import layer_from_config

__all__ = ["NetworkFields", "check_network_dict", "check_header", "parameter_count",
           "byte_bounds", "default_dtype", "FORMAT", "VERSION", "LAYERED_VERSION",
           "MAX_FILE_BYTES"]

FORMAT = "nnxp.network"
VERSION = 1
LAYERED_VERSION = 2   # a network of layer objects
MAX_FILE_BYTES = 256 * 2 ** 20
BYTES_PER_NUMBER = 128
SLACK_BYTES = 32 * 2 ** 20
_REQUIRED = ("sizes", "weights", "biases", "cost")


class NetworkFields(NamedTuple):
    """A network file's content, validated.  ``weights[i]`` (n_out, n_in) and ``biases[i]``
    (n_out,) are float64 host arrays whose values are finite in ``dtype``.  A layered
    network's: ``layers`` its layer objects, ``params`` one tuple of such arrays per layer,
    ``sizes`` (n_in, each layer's flat output size), ``weights``/``biases``/``activations``
    None."""

    sizes: list
    weights: list
    biases: list
    cost: type
    activations: list | None
    dtype: str
    seed: int | None
    checkpoint: dict | None
    layers: tuple | None = None
    params: tuple | None = None


def _kind(value) -> str:
    return {type(None): "null", bool: "true/false", str: "a string", dict: "an object",
            list: "a list"}.get(type(value), type(value).__name__)


# -- sizes and bytes -------------------------------------------------------------------------

def parameter_count(sizes) -> int:
    """Weights and biases of a network of these layer widths (exact: Python ints)."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def byte_bounds(sizes) -> tuple:
    """(least, most) bytes of JSON a file of these sizes can take (see the module docstring)."""
    p = parameter_count(sizes)
    return 2 * p - 1, SLACK_BYTES + 2 * BYTES_PER_NUMBER * p


def _check_sizes(sizes, where) -> list:
    if (not isinstance(sizes, (list, tuple)) or len(sizes) < 2
            or not all(isinstance(s, numbers.Integral) and not isinstance(s, (bool, np.bool_))
                       and s >= 1 for s in sizes)):
        raise DataError(f"{where!r}: field 'sizes' must be a list of at least two positive "
                        f"integer layer widths such as [784, 30, 10]; got {show(sizes)}")
    return [int(s) for s in sizes]


def _check_bytes(sizes, file_bytes, where, before_parsing=False, count=None) -> None:
    p = parameter_count(sizes) if count is None else count
    least, most = 2 * p - 1, SLACK_BYTES + 2 * BYTES_PER_NUMBER * p
    if file_bytes < least:
        raise DataError(f"{where!r} has {file_bytes:,} bytes, but its sizes {show(sizes)} "
                        f"imply {p:,} parameters, which take at least {least:,} bytes of "
                        f"JSON: the file is cut short or its sizes are wrong")
    if file_bytes > most:
        how = " (refused without parsing it)" if before_parsing else ""
        raise DataError(f"{where!r} has {file_bytes:,} bytes, far more than its sizes "
                        f"{show(sizes)} ({p:,} parameters) can take (at most {most:,}): it "
                        f"is not a network file of these sizes{how}")


_HEAD = re.compile(rb'\s*\{\s*"sizes"\s*:\s*')


def check_header(raw: bytes, where) -> None:
    """If ``raw`` starts with ``{"sizes": [...]`` (nnxp and network2 write it first), check
    those sizes and the byte count now, before parsing the whole file.  Otherwise do nothing:
    ``check_network_dict`` checks the same after parsing."""
    head = _HEAD.match(raw)
    if head is None:
        return
    text = raw[head.end():head.end() + 65536].decode("utf-8", "replace")
    try:
        sizes, _ = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):
        return  # not a plain list: the full parse and check report it
    if isinstance(sizes, list):
        _check_bytes(_check_sizes(sizes, where), len(raw), where, before_parsing=True)


# -- layers ----------------------------------------------------------------------------------

def _numbers_only(row) -> str | None:
    """None if every item of ``row`` is an int or a float; else what else it holds."""
    kinds = set(map(type, row))
    if kinds <= {float, int}:
        return None
    bad = [k for k in kinds if not issubclass(k, numbers.Real) or issubclass(k, bool)]
    return ", ".join(sorted({_kind(next(v for v in row if type(v) is k)) for k in bad})) or None


def _weights(w, n_out, n_in) -> str | None:
    """What is wrong with ``w`` as an (n_out, n_in) nested list, or None."""
    if not isinstance(w, (list, tuple)):
        return f"its weights are {_kind(w)}, not a list of {n_out} rows"
    if len(w) != n_out:
        return f"its weights have {len(w)} rows"
    for r, row in enumerate(w):
        if not isinstance(row, (list, tuple)):
            return f"its weights' row {r} is {_kind(row)}, not a list of {n_in} numbers"
        if len(row) != n_in:
            return f"its weights' row {r} has {len(row)} values"
        bad = _numbers_only(row)
        if bad:
            return f"its weights' row {r} holds {bad}, not only numbers"
    return None


def _biases(b, n_out) -> tuple:
    """(flat list of n_out numbers, None) or (None, what is wrong)."""
    if not isinstance(b, (list, tuple)):
        return None, f"its biases are {_kind(b)}, not a list of {n_out} numbers"
    if len(b) != n_out:
        return None, f"its biases have {len(b)} rows"
    if all(isinstance(v, (list, tuple)) for v in b):  # network2's (n_out, 1) column
        lengths = set(map(len, b))
        if lengths - {1}:
            return None, f"its biases have rows of {max(lengths - {1})} values"
        b = [v[0] for v in b]
    bad = _numbers_only(b)
    return (None, f"its biases hold {bad}, not only numbers") if bad else (list(b), None)


def _finite_in(a, dtype, where, i, name) -> None:
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(a.astype(dtype))
    if not finite.all():
        index = tuple(int(k) for k in np.argwhere(~finite)[0])
        raise DataError(f"{where!r}: layer {i} {name} hold {float(a[index])!r} at {index}: NaN or "
                        f"infinite values, or values beyond {dtype}'s range "
                        f"(+-{np.finfo(dtype).max:.4g}), cannot be loaded")


def _layer(w, b, n_in, n_out, dtype, where, i) -> tuple:
    problem = _weights(w, n_out, n_in)
    flat_b, b_problem = (None, None) if problem else _biases(b, n_out)
    if problem or b_problem:
        raise DataError(f"{where!r}: layer {i} should have weights ({n_out}, {n_in}) and biases "
                        f"({n_out}, 1); {problem or b_problem}")
    try:
        w = np.array(w, dtype=np.float64).reshape(n_out, n_in)
        b = np.array(flat_b, dtype=np.float64)
    except (OverflowError, ValueError, TypeError) as exc:  # an int beyond float64's range
        raise DataError(f"{where!r}: layer {i} holds a number nnxp cannot read "
                        f"({clip(exc)})") from None
    _finite_in(w, dtype, where, i, "weights")
    _finite_in(b, dtype, where, i, "biases")
    return w, b


# -- the other fields ------------------------------------------------------------------------

def _check_format(d, where) -> None:
    fmt, version = d.get("format"), d.get("version")
    if fmt is None:
        return  # a network2 file
    if (fmt != FORMAT or not isinstance(version, int) or isinstance(version, bool)
            or not 1 <= version <= VERSION):
        raise DataError(f"{where!r} is format {show(fmt)} version {show(version)}; this nnxp "
                        f"reads {FORMAT!r} up to version {VERSION}")


def _activations(value, n_layers, where):
    if value is None or value == []:
        return None  # network2's: sigmoid everywhere (or the cost's output layer)
    if not isinstance(value, (list, tuple)) or len(value) != n_layers:
        raise DataError(f"{where!r}: field 'activations' must list one activation per layer "
                        f"({n_layers}); got {show(value)}")
    try:
        return [from_name(a) for a in value]
    except ConfigError as exc:
        raise DataError(f"{where!r}: field 'activations': {exc}") from None


def _dtype(value, where) -> str | None:
    if value is None or value in FLOAT_DTYPES:
        return value
    raise DataError(f"{where!r}: field 'dtype' must be 'float32' or 'float64'; "
                    f"got {show(value)}")


def _seed(value, where) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 200:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10 ** 200:
        return value
    raise DataError(f"{where!r}: field 'seed' must be a non-negative integer written in "
                    f"digits; got {show(value)}")


def check_network_dict(d, where, *, dtype=None, default_dtype="float64",
                       file_bytes=None) -> NetworkFields:
    """Validate a parsed network file ``d`` (``where`` names it in messages).

    ``dtype`` ("float32"/"float64") overrides the file's; a file without one gets
    ``default_dtype``.  ``file_bytes``, the file's size, is checked against its sizes.  Nothing
    is allocated beyond one float64 array per layer, made only once that layer's nested lists
    have the right lengths and hold only numbers.

    >>> check_network_dict({"sizes": [2, 1], "weights": [[[0.5, 1]]], "biases": [[[0]]],
    ...                     "cost": "QuadraticCost"}, "net.json").sizes
    [2, 1]
    """
    if isinstance(d, dict) and "layers" in d:
        return _check_layered(d, where, dtype, default_dtype, file_bytes)
    if not isinstance(d, dict) or not all(k in d for k in _REQUIRED):
        found = sorted(map(str, d))[:20] if isinstance(d, dict) else _kind(d)
        other = isinstance(d, dict) and d.get("format") == "nnxp.population"  # io.POPULATION
        raise DataError(f"{where!r} lacks the keys of a network file (sizes, weights, biases, "
                        f"cost); found {found}" + (
                            ": it is a population file, which loads with "
                            "nnxp.load_population (pop[k] is member k as a Network)"
                            if other else ""))
    _check_format(d, where)
    sizes = _check_sizes(d["sizes"], where)
    if file_bytes is not None:
        _check_bytes(sizes, file_bytes, where)
    try:
        cost = cost_from_name(d["cost"])
    except ConfigError as exc:
        raise DataError(f"{where!r}: field 'cost': {exc}") from None
    activations = _activations(d.get("activations"), len(sizes) - 1, where)
    dtype, seed, checkpoint = _run_fields(d, where, dtype, default_dtype)
    weights, biases = d["weights"], d["biases"]
    n_layers = len(sizes) - 1
    if not (isinstance(weights, (list, tuple)) and isinstance(biases, (list, tuple))
            and len(weights) == len(biases) == n_layers):
        count = lambda v: len(v) if isinstance(v, (list, tuple)) else _kind(v)
        raise DataError(f"{where!r}: sizes {show(sizes)} need {n_layers} weight matrices and "
                        f"bias vectors; found {count(weights)} and {count(biases)}")
    layers = [_layer(w, b, n_in, n_out, dtype, where, i) for i, (w, b, n_in, n_out)
              in enumerate(zip(weights, biases, sizes[:-1], sizes[1:]))]
    return NetworkFields(sizes, [w for w, _ in layers], [b for _, b in layers], cost,
                         activations, dtype, seed, checkpoint)


_LAYERED = ("format", "version", "input_size", "layers", "params", "cost")


def _check_layered(d, where, dtype, default_dtype, file_bytes) -> NetworkFields:
    """A layered network's file (see the module docstring), checked before anything is built."""
    missing = [k for k in _LAYERED if k not in d]
    if missing:
        raise DataError(f"{where!r}: a layered network file needs the fields "
                        f"{', '.join(_LAYERED)}; {', '.join(missing)} missing")
    if d["format"] != FORMAT or d["version"] != LAYERED_VERSION:
        raise DataError(f"{where!r} is format {show(d['format'])} version "
                        f"{show(d['version'])}; a layered network file is {FORMAT!r} version "
                        f"{LAYERED_VERSION}")
    n_in, entries = d["input_size"], d["layers"]
    if isinstance(n_in, bool) or not isinstance(n_in, int) or n_in < 1:
        raise DataError(f"{where!r}: field 'input_size' must be a positive int, got {show(n_in)}")
    if not isinstance(entries, list) or not entries:
        raise DataError(f"{where!r}: field 'layers' must list the layers, got {show(entries)}")
    layers = []
    for i, entry in enumerate(entries):
        try:
            layers.append(layer_from_config(entry))
        except ConfigError as exc:
            raise DataError(f"{where!r}: layers[{i}]: {exc}") from None
    try:
        cost = cost_from_name(d["cost"])
        spec = layered_spec([n_in, *layers], Sigmoid, None, cost)
        shapes = param_shapes(spec)
    except ConfigError as exc:
        raise DataError(f"{where!r}: {exc}") from None
    count = sum(math.prod(s) for layer in shapes for s in layer)
    if file_bytes is not None:
        _check_bytes(list(spec.sizes), file_bytes, where, count=count)
    dtype, seed, checkpoint = _run_fields(d, where, dtype, default_dtype)
    values = d["params"]
    if not isinstance(values, list) or len(values) != len(layers):
        raise DataError(f"{where!r}: field 'params' must list {len(layers)} layers' "
                        f"parameters, got {show(values)}")
    params = []
    for i, (value, layer_shapes) in enumerate(zip(values, shapes)):
        if not isinstance(value, list) or len(value) != len(layer_shapes):
            raise DataError(f"{where!r}: params[{i}] must list {len(layer_shapes)} arrays of "
                            f"shapes {list(layer_shapes)}, got {show(value)}")
        arrays = []
        for j, (a, shape) in enumerate(zip(value, layer_shapes)):
            problem = _nested(a, shape)
            if problem:
                raise DataError(f"{where!r}: params[{i}][{j}] should have shape {shape}; "
                                f"{problem}")
            try:
                array = np.array(a, dtype=np.float64).reshape(shape)
            except (OverflowError, ValueError, TypeError) as exc:
                raise DataError(f"{where!r}: params[{i}][{j}] holds a number nnxp cannot read "
                                f"({clip(exc)})") from None
            _finite_in(array, dtype, where, i, f"params[{j}]")
            arrays.append(array)
        params.append(tuple(arrays))
    return NetworkFields(list(spec.sizes), None, None, cost, None, dtype, seed, checkpoint,
                         spec.layers, tuple(params))


def _nested(value, shape, at="") -> str | None:
    """What is wrong with ``value`` as nested lists of numbers of ``shape``, or None."""
    if not isinstance(value, (list, tuple)):
        return f"{at or 'it'} is {_kind(value)}, not a list of {shape[0]}"
    if len(value) != shape[0]:
        return f"{at or 'it'} has {len(value)} entries, not {shape[0]}"
    if len(shape) == 1:
        bad = _numbers_only(value)
        return f"{at or 'it'} holds {bad}, not only numbers" if bad else None
    for r, row in enumerate(value):
        problem = _nested(row, shape[1:], f"{at}[{r}]")
        if problem:
            return problem
    return None


def default_dtype(backend) -> str:
    """float64 where ``backend`` has it without a process-wide switch, else float32 (see the
    module docstring): the dtype of a file that names none."""
    info = backend.xp.__array_namespace_info__()
    floats = info.dtypes(device=backend.device, kind="real floating")
    return "float64" if "float64" in floats else "float32"


def _run_fields(d, where, dtype, default_dtype) -> tuple:
    """A network file's dtype (``dtype`` overrides it), seed and checkpoint object, checked."""
    dtype = dtype or _dtype(d.get("dtype"), where) or default_dtype
    checkpoint = d.get("checkpoint")
    if checkpoint is not None and not isinstance(checkpoint, dict):
        raise DataError(f"{where!r}: field 'checkpoint' must be an object; got "
                        f"{_kind(checkpoint)}")
    return dtype, _seed(d.get("seed"), where), checkpoint
