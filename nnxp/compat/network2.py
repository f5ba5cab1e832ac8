"""nnxp.compat.network2: chapter 3's ``network2.py``, with the book's interface and numbers,
trained by nnxp's engines.

    from nnxp.compat import network2, mnist_loader
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.large_weight_initializer()
    net.SGD(training_data, 30, 10, 0.5, lmbda=5.0, evaluation_data=validation_data,
            monitor_evaluation_accuracy=True, monitor_training_cost=True)

What the book's module has:

    QuadraticCost, CrossEntropyCost      static fn(a, y) (one example's cost, a number) and
                                         delta(z, a, y) (the output error), on columns
    Network(sizes, cost=CrossEntropyCost)           cost: one of the two, class or instance
        .sizes, .num_layers, .cost
        .weights  list of NumPy float64 arrays (n_out, n_in);  .biases  (n_out, 1)
        .default_weight_initializer()    weights N(0, 1/n_in), biases N(0, 1)
        .large_weight_initializer()      weights and biases N(0, 1)
        .feedforward(a)                  a: column (n_in, 1) -> (n_out, 1)
        .SGD(training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
             monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
             monitor_training_cost=False, monitor_training_accuracy=False,
             early_stopping_n=0)
             -> (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)
        .update_mini_batch(mini_batch, eta, lmbda, n);  .backprop(x, y) -> (nabla_b, nabla_w)
        .accuracy(data, convert=False) -> int;  .total_cost(data, lmbda, convert=False)
        .save(filename)
    load(filename) -> Network;  vectorized_result(j);  sigmoid(z);  sigmoid_prime(z)

The same numbers as the book's program from the same seeds: initial weights come from NumPy's
global generator (``np.random.randn``) in network2's order, every epoch's mini-batches from
``random.shuffle`` of the training list (shuffled in place, as in the book), and the
arithmetic is float64 where the device has it (see nnxp/compat/_shell.py).  ``SGD`` prints the
book's lines and returns its four lists (an ``nnxp.History``, which unpacks as them).

Assigning ``net.weights``, ``net.biases`` (or one of their arrays) or ``net.cost`` takes effect
at the next call: every call reads them.  ``early_stopping_n=n`` (from the popular Python 3
port) ends SGD once the accuracy it prints has not improved for n epochs.  ``convert`` is
accepted and not needed: labels and one-hot columns are told apart by their shape.

A subclass (or an instance) that redefines ``update_mini_batch``, ``backprop``,
``feedforward``, ``accuracy`` or ``total_cost`` (chapter 3's L1 exercise) is trained by the
book's loop calling its methods, and the methods it keeps call its own as the book's do
(nnxp/compat/_shell.py).  ``accuracy`` and ``total_cost`` measure with the book's sigmoid
formula, so saturated outputs are counted as the book counts them.  ``nnxp.diagnose(net,
data)`` takes the network as the nnxp.Network it computes (``__nnxp_network__``).
"""

from __future__ import annotations

import functools
import json

import numpy as np

from .. import checks
from ..activations import Sigmoid
from ..costs import CrossEntropyCost as _CoreCrossEntropy
from ..costs import QuadraticCost as _CoreQuadratic
from ..errors import DataError
from ..files import atomic_write_text
from ..history import print_progress
from ..io import read_network
from . import _book, _open, _shell, _types

__all__ = ["QuadraticCost", "CrossEntropyCost", "Network", "load", "vectorized_result",
           "sigmoid", "sigmoid_prime"]

_PRINT_EPOCH = functools.partial(print_progress, style="network2")  # the book's lines


def _row(v):
    return np.asarray(v, dtype=np.float64).reshape(1, -1)


class QuadraticCost:
    """C = ||a - y||^2 / 2;  delta = (a - y) sigma'(z)."""

    _nnxp_cost = _CoreQuadratic

    @staticmethod
    def fn(a, y):
        return float(_CoreQuadratic.fn(_row(a), _row(y))[0])

    @staticmethod
    def delta(z, a, y):
        return (np.asarray(a, np.float64) - np.asarray(y, np.float64)) * sigmoid_prime(z)


class CrossEntropyCost:
    """C = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)];  delta = a - y (z unused: the
    sigma'(z) factor cancels, chapter 3).  Finite when a is exactly 0 or 1, without
    ``nan_to_num`` (nnxp/costs.py)."""

    _nnxp_cost = _CoreCrossEntropy

    @staticmethod
    def fn(a, y):
        return float(_CoreCrossEntropy.fn(_row(a), _row(y))[0])

    @staticmethod
    def delta(z, a, y):
        del z
        return np.asarray(a, np.float64) - np.asarray(y, np.float64)


class Network:
    """network2's Network (see the module docstring)."""

    def __init__(self, sizes, cost=CrossEntropyCost):
        self.sizes = _types.sizes(sizes)
        self.num_layers = len(self.sizes)
        self.default_weight_initializer()
        self.cost = cost
        _shell.core_cost(cost)  # refuse an unknown cost now rather than at SGD

    def default_weight_initializer(self):
        """Biases N(0, 1), then weights N(0, 1/n_in), from NumPy's global generator."""
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) / np.sqrt(x)
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def large_weight_initializer(self):
        """Biases N(0, 1), then weights N(0, 1) (chapter 1's), from NumPy's global generator."""
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def __nnxp_network__(self):
        """This network as an ``nnxp.Network`` (its weights copied, float64 where the device
        has it, on the current backend): ``nnxp.diagnose(net, data)`` takes it through this."""
        return _shell.nnxp_network(self, self.cost)

    def feedforward(self, a):
        """The output for the column ``a`` (n_in, 1): (n_out, 1)."""
        return _shell.output(self, self.cost, a)

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0,
            evaluation_data=None, monitor_evaluation_cost=False,
            monitor_evaluation_accuracy=False, monitor_training_cost=False,
            monitor_training_accuracy=False, early_stopping_n=0):
        """Mini-batch SGD as network2's, on nnxp's engine; prints each epoch as the book and
        returns (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy).

        >>> net.SGD(training_data[:1000], 30, 10, 0.5, evaluation_data=test_data,
        ...         monitor_evaluation_accuracy=True)    # doctest: +SKIP
        """
        monitors = {"monitor_evaluation_cost": monitor_evaluation_cost,
                    "monitor_evaluation_accuracy": monitor_evaluation_accuracy,
                    "monitor_training_cost": monitor_training_cost,
                    "monitor_training_accuracy": monitor_training_accuracy}
        if _shell.overridden(self, Network):
            # zip objects as lists (as the Python 3 ports): measured after every epoch
            training_data, evaluation_data = map(_shell.listed, (training_data, evaluation_data))
            measures = {
                "training_cost": lambda: self.total_cost(training_data, lmbda),
                "training_accuracy": lambda: self.accuracy(training_data, convert=True),
                "evaluation_cost": lambda: self.total_cost(evaluation_data, lmbda,
                                                           convert=True),
                "evaluation_accuracy": lambda: self.accuracy(evaluation_data)}
            return _shell.train_by_methods(
                self, training_data, epochs, mini_batch_size, eta, lmbda=lmbda,
                evaluation_data=evaluation_data, monitors=monitors, measures=measures,
                update=lambda mini_batch, n: self.update_mini_batch(mini_batch, eta, lmbda, n),
                report=_PRINT_EPOCH, early_stopping_n=early_stopping_n)
        return _shell.train(self, self.cost, training_data, epochs, mini_batch_size, eta,
                            lmbda=lmbda, evaluation_data=evaluation_data, monitors=monitors,
                            report=_PRINT_EPOCH, early_stopping_n=early_stopping_n)

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        """One gradient step on the list of (x, y) pairs ``mini_batch``; ``n`` is the size of
        the training set (weight decay lmbda / n).  Through the network's own ``backprop``
        where a subclass overrides it."""
        if _shell.overridden(self, Network, ("backprop",)):
            _shell.step_by(self, mini_batch, eta, lmbda, n, backprop=self.backprop)
        else:
            _shell.step(self, self.cost, mini_batch, eta, lmbda, n)

    def backprop(self, x, y):
        """(nabla_b, nabla_w): the gradient of one example's cost, layer by layer."""
        return _shell.gradient(self, self.cost, x, y)

    def accuracy(self, data, convert=False):
        """How many of the pairs in ``data`` the network classifies right (argmax of the
        output; of the network's own ``feedforward``, per example, where a subclass overrides
        it)."""
        del convert
        return self._measure(data)[0]

    def total_cost(self, data, lmbda, convert=False):
        """Mean cost over ``data`` plus (lmbda / 2 len(data)) sum ||w||^2."""
        del convert
        return self._measure(data, lmbda)[1]

    def _measure(self, data, lmbda=0.0):
        if _shell.overridden(self, Network, ("feedforward",)):
            return _shell.measure_by(self, self.cost, data, self.feedforward, lmbda)
        return _shell.measure(self, self.cost, data, lmbda)

    def save(self, filename):
        """Write network2's JSON file: sizes, weights, biases (n, 1) and the cost's name."""
        params = _shell.host_params(self)
        cost = _shell.core_cost(self.cost).name
        data = {"sizes": list(self.sizes), "weights": [w.tolist() for w, _ in params],
                "biases": [b.reshape(-1, 1).tolist() for _, b in params], "cost": cost}
        atomic_write_text(_open.book_path(filename), json.dumps(data))


_COSTS = {"QuadraticCost": QuadraticCost, "CrossEntropyCost": CrossEntropyCost}


def load(filename):
    """A Network from a file written by ``save`` (or by network2, or nnxp's sigmoid networks).
    As network2's ``load``, it builds the Network first, which draws from np.random."""
    where = _open.book_path(filename)
    f = _open.read_as_the_book(where, read_network)
    if f.layers is not None:   # no sizes, weights or biases to read (the book: KeyError)
        names = [type(layer).__name__ for layer in f.layers]
        raise DataError(f"{where!r} holds a network of layers {checks.show(names)}; network2 "
                        "has fully connected sigmoid layers without dropout: load it with "
                        "nnxp.load instead")
    if f.cost.name not in _COSTS or (f.activations is not None and not all(
            type(a) is Sigmoid for a in f.activations)):
        names = [a.name for a in f.activations] if f.activations else ["Sigmoid"]
        raise DataError(f"{where!r} holds a network with {f.cost.name} and activations "
                        f"{names}; network2 has sigmoid neurons with QuadraticCost or "
                        "CrossEntropyCost: load it with nnxp.load instead")
    net = Network(f.sizes, cost=_COSTS[f.cost.name])
    net.weights = list(f.weights)
    net.biases = [b.reshape(-1, 1) for b in f.biases]
    return net


def vectorized_result(j):
    """A (10, 1) column with 1.0 in row j and zeros elsewhere."""
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def sigmoid(z):
    """1 / (1 + e^-z), elementwise: the book's formula, so the book's bits (0 below
    z = -709.78, where e^-z overflows; without NumPy's overflow warning).  Complex z as the
    book computes it; z that is not numbers (None, text) is an InputTypeError (a TypeError,
    as the book's ``-z`` raises)."""
    z = _types.array("sigmoid", z, "biufc")
    if z.dtype.kind == "c":
        return 1.0 / (1.0 + np.exp(-z))   # the book's line as it is
    return _book.sigmoid(z if z.dtype.kind == "f" else z.astype(np.float64))[()]


def sigmoid_prime(z):
    """sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1 - s)
