"""What runs on a worker: one group of trials trained as one Population, from scratch or from
where each member stopped (successive halving continues promoted trials).

    Task(shape, members, starts, epochs, shuffle_seed, options, backend, keep_state,
         keep_params, key, device)
    MemberState(params, leaves, tracker, history, epoch)     a member where it stopped: host
                                                             NumPy parameters, a tuple per
                                                             layer (core's: (w, b), or ()),
                                                             optimizer-state leaves, its
                                                             stopping.Tracker and History as
                                                             dicts, epochs done
    run_state(trackers, epoch, shuffle_seed, n_train) -> loop.RunState   members' run state
                                                after ``epoch`` epochs (the stream advanced)
    run_group(task, data=None) -> [outcome]     one dict per member, in order:
        {"trial", "history" (dict), "stop_reason", "seconds", "error", "state", "params"}

``state`` is the member's MemberState when ``keep_state`` (successive halving continues from
it), ``params`` its trained parameters (a tuple per layer) as host NumPy arrays if it is among the group's
best ``keep_params`` members (ranked as the search's records: results.rank_outcomes), else
None: the search keeps its best trials' networks (results.SearchResult.network), and no
group sends more of them than the search can keep.

``data`` is ``((X, Y), (Xv, Yv))`` on the host (Y: desired outputs, one row per example), or
None for the data this process received when it started (executors.py).  A group that raises
is run again member by member, so that one bad trial is recorded with its error and the others
train; nothing raised by training leaves this function.  Everything in a Task and an outcome is
plain data that pickles (any executor, Dask).  A group trains on ``task.backend``, on the
device ``task.device``, both loaded by name (the search's: the device chosen with
``set_backend``, ``use_backend`` or NNXP_DEVICE where the search was called), never on the
backend selected in the thread or process it runs on.

A group trains through train.fit.  Continuing a member is fit's ``resume``: its parameters,
its optimizer state (momentum's velocity), its tracker (schedule, early stopping), its history,
and the shuffling stream advanced by the epochs done, so a trial trained 1 + 2 epochs equals
the same trial trained 3 epochs at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import backends, core
from ..costs import cost_from_name
from ..history import History
from ..loop import RunState
from ..optimizers import tree_leaves
from ..plan import make_plan
from ..population import Population
from ..stopping import Tracker
from ..train import fit
from .results import rank_outcomes

__all__ = ["Task", "MemberState", "run_group", "set_worker_data", "run_state"]

_worker_data = {"data": None}


@dataclass
class MemberState:
    params: list
    leaves: list
    tracker: dict
    history: dict
    epoch: int


@dataclass
class Task:
    shape: dict                  # sizes (entries), activation, cost, dtype, mini_batch_size, weight_init,
                                 # optimizer ("sgd" | "momentum" | "nesterov"), l1 (bool)
    members: list                # [{"trial", "seed", "eta", "lmbda", "l1", "momentum"}]
    starts: list | None          # [MemberState] to continue, or None to start afresh
    epochs: int                  # train until this many epochs in all
    shuffle_seed: int
    options: dict = field(default_factory=dict)   # early_stopping, schedule, monitor_every,
                                                  # monitor_subset, engine
    backend: str = "numpy"
    keep_state: bool = False
    keep_params: int = 0         # send back the trained parameters of this many (the best)
    key: tuple = ()              # the coordinator's name for this task
    device: str | None = None    # the backend's device, by name (None: its default)


def set_worker_data(data) -> None:
    """Keep the search's data in this worker process (given once, when the process starts),
    read-only: nnxp.data then prepares it once per backend and dtype for every group."""
    for pair in data:
        for a in pair:
            a.flags.writeable = False  # this process's copy (or, forked, session.host_data's)
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
            "seconds": 0.0, "error": message[:1000], "state": None, "params": None}


def _each(task, name, chosen):
    return [float(task.members[k][name]) for k in chosen]


def _train(task, data, chosen) -> list:
    chosen = list(chosen)
    shape, k = task.shape, len(chosen)
    backend = backends.load(task.backend, task.device)
    pop = Population(shape["sizes"], seeds=[task.members[i]["seed"] for i in chosen],
                     cost=shape["cost"], dtype=shape["dtype"], backend=backend,
                     **core.dense_options(shape["sizes"], cost_from_name(shape["cost"]),
                                          activation=shape["activation"],
                                          weight_init=shape["weight_init"]))
    starts = None if task.starts is None else [task.starts[i] for i in chosen]
    train_set = pop.prepare(data[0], "training_data")  # once per backend: nnxp.data's cache
    eval_set = pop.prepare(data[1], "evaluation_data")
    optimizer = shape["optimizer"]
    plan, opt = make_plan(
        task.epochs, shape["mini_batch_size"], _each(task, "eta", chosen), members=k,
        lmbda=_each(task, "lmbda", chosen),
        l1=_each(task, "l1", chosen) if shape["l1"] else 0.0,
        momentum=None if optimizer == "sgd" else _each(task, "momentum", chosen),
        nesterov=optimizer == "nesterov", shuffle=task.shuffle_seed, evaluation=True,
        monitor_evaluation_accuracy=True, monitor_evaluation_cost=True, **task.options)
    resume = None if starts is None else _resume(backend, pop, plan, train_set, starts)
    began = time.perf_counter()
    params, opt_state, state, histories = fit(
        pop.spec, pop.params, plan, opt, train_set, eval_set, backend=backend,
        dtype=pop.dtype, members=k, resume=resume)
    seconds = time.perf_counter() - began
    for k_, history in enumerate(histories):
        history.stop_reason = state.trackers[k_].stop_reason
    host = [tuple(backend.to_numpy(a) for a in layer) for layer in params] \
        if task.keep_state or task.keep_params else None
    leaves = [backend.to_numpy(a) for a in tree_leaves(opt_state)] if task.keep_state else None
    outcomes = []
    for j, i in enumerate(chosen):
        member_state, member = None, None
        if host is not None:
            member = [tuple(np.array(a[j]) for a in layer) for layer in host]
        if task.keep_state:
            member_state = MemberState(
                member,
                [np.array(a[j]) if a.ndim else np.array(a) for a in leaves],
                state.trackers[j].to_dict(), histories[j].to_dict(), state.epoch)
        outcomes.append({"trial": task.members[i]["trial"], "history": histories[j].to_dict(),
                         "stop_reason": state.trackers[j].stop_reason, "seconds": seconds,
                         "error": None, "state": member_state,
                         "params": member if task.keep_params else None})
    for j in rank_outcomes(outcomes, eval_set.n)[task.keep_params:]:
        outcomes[j]["params"] = None
    return outcomes


def _resume(backend, pop, plan, train_set, starts):
    """``fit``'s resume for members continued from their saved states: their parameters (put
    in ``pop``), the run state with the shuffling stream advanced by the epochs done, the
    optimizer-state leaves and histories."""
    pop.params = core.to_device(backend, core.stack_params([s.params for s in starts]),
                                pop.dtype)
    state = run_state([s.tracker for s in starts], starts[0].epoch, plan.shuffle, train_set.n)
    leaves = [np.stack([s.leaves[j] for s in starts]) for j in range(len(starts[0].leaves))]
    return plan, state, leaves, [History.from_dict(s.history) for s in starts]


def run_state(trackers, epoch, shuffle_seed, n_train) -> RunState:
    """The loop.RunState of members (their trackers as dicts) after ``epoch`` epochs, its
    shuffling stream ``default_rng(shuffle_seed)`` advanced by one permutation per epoch."""
    rng = np.random.default_rng(shuffle_seed)
    for _ in range(epoch):
        rng.permutation(n_train)
    return RunState([Tracker.from_dict(t) for t in trackers], epoch, rng.bit_generator.state,
                    n_train)
