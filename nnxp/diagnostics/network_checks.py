"""The checks of the whole network: host numbers in, Problems out.

    inputs(totals, stats, th, *, trained=False, progress=0.0)
                                         inputs_not_scaled: the probe's inputs have an RMS
                                         above ``th.input_rms`` (scaled data: about 1 or less);
                                         untrained, only while the first layer's weights are
                                         at the initial 1/sqrt(n_in) scale or below (large
                                         initial weights are saturated_units' cause); trained,
                                         whatever the weights did (the first layer's steps
                                         grow with the inputs); "info" once the trained
                                         network has learned.  Remedy ``scale_inputs`` =
                                         1 / max |x|, or one factor per column, 1 / its max
                                         |x|, when the columns' ranges differ by more than
                                         ``th.column_spread``
    divergence(stats, totals)            NaN or infinite parameters (per layer) or probe cost
    progress(totals, m)                  how far the probe accuracy went from chance to 100%
    decay(decay, th)                     weight_decay_too_strong: eta lmbda / n per step
    gradient_problems(stats, th, eta, found=())
                                         vanishing gradients (a layer two or more layers
                                         below the output) / exploding gradients against the
                                         output layer's; a full step ``th.max_update_ratio``
                                         times the weights (learning_rate_too_high); not on
                                         the layers whose ``found`` problems explain a small
                                         gradient or a large step (EXPLAIN_GRADIENTS)
    collapse(totals, m, th, others, trained, learning=None, scale=None)
                                         output_collapse: one class for (nearly) everything,
                                         with the ``others`` problems that explain it, and
                                         how many of its predictions are argmax ties; "info"
                                         without a cause in a run still ``learning`` or at the
                                         cost of knowing nothing (``scale``: the plateau
                                         training starts on)

``stats``: stats.layer_stats's dicts; ``totals``: measure's network numbers (pred_counts,
label_counts, accuracy, cost_value, x_rms, x_max, x_col_max); ``m``: probe size.
"""

from __future__ import annotations

import statistics

from .advice import (BOOK_DECAY, FIND_ETA, FIND_ETA_REMEDY, HE_REMEDY, REINIT, REINIT_REMEDY,
                     SCALE_INPUTS)
from .report import Problem

__all__ = ["inputs", "divergence", "progress", "decay", "gradient_problems", "collapse",
           "EXPLAIN_GRADIENTS"]

# a layer's problems that explain its small gradient, or make any update large next to its
# weights, better than the gradient comparisons can
EXPLAIN_GRADIENTS = ("tiny_weights", "identical_units", "saturated_units", "dead_units")

# problems that make the output independent of the input, root causes first
_INPUT_BLIND = ("identical_units", "same_sign_weights", "weight_decay_too_strong",
                "too_few_updates", "learning_rate_too_high", "tiny_weights", "dead_units",
                "saturated_units", "vanishing_gradients")


def inputs(totals, stats, th, *, trained=False, progress=0.0) -> list:
    """inputs_not_scaled: the inputs' RMS above ``th.input_rms``.  In a network that was not
    trained (``trained``: a history was given), only while the first layer's weights are not
    larger than the initial 1/sqrt(n_in) scale (weight_scale <= 3, or not finite: a run that
    diverged): weights set large at the start are saturated_units' cause.  After training
    whatever the weights did: the first layer's gradient dC/dw = delta x grows with the inputs,
    so on unscaled inputs its steps are as many times too large and the weights grow, shrink
    or diverge because of the data.  "info" when the trained network has learned
    (``progress`` at least ``th.learned``).  The remedy scales every column by one factor,
    1 / max |x|, unless the columns' ranges differ by more than ``th.column_spread`` (the
    largest magnitude against the median column's): then each column by its own."""
    rms, top = totals["x_rms"], totals["x_max"]
    if not rms > th.input_rms or not top > 0:
        return []
    first = stats[0]
    scale = first["weight_scale"] if first["finite"] else None
    if scale is not None and scale > 3.0 and not trained:
        return []  # large weights set at the start: saturated_units says so, with its remedy
    factor = float(f"{1.0 / top:.3g}")
    z = "" if scale is None else (f"; with the first layer's weights at {scale:.2g}x the "
                                  f"1/sqrt(n_in) scale, z has a spread (std) of "
                                  f"{first['z_std']:.3g}")
    if trained and scale is not None and scale > 3.0:
        z += (" (the weights grew in training: the first layer's gradient delta x grows with "
              "the inputs, so each of its steps is as many times too large)")
    remedy, how = _scale_remedy(totals.get("x_col_max") or [], top, factor, th)
    learned = trained and progress >= th.learned
    return [Problem(
        "inputs_not_scaled", None, [], "info" if learned else "warning",
        f"the inputs are not scaled: their RMS is {rms:.3g} and their largest magnitude "
        f"{top:.4g}, where inputs scaled to [0, 1] or to unit variance have an RMS of about 1 "
        f"or less (the threshold is {th.input_rms:g}). The initial weights N(0, 1/n_in) "
        "assume inputs of that scale" + z + ", so sigmoid and tanh units saturate and every "
        "step is as many times too large"
        + ("; the network learned nonetheless (scaling them would still help)" if learned
           else ""),
        SCALE_INPUTS + how,
        {"x_rms": rms, "x_max": top, "weight_scale": scale,
         "per_column": isinstance(remedy["scale_inputs"], list)}, remedy)]


TINY_COLUMN = 1e-30  # a column's largest magnitude below this is 0 to the per-column remedy


def _scale_remedy(columns, top, factor, th) -> tuple:
    """({"scale_inputs": factor or [factor per column]}, the advice's last words): per column
    when the largest magnitude is above ``th.column_spread`` times the median column's
    (columns that are 0 on the whole probe, or below TINY_COLUMN, whose 1/max is no float32
    number, are left out of the median and get ``factor``)."""
    columns = [c if c >= TINY_COLUMN else 0.0 for c in columns]
    seen = sorted(c for c in columns if c > 0)
    if not seen:
        return {"scale_inputs": factor}, f": scale_inputs = 1/{top:.4g} = {factor:.3g}"
    median = statistics.median(seen)
    if not top > th.column_spread * median:
        return {"scale_inputs": factor}, f": scale_inputs = 1/{top:.4g} = {factor:.3g}"
    per_column = [float(f"{1.0 / c:.3g}") if c > 0 else factor for c in columns]
    return {"scale_inputs": per_column}, (
        f". The columns' ranges differ: their largest magnitudes go from {seen[0]:.3g} to "
        f"{top:.4g} (median {median:.3g}), so one factor would leave most of them near 0; "
        "scale_inputs = one factor per column, 1 / its largest magnitude on the probe "
        "(scikit-learn's MaxAbsScaler)")


def divergence(stats, totals) -> list:
    bad = [st["layer"] for st in stats if not st["finite"]]
    advice = ("restart from the last good parameters with a smaller eta (" + FIND_ETA + "); "
              "check that inputs are scaled to [0, 1]")
    problems = [Problem("divergence", l, [], "error",
                        f"layer {l} has NaN or infinite weights or biases: training diverged",
                        advice, {"finite": False}, dict(FIND_ETA_REMEDY)) for l in bad]
    if not bad:
        problems.append(Problem("divergence", None, [], "error",
                                f"the cost on the probe is {totals['cost_value']}: the "
                                "outputs overflowed", advice, {"cost": totals["cost_value"]},
                                dict(FIND_ETA_REMEDY)))
    return problems


def progress(totals, m) -> float:
    """How far the probe accuracy went from chance (the largest label share) towards 1."""
    chance = max(totals["label_counts"]) / m
    return 1.0 if chance >= 1.0 else (totals["accuracy"] - chance) / (1.0 - chance)


def decay(decay, lmbda, th) -> list:
    if decay is None or decay <= th.max_decay:
        return []
    return [Problem(
        "weight_decay_too_strong", None, [], "error" if decay > 0.05 else "warning",
        f"L2 regularization multiplies every weight by 1 - eta lmbda / n = {1 - decay:.4g} at "
        f"each step, so the weights forget what they learned within about {1 / decay:.0f} "
        "mini-batches",
        f"lower lmbda (or eta) so that eta lmbda / n is far below 1 (here {decay:.3g}; the "
        "book's MNIST run: 0.5 * 5.0 / 50000 = 5e-5), then " + REINIT,
        {"decay_per_step": decay}, {"lmbda": lmbda * BOOK_DECAY / decay, **REINIT_REMEDY})]


def collapse(totals, m, th, others, trained, learning=None, scale=None) -> list:
    """output_collapse (module docstring).  Without a cause, after training: an error when the
    run stopped learning above the cost of knowing nothing (``scale``, measure.chance_cost);
    "info" at or below it (within ``th.rise_tolerance``): the network predicts the class
    frequencies, the plateau a network of small weights starts on and learns its way off
    (deep sigmoid networks can sit there for many epochs), with nothing broken to blame."""
    counts, labels = totals["pred_counts"], totals["label_counts"]
    if len(counts) < 2:
        return []
    c = max(range(len(counts)), key=counts.__getitem__)
    share, label_share = counts[c] / m, labels[c] / m
    if share < th.collapse_share or label_share >= th.collapse_share:
        return []
    causes = sorted((p for p in others if p.kind in _INPUT_BLIND and p.severity != "info"),
                    key=lambda p: (bool(p.evidence.get("made_in_training")),
                                   _INPUT_BLIND.index(p.kind)))  # (causes.py: an effect)
    ties = totals.get("ties", 0)
    msg = (f"the network predicts class {c} for {share:.0%} of the probe inputs (its share of "
           f"the labels is {label_share:.0%}); accuracy {totals['accuracy']:.1%}")
    if ties >= counts[c] / 2:
        msg += (f"; {ties:.0f} of the {m} inputs have their largest output shared by several "
                f"units (e.g. every output 0), and argmax gives them to the first")
    if causes:
        advice = ("the output no longer depends on the input because of: "
                  + "; ".join(f"{p.kind} ({p.where})" for p in causes)
                  + ". Fix those first: " + causes[0].advice)
        remedy = dict(causes[0].remedy)
        factor = causes[0].evidence.get("eta_factor")
    else:
        advice = ("check the cost (CrossEntropyCost with sigmoid outputs), eta (" + FIND_ETA
                  + ") and the initialization (" + REINIT + ")")
        remedy, factor = {}, None
    plateau = (not causes and scale is not None
               and totals["cost_value"] <= scale * (1 + th.rise_tolerance))
    severity = ("error" if (trained and (causes or not (learning or plateau)))
                or any(p.severity == "error" for p in causes) else "info")
    if severity == "info":
        msg += ("; an untrained network often does this (its output biases decide), so this "
                "matters only if training does not change it"
                + ((" (the training cost is still falling)" if learning else
                    f" (its cost, {totals['cost_value']:.4g}, is that of predicting the class "
                    f"frequencies, {scale:.4g}: the plateau training starts on, with nothing "
                    "broken to blame)") if trained else ""))
    return [Problem("output_collapse", None, [c], severity, msg, advice,
                    {"class": c, "share": share, "label_share": label_share, "ties": ties,
                     "accuracy": totals["accuracy"], "causes": [p.kind for p in causes],
                     "chance_cost": scale, **({"eta_factor": factor} if factor else {})},
                    remedy)]


def gradient_problems(stats, th, eta, found=()) -> list:
    """Gradients by layer against the output layer's; update ratios.  ``stats``: the layers
    with weights, input to output (a layered network's Reshape, Flatten and MaxPool2D left
    out: "layers below the output" counts layers with weights); a problem names a layer by
    its stats' "layer".  Layers with a ``found`` problem of EXPLAIN_GRADIENTS (not "info")
    are left out: their weights vanished or are all equal (any update is large next to them),
    or they are saturated or dead, which explains a small gradient better.  Vanishing
    gradients are the deep-network problem of chapter 5: a layer two or more layers below
    the output."""
    skip = {p.layer for p in found if p.severity != "info" and p.kind in EXPLAIN_GRADIENTS}
    problems, g_out, last = [], stats[-1]["grad_rms"], len(stats) - 1
    for depth, st in enumerate(stats):
        l, g = st["layer"], st["grad_rms"]
        if l in skip:
            continue
        ratio = g / g_out if depth < last and g_out > 0 else None
        if ratio is not None and ratio < th.vanishing_ratio and depth <= last - 2:
            problems.append(Problem(
                "vanishing_gradients", l, [], "warning",
                f"the gradient of layer {l}'s weights has RMS {g:.3g}, {ratio:.1e} of the "
                f"output layer's: layer {l} learns about {1 / max(ratio, 1e-300):.0f}x "
                "more slowly (the vanishing gradient problem)",
                "each sigmoid layer multiplies the error by sigma'(z) <= 1/4 and by its "
                "weights: use ReLU hidden units with He weights N(0, 2/n_in) and zero biases "
                "(chapter 6), or fewer layers",
                {"grad_rms": g, "ratio_to_output": ratio},
                {"activation": "relu", **HE_REMEDY}))
        elif ratio is not None and ratio > th.exploding_ratio:
            problems.append(Problem(
                "exploding_gradients", l, [], "error",
                f"the gradient of layer {l}'s weights has RMS {g:.3g}, {ratio:.3g}x the "
                "output layer's (the exploding gradient problem)",
                "large weights multiply the error at each layer: " + REINIT + "; a smaller eta",
                {"grad_rms": g, "ratio_to_output": ratio}, REINIT_REMEDY))
            continue
        problems += _update_ratio(st, th, eta)
    return problems


def _update_ratio(st, th, eta) -> list:
    u = st["update_ratio"]
    if u is None or not u > th.max_update_ratio:  # (NaN: no finding)
        return []
    return [Problem(
        "learning_rate_too_high", st["layer"], [], "error",
        f"one full gradient step eta |dC/dw| = {u:.3g} x |w| for layer {st['layer']}: each "
        f"update is {u:.0f} times the weights themselves (eta = {eta:g})",
        "a smaller eta: " + FIND_ETA, {"update_ratio": u, "eta": eta},
        dict(FIND_ETA_REMEDY))]
