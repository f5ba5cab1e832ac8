"""The checks that read a history of epoch records (cost and accuracy curves).

    records(history) -> list of dicts        a History, a list of records, or None (empty)
    history_problems(records, th) -> [Problem, ...]
        divergence               the last recorded training or evaluation cost is NaN or inf
        learning_rate_too_high   over the last ``th.window`` costs the training cost rose by
                                 more than ``th.rise_tolerance``, or went up and down
                                 ``th.min_reversals`` times without progress
        overfitting              the evaluation accuracy (else cost) got worse than its best
                                 while the training cost (else accuracy) kept improving

A record is SGD's per-epoch dict: "epoch", "eta", and whichever of "training_cost",
"evaluation_cost", "training_accuracy", "evaluation_accuracy" were monitored.
"""

from __future__ import annotations

import math

from ..errors import ConfigError
from .advice import FIND_ETA
from .report import Problem

__all__ = ["records", "history_problems"]


def records(history) -> list:
    if history is None:
        return []
    found = getattr(history, "records", history)
    if not isinstance(found, (list, tuple)) or not all(isinstance(r, dict) for r in found):
        raise ConfigError("history must be a History or a list of epoch records (dicts), got "
                          f"{type(history).__name__}")
    return list(found)


def _series(records, key) -> list:
    return [float(r[key]) for r in records if key in r and r[key] is not None]


def history_problems(records, th) -> list:
    costs = {k: _series(records, k) for k in ("training_cost", "evaluation_cost")}
    for key, values in costs.items():
        if values and not math.isfinite(values[-1]):
            return [Problem("divergence", None, [], "error",
                            f"the recorded {key.replace('_', ' ')} is {values[-1]}: training "
                            "diverged", "restart with a smaller eta: " + FIND_ETA,
                            {key: values[-1]})]
    eta = records[-1].get("eta") if records else None
    name = "training_cost" if costs["training_cost"] else "evaluation_cost"
    return _too_high(costs[name][-th.window:], name, eta, th) + _overfitting(records, th)


def _too_high(recent, name, eta, th) -> list:
    """learning_rate_too_high from the ``recent`` costs called ``name``."""
    if len(recent) < 3:
        return []
    rise, reversals = _rise_and_reversals(recent, th.rise_tolerance)
    rising = rise > th.rise_tolerance and name == "training_cost"
    if not (rising or (reversals >= th.min_reversals and rise > -th.rise_tolerance)):
        return []
    what = (f"rose by {rise:.1%}" if rising else
            f"went up and down {reversals} times without progress")
    return [Problem(
        "learning_rate_too_high", None, [], "error" if rise > 1.0 else "warning",
        f"over the last {len(recent)} evaluations the {name.replace('_', ' ')} {what}: "
        + ", ".join(f"{c:.4g}" for c in recent)
        + (f" (eta = {eta:g})" if isinstance(eta, (int, float)) else ""),
        "halve eta, or " + FIND_ETA + "; a schedule that lowers eta when the cost "
        "stops falling", {"costs": recent, "eta": eta})]


def _rise_and_reversals(values, tol):
    """Relative change from first to last, and how often the direction changed by > tol."""
    scale = max(abs(v) for v in values) or 1.0
    steps = [b - a for a, b in zip(values, values[1:]) if abs(b - a) > tol * scale]
    reversals = sum(1 for a, b in zip(steps, steps[1:]) if (a > 0) != (b > 0))
    return (values[-1] - values[0]) / (abs(values[0]) or 1.0), reversals


def _overfitting(records, th) -> list:
    """Evaluation accuracy (else cost) worse than its best by rise_tolerance, the best two or
    more evaluations ago, while the training cost (else accuracy) kept improving.  Accuracy
    comes first: network2's evaluation cost adds (lmbda / 2 n_eval) sum w^2, which grows with
    the weights even when nothing is wrong."""
    rows = [r for r in records if "evaluation_accuracy" in r or "evaluation_cost" in r]
    key, better = (("evaluation_accuracy", max) if all("evaluation_accuracy" in r for r in rows)
                   else ("evaluation_cost", min))
    train_key = "training_cost" if all("training_cost" in r for r in rows) else (
        "training_accuracy" if all("training_accuracy" in r for r in rows) else None)
    if len(rows) < 3 or train_key is None or not all(key in r for r in rows):
        return []
    ev = [float(r[key]) for r in rows]
    tr = [float(r[train_key]) for r in rows]
    best = ev.index(better(ev))
    sign = 1.0 if better is max else -1.0           # +1: larger is better
    t_sign = -1.0 if train_key == "training_cost" else 1.0
    tol = th.rise_tolerance
    worse = sign * (ev[best] - ev[-1]) > tol * abs(ev[best])
    improving = t_sign * (tr[-1] - tr[best]) > tol * abs(tr[best])
    if len(ev) - 1 - best < 2 or not (worse and improving):
        return []
    what = key.replace("_", " ")
    return [Problem(
        "overfitting", None, [], "warning",
        f"the {what} was best ({ev[best]:.4g}) {len(ev) - 1 - best} evaluations ago and is now "
        f"{ev[-1]:.4g}, while the {train_key.replace('_', ' ')} went on improving from "
        f"{tr[best]:.4g} to {tr[-1]:.4g}: the network is learning peculiarities of the "
        "training data (overfitting, chapter 3)",
        "stop early (keep the parameters of the best evaluation), increase the L2 strength "
        "lmbda, or use more training data",
        {"key": key, "best_index": best, "best": ev[best], "last": ev[-1]})]
