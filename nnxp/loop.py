"""The epoch loop, for one network or a population of K members trained as one program: the
same mini-batches in the same order for every member, each with its own hyper-parameters,
schedule, early stopping and divergence check.  It takes arrays and plain data, never a Network.

    RunState(trackers, epoch=0, rng_state=None, n_train=None, data=None, mask_states=None)
                                                                            where it is
    run(engine, transform, params, opt_state, plan, state, histories, train_set, eval_set, *,
        backend, dtype, members=None, orders=None, after_epoch=None, save=None,
        progress=None, masks=None) -> (params, opt_state)

``plan`` is a plan.Plan; ``orders(epoch)`` gives the epoch's permutation as a host array, or
None for the given order; ``masks`` the run's masks.MaskStream for a network with dropout
(None without): the engine draws each mini-batch's masks from it, for every member, stopped
or not, so that each member's stream stays its own network's.

Per epoch:
  1. each member's eta (a number; the schedule's current value; or eta(epoch)) goes into the
     optimizer state's dict of hyper-parameters (optimizers.set_hyper: data, so no
     recompilation);
  2. the order: a permutation drawn on the host (``orders``: the same on every backend) and
     moved to the device once, or the given order;
  3. the engine runs every mini-batch (with ``monitor_every=k``, the evaluation subset is
     measured every k mini-batches);
  4. what was asked for is measured on the device, one pass per data set, and the parameters
     are checked to be finite (one small transfer); a member whose parameters are not finite
     gets its last finite parameters and optimizer state back and stops
     (``on_divergence="stop"``, the default; "continue" keeps training, as before);
  5. the schedule and early stopping (stopping.Tracker), ``after_epoch`` (the shell's
     callbacks; it may stop members), ``progress``, ``save`` (checkpoints).
A stopped member's parameters stay frozen while the others go on; the run ends when every
member has stopped or the epochs are done.  ``members`` is None for one network (parameters
without a member axis) and K for a population.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import numpy as np

from .checks import each, number, show
from .core import all_finite, select
from .data import Dataset
from .errors import ConfigError
from .history import interval_line
from .optimizers import set_hyper
from .stopping import Tracker

__all__ = ["RunState", "run", "fresh_state", "total_cost"]


@dataclass
class RunState:
    """Where a training run is: everything besides arrays that resuming needs."""

    trackers: list
    epoch: int = 0                    # epochs completed
    rng_state: dict | None = None     # the shuffling Generator's bit_generator.state
    n_train: int | None = None        # training-set size (weight decay depends on it)
    data: str | None = None           # the training data's fingerprint (checkpoint.py)
    mask_states: list | None = None   # dropout: each member's mask Generator state (masks.py)

    @property
    def stop_reason(self):
        reasons = [t.stop_reason for t in self.trackers]
        return reasons[0] if len(reasons) == 1 else None

    def active(self) -> list:
        return [t.stop_reason is None for t in self.trackers]


def eta_values(plan, state, epoch) -> list:
    """Each member's eta for ``epoch``: a function's value, checked, or the tracker's."""
    k = len(state.trackers)
    if not callable(plan.eta):
        return [t.eta for t in state.trackers]
    try:
        value = plan.eta(epoch)
    except Exception as exc:
        raise ConfigError(f"the eta function raised {type(exc).__name__} at epoch {epoch}: "
                          f"{show(str(exc))}") from exc
    if getattr(value, "ndim", None) == 1 and hasattr(value, "tolist"):
        value = value.tolist()  # one per member as an array, as eta itself may be given
    values = each(value, k)
    if len(values) != k:
        raise ConfigError(f"the eta function must return one number or {k} (one per member) "
                          f"at epoch {epoch}; got {len(values)}")
    return [number(f"eta({epoch})", v) for v in values]


def _hyper(backend, dtype, values, members):
    host = np.asarray(values[0] if members is None else values, dtype=np.float64)
    return backend.asarray(host, dtype)


def run(engine, transform, params, opt_state, plan, state, histories, train_set, eval_set, *,
        backend, dtype, members=None, orders=None, after_epoch=None, save=None,
        progress=None, masks=None):
    """Train until ``plan.epochs`` or every member has stopped (see the module docstring)."""
    subset = eval_set
    if eval_set is not None and plan.monitor_subset and plan.monitor_subset < eval_set.n:
        s = plan.monitor_subset
        subset = Dataset(eval_set.x[:s, ...], eval_set.y[:s, ...], eval_set.labels[:s], s)
    on_chunk = None
    if plan.monitor_every:
        on_chunk = _chunk_monitor(engine, plan, state, histories, subset, train_set.n,
                                  members, progress)
    compile_before = engine.compile_seconds
    while state.epoch < plan.epochs and any(state.active()):
        epoch = state.epoch
        etas = eta_values(plan, state, epoch)
        opt_state = set_hyper(opt_state, eta=_hyper(backend, dtype, etas, members))
        host_order = None if orders is None else orders(epoch)
        order = None if host_order is None else backend.asarray(host_order, "index")
        start = time.perf_counter()
        with _quiet(plan):
            new_params, new_state = engine.run_epoch(transform, params, opt_state, train_set,
                                                     order, plan.mini_batch_size,
                                                     plan.monitor_every, on_chunk,
                                                     masks=masks)
            backend.synchronize(new_params)
        compiled = engine.compile_seconds - compile_before
        compile_before = engine.compile_seconds
        seconds = time.perf_counter() - start - compiled
        state.epoch += 1
        with _quiet(plan):
            records, finite = _measure(engine, plan, new_params, train_set, eval_set, epoch,
                                       etas, seconds, members)
        active = state.active()
        for k, (tracker, record) in enumerate(zip(state.trackers, records)):
            if not active[k]:
                continue
            if not finite[k] and plan.on_divergence == "stop":
                tracker.diverged(epoch, etas[k])
                record["diverged"] = True
                continue
            accuracy = record.get("evaluation_accuracy", record.get("validation_accuracy"))
            if tracker.observe(accuracy, epoch, plan.early_stopping, plan.schedule):
                record["eta_next"] = tracker.eta
        keep = [a and (f or plan.on_divergence != "stop") for a, f in zip(active, finite)]
        params, opt_state = _keep(backend, keep, members, (new_params, new_state),
                                  (params, opt_state))
        for k, history in enumerate(histories):
            if active[k]:
                history.append(records[k])
                history.compile_seconds += compiled
        if after_epoch is not None:
            after_epoch(records, active, params, opt_state)
        for k, history in enumerate(histories):
            history.stop_reason = state.trackers[k].stop_reason
        if progress is not None:
            progress(records, active)
        if save is not None:
            save(params, opt_state)
    return params, opt_state


def _quiet(plan):
    """Overflow in a diverging epoch is detected and reported by the loop (stop_reason, with
    advice), so NumPy's own overflow warnings would only repeat it, less clearly."""
    if plan.on_divergence == "stop":
        return np.errstate(over="ignore", invalid="ignore", divide="ignore")
    return contextlib.nullcontext()


def _keep(backend, keep, members, new, old):
    """``new`` for the members in ``keep``, ``old`` for the others (frozen or diverged)."""
    if all(keep):
        return new
    if members is None:
        return old
    mask = backend.asarray(np.asarray(keep), None)
    return select(mask, new, old)


def _measure(engine, plan, params, train_set, eval_set, epoch, etas, seconds, members):
    """One record per member, and whether each member's parameters are finite."""
    k = 1 if members is None else members
    records = [{"epoch": epoch, "eta": etas[i], "seconds": seconds} for i in range(k)]
    finite = None
    decay_terms = [(l, l1) for l, l1 in zip(each(plan.lmbda, k), each(plan.l1, k))]
    for data, name, want_cost, want_accuracy in (
            (train_set, "training", plan.monitor_training_cost, plan.monitor_training_accuracy),
            (eval_set, "evaluation", plan.monitor_evaluation_cost,
             plan.monitor_evaluation_accuracy or plan.early_stopping or plan.schedule)):
        if not (want_cost or want_accuracy) or data is None:
            continue
        scores = engine.scores(params, data).reshape(k, 5)
        finite = scores[:, 4] > 0
        for i, (lmbda, l1) in enumerate(decay_terms):
            hits, cost = scores[i, 0], total_cost(scores[i], data.n, lmbda, l1)
            if want_cost:
                records[i][f"{name}_cost"] = cost
                if not math.isfinite(cost):
                    finite[i] = False
            if name == "training" and want_accuracy:
                records[i]["training_accuracy"] = int(hits)
            elif name == "evaluation" and plan.monitor_evaluation_accuracy:
                records[i]["evaluation_accuracy"] = int(hits)
            elif name == "evaluation":
                records[i]["validation_accuracy"] = int(hits)
    if finite is None:
        finite = engine_finite(engine, params, k)
    return records, [bool(f) for f in finite]


def engine_finite(engine, params, k):
    """Whether each member's parameters are all finite: one reduction, one transfer."""
    with engine.backend.device_scope():
        spec = engine.spec
        out = engine.function("finite", lambda: lambda p: all_finite(spec, p))(params)
    return np.asarray(engine.backend.to_numpy(out)).reshape(k)


def total_cost(scores, n, lmbda=0.0, l1=0.0) -> float:
    """network2's total cost from one row of scores: the mean cost plus (lmbda/2n) sum w^2
    plus (l1/n) sum |w|, n the number of examples measured."""
    return float(scores[1] / n + 0.5 * (lmbda / n) * scores[2] + (l1 / n) * scores[3])


def _chunk_monitor(engine, plan, state, histories, subset, n_train, members, progress):
    """Every k mini-batches: evaluation accuracy and cost on a subset (the book's advice to get
    feedback faster than once per epoch while exploring hyper-parameters)."""
    k = 1 if members is None else members

    def on_chunk(params, batches_done):
        scores = engine.scores(params, subset).reshape(k, 5)
        active = state.active()
        for i, (lmbda, l1) in enumerate(zip(each(plan.lmbda, k), each(plan.l1, k))):
            if not active[i]:
                continue
            entry = {"epoch": state.epoch, "mini_batches": batches_done,
                     "evaluation_accuracy": int(scores[i, 0]),
                     "evaluation_cost": total_cost(scores[i], subset.n, lmbda, l1),
                     "n": subset.n}
            histories[i].intervals.append(entry)
            if progress is not None and members is None:
                print(interval_line(entry), flush=True)
    return on_chunk


def fresh_state(etas) -> RunState:
    return RunState([Tracker(float(e)) for e in etas])
