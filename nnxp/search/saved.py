"""A results file read back to resume a search, checked field by field against what the search
itself knows, so that a resumed table is the uninterrupted one or the resume is refused.

    one_pass(saved, search) -> (records, histories)          grid and random search
    rounds(saved, search, plan) -> (rounds, histories, digests)    successive halving
    members(records, alive, search, i)      round i's records are trials that reached it
    check_checkpoint(path, digest, search, trial, epochs) -> worker.MemberState

What the search knows: its trials (every hyper-parameter, the network seed), its epochs and
schedule, the size of its evaluation data.  What a record holds beyond them (its accuracies,
costs, best epoch, epochs trained, status) is computed again from the trial's saved history
exactly as the search computed it (results.make_record) and must be equal; the history itself
must be a list of epochs numbered in order, each with an integer count of correct evaluation
examples between 0 and the evaluation size.  So a record for a trial that is not in the
search, a trial recorded twice, a best accuracy of NaN, 5.0, -3 or 1e308, an edited eta,
sizes, seed, epochs or status, a history of another length, and structurally wrong content
(wrong types, missing or unknown keys, wrong nesting) are each a ``DataError`` naming the
file, the record and the field.  Nothing is written before these checks pass: the file is left
as it was.

Successive halving's trial checkpoints are bound to the results file: the file records the
BLAKE2b digest of each checkpoint it relies on, and a checkpoint whose bytes differ (edited
weights, two trials' files swapped, a file of another search or width) is refused before it is
read, never continued from; the checkpoint read is checked again for the trial's seed, sizes
and epochs.  (A deliberate edit that recomputes every derived field and digest consistently
cannot be told from a real run; what these checks stop is an accident, a stale or mixed-up
file, and a table that silently differs from its search.)
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os

from .. import checks, core
from ..errors import DataError, NNXPError
from ..files import read_bytes
from ..layers.base import describe
from .architectures import trial_spec
from .checkpoints import read_trial
from .results import STATUSES, make_record

__all__ = ["one_pass", "rounds", "members", "check_checkpoint"]

MAX_TEXT = 4000            # error and stop_reason strings
MAX_SECONDS = 1e9
MAX_CHECKPOINT_BYTES = 1 << 30


class _Bad(Exception):
    """A problem at a place in the file (turned into a DataError naming the file)."""

    def __init__(self, where, message):
        super().__init__(f"{where}: {message}")


def _fail(search, exc):
    return DataError(f"the search results {search.store.path!r} do not match this search: "
                     f"{exc}; the file is left as it is (give another path to start afresh, "
                     "or resume with the search that wrote it)")


def _dict(value, where):
    if not isinstance(value, dict):
        raise _Bad(where, f"expected an object, got {checks.show(value)}")
    return value


def _list(value, where):
    if not isinstance(value, list):
        raise _Bad(where, f"expected a list, got {checks.show(value)}")
    return value


def _int(value, where, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Bad(where, f"expected an integer in [{low}, {high}], got {checks.show(value)}")
    return value


def _text(value, where, optional=True):
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _Bad(where, f"expected {'null or ' if optional else ''}text of at most "
                          f"{MAX_TEXT} characters, got {checks.show(value)}")
    return value


def _keys(d, where, required, optional=()):
    missing = [k for k in required if k not in d]
    unknown = [k for k in d if k not in required and k not in optional]
    if missing or unknown:
        raise _Bad(where, (f"missing {', '.join(map(repr, missing))}" if missing else "")
                   + ("; " if missing and unknown else "")
                   + (f"unknown {checks.show(unknown)}" if unknown else ""))


def _history(value, where, n_evaluation, max_epochs):
    """A saved History dict: epochs in order, integer accuracies within the evaluation size."""
    d = _dict(value, where)
    _keys(d, where, ("records",), ("intervals", "compile_seconds", "stop_reason"))
    records = _list(d["records"], f"{where}.records")
    if len(records) > max_epochs:
        raise _Bad(f"{where}.records", f"{len(records)} epochs, but this search trains at most "
                                       f"{max_epochs}")
    last = -1
    for i, r in enumerate(records):
        at = f"{where}.records[{i}]"
        _dict(r, at)
        epoch = _int(r.get("epoch"), f"{at}.epoch", last + 1, max_epochs - 1)
        last = epoch
        if "evaluation_accuracy" not in r:
            raise _Bad(at, "missing 'evaluation_accuracy'")
        _int(r["evaluation_accuracy"], f"{at}.evaluation_accuracy", 0, n_evaluation)
        cost = r.get("evaluation_cost")
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, numbers.Real)):
            raise _Bad(f"{at}.evaluation_cost", f"expected a number, got {checks.show(cost)}")
        if "diverged" in r and not isinstance(r["diverged"], bool):
            raise _Bad(f"{at}.diverged", f"expected true or false, got "
                                         f"{checks.show(r['diverged'])}")
    _list(d.get("intervals", []), f"{where}.intervals")
    _text(d.get("stop_reason"), f"{where}.stop_reason")
    return d


def _record(value, where, search, round_=None, history=None, seen=None, whole=True):
    """One saved record, checked against its trial and recomputed from its history (all of
    it when ``whole``, else the first ``epochs`` epochs: an earlier round of halving)."""
    r = _dict(value, where)
    trial_number = _int(r.get("trial"), f"{where}.trial", 0, len(search.trials) - 1)
    where = f"{where} (trial {trial_number})"
    if seen is not None:
        if trial_number in seen:
            raise _Bad(where, "the trial is recorded twice")
        seen.add(trial_number)
    trial = search.trials[trial_number]
    status = r.get("status")
    if status not in STATUSES:
        raise _Bad(f"{where}.status", f"expected one of {', '.join(STATUSES)}, got "
                                      f"{checks.show(status)}")
    error = _text(r.get("error"), f"{where}.error")
    stop_reason = _text(r.get("stop_reason"), f"{where}.stop_reason")
    seconds = r.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or \
            not 0 <= seconds <= MAX_SECONDS:
        raise _Bad(f"{where}.seconds", f"expected a number of seconds, got "
                                       f"{checks.show(seconds)}")
    epochs = r.get("epochs")
    if status in ("error", "lost"):
        history = None
    elif history is not None:
        n = len(history["records"])
        epochs = _int(epochs, f"{where}.epochs", n if whole else 0, n)
        history = {"records": history["records"][:epochs]}
    outcome = {"history": history, "error": error, "stop_reason": stop_reason,
               "seconds": seconds, "lost": status == "lost"}
    extra = {} if round_ is None else {"round": round_}
    expected = json.loads(json.dumps(make_record(trial, outcome, search.n_evaluation,
                                                 **extra)))
    _keys(r, where, list(expected))
    for key, value in expected.items():
        if r[key] != value or type(r[key]) is not type(value):
            raise _Bad(f"{where}.{key}", f"the file says {checks.show(r[key])}, but "
                       + (f"this search's trial {trial_number} has {checks.show(value)}"
                          if key in trial.params or key in ("trial", "seed", "round") else
                          f"its history and status give {checks.show(value)}"))
    return r


def _trial(value, where, search) -> int:
    return _int(_dict(value, where).get("trial"), f"{where}.trial", 0, len(search.trials) - 1)


def _histories(saved, search, max_epochs):
    raw = _dict(saved.get("histories", {}), "histories")
    out = {}
    for key, value in raw.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) < 10):
            raise _Bad("histories", f"expected trial numbers as keys, got {checks.show(key)}")
        number = _int(int(key), f"histories[{key!r}]", 0, len(search.trials) - 1)
        out[number] = _history(value, f"histories[{key!r}]", search.n_evaluation, max_epochs)
    return out


def _guard(search, check):
    try:
        return check()
    except _Bad as exc:
        raise _fail(search, exc) from None
    except NNXPError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError, IndexError,
            RecursionError) as exc:  # a shape no check above foresaw: still the file's fault
        raise _fail(search, f"malformed content ({type(exc).__name__}: {exc})") from None


def one_pass(saved, search):
    """(records by trial, histories by trial) of a grid or random search's file, lost trials
    left out (they run again)."""
    def check():
        _keys(saved, "the file", ("format", "version", "config", "records"), ("histories",))
        histories = _histories(saved, search, search.epochs)
        records, seen = {}, set()
        for i, value in enumerate(_list(saved["records"], "records")):
            number = _trial(value, f"records[{i}]", search)
            history, status = histories.get(number), value.get("status")
            if history is None and status in ("ok", "diverged"):
                raise _Bad(f"records[{i}]", f"no history for trial {checks.show(number)}")
            if history is not None and status in ("error", "lost"):
                raise _Bad(f"histories[{str(number)!r}]",
                           f"a history for trial {number}, whose status is {status}")
            r = _record(value, f"records[{i}]", search, history=history, seen=seen)
            if r["status"] != "lost":
                records[r["trial"]] = r
        orphans = sorted(set(histories) - seen)
        if orphans:
            raise _Bad("histories", f"histories of trials {orphans[:10]} that have no record")
        return records, {k: v for k, v in histories.items() if k in records}
    return _guard(search, check)


def rounds(saved, search, plan):
    """Successive halving's file: ([{trial: record}] per round, histories, checkpoint
    digests), lost trials left out."""
    def check():
        _keys(saved, "the file", ("format", "version", "config"),
              ("rounds", "histories", "checkpoints"))
        max_epochs = plan[-1][1] if plan else search.epochs
        histories = _histories(saved, search, max_epochs)
        stored = _list(saved.get("rounds", []), "rounds")
        if len(stored) > len(plan):
            raise _Bad("rounds", f"{len(stored)} rounds, but this search has {len(plan)}")
        out = []
        for i in range(len(plan)):
            records = {}
            if i < len(stored):
                at = f"rounds[{i}]"
                d = _dict(stored[i], at)
                _keys(d, at, ("round", "epochs", "records"))
                _int(d["round"], f"{at}.round", i, i)
                _int(d["epochs"], f"{at}.epochs", plan[i][1], plan[i][1])
                seen = set()
                for j, value in enumerate(_list(d["records"], f"{at}.records")):
                    number = _trial(value, f"{at}.records[{j}]", search)
                    history, status = histories.get(number), value.get("status")
                    if history is None and status in ("ok", "diverged"):
                        raise _Bad(f"{at}.records[{j}]",
                                   f"no history for trial {checks.show(number)}")
                    r = _record(value, f"{at}.records[{j}]", search, round_=i,
                                history=history, seen=seen, whole=False)
                    if r["epochs"] > plan[i][1]:
                        raise _Bad(f"{at}.records[{j}].epochs", f"{r['epochs']} epochs in "
                                   f"round {i}, which trains {plan[i][1]}")
                    if r["status"] != "lost":
                        records[r["trial"]] = r
            out.append(records)
        last = {}
        for i, records in enumerate(out):
            for number, r in records.items():
                if i + 1 < len(out) and number in out[i + 1] and r["epochs"] != plan[i][1]:
                    raise _Bad(f"rounds[{i}] (trial {number}).epochs",
                               f"{r['epochs']} epochs, but the trial went on to round "
                               f"{i + 1}, so it trained all {plan[i][1]}")
                last[number] = r
        for number, r in last.items():
            if r["status"] in ("ok", "diverged") and \
                    r["epochs"] != len(histories[number]["records"]):
                raise _Bad(f"histories['{number}']", f"{len(histories[number]['records'])} "
                           f"epochs, but the trial's last record trained {r['epochs']}")
        digests = _dict(saved.get("checkpoints", {}), "checkpoints")
        for name, digest in digests.items():
            if not isinstance(name, str) or not isinstance(digest, str) or \
                    len(digest) != 64 or len(name) > 200:
                raise _Bad(f"checkpoints[{checks.show(name)}]",
                           f"expected a file name and a 64-digit digest, got "
                           f"{checks.show(digest)}")
        return out, histories, dict(digests)
    return _guard(search, check)


def members(records, alive, search, i) -> None:
    """Round ``i``'s saved records must be trials that reached round i."""
    strangers = sorted(set(records) - {t.number for t in alive})
    if strangers:
        raise _fail(search, f"rounds[{i}] records trials {strangers[:10]}, which this "
                            f"search did not promote to round {i}")


def check_checkpoint(path, digest, search, trial, epochs):
    """The trial's checkpoint, read only when its bytes are those the results file
    recorded; then its seed, sizes and epochs checked against the trial."""
    name = os.path.basename(path)
    if digest is None:
        raise _fail(search, f"the results record no checksum of trial {trial.number}'s "
                            f"checkpoint {name}, so the search cannot trust it")
    raw = read_bytes(path, max_bytes=MAX_CHECKPOINT_BYTES, what="trial checkpoint")
    if hashlib.blake2b(raw, digest_size=32).hexdigest() != digest:
        raise DataError(f"the trial checkpoint {path!r} is not the one the search results "
                        f"{search.store.path!r} recorded (its checksum differs: edited, "
                        f"replaced by another trial's file, or from another search); the "
                        f"search will not continue trial {trial.number} from it. Restore it, "
                        f"or give another path to start afresh")
    state, seed, spec = read_trial(path)
    want = trial_spec(trial)
    if seed != trial.seed or tuple(spec.sizes) != tuple(want.sizes) or \
            _layer_labels(spec) != _layer_labels(want) or state.epoch != epochs:
        raise DataError(f"the trial checkpoint {path!r} holds a network of sizes "
                        f"{checks.show(list(spec.sizes))}, seed {seed}, after {state.epoch} "
                        f"epochs; trial {trial.number} is {checks.show(trial.params['sizes'])}, "
                        f"seed {trial.seed}, after {epochs} epochs")
    shapes = core.param_shapes(want)
    if len(state.params) != len(shapes):
        raise DataError(f"the trial checkpoint {path!r} does not fit trial {trial.number}")
    for layer, (arrays, layer_shapes) in enumerate(zip(state.params, shapes)):
        if tuple(tuple(a.shape) for a in arrays) != tuple(layer_shapes) or not all(
                math.isfinite(float(abs(a).max(initial=0))) for a in arrays):
            raise DataError(f"the trial checkpoint {path!r}: layer {layer} does not fit "
                            f"trial {trial.number}")
    return state


def _layer_labels(spec):
    """The layers of a spec as describe shows them (None for a dense stack)."""
    return None if spec.layers is None else [describe(layer) for layer in spec.layers]
