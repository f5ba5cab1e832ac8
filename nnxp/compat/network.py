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
or ``net.biases`` (or one of their arrays) takes effect at the next call.  A subclass that
overrides ``update_mini_batch``, ``backprop``, ``cost_derivative``, ``feedforward`` or
``evaluate`` (chapter 2's exercises) is trained by the book's loop calling its methods, and
the methods it keeps call its own as the book's do (nnxp/compat/_shell.py); otherwise SGD
runs on nnxp's engine.  ``evaluate`` counts argmax(feedforward(x)) with the book's sigmoid,
also where outputs saturate.  ``nnxp.diagnose(net, data)`` takes the network as the
nnxp.Network it computes (``__nnxp_network__``).
"""

from __future__ import annotations

import functools

import numpy as np

from ..costs import QuadraticCost
from ..history import print_progress
from . import _shell, _types
from .network2 import sigmoid, sigmoid_prime

__all__ = ["Network", "sigmoid", "sigmoid_prime"]

_PRINT_EPOCH = functools.partial(print_progress, style="network")  # the book's lines


class Network:
    """network.py's Network (see the module docstring)."""

    def __init__(self, sizes):
        self.sizes = _types.sizes(sizes)
        self.num_layers = len(self.sizes)
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def __nnxp_network__(self):
        """This network as an ``nnxp.Network`` (its weights copied, float64 where the device
        has it, on the current backend): ``nnxp.diagnose(net, data)`` takes it through this."""
        return _shell.nnxp_network(self, QuadraticCost)

    def feedforward(self, a):
        """The output for the column ``a`` (n_in, 1): (n_out, 1)."""
        return _shell.output(self, QuadraticCost, a)

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        """Mini-batch SGD as network.py's, on nnxp's engine (or, in a subclass that overrides
        one of the book's methods, the book's loop calling them); prints each epoch as the book.

        >>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)   # doctest: +SKIP
        """
        test_data = _shell.listed(test_data)  # a zip object: evaluated every epoch
        testing = _shell.has_data(test_data)
        options = dict(evaluation_data=test_data if testing else None,
                       monitors={"monitor_evaluation_accuracy": testing}, report=_PRINT_EPOCH)
        if _shell.overridden(self, Network):
            _shell.train_by_methods(
                self, training_data, epochs, mini_batch_size, eta,
                measures={"evaluation_accuracy": lambda: self.evaluate(test_data)},
                update=lambda mini_batch, n: self.update_mini_batch(mini_batch, eta),
                **options)
            return
        _shell.train(self, QuadraticCost, training_data, epochs, mini_batch_size, eta,
                     **options)

    def update_mini_batch(self, mini_batch, eta):
        """One gradient step on the list of (x, y) pairs ``mini_batch`` (through the
        network's own ``backprop`` where a subclass overrides it or ``cost_derivative``)."""
        if _shell.overridden(self, Network, ("backprop", "cost_derivative")):
            _shell.step_by(self, mini_batch, eta, backprop=self.backprop)
        else:
            _shell.step(self, QuadraticCost, mini_batch, eta)

    def backprop(self, x, y):
        """(nabla_b, nabla_w): the gradient of one example's cost, layer by layer (dC/da from
        the network's own ``cost_derivative`` where a subclass overrides it)."""
        own = _shell.overridden(self, Network, ("cost_derivative",))
        return _shell.gradient(self, QuadraticCost, x, y,
                               self.cost_derivative if own else None)

    def evaluate(self, test_data):
        """How many of the (x, label) pairs in ``test_data`` the network classifies right:
        argmax of the output is the label (of the network's own ``feedforward``, example by
        example, where a subclass overrides it)."""
        if _shell.overridden(self, Network, ("feedforward",)):
            return _shell.measure_by(self, QuadraticCost, test_data, self.feedforward)[0]
        return _shell.measure(self, QuadraticCost, test_data)[0]

    def cost_derivative(self, output_activations, y):
        """dC_x/da for the quadratic cost: a - y."""
        return output_activations - y
