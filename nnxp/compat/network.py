"""nnxp.compat.network: chapter 1's ``network.py``, with the book's interface and numbers,
trained by nnxp's engines.

    from nnxp.compat import network, mnist_loader
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network.Network([784, 30, 10])
    net.SGD(training_data, 30, 10, 3.0, test_data=test_data)     # Epoch 0: 9042 / 10000 ...

What the book's module has:

    Network(sizes)                       sigmoid neurons, quadratic cost; biases then weights
                                         drawn N(0, 1) from NumPy's global generator
        .sizes, .num_layers
        .weights  list of NumPy float64 arrays (n_out, n_in);  .biases  (n_out, 1)
        .feedforward(a)                  a: column (n_in, 1) -> (n_out, 1)
        .SGD(training_data, epochs, mini_batch_size, eta, test_data=None) -> None
                                         prints "Epoch j: n / N" (with test_data) or
                                         "Epoch j complete" after each epoch
        .update_mini_batch(mini_batch, eta);  .backprop(x, y) -> (nabla_b, nabla_w)
        .evaluate(test_data) -> int;  .cost_derivative(output_activations, y) -> a - y
    sigmoid(z);  sigmoid_prime(z)

Same numbers as the book's program from the same seeds, as in nnxp.compat.network2 (see its
docstring): NumPy's global generator for the weights, ``random.shuffle`` of the training list
(in place) for the order of the mini-batches, float64 arithmetic.  Assigning ``net.weights``
or ``net.biases`` (or one of their arrays) takes effect at the next call.  Training runs the
quadratic cost on nnxp's engine: overriding ``cost_derivative`` in a subclass changes
``backprop`` and ``update_mini_batch`` of the book but not this SGD.
"""

from __future__ import annotations

import numpy as np

from .. import checks
from ..costs import QuadraticCost
from . import _shell
from .network2 import sigmoid, sigmoid_prime

__all__ = ["Network", "sigmoid", "sigmoid_prime"]


class Network:
    """network.py's Network (see the module docstring)."""

    def __init__(self, sizes):
        self.sizes = checks.sizes(sizes)
        self.num_layers = len(self.sizes)
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def feedforward(self, a):
        """The output for the column ``a`` (n_in, 1): (n_out, 1)."""
        return _shell.output(self, QuadraticCost, a)

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        """Mini-batch SGD as network.py's, on nnxp's engine; prints each epoch as the book.

        >>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)   # doctest: +SKIP
        """
        testing = _shell.has_data(test_data)
        _shell.train(self, QuadraticCost, training_data, epochs, mini_batch_size, eta,
                     evaluation_data=test_data if testing else None,
                     monitors={"monitor_evaluation_accuracy": testing}, report=_print_epoch)

    def update_mini_batch(self, mini_batch, eta):
        """One gradient step on the list of (x, y) pairs ``mini_batch``."""
        _shell.step(self, QuadraticCost, mini_batch, eta)

    def backprop(self, x, y):
        """(nabla_b, nabla_w): the gradient of one example's cost, layer by layer."""
        return _shell.gradient(self, QuadraticCost, x, y)

    def evaluate(self, test_data):
        """How many of the (x, label) pairs in ``test_data`` the network classifies right."""
        return _shell.measure(self, QuadraticCost, test_data)[0]

    def cost_derivative(self, output_activations, y):
        """dC_x/da for the quadratic cost: a - y."""
        return output_activations - y


def _print_epoch(record, n, n_test):
    del n
    if "evaluation_accuracy" in record:
        print(f"Epoch {record['epoch']}: {record['evaluation_accuracy']} / {n_test}")
    else:
        print(f"Epoch {record['epoch']} complete")
