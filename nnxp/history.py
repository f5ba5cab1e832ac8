"""``History``: what a training run measured, epoch by epoch.

    History(records=(), intervals=(), compile_seconds=0.0, stop_reason=None)

A tuple of network2's four lists (evaluation_cost, evaluation_accuracy, training_cost,
training_accuracy), so network2 code that unpacks SGD's return value keeps working, plus

    records          one dict per epoch: epoch, eta, seconds, and every metric measured
    intervals        the measurements every k mini-batches (monitor_every)
    epoch_seconds    [record["seconds"], ...]
    compile_seconds  JAX's one-off compilation, kept apart from the epochs' seconds
    stop_reason      why training stopped early (early stopping, the schedule's end,
                     divergence, a callback), or None
    to_dict() / from_dict(d) / save(path)    JSON (``python -m nnxp.plot`` draws it); pickles;
                     from_dict checks every field (a DataError naming it)
    check_readable(what, last=False)    a DataError when a record is not what from_dict,
                     checkpoints and nnxp.plot read back (save and every checkpoint check)

    json_value(value)     json.dumps' default for records: 0-d arrays and NumPy scalars as
                          numbers, anything else JSON cannot hold an InputTypeError

    entries_problem(records, intervals) -> (field, expected, value) or None
        what is wrong with records / intervals read from a file (a saved History, a
        checkpoint): each must be a list of objects; a record's "epoch" a non-negative int,
        its "eta", "seconds" and metrics numbers or null; an interval's "epoch",
        "mini_batches" and "n" ints and its "evaluation_accuracy" a number

Every printer of training progress formats here (nnxp's line, the book's lines, populations):

    progress_line(record, n_train, n_evaluation=None, style="nnxp") -> str
        one epoch's record: "nnxp" one line (``SGD(progress=True)``); "network2" and "network"
        the book's lines, exactly (nnxp.compat)
    print_progress(record, n_train, n_evaluation=None, style="nnxp")   the same, printed
    members_line(records, active, n_evaluation) -> str    a population's epoch, one line
    interval_line(entry) -> str                           a ``monitor_every`` measurement
"""

from __future__ import annotations

import json
import numbers

from .checks import clip, show
from .errors import DataError, InputTypeError, NNXPError

__all__ = ["History", "entries_problem", "json_value", "progress_line", "print_progress",
           "members_line", "interval_line"]


class History(tuple):
    """network2's (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)."""

    KEYS = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy")

    def __new__(cls, records=(), intervals=(), compile_seconds=0.0, stop_reason=None):
        for name, entries in (("records", records), ("intervals", intervals)):
            if not isinstance(entries, (list, tuple)) or \
                    not all(isinstance(e, dict) for e in entries):
                raise InputTypeError(f"History's {name} must be a list of dicts (one per "
                                     f"{'epoch' if name == 'records' else 'measurement'}), "
                                     f"got {show(entries)}")
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

    def append(self, record: dict) -> None:
        """Add one epoch's record (and its metrics to network2's four lists)."""
        if not isinstance(record, dict):
            raise InputTypeError(f"a History record is a dict (one epoch's measurements), got "
                                 f"{show(record)}")
        self.records.append(record)
        for key, values in zip(self.KEYS, self):
            if key in record:
                values.append(record[key])

    @property
    def epoch_seconds(self) -> list:
        """Each record's seconds (None for a record that has none: one a user made)."""
        return [r.get("seconds") for r in self.records]

    def to_dict(self) -> dict:
        return {"records": self.records, "intervals": self.intervals,
                "compile_seconds": self.compile_seconds, "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        """The History of ``to_dict``'s dict (as read back from ``save``'s JSON), every field
        checked (``entries_problem``): anything else is a DataError naming the field."""
        def refuse(field, expected, value):
            raise DataError(f"History.from_dict: field {field} must be {expected}, got "
                            f"{show(value)}; write histories with History.save")

        if not isinstance(d, dict):
            refuse("(the whole)", "a dict (History.to_dict's)", d)
        records, intervals = d.get("records", []), d.get("intervals", [])
        problem = entries_problem(*(list(v) if isinstance(v, tuple) else v
                                    for v in (records, intervals)))
        if problem:
            refuse(*problem)
        seconds = d.get("compile_seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) \
                or not seconds >= 0:
            refuse("compile_seconds", "a non-negative number", seconds)
        if d.get("stop_reason") is not None and not isinstance(d["stop_reason"], str):
            refuse("stop_reason", "text or null", d["stop_reason"])
        return cls(records, intervals, seconds, d.get("stop_reason"))

    @classmethod
    def _restore(cls, d: dict) -> "History":  # unpickling: the content as it was
        return cls(d["records"], d["intervals"], d["compile_seconds"], d["stop_reason"])

    def save(self, path) -> None:
        """Write the history as JSON, atomically (NumPy scalars a callback put in a record
        as numbers; a value JSON cannot hold is an InputTypeError, and nothing is written).
        Records that from_dict would refuse (``check_readable``) are a DataError before
        anything is written: a file that nnxp could not read back is never made."""
        from .files import atomic_write_text
        self.check_savable("History.save")
        atomic_write_text(path, dumps(self.to_dict(), "History.save", indent=1),
                          what="history")

    def check_readable(self, what, last=False) -> None:
        """A DataError naming the field when the records (``last``: the latest one only) or
        intervals are not what from_dict, a checkpoint and nnxp.plot read back: a callback
        that rewrote its record's epoch or eta as text, say."""
        records = self.records[-1:] if last else self.records
        problem = entries_problem(records, self.intervals[-1:] if last else self.intervals)
        if problem:
            field, expected, value = problem
            if last and field.startswith("records[0]"):
                field = f"records[{len(self.records) - 1}]" + field[len("records[0]"):]
            raise DataError(f"{what}: field {field} must be {expected}, got {show(value)} (a "
                            "callback may add to its record, not change what nnxp put there): "
                            "nnxp could not read it back, so nothing was written")

    def check_savable(self, what, done=None) -> None:
        """``check_readable`` of every record, and what ``from_dict`` and a checkpoint's reader
        check besides: compile_seconds a non-negative number, stop_reason text or None, and
        with ``done`` (the epochs the run has done) one record per epoch, in order, none past
        ``done``.  A DataError naming the field: nothing is written (a callback that edited an
        earlier record, or the history itself, made files nnxp then refused)."""
        self.check_readable(what)
        seconds, reason = self.compile_seconds, self.stop_reason
        problem = None
        if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) \
                or not seconds >= 0:
            problem = ("compile_seconds", "a non-negative number", seconds)
        elif reason is not None and not isinstance(reason, str):
            problem = ("stop_reason", "text or None", reason)
        last = -1
        for i, record in enumerate(self.records if done is not None and problem is None
                                   else ()):
            if not last < record["epoch"] < done:
                problem = (f"records[{i}].epoch", f"one record per epoch trained, in order, "
                           f"below the {done} epochs done", record["epoch"])
                break
            last = record["epoch"]
        if problem:
            field, expected, value = problem
            raise DataError(f"{what}: field {field} must be {expected}, got {show(value)} (a "
                            "callback may add to its record, not change what nnxp put there): "
                            "nnxp could not read it back, so nothing was written")

    def __reduce__(self):  # pickle by content: tuple's default would pass the lists as records
        return (History._restore, (self.to_dict(),))

    def __repr__(self) -> str:
        return (f"History({len(self.records)} epochs, stop_reason={self.stop_reason!r}, "
                f"evaluation_accuracy={self.evaluation_accuracy!r})")


def check_kept(before, record, who) -> None:
    """A DataError when ``record`` no longer holds what nnxp put in it (``before``, a copy taken
    before ``who`` ran): a callback may add to its record, not remove or change nnxp's fields
    (the history, the progress line and the checkpoint read them; a removed epoch was a bare
    KeyError)."""
    for key, value in before.items():
        if key not in record or record[key] is not value and record[key] != value:
            raise DataError(f"{who} changed its record's field {key!r} (from {show(value)} "
                            f"to {show(record.get(key, '(removed)'))}): a callback may add to "
                            f"its record, not change what nnxp put there")


def dumps(d, what, **options) -> str:
    """``json.dumps(d)`` with ``json_value`` for records; what JSON cannot write (a key that is
    not text, an int past str's limit) is an InputTypeError naming ``what``, nothing written."""
    try:
        return json.dumps(d, default=json_value, **options)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, NNXPError):
            raise
        raise InputTypeError(f"{what}: a record holds what JSON cannot write "
                             f"({clip(exc)}); nothing was written") from None


def json_value(value):
    """``json.dumps``' ``default`` for records (History.save, checkpoints): a 0-d array or
    scalar of any array library (``np.float32(0.5)``, which a callback may add to its record)
    as its Python number; anything else JSON cannot hold is an InputTypeError naming it (a
    bare TypeError from json before, after the epoch's work)."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        item = value.item()
        if isinstance(item, (bool, int, float, str)):
            return item
    raise InputTypeError(f"a History record holds {show(value)} (a {type(value).__name__}), "
                         "which JSON cannot store: records hold numbers, text, flags, lists "
                         "and dicts (a callback that adds to its record must add those)")


_NUMBERS = ("eta", "seconds", "evaluation_cost", "evaluation_accuracy", "training_cost",
            "training_accuracy", "validation_accuracy")


def _count(value, low=0) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        and value >= low


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def entries_problem(records, intervals):
    """The first problem of ``records`` and ``intervals`` as read from a file, as (field,
    what it must be, the value found), or None (see the module docstring)."""
    for key, entries in (("records", records), ("intervals", intervals)):
        if not isinstance(entries, list):
            return key, "a list of objects", entries
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                return f"{key}[{i}]", "an object", entry
    for i, r in enumerate(records):
        if not _count(r.get("epoch")):
            return f"records[{i}].epoch", "a non-negative integer", r.get("epoch")
        for key in _NUMBERS:
            if r.get(key) is not None and not _number(r[key]):
                return f"records[{i}].{key}", "a number or null", r[key]
    for i, e in enumerate(intervals):
        for key, low in (("epoch", 0), ("mini_batches", 0), ("n", 1)):
            if not _count(e.get(key), low):
                return f"intervals[{i}].{key}", f"an integer >= {low}", e.get(key)
        if not _number(e.get("evaluation_accuracy")):
            return (f"intervals[{i}].evaluation_accuracy", "a number",
                    e.get("evaluation_accuracy"))
    return None


def progress_line(record, n_train, n_evaluation=None, style="nnxp") -> str:
    """One epoch's record as printed in ``style`` (see the module docstring)."""
    return _STYLES[style](record, n_train, n_evaluation)


def print_progress(record, n_train, n_evaluation=None, style="nnxp") -> None:
    print(progress_line(record, n_train, n_evaluation, style), flush=True)


def _nnxp_line(record, n_train, n_evaluation):
    parts = [f"Epoch {record['epoch']} training complete ({record['seconds']:.2f} s)"]
    if "training_cost" in record:
        parts.append(f"cost on training data: {record['training_cost']:.4f}")
    if "training_accuracy" in record:
        parts.append(f"accuracy on training data: {record['training_accuracy']} / {n_train}")
    if "evaluation_cost" in record:
        parts.append(f"cost on evaluation data: {record['evaluation_cost']:.4f}")
    if "evaluation_accuracy" in record:
        parts.append(f"accuracy on evaluation data: {record['evaluation_accuracy']} / "
                     f"{n_evaluation}")
    if record.get("diverged"):
        parts.append("diverged: stopped, last finite parameters kept")
    if "health" in record and record["health"].get("problems"):
        parts.append("health: " + ", ".join(p["kind"] for p in record["health"]["problems"]))
    return "; ".join(parts)


def _network2_lines(record, n_train, n_evaluation):
    """network2.py's lines for one epoch, and its empty line."""
    lines = [f"Epoch {record['epoch']} training complete"]
    for key, text, n in [("training_cost", "Cost on training data", None),
                         ("training_accuracy", "Accuracy on training data", n_train),
                         ("evaluation_cost", "Cost on evaluation data", None),
                         ("evaluation_accuracy", "Accuracy on evaluation data", n_evaluation)]:
        if key in record:
            lines.append(f"{text}: {record[key]}" + ("" if n is None else f" / {n}"))
    return "\n".join(lines) + "\n"


def _network_line(record, n_train, n_test):
    """network.py's line for one epoch."""
    del n_train
    if "evaluation_accuracy" in record:
        return f"Epoch {record['epoch']}: {record['evaluation_accuracy']} / {n_test}"
    return f"Epoch {record['epoch']} complete"


_STYLES = {"nnxp": _nnxp_line, "network2": _network2_lines, "network": _network_line}


def members_line(records, active, n_evaluation) -> str:
    """A population's epoch: its time, the members trained, the best and mean accuracy."""
    live = [r for r, a in zip(records, active) if a]
    head = (f"Epoch {records[0]['epoch']} ({records[0]['seconds']:.2f} s, {len(live)} of "
            f"{len(records)} members trained)")
    if live and "evaluation_accuracy" in live[0]:
        values = [r["evaluation_accuracy"] for r in live]
        k = max((i for i, a in enumerate(active) if a),  # the best of the members trained
                key=lambda i: records[i]["evaluation_accuracy"])
        head += (f"; accuracy on evaluation data: best {max(values)} / {n_evaluation} (member "
                 f"{k}), mean {sum(values) / len(values):.1f}")
    return head


def interval_line(entry) -> str:
    """A measurement every k mini-batches (History.intervals' entry)."""
    return (f"  epoch {entry['epoch']}, mini-batch {entry['mini_batches']}: accuracy "
            f"{entry['evaluation_accuracy']} / {entry['n']}, cost "
            f"{entry['evaluation_cost']:.4f}")
