"""What nnxp.compat's two ``Network`` classes share: the book's lists of NumPy arrays on one
side, nnxp's pure core (core.py, plan.py, loop.py, engines/) on the other.

    compute_dtype(backend) -> "float64" where the device has it (JAX: turns x64 on), else
                              "float32"
    core_cost(cost) -> an nnxp cost class     network2's QuadraticCost / CrossEntropyCost
                                              (class or instance) or nnxp's two matching ones
    spec_for(sizes, cost) -> core.Spec        sigmoid layers, as in the book
    host_params(net) -> ((w, b), ...)         net.weights / net.biases checked: float64,
                                              w (n_out, n_in), b (n_out,)
    set_params(net, params, backend)          the reverse: fresh float64 lists, biases (n, 1)
    train(net, cost, training_data, epochs, mini_batch_size, eta, *, lmbda, evaluation_data,
          monitors, report, early_stopping_n) -> History
    measure(net, cost, data, lmbda) -> (hits, total cost)      one pass on the device
    exact() -> bool                           NNXP_COMPAT_EXACT=1: SGD in the book's order
    output(net, cost, a), gradient(net, cost, x, y), step(net, cost, mini_batch, eta, lmbda, n)
                                              feedforward, backprop and update_mini_batch on
                                              the host, bit for bit as the book (_book.py)

The book's order of mini-batches.  Each epoch network.py and network2.py call
``random.shuffle(training_data)``.  Python's shuffle draws the same random numbers for any list
of a given length, so shuffling ``list(range(n))`` from the same state gives the same
permutation and leaves the generator in the same state.  ``train`` draws that permutation with
the global ``random`` module, applies it to the caller's list in place (as the book does) and
hands the engine the rows of the device copy of the data in the list's new order.

Fast or exact.  By default SGD runs the backend's engine: whole mini-batches as matrices, equal
to the book's numbers to rounding.  Where training is chaotic (chapter 1's eta = 3.0 on 50,000
images: one ulp in one initial weight changes the book's own first epoch from 9042 to 9001
right answers), rounding grows until the epoch lines differ.  NNXP_COMPAT_EXACT=1 then runs
the book's arithmetic in its order (_book.py, bit for bit on NumPy) at about the book's speed.

Data go to the device once per list, not once per call: a list of pairs is converted on first
use and kept (``prepared``) with the identity of its items, so the next ``SGD``, ``accuracy``
or ``total_cost`` on the same list, even reordered by our shuffle, reuses it.  A list whose
items were replaced, added or removed is converted again.  Arrays changed in place inside the
pairs are not noticed (the book's data never are).  At most ``MAX_LISTS`` lists are kept, and
a list that nothing outside this module refers to any more is forgotten.
"""

from __future__ import annotations

import operator
import os
import random
import sys

import numpy as np

from .. import backends, checks, core
from ..activations import Sigmoid
from ..costs import CrossEntropyCost, QuadraticCost
from ..data import Dataset, prepare
from ..engines import engine_for
from ..errors import ConfigError, DataError
from ..history import History
from ..loop import fresh_state, run, total_cost
from ..core import layer_activations
from ..optimizers import sgd, training_chain
from ..plan import make_plan, transform_for
from . import _book

__all__ = ["compute_dtype", "core_cost", "spec_for", "host_params", "set_params", "train",
           "measure", "output", "gradient", "step", "MAX_LISTS"]

MAX_LISTS = 4
_CORE_COSTS = (QuadraticCost, CrossEntropyCost)


# -- what the network is ----------------------------------------------------------------------

def compute_dtype(backend) -> str:
    """float64, as the book computes, wherever the device has it."""
    try:
        backend.float_dtype("float64")
    except ConfigError:
        return "float32"
    return "float64"


def core_cost(cost):
    """The nnxp cost class that trains like ``cost`` (network2's or nnxp's quadratic or
    cross-entropy cost, a class or an instance; a subclass that keeps fn and delta)."""
    cls = cost if isinstance(cost, type) else type(cost)
    for base in cls.__mro__:
        found = base.__dict__.get("_nnxp_cost") or (base if base in _CORE_COSTS else None)
        if found is not None:
            if cls.fn is base.fn and cls.delta is base.delta:
                return found
            break
    raise ConfigError(f"nnxp.compat trains network2's QuadraticCost or CrossEntropyCost (the "
                      f"class or an instance) with sigmoid neurons; got {checks.show(cost)}. "
                      "A cost of your own needs the book's per-example code, or nnxp.Network")


def spec_for(sizes, cost) -> core.Spec:
    cost = core_cost(cost)
    acts = layer_activations(Sigmoid, Sigmoid, cost, len(sizes) - 1)
    return core.Spec(tuple(sizes), acts, cost)


def host_params(net) -> tuple:
    """``net.weights`` and ``net.biases`` as the core's parameters, checked."""
    sizes, n_layers = net.sizes, len(net.sizes) - 1
    layers = []
    for what in ("weights", "biases"):
        values = getattr(net, what, None)
        if not isinstance(values, (list, tuple)) or len(values) != n_layers:
            raise DataError(f"net.{what} must be a list of {n_layers} arrays (one per layer "
                            f"after the input), got {checks.show(values)}")
        layers.append(values)
    params = []
    for l, (w, b) in enumerate(zip(*layers)):
        n_in, n_out = sizes[l], sizes[l + 1]
        w, b = _array(f"net.weights[{l}]", w), _array(f"net.biases[{l}]", b)
        if w.shape != (n_out, n_in):
            raise DataError(f"net.weights[{l}] must have shape {(n_out, n_in)} for sizes "
                            f"{sizes}, got {w.shape}")
        if b.shape not in ((n_out, 1), (n_out,)):
            raise DataError(f"net.biases[{l}] must have shape {(n_out, 1)} for sizes {sizes}, "
                            f"got {b.shape}")
        params.append((w, b.reshape(n_out)))
    return tuple(params)


def _array(name, value) -> np.ndarray:
    a = np.asarray(value)
    if a.dtype.kind not in "fiub":
        raise DataError(f"{name} must hold numbers, got {checks.show(value)}")
    return a.astype(np.float64, copy=False)


def set_params(net, params, backend) -> None:
    host = [(np.array(backend.to_numpy(w), dtype=np.float64),
             np.array(backend.to_numpy(b), dtype=np.float64)) for w, b in params]
    net.weights = [w for w, _ in host]
    net.biases = [b.reshape(-1, 1) for _, b in host]


# -- data on the device, once per list --------------------------------------------------------

class Prepared:
    """``data`` on the device: ``dataset`` holds its rows in the order the list had when it was
    converted, ``rows[i]`` is the row of the list's item i now."""

    def __init__(self, source, dataset, pairs):
        self.source, self.dataset = source, dataset
        self.items = list(source) if isinstance(source, list) else None
        self.mutable = isinstance(source, list) and pairs  # shuffled in place, as the book
        self.rows = np.arange(dataset.n)

    def current(self, data) -> bool:
        """Whether ``data`` still holds exactly the items we converted (in our order)."""
        return len(data) == len(self.items) and all(map(operator.is_, data, self.items))

    def start_rows(self) -> np.ndarray:
        return self.rows if self.mutable else np.arange(self.dataset.n)

    def permute(self, rows, perm) -> np.ndarray:
        """The list reordered by ``perm`` (new[i] = old[perm[i]]), as random.shuffle does it;
        returns the rows in the new order."""
        rows = rows[perm]
        if self.mutable:
            self.items = [self.items[p] for p in perm]
            self.source[:] = self.items
            self.rows = rows
        return rows


_lists: dict = {}   # (id(list), backend, dtype, n_in, n_out) -> Prepared


def prepared(data, backend, dtype, sizes, name) -> Prepared:
    """``data`` checked and on ``backend``'s device, from the cache when it is still valid."""
    if data is None:
        raise DataError(f"{name} is None; expected a list of (x, y) pairs")
    if not isinstance(data, (list, tuple, Dataset)) and hasattr(data, "__iter__") \
            and not hasattr(data, "shape") and not isinstance(data, (str, bytes, dict)):
        data = list(data)  # zip objects of Python 3 ports
    key = None
    if isinstance(data, list):
        _forget_unused()
        key = (id(data), backend, dtype, sizes[0], sizes[-1])
        hit = _lists.pop(key, None)
        if hit is not None and hit.current(data):
            _lists[key] = hit  # most recently used last
            return hit
    pairs = _is_pairs(data)
    dataset = prepare(_host_form(data, pairs, sizes[-1]), backend, dtype, sizes[0], sizes[-1],
                      name)
    entry = Prepared(data, dataset, pairs)
    if key is not None:
        _lists[key] = entry
        while len(_lists) > MAX_LISTS:
            _lists.pop(next(iter(_lists)))
    return entry


def _forget_unused() -> None:
    """Drop lists only the cache still refers to (CPython's reference counts: the entry's
    reference and getrefcount's own argument)."""
    if not hasattr(sys, "getrefcount"):
        return
    for key in [k for k, e in _lists.items() if sys.getrefcount(e.source) <= 2]:
        del _lists[key]


def forget_data() -> None:
    """Forget every list converted so far (frees their device memory)."""
    _lists.clear()


def _is_pairs(data) -> bool:
    if not isinstance(data, (list, tuple)) or len(data) == 0:
        return False
    first = data[0]
    return isinstance(first, (tuple, list)) and len(first) == 2 and not hasattr(first, "shape")


def _host_form(data, pairs, n_out):
    """A single output unit with scalar targets (y = 0.0 or 1.0, as in XOR examples): nnxp
    would read scalars as class labels, the book subtracts them from a^L; give them as (n, 1)."""
    if pairs and n_out == 1 and all(np.ndim(y) == 0 for _, y in data):
        try:
            x = np.stack([np.asarray(x).reshape(-1) for x, _ in data])
            return x, np.asarray([y for _, y in data], dtype=np.float64).reshape(-1, 1)
        except (TypeError, ValueError) as exc:
            raise DataError(f"every item must be a pair (x, y) of numbers; {exc}") from None
    return data


def has_data(data) -> bool:
    """The book's ``if test_data:`` for lists, without asking an array for its truth."""
    if data is None:
        return False
    return len(data) > 0 if isinstance(data, (list, tuple)) else True


# -- training ---------------------------------------------------------------------------------

def train(net, cost, training_data, epochs, mini_batch_size, eta, *, lmbda=0.0,
          evaluation_data=None, monitors, report, early_stopping_n=0) -> History:
    """One SGD call of the book's programs on nnxp's engine (see the module docstring).
    ``report(record, n_train, n_evaluation)`` prints an epoch; ``early_stopping_n`` stops, as
    the popular Python 3 port of network2 does, once the last accuracy measured (evaluation,
    else training) has not improved on its best for that many epochs."""
    backend = backends.current()
    dtype = compute_dtype(backend)
    spec = spec_for(net.sizes, cost)
    params = host_params(net)
    early_stopping_n = checks.number("early_stopping_n", early_stopping_n, strict=False,
                                     integer=True)
    if early_stopping_n and not (monitors.get("monitor_evaluation_accuracy")
                                 or monitors.get("monitor_training_accuracy")):
        raise ConfigError("early_stopping_n watches the accuracy SGD prints: set "
                          "monitor_evaluation_accuracy=True (or monitor_training_accuracy=True)")
    wants_eval = any(v for k, v in monitors.items() if k.startswith("monitor_evaluation"))
    plan, optimizer = make_plan(epochs, mini_batch_size, eta, lmbda=lmbda,
                                evaluation=evaluation_data is not None,
                                on_divergence="continue", **monitors)
    train_set = prepared(training_data, backend, dtype, net.sizes, "training_data")
    eval_set = (prepared(evaluation_data, backend, dtype, net.sizes, "evaluation_data")
                if wants_eval else None)
    n = train_set.dataset.n
    transform = transform_for(plan, optimizer, n)
    params = core.to_device(backend, params, dtype)
    with backend.device_scope():
        opt_state = transform.init(params)
    state = fresh_state([plan.eta])
    state.n_train = n
    history, rows = History(), train_set.start_rows()

    def orders(epoch):
        nonlocal rows
        perm = list(range(n))
        random.shuffle(perm)  # looked up at call time, like the book's random.shuffle(...)
        rows = train_set.permute(rows, np.asarray(perm))
        return rows

    best = {"accuracy": 0, "since": 0}

    def after_epoch(records, active, new_params, new_state):
        set_params(net, new_params, backend)
        record = records[0]
        if early_stopping_n:
            accuracy = record.get("evaluation_accuracy", record.get("training_accuracy"))
            if accuracy > best["accuracy"]:
                best.update(accuracy=accuracy, since=0)
            else:
                best["since"] += 1
            if best["since"] == early_stopping_n:
                state.trackers[0].stop(
                    f"early_stopping_n: no improvement in accuracy for {early_stopping_n} "
                    f"epochs (best {best['accuracy']}) after epoch {record['epoch']}")

    n_eval = None if eval_set is None else eval_set.dataset.n
    run(_engine(backend, spec), transform, params, opt_state, plan, state,
        [history], train_set.dataset, None if eval_set is None else eval_set.dataset,
        backend=backend, dtype=dtype, orders=orders, after_epoch=after_epoch,
        progress=lambda records, active: report(records[0], n, n_eval))
    return history


def exact() -> bool:
    """NNXP_COMPAT_EXACT=1: SGD runs the book's arithmetic in the book's order (_book.py)."""
    return os.environ.get("NNXP_COMPAT_EXACT", "").strip().lower() in ("1", "true", "yes")


_book_engines: dict = {}


def _engine(backend, spec):
    if not exact():
        return engine_for(backend, spec)
    key = (backend, spec)
    if key not in _book_engines:
        _book_engines[key] = _book.BookEngine(backend, spec)
    return _book_engines[key]


def measure(net, cost, data, lmbda=0.0) -> tuple:
    """(hits, network2's total cost with ``lmbda``) of ``data``: one pass on the device."""
    backend = backends.current()
    dtype = compute_dtype(backend)
    spec = spec_for(net.sizes, cost)
    lmbda = checks.number("lmbda", lmbda, strict=False)
    params = core.to_device(backend, host_params(net), dtype)
    dataset = prepared(data, backend, dtype, net.sizes, "data").dataset
    scores = engine_for(backend, spec).scores(params, dataset)
    return int(scores[0]), total_cost(scores, dataset.n, lmbda)


# -- one example or one mini-batch, on the host, in the book's order (_book.py) --------------

def output(net, cost, a):
    """a^L for a column (n_in, 1), columns (n_in, k), or a vector (n_in,); float64."""
    n_in = net.sizes[0]
    x = _array("feedforward's input", a)
    if x.shape == (n_in,):
        return _book.forward(host_params(net), x.reshape(1, n_in))[1][-1].reshape(-1)
    if x.ndim == 2 and x.shape[0] == n_in:
        out = _book.forward(host_params(net), np.ascontiguousarray(x.T))[1][-1]
        return np.ascontiguousarray(out[:, :, 0].T)
    raise DataError(f"feedforward takes a column of shape ({n_in}, 1) (or ({n_in}, k), or "
                    f"({n_in},)); got shape {x.shape}")


def gradient(net, cost, x, y) -> tuple:
    """(nabla_b, nabla_w) of one example's cost, shaped like net.biases and net.weights."""
    n_in, n_out = net.sizes[0], net.sizes[-1]
    x = _array("x", x)
    if x.size != n_in:
        raise DataError(f"backprop: x must have {n_in} numbers (a column ({n_in}, 1)), got "
                        f"shape {x.shape}")
    grads = _book.gradients(host_params(net), core_cost(cost), x.reshape(1, n_in),
                            _target(y, n_out))
    return [db[0] for _, db in grads], [dw[0] for dw, _ in grads]


def _target(y, n_out) -> np.ndarray:
    a = _array("y", y)
    if a.size == n_out:
        return a.reshape(1, n_out)
    if a.ndim == 0 and float(a).is_integer() and 0 <= a < n_out:
        return np.eye(n_out)[int(a)].reshape(1, n_out)
    raise DataError(f"y must be a column of {n_out} desired outputs (or a label in "
                    f"[0, {n_out})), got {checks.show(y)}")


def step(net, cost, mini_batch, eta, lmbda=0.0, n=1) -> None:
    """network2's update_mini_batch: the book's step on the host, written back."""
    spec = spec_for(net.sizes, cost)
    eta = checks.number("eta", eta)
    lmbda = checks.number("lmbda", lmbda, strict=False)
    n = checks.number("n", n, integer=True)
    if not isinstance(mini_batch, (list, tuple)) or not _is_pairs(mini_batch):
        raise DataError(f"mini_batch must be a non-empty list of (x, y) pairs, got "
                        f"{checks.show(mini_batch)}")
    host = backends.load("numpy")
    batch = prepare(_host_form(mini_batch, True, net.sizes[-1]), host, "float64",
                    net.sizes[0], net.sizes[-1], "mini_batch")
    transform = training_chain(sgd(), eta, lmbda / n)
    params = host_params(net)
    params, _ = _book.book_step(spec, transform)(params, transform.init(params), batch.x,
                                                 batch.y)
    set_params(net, params, host)
