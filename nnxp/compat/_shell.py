"""What nnxp.compat's two ``Network`` classes share: the book's lists of NumPy arrays on one
side, nnxp's pure core (core.py, plan.py, train.py, engines/) on the other.

    compute_dtype(backend) -> "float64" where the device has it (JAX: turns x64 on), else
                              "float32"
    core_cost(cost) -> an nnxp cost class     network2's QuadraticCost / CrossEntropyCost
                                              (class or instance) or nnxp's two matching ones
    spec_for(sizes, cost) -> core.Spec        sigmoid layers, as in the book
    host_params(net) -> ((w, b), ...)         net.weights / net.biases checked: float64,
                                              w (n_out, n_in), b (n_out,)
    set_params(net, params, backend)          the reverse: fresh float64 lists, biases (n, 1)
    measuring_spec(spec) -> core.Spec         the book's sigmoid formula in every layer
    nnxp_network(net, cost) -> nnxp.Network   the same network as nnxp's (weights copied):
                                              what nnxp.diagnose takes (``__nnxp_network__``)
    train(net, cost, training_data, epochs, mini_batch_size, eta, *, lmbda, evaluation_data,
          monitors, report, early_stopping_n) -> History
    measure(net, cost, data, lmbda) -> (hits, total cost)      one pass on the device
    exact() -> bool                           NNXP_COMPAT_EXACT=1: SGD in the book's order
    output(net, cost, a), gradient(net, cost, x, y, cost_derivative=None),
    step(net, cost, mini_batch, eta, lmbda, n)
                                              feedforward, backprop and update_mini_batch on
                                              the host, bit for bit as the book (_book.py)
    overridden(net, base, names=BOOK_METHODS) -> names a subclass (or the instance) redefines
    train_by_methods(net, training_data, ..., measures, update, report, ...) -> History
                                              the book's SGD loop calling the network's methods
    step_by(net, mini_batch, eta, lmbda, n, backprop=...), measure_by(net, cost, data,
    feedforward, lmbda)                       update_mini_batch and accuracy / total_cost
                                              written out around the network's own methods

Measuring as the book.  The book counts argmax(feedforward(x)) with 1 / (1 + e^-z); the
engines' sigmoid, 0.5 + 0.5 tanh(z/2), is exactly 0 for z <= -38, where the book's outputs
still differ, so saturated outputs would tie and argmax answer class 0.  ``measure`` and the
monitoring of ``train`` therefore score with ``measuring_spec`` (_book.BookSigmoid), and under
NNXP_COMPAT_EXACT=1 with the book's own per-example outputs (_book.scores).  Training keeps
the engine's sigmoid and fast paths: the two formulas agree to rounding.

A subclass's methods.  Programs written against the book subclass Network and override
``update_mini_batch`` (the chapter-3 L1 exercise), ``backprop``, ``cost_derivative`` or
``feedforward``.  When any of BOOK_METHODS is redefined, SGD runs ``train_by_methods``, the
book's loop, so the override is called wherever the book calls it; the methods not
overridden are the book's per-example code (_book.py) and call the overridden ones as the book
does (update_mini_batch -> backprop -> cost_derivative; accuracy / evaluate / total_cost ->
feedforward).  Nothing is silently bypassed; it runs at about the book's speed.

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

Data go to the device once per list, not once per call: a list of pairs is converted to
read-only host arrays on first use and kept (``prepared``) with the identity of its items, so
the next ``SGD``, ``accuracy`` or ``total_cost`` on the same list, even reordered by our
shuffle, reuses them, and nnxp.data's cache (the one cache of prepared data) their device
copy.  A list whose items were replaced, added or removed is converted again.  Arrays changed
in place inside the pairs are not noticed (the book's data never are).  At most ``MAX_LISTS``
lists are kept, and a list that nothing outside this module refers to any more is forgotten.
"""

from __future__ import annotations

import operator
import os
import random
import sys
import time

import numpy as np

from .. import backends, checks, core
from ..activations import Sigmoid
from ..costs import CrossEntropyCost, QuadraticCost
from ..data import Dataset, freeze, from_pairs, prepare
from ..engines import engine_for
from ..errors import ConfigError, DataError
from ..history import History
from ..network import Network as _NnxpNetwork
from ..loop import total_cost
from ..core import layer_activations
from ..optimizers import sgd, training_chain
from ..plan import make_plan
from ..train import fit
from . import _book, _types

__all__ = ["compute_dtype", "core_cost", "spec_for", "measuring_spec", "host_params",
           "set_params", "nnxp_network", "train", "measure", "BOOK_METHODS", "overridden",
           "train_by_methods", "step_by", "measure_by", "output", "gradient", "step",
           "MAX_LISTS"]

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


def nnxp_network(net, cost) -> _NnxpNetwork:
    """An nnxp.Network that computes what ``net`` computes now: its sizes, sigmoid layers and
    cost, a copy of its weights and biases, in compute_dtype on the current backend (what
    nnxp.diagnose and the rest of nnxp take)."""
    backend = backends.current()
    dtype = compute_dtype(backend)
    view = _NnxpNetwork(net.sizes, cost=core_cost(cost), dtype=dtype, backend=backend, seed=0)
    view.params = core.to_device(backend, host_params(net), dtype)
    return view


# -- data converted once per list; their device copies in nnxp.data's cache ------------------

class Order:
    """The order of a list's examples: ``rows[i]`` is the row (of its host arrays, as first
    converted) of the list's item i now."""

    def __init__(self, source, n):
        self.source, self.rows = source, np.arange(n)
        self.items = list(source) if isinstance(source, list) else None

    def current(self, data) -> bool:
        """Whether ``data`` still holds exactly the items we converted (in our order)."""
        return len(data) == len(self.items) and all(map(operator.is_, data, self.items))

    def permute(self, perm) -> np.ndarray:
        """The rows reordered by ``perm`` (new[i] = old[perm[i]]); a list is reordered in
        place, as random.shuffle does it, and remembers its new order."""
        rows = self.rows[perm]
        if self.items is not None:
            self.items = [self.items[p] for p in perm]
            self.source[:] = self.items
            self.rows = rows
        return rows


_lists: dict = {}   # (id(list), n_out) -> (Order, x, y): read-only host arrays of the list


def prepared(data, backend, dtype, sizes, name) -> tuple:
    """(Dataset, Order): ``data`` checked and on ``backend``'s device, and its rows' order.  A
    list of pairs is converted to read-only host arrays once (while its items stay the same),
    so that nnxp.data keeps their device copy."""
    if data is None:
        raise DataError(f"{name} is None; expected a list of (x, y) pairs")
    data = listed(data)
    if not _is_pairs(data):   # (X, y) arrays, a Dataset
        dataset = prepare(data, backend, dtype, sizes[0], sizes[-1], name)
        return dataset, Order(None, dataset.n)
    _forget_unused()
    key = (id(data), sizes[-1])
    entry = _lists.pop(key, None)
    if entry is None or not entry[0].current(data):
        x, y = map(freeze, _host_arrays(data, sizes[-1], name))
        entry = (Order(data, x.shape[0]), x, y)
    if isinstance(data, list):
        _lists[key] = entry  # most recently used last
        while len(_lists) > MAX_LISTS:
            _lists.pop(next(iter(_lists)))
    return prepare(entry[1:], backend, dtype, sizes[0], sizes[-1], name), entry[0]


def listed(data):
    """A zip object or generator as a list (the Python 3 ports' ``list(data)``, once: an
    iterator measured every epoch would be empty after the first); anything else as given."""
    if not isinstance(data, (list, tuple, Dataset)) and hasattr(data, "__iter__") \
            and not hasattr(data, "shape") and not isinstance(data, (str, bytes, dict)):
        return list(data)
    return data


def _forget_unused() -> None:
    """Drop lists only the cache still refers to (CPython's reference counts: the entry's
    reference and getrefcount's own argument)."""
    if not hasattr(sys, "getrefcount"):
        return
    for key in [k for k, e in _lists.items() if sys.getrefcount(e[0].source) <= 2]:
        del _lists[key]


def forget_data() -> None:
    """Forget every list converted so far (their device copies go with them)."""
    _lists.clear()


def _is_pairs(data) -> bool:
    if not isinstance(data, (list, tuple)) or len(data) == 0:
        return False
    first = data[0]
    return isinstance(first, (tuple, list)) and len(first) == 2 and not hasattr(first, "shape")


def _host_arrays(pairs, n_out, name):
    """The pairs as host arrays (x, y).  A single output unit with scalar targets
    (y = 0.0 or 1.0, as in XOR examples): nnxp would read scalars as class labels, the book
    subtracts them from a^L; give them as (n, 1)."""
    x, y = from_pairs(pairs, name)
    if n_out == 1 and y.ndim == 1:
        y = y.astype(np.float64).reshape(-1, 1)
    return x, y


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
    book_types(epochs, mini_batch_size, eta, lmbda)
    backend = backends.current()
    dtype = compute_dtype(backend)
    spec = spec_for(net.sizes, cost)
    params = host_params(net)
    early_stopping_n = _early_stopping_n(early_stopping_n, monitors)
    wants_eval = any(v for k, v in monitors.items() if k.startswith("monitor_evaluation"))
    plan, optimizer = make_plan(epochs, mini_batch_size, eta, lmbda=lmbda,
                                evaluation=evaluation_data is not None,
                                on_divergence="continue", **monitors)
    train_set, order = prepared(training_data, backend, dtype, net.sizes, "training_data")
    eval_set = (prepared(evaluation_data, backend, dtype, net.sizes, "evaluation_data")[0]
                if wants_eval else None)
    n = train_set.n
    start = core.to_device(backend, params, dtype)

    def orders(epoch):
        perm = list(range(n))
        random.shuffle(perm)  # looked up at call time, like the book's random.shuffle(...)
        return order.permute(np.asarray(perm))

    def hold(backend_, new_params, opt_state):
        if new_params is not start:
            set_params(net, new_params, backend)

    stopper = _EarlyStop(early_stopping_n)

    def after_epoch(records, active):
        reason = stopper.observe(records[0])
        return {0: reason} if reason else None

    n_eval = None if eval_set is None else eval_set.n
    engine, scorer = _engine(backend, spec), _scorer(backend, spec)
    _, _, _, histories = fit(
        spec, start, plan, optimizer, train_set, eval_set, backend=backend, dtype=dtype,
        orders=orders, engine=engine if scorer is engine else _Measured(engine, scorer),
        hold=hold, after_epoch=after_epoch,
        progress=lambda records, active: report(records[0], n, n_eval))
    return histories[0]


def book_types(epochs, mini_batch_size, eta, lmbda) -> None:
    """SGD's arguments that are not numbers: an InputTypeError, a TypeError as the book's
    ``range(epochs)`` and arithmetic raise (_types.py); their ranges are make_plan's."""
    _types.number("epochs", epochs, integer=True)
    _types.number("mini_batch_size", mini_batch_size, integer=True)
    if not callable(eta):
        _types.number("eta", eta)
    _types.number("lmbda", lmbda)


def _early_stopping_n(value, monitors) -> int:
    value = checks.number("early_stopping_n", value, strict=False, integer=True)
    if value and not (monitors.get("monitor_evaluation_accuracy")
                      or monitors.get("monitor_training_accuracy")):
        raise ConfigError("early_stopping_n watches the accuracy SGD prints: set "
                          "monitor_evaluation_accuracy=True (or monitor_training_accuracy=True)")
    return value


class _EarlyStop:
    """The Python 3 port's early_stopping_n: ``observe(record)`` gives the reason to stop once
    the last accuracy measured (evaluation, else training) has not beaten its best (from 0)
    for n epochs in a row, else None."""

    def __init__(self, n):
        self.n, self.best, self.since = n, 0, 0

    def observe(self, record):
        if not self.n:
            return None
        accuracy = record.get("evaluation_accuracy", record.get("training_accuracy"))
        if accuracy > self.best:
            self.best, self.since = accuracy, 0
        else:
            self.since += 1
        if self.since == self.n:
            return (f"early_stopping_n: no improvement in accuracy for {self.n} epochs (best "
                    f"{self.best}) after epoch {record['epoch']}")
        return None


# -- a subclass's own methods: the book's loop, calling them ----------------------------------

BOOK_METHODS = ("update_mini_batch", "backprop", "cost_derivative", "feedforward", "evaluate",
                "accuracy", "total_cost")


def overridden(net, base, names=BOOK_METHODS) -> tuple:
    """Those of ``names`` that ``net`` defines otherwise than ``base`` (a subclass's method,
    or a function assigned to the instance)."""
    cls, own = type(net), vars(net)
    return tuple(name for name in names if hasattr(base, name) and (
        name in own or getattr(cls, name) is not getattr(base, name)))


def train_by_methods(net, training_data, epochs, mini_batch_size, eta, *, lmbda=0.0,
                     evaluation_data=None, monitors, measures, update, report,
                     early_stopping_n=0) -> History:
    """The book's SGD loop itself, for a network that overrides one of its methods: every
    epoch ``random.shuffle(training_data)`` (in place), ``update(mini_batch, n)`` for each
    slice of ``mini_batch_size`` (the network's update_mini_batch), then for each monitor
    set, ``measures[name]()`` (the network's total_cost / accuracy / evaluate), printed by
    ``report``.  Arguments are checked as for the engine's SGD."""
    book_types(epochs, mini_batch_size, eta, lmbda)
    plan, _ = make_plan(epochs, mini_batch_size, eta, lmbda=lmbda,
                        evaluation=evaluation_data is not None, **monitors)
    stopper = _EarlyStop(_early_stopping_n(early_stopping_n, monitors))
    if training_data is None:
        raise DataError("training_data is None; expected a list of (x, y) pairs")
    training_data = listed(training_data)  # zip objects, as the Python 3 ports do
    if not _is_pairs(training_data):
        raise DataError(f"training_data must be a non-empty list of (x, y) pairs, got "
                        f"{checks.show(training_data)}")
    n, m = len(training_data), plan.mini_batch_size
    n_eval = len(evaluation_data) if has_data(evaluation_data) else None
    history = History()
    for epoch in range(plan.epochs):
        start = time.perf_counter()
        random.shuffle(training_data)
        for k in range(0, n, m):
            update(training_data[k:k + m], n)
        record = {"epoch": epoch, "eta": plan.eta, "seconds": time.perf_counter() - start}
        for name, measure_ in measures.items():
            if monitors.get("monitor_" + name):
                record[name] = measure_()
        history.append(record)
        report(record, n, n_eval)
        history.stop_reason = stopper.observe(record)
        if history.stop_reason:
            break
    return history


_EXACT = {"1": True, "true": True, "yes": True, "on": True,
          "": False, "0": False, "false": False, "no": False, "off": False}


def exact() -> bool:
    """NNXP_COMPAT_EXACT=1: SGD runs the book's arithmetic in the book's order (_book.py);
    unset, empty or 0: nnxp's engines.  Any other value is a ConfigError (a misspelt value
    would otherwise leave the book's arithmetic off without a word)."""
    raw = os.environ.get("NNXP_COMPAT_EXACT", "")
    value = _EXACT.get(raw.strip().lower())
    if value is None:
        raise ConfigError(f"NNXP_COMPAT_EXACT must be 1 (the book's arithmetic, in its order) "
                          f"or 0 (nnxp's engines), got {checks.show(raw)}")
    return value


def _engine(backend, spec):
    return engine_for(backend, spec, cls=_book.BookEngine if exact() else None)


def measuring_spec(spec) -> core.Spec:
    """``spec`` with the book's sigmoid formula in every layer (_book.BookSigmoid)."""
    return spec._replace(activations=(_book.BookSigmoid(),) * len(spec.activations))


def _scorer(backend, spec):
    """The engine whose ``scores`` give the book's counts: the book's own outputs under
    NNXP_COMPAT_EXACT=1, else the backend's engine with the book's sigmoid formula."""
    return _engine(backend, spec) if exact() else engine_for(backend, measuring_spec(spec))


class _Measured:
    """An engine that trains as ``engine`` and measures (``scores``) as ``scorer``."""

    def __init__(self, engine, scorer):
        self._engine, self._scorer = engine, scorer

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def scores(self, params, data):
        return self._scorer.scores(params, data)


def measure(net, cost, data, lmbda=0.0) -> tuple:
    """(hits, network2's total cost with ``lmbda``) of ``data``: one pass on the device."""
    backend = backends.current()
    dtype = compute_dtype(backend)
    spec = spec_for(net.sizes, cost)
    lmbda = checks.number("lmbda", _types.number("lmbda", lmbda), strict=False)
    params = core.to_device(backend, host_params(net), dtype)
    dataset = prepared(data, backend, dtype, net.sizes, "data")[0]
    scores = _scorer(backend, spec).scores(params, dataset)
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


def gradient(net, cost, x, y, cost_derivative=None) -> tuple:
    """(nabla_b, nabla_w) of one example's cost, shaped like net.biases and net.weights;
    ``cost_derivative(a, y)`` on columns, when given, is dC/da (network.py's method)."""
    n_in, n_out = net.sizes[0], net.sizes[-1]
    x = _array("x", x)
    if x.size != n_in:
        raise DataError(f"backprop: x must have {n_in} numbers (a column ({n_in}, 1)), got "
                        f"shape {x.shape}")
    grads = _book.gradients(host_params(net), core_cost(cost), x.reshape(1, n_in),
                            _target(y, n_out), cost_derivative)
    return [db[0] for _, db in grads], [dw[0] for dw, _ in grads]


def _target(y, n_out) -> np.ndarray:
    a = _array("y", y)
    if a.size == n_out:
        return a.reshape(1, n_out)
    if a.ndim == 0 and float(a).is_integer() and 0 <= a < n_out:
        return np.eye(n_out)[int(a)].reshape(1, n_out)
    raise DataError(f"y must be a column of {n_out} desired outputs (or a label in "
                    f"[0, {n_out})), got {checks.show(y)}")


def _step_arguments(mini_batch, eta, lmbda, n) -> tuple:
    """update_mini_batch's (eta, lmbda, n), checked, and then its mini_batch."""
    checked = (checks.number("eta", _types.number("eta", eta)),
               checks.number("lmbda", _types.number("lmbda", lmbda), strict=False),
               checks.number("n", _types.number("n", n), integer=True))
    if not isinstance(mini_batch, (list, tuple)) or not _is_pairs(mini_batch):
        raise DataError(f"mini_batch must be a non-empty list of (x, y) pairs, got "
                        f"{checks.show(mini_batch)}")
    return checked


def step(net, cost, mini_batch, eta, lmbda=0.0, n=1) -> None:
    """network2's update_mini_batch: the book's step on the host, written back."""
    spec = spec_for(net.sizes, cost)
    eta, lmbda, n = _step_arguments(mini_batch, eta, lmbda, n)
    host = backends.load("numpy")
    batch = prepare(_host_arrays(mini_batch, net.sizes[-1], "mini_batch"), host, "float64",
                    net.sizes[0], net.sizes[-1], "mini_batch")
    transform = training_chain(sgd(), eta, lmbda / n)
    params = host_params(net)
    params, _ = _book.book_step(spec, transform)(params, transform.init(params), batch.x,
                                                 batch.y)
    set_params(net, params, host)


def step_by(net, mini_batch, eta, lmbda=0.0, n=1, *, backprop) -> None:
    """network2's update_mini_batch with the network's own ``backprop(x, y)``: its gradients
    summed over the mini-batch from zeros, one example after another, then
    w <- (1 - eta lmbda / n) w - (eta / len) nabla_w and b <- b - (eta / len) nabla_b
    (lmbda = 0: network.py's update, the same bits)."""
    eta, lmbda, n = _step_arguments(mini_batch, eta, lmbda, n)
    params = host_params(net)
    nabla_b = [np.zeros((b.shape[0], 1)) for _, b in params]
    nabla_w = [np.zeros(w.shape) for w, _ in params]
    for x, y in mini_batch:
        delta_b, delta_w = backprop(x, y)
        nabla_b = [nb + d for nb, d in zip(nabla_b, delta_b)]
        nabla_w = [nw + d for nw, d in zip(nabla_w, delta_w)]
    m = len(mini_batch)
    net.weights = [(1 - eta * (lmbda / n)) * w - (eta / m) * nw
                   for (w, _), nw in zip(params, nabla_w)]
    net.biases = [b.reshape(-1, 1) - (eta / m) * nb for (_, b), nb in zip(params, nabla_b)]


def measure_by(net, cost, data, feedforward, lmbda=0.0) -> tuple:
    """(hits, network2's total cost with ``lmbda``) of ``data`` from the network's own
    ``feedforward`` on each column, as the book's accuracy / evaluate and total_cost."""
    lmbda = checks.number("lmbda", _types.number("lmbda", lmbda), strict=False)
    if data is None or isinstance(data, (str, bytes, dict)):
        raise DataError(f"data must be a list of (x, y) pairs, got {checks.show(data)}")
    data = data if isinstance(data, (list, tuple)) else list(data)
    if not data or not _is_pairs(data):
        raise DataError(f"data must be a non-empty list of (x, y) pairs, got "
                        f"{checks.show(data)}")
    n_out, fn = net.sizes[-1], core_cost(cost).fn
    hits, total = 0, 0.0
    for x, y in data:
        a = _array("feedforward's output", feedforward(x))
        if a.size != n_out:
            raise DataError(f"feedforward must return {n_out} outputs, got shape {a.shape}")
        target = _target(y, n_out)
        label = int(y) if np.ndim(y) == 0 and n_out > 1 else int(np.argmax(target))
        hits += int(np.argmax(a) == label)
        total += float(fn(a.reshape(1, n_out), target)[0]) / len(data)
    weights = [w for w, _ in host_params(net)]
    total += 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in weights)
    return hits, total
