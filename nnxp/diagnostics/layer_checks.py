"""The checks of one layer: host numbers (a stats dict of stats.layer_stats) in, Problems out.

    layer_problems(net, stats, th, decay, progress) -> [Problem, ...] over every layer:
        saturated_units   hidden layers (share of saturated (unit, input) pairs, unless the
                          network has learned) and the output layer (error signal silenced
                          by sigma'(z) under a cost whose delta^L carries it)
        dead_units        ReLU-family units with z <= 0 on every probe input
        identical_units, tiny_weights, same_sign_weights   the weights themselves

``decay`` is eta lmbda / n or None; ``progress`` how far the probe accuracy went from chance
towards 100% (network_checks.progress).
"""

from __future__ import annotations

from .advice import REINIT
from .report import Problem
from .stats import slowdowns

__all__ = ["layer_problems"]


def layer_problems(net, stats, th, decay, progress) -> list:
    problems, last = [], len(stats) - 1
    for st, act in zip(stats, net.activations):
        if act.saturating and st["layer"] < last:
            problems += _hidden_saturation(st, act, th, net.cost, progress)
        if act.saturating and st["layer"] == last:
            problems += _output_saturation(st, act, th, net.cost)
        if act.rectified:
            problems += _dead(st, act, th, st["layer"] == last)
        problems += _weight_problems(st, th, decay)
    return problems


def _saturation_cause(st) -> tuple:
    """(why, advice) for saturated units: large weights, or biases pushing z off centre."""
    scale, z_mean, z_std = st["weight_scale"], st["z_mean"], st["z_std"]
    if scale >= 3.0:
        return (f"the weights are {scale:.0f}x the 1/sqrt(n_in) scale of the default "
                f"initializer (RMS {st['weight_rms']:.3g}), so z = w.a + b is wide (std "
                f"{z_std:.3g})", REINIT)
    if abs(z_mean) > 2 * z_std:
        return (f"the biases push every z far from 0 (mean z {z_mean:.3g}, std {z_std:.3g})",
                "re-initialize the network; if it was trained into this state, use a smaller "
                "eta and check the L2 strength lmbda")
    return (f"z has mean {z_mean:.3g} and std {z_std:.3g}",
            REINIT + "; a smaller eta keeps the weights from growing")


def _hidden_saturation(st, act, th, cost, progress) -> list:
    sat, share = st["saturated"], st["_sat_share"]
    if sat < th.saturated_fraction or (sat < 0.9 and progress >= th.learned):
        return []  # a trained network's confident hidden units saturate too: not a problem
    units = [j for j, s in enumerate(share) if s >= th.unit_share]
    why, advice = _saturation_cause(st)
    typical = sorted(share)[len(share) // 2]
    which = (f"{len(units)} of {st['units']} units are saturated on at least "
             f"{th.unit_share:.0%} of the inputs" if units else
             f"no unit on {th.unit_share:.0%} of the inputs, but the median unit on "
             f"{typical:.0%} of them")
    msg = (f"{sat:.0%} of the (unit, input) pairs of hidden layer {st['layer']} ({act.name}) "
           f"are saturated (derivative below {th.saturation_prime:.0%} of its peak); {which}. "
           f"Saturated hidden units learn slowly whatever the cost: {why}")
    return [Problem("saturated_units", st["layer"], units,
                    "error" if sat >= 0.9 else "warning", msg, advice,
                    {"saturated": sat, "weight_scale": st["weight_scale"],
                     "z_mean": st["z_mean"], "z_std": st["z_std"], "cost": cost.name})]


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
                  "weights are stuck; a smaller eta avoids driving outputs into saturation")
    else:
        advice = (f"pair the output activation with a cost whose delta^L = a - y "
                  f"(CrossEntropyCost for Sigmoid, LogLikelihoodCost for Softmax); {REINIT}")
    severity = "error" if 2 * len(units) >= st["units"] else "warning"
    return [Problem("saturated_units", st["layer"], units, severity, msg, advice,
                    {"error_rms": mean_err, "delta_fraction": mean_slow, "cost": cost.name,
                     "weight_scale": st["weight_scale"]})]


def _dead(st, act, th, is_output) -> list:
    units = [j for j, s in enumerate(st["_active_share"]) if s == 0.0]
    frac = len(units) / st["units"]
    if not units or (not is_output and frac < th.dead_fraction):
        return []
    slope = getattr(act, "slope", 0.0)
    where = "output" if is_output else "hidden"
    if slope:
        msg = (f"{len(units)} of {st['units']} units of {where} layer {st['layer']} "
               f"({act.name}) have z <= 0 on every probe input: they learn only through the "
               f"leak slope {slope}")
        advice = "a smaller eta (large steps push units off); He initialization N(0, 2/n_in)"
        severity = "warning"
    else:
        msg = (f"{len(units)} of {st['units']} units of {where} layer {st['layer']} "
               f"({act.name}) output 0 for every probe input (z <= 0): their gradient is 0, "
               "so they never recover" + (" and their classes can never win the argmax"
                                          if is_output else ""))
        advice = ("use LeakyReLU(0.01), which keeps a gradient where ReLU has none; a smaller "
                  "eta (one large step can kill a unit); He initial weights N(0, 2/n_in) with "
                  "zero or small positive biases (N(0, 1) biases start some units dead)"
                  + ("; or a Sigmoid / Softmax output layer" if is_output else ""))
        severity = "error" if is_output or frac >= 0.5 else "warning"
    return [Problem("dead_units", st["layer"], units, severity, msg, advice,
                    {"dead": frac, "z_mean": st["z_mean"]})]


def _weight_problems(st, th, decay) -> list:
    problems, l = [], st["layer"]
    if st["units"] >= 2 and st["_unit_spread"] <= 1e-6 * st["weight_rms"]:
        problems.append(Problem(
            "identical_units", l, list(range(st["units"])), "error",
            f"all {st['units']} units of layer {l} have the same weights: they compute the "
            "same function, get the same gradient, and stay identical forever",
            "start from random weights, symmetric about zero: " + REINIT,
            {"unit_spread": st["_unit_spread"]}))
    elif st["weight_scale"] < th.tiny_weight_ratio:
        problems.append(_tiny_weights(st, th, decay))
    pos, neg = st["positive_weights"], st["_negative_weights"]
    n_w = st["units"] * st["n_in"]
    if n_w >= 10 and st["weight_rms"] > 0 and max(pos, neg) >= th.same_sign_share:
        sign = "positive" if pos >= neg else "negative"
        problems.append(Problem(
            "same_sign_weights", l, [], "warning",
            f"{max(pos, neg):.1%} of the {n_w} weights of layer {l} are {sign}: every unit "
            "sees the same direction of its inputs, and z cannot be centred",
            "use initial weights symmetric about zero: " + REINIT,
            {"positive_weights": pos, "negative_weights": neg}))
    return problems


def _tiny_weights(st, th, decay) -> Problem:
    why = ""
    advice = ("if training with L2 regularization, lmbda is too large for this eta and "
              "training-set size (each step multiplies the weights by 1 - eta lmbda / n); "
              "lower lmbda or eta, and " + REINIT)
    if decay is not None:
        why = (f"; each step multiplies them by 1 - eta lmbda / n = {1 - decay:.3g}, so "
               "weight decay overwhelms learning")
        advice = (f"lower lmbda (or eta): eta lmbda / n = {decay:.3g} should be far below "
                  f"1 (the book's MNIST run: 0.5 * 5.0 / 50000 = 5e-5); then " + REINIT)
    return Problem(
        "tiny_weights", st["layer"], [],
        "error" if st["weight_scale"] < th.tiny_weight_ratio / 10 else "warning",
        f"the weights of layer {st['layer']} have RMS {st['weight_rms']:.3g}, "
        f"{st['weight_scale']:.2%} of the 1/sqrt(n_in) scale: the layer's output hardly "
        f"depends on its input" + why, advice,
        {"weight_rms": st["weight_rms"], "weight_scale": st["weight_scale"],
         "decay_per_step": decay})
