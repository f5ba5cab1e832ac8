"""Training and evaluation data: checked at the public boundary, converted and moved once.

    prepare(data, backend, dtype, n_in, n_out, name="training_data") -> Dataset
    clear_cache()                        forget the prepared Datasets
    from_pairs(pairs, name) -> (x, y)    network2's list of (x, y) pairs as host arrays
    check_finite(xp, x, name, dtype, to_numpy=np.asarray, what="X")
                                         DataError for NaN or infinite values in x (n, n_in),
                                         naming how many and the first one's row and column
    freeze(a) -> a read-only array that is ``frozen``: prepared once (below)
    Dataset(x, y, labels, n)
        x       (n, n_in)   float inputs on the backend's device
        y       (n, n_out)  float desired outputs (one-hot when labels were given)
        labels  (n,)        integer classes for accuracy (argmax of y when y was given as rows)
        n       int         number of examples

``data`` may be
  * a pair ``(X, y)``: X of shape (n, n_in) (or (n, 28, 28)-like, flattened), y integer labels
    (n,) or desired outputs (n, n_out); NumPy arrays, Python lists, or arrays of the network's
    own backend (used in place, never copied to the host);
  * network2's list of ``(x, y)`` pairs: x a column vector (n_in, 1), y a one-hot column
    (n_out, 1) or an integer label (training vs. validation data in mnist_loader);
  * a Dataset already prepared for this backend and dtype (returned as is).

Everything wrong with the data raises ``DataError`` here, naming what was expected and what was
given: empty data, wrong widths, X/y length mismatch, labels out of range or not integers,
NaN or infinite values (in the compute dtype: 1e39 is infinite in float32), arrays from another
array library.  One set of checks (``_checked``) runs with NumPy on host data, before the
transfer (so every backend receives the same bits), and with the backend's namespace on data
already on the device.

Prepared once: a pair of host NumPy arrays that cannot change -- both read-only
(``X.flags.writeable = False``), and so is every array they are views of, down to memory they
own or immutable ``bytes`` (``frozen``) -- is checked, converted and moved to the device at the
first call only; later calls with the same two objects (for the same backend, dtype and shape)
get the same Dataset back, without a check or a transfer (or, where the Dataset uses the arrays'
memory in place, as on NumPy, a new one made without the scans; nnxp.testing counts what
happened, for the tests).  The last CACHE_SIZE such Datasets are remembered, each only as long as
its arrays live (weak references: a dropped array frees its device copy).  Writeable arrays are
checked and moved at every call: nothing cheap tells reliably whether their values changed in
place, and training on stale data would be a silent error.  (The one thing not detected: making a
read-only array that owns its memory writeable again, changing it, and making it read-only
again.  Don't.)  To skip the work for writeable arrays, hold the Dataset: ``data =
net.prepare((X, y))`` and pass ``data``.
"""

from __future__ import annotations

import sys
import weakref
from collections import OrderedDict
from typing import Any, NamedTuple

import numpy as np

from .checks import clip
from .dtypes import dtype_name
from .errors import DataError, InputTypeError
from .namespace import namespace

__all__ = ["Dataset", "prepare", "is_backend_array", "check_finite", "frozen", "freeze",
           "from_pairs", "clear_cache", "CACHE_SIZE"]


class Dataset(NamedTuple):
    x: Any
    y: Any
    labels: Any
    n: int


def prepare(data, backend, dtype, n_in, n_out, name="training_data") -> Dataset:
    """Check ``data`` against the network's shape and move it to ``backend`` once."""
    if isinstance(data, Dataset):
        return _check_prepared(data, backend, dtype, n_in, n_out, name)
    if data is None:
        raise DataError(f"{name} is None; expected (X, y) arrays or a list of (x, y) pairs")
    if not isinstance(data, (tuple, list)):
        if isinstance(data, (str, bytes, dict)) or not hasattr(data, "__iter__"):
            raise InputTypeError(f"{name} must be a pair (X, y) or a list of (x, y) pairs, "
                                 f"got {type(data).__name__}")
        data = list(data)  # zip objects from Python 3 ports of network2
    if len(data) == 0:
        raise DataError(f"{name} is empty; expected at least one example")
    if _is_pairs(data):
        x, y = from_pairs(data, name)
    elif len(data) == 2:
        x, y = data
        key = _cache_key(x, y, backend, dtype, n_in, n_out)
        if key is not None:
            return _cached(key, x, y, lambda checked: _prepare_on_host(
                x, y, backend, dtype, n_in, n_out, name, checked))
    else:
        raise DataError(f"{name} must be a pair (X, y) or a list of (x, y) pairs; got a "
                        f"{type(data).__name__} of {len(data)} items that are not pairs")
    if is_backend_array(x, backend) or is_backend_array(y, backend):
        return _prepare_on_device(x, y, backend, dtype, n_in, n_out, name)
    return _prepare_on_host(x, y, backend, dtype, n_in, n_out, name)


# -- read-only host arrays are prepared once -------------------------------------------------

CACHE_SIZE = 4
_cache: OrderedDict = OrderedDict()  # key -> (weakref to x, weakref to y, Dataset)
_counts = {"scanned": 0, "unscanned": 0, "hits": 0}  # read by nnxp.testing.data_cache_info


def frozen(a) -> bool:
    """Whether NumPy array ``a`` cannot change: it and every array it is a view of are
    read-only, down to memory that is immutable or owned by the array itself (a view of a
    writeable array, or of a bytearray, could still change through the other name)."""
    if not isinstance(a, np.ndarray):
        return False
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        a = a.base
    return a is None or isinstance(a, bytes)


def freeze(a) -> np.ndarray:
    """``a`` made ``frozen``: itself, read-only, if it owns its memory, else a read-only copy.
    For nnxp's own arrays (a caller's array made read-only would surprise its owner)."""
    a = np.ascontiguousarray(a)
    if a.base is not None:
        a = a.copy()
    a.flags.writeable = False
    return a


def _cache_key(x, y, backend, dtype, n_in, n_out):
    if not (frozen(x) and frozen(y)):
        return None
    return (id(x), id(y), backend, str(dtype), n_in, n_out)


def _cached(key, x, y, build) -> Dataset:
    """The Dataset prepared earlier from these very arrays, or ``build(checked=False)``
    remembered.  A Dataset that shares memory with x or y (NumPy, PyTorch on the CPU, and
    JAX on the CPU may use host memory in place: they then hold a reference to it, which
    raises the arrays' reference counts) is not kept, since keeping it would keep x and y
    alive: such an entry only remembers that the arrays passed the checks, and each call
    converts them again (no copy, on those backends) without scanning them."""
    entry = _cache.get(key)
    if entry is not None and entry[0]() is x and entry[1]() is y:
        _cache.move_to_end(key)
        if entry[2] is not None:
            _counts["hits"] += 1
            return entry[2]
        return build(True)
    before = sys.getrefcount(x), sys.getrefcount(y)
    data = build(False)
    shares = (sys.getrefcount(x), sys.getrefcount(y)) != before

    def forget(_ref, key=key):
        _cache.pop(key, None)

    _cache[key] = (weakref.ref(x, forget), weakref.ref(y, forget), None if shares else data)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return data


def clear_cache() -> None:
    """Forget every remembered Dataset (their device copies are freed with them), and zero
    the counts (nnxp.testing.data_cache_info)."""
    _cache.clear()
    _counts.update(scanned=0, unscanned=0, hits=0)


def _check_prepared(data, backend, dtype, n_in, n_out, name) -> Dataset:
    """A Dataset prepared earlier (maybe for another network): it must fit this one."""
    if not (backend.owns(data.x) and backend.owns(data.y)):
        raise InputTypeError(f"{name}: this Dataset holds {type(data.x).__name__} arrays, but "
                             f"the network computes with {backend.describe()}; prepare the "
                             "data for this network (net.prepare(data))")
    want = backend.float_dtype(dtype)
    if data.x.dtype != want or data.y.dtype != want:
        raise DataError(f"{name}: this Dataset is {data.x.dtype}, the network computes in "
                        f"{dtype}; prepare the data for this network (net.prepare(data))")
    if tuple(data.x.shape) != (data.n, n_in) or tuple(data.y.shape) != (data.n, n_out):
        raise DataError(f"{name}: this Dataset has X {tuple(data.x.shape)} and y "
                        f"{tuple(data.y.shape)}; the network needs ({data.n}, {n_in}) and "
                        f"({data.n}, {n_out})")
    return backend.place_data(data)  # prepared on another device (of a mesh): moved here


def _is_pairs(data) -> bool:
    first = data[0]
    return isinstance(first, tuple) or (
        isinstance(first, list) and len(first) == 2 and hasattr(first[0], "shape"))


def from_pairs(data, name):
    for i, item in enumerate(data):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            what = (f"a {type(item).__name__} of {len(item)} values"
                    if isinstance(item, (tuple, list)) else f"a {type(item).__name__}")
            raise DataError(f"{name}: every item of a list of examples must be a pair (x, y); "
                            f"item {i} is {what}")
    try:
        x = np.stack([np.asarray(item[0]).reshape(-1) for item in data])
        ys = [item[1] for item in data]
    except (ValueError, TypeError, IndexError) as exc:
        raise DataError(f"{name}: every item must be a pair (x, y) with x of the same length; "
                        f"{exc}") from None
    if all(np.ndim(v) == 0 for v in ys):
        return x, np.asarray(ys)
    try:
        return x, np.stack([np.asarray(v).reshape(-1) for v in ys])
    except ValueError:
        raise DataError(f"{name}: the y of every pair must be a label or a vector of one "
                        "length") from None


def is_backend_array(a, backend) -> bool:
    """True for an array of ``backend``'s library, False for host data (NumPy, lists,
    numbers); an array of another library raises InputTypeError (never converted silently)."""
    if isinstance(a, (np.ndarray, np.generic, list, tuple, int, float)):
        return False  # host data (NumPy's arrays are the numpy backend's too: host path)
    if backend.owns(a):
        return True
    try:
        namespace(a)
    except TypeError:
        return False
    raise InputTypeError(f"data arrays are {type(a).__module__}.{type(a).__name__}, but the "
                         f"network computes with {backend.name}; pass NumPy arrays or "
                         f"{backend.name} arrays (or select that library's backend with "
                         "NNXP_BACKEND)")


def _check_x_shape(shape, n_in, name):
    if len(shape) < 2:
        raise DataError(f"{name}: X must have shape (n, {n_in}) with one example per row; "
                        f"got shape {tuple(shape)}")
    width = int(np.prod(shape[1:]))
    if width != n_in:
        raise DataError(f"{name}: X has {width} features per example (shape {tuple(shape)}) "
                        f"but the network's input layer has {n_in} units (sizes[0])")
    if shape[0] == 0:
        raise DataError(f"{name} is empty; expected at least one example")


def _prepare_on_host(x, y, backend, dtype, n_in, n_out, name, checked=False) -> Dataset:
    """Host data: the checks below on NumPy (so every backend receives the same bits, cast on
    the host), then one transfer per array.  ``checked``: these arrays passed the value checks
    before and cannot have changed (frozen), so the scans of their values are skipped."""
    x, y = _host_array(x, "X", name), _host_array(y, "y", name)
    _counts["unscanned" if checked else "scanned"] += 1
    index = np.dtype(dtype_name(backend.index_dtype()))
    with np.errstate(over="ignore"):  # values are checked for finiteness in ``dtype`` below
        x, targets, labels = _checked(np, x, y, np.dtype(dtype), index, "cpu", dtype, n_in,
                                      n_out, name, scan=not checked)
    return Dataset(backend.asarray(x), backend.asarray(targets), backend.asarray(labels),
                   x.shape[0])


def _host_array(a, what, name):
    """``a`` as a NumPy array; ragged nested lists are a DataError, not NumPy's ValueError."""
    try:
        return np.asarray(a)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}: {what} must be an array or nested lists of one shape (every "
                        f"example the same length); {clip(exc)}") from None


def _prepare_on_device(x, y, backend, dtype, n_in, n_out, name) -> Dataset:
    """Data already on the device: the same checks, on the device."""
    if not (is_backend_array(x, backend) and is_backend_array(y, backend)):
        raise InputTypeError(f"{name}: X and y must both be {backend.name} arrays or both be "
                             "NumPy arrays, not a mix")
    x, targets, labels = _checked(backend.xp, x, y, backend.float_dtype(dtype),
                                  backend.index_dtype(), backend.device, dtype, n_in, n_out,
                                  name, to_numpy=backend.to_numpy)
    return Dataset(x, targets, labels, x.shape[0])


def _checked(xp, x, y, float_dtype, index_dtype, device, dtype, n_in, n_out, name, scan=True,
             to_numpy=np.asarray):
    """(X, targets, labels) checked and converted with namespace ``xp``: X as (n, n_in) in
    ``float_dtype`` and finite there; y as integer labels in [0, n_out) (one-hot targets
    built from them) or as (n, n_out) desired outputs (labels their argmax).  ``scan=False``
    skips the checks that read every value (for arrays that passed them and cannot change);
    ``to_numpy`` brings device arrays to the host (for an error message only)."""
    _check_x_shape(x.shape, n_in, name)
    if not _real(xp, x.dtype):
        raise DataError(f"{name}: X must hold real numbers, got dtype {x.dtype}")
    x = xp.astype(xp.reshape(x, (x.shape[0], n_in)), float_dtype, copy=False)
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        raise DataError(f"{name}: X has {x.shape[0]} examples but y has "
                        f"{y.shape[0] if y.ndim else 'a scalar, not one per example'}")
    if scan:
        check_finite(xp, x, name, dtype, to_numpy)
    if y.ndim == 2 and y.shape[1] == 1 and n_out > 1:
        y = y[:, 0]  # a column of labels
    if not _real(xp, y.dtype):
        raise DataError(f"{name}: y must hold numbers, got dtype {y.dtype}")
    if y.ndim == 1 and scan:
        if not xp.isdtype(y.dtype, "integral"):
            if not bool(xp.all(xp.isfinite(y)) and xp.all(xp.round(y) == y)):
                raise DataError(f"{name}: y of shape ({y.shape[0]},) must hold integer class "
                                f"labels in [0, {n_out}); give desired outputs as shape "
                                f"(n, {n_out}) instead")
        lo, hi = float(xp.min(y)), float(xp.max(y))
        if lo < 0 or hi >= n_out:
            raise DataError(f"{name}: labels must lie in [0, {n_out}) for {n_out} output "
                            f"units; got labels from {lo:g} to {hi:g}")
    if y.ndim == 1:
        labels = xp.astype(y, index_dtype)
        classes = xp.arange(n_out, dtype=index_dtype, device=device)
        targets = xp.astype(labels[:, None] == classes[None, :], float_dtype)
        return x, targets, labels
    if y.ndim != 2 or y.shape[1] != n_out:
        raise DataError(f"{name}: y must be labels (n,) or desired outputs (n, {n_out}); "
                        f"got shape {tuple(y.shape)}")
    y = xp.astype(y, float_dtype, copy=False)
    if scan and not bool(xp.all(xp.isfinite(y))):
        raise DataError(f"{name}: y contains NaN or infinite values (in {dtype})")
    return x, y, xp.astype(xp.argmax(y, axis=1), index_dtype)


def check_finite(xp, x, name, dtype, to_numpy=np.asarray, what="X") -> None:
    """DataError when ``x`` (n, n_in), already in the compute dtype ``dtype``, holds NaN or
    infinite values.  One isfinite pass; only when it fails are the values located, for the
    message (how many, and the first one's example and feature): per-row counts and that one
    row come to the host through ``to_numpy``."""
    finite = xp.isfinite(x)
    if bool(xp.all(finite)):
        return
    per_row = np.asarray(to_numpy(xp.sum(xp.astype(~finite, x.dtype), axis=1)))
    row = int(np.flatnonzero(per_row)[0])
    values = np.asarray(to_numpy(x[row, ...]))
    column = int(np.flatnonzero(~np.isfinite(values))[0])
    raise DataError(f"{name}: {what} contains NaN or infinite values (in {dtype}, whose "
                    f"largest value is {np.finfo(dtype).max:.3g}): {int(per_row.sum())} of "
                    f"its {x.shape[0] * x.shape[1]} values; the first is example {row}, "
                    f"feature {column}: {values[column]}")


def _real(xp, dtype) -> bool:
    """Whether ``dtype`` holds real numbers (bool, integers or real floats)."""
    try:
        return xp.isdtype(dtype, ("bool", "integral", "real floating"))
    except (TypeError, ValueError):  # NumPy's str / object dtypes
        return False
