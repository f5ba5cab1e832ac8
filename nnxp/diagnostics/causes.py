"""Which problem explains which, so that the report names the cause first, with its evidence.

    attribute(problems, records, th, *, eta, progress) -> problems, with the stall's cause
    relate(problems, trained) -> None   causes take the severity of what they explain

1. attribute: eta, when the run broke at once.  With ``eta`` and a history, a training cost
   that stopped improving after its first epoch or two (history.stalled), in a network that
   has not learned (probe accuracy at most ``th.stalled`` of the way from chance to 100%) and
   has dead or saturated units (what large steps leave behind), is learning_rate_too_high,
   an error, unless a cause in the configuration explains the stall (identical_units,
   same_sign_weights, weight_decay_too_strong: found in the weights or the hyper-parameters
   themselves).  A network that started broken (say, every unit dead at initialization)
   stalls too: diagnosing the fresh network tells the two apart, and the message says so.
2. relate: a cause takes the severity of what it explains, and the report (sorted by
   severity, then causes before consequences) puts it first:
       same_sign_weights       -> the saturation it causes in its layer (z pushed off centre
                                  by weights of one sign) and an output collapse
       learning_rate_too_high  -> (found in the history) dead and saturated units: large steps
                                  kill units and grow weights (a network that started with
                                  them is told apart by diagnosing it fresh)
       weight_decay_too_strong -> tiny weights and an output collapse
       vanishing_gradients     -> an output collapse (the early layers have not learned)
   The explained problem's evidence says ``"explained_by"``; the cause's, ``"explains"``.
"""

from __future__ import annotations

from .advice import FIND_ETA, FIND_ETA_REMEDY
from .history import stalled
from .report import Problem

__all__ = ["attribute", "relate"]

_RANK = {"info": 0, "warning": 1, "error": 2}
_CONFIG = ("identical_units", "same_sign_weights", "weight_decay_too_strong")


def attribute(problems, records, th, *, eta, progress) -> list:
    """``problems`` and, when the history shows a run that broke at once, eta as its cause
    (replacing the history's own learning_rate_too_high, which this one explains)."""
    kinds = {p.kind for p in problems}
    broken = any(p.kind in ("dead_units", "saturated_units") and p.severity != "info"
                 for p in problems)
    if (records and eta is not None and broken and not kinds & set(_CONFIG)
            and progress <= th.stalled):
        found = stalled(records, th)
        if found is not None:
            problems = [p for p in problems if not (p.kind == "learning_rate_too_high"
                                                    and p.layer is None)]
            return problems + [_stalled_by_eta(found, eta, progress)]
    return list(problems)


def relate(problems, trained) -> None:
    """Each cause takes the severity of the problems it explains (``trained``: a history was
    given, so the learning-rate problem is the history's, about how the run went)."""
    for cause in problems:
        for effect in problems:
            if effect is not cause and _explains(cause, effect, trained):
                _attach(cause, effect)


def _stalled_by_eta(found, eta, progress) -> Problem:
    what = found["key"].replace("_", " ")
    return Problem(
        "learning_rate_too_high", None, [], "error",
        f"the {what} stopped improving at once: {found['plateau']:.4g} after epoch "
        f"{found['epoch']}, {found['last']:.4g} after {found['epochs']} (it was "
        f"{found['first']:.4g} after epoch 1), and the network has not learned (probe "
        + (f"accuracy {progress:.0%} of the way from chance to 100%" if progress > 0 else
           "accuracy no better than chance") + f"): the first steps at "
        f"eta = {eta:g} took it to a state it cannot learn from (or it started there: "
        "diagnose the fresh network to tell)",
        "restart from a fresh network with a smaller eta: " + FIND_ETA,
        {"stalled": found, "eta": eta, "progress": progress}, FIND_ETA_REMEDY)


def _explains(cause, effect, trained) -> bool:
    k, e = cause.kind, effect.kind
    if k == "same_sign_weights":
        return ((e == "saturated_units" and effect.layer == cause.layer
                 and effect.evidence.get("cause") == "same_sign") or e == "output_collapse")
    if k == "learning_rate_too_high" and cause.layer is None and trained:
        return e in ("dead_units", "saturated_units") and effect.severity != "info"
    if k == "weight_decay_too_strong":
        return e in ("tiny_weights", "output_collapse")
    if k == "vanishing_gradients":
        return e == "output_collapse"
    return False


def _attach(cause, effect) -> None:
    if _RANK[effect.severity] > _RANK[cause.severity]:
        cause.severity = effect.severity
    cause.evidence.setdefault("explains", []).append(
        effect.kind + ("" if effect.layer is None else f"@{effect.layer}"))
    effect.evidence.setdefault("explained_by", cause.kind)
