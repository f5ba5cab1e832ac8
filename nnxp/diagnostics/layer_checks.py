"""The checks of one layer: host numbers (a stats dict of stats.layer_stats) in, Problems out.

    layer_problems(net, stats, th, ctx) -> [Problem, ...] over every layer:
        saturated_units   hidden layers (share of saturated (unit, input) pairs, unless the
                          network has learned; the cause the numbers point at: weights of one
                          sign, z off centre, or weights large next to 1/sqrt(n_in)) and the
                          output layer (error signal silenced by sigma'(z) under a cost whose
                          delta^L carries it)
        dead_units        ReLU units with z <= 0 on every input of a conclusive probe
                          (``th.conclusive_probe`` rows, or all the data) whose input cannot
                          change: the first layer (its input is the data) or a layer below
                          which nothing learns (zero gradient).  Otherwise "info": their own
                          gradient is 0, but the layers below can turn them back on (networks
                          that start with small weights have such units, and they recover);
                          also "info": a minority of dead hidden units in a network that has
                          learned (``th.learned``) or is learning (ctx "learning").  Dead
                          output units after training are judged with the history (causes.py)
        identical_units, tiny_weights, same_sign_weights   the weights themselves (the first
                          layer's tiny_weights: weight_scale times the inputs' RMS when above 1)

``ctx``: "m" probe rows, "whole" (the probe is all the data), "ties" probe rows whose largest
output several units share, "decay" eta lmbda / n or None, "lmbda", "x_rms" the inputs' RMS
and "first" the index of the first layer with weights (tiny_weights there is judged on the
weights times the inputs' RMS when that is above 1), "progress" (how far the
probe accuracy went from chance towards 100%, network_checks.progress), "learning" (with a
history: too short to judge, or the cost is falling; history.learning; None without one).
"""

from __future__ import annotations

import math

from .advice import (BOOK_DECAY, FIND_ETA, FIND_ETA_REMEDY, HE_INIT, HE_REMEDY, REINIT,
                     REINIT_REMEDY)
from .report import Problem
from .stats import slowdowns

__all__ = ["layer_problems"]

_STILL = 1e-7  # weight-gradient RMS below this times the weight RMS: the layer does not learn


def layer_problems(net, stats, th, ctx) -> list:
    problems, last = [], len(stats) - 1
    for st, act in zip(stats, net.activations):
        l = st["layer"]
        if act.saturating and l < last:
            problems += _hidden_saturation(st, act, th, net.cost, ctx["progress"])
        if act.saturating and l == last:
            problems += _output_saturation(st, act, th, net.cost)
        if act.rectified:
            below = [s for s in stats[:l] if s["grad_rms"] > _STILL * s["weight_rms"]]
            problems += _dead(st, act, th, l == last, ctx, below)
        problems += _weight_problems(st, th, ctx)
    return problems


# -- saturation -------------------------------------------------------------------------------

def _saturation_cause(st, th) -> tuple:
    """(cause, why, advice, remedy): what the layer's numbers point at, said with them."""
    scale, z_mean, z_std, rms = st["weight_scale"], st["z_mean"], st["z_std"], st["weight_rms"]
    pos, neg = st["positive_weights"], st["_negative_weights"]
    if max(pos, neg) >= th.same_sign_share and abs(z_mean) > 2 * z_std:
        sign = "positive" if pos >= neg else "negative"
        return ("same_sign",
                f"{max(pos, neg):.0%} of its weights are {sign}, so every input pushes every z "
                f"the same way: mean z {z_mean:+.3g} against a spread (std) of {z_std:.3g}",
                "use initial weights symmetric about zero: " + REINIT, REINIT_REMEDY)
    if abs(z_mean) > 2 * z_std:
        return ("off_centre",
                f"z is off centre: mean {z_mean:+.3g} against a spread (std) of {z_std:.3g}, "
                "so the biases (or weights that moved together) hold every unit on one side",
                "re-initialize the network; if it was trained into this state, use a smaller "
                "eta and check the L2 strength lmbda", REINIT_REMEDY)
    if scale >= 3.0:
        if rms > 2.0:
            return ("grown_weights",
                    f"the weights are {scale:.0f}x the 1/sqrt(n_in) scale (RMS {rms:.3g}, more "
                    "than the N(0, 1) weights of network2's large_weight_initializer: they "
                    f"grew in training, as large steps make them), so z is wide (std {z_std:.3g})",
                    "a smaller eta (" + FIND_ETA + "), then " + REINIT,
                    {**REINIT_REMEDY, **FIND_ETA_REMEDY})  # as the advice says: both
        return ("large_weights",
                f"the weights are {scale:.0f}x the 1/sqrt(n_in) scale (RMS {rms:.3g}; N(0, 1) "
                f"weights, network2's large_weight_initializer, give {math.sqrt(st['n_in']):.0f}x "
                f"here), so z = w.a + b is wide (std {z_std:.3g}); such a network still learns, "
                "more slowly (chapter 3)", REINIT, REINIT_REMEDY)
    return ("unknown", f"z has mean {z_mean:.3g} and std {z_std:.3g}",
            REINIT + "; a smaller eta keeps the weights from growing", REINIT_REMEDY)


def _hidden_saturation(st, act, th, cost, progress) -> list:
    sat, share = st["saturated"], st["_sat_share"]
    if sat < th.saturated_fraction or (sat < 0.9 and progress >= th.learned):
        return []  # a trained network's confident hidden units saturate too: not a problem
    units = [j for j, s in enumerate(share) if s >= th.unit_share]
    cause, why, advice, remedy = _saturation_cause(st, th)
    typical = sorted(share)[len(share) // 2]
    which = (f"{len(units)} of {st['units']} units are saturated on at least "
             f"{th.unit_share:.0%} of the inputs" if units else
             f"no unit on {th.unit_share:.0%} of the inputs, but the median unit on "
             f"{typical:.0%} of them")
    msg = (f"{sat:.0%} of the (unit, input) pairs of hidden layer {st['layer']} ({act.name}) "
           f"are saturated (derivative below {th.saturation_prime:.0%} of its peak); {which}. "
           f"Saturated hidden units learn slowly whatever the cost: {why}")
    frozen = st["saturated_units"] >= 0.9  # (nearly) every unit stuck: the layer cannot learn
    return [Problem("saturated_units", st["layer"], units, "error" if frozen else "warning",
                    msg, advice,
                    {"saturated": sat, "saturated_units": st["saturated_units"],
                     "weight_scale": st["weight_scale"], "weight_rms": st["weight_rms"],
                     "z_mean": st["z_mean"], "z_std": st["z_std"], "cost": cost.name,
                     "cause": cause}, remedy)]


def _output_saturation(st, act, th, cost) -> list:
    err, slow = st["_err_rms"], slowdowns(st)
    units = [j for j, (s, e) in enumerate(zip(slow, err))
             if e >= th.output_min_error and s < th.output_slowdown]
    if not units:
        return []
    mean_err = sum(err[j] for j in units) / len(units)
    mean_slow = sum(slow[j] for j in units) / len(units)
    msg = (f"output units {units} ({act.name}) are saturated on the wrong side: their error "
           f"a - y is large (RMS {mean_err:.2f}) but the error signal delta^L that "
           f"{cost.name} passes back is only {mean_slow * 100:.2g}% of what an unsaturated unit "
           f"would pass, because delta^L = (a - y) sigma'(z) and sigma'(z) ~ 0: they learn "
           "very slowly (chapter 3's learning slowdown)")
    if cost.name == "QuadraticCost":
        advice = ("use CrossEntropyCost: its delta^L = a - y has no sigma'(z), so saturated "
                  "outputs still learn fast (chapter 3); and " + REINIT + ", since these "
                  "weights are stuck")
        remedy = {"cost": "CrossEntropyCost", **REINIT_REMEDY}
    else:
        advice = (f"pair the output activation with a cost whose delta^L = a - y "
                  f"(CrossEntropyCost for Sigmoid, LogLikelihoodCost for Softmax); {REINIT}")
        remedy = dict(REINIT_REMEDY)
    severity = "error" if 2 * len(units) >= st["units"] else "warning"
    return [Problem("saturated_units", st["layer"], units, severity, msg, advice,
                    {"error_rms": mean_err, "delta_fraction": mean_slow, "cost": cost.name,
                     "weight_scale": st["weight_scale"], "weight_rms": st["weight_rms"],
                     "cause": "output"}, remedy)]


# -- dead units -------------------------------------------------------------------------------

def _dead(st, act, th, is_output, ctx, below) -> list:
    off = [j for j, s in enumerate(st["_active_share"]) if s == 0.0]
    if not off or (not is_output and len(off) < th.dead_fraction * st["units"]):
        return []
    m = ctx["m"]
    if not is_output and 2 * len(off) < st["units"] and (
            ctx["progress"] >= th.learned or ctx.get("learning")):
        how = (f"the network learned with the others (probe accuracy {ctx['progress']:.0%} of "
               "the way from chance to 100%)" if ctx["progress"] >= th.learned else
               "the training cost is falling: the others carry the learning")
        return [_off(st, act, off, ctx, is_output,
                     f". A minority of dead units costs capacity, not learning: {how}",
                     "nothing needed; if capacity matters, " + HE_INIT)]
    if m < th.conclusive_probe and not ctx["whole"]:
        return [_off(st, act, off, ctx, is_output,
                     f": too few inputs to call them dead (a unit active on 1 input in "
                     f"{max(1, m // 3)} is easily missed)",
                     f"diagnose with probe_size >= {th.conclusive_probe}")]
    if below:
        g = max(s["grad_rms"] for s in below)
        return [_off(st, act, off, ctx, is_output,
                     f". Their own gradient is 0, but the layers below still learn "
                     f"(weight-gradient RMS up to {g:.2g}), which can turn them back on, as it "
                     "does in networks that start with small weights",
                     "watch whether they recover (HealthMonitor); if they stay off while the "
                     "cost stops falling, use a smaller eta")]
    why = ("their input is the data" if st["layer"] == 0 else
           "nothing below them learns (zero gradient), so their input cannot change")
    return [_dead_problem(st, act, off, ctx, is_output, why)]


def _head(st, act, units, ctx, is_output) -> str:
    m = ctx["m"]
    head = (f"{len(units)} of {st['units']} units of {'output' if is_output else 'hidden'} "
            f"layer {st['layer']} ({act.name}) have z <= 0 on every one of the {m} probe inputs")
    if is_output:
        head += (f" ({ctx['ties']} of the {m} inputs have their largest output shared by "
                 "several units, e.g. all 0; argmax gives each such input to the first of them)")
    return head


def _evidence(st, units, ctx, is_output) -> dict:
    evidence = {"dead": len(units) / st["units"], "z_mean": st["z_mean"], "n_probe": ctx["m"],
                "bias_max": st.get("_bias_max")}
    if is_output:
        evidence["ties"] = ctx["ties"]
        evidence["rectified_output"] = True
    return evidence


def _off(st, act, units, ctx, is_output, why, advice) -> Problem:
    """Units off on every probe input that cannot be called dead: "info"."""
    return Problem("dead_units", st["layer"], units, "info",
                   _head(st, act, units, ctx, is_output) + why, advice,
                   _evidence(st, units, ctx, is_output))


def _dead_problem(st, act, units, ctx, is_output, why) -> Problem:
    evidence = _evidence(st, units, ctx, is_output)
    head = _head(st, act, units, ctx, is_output)
    slope = getattr(act, "slope", 0.0)
    if slope:
        return Problem("dead_units", st["layer"], units, "warning",
                       head + f": they learn only through the leak slope {slope}",
                       "a smaller eta (large steps push units off); " + HE_INIT,
                       evidence, HE_REMEDY)
    frac = len(units) / st["units"]
    return Problem("dead_units", st["layer"], units,
                   "error" if is_output or frac >= 0.5 else "warning",
                   head + f": their gradient is 0 and {why}, so they never recover"
                   + (f"; the network cannot predict classes {units} on its own"
                      if is_output else ""),
                   HE_INIT + " (negative biases start units dead); a smaller eta (one large "
                   "step can kill a unit: " + FIND_ETA + ")", evidence, HE_REMEDY)


# -- the weights ------------------------------------------------------------------------------

def _weight_problems(st, th, ctx) -> list:
    problems, l = [], st["layer"]
    if st["units"] >= 2 and st["_unit_spread"] <= 1e-6 * st["weight_rms"]:
        problems.append(Problem(
            "identical_units", l, list(range(st["units"])), "error",
            f"all {st['units']} units of layer {l} have the same weights: they compute the "
            "same function, get the same gradient, and stay identical forever",
            "start from random weights, symmetric about zero: " + REINIT,
            {"unit_spread": st["_unit_spread"]}, REINIT_REMEDY))
    elif st["weight_scale"] * _input_scale(st, ctx) < th.tiny_weight_ratio:
        problems.append(_tiny_weights(st, th, ctx))
    pos, neg = st["positive_weights"], st["_negative_weights"]
    n_w = st["units"] * st["n_in"]
    if n_w >= 10 and st["weight_rms"] > 0 and max(pos, neg) >= th.same_sign_share:
        sign = "positive" if pos >= neg else "negative"
        problems.append(Problem(
            "same_sign_weights", l, [], "warning",
            f"{max(pos, neg):.1%} of the {n_w} weights of layer {l} are {sign}: every unit "
            "sees the same direction of its inputs, and z cannot be centred",
            "use initial weights symmetric about zero: " + REINIT,
            {"positive_weights": pos, "negative_weights": neg, "z_mean": st["z_mean"],
             "z_std": st["z_std"]}, REINIT_REMEDY))
    return problems


def _input_scale(st, ctx) -> float:
    """What the weights multiply, next to the unit scale the 1/sqrt(n_in) initializer assumes:
    the inputs' RMS for the first layer with weights when above 1 (small weights there can be
    a network's answer to unscaled inputs, and z still depends on them), else 1."""
    if st["layer"] != ctx.get("first", 0) or ctx.get("x_rms") is None:
        return 1.0
    return max(1.0, ctx["x_rms"])


def _tiny_weights(st, th, ctx) -> Problem:
    decay, lmbda = ctx["decay"], ctx["lmbda"]
    why = ""
    advice = ("if training with L2 regularization, lmbda is too large for this eta and "
              "training-set size (each step multiplies the weights by 1 - eta lmbda / n); "
              "lower lmbda or eta, and " + REINIT)
    remedy = dict(REINIT_REMEDY)
    if decay is not None:
        why = (f"; each step multiplies them by 1 - eta lmbda / n = {1 - decay:.3g}, so "
               "weight decay overwhelms learning")
        advice = (f"lower lmbda (or eta): eta lmbda / n = {decay:.3g} should be far below "
                  f"1 (the book's MNIST run: 0.5 * 5.0 / 50000 = 5e-5); then " + REINIT)
        remedy = {"lmbda": lmbda * BOOK_DECAY / decay, **REINIT_REMEDY}
    return Problem(
        "tiny_weights", st["layer"], [],
        "error" if st["weight_scale"] * _input_scale(st, ctx) < th.tiny_weight_ratio / 10
        else "warning",
        f"the weights of layer {st['layer']} have RMS {st['weight_rms']:.3g}, "
        f"{st['weight_scale']:.2%} of the 1/sqrt(n_in) scale: the layer's output hardly "
        f"depends on its input" + why, advice,
        {"weight_rms": st["weight_rms"], "weight_scale": st["weight_scale"],
         "decay_per_step": decay}, remedy)
