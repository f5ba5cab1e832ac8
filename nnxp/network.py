"""``Network``: network2.py's class, a thin stateful shell over the pure core.

    net = Network(sizes, cost=CrossEntropyCost, *, activation=Sigmoid, output_activation=None,
                  weight_init=None, bias_init=None, seed=None, dtype="float32", backend=None)
    net.default_weight_initializer();  net.large_weight_initializer()
    net.feedforward(x)                   x: (n, sizes[0]) -> (n, sizes[-1]); also one example
                                         (sizes[0],), network2's column (sizes[0], 1), or n
                                         images (n, ...) of sizes[0] values (flattened, as
                                         SGD and accuracy flatten them)
    net.SGD(training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False, **options) -> History
    net.resume(training_data, evaluation_data=None, *, checkpoint=None, ...) -> History
    net.accuracy(data) -> int;  net.total_cost(data, lmbda) -> float;  net.predict(x)
                                         predict and accuracy refuse NaN or infinite values
                                         in x or in the parameters (a DataError, never
                                         class 0); feedforward and total_cost compute them
    net.prepare(data) -> Dataset         checked and on the device: SGD takes it again as is
    net.save(path);  nnxp.load(path) -> Network
    pickle.dumps(net)                    the backend by name and host copies of the parameters:
                                         it unpickles onto that backend's default device

Layers: each entry of ``sizes`` after the first (the input size, an int: rows of data stay
flat) is an int, a dense layer with ``activation`` (the last with ``output_activation``), or a
layer object of nnxp.layers (Dense, Softmax, ConvPool, Conv2D, MaxPool2D, Flatten, Reshape):

    net = Network([784, layers.Reshape((1, 28, 28)), layers.ConvPool(20, (5, 5), activation=
                   "ReLU"), layers.Flatten(), layers.Dense(100, "ReLU"), layers.Softmax(10)],
                  cost=LogLikelihoodCost, seed=0)

A list of ints trains through backprop.py (the dense stack, with the backends' fast paths);
a list with a layer object through layers/sequential.py (``net.layers``; the int entries
become Dense layers), with one tuple of parameters per layer (``()`` for Reshape, Flatten,
MaxPool2D) and L2/L1 on every layer's weights.  ``Dense(n, p_dropout=p)`` and
``Softmax(n, p_dropout=p)`` train with network3's dropout (masks on their inputs while training,
the weighted input scaled by 1 - p when evaluating: layers/dense.py, masks.py).
``net.weights``/``net.biases`` of a layered network are
read-only lists over the layers with parameters (set ``net.params`` whole instead); its
initializers are its layers' own (``activation``, ``weight_init`` and ``bias_init`` apply to the int
entries, and are refused where there is none: they would reach no layer);
``diagnose`` and ``health=`` measure it layer by layer (diagnostics/layered.py).

The network holds its spec (sizes, activations, cost, layers), its parameters ``net.params``
(a tuple of (w, b) per layer on the backend's device: w (n_out, n_in) as network2, b (n_out,);
a layered network's per its layers), its
backend (``backend=``: a name such as "jax" or a Backend; None: the one selected when it was
built) and, once trained, the optimizer state of its last
run.  Training is train.fit's (the one path every front end takes); the rest is the core's
(core.py, engines/): ``net.cost = ...``,
``net.weights = [...]`` or a new activation take effect at the next call, because every call
asks the engine for the current spec.

Randomness: ``seed`` feeds one ``numpy.random.SeedSequence``; initial weights come from its first
child (re-drawn identically by each ``*_weight_initializer`` call), shuffling from its second
(``net.shuffle_rng``), dropout masks from its third (``net.mask_rng``, masks.mask_seed; both
streams go on from one SGD call to the next, and a checkpoint saves where they are).
Draws happen on the host, so one seed gives bit-identical networks on every backend.
"""

from __future__ import annotations

import json
import math
import numbers

import numpy as np

from . import backends, checks, core
from .core import layer_activations
from .activations import Sigmoid
from .checkpoint import read_checkpoint
from .costs import CrossEntropyCost, cost_from_name
from .data import check_finite, is_backend_array, prepare
from .engines import engine_for
from .errors import ConfigError, DataError, InputTypeError
from .files import as_path, atomic_write_text
from .formats import MAX_FILE_BYTES, default_dtype
from .history import check_kept, print_progress
from .initializers import default_weight, large_weight, normal_bias
from .io import network_dict, read_network
from .layers.base import Layer, describe
from .loop import engine_finite, total_cost
from .masks import mask_seed
from .plan import check_batches, make_plan
from .train import Resumable, fit

__all__ = ["Network", "load", "network_from_fields", "has_layers", "diverged"]

_OPTIONS = ("l1", "momentum", "nesterov", "optimizer", "shuffle", "engine", "early_stopping",
            "early_stopping_n", "schedule", "monitor_every", "monitor_subset", "checkpoint",
            "callbacks", "progress", "health", "on_divergence", "devices")


def has_layers(sizes) -> bool:
    """Whether a list of sizes holds layer objects (then it trains through sequential.py)."""
    return isinstance(sizes, (list, tuple)) and any(isinstance(e, Layer) for e in sizes)


class Network(Resumable):
    """A feedforward network of dense layers, or of layer objects (see the module
    docstring)."""

    def __init__(self, sizes, cost=None, *, activation=None, output_activation=None,
                 weight_init=None, bias_init=None, seed=None, dtype="float32", backend=None):
        cost = cost_from_name(CrossEntropyCost if cost is None else cost)
        if has_layers(sizes):
            core.check_dense_options(sizes, activation=activation, weight_init=weight_init,
                                     bias_init=bias_init, cost=cost,
                                     output_activation=output_activation)
        activation = Sigmoid if activation is None else activation
        self.layers = None
        if has_layers(sizes):
            spec = core.layered_spec(sizes, activation, output_activation, cost, weight_init,
                                     bias_init)
            self.sizes, self.activations, self.layers = list(spec.sizes), spec.activations, \
                spec.layers
        else:
            self.sizes = checks.sizes(sizes)
            self.activations = layer_activations(activation, output_activation, cost,
                                                 len(self.sizes) - 1)
        self.num_layers = len(self.sizes)
        self.cost = cost
        self.backend = backends.resolve(backend)
        self.dtype = checks.dtype(dtype)
        checks.memory(f"a Network of sizes {checks.show(self.sizes)}", checks.network_bytes(
            self.sizes, 1, self.dtype, core.parameter_count(self.spec)))
        self.backend.float_dtype(self.dtype)  # refuses a dtype the device lacks
        seeds = np.random.SeedSequence(checks.seed(seed))
        self.seed = seeds.entropy
        self._init_seed, shuffle_seed = seeds.spawn(2)
        self.shuffle_rng = np.random.default_rng(shuffle_seed)
        self.mask_rng = np.random.default_rng(mask_seed(self.seed))
        self.weight_init = weight_init or default_weight
        self.bias_init = bias_init or normal_bias
        for name, fn in (("weight_init", self.weight_init), ("bias_init", self.bias_init)):
            if not callable(fn):
                raise ConfigError(f"{name} must be a function (rng, shape) -> array, got "
                                  f"{checks.show(fn)}")
        self.checkpoint = None      # (plan, state, optimizer leaves, history) when resumable
        self.source = None          # the file this network was loaded from
        self.optimizer_state = None  # of the last training run
        self.initialize(self.weight_init, self.bias_init)

    # -- what the network is --------------------------------------------------------------
    @property
    def cost(self):
        return self._cost

    @cost.setter
    def cost(self, value):
        """network2 code sets ``net.cost = CrossEntropyCost``: checked against the output
        layer, used from the next call on."""
        cost = cost_from_name(value)
        if cost.outputs is not None and not isinstance(self.activations[-1], cost.outputs):
            raise ConfigError(f"{cost.name} needs a {' or '.join(c.name for c in cost.outputs)}"
                              f" output layer; this network's is {self.activations[-1]!r}")
        self._cost = cost

    @property
    def spec(self) -> core.Spec:
        return core.Spec(tuple(self.sizes), tuple(self.activations), self.cost, self.layers)

    def engine(self, name=None):
        """The engine for this network as it is now (cached: compiled programs are reused)."""
        return engine_for(self.backend, self.spec, name)

    # -- parameters -----------------------------------------------------------------------
    def initialize(self, weight_init, bias_init=None) -> None:
        """Draw every layer's weights and biases on the host, then move them to the device
        (a layered network: by its layers' own initializers, the only ones it takes)."""
        if self.layers is not None and (weight_init is not self.weight_init or
                                        bias_init not in (None, self.bias_init)):
            raise ConfigError("a layered network's initializers are its layers' own "
                              "(weight_init=, bias_init= of each layer object, or of Network "
                              "for its int entries)")
        host = core.init_params(self.sizes, weight_init, bias_init or self.bias_init,
                                self._init_seed, self.layers, self.dtype)
        self._leave_run()
        self.params = core.to_device(self.backend, host, self.dtype)
        self.optimizer_state = None

    def default_weight_initializer(self) -> None:
        """Weights N(0, 1/n_in), biases N(0, 1): network2's default (chapter 3).  A layered
        network's layers take these initializers in place of their own (every layer with
        weights), as network2's call re-draws every layer."""
        self._reinitialize(default_weight, normal_bias)

    def large_weight_initializer(self) -> None:
        """Weights and biases N(0, 1): network2's (and chapter 1's) initialization (a layered
        network's layers take them, as default_weight_initializer's)."""
        self._reinitialize(large_weight, normal_bias)

    def _reinitialize(self, weight_init, bias_init) -> None:
        """``initialize`` with these initializers; a layered network's layers carry their own,
        so each layer with weights is replaced by one with these (it re-drew the layers' own:
        a diagnosis's "re-initialize with net.default_weight_initializer()" changed nothing)."""
        if self.layers is not None:
            swap = {id(layer): _with_initializers(layer, weight_init, bias_init)
                    for layer in self.layers}
            self.layers = tuple(swap[id(layer)] for layer in self.layers)
            self.sizes = [swap.get(id(entry), entry) for entry in self.sizes]
            self.weight_init, self.bias_init = weight_init, bias_init
        self.initialize(weight_init, bias_init)

    @property
    def params(self) -> tuple:
        """One tuple of arrays per layer: (w, b) for a dense one, a layer's own otherwise.  Set
        it whole, shaped as now: a DataError names the first layer or array that is not (one
        of another shape trained or predicted wrongly, or crashed, and its save could not be
        loaded)."""
        return self.__dict__["params"]

    @params.setter
    def params(self, value):
        shaped = _shaped_as(core.param_shapes(self.spec), value)
        if "backend" in self.__dict__:  # host arrays (NumPy's) go to the network's device
            shaped = tuple(tuple(a if self.backend.owns(a) else
                                 self.backend.asarray(np.asarray(a), self.dtype)
                                 for a in layer) for layer in shaped)
        self.__dict__["params"] = shaped

    @property
    def weights(self) -> list:
        return [p[0] for p in self.params if len(p)]

    @weights.setter
    def weights(self, values):
        self.params = tuple(zip(self._layer_arrays("weights", values, 0), self.biases))

    @property
    def biases(self) -> list:
        return [p[1] for p in self.params if len(p) > 1]

    @biases.setter
    def biases(self, values):
        self.params = tuple(zip(self.weights, self._layer_arrays("biases", values, 1)))

    def _layer_arrays(self, what, values, which) -> list:
        """New weights or biases (host or backend arrays, biases (n,) or (n, 1)), checked."""
        if self.layers is not None:
            raise ConfigError(f"net.{what} of a layered network is read-only: set net.params "
                              "whole (one tuple of arrays per layer, shaped as now)")
        values = list(values) if isinstance(values, (list, tuple)) else None
        if values is None or len(values) != self.num_layers - 1:
            raise DataError(f"net.{what} must be a list of {self.num_layers - 1} arrays")
        arrays = []
        for l, v in enumerate(values):
            shape = ((self.sizes[l + 1], self.sizes[l]), (self.sizes[l + 1],))[which]
            a = self.backend.to_numpy(v) if is_backend_array(v, self.backend) else np.asarray(v)
            if a.dtype.kind not in "fiu" or a.reshape(-1).shape[0] != int(np.prod(shape)) or (
                    a.shape != shape and not (which and a.shape == shape + (1,))):
                raise DataError(f"net.{what}[{l}] must be numbers of shape {shape}"
                                f"{' or ' + str(shape + (1,)) if which else ''}; got "
                                f"{checks.show(a)} of dtype {a.dtype}")
            a = self.backend.host(a.reshape(shape), self.dtype)
            if not np.isfinite(a).all():
                raise DataError(f"net.{what}[{l}] contains NaN or infinite values")
            arrays.append(self.backend.asarray(a))
        self._leave_run()
        self.optimizer_state = None
        return arrays

    def copy(self) -> "Network":
        """An independent network with the same spec, parameters and seeds (arrays are shared:
        nnxp never updates parameters in place)."""
        twin = object.__new__(Network)
        twin.__dict__.update(self.__dict__)
        twin.shuffle_rng = np.random.default_rng()
        twin.shuffle_rng.bit_generator.state = self.shuffle_rng.bit_generator.state
        twin.mask_rng = np.random.default_rng()
        twin.mask_rng.bit_generator.state = self.mask_rng.bit_generator.state
        return twin

    # -- evaluation -----------------------------------------------------------------------
    def prepare(self, data, name="data"):
        """``data`` checked against this network and moved to its device (nnxp.data): give
        the result to SGD, accuracy, ... again to skip the checks and the transfer."""
        return prepare(data, self.backend, self.dtype, self.sizes[0], self.sizes[-1], name)

    def feedforward(self, x):
        """Output of the network for ``x``: (n, n_in) -> (n, n_out); (n_in,) -> (n_out,);
        network2's column (n_in, 1) -> (n_out, 1); n images (n, ...) of n_in values each ->
        (n, n_out).  Values are not checked, as in arithmetic:
        a NaN input gives NaN outputs, an infinite one NaN or saturated outputs, and so do
        parameters that are not finite (a run that diverged with ``on_divergence="continue"``)
        (``predict`` and ``accuracy`` refuse all of these)."""
        rows, shape = self._rows(x, "feedforward")
        return self._unshape(self._apply(rows), shape)

    def predict(self, x):
        """The class (argmax of the output; of the output layer's weighted input z where its
        activation keeps z's order, which is the same class without the ties rounding makes
        among saturated outputs) for each row of ``x`` (n, n_in) -> (n,); one class
        (a 0-d array) for one example (n_in,) or network2's column (n_in, 1).
        NaN or infinite values in ``x`` (in the network's dtype: 1e39 is infinite in
        float32) are a DataError naming the first one's row and column, and so are parameters
        that are not finite (a diverged run): argmax of NaN outputs would answer class 0."""
        rows, shape = self._rows(x, "predict")
        engine = self.engine()
        if not engine.finite(rows):  # (compiled: op by op it kept programs per batch size)
            check_finite(self.backend.xp, rows, "predict", self.dtype, self.backend.to_numpy,
                         what="x")
        self._check_parameters("predict")
        classes = engine.classes(self.params, rows)
        one = len(shape) == 1 or (len(shape) == 2 and shape[1] != self.sizes[0])
        return classes[0] if one else classes

    def _rows(self, x, what):
        """``x`` as rows (m, n_in) of the compute dtype on the device, and its given shape:
        (n, n_in), (n_in,), network2's column (n_in, 1), or n images (n, ...) of n_in values
        each (flattened, as nnxp.data flattens them for SGD and accuracy); anything else is a
        DataError."""
        xp, n_in = self.backend.xp, self.sizes[0]
        if not is_backend_array(x, self.backend):
            try:
                x = np.asarray(x)
            except (TypeError, ValueError):   # ragged, e.g. the pair (X, y) for X
                raise DataError(f"{what}: x must be an array of numbers, got "
                                f"{checks.show(x)}") from None
            if x.dtype.kind not in "fiub":
                raise DataError(f"{what}: x must hold numbers, got dtype {x.dtype}")
            x = self.backend.asarray(x, self.dtype)
        shape = tuple(x.shape)
        x = xp.astype(x, self.backend.float_dtype(self.dtype))
        if shape == (n_in,) or (shape == (n_in, 1) and n_in != 1):
            return xp.reshape(x, (1, n_in)), shape
        if len(shape) == 2 and shape[1] == n_in:
            return x, shape
        if len(shape) >= 3 and math.prod(shape[1:]) == n_in:  # images, as SGD and accuracy
            return xp.reshape(x, (shape[0], n_in)), shape     # flatten them (nnxp.data)
        raise DataError(f"{what}: x must have shape (n, {n_in}), ({n_in},) or ({n_in}, 1), or "
                        f"be n images of {n_in} values; got {shape}")

    def _apply(self, rows):
        return self.engine().apply(self.params, rows)

    def _unshape(self, out, shape):
        """Outputs (m, n_out) in the input's form: rows, one example (n_in,), or a column."""
        if len(shape) == 1:
            return out[0, ...]
        if len(shape) == 2 and shape[1] != self.sizes[0]:   # network2's column (n_in, 1)
            return self.backend.xp.reshape(out, (self.sizes[-1], 1))
        return out

    def _check_parameters(self, what) -> None:
        """A DataError when a parameter is NaN or infinite (one reduction, one transfer)."""
        if not bool(engine_finite(self.engine(), self.params, 1)[0]):
            raise DataError(diverged(what, self.backend, self.params))

    def _scores(self, data, lmbda, l1):
        """(scores, n, lmbda, l1): backprop.scores' row for ``data``, from one pass."""
        data = self.prepare(data)
        lmbda = checks.number("lmbda", lmbda, strict=False)
        l1 = checks.number("l1", l1, strict=False)
        return self.engine().scores(self.params, data), data.n, lmbda, l1

    def _hits(self, scores, what) -> int:
        """The accuracy in ``scores``; parameters that are not finite (the row's last entry,
        measured in the same pass) are a DataError: it would count argmax = class 0."""
        if not scores[4] > 0:
            raise DataError(diverged(what, self.backend, self.params))
        return int(scores[0])

    def measure(self, data, lmbda=0.0, *, l1=0.0) -> tuple:
        """(accuracy, total_cost) of ``data`` from one pass, the one SGD's monitoring makes;
        parameters that are not finite are a DataError, as for ``accuracy`` (the training
        loop records a divergence instead: loop.py)."""
        scores, n, lmbda, l1 = self._scores(data, lmbda, l1)
        return self._hits(scores, "measure"), total_cost(scores, n, lmbda, l1)

    def accuracy(self, data, convert=False) -> int:
        """Number of examples in ``data`` whose class (``predict``'s) is the label.  ``convert`` is
        accepted for network2 compatibility and ignored: labels and one-hot rows both work.
        NaN or infinite values, in the data or in the parameters (a run that diverged with
        ``on_divergence="continue"``), are a DataError, not a count of class 0."""
        del convert
        return self._hits(self._scores(data, 0.0, 0.0)[0], "accuracy")

    evaluate = accuracy  # network.py's name

    def total_cost(self, data, lmbda=0.0, convert=False, *, l1=0.0) -> float:
        """network2's total cost: mean of cost.fn over ``data`` plus the regularization terms
        (lmbda/2n) sum w^2 and (l1/n) sum |w|, with n the number of examples in ``data``
        (NaN or infinite for parameters that are not finite: visible as such)."""
        del convert
        scores, n, lmbda, l1 = self._scores(data, lmbda, l1)
        return total_cost(scores, n, lmbda, l1)

    # -- training -------------------------------------------------------------------------
    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False, **options):
        """Train by mini-batch stochastic gradient descent (network2's signature).

        Returns a ``History`` that unpacks as network2's four lists.  Options beyond
        network2's: ``l1``; ``optimizer`` (nnxp.sgd(), nnxp.momentum(mu), nnxp.nesterov(mu),
        or a name) or the shorthands ``momentum=mu``, ``nesterov=True``; ``early_stopping=n``
        (also network2 ports' ``early_stopping_n``); ``schedule=n`` (halve eta after n epochs
        without improvement, stop at eta/128); ``monitor_every=k`` (below an epoch's
        mini-batches), ``monitor_subset=s`` (with monitor_every only);
        ``checkpoint=path``; ``shuffle`` (True, False = the given order, or an int seed);
        ``engine``; ``callbacks`` (``callback(record, net)``: True stops, False or None goes
        on, anything else is a ConfigError); ``progress``;
        ``health``; ``on_divergence`` ("stop", the default, or "continue"); ``devices`` (JAX:
        a number of devices or a list of them, each mini-batch split over them; see
        engines/jax_mesh.py).  ``eta`` may be a function of the epoch.

        >>> net = Network([784, 30, 10], seed=0)
        >>> history = net.SGD((X, y), 30, 10, 0.5, lmbda=5.0, evaluation_data=(Xv, yv),
        ...                   monitor_evaluation_accuracy=True)   # doctest: +SKIP
        """
        checks.unknown("SGD", options, _OPTIONS)
        extras = {k: options.pop(k) for k in ("callbacks", "progress", "health", "checkpoint",
                                              "devices") if k in options}
        _early_stopping_n(options)
        plan, optimizer = make_plan(
            epochs, mini_batch_size, eta, lmbda=lmbda, evaluation=evaluation_data is not None,
            checkpoint=extras.get("checkpoint") is not None,
            monitor_evaluation_cost=monitor_evaluation_cost,
            monitor_evaluation_accuracy=monitor_evaluation_accuracy,
            monitor_training_cost=monitor_training_cost,
            monitor_training_accuracy=monitor_training_accuracy, **options)
        train_set = self.prepare(training_data, "training_data")
        check_batches(plan, train_set.n)
        eval_set = (None if evaluation_data is None
                    else self.prepare(evaluation_data, "evaluation_data"))
        return self._fit(plan, optimizer, train_set, eval_set, None, leave=True, **extras)[1]

    _loader = "nnxp.load"
    _resume_options = ("callbacks", "progress", "health", "devices")

    @staticmethod
    def _load(path, dtype):
        return load(path, dtype=dtype)

    def _fit(self, plan, optimizer, train_set, eval_set, resume, *, checkpoint=None,
             callbacks=(), progress=False, health=False, devices=None, leave=False):
        """train.fit with this network's view: callbacks ``callback(record, net)`` (True
        stops), the health monitor, the progress line; -> (RunState, History).  ``leave``:
        a new run (SGD), which leaves a loaded one when it first changes the parameters, not
        before (a refused option, such as bad ``devices=``, leaves it resumable)."""
        callbacks = checks.callables("callbacks", callbacks, "callback(record, net)")
        progress = checks.flag("progress", progress)
        from .diagnostics import HealthMonitor
        if not (health is None or isinstance(health, HealthMonitor)):
            try:  # a flag: True, False, 0, 1, np.True_
                health = checks.flag("health", health)
            except ConfigError:
                raise InputTypeError(f"health must be True, False (or None) or a nnxp."
                                     f"diagnostics.HealthMonitor, got {checks.show(health)}"
                                     ) from None
        if health:
            callbacks.append(health if isinstance(health, HealthMonitor) else HealthMonitor())
        for callback in callbacks:   # every monitor: this run's data (unless it was given a
            if isinstance(callback, HealthMonitor):   # probe) and lmbda (unless given one)
                callback.bind(train_set, lmbda=plan.lmbda, net=self)

        def hold(backend, params, opt_state):
            if leave:
                self._leave_run()
            self.backend, self.params, self.optimizer_state = backend, params, opt_state

        def after_epoch(records, active):
            record, kept, held = records[0], dict(records[0]), self.params
            verdicts = []
            for callback in callbacks:   # every callback is called
                verdicts.append(_stops(callback, callback(record, self), kept["epoch"]))
                check_kept(kept, record, f"the callback {_callback_name(callback)}")
                check_held(held, self, f"the callback {_callback_name(callback)}")
            return [0] if any(verdicts) else None

        def show(records, active):
            print_progress(records[0], train_set.n, None if eval_set is None else eval_set.n)

        _, _, state, histories = fit(
            self.spec, self.params, plan, optimizer, train_set, eval_set, backend=self.backend,
            dtype=self.dtype, resume=resume, stream=self.shuffle_rng, devices=devices,
            hold=hold, after_epoch=after_epoch, progress=show if progress else None,
            checkpoint=checkpoint, seed=self.seed, masks=self.mask_rng)
        return state, histories[0]

    # -- files ----------------------------------------------------------------------------
    def save(self, path) -> None:
        """Save as JSON that network2's ``load`` and ``nnxp.load`` both read (atomic write).
        Parameters that are NaN or infinite (a run that diverged with
        ``on_divergence="continue"``) are a DataError and nothing is written: ``nnxp.load``
        refuses such a file, and a file already at ``path`` is kept."""
        path = as_path(path, "network")
        host = core.to_host(self.backend, self.params)
        for i, layer in enumerate(host):
            for j, a in enumerate(layer):
                if not np.isfinite(a).all():
                    raise DataError(f"cannot save the network at {path!r}: layer {i}'s "
                                    f"parameters[{j}] hold NaN or infinite values (training "
                                    "diverged), which nnxp.load refuses; nothing was written")
        atomic_write_text(path, json.dumps(network_dict(self.spec, host, self.dtype, self.seed)),
                          what="network")

    def __getstate__(self):
        """Pickles hold host copies of the parameters and the backend's name: a network
        unpickles onto that backend's default device (multiprocessing, Dask, joblib), in its
        dtype (float64 turns JAX's x64 on, as building it did)."""
        return pickled_state(self)

    def __setstate__(self, state):
        state = dict(state)
        state.setdefault("layers", None)  # pickled before layered networks existed
        state.setdefault("mask_rng", np.random.default_rng(mask_seed(state["seed"])))
        self.__dict__.update(unpickled_state(state))

    def __repr__(self) -> str:
        if self.layers is not None:
            return (f"Network([{self.sizes[0]}, {', '.join(map(describe, self.layers))}], "
                    f"cost={self.cost.name}, backend={self.backend.name}, dtype={self.dtype})")
        acts = ", ".join(repr(a) for a in self.activations)
        return (f"Network({self.sizes}, cost={self.cost.name}, activations=[{acts}], "
                f"backend={self.backend.name}, dtype={self.dtype})")


def _with_initializers(layer, weight_init, bias_init):
    """``layer`` with these initializers where it has weights (its dataclass fields
    weight_init and bias_init), else ``layer`` itself."""
    import dataclasses
    names = {f.name for f in dataclasses.fields(layer)} if dataclasses.is_dataclass(layer) \
        else set()
    if "weight_init" not in names:
        return layer
    change = {"weight_init": weight_init, **({"bias_init": bias_init} if "bias_init" in names
                                             else {})}
    return dataclasses.replace(layer, **change)


def _shaped_as(shapes, value) -> tuple:
    """``value`` as a tuple of per-layer tuples, each array of the shape in ``shapes``
    (core.param_shapes), or a DataError naming the first that differs."""
    if not isinstance(value, (tuple, list)) or len(value) != len(shapes):
        raise DataError(f"net.params must hold {len(shapes)} layers' parameters (a tuple of "
                        f"arrays per layer, shaped as now), got {checks.show(value)}")
    out = []
    for i, (layer, want) in enumerate(zip(value, shapes)):
        if not isinstance(layer, (tuple, list)) or len(layer) != len(want):
            raise DataError(f"net.params[{i}] must hold {len(want)} arrays of shapes "
                            f"{[tuple(s) for s in want]}, got {checks.show(layer)}")
        for j, (a, shape) in enumerate(zip(layer, want)):
            if not hasattr(a, "shape") or tuple(a.shape) != tuple(shape):
                raise DataError(f"net.params[{i}][{j}] should have shape {tuple(shape)}, got "
                                f"{checks.show(a)}")
        out.append(tuple(layer))
    return tuple(out)


def diverged(what, backend, params, members=None) -> str:
    """The message for a network (or ``members`` of a population) whose parameters are not
    finite, naming the first such layer (located on the host: an error path only)."""
    where = ""
    if members is None:
        host = core.to_host(backend, params)
        where = next((f" (layer {i}'s parameters[{j}] hold NaN or infinite values)"
                      for i, layer in enumerate(host) for j, a in enumerate(layer)
                      if not np.isfinite(a).all()), "")
    who = ("the network's parameters are" if members is None else
           f"the parameters of member{'s' if len(members) > 1 else ''} "
           f"{checks.clip(', '.join(map(str, members)))} are")
    return (f"{what}: {who} not finite{where}: training diverged (with "
            "on_divergence='continue'), or they were set so.  The outputs are NaN, whose "
            "argmax would answer class 0 for every example, or saturated.  Train again with a "
            "smaller eta (nnxp.find_learning_rate finds the threshold), or keep "
            "on_divergence='stop' (the default), which keeps the last finite parameters")


def pickled_state(obj) -> dict:
    """A Network's or Population's ``__dict__`` for a pickle: the backend by name, host copies
    of the parameters, no optimizer state (``unpickled_state`` reverses it)."""
    state = dict(obj.__dict__)
    state["backend"] = obj.backend.name
    state["params"] = core.to_host(obj.backend, obj.params)
    state["optimizer_state"] = None
    return state


def unpickled_state(state) -> dict:
    """``pickled_state``'s dict with the backend loaded (its default device) and the
    parameters on it, in their dtype (in a fresh process JAX would make float64 float32)."""
    state = dict(state)
    backend = state["backend"] = backends.load(state["backend"])
    state["params"] = tuple(tuple(backend.asarray(a, state.get("dtype")) for a in layer)
                            for layer in state["params"])
    return state


def _early_stopping_n(options) -> None:
    """network2 ports' ``early_stopping_n=n`` as ``early_stopping=n`` in ``options``: 0 or None
    is off (the ports' default); anything else is checked as early_stopping is, never read as
    a truth value ("" was off, "3" an error), and given beside a different early_stopping it
    is a ConfigError (it was dropped without a word)."""
    if "early_stopping_n" not in options:
        return
    n = options.pop("early_stopping_n")
    if n is None or (isinstance(n, numbers.Integral) and not isinstance(n, bool) and n == 0):
        return
    n = checks.optional_int("early_stopping_n", n)
    given = options.get("early_stopping")
    if given is not None and given != n:
        raise ConfigError(f"early_stopping_n={n} and early_stopping={checks.show(given)} name "
                          "the same option (early_stopping_n is network2 ports' name): give "
                          "one of them")
    options["early_stopping"] = n


def check_held(held, model, who) -> None:
    """A ConfigError when ``who`` (a callback) replaced the parameters of the network or
    population being trained (net.weights = ..., net.params = ..., an SGD call): training goes
    on from its own, so the change would be lost without a word."""
    if model.params is not held:
        raise ConfigError(f"{who} replaced the parameters being trained (net.weights, "
                          f"net.params, or an SGD call inside the callback): the run would "
                          f"go on from its own and lose them without a word.  To change the "
                          f"weights, stop the run (return True), set them, then call SGD "
                          f"again")


def _callback_name(callback) -> str:
    return getattr(callback, "__qualname__", None) or type(callback).__name__


def _stops(callback, value, epoch) -> bool:
    """A callback's verdict: True stops, False or None goes on (NumPy's booleans and 0 / 1 as
    such); anything else (a string such as "continue", the record) is a ConfigError rather
    than a truth value."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    if value is None:
        return False
    try:
        return checks.flag("verdict", value)
    except ConfigError:
        raise ConfigError(f"the callback {_callback_name(callback)} (after epoch {epoch}) must return True (stop) "
                          f"or False / None (go on), got {checks.show(value)}") from None


def load(path, *, dtype=None, max_bytes=MAX_FILE_BYTES) -> Network:
    """A Network from an nnxp file, an nnxp checkpoint, or a network2 file, on the selected
    backend.  ``dtype`` overrides the file's (network2 files: see nnxp.io); files larger than
    ``max_bytes`` are refused unread.  Every field is checked before anything is built."""
    if dtype is not None:
        dtype = checks.dtype(dtype)
    where = as_path(path, "network file")
    fields = read_network(where, dtype=dtype, default_dtype=default_dtype(backends.current()),
                          max_bytes=max_bytes)
    return network_from_fields(fields, where)


def network_from_fields(fields, where) -> Network:
    """The Network of a checked file (formats.NetworkFields), drawing no random weights; its
    checkpoint, if any, is read and checked field by field (checkpoint.py)."""
    net = object.__new__(Network)
    try:
        net.__dict__.update(_shell_fields(fields))
    except ConfigError as exc:  # e.g. an output activation the cost cannot use
        raise DataError(f"{where!r}: {exc}") from None
    host = fields.params if fields.layers is not None else tuple(zip(fields.weights,
                                                                     fields.biases))
    net.params = core.to_device(net.backend, host, net.dtype)
    if fields.checkpoint is not None:
        net._hold_run(read_checkpoint(fields.checkpoint, where, net.params))
    net.source = where
    return net


def _shell_fields(f) -> dict:
    """A Network's attributes for a loaded file, built without drawing initial weights."""
    net = Network.__new__(Network)
    net.layers = None
    if f.layers is not None:
        spec = core.layered_spec([f.sizes[0], *f.layers], Sigmoid, None, f.cost)
        net.sizes, net.activations, net.layers = list(spec.sizes), spec.activations, spec.layers
    else:
        acts = f.activations if f.activations is not None else [Sigmoid] * (len(f.sizes) - 1)
        net.sizes = f.sizes
        net.activations = layer_activations(acts, None, f.cost, len(f.sizes) - 1)
    net.num_layers = len(net.sizes)
    net.cost = f.cost
    net.backend = backends.current()
    net.dtype = checks.dtype(f.dtype)
    net.backend.float_dtype(net.dtype)
    seeds = np.random.SeedSequence(f.seed)
    net.seed = seeds.entropy
    net._init_seed, shuffle_seed = seeds.spawn(2)
    net.shuffle_rng = np.random.default_rng(shuffle_seed)
    net.mask_rng = np.random.default_rng(mask_seed(net.seed))
    net.weight_init, net.bias_init = default_weight, normal_bias
    net.checkpoint, net.source, net.optimizer_state = None, None, None
    return net.__dict__
