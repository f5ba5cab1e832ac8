"""The epoch loop: shuffling, the engine's epochs, monitoring, schedules, early stopping,
checkpoints, callbacks, history.

    train(net, training_data, epochs, mini_batch_size, eta, **options) -> History
    resume(net, training_data, evaluation_data=None, **options) -> History

``Network.SGD`` and ``Network.resume`` are thin layers over these.  Per epoch: draw the
permutation on the host (``numpy.random.Generator``, so every backend sees the same order), move
it to the device, let the engine run every mini-batch, then measure what was asked for (costs
and accuracies reduced on the device; only scalars come back), apply the learning-rate schedule
and early stopping, save the checkpoint, and call the callbacks.

Options beyond network2's (all keyword arguments, all with network2's behaviour by default):

    l1, momentum, nesterov, optimizer   regularization and optimizer (see optimizers.py)
    eta                                 a number, or a function epoch -> eta
    early_stopping=n                    stop when evaluation accuracy has not improved in n
                                        epochs (the book's "no-improvement-in-n" rule)
    schedule=n                          halve eta whenever evaluation accuracy has not improved
                                        in n epochs; stop once eta has fallen to eta/128
    monitor_every=k, monitor_subset=s   also measure evaluation accuracy and cost on the first s
                                        evaluation examples every k mini-batches (fast feedback)
    checkpoint=path                     after every epoch, save everything needed to resume
                                        (parameters, optimizer state, epoch, schedule state,
                                        shuffling RNG, history) atomically to ``path``
    shuffle                             True, False (the given order) or an integer seed
    engine                              "plain", "jax", or None for the backend's best
    callbacks                           callables ``callback(record, net)``; True stops training
    progress                            True prints network2's line per epoch
    health                              True (or a diagnostics.HealthMonitor) checks the network
                                        every epoch and warns about saturation, dead units, ...

``History`` is a tuple of network2's four lists (evaluation_cost, evaluation_accuracy,
training_cost, training_accuracy), so network2 code that unpacks it keeps working, plus
``records`` (one dict per epoch: epoch, eta, seconds, and every metric measured), ``intervals``
(the every-k-mini-batches measurements), ``epoch_seconds``, ``compile_seconds`` (JAX's one-off
compilation, kept apart) and ``stop_reason``.
"""

from __future__ import annotations

import json
import math
import numbers
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .data import Dataset
from .engines import get_engine
from .errors import ConfigError
from .optimizers import Hyper, optimizer_from_name
from .step import make_step

__all__ = ["History", "RunConfig", "train", "resume"]


class History(tuple):
    """network2's (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)."""

    def __new__(cls, records=(), intervals=(), compile_seconds=0.0, stop_reason=None):
        self = super().__new__(cls, ([], [], [], []))
        self.records, self.intervals = [], list(intervals)
        self.compile_seconds, self.stop_reason = compile_seconds, stop_reason
        for record in records:
            self.append(record)
        return self

    evaluation_cost = property(lambda self: self[0])
    evaluation_accuracy = property(lambda self: self[1])
    training_cost = property(lambda self: self[2])
    training_accuracy = property(lambda self: self[3])
    KEYS = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy")

    def append(self, record: dict) -> None:
        """Add one epoch's record (and its metrics to network2's four lists)."""
        self.records.append(record)
        for key, values in zip(self.KEYS, self):
            if key in record:
                values.append(record[key])

    @property
    def epoch_seconds(self) -> list:
        return [r["seconds"] for r in self.records]

    def to_dict(self) -> dict:
        return {"records": self.records, "intervals": self.intervals,
                "compile_seconds": self.compile_seconds, "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(d.get("records", ()), d.get("intervals", ()), d.get("compile_seconds", 0.0),
                   d.get("stop_reason"))

    def save(self, path) -> None:
        """Write the history as JSON (``python -m nnxp.plot`` draws it)."""
        from .io import atomic_write_text
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1))


@dataclass
class RunConfig:
    """What a training run was asked to do: JSON-safe, so a checkpoint can carry it."""

    epochs: int
    mini_batch_size: int
    eta: float
    lmbda: float = 0.0
    l1: float = 0.0
    momentum: float = 0.0
    optimizer: str = "sgd"
    shuffle: bool | int = True
    engine: str | None = None
    early_stopping: int | None = None
    schedule: int | None = None
    monitor_every: int | None = None
    monitor_subset: int | None = None
    monitor_evaluation_cost: bool = False
    monitor_evaluation_accuracy: bool = False
    monitor_training_cost: bool = False
    monitor_training_accuracy: bool = False
    checkpoint: str | None = None


@dataclass
class RunState:
    """Where a training run is: everything besides the parameters that resuming needs."""

    epoch: int = 0                    # epochs completed
    eta: float = 0.0                  # current learning rate (the schedule halves it)
    best_accuracy: float = -1.0       # best evaluation accuracy so far
    since_best: int = 0               # epochs without improvement (early stopping)
    since_change: int = 0             # epochs without improvement since eta last changed
    halvings: int = 0
    stop_reason: str | None = None
    rng_state: dict | None = None     # the shuffling Generator's bit_generator.state
    n_train: int | None = None        # training-set size (weight decay depends on it)
    optimizer_state: object = field(default=None, repr=False)


def _check_number(name, value, *, low=0, strict=True, integer=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite {'integer' if integer else 'number'}, "
                          f"got {value!r}")
    if value < low or (strict and value == low):
        raise ConfigError(f"{name} must be {'>' if strict else '>='} {low}, got {value!r}")
    return value


def _config(epochs, mini_batch_size, eta, lmbda=0.0, l1=0.0, momentum=0.0, nesterov=False,
            optimizer=None, shuffle=True, engine=None, early_stopping=None, schedule=None,
            monitor_every=None, monitor_subset=None, checkpoint=None, evaluation=False,
            **monitors) -> RunConfig:
    _check_number("epochs", epochs, strict=False, integer=True)
    _check_number("mini_batch_size", mini_batch_size, integer=True)
    if not callable(eta):
        _check_number("eta", eta)
    _check_number("lmbda", lmbda, strict=False)
    _check_number("l1", l1, strict=False)
    _check_number("momentum", momentum, strict=False)
    if momentum >= 1.0:
        raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}")
    for name, value in (("early_stopping", early_stopping), ("schedule", schedule),
                        ("monitor_every", monitor_every), ("monitor_subset", monitor_subset)):
        if value is not None:
            _check_number(name, value, integer=True)
    if not (shuffle is True or shuffle is False or isinstance(shuffle, numbers.Integral)):
        raise ConfigError(f"shuffle must be True, False or an integer seed, got {shuffle!r}")
    wants_eval = (monitors.get("monitor_evaluation_cost") or early_stopping or schedule
                  or monitors.get("monitor_evaluation_accuracy") or monitor_every)
    if wants_eval and not evaluation:
        raise ConfigError("monitor_evaluation_cost / monitor_evaluation_accuracy, "
                          "early_stopping, schedule and monitor_every need evaluation_data")
    if callable(eta) and checkpoint:
        raise ConfigError("a checkpoint cannot store a learning-rate function; give eta as a "
                          "number (with schedule=n for the book's halving) or no checkpoint")
    if optimizer is None:
        optimizer = ("nesterov" if nesterov else "momentum") if momentum or nesterov else "sgd"
    optimizer_from_name(optimizer)  # checks the name
    if engine is not None:
        engine = str(engine)
    return RunConfig(epochs=int(epochs), mini_batch_size=int(mini_batch_size),
                     eta=eta if callable(eta) else float(eta), lmbda=float(lmbda),
                     l1=float(l1), momentum=float(momentum), optimizer=str(optimizer),
                     shuffle=shuffle if isinstance(shuffle, bool) else int(shuffle),
                     engine=engine, early_stopping=early_stopping, schedule=schedule,
                     monitor_every=monitor_every, monitor_subset=monitor_subset,
                     checkpoint=None if checkpoint is None else str(checkpoint),
                     **{k: bool(v) for k, v in monitors.items()})


_OPTIONS = {"lmbda", "l1", "momentum", "nesterov", "optimizer", "shuffle", "engine",
            "early_stopping", "schedule", "monitor_every", "monitor_subset", "checkpoint"}


def train(net, training_data, epochs, mini_batch_size, eta, *, evaluation_data=None,
          callbacks=(), progress=False, health=False, **options) -> "History":
    """Mini-batch stochastic gradient descent; see the module docstring and ``Network.SGD``."""
    monitors = {k: options.pop(k) for k in list(options) if k.startswith("monitor_")
                and k not in ("monitor_every", "monitor_subset")}
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ConfigError(f"SGD got unknown keyword arguments {sorted(unknown)}")
    cfg = _config(epochs, mini_batch_size, eta, evaluation=evaluation_data is not None,
                  **options, **monitors)
    opt = optimizer_from_name(cfg.optimizer)
    state = RunState(eta=cfg.eta if not callable(cfg.eta) else 0.0,
                     optimizer_state=opt.init(net.params))
    return _run(net, cfg, state, History(), training_data, evaluation_data, callbacks,
                progress, health)


def resume(net, training_data, evaluation_data=None, *, callbacks=(), progress=False,
           health=False, epochs=None) -> "History":
    """Continue the training run saved in the checkpoint ``net`` was loaded from
    (``nnxp.load(path)``) with the same data; ``epochs`` may extend the run."""
    saved = getattr(net, "checkpoint", None)
    if saved is None:
        raise ConfigError("this network was not loaded from a checkpoint; train it with SGD "
                          "(checkpoint=path) and load it with nnxp.load(path) to resume")
    cfg, state, history = saved
    if state.stop_reason and state.stop_reason.startswith("stopped by a callback"):
        state.stop_reason = None  # a callback's stop is the caller's, not the run's, decision
    if epochs is not None:
        cfg.epochs = _check_number("epochs", epochs, strict=False, integer=True)
    if evaluation_data is None and (cfg.monitor_evaluation_accuracy or cfg.early_stopping
                                    or cfg.schedule or cfg.monitor_evaluation_cost):
        raise ConfigError("this run monitors evaluation data: pass evaluation_data to resume")
    return _run(net, cfg, state, history, training_data, evaluation_data, callbacks, progress,
                health)


def _run(net, cfg, st, history, training_data, evaluation_data, callbacks, progress, health):
    backend = net.backend
    train_set = net.prepare(training_data, "training_data")
    eval_set = (None if evaluation_data is None
                else net.prepare(evaluation_data, "evaluation_data"))
    if st.n_train is not None and st.n_train != train_set.n:
        raise ConfigError(f"this run trained on {st.n_train} examples; resume it with the same "
                          f"training data (got {train_set.n})")
    st.n_train = train_set.n
    engine = _engine(net, cfg)
    rng = _shuffle_rng(net, cfg, st)
    callbacks = list(callbacks)
    if health:
        from .diagnostics import HealthMonitor
        monitor = health if isinstance(health, HealthMonitor) else HealthMonitor()
        monitor.bind(train_set, lmbda=cfg.lmbda)
        callbacks.append(monitor)
    on_chunk = None
    if cfg.monitor_every:
        subset = _subset(eval_set, cfg.monitor_subset)
        on_chunk = _interval_monitor(net, history, subset, st, cfg, progress)
    compile_before = engine.compile_seconds
    params, opt_state = net.params, st.optimizer_state
    while st.epoch < cfg.epochs and st.stop_reason is None:
        eta = float(cfg.eta(st.epoch)) if callable(cfg.eta) else st.eta
        hyper = Hyper(eta=eta, lmbda=cfg.lmbda, n=float(train_set.n),
                      l1=cfg.l1 or None, mu=cfg.momentum)
        order = None if rng is None else backend.asarray(rng.permutation(train_set.n), "index")
        start = time.perf_counter()
        params, opt_state = engine.run_epoch(params, opt_state, train_set, order,
                                             cfg.mini_batch_size, hyper, cfg.monitor_every,
                                             on_chunk)
        backend.synchronize(params)
        compiled = engine.compile_seconds - compile_before
        compile_before = engine.compile_seconds
        history.compile_seconds += compiled
        record = {"epoch": st.epoch, "eta": eta,
                  "seconds": time.perf_counter() - start - compiled}
        net.params, st.optimizer_state = params, opt_state
        st.epoch += 1
        _measure(net, record, train_set, eval_set, cfg)
        _adapt(record, st, cfg)
        stop = any([bool(callback(record, net)) for callback in callbacks])
        if stop and st.stop_reason is None:
            st.stop_reason = f"stopped by a callback after epoch {record['epoch']}"
        history.append(record)
        history.stop_reason = st.stop_reason
        if progress:
            print(_progress_line(record, train_set.n, eval_set), flush=True)
        if cfg.checkpoint:
            from .io import save_checkpoint
            st.rng_state = None if rng is None else rng.bit_generator.state
            save_checkpoint(cfg.checkpoint, net, cfg, st, history)
    return history


def _engine(net, cfg):
    """The network's engine for this optimizer, kept on the network so that repeated SGD
    calls (a learning-rate search, epoch-by-epoch training) reuse JAX's compiled programs."""
    cache = net.__dict__.setdefault("_engines", {})
    key = (cfg.engine, cfg.optimizer)
    if key not in cache:
        opt = optimizer_from_name(cfg.optimizer)
        cache[key] = get_engine(cfg.engine, net.backend,
                                make_step(net.activations, net.cost, opt))
    return cache[key]


def _shuffle_rng(net, cfg, st):
    if cfg.shuffle is False:
        return None
    rng = net.shuffle_rng if cfg.shuffle is True else np.random.default_rng(cfg.shuffle)
    if st.rng_state is not None:  # resuming: continue the saved stream
        rng.bit_generator.state = st.rng_state
    return rng


def _subset(data, size):
    if size is None or size >= data.n:
        return data
    return Dataset(data.x[:size, ...], data.y[:size, ...], data.labels[:size], size)


def _measure(net, record, train_set, eval_set, cfg):
    """The metrics asked for, reduced on the device; evaluation accuracy also when the
    schedule or early stopping needs it."""
    for data, name, want_cost, want_accuracy in (
            (train_set, "training", cfg.monitor_training_cost, cfg.monitor_training_accuracy),
            (eval_set, "evaluation", cfg.monitor_evaluation_cost,
             cfg.monitor_evaluation_accuracy)):
        if want_cost or want_accuracy:
            accuracy, cost = net.measure(data, cfg.lmbda, l1=cfg.l1)  # one pass for both
            if want_cost:
                record[f"{name}_cost"] = cost
            if want_accuracy:
                record[f"{name}_accuracy"] = accuracy
    if (cfg.early_stopping or cfg.schedule) and not cfg.monitor_evaluation_accuracy:
        record["validation_accuracy"] = net.accuracy(eval_set)


def _adapt(record, st, cfg):
    """The book's schedule (halve eta after n epochs without improvement; stop at eta/128) and
    early stopping (stop after n epochs without improvement)."""
    if not (cfg.early_stopping or cfg.schedule):
        return
    accuracy = record.get("evaluation_accuracy", record.get("validation_accuracy"))
    if accuracy > st.best_accuracy:
        st.best_accuracy, st.since_best, st.since_change = accuracy, 0, 0
    else:
        st.since_best += 1
        st.since_change += 1
    if cfg.schedule and st.since_change >= cfg.schedule:
        st.eta, st.halvings, st.since_change = st.eta / 2, st.halvings + 1, 0
        record["eta_next"] = st.eta
        if st.eta <= cfg.eta / 128 * (1 + 1e-12):
            st.stop_reason = (f"learning rate fell to 1/128 of its start ({st.eta:g}) after "
                              f"epoch {record['epoch']}")
    if cfg.early_stopping and st.since_best >= cfg.early_stopping:
        st.stop_reason = (f"no improvement in evaluation accuracy for {cfg.early_stopping} "
                          f"epochs (best {st.best_accuracy}) after epoch {record['epoch']}")


def _interval_monitor(net, history, subset, st, cfg, progress):
    """Every k mini-batches: evaluation accuracy and cost on a subset (the book's advice to get
    feedback faster than once per epoch while exploring hyper-parameters)."""
    def on_chunk(params, batches_done):
        saved, net.params = net.params, params
        try:
            accuracy, cost = net.measure(subset, cfg.lmbda, l1=cfg.l1)
            entry = {"epoch": st.epoch, "mini_batches": batches_done,
                     "evaluation_accuracy": accuracy, "evaluation_cost": cost, "n": subset.n}
        finally:
            net.params = saved
        history.intervals.append(entry)
        if progress:
            print(f"  epoch {entry['epoch']}, mini-batch {batches_done}: accuracy "
                  f"{entry['evaluation_accuracy']} / {subset.n}, cost "
                  f"{entry['evaluation_cost']:.4f}", flush=True)
    return on_chunk


def _progress_line(record, n_train, eval_set) -> str:
    parts = [f"Epoch {record['epoch']} training complete ({record['seconds']:.2f} s)"]
    if "training_cost" in record:
        parts.append(f"cost on training data: {record['training_cost']:.4f}")
    if "training_accuracy" in record:
        parts.append(f"accuracy on training data: {record['training_accuracy']} / {n_train}")
    if "evaluation_cost" in record:
        parts.append(f"cost on evaluation data: {record['evaluation_cost']:.4f}")
    if "evaluation_accuracy" in record:
        parts.append(f"accuracy on evaluation data: {record['evaluation_accuracy']} / "
                     f"{eval_set.n}")
    if "health" in record and record["health"].get("problems"):
        parts.append("health: " + ", ".join(p["kind"] for p in record["health"]["problems"]))
    return "; ".join(parts)


def config_to_dict(cfg: RunConfig) -> dict:
    return asdict(cfg)
