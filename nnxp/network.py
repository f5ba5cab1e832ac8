"""``Network``: network2.py's class, computing on whichever backend is selected.

    net = Network(sizes, cost=CrossEntropyCost, *, activation=Sigmoid, output_activation=None,
                  weight_init=None, bias_init=None, seed=None, dtype="float32")
    net.default_weight_initializer();  net.large_weight_initializer()
    net.feedforward(x)                   x: (n, sizes[0]) -> (n, sizes[-1]); also one example
                                         (sizes[0],) or network2's column (sizes[0], 1)
    net.SGD(training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False, **extras) -> History
    net.accuracy(data) -> int            number of examples classified correctly
    net.total_cost(data, lmbda) -> float network2's total_cost (mean cost + L2 term)
    net.predict(x) -> labels (n,)

Parameters live on the backend's device as ``net.params``, a tuple of (w, b) per layer with
w of shape (n_out, n_in) (network2's layout) and b of shape (n_out,); ``net.weights`` and
``net.biases`` list them.  The backend is fixed when the network is built (the one selected at
that time); data given to it later are moved to that backend once per call.

Randomness: ``seed`` feeds one ``numpy.random.SeedSequence``; initial weights come from its first
child (re-drawn identically by each ``*_weight_initializer`` call, so default and large
initializations of one seed use the same random numbers), shuffling from its second.  Draws
happen on the host, so one seed gives bit-identical networks on every backend.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import backend as _backend
from .activations import Sigmoid, as_activation
from .backprop import feedforward, scores
from .costs import CrossEntropyCost, cost_from_name
from .data import is_backend_array, prepare
from .engines import compiled
from .errors import ConfigError, DataError
from .initializers import default_weight, large_weight, normal_bias
from .io import save
from .training import resume, train

__all__ = ["Network"]


class Network:
    """A feedforward network of fully connected layers (see the module docstring)."""

    def __init__(self, sizes, cost=None, *, activation=None, output_activation=None,
                 weight_init=None, bias_init=None, seed=None, dtype="float32"):
        self.sizes = _check_sizes(sizes)
        self.num_layers = len(self.sizes)
        self.cost = cost_from_name(CrossEntropyCost if cost is None else cost)
        self.activations = _layer_activations(
            Sigmoid if activation is None else activation, output_activation, self.cost,
            self.num_layers - 1)
        self.backend = _backend.current()
        self.dtype = _dtype_name(dtype)
        self.backend.float_dtype(self.dtype)  # refuses a dtype the device lacks
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ConfigError(f"seed must be a non-negative integer or None, got {seed!r}")
        seeds = np.random.SeedSequence(seed)
        self.seed = seeds.entropy
        self._init_seed, shuffle_seed = seeds.spawn(2)
        self.shuffle_rng = np.random.default_rng(shuffle_seed)
        self.weight_init = weight_init or default_weight
        self.bias_init = bias_init or normal_bias
        for name, fn in (("weight_init", self.weight_init), ("bias_init", self.bias_init)):
            if not callable(fn):
                raise ConfigError(f"{name} must be a function (rng, shape) -> array, got {fn!r}")
        self.checkpoint = None  # (config, state, history) when loaded from a checkpoint
        self.initialize(self.weight_init, self.bias_init)

    # -- initial weights ------------------------------------------------------------------
    def initialize(self, weight_init, bias_init=None) -> None:
        """Draw every layer's weights and biases on the host, then move them to the device."""
        rng = np.random.default_rng(self._init_seed)
        params = []
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            w = np.asarray(weight_init(rng, (n_out, n_in)), dtype=np.float64)
            b = np.asarray((bias_init or self.bias_init)(rng, (n_out,)), dtype=np.float64)
            if w.shape != (n_out, n_in) or b.shape != (n_out,):
                raise ConfigError(f"initializers must return shapes {(n_out, n_in)} and "
                                  f"{(n_out,)}, got {w.shape} and {b.shape}")
            params.append((self.backend.asarray(w, self.dtype),
                           self.backend.asarray(b, self.dtype)))
        self.params = tuple(params)

    def default_weight_initializer(self) -> None:
        """Weights N(0, 1/n_in), biases N(0, 1): network2's default (chapter 3)."""
        self.initialize(default_weight, normal_bias)

    def large_weight_initializer(self) -> None:
        """Weights and biases N(0, 1): network2's (and chapter 1's) initialization."""
        self.initialize(large_weight, normal_bias)

    def copy(self) -> "Network":
        """An independent network with the same configuration, parameters and seeds (the
        arrays are shared: nnxp never updates parameters in place)."""
        twin = object.__new__(Network)
        twin.__dict__.update(self.__dict__)
        twin.shuffle_rng = np.random.default_rng()
        twin.shuffle_rng.bit_generator.state = self.shuffle_rng.bit_generator.state
        return twin

    @property
    def weights(self) -> list:
        return [w for w, _ in self.params]

    @property
    def biases(self) -> list:
        return [b for _, b in self.params]

    # -- evaluation -----------------------------------------------------------------------
    def prepare(self, data, name="data"):
        """Check ``data`` against this network and move it to its device (see nnxp.data)."""
        return prepare(data, self.backend, self.dtype, self.sizes[0], self.sizes[-1], name)

    def feedforward(self, x):
        """Output of the network for ``x``: (n, n_in) -> (n, n_out); (n_in,) -> (n_out,);
        network2's column (n_in, 1) -> (n_out, 1)."""
        xp, n_in = self.backend.xp, self.sizes[0]
        if not is_backend_array(x, self.backend):
            x = np.asarray(x)
            if x.dtype.kind not in "fiub":
                raise DataError(f"feedforward: x must hold numbers, got dtype {x.dtype}")
            x = self.backend.asarray(x, self.dtype)
        shape = tuple(x.shape)
        if shape == (n_in,):
            return feedforward(self.params, self.activations, xp.reshape(x, (1, n_in)))[0, ...]
        if shape == (n_in, 1) and n_in != 1:
            out = feedforward(self.params, self.activations, xp.reshape(x, (1, n_in)))
            return xp.reshape(out, (self.sizes[-1], 1))
        if len(shape) == 2 and shape[1] == n_in:
            return feedforward(self.params, self.activations,
                               xp.astype(x, self.backend.float_dtype(self.dtype)))
        raise DataError(f"feedforward: x must have shape (n, {n_in}), ({n_in},) or "
                        f"({n_in}, 1); got {shape}")

    def predict(self, x):
        """The class (argmax of the output) for each row of ``x``."""
        return self.backend.xp.argmax(self.feedforward(x), axis=-1)

    def _scores(self, data) -> list:
        """[hits, summed cost, sum w^2, sum |w|] over a prepared Dataset: one (compiled, on
        JAX) pass and one small device -> host transfer."""
        cache = self.__dict__.setdefault("_engines", {})
        if "scorer" not in cache:
            acts, cost = self.activations, self.cost
            cache["scorer"] = compiled(
                self.backend, lambda p, x, y, labels: scores(p, acts, cost, x, y, labels))
        out = cache["scorer"](self.params, data.x, data.y, data.labels)
        return self.backend.to_numpy(out).tolist()

    def measure(self, data, lmbda=0.0, *, l1=0.0) -> tuple:
        """(accuracy, total_cost) of ``data`` from one pass: what SGD's monitoring uses."""
        data = self.prepare(data)
        hits, cost, squares, absolutes = self._scores(data)
        n = data.n
        return int(hits), cost / n + 0.5 * (lmbda / n) * squares + (l1 / n) * absolutes

    def accuracy(self, data, convert=False) -> int:
        """Number of examples in ``data`` whose output's argmax is the label.  ``convert`` is
        accepted for network2 compatibility and ignored: labels and one-hot rows both work."""
        del convert
        return self.measure(data)[0]

    evaluate = accuracy  # network.py's name

    def total_cost(self, data, lmbda=0.0, convert=False, *, l1=0.0) -> float:
        """network2's total cost: mean of cost.fn over ``data`` plus the regularization terms
        (lmbda/2n) sum w^2 and (l1/n) sum |w|, with n the number of examples in ``data``."""
        del convert
        return self.measure(data, lmbda, l1=l1)[1]

    # -- training -------------------------------------------------------------------------
    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False, **options):
        """Train by mini-batch stochastic gradient descent (network2's signature).

        Returns a ``History`` that unpacks as network2's four lists.  Options beyond
        network2's (see nnxp.training): ``l1``, ``momentum``, ``nesterov``, ``optimizer``,
        ``early_stopping=n``, ``schedule=n``, ``monitor_every=k``, ``monitor_subset=s``,
        ``checkpoint=path``, ``shuffle`` (True, False = the given order, or an int seed),
        ``engine``, ``callbacks``, ``progress``, ``health``.  ``eta`` may be a function of
        the epoch.

        >>> net = Network([784, 30, 10], seed=0)
        >>> history = net.SGD((X, y), 30, 10, 0.5, lmbda=5.0, evaluation_data=(Xv, yv),
        ...                   monitor_evaluation_accuracy=True)   # doctest: +SKIP
        """
        return train(self, training_data, epochs, mini_batch_size, eta, lmbda=lmbda,
                     evaluation_data=evaluation_data,
                     monitor_evaluation_cost=monitor_evaluation_cost,
                     monitor_evaluation_accuracy=monitor_evaluation_accuracy,
                     monitor_training_cost=monitor_training_cost,
                     monitor_training_accuracy=monitor_training_accuracy, **options)

    def resume(self, training_data, evaluation_data=None, **options):
        """Continue the training run of the checkpoint this network was loaded from, on the
        same data, to the end it was given (``epochs=`` extends it).  Returns the whole run's
        History.  >>> nnxp.load("run.json").resume((X, y), (Xv, yv))   # doctest: +SKIP"""
        return resume(self, training_data, evaluation_data, **options)

    def save(self, path) -> None:
        """Save as JSON that network2's ``load`` and ``nnxp.load`` both read (atomic write)."""
        save(self, path)

    def __repr__(self) -> str:
        acts = ", ".join(repr(a) for a in self.activations)
        return (f"Network({self.sizes}, cost={self.cost.name}, activations=[{acts}], "
                f"backend={self.backend.name}, dtype={self.dtype})")


def _dtype_name(dtype) -> str:
    name = _backend._dtype_name(dtype)
    if name not in _backend.FLOAT_DTYPES:
        raise ConfigError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return name


def _check_sizes(sizes) -> list:
    try:
        sizes = list(sizes)
    except TypeError:
        raise ConfigError(f"sizes must be a list of layer widths such as [784, 30, 10], "
                          f"got {sizes!r}") from None
    if len(sizes) < 2 or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                                 and s >= 1 for s in sizes):
        raise ConfigError(f"sizes must list at least two positive integer layer widths "
                          f"(input first, output last), such as [784, 30, 10]; got {sizes!r}")
    return [int(s) for s in sizes]


def _layer_activations(activation, output_activation, cost, n_layers) -> tuple:
    """One Activation per layer: ``activation`` for the hidden layers (or a list, one per
    hidden layer, or one per layer including the output), then the output layer's."""
    if isinstance(activation, (list, tuple)):
        acts = [as_activation(a) for a in activation]
        if len(acts) == n_layers and output_activation is None:
            hidden, output = acts[:-1], acts[-1]
        elif len(acts) == n_layers - 1:
            hidden, output = acts, None
        else:
            raise ConfigError(f"activation lists one activation per hidden layer "
                              f"({n_layers - 1}) or per layer ({n_layers}); got {len(acts)}")
    else:
        hidden, output = [as_activation(activation)] * (n_layers - 1), None
    if output is None:
        output = (output_activation if output_activation is not None
                  else cost.default_output if cost.default_output is not None
                  else (hidden[-1] if hidden else as_activation("Sigmoid")))
    output = as_activation(output)
    if cost.outputs is not None and not isinstance(output, cost.outputs):
        names = " or ".join(c.name for c in cost.outputs)
        raise ConfigError(f"{cost.name} needs a {names} output layer, got {output!r}; "
                          f"use output_activation={cost.outputs[0].name} or QuadraticCost")
    return tuple(hidden) + (output,)

