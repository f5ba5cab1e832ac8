"""Which problem explains which, so that the report names the cause first, with its evidence.

    attribute(problems, records, th, *, eta, progress, threshold=None, mini_batch_size=None,
              n=None, last=None, scale=None, current=None) -> problems, with the causes the
                                                 history shows
    finder_verdict(problems, eta, threshold) -> problems   the finder's threshold decides
    too_few_updates(records, th, mini_batch_size, n, progress) -> Problem or None
    relate(problems, trained, last=None) -> None   causes take the severity of what they explain

1. attribute, in order:
   0. without a history: a minority of dead units (a warning) in a network that already has
      the initialization their remedy names (``current``), whose layer's biases are all still
      0 (as zero_bias drew them: untrained), was drawn dead: "info" (the same initialization
      again cannot do better; the rest of the layer learns).
   a. the finder's verdict (``threshold``, the finder's largest eta at which the training
      cost decreases from the start, when given): eta at or below it is never called too high
      by the curve, eta above it is (one notion of "too high" for the finder and diagnose);
      a curve the history could not judge ("info", evidence "ask_finder") becomes a warning.
   b. too_few_updates: with the mini-batch size and the training-set size, a run of fewer than
      ``th.min_updates`` SGD steps in all, at mini-batches larger than the book's 10, whose
      network has not learned (probe accuracy under ``th.learned`` of the way from chance to
      100%), has no dead or saturated units, and whose training cost did not rise and is not
      above ``scale``, the cost of predicting the class frequencies (the plateau a network of
      small weights starts on): more steps, not other weights, fix it.
   c. eta, when the run broke at once.  With ``eta`` and a history, a training cost that
      stopped improving after its first epoch or two (history.stalled), in a network that has
      not learned (at most ``th.stalled``) and has dead or saturated units (what large steps
      leave behind), is learning_rate_too_high, an error, unless a cause in the configuration
      explains the stall (identical_units, same_sign_weights, weight_decay_too_strong,
      inputs_not_scaled).  The
      eta named is the one of the run that was training when the cost stalled (a history of
      several runs says which); when a later run used a smaller eta, the remedy keeps that
      one and restarts from a fresh network.  A network that started broken stalls too:
      diagnosing the fresh network tells the two apart, and the message says so.
   d. eta, when rectified output units died: dead output units (z <= 0 on every probe input)
      after training, in a network that has not learned (under ``th.learned``): their
      gradient is 0 and large steps put them there.
   e. eta, when units died under the initialization their own remedy names: dead units
      (warning or error) after training with a history of at least 4 epochs (as every curve
      verdict: fewer cannot tell a unit killed in training from one that started dead, e.g.
      biases set by hand), in a network that already has the
      remedy's initializers (``current``, e.g. He weights and zero biases): the start did
      not kill them, the steps did, and re-initializing the same way cannot fix it.  Not
      when eta is at or below the finder's threshold.
2. relate: a cause takes the severity of what it explains, and the report (sorted by
   severity, then causes before consequences) puts it first:
       inputs_not_scaled       -> divergence, learning_rate_too_high, saturated and dead units,
                                  exploding gradients, weights of one sign, an output collapse
                                  (z as wide as the data's range: every step too large)
       same_sign_weights       -> the saturation it causes in its layer (z pushed off centre
                                  by weights of one sign) and an output collapse
       learning_rate_too_high  -> (found in the history) dead and saturated units, an output
                                  collapse: large steps kill units and grow weights (a network
                                  that started with them is told apart by diagnosing it fresh);
                                  weights of one sign made in training (below)
       weight_decay_too_strong -> tiny weights and an output collapse; weights of one sign made
                                  in training (what is left of weights that decay within a
                                  few steps is what the last steps wrote, with their signs)
       vanishing_gradients     -> an output collapse (the early layers have not learned)
       too_few_updates         -> saturated and dead units, an output collapse; the output
                                  layer's weights of one sign become "info" (a few large steps
                                  on positive inputs make them; so do large steps after a
                                  learning_rate_too_high found in a history)
   Weights of one sign are "made in training" (evidence ``"made_in_training"``) after training
   (a history) of a network whose ``weight_init`` is one of nnxp's initializers, every one
   symmetric about zero: then they are no configuration cause (re-initializing the same way
   cannot fix them), and a learning rate or weight decay found explains them.
   The explained problem's evidence says ``"explained_by"``; the cause's, ``"explains"``; the
   Report lists what is explained after what is not, within a severity.
"""

from __future__ import annotations

import math

from ..initializers import WEIGHT_INITIALIZERS
from .advice import FIND_ETA, FIND_ETA_REMEDY, MINI_BATCH
from .history_checks import MIN_EPOCHS, stalled
from .report import Problem

__all__ = ["attribute", "relate", "finder_verdict", "too_few_updates"]

_RANK = {"info": 0, "warning": 1, "error": 2}
_CONFIG = ("identical_units", "same_sign_weights", "weight_decay_too_strong",
           "inputs_not_scaled")
# nnxp's weight initializers: each draws weights symmetric about zero, so a layer of them whose
# weights are of one sign after training was made so by the steps, not by the start
_SYMMETRIC = tuple(WEIGHT_INITIALIZERS.values())


def attribute(problems, records, th, *, eta, progress, threshold=None, mini_batch_size=None,
              n=None, last=None, scale=None, current=None) -> list:
    """``problems`` with the causes a history shows: the finder's verdict on eta, too few
    updates, and eta when the run broke at once or its ReLU outputs died or its units died
    under the initialization their remedy names (``current``: the network's "weight_init"
    and "bias_init"; module doc)."""
    current = current or {}
    problems = finder_verdict(problems, eta, threshold)
    if not records:
        _drawn_dead(problems, current)
    if records and current.get("weight_init") in _SYMMETRIC:
        for p in problems:  # weights of one sign from a start symmetric about zero
            if p.kind == "same_sign_weights":
                p.evidence["made_in_training"] = True
                p.message += (f"; the network's initializer ({current['weight_init'].__name__})"
                              " draws weights symmetric about zero, so training's steps made "
                              "them so")
    kinds = {p.kind for p in problems if not p.evidence.get("made_in_training")}
    configured = {p.kind for p in problems if p.kind in _CONFIG and not (
        p.kind == "same_sign_weights" and p.layer == last)  # (what training steps make)
        and not p.evidence.get("made_in_training")}
    if records and not configured:
        few = too_few_updates(records, th, mini_batch_size, n, progress, problems, scale)
        if few is not None:
            return problems + [few]
    broken = any(p.kind in ("dead_units", "saturated_units") and p.severity != "info"
                 for p in problems)
    if (records and eta is not None and broken and not kinds & set(_CONFIG)
            and progress <= th.stalled):
        found = stalled(records, th)
        run_eta = found and _eta_at(records, found["epoch"] - 1, eta)
        if found is not None and (threshold is None or run_eta > threshold):
            problems = [p for p in problems if not (p.kind == "learning_rate_too_high"
                                                    and p.layer is None)]
            return problems + [_stalled_by_eta(found, run_eta, eta, progress)]
    if records and eta is not None and progress < th.learned and (
            threshold is None or eta > threshold):
        dead_out = [p for p in problems if p.kind == "dead_units" and p.layer == last
                    and p.evidence.get("rectified_output")]
        if dead_out:
            died = _outputs_died(dead_out[0], eta, len(records), progress)
            named = [p for p in problems if p.kind == "learning_rate_too_high"
                     and p.layer is None]
            for p in named:  # the finder or the curve named eta already: say what it did
                p.severity = "error"
                p.message += "; " + died.message
            return problems + ([] if named else [died])
    if len(records) >= MIN_EPOCHS and eta is not None and (threshold is None
                                                           or eta > threshold):
        killed = [p for p in problems if p.kind == "dead_units" and p.severity != "info"
                  and p.remedy and all(k in current and current[k] is v
                                       for k, v in p.remedy.items())]
        if killed:
            return _killed_by_eta(problems, killed, eta, len(records))
    return list(problems)


def _drawn_dead(problems, current) -> None:
    """Before training: a minority of dead units (a "warning") in a network that already has
    the initialization their remedy names, whose layer's biases are still all 0 as zero_bias
    drew them (no step has moved them, nor a hand), was drawn so (inputs all of one sign,
    say): re-initializing the same way cannot do better, and the rest of the layer learns.
    "info", in place."""
    for p in problems:
        if (p.kind == "dead_units" and p.severity == "warning" and p.remedy
                and p.evidence.get("bias_max") == 0.0
                and all(k in current and current[k] is v for k, v in p.remedy.items())):
            p.severity = "info"
            p.evidence["drawn_dead"] = True
            p.message += ("; the network already has the initialization the advice names, "
                          "and a minority of dead units costs capacity, not learning")


def _killed_by_eta(problems, killed, eta, epochs) -> list:
    """Dead units in a trained network that already has the initialization their remedy
    names: the start did not kill them, training's steps did.  eta is the cause (an error,
    first); a learning_rate_too_high already found says it too."""
    where = ", ".join(f"{len(p.units)} of layer {p.layer}" for p in killed)
    because = (f"dead units ({where}) in a network that already has the initialization "
               f"their remedy names ({', '.join(sorted(killed[0].remedy))}): after {epochs} "
               f"epochs at eta = {eta:g} the steps, not the start, pushed them off")
    named = [p for p in problems if p.kind == "learning_rate_too_high" and p.layer is None]
    for p in named:
        p.severity = "error"
        p.message += "; " + because
    if named:
        return list(problems)
    return list(problems) + [Problem(
        "learning_rate_too_high", None, [], "error",
        because + " (one large step can push a ReLU unit below zero on every input, where "
        "its gradient is 0)", "a smaller eta from a fresh network: " + FIND_ETA,
        {"eta": eta, "dead": [p.key for p in killed], "epochs": epochs},
        dict(FIND_ETA_REMEDY))]


def finder_verdict(problems, eta, threshold) -> list:
    """One notion of "too high" with the finder: given its ``threshold`` (the largest eta at
    which the training cost still decreases from the start), an eta at or below it is never
    too high by the curve; one above it is, with the finder's measurement as evidence (unless
    the run diverged: divergence already names eta)."""
    if threshold is None or eta is None:
        return list(problems)
    curve = [p for p in problems if p.kind == "learning_rate_too_high" and p.layer is None]
    if eta <= threshold:
        return [p for p in problems if p not in curve]
    if curve or any(p.kind == "divergence" for p in problems):  # (divergence says it)
        for p in curve:
            p.evidence["finder_threshold"] = threshold
            if p.severity == "info":  # the curve could not tell; the finder does
                p.severity = "warning"
                p.message += (f"; eta = {eta:g} is above the threshold the finder measured, "
                              f"{threshold:.4g}: it is too high")
                p.advice = "use the finder's recommendation, half the threshold"
        return list(problems)
    return list(problems) + [Problem(
        "learning_rate_too_high", None, [], "warning",
        f"eta = {eta:g} is above the threshold the finder measured for this network and "
        f"mini-batch size, {threshold:.4g}: from a fresh network, the training cost does not "
        "decrease steadily at such steps (chapter 3)",
        "use the finder's recommendation, half the threshold", {"eta": eta,
                                                                  "finder_threshold": threshold},
        dict(FIND_ETA_REMEDY))]


def too_few_updates(records, th, mini_batch_size, n, progress, problems=(), scale=None):
    """too_few_updates when the run made fewer than ``th.min_updates`` SGD steps in all, with
    mini-batches larger than the book's, in a network that has not learned (``progress``
    below ``th.learned``), has no dead or saturated units (which more steps would not mend)
    and whose training cost did not rise (at or below the cost of predicting the class
    frequencies, ``scale``, when known: the plateau small weights start on); else None."""
    if not mini_batch_size or not n or mini_batch_size <= MINI_BATCH or progress >= th.learned:
        return None
    if any(p.kind in ("dead_units", "saturated_units") and p.severity != "info"
           for p in problems):
        return None
    epochs = len(records)
    updates = epochs * -(-n // mini_batch_size)
    values = [float(r["training_cost"]) for r in records
              if r.get("training_cost") is not None]
    if updates >= th.min_updates or not values or not all(math.isfinite(v) for v in values):
        return None
    tol = th.rise_tolerance
    if values[-1] > values[0] * (1 + tol) or (scale and values[-1] > scale * (1 + tol)):
        return None
    more = epochs * -(-n // MINI_BATCH)
    level = f", {values[-1] / scale:.0%} of the cost of predicting the class frequencies" \
        if scale else ""
    return Problem(
        "too_few_updates", None, [], "error",
        f"{epochs} epochs of mini-batches of {mini_batch_size} on {n} examples are {updates} "
        f"gradient steps in all, and the network has not learned (probe accuracy "
        f"{progress:.0%} of the way from chance to 100%): the training cost went from "
        f"{values[0]:.4g} after epoch 1 to {values[-1]:.4g}{level}, with no dead or saturated "
        "units to blame. Each step is one average over the whole mini-batch; at mini-batch "
        f"{MINI_BATCH} the same epochs make {more} steps",
        f"a smaller mini-batch (mini_batch_size={MINI_BATCH}, the book's; check eta for it: "
        + FIND_ETA + "), or many more epochs",
        {"updates": updates, "epochs": epochs, "mini_batch_size": mini_batch_size, "n": n,
         "first": values[0], "last": values[-1], "progress": progress, "chance_cost": scale},
        {"mini_batch_size": MINI_BATCH})


def relate(problems, trained, last=None) -> None:
    """Each cause takes the severity of the problems it explains (``trained``: a history was
    given, so the learning-rate problem is the history's, about how the run went).  With too
    few updates, the output layer's weights of one sign are what a few large steps on positive
    inputs make (every output weight moves with the sign of its unit's error), not a cause:
    "info"; so are they after training with a learning rate found too high (large steps with
    the sign of the error)."""
    makers = [p.kind for p in problems if p.kind == "too_few_updates" or (
        trained and p.kind == "learning_rate_too_high" and p.layer is None
        and p.severity != "info")]
    if makers:
        for p in problems:
            if p.kind == "same_sign_weights" and p.layer == last:
                p.severity = "info"
                p.evidence["explained_by"] = makers[0]
    for cause in problems:
        for effect in problems:
            if effect is not cause and _explains(cause, effect, trained):
                _attach(cause, effect)


def _eta_at(records, index, default):
    """The eta of the record at ``index`` (the run that was training then), else ``default``."""
    if 0 <= index < len(records):
        value = records[index].get("eta")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return default


def _stalled_by_eta(found, run_eta, eta, progress) -> Problem:
    what = found["key"].replace("_", " ")
    earlier = run_eta is not None and eta is not None and run_eta != eta
    remedy = dict(FIND_ETA_REMEDY)
    if earlier and eta < run_eta:
        remedy = {"eta": eta}  # the last run's eta is not the one that broke it
    return Problem(
        "learning_rate_too_high", None, [], "error",
        f"the {what} stopped improving at once: {found['plateau']:.4g} after epoch "
        f"{found['epoch']}, {found['last']:.4g} after {found['epochs']} (it was "
        f"{found['first']:.4g} after epoch 1), and the network has not learned (probe "
        + (f"accuracy {progress:.0%} of the way from chance to 100%" if progress > 0 else
           "accuracy no better than chance") + f"): the first steps at "
        f"eta = {run_eta:g}" + (f" (an earlier run in this history; the last one used eta = "
                                f"{eta:g})" if earlier else "")
        + " took it to a state it cannot learn from (or it started there: diagnose the fresh "
        "network to tell)",
        "restart from a fresh network" + (f" (eta = {eta:g} is fine)" if "eta" in remedy
                                          and remedy["eta"] != FIND_ETA_REMEDY["eta"]
                                          else " with a smaller eta: " + FIND_ETA),
        {"stalled": found, "eta": run_eta, "last_eta": eta, "progress": progress}, remedy)


def _outputs_died(dead, eta, epochs, progress) -> Problem:
    """ReLU output units off on every input after training, in a network that has not
    learned: large steps pushed them below zero, where their gradient is 0."""
    dead.severity = "error"
    dead.message += (f"; after {epochs} epochs of training at eta = {eta:g} they are still "
                     "off and the network has not learned")
    return Problem(
        "learning_rate_too_high", None, [], "error",
        f"{len(dead.units)} rectified output units are 0 on every probe input after {epochs} "
        f"epochs at eta = {eta:g}, and the network has not learned (probe accuracy "
        f"{progress:.0%} of the way from chance to 100%): large steps pushed their z below 0, "
        "where a ReLU's gradient is 0, and nothing brings them back (their classes are never "
        "predicted)",
        "a smaller eta from a fresh network: " + FIND_ETA + "; or output units that cannot die "
        "(output_activation='softmax' with LogLikelihoodCost, or sigmoid with "
        "CrossEntropyCost)", {"eta": eta, "dead_outputs": list(dead.units), "epochs": epochs,
                              "progress": progress, "eta_factor": 0.5},
        dict(FIND_ETA_REMEDY))


def _explains(cause, effect, trained) -> bool:
    k, e = cause.kind, effect.kind
    if cause.severity == "info":
        return False
    if k == "inputs_not_scaled":
        return e in ("divergence", "learning_rate_too_high", "saturated_units", "dead_units",
                     "exploding_gradients", "output_collapse", "same_sign_weights")
    if k == "same_sign_weights":
        return ((e == "saturated_units" and effect.layer == cause.layer
                 and effect.evidence.get("cause") == "same_sign") or e == "output_collapse")
    made = e == "same_sign_weights" and effect.evidence.get("made_in_training")
    if k == "learning_rate_too_high" and cause.layer is None and trained:
        return (e in ("dead_units", "saturated_units", "output_collapse") or made) and (
            effect.severity != "info")
    if k == "weight_decay_too_strong":
        return e in ("tiny_weights", "output_collapse") or bool(made)
    if k == "too_few_updates":
        return e in ("saturated_units", "output_collapse", "dead_units")
    if k == "vanishing_gradients":
        return e == "output_collapse"
    return False


def _attach(cause, effect) -> None:
    if _RANK[effect.severity] > _RANK[cause.severity]:
        cause.severity = effect.severity
    cause.evidence.setdefault("explains", []).append(
        effect.kind + ("" if effect.layer is None else f"@{effect.layer}"))
    effect.evidence.setdefault("explained_by", cause.kind)
