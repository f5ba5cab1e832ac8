"""What runs on a worker: one group of trials trained as one Population, from scratch or from
where each member stopped (successive halving continues promoted trials).

    Task(shape, members, starts, epochs, shuffle_seed, options, backend, keep_state)
    MemberState(params, leaves, tracker, history, epoch)     a member where it stopped: host
                                                             NumPy parameters (w, b) per layer,
                                                             optimizer-state leaves, its
                                                             stopping.Tracker and History as
                                                             dicts, epochs done
    run_group(task, data=None) -> [outcome]     one dict per member, in order:
        {"trial", "history" (dict), "stop_reason", "seconds", "error", "state"}

``data`` is ``((X, Y), (Xv, Yv))`` on the host (Y: desired outputs, one row per example), or
None for the data this process received when it started (executors.py).  A group that raises
is run again member by member, so that one bad trial is recorded with its error and the others
train; nothing raised by training leaves this function.  Everything in a Task and an outcome is
plain data that pickles (any executor, Dask).

Continuing a member means: its parameters, its optimizer state (momentum's velocity), its
tracker (schedule, early stopping), its history, and the shuffling stream advanced by the epochs
done, so a trial trained 1 + 2 epochs equals the same trial trained 3 epochs at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import backends
from ..history import History
from ..loop import RunState, fresh_state, run
from ..optimizers import hyper_of, set_hyper, tree_leaves, tree_unflatten
from ..plan import make_plan, transform_for
from ..population import Population
from ..stopping import Tracker

__all__ = ["Task", "MemberState", "run_group", "set_worker_data"]

_worker_data = {"data": None}
_prepared: dict = {}


@dataclass
class MemberState:
    params: list
    leaves: list
    tracker: dict
    history: dict
    epoch: int


@dataclass
class Task:
    shape: dict                  # sizes, activation, cost, dtype, mini_batch_size, weight_init,
                                 # optimizer ("sgd" | "momentum" | "nesterov"), l1 (bool)
    members: list                # [{"trial", "seed", "eta", "lmbda", "l1", "momentum"}]
    starts: list | None          # [MemberState] to continue, or None to start afresh
    epochs: int                  # train until this many epochs in all
    shuffle_seed: int
    options: dict = field(default_factory=dict)   # early_stopping, schedule, monitor_every,
                                                  # monitor_subset, engine
    backend: str = "numpy"
    keep_state: bool = False
    key: tuple = ()              # the coordinator's name for this task


def set_worker_data(data) -> None:
    """Keep the search's data in this worker process (given once, when the process starts)."""
    _worker_data["data"] = data


def run_group(task, data=None) -> list:
    """Train the task's members as one population (see the module docstring)."""
    data = _worker_data["data"] if data is None else data
    try:
        return _train(task, data, range(len(task.members)))
    except Exception as exc:
        if len(task.members) == 1:
            return [_failure(task, 0, exc)]
    outcomes = []
    for k in range(len(task.members)):
        try:
            outcomes.extend(_train(task, data, [k]))
        except Exception as exc:  # this member's own error, recorded
            outcomes.append(_failure(task, k, exc))
    return outcomes


def _failure(task, k, exc) -> dict:
    message = f"{type(exc).__name__}: {exc}"
    return {"trial": task.members[k]["trial"], "history": None, "stop_reason": None,
            "seconds": 0.0, "error": message[:1000], "state": None}


def _datasets(pop, data):
    """The data prepared for this population's backend and dtype (kept for the next group)."""
    key = (id(data), pop.backend, pop.dtype)
    if key not in _prepared:
        if len(_prepared) >= 4:
            _prepared.pop(next(iter(_prepared)))
        (x, y), (xv, yv) = data
        _prepared[key] = (data, pop.prepare((x, y), "training_data"),
                          pop.prepare((xv, yv), "evaluation_data"))
    return _prepared[key][1:]


def _each(task, name, chosen):
    return [float(task.members[k][name]) for k in chosen]


def _train(task, data, chosen) -> list:
    chosen = list(chosen)
    shape, k = task.shape, len(chosen)
    backend = backends.load(task.backend)
    pop = Population(shape["sizes"], seeds=[task.members[i]["seed"] for i in chosen],
                     cost=shape["cost"], activation=shape["activation"],
                     weight_init=shape["weight_init"], dtype=shape["dtype"], backend=backend)
    starts = None if task.starts is None else [task.starts[i] for i in chosen]
    train_set, eval_set = _datasets(pop, data)
    optimizer = shape["optimizer"]
    plan, opt = make_plan(
        task.epochs, shape["mini_batch_size"], _each(task, "eta", chosen), members=k,
        lmbda=_each(task, "lmbda", chosen),
        l1=_each(task, "l1", chosen) if shape["l1"] else 0.0,
        momentum=None if optimizer == "sgd" else _each(task, "momentum", chosen),
        nesterov=optimizer == "nesterov", shuffle=task.shuffle_seed, evaluation=True,
        monitor_evaluation_accuracy=True, monitor_evaluation_cost=True, **task.options)
    transform = transform_for(plan, opt, train_set.n, members=k)
    with backend.device_scope():
        opt_state = transform.init(pop.params)
    if starts is None:
        state = fresh_state(plan.eta)
        histories = [History() for _ in range(k)]
        done = 0
    else:
        done = starts[0].epoch
        pop.params = tuple(
            (backend.asarray(np.stack([s.params[l][0] for s in starts]), pop.dtype),
             backend.asarray(np.stack([s.params[l][1] for s in starts]), pop.dtype))
            for l in range(len(shape["sizes"]) - 1))
        opt_state = _restore(backend, pop.dtype, opt_state, starts)
        state = RunState([Tracker.from_dict(s.tracker) for s in starts], done)
        histories = [History.from_dict(s.history) for s in starts]
    state.n_train = train_set.n
    rng = np.random.default_rng(task.shuffle_seed)
    for _ in range(done):
        rng.permutation(train_set.n)
    began = time.perf_counter()
    params, opt_state = run(pop.engine(plan.engine), transform, pop.params, opt_state, plan,
                            state, histories, train_set, eval_set, backend=backend,
                            dtype=pop.dtype, members=k,
                            orders=lambda epoch: rng.permutation(train_set.n))
    seconds = time.perf_counter() - began
    for k_, history in enumerate(histories):
        history.stop_reason = state.trackers[k_].stop_reason
    host = [(backend.to_numpy(w), backend.to_numpy(b)) for w, b in params] \
        if task.keep_state else None
    leaves = [backend.to_numpy(a) for a in tree_leaves(opt_state)] if task.keep_state else None
    outcomes = []
    for j, i in enumerate(chosen):
        member_state = None
        if task.keep_state:
            member_state = MemberState(
                [(np.array(w[j]), np.array(b[j])) for w, b in host],
                [np.array(a[j]) if a.ndim else np.array(a) for a in leaves],
                state.trackers[j].to_dict(), histories[j].to_dict(), state.epoch)
        outcomes.append({"trial": task.members[i]["trial"], "history": histories[j].to_dict(),
                         "stop_reason": state.trackers[j].stop_reason, "seconds": seconds,
                         "error": None, "state": member_state})
    return outcomes


def _restore(backend, dtype, fresh, starts):
    """The members' saved optimizer-state leaves, stacked, in the structure of ``fresh``; the
    hyper-parameters but eta (decay, l1, the optimizer's) are this run's (as Network.resume does)."""
    stacked = [backend.asarray(np.stack([s.leaves[j] for s in starts]), dtype)
               for j in range(len(starts[0].leaves))]
    saved = tree_unflatten(fresh, stacked)
    hyper = {k: v for k, v in hyper_of(fresh).items() if k != "eta"}
    return set_hyper(saved, **hyper)
