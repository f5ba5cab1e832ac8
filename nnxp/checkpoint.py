"""Checkpoints: a network file plus everything ``resume`` needs to go on exactly where a run
stopped (plan, epoch, schedule and early-stopping state, the shuffling RNG, the optimizer state,
the history), written atomically after every epoch.

    checkpoint_dict(plan, state, opt_leaves, history) -> dict     the "checkpoint" field
    read_checkpoint(d, where, like) -> (Plan, RunState, opt_leaves, History)
        every field checked: a DataError names the file and the field; ``like(plan)`` gives
        the optimizer state a fresh run of that plan would have (shapes to match)

The optimizer is saved as its registered name and arguments (``plan.optimizer``, e.g.
{"name": "adam", "b1": 0.9, "b2": 0.999, "eps": 1e-08}; a user's optimizer must be registered,
optimizers.register_optimizer, to be saved or loaded) and its state as the list of its leaves
(``optimizer_state``, optimizers.tree_leaves order: the hyper-parameter dict by name, then the
transforms' arrays), marked ``"optimizer_layout": 2``.  Files without the mark were written
before the hyper-parameters moved into one dict: their leaves (decay, [l1], eta, velocity...,
mu) are read in that order and put into today's.

A checkpoint never says where to write: ``resume`` writes to the path it is given, or to the
file the network was loaded from (the path stored in old files is ignored).
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, fields

import numpy as np

from . import checks
from .errors import ConfigError, DataError
from .history import History
from .loop import RunState
from .plan import MONITORS, Plan
from .optimizers import optimizer_from, tree_leaves
from .stopping import Tracker

__all__ = ["checkpoint_dict", "read_checkpoint"]

KIND = "nnxp.checkpoint"
LAYOUT = 2   # optimizer_state: the hyper-parameter dict by name, then the transforms' arrays


def checkpoint_dict(plan, state, opt_leaves, history) -> dict:
    if plan.optimizer is None:
        raise ConfigError("a checkpoint stores the optimizer by its registered name; this "
                          "run's optimizer is an unregistered transform (register its factory "
                          "with nnxp.register_optimizer, or train without a checkpoint)")
    if callable(plan.eta):
        raise ConfigError("a checkpoint cannot store a learning-rate function; give eta as a "
                          "number (with schedule=n for the book's halving) or no checkpoint")
    return {
        "kind": KIND,
        "plan": asdict(plan),
        "state": {"epoch": state.epoch, "rng_state": state.rng_state, "n_train": state.n_train,
                  "trackers": [t.to_dict() for t in state.trackers]},
        "optimizer_state": [np.asarray(a, dtype=np.float64).tolist() for a in opt_leaves],
        "optimizer_layout": LAYOUT,
        "history": history.to_dict(),
    }


class _Fields:
    """Field-by-field checks that name the file and the field in every error."""

    def __init__(self, where):
        self.where = where

    def fail(self, field, message):
        raise DataError(f"{self.where!r}: checkpoint field {field}: {message}")

    def get(self, d, key, field, check):
        if not isinstance(d, dict) or key not in d:
            self.fail(field, "missing")
        try:
            return check(field, d[key])
        except (ConfigError, TypeError, ValueError) as exc:
            self.fail(field, str(exc)[:300])


def _plan(f, d) -> Plan:
    if not isinstance(d, dict):
        f.fail("plan", "missing, or not an object")
    number = checks.number
    nonneg = lambda name, v: number(name, v, strict=False)
    flag = lambda name, v: v if isinstance(v, bool) else f.fail(name, f"not true/false: "
                                                                   f"{checks.show(v)}")
    opt = lambda name, v: (optimizer_from(v).config if isinstance(v, dict) else f.fail(
        name, f"must be an optimizer's name and arguments, got {checks.show(v)}"))
    engine = lambda name, v: v if v is None or v in ("plain", "jax") else f.fail(
        name, f"unknown engine {checks.show(v)}")
    divergence = lambda name, v: v if v in ("stop", "continue") else f.fail(
        name, f"must be 'stop' or 'continue', got {checks.show(v)}")
    table = {"epochs": lambda n, v: number(n, v, strict=False, integer=True),
             "mini_batch_size": lambda n, v: number(n, v, integer=True),
             "eta": number, "lmbda": nonneg, "l1": nonneg, "optimizer": opt,
             "shuffle": lambda n, v: checks.shuffle(v), "engine": engine,
             "early_stopping": checks.optional_int, "schedule": checks.optional_int,
             "monitor_every": checks.optional_int, "monitor_subset": checks.optional_int,
             "on_divergence": divergence, **{m: flag for m in MONITORS}}
    values = {k: f.get(d, k, f"plan.{k}", check) for k, check in table.items()
              if k in d or k not in ("on_divergence",)}
    return Plan(**values)


def _tracker(f, field, d) -> Tracker:
    number, count = checks.number, lambda n, v: checks.number(n, v, strict=False, integer=True)
    reason = lambda n, v: v if v is None or isinstance(v, str) else f.fail(n, "not text")
    table = {"eta": number, "start_eta": number,
             "best_accuracy": lambda n, v: checks.number(n, v, low=-1.0, strict=False),
             "since_best": count, "since_change": count, "halvings": count,
             "stop_reason": reason}
    return Tracker(**{k: f.get(d, k, f"{field}.{k}", check) for k, check in table.items()})


def _rng_state(f, state):
    if state is None:
        return None
    try:
        rng = np.random.default_rng(0)
        rng.bit_generator.state = state
        return rng.bit_generator.state
    except Exception as exc:  # NumPy raises TypeError, ValueError, KeyError, OverflowError...
        f.fail("state.rng_state", f"not a valid shuffling RNG state ({type(exc).__name__})")


def _history(f, d) -> History:
    if not isinstance(d, dict):
        f.fail("history", "not an object")
    records, intervals = d.get("records", []), d.get("intervals", [])
    if not (isinstance(records, list) and all(isinstance(r, dict) for r in records)):
        f.fail("history.records", "must be a list of objects")
    if not (isinstance(intervals, list) and all(isinstance(r, dict) for r in intervals)):
        f.fail("history.intervals", "must be a list of objects")
    seconds = d.get("compile_seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        f.fail("history.compile_seconds", "not a number")
    reason = d.get("stop_reason")
    if reason is not None and not isinstance(reason, str):
        f.fail("history.stop_reason", "not text")
    return History(records, intervals, float(seconds), reason)


def read_checkpoint(d, where, like):
    """The run stored in a network file's "checkpoint" field (see the module docstring)."""
    f = _Fields(where)
    if not isinstance(d, dict):
        f.fail("checkpoint", "not an object")
    if "config" in d and "plan" not in d:
        f.fail("checkpoint", "this checkpoint was written by an older nnxp (0.1) whose format "
                             "cannot be resumed by this one; load it as a network and train on")
    plan = _plan(f, d.get("plan"))
    sd = d.get("state")
    if not isinstance(sd, dict):
        f.fail("state", "missing, or not an object")
    epoch = f.get(sd, "epoch", "state.epoch",
                  lambda n, v: checks.number(n, v, strict=False, integer=True))
    if epoch > plan.epochs:
        f.fail("state.epoch", f"{epoch} epochs done of a run of {plan.epochs}")
    n_train = f.get(sd, "n_train", "state.n_train",
                    lambda n, v: None if v is None else checks.number(n, v, integer=True))
    trackers = f.get(sd, "trackers", "state.trackers",
                     lambda n, v: v if isinstance(v, list) and len(v) == 1 else f.fail(
                         n, "must list one member"))
    if not isinstance(trackers[0], dict):
        f.fail("state.trackers[0]", "not an object")
    state = RunState([_tracker(f, "state.trackers[0]", trackers[0])], epoch,
                     _rng_state(f, sd.get("rng_state")), n_train)
    fresh = like(plan)
    layout = d.get("optimizer_layout", 1)
    if layout == LAYOUT:
        order = _slots(fresh)
    elif layout == 1:
        order = _legacy_slots(fresh)
        if order is None:
            f.fail("optimizer_layout", f"missing, and optimizer {plan.optimizer} did not "
                                       "exist in the layout of files without it")
    else:
        f.fail("optimizer_layout", f"unknown layout {checks.show(layout)}; this nnxp "
                                   f"writes {LAYOUT}")
    opt_like = dict(zip(_slots(fresh), tree_leaves(fresh)))
    opt_like = [opt_like[slot] for slot in order]
    leaves = d.get("optimizer_state")
    if not isinstance(leaves, list) or len(leaves) != len(opt_like):
        f.fail("optimizer_state", f"must hold {len(opt_like)} arrays for optimizer "
                                  f"{plan.optimizer}")
    arrays = []
    for i, (value, like) in enumerate(zip(leaves, opt_like)):
        try:
            a = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError, OverflowError):
            f.fail(f"optimizer_state[{i}]", "holds something other than numbers")
        if a.shape != tuple(like.shape):
            f.fail(f"optimizer_state[{i}]", f"shape {a.shape}, expected {tuple(like.shape)}")
        if not np.isfinite(a).all():
            f.fail(f"optimizer_state[{i}]", "contains NaN or infinite values")
        arrays.append(a)
    by_slot = dict(zip(order, arrays))
    arrays = [by_slot[slot] for slot in _slots(fresh)]  # today's order
    return plan, state, arrays, _history(f, d.get("history"))


def _slots(fresh) -> list:
    """What each leaf of a training_chain's state is, in tree_leaves order: the names of the
    hyper-parameters, then the transforms' arrays by position."""
    return sorted(fresh.hyper) + list(range(len(tree_leaves(fresh.inner))))


def _legacy_slots(fresh):
    """The same in the order of files without "optimizer_layout" (decay, [l1], eta, then
    momentum's velocity and mu), or None for an optimizer those files could not hold."""
    names = set(fresh.hyper)
    old = ["decay"] + (["l1"] if "l1" in names else []) + ["eta"]
    old += list(range(len(tree_leaves(fresh.inner)))) + (["mu"] if "mu" in names else [])
    return old if sorted(map(str, old)) == sorted(map(str, _slots(fresh))) else None


PLAN_FIELDS = tuple(x.name for x in fields(Plan))
