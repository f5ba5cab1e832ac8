"""Checkpoints: a network file plus everything ``resume`` needs to go on exactly where a run
stopped (plan, epoch, schedule and early-stopping state, the shuffling RNG, the dropout masks'
RNGs, the optimizer state, the history), written atomically after every epoch.

    checkpoint_dict(plan, state, opt_leaves, history) -> dict     the "checkpoint" field
    run_file(spec, host_params, dtype, seed, plan, state, opt_leaves, histories, members=None)
        -> dict            the whole file: a network file (io.network_dict) with its
                           checkpoint, or a population file (io.population_dict) with one
    read_checkpoint(d, where, params, members=None) -> (Plan, RunState, opt_leaves, History)
        every field checked: a DataError names the file and the field; the optimizer state
        must match the one a fresh run of its plan would have for ``params``; for a
        population of K (``members=K``) eta, lmbda, l1 and the optimizer's hyper-parameters
        may be one per member, there are K trackers, and the History is a list of K
        ("histories")
    data_fingerprint(dataset, backend) -> str      what the run trained on (state.data)
    check_resume(where, state, epochs, train_set, eval_set, fingerprint, other_data=False)
        a resume that the checkpoint can honour, or a ConfigError / DataError saying why not

The optimizer is saved as its registered name and arguments (``plan.optimizer``, e.g.
{"name": "adam", "b1": 0.9, "b2": 0.999, "eps": 1e-08}; a user's optimizer must be registered,
optimizers.register_optimizer, to be saved or loaded) and its state as the list of its leaves
(``optimizer_state``, optimizers.tree_leaves order: the hyper-parameter dict by name, then the
transforms' arrays), marked ``"optimizer_layout": 2``.  Files without the mark were written
before the hyper-parameters moved into one dict: their leaves (decay, [l1], eta, velocity...,
mu) are read in that order and put into today's.

The data fingerprint is a BLAKE2b hash of the training data as the run saw it (in the compute
dtype, after conversion): the shapes, every label, and the inputs and desired outputs of up to
FINGERPRINT_ROWS rows spread evenly over the data (all rows of smaller data).  It detects other
data of the same size (another subset, split or order of examples, other labels, another
scaling or preprocessing of the inputs) and costs one small transfer; it does not see a change
confined to the inputs of rows outside the sample.  Identical data give the same fingerprint on
every backend.  Checkpoints without one (older nnxp, search trials) resume unchecked but for
their size; ``resume(other_data=True)`` continues on other data on purpose.

Consistency beyond each field's type and range: the tracker's counters do not exceed the epochs
done, its learning rate is the plan's eta halved ``halvings`` times, a history's records
follow the epochs done in order (at most one per epoch), and at resume its best accuracy is at
most the number of evaluation examples (a count of correct answers).

A network with dropout saves where its mask streams are (``state.mask_states``: one NumPy
bit_generator state per member, masks.py), so that a resumed run draws the masks an
uninterrupted one would; checkpoints without dropout have no such field.

A checkpoint never says where to write: ``resume`` writes to the path it is given, or to the
file the network was loaded from (the path stored in old files is ignored).
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from dataclasses import asdict

import numpy as np

from . import checks
from .dtypes import dtype_name
from .errors import ConfigError, DataError
from .history import History, entries_problem
from .io import network_dict, population_dict
from .loop import RunState
from .plan import MONITORS, Plan, transform_for
from .optimizers import optimizer_from, tree_leaves
from .stopping import Tracker

__all__ = ["checkpoint_dict", "run_file", "read_checkpoint", "data_fingerprint",
           "check_resume"]

KIND = "nnxp.checkpoint"
LAYOUT = 2   # optimizer_state: the hyper-parameter dict by name, then the transforms' arrays
FINGERPRINT_ROWS = 1024
_FINGERPRINT = re.compile(r"blake2b-128:[0-9a-f]{32}")


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
                  "data": getattr(state, "data", None),
                  "trackers": [t.to_dict() for t in state.trackers],
                  **({} if getattr(state, "mask_states", None) is None
                     else {"mask_states": state.mask_states})},
        "optimizer_state": [np.asarray(a, dtype=np.float64).tolist() for a in opt_leaves],
        "optimizer_layout": LAYOUT,
        **({"histories": [h.to_dict() for h in history]} if isinstance(history, list)
           else {"history": history.to_dict()}),
    }


def run_file(spec, host_params, dtype, seed, plan, state, opt_leaves, histories,
             members=None) -> dict:
    """The file a checkpoint writes: the network (or the K members) and the run."""
    one = members is None
    d = (network_dict if one else population_dict)(spec, host_params, dtype, seed)
    d["checkpoint"] = checkpoint_dict(plan, state, opt_leaves, histories[0] if one else histories)
    return d


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
        except DataError:  # the check's own fail(): already names the file and the field
            raise
        except (ConfigError, TypeError, ValueError) as exc:
            self.fail(field, checks.clip(exc))


def _plan(f, d, members=None) -> Plan:
    if not isinstance(d, dict):
        f.fail("plan", "missing, or not an object")
    each = lambda check: lambda name, v: checks.per_member(name, v, members, check)
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
             "eta": each(number), "lmbda": each(nonneg), "l1": each(nonneg),
             "optimizer": opt,
             "shuffle": lambda n, v: checks.shuffle(v), "engine": engine,
             "early_stopping": checks.optional_int, "schedule": checks.optional_int,
             "monitor_every": checks.optional_int, "monitor_subset": checks.optional_int,
             "on_divergence": divergence, **{m: flag for m in MONITORS}}
    values = {k: f.get(d, k, f"plan.{k}", check) for k, check in table.items()
              if k in d or k not in ("on_divergence",)}
    for name, value in optimizer_from(values["optimizer"]).hyper.items():
        if isinstance(value, (list, tuple)) and len(value) != (members or 0):
            f.fail("plan.optimizer", f"{name} lists {len(value)} values, for "
                                     f"{members or 1} member(s)")
    return Plan(**values)


def _accuracy(name, v):
    """-1 (nothing measured yet) or a count of examples classified correctly."""
    v = checks.number(name, v, low=-1.0, strict=False)
    if v != -1 and (v < 0 or v != int(v)):
        raise ConfigError(f"{name} must be -1 or a whole number of examples, got {v!r}")
    return v


def _tracker(f, field, d, eta, epoch) -> Tracker:
    """One member's tracker, each field checked, then checked against its eta and epoch."""
    if not isinstance(d, dict):
        f.fail(field, "not an object")
    number = checks.number
    count = lambda n, v: checks.number(n, v, strict=False, integer=True, high=epoch)
    reason = lambda n, v: v if v is None or isinstance(v, str) else f.fail(n, "not text")
    table = {"eta": number, "start_eta": number, "best_accuracy": _accuracy,
             "since_best": count, "since_change": count, "halvings": count,
             "stop_reason": reason}
    tracker = Tracker(**{k: f.get(d, k, f"{field}.{k}", check) for k, check in table.items()})
    if tracker.start_eta != eta:
        f.fail(f"{field}.start_eta", f"{tracker.start_eta!r}, but the plan's eta is {eta!r}")
    scheduled = tracker.start_eta / 2 ** tracker.halvings
    if tracker.eta != scheduled:
        f.fail(f"{field}.eta", f"{tracker.eta!r}, but the schedule gives {eta!r} / 2**"
                               f"{tracker.halvings} = {scheduled!r}")
    return tracker


def _data(f, sd):
    """The training data's fingerprint, or None (older checkpoints)."""
    value = sd.get("data")
    if value is not None and not (isinstance(value, str) and _FINGERPRINT.fullmatch(value)):
        f.fail("state.data", f"not a data fingerprint ('blake2b-128:' and 32 hex digits): "
                             f"{checks.show(value)}")
    return value


def _rng_state(f, state, field="state.rng_state", what="shuffling"):
    if state is None:
        return None
    try:
        rng = np.random.default_rng(0)
        rng.bit_generator.state = state
        read = rng.bit_generator.state
    except Exception as exc:  # NumPy raises TypeError, ValueError, KeyError, OverflowError...
        f.fail(field, f"not a valid {what} RNG state ({type(exc).__name__})")
    if json.dumps(read, sort_keys=True) != json.dumps(state, sort_keys=True):
        # a float where NumPy keeps ints (it truncates it: another stream), a key it drops
        f.fail(field, f"not a valid {what} RNG state (NumPy reads it back as another state: "
                      f"a number that is not an integer, or a field of no generator)")
    return read


def _mask_states(f, states, k):
    """The members' dropout mask RNG states, or None (no dropout)."""
    if states is None:
        return None
    if not isinstance(states, list) or len(states) != k:
        f.fail("state.mask_states", f"must list {k} RNG state(s), one per member")
    for i, s in enumerate(states):
        if not isinstance(s, dict):
            f.fail(f"state.mask_states[{i}]", f"not an RNG state object: {checks.show(s)}")
    return [_rng_state(f, s, f"state.mask_states[{i}]", "dropout mask")
            for i, s in enumerate(states)]


def _history(f, d) -> History:
    if not isinstance(d, dict):
        f.fail("history", "not an object")
    records, intervals = d.get("records", []), d.get("intervals", [])
    problem = entries_problem(records, intervals)
    if problem:
        field, expected, value = problem
        f.fail(f"history.{field}", f"must be {expected}, got {checks.show(value)}")
    seconds = d.get("compile_seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) \
            or not 0 <= seconds < math.inf:
        f.fail("history.compile_seconds", f"not a number of seconds >= 0: "
                                          f"{checks.show(seconds)}")
    reason = d.get("stop_reason")
    if reason is not None and not isinstance(reason, str):
        f.fail("history.stop_reason", "not text")
    return History(records, intervals, float(seconds), reason)


def read_checkpoint(d, where, params, members=None):
    """The run stored in a network or population file's "checkpoint" field (see the module
    docstring)."""
    f = _Fields(where)
    if not isinstance(d, dict):
        f.fail("checkpoint", "not an object")
    if d.get("kind", KIND) != KIND:  # files written before the tag existed have none
        f.fail("kind", f"must be {KIND!r}, got {checks.show(d['kind'])}")
    if "config" in d and "plan" not in d:
        f.fail("checkpoint", "this checkpoint was written by an older nnxp (0.1) whose format "
                             "cannot be resumed by this one; load it as a network and train on")
    plan, k = _plan(f, d.get("plan"), members), members or 1
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
                     lambda n, v: v if isinstance(v, list) and len(v) == k else f.fail(
                         n, "must list one member" if k == 1 else f"must list {k} members"))
    etas = plan.eta if isinstance(plan.eta, list) else [plan.eta] * k
    state = RunState([_tracker(f, f"state.trackers[{i}]", t, eta, epoch)
                      for i, (t, eta) in enumerate(zip(trackers, etas))], epoch,
                     _rng_state(f, sd.get("rng_state")), n_train, _data(f, sd),
                     _mask_states(f, sd.get("mask_states"), k))
    fresh = transform_for(plan, optimizer_from(plan.optimizer), n_train or 1, members).init(params)
    layout = d.get("optimizer_layout", 1)
    if isinstance(layout, bool):  # True == 1 would read as the old layout
        f.fail("optimizer_layout", f"unknown layout {layout!r}; this nnxp writes {LAYOUT}")
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
    arrays = [_leaf(f, f"optimizer_state[{i}]", value, tuple(like.shape))
              for i, (value, like) in enumerate(zip(leaves, opt_like))]
    by_slot = dict(zip(order, arrays))
    arrays = [by_slot[slot] for slot in _slots(fresh)]  # today's order
    if members is None:
        return plan, state, arrays, _epochs(f, "history", _history(f, d.get("history")), epoch)
    histories = d.get("histories")
    if not isinstance(histories, list) or len(histories) != k:
        f.fail("histories", f"must list {k} histories, one per member")
    return plan, state, arrays, [_epochs(f, f"histories[{i}]", _history(f, h), epoch)
                                 for i, h in enumerate(histories)]


def _epochs(f, field, history, epoch) -> History:
    """A history of the run's ``epoch`` epochs: one record per epoch trained, in order (a
    member stopped early has fewer), none beyond the epochs done."""
    last = -1
    for i, record in enumerate(history.records):
        if not last < record["epoch"] < epoch:
            before = "" if i == 0 else f" (the record before is epoch {last})"
            f.fail(f"{field}.records[{i}].epoch", f"{record['epoch']}, but a history holds one "
                                                   f"record per epoch trained, in order, and "
                                                   f"the run has done {epoch}{before}")
        last = record["epoch"]
    return history


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


def _leaf(f, field, value, shape) -> np.ndarray:
    """One optimizer-state array (a velocity, a hyper-parameter): nested lists of JSON numbers
    (not true/false) of the expected shape, finite."""
    try:
        items = np.asarray(value, dtype=object)
        a = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        f.fail(field, "holds something other than numbers")
    if a.shape != shape:
        f.fail(field, f"shape {a.shape}, expected {shape}")
    if not all(type(v) in (int, float) for v in items.reshape(-1).tolist()):
        f.fail(field, "holds something other than numbers (true/false, text or null)")
    if not np.isfinite(a).all():
        f.fail(field, "contains NaN or infinite values")
    return a


def data_fingerprint(dataset, backend) -> str:
    """The fingerprint of a prepared training set (see the module docstring)."""
    n = dataset.n
    rows = np.unique(np.linspace(0, n - 1, min(n, FINGERPRINT_ROWS)).round().astype(np.int64))
    with backend.device_scope():
        index = backend.asarray(rows, "index")
        xp = backend.xp
        sample = [backend.to_numpy(xp.take(a, index, axis=0)) for a in (dataset.x, dataset.y)]
        labels = backend.to_numpy(dataset.labels)
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((n, tuple(dataset.x.shape), tuple(dataset.y.shape))).encode())
    h.update(np.ascontiguousarray(labels, dtype="<i8").tobytes())
    for a in sample:
        a = np.asarray(a)
        little = np.ascontiguousarray(a, a.dtype.newbyteorder("<"))
        h.update(a.dtype.str.encode() + little.tobytes())
    return "blake2b-128:" + h.hexdigest()


def check_resume(where, state, epochs, train_set, eval_set, fingerprint, other_data=False):
    """Refuse a resume the checkpoint cannot honour (see the module docstring).  ``epochs``
    is the run's new total (None: as planned); ``fingerprint`` that of ``train_set``."""
    if epochs is not None and epochs < state.epoch:
        raise ConfigError(f"epochs={epochs}, but this run has already done {state.epoch} "
                          f"epochs: epochs is the run's total, the epoch it trains to, not a "
                          f"number of further epochs (epochs={state.epoch + 1} trains one more)")
    for i, tracker in enumerate(state.trackers):
        if eval_set is not None and tracker.best_accuracy > eval_set.n:
            raise DataError(f"{where!r}: checkpoint field state.trackers[{i}].best_accuracy: "
                            f"{tracker.best_accuracy:g} examples classified correctly, but the "
                            f"evaluation data hold {eval_set.n}")
    if other_data:
        return
    if state.n_train is not None and state.n_train != train_set.n:
        raise DataError(f"this run trained on {state.n_train} examples; resume it with the "
                        f"same training data (got {train_set.n}), or pass other_data=True to "
                        f"continue on these")
    if state.data is not None and state.data != fingerprint:
        raise DataError(f"this run trained on other data than these: the checkpoint "
                        f"{where!r} holds the fingerprint {state.data} ({state.n_train} "
                        f"examples), the data given have {fingerprint} ({train_set.n} "
                        f"examples); resume with the same training data in the run's dtype "
                        f"(these are {dtype_name(train_set.x.dtype)}: a checkpoint loaded with "
                        f"another dtype= sees them as other data), or pass other_data=True to "
                        f"continue on these")
