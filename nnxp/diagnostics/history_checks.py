"""The checks that read a history of epoch records (cost and accuracy curves).

    records(history) -> list of dicts        a History, a list of records, or None (empty); the
                                             fields the checks read (NUMBERS) must be numbers
                                             or None, else a ConfigError naming record and field
    history_problems(records, th, *, lmbda=0.0, n=None, scale=None) -> [Problem, ...]
        divergence               the last recorded training or evaluation cost is NaN or inf
        learning_rate_too_high   over the last ``th.window`` epochs (at least 4) the training
                                 cost rose (robust trend above ``th.rise_tolerance``), or it
                                 oscillates: it rose by more than ``rise_tolerance`` from one
                                 epoch to the next at least ``th.min_rises`` times, on at least
                                 ``th.oscillation_share`` of the steps, and these rises add
                                 up (in log) to more than the trend's fall; and (``scale``
                                 known) the rise, or the swing of the cost above its floor
                                 (``swing``), is at least ``th.swing`` of ``scale``, the cost
                                 of knowing nothing on this data: a cost near its floor moves
                                 by a lot relative to itself from noise alone, by little
                                 relative to that yardstick.  An oscillation (a swing of
                                 at least ``th.ask_swing`` of ``scale``) about a cost that
                                 falls beyond its noise (``falls``) and is below the cost of
                                 knowing nothing is "info" with evidence "ask_finder":
                                 SGD's scatter about a falling cost and steps a little too
                                 large look the same; the finder's threshold decides
                                 (causes.finder_verdict makes it a warning above it)
        overfitting              the evaluation accuracy fell from its best, by more than
                                 9 answers when it is a count (McNemar's bound at
                                 SIGNIFICANT, ``_changed``: fewer is noise on a small
                                 evaluation set), or
                                 (lmbda = 0) the
                                 evaluation cost rose from its best while the accuracy stopped
                                 improving (over the second half of the epochs since that best,
                                 by less than 1%), two or more epochs ago, by more than
                                 ``th.rise_tolerance`` and more than NOISE (1.5) times the
                                 metric's median change from one epoch to the next, while
                                 the training cost kept falling and was stable (no learning_rate_too_high) and
                                 the training accuracy did not fall
    stalled(records, th) -> dict or None     the training cost stopped improving at once:
                                             after its second epoch (or its first, with 3
                                             epochs; the median of epochs 2-4 with 5 or more,
                                             so that one spike cannot hide a plateau) it never
                                             fell by ``rise_tolerance``
                                             (causes.py asks what broke the run)
    learning(records, th) -> bool or None    the run is still learning: too short to judge,
                                             or its cost fell from its first epoch
    trend(values) -> float                   relative change over ``values``, robustly
    swing(values) -> float                   how far the bulk of ``values`` sits above their
                                             lowest, around their trend (spikes excluded)
    falls(values) -> bool                    the log values' Theil-Sen slope is negative by
                                             more than SIGNIFICANT (3) standard errors, from
                                             the residuals' robust spread

Robust statistics, so that a verdict does not depend on where one spike falls: the trend is
Theil and Sen's slope (the median of the slopes between every pair of epochs) of the log cost,
the oscillation test counts rises over the whole window, and "recent" means the median of the
last three epochs, never the last one alone.

A record is SGD's per-epoch dict: "epoch", "eta", and whichever of "training_cost",
"evaluation_cost", "training_accuracy", "evaluation_accuracy" were monitored.
"""

from __future__ import annotations

import math
import numbers
import statistics

from ..checks import show
from ..errors import ConfigError
from .advice import FIND_ETA, FIND_ETA_REMEDY, book_lmbda
from .report import Problem

__all__ = ["records", "history_problems", "stalled", "learning", "trend", "swing", "falls"]

MIN_EPOCHS = 4  # fewer records: no verdict on a curve
NOISE = 1.5     # overfitting: the fall from the best more than this many typical epoch-to-
                # epoch changes of the same metric (its own noise)
SIGNIFICANT = 3.0  # a trend is real when it exceeds this many standard errors of the slope,
                   # estimated from the curve's own scatter about it (about p < 0.003)


NUMBERS = ("training_cost", "evaluation_cost", "training_accuracy", "evaluation_accuracy",
           "eta")   # the fields of a record the checks read: numbers (NaN: diverged) or None


def records(history) -> list:
    if history is None:
        return []
    found = getattr(history, "records", history)
    if not isinstance(found, (list, tuple)) or not all(isinstance(r, dict) for r in found):
        raise ConfigError("history must be a History or a list of epoch records (dicts), got "
                          f"{type(history).__name__}")
    for i, r in enumerate(found):
        for key in NUMBERS:
            value = r.get(key)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, numbers.Real)
                                      or _too_large(value)):
                raise ConfigError(f"history record {i}'s {key} must be a number or None, got "
                                  f"{show(value)}")
    return list(found)


def _too_large(value) -> bool:
    """True for a number no float holds (an int of 400 digits)."""
    try:
        float(value)
    except OverflowError:
        return True
    return False


def _series(records, key) -> list:
    return [float(r[key]) for r in records if key in r and r[key] is not None]


def trend(values) -> float:
    """The relative change over ``values`` by Theil and Sen's slope: exp(slope (n - 1)) - 1 of
    the log values (positive values; else the slope over the median |value|)."""
    n = len(values)
    if n < 2:
        return 0.0
    if all(v > 0 for v in values):  # (a rise past e^709 is inf: expm1 would overflow)
        x = _slope([math.log(v) for v in values]) * (n - 1)
        return math.inf if x > 709.0 else math.expm1(x)
    scale = statistics.median(abs(v) for v in values) or 1.0
    return _slope(values) * (n - 1) / scale


def percent(x, signed=False) -> str:
    """``x`` as a percentage, readable at any size: "35%" ("+35%" ``signed``), "a factor of
    1.2e+20" from 10,000% up, "without bound" for inf."""
    if not math.isfinite(x):
        return "without bound" if x > 0 else "-100%"
    if abs(x) >= 100:
        return f"a factor of {x + 1:.3g}"
    return f"{x:+.0%}" if signed else f"{x:.0%}"


def _slope(y) -> float:
    return statistics.median((y[j] - y[i]) / (j - i)
                             for i in range(len(y)) for j in range(i + 1, len(y)))


def _rises(values, tol) -> tuple:
    """(how many steps rose by more than ``tol``, relative; their total log rise)."""
    ups = [math.log(b / a) if a > 0 and b > 0 else (b - a) / (abs(a) or 1.0)
           for a, b in zip(values, values[1:]) if b > a + tol * abs(a)]
    return len(ups), sum(ups)


def _recent(values) -> float:
    return statistics.median(values[-3:])


def history_problems(records, th, *, lmbda=0.0, n=None, scale=None) -> list:
    """The history's problems.  ``scale``: the cost of knowing nothing on this data (the
    probe's class frequencies predicted for every input, ``chance_cost``), the yardstick a
    change of the cost is measured against (None: changes are judged relative to the cost)."""
    costs = {k: _series(records, k) for k in ("training_cost", "evaluation_cost")}
    for key, values in costs.items():
        if values and not math.isfinite(values[-1]):
            return [Problem("divergence", None, [], "error",
                            f"the recorded {key.replace('_', ' ')} is {values[-1]}: training "
                            "diverged", "restart with a smaller eta: " + FIND_ETA,
                            {key: values[-1]}, dict(FIND_ETA_REMEDY))]
    eta = records[-1].get("eta") if records else None
    name = "training_cost" if costs["training_cost"] else "evaluation_cost"
    too_high = _too_high(costs[name][-th.window:], name, eta, th, scale)
    return too_high + _overfitting(records, th, lmbda, n, eta, unstable=bool(too_high))


def swing(values) -> float:
    """How far the bulk of ``values`` sits above their lowest, around their robust trend, in
    the units of the values: median(c) (1 - exp(-(median(r) - min(r)))), r the residuals of
    log c from its Theil-Sen line.  Rare spikes leave it small (the median ignores them); a
    cost that bounces between a low and a high level gives a large one."""
    if len(values) < 3 or not all(v > 0 for v in values):
        return 0.0
    y = [math.log(v) for v in values]
    slope = _slope(y)
    r = [yi - slope * i for i, yi in enumerate(y)]
    return statistics.median(values) * -math.expm1(-(statistics.median(r) - min(r)))


def falls(values) -> bool:
    """The cost falls beyond its own noise: the Theil-Sen slope of log ``values`` is
    negative by more than SIGNIFICANT standard errors, the error from the residuals' robust
    spread (1.4826 times their median absolute deviation) over sqrt(sum (i - mean i)^2)."""
    n = len(values)
    if n < MIN_EPOCHS or not all(v > 0 for v in values):
        return False
    y = [math.log(v) for v in values]
    slope = _slope(y)
    r = [yi - slope * i for i, yi in enumerate(y)]
    centre = statistics.median(r)
    sigma = 1.4826 * statistics.median(abs(ri - centre) for ri in r)
    spread = math.sqrt(n * (n * n - 1) / 12.0)
    return slope < 0 and -slope * spread > SIGNIFICANT * sigma


def _too_high(recent, name, eta, th, scale) -> list:
    """learning_rate_too_high from the ``recent`` costs called ``name``: the curve rises or
    oscillates (relative to itself), and by more than ``th.swing`` of ``scale`` (so that the
    noise of a cost near its floor, large relative to that small cost, is not a verdict)."""
    if len(recent) < MIN_EPOCHS or not all(math.isfinite(c) for c in recent):
        return []
    tol, steps = th.rise_tolerance, len(recent) - 1
    change, (rises, climbed) = trend(recent), _rises(recent, th.rise_tolerance)
    head = statistics.median(recent[:3])
    rose, swung = head * max(change, 0.0), swing(recent)
    size = lambda amount: math.inf if not scale else amount / scale  # noqa: E731
    rising = change > tol and name == "training_cost" and size(rose) >= th.swing
    progress = -math.log1p(change) if -1 < change < 0 else (math.inf if change <= -1 else 0.0)
    bounces = (rises >= th.min_rises and rises >= th.oscillation_share * steps
               and climbed > progress)
    oscillating = bounces and size(swung) >= th.swing
    # an oscillation about a cost that falls beyond its noise (and is below the cost of
    # knowing nothing) looks the same for SGD's scatter and for steps a little too large,
    # from a swing of th.ask_swing up: the curve cannot tell, the finder's threshold decides
    # (causes.finder_verdict)
    ask = (not rising and bounces and size(swung) >= th.ask_swing and falls(recent)
           and not (scale and _recent(recent) > scale))
    if not (rising or oscillating or ask):
        return []
    what = (f"rose by {percent(change)} (the robust trend)" if rising else
            f"rose by more than {tol:.0%} from one epoch to the next {rises} times "
            f"({rises / steps:.0%} of the steps), climbing back more than its trend "
            f"({percent(change, signed=True)}) took off: it oscillates "
            f"instead of decreasing")
    moved = rose if rising else swung
    against = ("" if not scale else
               f"; it moves by {moved:.3g}, "
               + (f"{size(moved):.0%} of" if size(moved) < 100 else f"{size(moved):.3g} times")
               + f" {scale:.3g}, the cost of predicting the class frequencies (noise near "
               f"the floor moves it by less than {th.swing:.0%})")
    at = f" at eta = {eta:g}" if isinstance(eta, (int, float)) else ""
    if ask:
        return [Problem(
            "learning_rate_too_high", None, [], "info",
            f"over the last {len(recent)} epochs the {name.replace('_', ' ')}{at} {what}: "
            + ", ".join(f"{c:.4g}" for c in recent) + against + "; but it also falls beyond "
            f"its noise (trend {percent(change, signed=True)}), as SGD's "
            f"scatter about a falling cost does: "
            "the curve alone cannot say whether eta is too high",
            "diagnose again with the finder's threshold (" + FIND_ETA + ")",
            {"costs": recent, "eta": eta, "trend": change, "rises": rises, "swing": swung,
             "chance_cost": scale, "eta_factor": 0.5, "ask_finder": True},
            dict(FIND_ETA_REMEDY))]
    return [Problem(
        "learning_rate_too_high", None, [], "error" if change > 1.0 else "warning",
        f"over the last {len(recent)} epochs the {name.replace('_', ' ')}{at} {what}: "
        + ", ".join(f"{c:.4g}" for c in recent) + against + ". The steps overshoot the minimum",
        "halve eta, or " + FIND_ETA + "; a schedule that lowers eta when the cost "
        "stops falling", {"costs": recent, "eta": eta, "trend": change, "rises": rises,
                          "swing": swung, "chance_cost": scale, "eta_factor": 0.5},
        dict(FIND_ETA_REMEDY))]


def learning(records, th):
    """With a cost curve: True while it is too short to judge (fewer than 4 epochs) or the
    training cost (else evaluation cost) fell by more than ``th.rise_tolerance`` from its first
    epoch to the median of its last three, or over the last ``th.window`` epochs by its robust
    trend; False otherwise; None without a cost curve."""
    values = _series(records, "training_cost") or _series(records, "evaluation_cost")
    if not values:
        return None
    if len(values) < MIN_EPOCHS:
        return True
    if not all(math.isfinite(v) for v in values):
        return False
    recent = values[-th.window:]
    return (_recent(values) < values[0] * (1 - th.rise_tolerance)
            or trend(recent) < -th.rise_tolerance)


def stalled(records, th):
    """Evidence that the training cost (else the evaluation cost) stopped improving at once:
    from its second epoch on (its first, when only 3 were recorded) it never fell by more
    than ``th.rise_tolerance``; else None."""
    for key in ("training_cost", "evaluation_cost"):
        values = _series(records, key)
        if values:
            break
    if len(values) < 3 or not all(math.isfinite(v) for v in values):
        return None
    start = 0 if len(values) == 3 else 1
    first = values[start] if len(values) < 5 else statistics.median(values[start:start + 3])
    best = min(values[start:])
    if first - best > th.rise_tolerance * abs(first):
        return None
    return {"key": key, "epoch": start + 1, "first": values[0], "plateau": first,
            "last": values[-1], "epochs": len(values)}


def _overfitting(records, th, lmbda, n, eta, unstable) -> list:
    """The evaluation metric worsened since its best while training improved steadily.
    Evaluation accuracy comes first; the evaluation cost only without L2 (network2's adds
    (lmbda / 2 n_eval) sum w^2, which grows with the weights even when nothing is wrong)."""
    rows = [r for r in records if "evaluation_accuracy" in r or "evaluation_cost" in r]
    if len(rows) < MIN_EPOCHS or unstable:
        return []
    found = _worse_accuracy(rows, th) or (_worse_cost(rows, th) if not lmbda else None)
    if found is None:
        return []
    key, best, then, now = found
    train = _training_improved(rows, best, th)
    if train is None:
        return []
    ago = len(rows) - 1 - best
    remedy = ({"lmbda": book_lmbda(eta, n)} if isinstance(eta, (int, float)) and n
              and book_lmbda(eta, n) > lmbda else {"early_stopping": max(2, ago // 2)})
    return [Problem(
        "overfitting", None, [], "warning",
        f"the {key.replace('_', ' ')} was best ({then:.4g}) {ago} epochs ago and is now "
        f"{now:.4g} (median of the last 3), while the {train}: the network is learning "
        "peculiarities of the training data (overfitting, chapter 3)",
        "L2 regularization (lmbda such that eta lmbda / n is about the book's 5e-5"
        + (f": lmbda = {remedy['lmbda']:.3g}" if "lmbda" in remedy else "")
        + "), more training data, or stop early (early_stopping=n)",
        {"key": key, "best_index": best, "best": then, "last": now}, remedy)]


def _worse_accuracy(rows, th):
    acc = _series(rows, "evaluation_accuracy")
    if len(acc) != len(rows):
        return None
    best = acc.index(max(acc))
    peak, now = acc[best], _recent(acc)
    if (len(acc) - 1 - best >= 2 and peak - now > th.rise_tolerance * abs(peak)
            and peak - now > NOISE * _jitter(acc) and peak - now > _changed(acc)):
        return "evaluation_accuracy", best, peak, now
    return None


def _changed(acc) -> float:
    """The smallest fall of a count of right answers on one evaluation set that is not
    noise: SIGNIFICANT^2.  (McNemar: a fall of d answers needs at least d answers to change,
    whose count varies by sqrt(d); d > SIGNIFICANT sqrt(d) gives d > SIGNIFICANT^2.)  0 for
    accuracies given as fractions."""
    counts = all(float(a).is_integer() for a in acc) and max(acc) > 1
    return SIGNIFICANT ** 2 if counts else 0.0


def _jitter(values) -> float:
    """The typical change from one epoch to the next: the median |difference|."""
    return statistics.median(abs(b - a) for a, b in zip(values, values[1:]))


def _worse_cost(rows, th):
    cost = _series(rows, "evaluation_cost")
    if len(cost) != len(rows) or not all(math.isfinite(c) for c in cost):
        return None
    best = cost.index(min(cost))
    low, now = cost[best], _recent(cost)
    if (len(cost) - 1 - best < 2 or now - low <= th.rise_tolerance * abs(low)
            or now - low <= NOISE * _jitter(cost)):
        return None
    acc = _series(rows, "evaluation_accuracy")
    mid = best + (len(rows) - 1 - best) // 2
    if len(acc) == len(rows) and _recent(acc) > _recent(acc[:mid + 2]) * (
            1 + th.rise_tolerance / 5):
        return None  # the accuracy still improves: the cost's rise is confident mistakes
    return "evaluation_cost", best, low, now


def _training_improved(rows, best, th):
    """How training went since ``best`` (a phrase) when it kept improving steadily; else
    None (no training metric, or it got worse)."""
    tol = th.rise_tolerance
    cost, acc = _series(rows, "training_cost"), _series(rows, "training_accuracy")
    if len(acc) == len(rows) and _recent(acc) < acc[best] * (1 - tol / 2):
        return None  # training accuracy fell too: instability, not overfitting
    if len(cost) == len(rows):
        if cost[best] - _recent(cost) > tol * abs(cost[best]):
            return (f"training cost went on falling from {cost[best]:.4g} to "
                    f"{_recent(cost):.4g}")
        return None
    if len(acc) == len(rows) and _recent(acc) > acc[best]:
        return f"training accuracy went on rising from {acc[best]:.4g} to {_recent(acc):.4g}"
    return None
