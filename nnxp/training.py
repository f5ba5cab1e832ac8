"""The epoch loop: shuffling, the engine's epochs, monitoring, callbacks, history.

    train(net, training_data, epochs, mini_batch_size, eta, *, lmbda, l1, momentum, nesterov,
          optimizer, evaluation_data, monitor_*, shuffle, engine, callbacks, progress) -> History

``Network.SGD`` is a thin layer over ``train`` with network2's argument names.  Per epoch:
draw the permutation on the host (``numpy.random.Generator``, so every backend sees the same
order), move it to the device, let the engine run every mini-batch, then measure what was asked
for (costs and accuracies reduced on the device; only scalars come back) and call the callbacks.
A callback is any callable ``callback(record, net)`` receiving the epoch's record (a dict);
returning True stops training after that epoch.

``History`` is a tuple of network2's four lists (evaluation_cost, evaluation_accuracy,
training_cost, training_accuracy), so network2 code that unpacks it keeps working, plus
``records`` (one dict per epoch: epoch, eta, seconds, and every metric measured),
``epoch_seconds``, ``compile_seconds`` (JAX's one-off compilation, kept apart) and
``stop_reason``.
"""

from __future__ import annotations

import json
import math
import numbers
import time

import numpy as np

from .data import prepare
from .engines import get_engine
from .errors import ConfigError
from .optimizers import Hyper, optimizer_from_name
from .step import make_step

__all__ = ["History", "train"]


class History(tuple):
    """network2's (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)."""

    def __new__(cls):
        self = super().__new__(cls, ([], [], [], []))
        self.records, self.compile_seconds, self.stop_reason = [], 0.0, None
        return self

    evaluation_cost = property(lambda self: self[0])
    evaluation_accuracy = property(lambda self: self[1])
    training_cost = property(lambda self: self[2])
    training_accuracy = property(lambda self: self[3])

    @property
    def epoch_seconds(self) -> list:
        return [r["seconds"] for r in self.records]

    def to_dict(self) -> dict:
        return {"records": self.records, "compile_seconds": self.compile_seconds,
                "stop_reason": self.stop_reason}

    def save(self, path) -> None:
        """Write the history as JSON (read by ``python -m nnxp.plot``)."""
        from .io import atomic_write_text
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1))


def _check_number(name, value, *, low=0, strict=True, integer=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite {'integer' if integer else 'number'}, "
                          f"got {value!r}")
    if value < low or (strict and value == low):
        raise ConfigError(f"{name} must be {'>' if strict else '>='} {low}, got {value!r}")
    return value


def train(net, training_data, epochs, mini_batch_size, eta, *, lmbda=0.0, l1=0.0,
          momentum=0.0, nesterov=False, optimizer=None, evaluation_data=None,
          monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
          monitor_training_cost=False, monitor_training_accuracy=False,
          shuffle=True, engine=None, callbacks=(), progress=False) -> History:
    """Mini-batch stochastic gradient descent; see ``Network.SGD`` for the arguments."""
    _check_number("epochs", epochs, strict=False, integer=True)
    _check_number("mini_batch_size", mini_batch_size, integer=True)
    _check_number("eta", eta)
    _check_number("lmbda", lmbda, strict=False)
    _check_number("l1", l1, strict=False)
    _check_number("momentum", momentum, strict=False)
    if momentum >= 1.0:
        raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}")
    if (monitor_evaluation_cost or monitor_evaluation_accuracy) and evaluation_data is None:
        raise ConfigError("monitor_evaluation_cost / monitor_evaluation_accuracy need "
                          "evaluation_data")
    if not (shuffle is True or shuffle is False or isinstance(shuffle, numbers.Integral)):
        raise ConfigError(f"shuffle must be True, False or an integer seed, got {shuffle!r}")

    backend = net.backend
    train_set = net.prepare(training_data, "training_data")
    eval_set = (None if evaluation_data is None
                else net.prepare(evaluation_data, "evaluation_data"))
    if optimizer is None:
        optimizer = ("nesterov" if nesterov else "momentum") if momentum or nesterov else "sgd"
    opt = optimizer_from_name(optimizer)
    eng = get_engine(engine, backend, make_step(net.activations, net.cost, opt))
    rng = (None if shuffle is False else net.shuffle_rng if shuffle is True
           else np.random.default_rng(shuffle))
    hyper = Hyper(eta=float(eta), lmbda=float(lmbda), n=float(train_set.n),
                  l1=float(l1) if l1 else None, mu=float(momentum))

    history = History()
    params, state = net.params, opt.init(net.params)
    for epoch in range(epochs):
        order = None if rng is None else backend.asarray(rng.permutation(train_set.n), "index")
        start = time.perf_counter()
        params, state = eng.run_epoch(params, state, train_set, order, mini_batch_size, hyper)
        backend.synchronize(params)
        record = {"epoch": epoch, "eta": hyper.eta,
                  "seconds": time.perf_counter() - start - eng.compile_seconds
                  + history.compile_seconds}
        history.compile_seconds = eng.compile_seconds
        net.params = params
        _monitor(net, record, history, train_set, eval_set, lmbda, l1,
                 monitor_training_cost, monitor_training_accuracy,
                 monitor_evaluation_cost, monitor_evaluation_accuracy)
        history.records.append(record)
        if progress:
            print(_progress_line(record, train_set.n, None if eval_set is None else eval_set.n),
                  flush=True)
        if any(callback(record, net) for callback in callbacks):
            history.stop_reason = f"stopped by a callback after epoch {epoch}"
            break
    return history


def _monitor(net, record, history, train_set, eval_set, lmbda, l1, training_cost,
             training_accuracy, evaluation_cost, evaluation_accuracy):
    for wanted, key, data, fn in (
            (training_cost, "training_cost", train_set, "cost"),
            (training_accuracy, "training_accuracy", train_set, "accuracy"),
            (evaluation_cost, "evaluation_cost", eval_set, "cost"),
            (evaluation_accuracy, "evaluation_accuracy", eval_set, "accuracy")):
        if wanted:
            value = (net.total_cost(data, lmbda, l1=l1) if fn == "cost"
                     else net.accuracy(data))
            record[key] = value
            getattr(history, key).append(value)


def _progress_line(record, n_train, n_eval) -> str:
    parts = [f"Epoch {record['epoch']} training complete ({record['seconds']:.2f} s)"]
    if "training_cost" in record:
        parts.append(f"cost on training data: {record['training_cost']:.4f}")
    if "training_accuracy" in record:
        parts.append(f"accuracy on training data: {record['training_accuracy']} / {n_train}")
    if "evaluation_cost" in record:
        parts.append(f"cost on evaluation data: {record['evaluation_cost']:.4f}")
    if "evaluation_accuracy" in record:
        parts.append(f"accuracy on evaluation data: {record['evaluation_accuracy']} / {n_eval}")
    return "; ".join(parts)
