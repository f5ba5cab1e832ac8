"""``Population``: K networks of one shape trained at once, as one set of arrays, on any
backend, by the same math as one network (backprop.py is rank-polymorphic).

    pop = Population(sizes, seeds=[0, 1, 2, 3], cost=CrossEntropyCost, *, activation=Sigmoid,
                     output_activation=None, weight_init=None, bias_init=None, dtype="float32",
                     backend=None, max_memory=None)
    histories = pop.SGD(training_data, epochs, mini_batch_size, eta, lmbda=0.0,
                        evaluation_data=None, monitor_...=False, *, l1=0.0, momentum=None,
                        nesterov=False, optimizer=None, early_stopping=None, schedule=None,
                        monitor_every=None, monitor_subset=None, shuffle=True, engine=None,
                        callbacks=(), progress=False, on_divergence="stop", devices=None,
                        checkpoint=None)
                        -> [History] * K
    pop[k] -> Network          member k on its own (its parameters, spec, seed)
    pop.best(metric="evaluation_accuracy") -> Network    the member whose last record is best
                                         (diverged members passed over)
    pop.resume(training_data, evaluation_data=None, *, checkpoint=None, epochs=None, ...)
    load_population(path) -> Population    (also Population.load) from SGD(checkpoint=path)
    pop.feedforward(x) -> (K, n, n_out)  x: (n, n_in), or n images (n, ...) of n_in values
    pop.accuracy(data) -> [K ints];  pop.total_cost(...)
    pop.vote(x) -> (n,) NumPy ints        the members' plurality vote per row (see below)
                                          (vote and accuracy: a DataError for NaN or infinite
                                          values in x or in a member's parameters)
    len(pop), pop.seeds, pop.params ((w (K, n_out, n_in), b (K, n_out)) per layer), pop.histories
    pickle.dumps(pop)                    as a Network's: onto the backend's default device

eta, lmbda, l1 and momentum are each one number for every member or a sequence of K, one per
member (eta may also be a function of the epoch returning one or K).  Every member sees the same
mini-batches in the same order (one x of shape (m, n_in) broadcast through matmul, never copied
per member); ``shuffle=seed`` draws that order from ``numpy.random.default_rng(seed)``, exactly as
``Network.SGD(shuffle=seed)`` does, and ``shuffle=True`` uses the first member's own stream.
Early stopping, the schedule and divergence act per member: a stopped member's parameters stay
frozen while the others train.  ``devices`` (JAX: a number of devices or a list of them) splits
the members over several devices, K/D each, as one program (engines/jax_mesh.py).

Layers: ``sizes`` may hold layer objects as Network's does (``Population([784,
layers.Reshape((1, 28, 28)), layers.ConvPool(20, 5), layers.Flatten(), layers.Softmax(10)],
seeds=range(5), cost=LogLikelihoodCost)``): K convolutional networks as one program
(layers/sequential.py is rank-polymorphic over the member axis), chapter 6's ensemble.
``pop.vote(x)`` is its plurality vote: per row the class most members predict, a tie going to
the class of the lowest-numbered member among the tied ones (the book's conv.py rule,
``Counter.most_common``).

Member k equals ``Network(sizes, seed=seeds[k], ...)`` trained alone with the same shuffle seed
and its own hyper-parameters: its initial weights come from the same draws, and its arithmetic
is the same (bit for bit on NumPy; tests/test_population.py).  With dropout each member draws
its masks from its own seed's stream (masks.mask_seed(seeds[k])), exactly the masks that
network alone draws; both streams go on from one SGD call to the next, as a Network's do.

``callback(records, pop)`` gets the epoch's K records (None for a stopped member) and returns
which members to stop: None or False (none), True (every member), a list of member indices in
[0, K) (a tuple, set, range or 1-D integer array too; ``[3]`` for member 3 alone), or a boolean
mask of exactly K values (a list of bools or a 1-D boolean array, True = stop).  Anything else
(a bare int, a negative or out-of-range index, 2.0, a string, a mask of another length) is a
ConfigError naming the callback and the epoch (checks.members).

``max_memory`` bounds K x the network's size before any seed list or parameter is made
(checks.memory: by default the machine's memory, or NNXP_MAX_MEMORY; ``math.inf`` for no
bound): a ConfigError gives the estimate.  ``eta``, ``lmbda``, ``l1`` and ``momentum`` sequences
are ordered (a list, tuple or 1-D array): a set or a dict is refused.

Checkpoints: ``SGD(..., checkpoint=path)`` writes the whole population and its run after every
epoch, atomically, to one file (io.population_dict: each member's network file, plus the run:
checkpoint.py); ``pop = nnxp.load_population(path)`` (or ``Population.load(path)``) reads it,
every field checked, and ``pop.resume(training_data, evaluation_data, epochs=None,
checkpoint=None, other_data=False)`` goes on bit for bit where an uninterrupted run would be,
as Network.resume does (train.py).  ``pop[k]`` of a loaded file is member k as a Network.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import backends, checks, core
from .activations import Sigmoid
from .costs import CrossEntropyCost, cost_from_name
from .data import check_finite, is_backend_array, prepare
from .engines import engine_for
from .errors import ConfigError, DataError
from .history import History, check_kept, members_line
from .initializers import default_weight, normal_bias
from .loop import engine_finite, total_cost
from .core import layer_activations
from .diagnostics.health import HealthMonitor
from .network import (Network, check_held, diverged, has_layers, pickled_state,
                      unpickled_state)
from .checkpoint import read_checkpoint
from .files import as_path, read_json
from .formats import MAX_FILE_BYTES, check_network_dict, default_dtype
from .io import POPULATION, VERSION
from .layers.base import describe, layer_config
from .masks import mask_seed
from .plan import check_batches, make_plan
from .train import Resumable, fit

__all__ = ["Population", "load_population"]

_METRICS = ("evaluation_accuracy", "evaluation_cost", "training_accuracy", "training_cost",
            "validation_accuracy")   # what a record may hold that best() can rank
_OPTIONS = ("l1", "momentum", "nesterov", "optimizer", "shuffle", "engine", "early_stopping",
            "schedule", "monitor_every", "monitor_subset", "callbacks", "progress",
            "on_divergence", "devices", "checkpoint")


class Population(Resumable):
    """K networks of one shape trained as one program (see the module docstring)."""

    def __init__(self, sizes, seeds, cost=None, *, activation=None, output_activation=None,
                 weight_init=None, bias_init=None, dtype="float32", backend=None,
                 max_memory=None):
        self.cost = cost_from_name(CrossEntropyCost if cost is None else cost)
        for name, fn in (("weight_init", weight_init), ("bias_init", bias_init)):
            if fn is not None and not callable(fn):  # as Network: before K members are drawn
                raise ConfigError(f"{name} must be a function (rng, shape) -> array, got "
                                  f"{checks.show(fn)}")
        if has_layers(sizes):
            core.check_dense_options(sizes, activation=activation, weight_init=weight_init,
                                     bias_init=bias_init, cost=self.cost,
                                     output_activation=output_activation)
        activation = Sigmoid if activation is None else activation
        self.layers = None
        if has_layers(sizes):
            spec = core.layered_spec(sizes, activation, output_activation, self.cost,
                                     weight_init, bias_init)
            self.sizes, self.activations, self.layers = list(spec.sizes), spec.activations, \
                spec.layers
        else:
            self.sizes = checks.sizes(sizes)
            self.activations = layer_activations(activation, output_activation, self.cost,
                                                 len(self.sizes) - 1)
        self.dtype = checks.dtype(dtype)
        self.seeds = _seeds(seeds, self.sizes, self.dtype, max_memory,
                            core.parameter_count(self.spec))
        if not self.seeds or None in self.seeds:
            raise ConfigError(f"seeds must list at least one non-negative integer per member, "
                              f"got {checks.show(seeds)}")
        self.backend = backends.resolve(backend)
        self.backend.float_dtype(self.dtype)
        self.weight_init = weight_init or default_weight
        self.bias_init = bias_init or normal_bias
        members = [core.init_params(self.sizes, self.weight_init, self.bias_init,
                                    np.random.SeedSequence(s).spawn(2)[0], self.layers,
                                    self.dtype)
                   for s in self.seeds]
        self.params = core.to_device(self.backend, core.stack_params(members), self.dtype)
        self._new_streams()
        self.histories = self.optimizer_state = self.checkpoint = self.source = None

    def _new_streams(self) -> None:
        """The shuffling stream (the first member's, as ``Network(seed=seeds[0])`` has it) and
        each member's dropout stream, fresh from the seeds; every SGD call draws on from
        where the last one left them, as a Network's own streams do."""
        self.shuffle_rng = np.random.default_rng(
            np.random.SeedSequence(self.seeds[0]).spawn(2)[1])
        self.mask_rngs = [np.random.default_rng(mask_seed(s)) for s in self.seeds]

    def __len__(self) -> int:
        return len(self.seeds)

    @property
    def spec(self) -> core.Spec:
        return core.Spec(tuple(self.sizes), tuple(self.activations), self.cost, self.layers)

    def _entries(self) -> list:
        """What Network takes as sizes for one member."""
        return self.sizes if self.layers is None else [self.sizes[0], *self.layers]

    def engine(self, name=None):
        return engine_for(self.backend, self.spec, name)

    # -- members --------------------------------------------------------------------------
    def __getitem__(self, k) -> Network:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not \
                -len(self) <= k < len(self):
            raise ConfigError(f"member index must be an integer in [0, {len(self)}), got "
                              f"{checks.show(k)}")
        k = int(k) % len(self)
        dense = self.layers is None
        home = self.backend.single()  # in a callback of a run on a mesh: the population's own
        net = Network(self._entries(), self.cost,
                      activation=list(self.activations) if dense else None,
                      seed=self.seeds[k], dtype=self.dtype, backend=home,
                      weight_init=self.weight_init if dense else None,
                      bias_init=self.bias_init if dense else None)
        xp = self.backend.xp  # a copy: the network is its own, not a view into the population
        params = tuple(tuple(xp.asarray(a[k, ...], copy=True) for a in layer)
                       for layer in self.params)
        net.params = params if home is self.backend else \
            core.to_device(home, core.to_host(self.backend, params), self.dtype)
        if self.histories is not None:
            net.history = self.histories[k]
        return net

    def __iter__(self):
        """The members, pop[0] to pop[K - 1] (each a Network of its own)."""
        return (self[k] for k in range(len(self)))

    def best(self, metric="evaluation_accuracy") -> Network:
        """The member whose history has the best value of ``metric`` (the highest accuracy,
        the lowest cost) at its last epoch; its History is ``net.history``.  A diverged
        epoch's record measured parameters that were not kept (on_divergence="stop" keeps
        those of the epoch before), so a member's last epoch is its last one not diverged;
        a member whose parameters are not finite, or whose value there is NaN
        (on_divergence="continue"), is not a candidate."""
        if not isinstance(metric, str) or metric not in _METRICS:
            raise ConfigError(f"metric must be one of {', '.join(_METRICS)}; got "
                              f"{checks.show(metric)}")
        if self.histories is None:
            raise ConfigError("train the population first (pop.SGD); best() compares its "
                              "histories")
        values, recorded = [], False
        finite = engine_finite(self.engine(), self.params, len(self))
        for history, ok in zip(self.histories, finite):
            series = [r[metric] for r in history.records
                      if metric in r and not r.get("diverged")]
            recorded = recorded or any(metric in r for r in history.records)
            usable = ok and series and not math.isnan(series[-1])
            values.append(series[-1] if usable else None)
        if not recorded:
            raise ConfigError(f"no member recorded {metric!r}; monitor it in SGD (e.g. "
                              f"monitor_evaluation_accuracy=True)")
        if all(v is None for v in values):
            raise ConfigError(f"no member has a {metric} to compare: every member diverged "
                              f"(NaN, or stopped in its first epoch); see pop.histories[k]."
                              f"stop_reason")
        sign = -1.0 if metric.endswith("cost") else 1.0
        k = max((i for i, v in enumerate(values) if v is not None),
                key=lambda i: (sign * values[i], -i))
        return self[k]

    # -- evaluation -----------------------------------------------------------------------
    def prepare(self, data, name="data"):
        return prepare(data, self.backend, self.dtype, self.sizes[0], self.sizes[-1], name)

    def feedforward(self, x):
        """Every member's output for the rows of ``x`` (n, n_in): shape (K, n, n_out).  Values
        are not checked: a NaN input gives NaN outputs, an infinite one NaN or saturated
        outputs (``vote`` and ``accuracy`` refuse both)."""
        return self.engine().apply(self.params, self._rows(x, "feedforward"))

    def _rows(self, x, what):
        """``x`` (n, n_in), or n images of n_in values (flattened, as nnxp.data flattens
        them), as an array of the compute dtype on the device, or a DataError."""
        given, on_device = x, is_backend_array(x, self.backend)
        if on_device:  # checked as host data is: a wrong shape met the library's matmul
            numbers = self.backend.xp.isdtype(x.dtype, ("bool", "integral", "real floating"))
        else:
            try:
                x = np.asarray(x)
            except (TypeError, ValueError):   # ragged, e.g. the pair (X, y) for X
                x = np.asarray(None)
            numbers = x.dtype.kind in "fiub"
        n_in = self.sizes[0]
        if numbers and x.ndim >= 3 and math.prod(x.shape[1:]) == n_in:  # n images, flattened
            x = (self.backend.xp if on_device else np).reshape(x, (x.shape[0], n_in))
        if not numbers or x.ndim != 2 or x.shape[1] != n_in:
            raise DataError(f"{what}: x must be numbers of shape (n, {n_in}) (or n images "
                            f"of {n_in} values), got {checks.show(given)}")
        if not on_device:
            return self.backend.asarray(x, self.dtype)
        return self.backend.xp.astype(x, self.backend.float_dtype(self.dtype))

    def vote(self, x):
        """The members' plurality vote for each row of ``x`` (n, n_in), as a NumPy array of
        n class indices: the class most members predict, a tie going to the class of the
        lowest-numbered member among the tied ones (the book's conv.py ensemble).  NaN or
        infinite values in ``x`` (in the population's dtype) are a DataError naming the first
        one's row and column, and so is a member whose parameters are not finite."""
        x = self._rows(x, "vote")
        check_finite(self.backend.xp, x, "vote", self.dtype, self.backend.to_numpy, what="x")
        self._check_parameters("vote", engine_finite(self.engine(), self.params, len(self)))
        predictions = self._classes(x)
        k, n = predictions.shape
        counts = np.zeros((n, self.sizes[-1]), dtype=np.int64)
        np.add.at(counts, (np.arange(n)[None, :].repeat(k, 0), predictions), 1)
        tied = counts[np.arange(n)[None, :], predictions] == counts.max(axis=1)[None, :]
        first = np.argmax(tied, axis=0)  # the lowest member whose class has the most votes
        return predictions[first, np.arange(n)]

    def _classes(self, x):
        """Every member's class for each row of ``x`` (K, n), as NumPy: as each member's
        predict (core.classes)."""
        return np.asarray(self.backend.to_numpy(self.engine().classes(self.params, x)))

    def _scores(self, data):
        return self.engine().scores(self.params, self.prepare(data)).reshape(len(self), 5)

    def _check_parameters(self, what, finite) -> None:
        """A DataError naming the members whose parameters are not finite (``finite``: one
        flag per member, measured on the device)."""
        members = [k for k, ok in enumerate(finite) if not ok > 0]
        if members:
            raise DataError(diverged(what, self.backend, self.params, members) +
                            "; pop[k] is member k alone, to use the others")

    def accuracy(self, data) -> list:
        """Per member, the number of examples of ``data`` classified correctly.  NaN or
        infinite values, in the data or in a member's parameters (a run that diverged with
        ``on_divergence="continue"``), are a DataError, not a count of class 0."""
        scores = self._scores(data)
        self._check_parameters("accuracy", scores[:, 4])
        return [int(row[0]) for row in scores]

    def total_cost(self, data, lmbda=0.0, *, l1=0.0) -> list:
        """Per member, network2's total cost of ``data`` (lmbda, l1: one or one per member)."""
        data = self.prepare(data)
        k = len(self)
        lmbdas = checks.per_member("lmbda", lmbda, k, lambda n, v: checks.number(n, v, strict=False))
        l1s = checks.per_member("l1", l1, k, lambda n, v: checks.number(n, v, strict=False))
        each = lambda v: v if isinstance(v, list) else [v] * k
        return [total_cost(row, data.n, a, b)
                for row, a, b in zip(self._scores(data), each(lmbdas), each(l1s))]

    # -- training -------------------------------------------------------------------------
    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False, **options):
        """Train every member by mini-batch SGD, as one program; returns one History per
        member (see the module docstring)."""
        checks.unknown("Population.SGD", options, _OPTIONS)
        extras = {k: options.pop(k) for k in ("callbacks", "progress", "checkpoint", "devices")
                  if k in options}
        plan, optimizer = make_plan(
            epochs, mini_batch_size, eta, members=len(self), lmbda=lmbda,
            evaluation=evaluation_data is not None,
            checkpoint=extras.get("checkpoint") is not None,
            monitor_evaluation_cost=monitor_evaluation_cost,
            monitor_evaluation_accuracy=monitor_evaluation_accuracy,
            monitor_training_cost=monitor_training_cost,
            monitor_training_accuracy=monitor_training_accuracy, **options)
        train_set = self.prepare(training_data, "training_data")
        check_batches(plan, train_set.n)
        eval_set = (None if evaluation_data is None
                    else self.prepare(evaluation_data, "evaluation_data"))
        self._fit(plan, optimizer, train_set, eval_set, None, leave=True, **extras)
        return self.histories

    _loader = "nnxp.load_population"
    _resume_options = ("callbacks", "progress", "devices")

    @staticmethod
    def _load(path, dtype):
        return load_population(path, dtype=dtype)

    def _resumable(self, plan, state, histories) -> None:
        super()._resumable(plan, state, histories)
        self.histories = histories

    def _rewind(self, path) -> None:
        super()._rewind(path)
        self.histories = None if self.checkpoint is None else self.checkpoint[3]

    def _fit(self, plan, optimizer, train_set, eval_set, resume, *, checkpoint=None,
             callbacks=(), progress=False, devices=None, leave=False):
        """train.fit with this population's view: ``callback(records, pop)`` naming members to
        stop (checks.members), the progress line.  ``leave``: a new run (SGD), with new
        histories, which leaves a loaded one when it first changes the parameters, not before
        (a refused option leaves it resumable)."""
        callbacks, k = checks.callables("callbacks", callbacks,
                                                      "callback(records, pop)"), len(self)
        progress = checks.flag("progress", progress)
        if any(isinstance(callback, HealthMonitor) for callback in callbacks):
            raise ConfigError("a HealthMonitor diagnoses one network, not a population: train "
                              "or diagnose a member on its own (pop[k], nnxp.diagnose(pop[k], "
                              "data))")

        histories = [History() for _ in range(k)] if leave else self.histories

        def hold(backend, params, opt_state):
            if leave:
                self._leave_run()
                self.histories = histories
            self.backend, self.params, self.optimizer_state = backend, params, opt_state

        def after_epoch(records, active):
            stops, epoch = set(), records[0]["epoch"]
            shown = [r if a else None for r, a in zip(records, active)]
            kept, held = [dict(r) for r in records], self.params
            for callback in callbacks:
                stops.update(checks.members(callback(shown, self), k, f"the callback "
                                            f"{_name(callback)} (after epoch {epoch})"))
                for before, record in zip(kept, records):
                    check_kept(before, record, f"the callback {_name(callback)}")
                check_held(held, self, f"the callback {_name(callback)}")
            return sorted(stops)

        def report(records, active):
            print(members_line(records, active, None if eval_set is None else eval_set.n),
                  flush=True)

        fit(self.spec, self.params, plan, optimizer, train_set, eval_set, backend=self.backend,
            dtype=self.dtype, members=k, resume=resume, histories=histories,
            stream=self.shuffle_rng, masks=self.mask_rngs, devices=devices, hold=hold,
            after_epoch=after_epoch, progress=report if progress else None,
            checkpoint=checkpoint, seed=self.seeds)

    @staticmethod
    def load(path, **options) -> "Population":
        """nnxp.load_population(path, **options)."""
        return load_population(path, **options)

    def __getstate__(self):
        """As a Network's: the backend by name and host copies of the parameters; a
        population unpickles onto that backend's default device, in its dtype."""
        return pickled_state(self)

    def __setstate__(self, state):
        self.__dict__.update(unpickled_state(state))
        if "shuffle_rng" not in self.__dict__:  # pickled by an nnxp before the streams
            self.__dict__.pop("_shuffle_seed", None)
            self._new_streams()

    def __repr__(self) -> str:
        shape = self.sizes if self.layers is None else \
            f"[{self.sizes[0]}, {', '.join(map(describe, self.layers))}]"
        return (f"Population({len(self)} x {shape}, cost={self.cost.name}, "
                f"backend={self.backend.name}, dtype={self.dtype})")


def _seeds(seeds, sizes, dtype, max_memory, count=None) -> list:
    """The members' seeds, checked, once K x the network's size is known to fit in memory
    (bounded before any seed list or parameter is made: ``seeds=range(10**9)`` costs nothing)."""
    if isinstance(seeds, (str, bytes, dict, set, frozenset)) or not hasattr(seeds, "__iter__") \
            or getattr(seeds, "ndim", None) == 0:  # a 0-d array iterates only to fail
        raise ConfigError(f"seeds must be a list of integer seeds, one per member (e.g. "
                          f"range(16)); got {checks.show(seeds)}")
    one, bound = checks.network_bytes(sizes, 1, dtype, count), None
    if hasattr(seeds, "__len__"):
        k = len(seeds)
    else:  # an iterator: read no more of it than can fit
        limit, _ = checks.memory_limit() if max_memory is None else (max_memory, None)
        bound = None if limit is None or limit == math.inf else int(limit // one) + 1
        seeds = list(itertools.islice(seeds, bound))
        k = len(seeds)
    many = f"at least {k:,}" if bound is not None and k == bound else f"{k:,}"
    checks.memory(f"a Population of {many} members of sizes {checks.show(sizes)}",
                  checks.network_bytes(sizes, k, dtype, count), max_memory)
    return [checks.seed(s) for s in seeds]


def _name(callback) -> str:
    return getattr(callback, "__qualname__", None) or type(callback).__name__


def load_population(path, *, dtype=None, max_bytes=MAX_FILE_BYTES) -> Population:
    """A Population from a file written by ``SGD(checkpoint=path)`` (io.population_dict), on
    the selected backend, every member checked as a network file (formats.py) and the run as
    a checkpoint (checkpoint.py), field by field, before anything is built; ``dtype``
    overrides the file's, files larger than ``max_bytes`` are refused unread."""
    if dtype is not None:
        dtype = checks.dtype(dtype)
    where = as_path(path, "population file")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ConfigError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
    d = read_json(where, max_bytes=max_bytes, what="population file")
    if not isinstance(d, dict) or d.get("format") != POPULATION or d.get("version") != VERSION \
            or isinstance(d.get("version"), bool):  # true == 1
        raise DataError(f"{where!r} is not a population file (format {POPULATION!r}, version "
                        f"{VERSION}); a network file loads with nnxp.load")
    members = d.get("members")
    if not isinstance(members, list) or not members:
        raise DataError(f"{where!r}: field 'members' must list the members' network files")
    backend = backends.current()
    fields = [check_network_dict(m, f"{where} members[{i}]", dtype=dtype,
                                 default_dtype=default_dtype(backend))
              for i, m in enumerate(members)]
    _same_members(fields, where)
    pop = object.__new__(Population)
    first = fields[0]
    pop.sizes, pop.dtype, pop.seeds = first.sizes, checks.dtype(first.dtype), \
        [f.seed for f in fields]
    pop.cost, pop.backend = first.cost, backend
    pop.layers = first.layers
    acts = first.activations or [Sigmoid] * (len(pop.sizes) - 1)
    try:
        pop.activations = (layer_activations(acts, None, pop.cost, len(pop.sizes) - 1)
                           if pop.layers is None else
                           tuple(getattr(l, "activation", None) for l in pop.layers))
        pop.backend.float_dtype(pop.dtype)
    except ConfigError as exc:
        raise DataError(f"{where!r}: {exc}") from None
    pop.weight_init, pop.bias_init = default_weight, normal_bias
    host = [f.params if f.layers is not None else tuple(zip(f.weights, f.biases))
            for f in fields]
    pop.params = core.to_device(backend, core.stack_params(host), pop.dtype)
    pop._new_streams()
    pop.histories = pop.optimizer_state = pop.checkpoint = None
    pop.source = where
    if d.get("checkpoint") is not None:
        pop._hold_run(read_checkpoint(d["checkpoint"], where, pop.params, len(pop)))
        pop.histories = pop.checkpoint[3]
    return pop


def _same_members(fields, where) -> None:
    """One shape, cost, activations and dtype for every member, and each member's seed."""
    def kind(f):
        acts = None if f.activations is None else [a.to_dict() for a in f.activations]
        layers = None if f.layers is None else [layer_config(l) for l in f.layers]
        return f.sizes, f.cost.name, acts, f.dtype, layers
    for i, f in enumerate(fields):
        if kind(f) != kind(fields[0]):
            raise DataError(f"{where!r}: members[{i}] differs from members[0] in sizes, cost, "
                            f"activations, layers or dtype; a population's members share them")
        if f.seed is None:
            raise DataError(f"{where!r}: members[{i}] has no seed (a population draws its "
                            f"shuffling from its members' seeds)")
