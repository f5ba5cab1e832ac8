"""diagnose on a layered network (``nnxp.Network`` over nnxp.layers): per-layer statistics from
``sequential.forward``'s caches, judged by the dense path's rules.

    diagnose_layered(net, probe, th, *, eta, lmbda, n, records, whole, threshold=None,
                     mini_batch_size=None) -> Report
        called by diagnosis.diagnose (which checks the arguments and takes the probe)
    probe_numbers(layers, params, cost, x, y, labels, saturation_prime, device) -> flat array
        one forward and one backward pass; pure, static output shape (JAX compiles it whole)
    layout(layers, sizes, n_in) -> [(layer, name, size or None), ...]   the flat array's order

One entry of ``Report.stats`` per layer, indexed like ``net.layers``, and ``Problem.layer`` is
that index.  A layer with an activation (its cache holds ``z`` and ``a``) gets the activation
statistics; its *units* are the axis after the examples: a dense layer's units, a convolutional
layer's filters (feature maps), whose per-unit shares are taken over every example and every
position of the map.  So a ReLU filter is dead when its map is 0 at every position of every
probe example, and a sigmoid/tanh filter is saturated on the share of (example, position)
pairs where its derivative is below ``saturation_prime`` of its peak.  A layer with
parameters gets the weight statistics of its first parameter, w (units, *fan_in): fan-in
``n_in`` = the product of the other axes (C kh kw for a filter), so ``weight_scale`` is
weight_rms sqrt(n_in) for filters as for dense units.  A layer with neither (Reshape, Flatten,
MaxPool2D) has ``None`` statistics and is never the subject of a problem.

The checks are layer_checks' and network_checks' (the same kinds, thresholds, messages and
remedies): divergence, dead_units, saturated_units (hidden layers), identical_units,
tiny_weights, same_sign_weights, weight_decay_too_strong, output_collapse, the output layer's
saturation slowdown (chapter 3), the gradient comparisons (vanishing / exploding gradients
against the output layer's, update ratios eta |dC/dw| / |w|: network_checks.gradient_problems
on the layers with weights, so "two or more layers below the output" counts layers with
weights, and a Flatten or MaxPool2D between two of them adds no depth), the history's checks
and the causes.  The gradients are sequential.backward's (the training path's) of the summed,
unregularized cost on the probe, their norms divided by its m rows, as for a dense stack.
Skipped on layered networks: identical_units and tiny_weights on the output layer (network3's
Softmax starts at zero weights, and its units part at the first step, each with its own
error); they still keep the output layer out of the gradient comparisons, as they do on a
dense stack.  While the output layer's weights are all zero, no gradient reaches the layers
below it, so a dead-unit verdict above the first layer with weights is "info" until the
first step, and the gradient comparisons wait for that step too.
"""

from __future__ import annotations

import functools
import math

from ..layers import sequential
from ..namespace import namespace
from . import layer_checks
from . import network_checks as net_checks
from .advice import resolve_eta
from .causes import attribute, relate
from .history_checks import history_problems, learning
from .measure import TOTALS, _totals, chance_cost, input_numbers, rms, std, total_size
from .report import Report
from .stats import public, slowdowns, update_ratio

__all__ = ["diagnose_layered", "probe_numbers", "layout"]

WEIGHTS = ("finite", "weight_rms", "positive_weights", "negative_weights", "unit_spread",
           "grad_norm", "bias_grad_norm")
ACTIVITY = ("act_mean", "act_std", "z_mean", "z_std")


def _has_activation(layer) -> bool:
    return getattr(layer, "activation", None) is not None and hasattr(layer, "backward_z")


def _per_unit(layer) -> tuple:
    act = layer.activation
    return (("sat_share",) if act.saturating else ()) + (
        ("active_share",) if act.rectified else ())


def _output_numbers(layer) -> tuple:
    """A saturating output layer's per-unit error RMS values and its peak derivative."""
    return ("err_rms", "delta_rms", "peak") if layer.activation.saturating else ()


def layout(layers, sizes, n_in) -> list:
    """[(layer, name, size or None), ...]: per layer its weight numbers (layers with
    parameters), activity numbers and per-unit shares (layers with an activation), and for a
    saturating output layer its per-unit errors; then the TOTALS (class counts: ``sizes[-1]``
    values each; the largest magnitude per input column: ``n_in``)."""
    entries, shape, last = [], (n_in,), len(layers) - 1
    for l, layer in enumerate(layers):
        has_params = bool(layer.param_shapes(shape))
        shape = tuple(layer.output_shape(shape))
        entries += [(l, name, None) for name in WEIGHTS] if has_params else []
        if _has_activation(layer):
            entries += [(l, name, None) for name in ACTIVITY]
            entries += [(l, name, shape[0]) for name in _per_unit(layer)]
        if l == last:
            entries += [(l, name, None if name == "peak" else shape[0])
                        for name in _output_numbers(layer)]
    return entries + [(None, name, total_size(name, n_in, sizes[-1])) for name in TOTALS]


def probe_numbers(layers, params, cost, x, y, labels, saturation_prime, device):
    """Every number of ``layout``, as one flat array of the output's dtype."""
    xp = namespace(x)
    out, caches = sequential.forward(layers, params, x)
    delta = sequential.output_error(layers, caches, cost, y)
    grads = sequential.backward(layers, params, caches, delta, at_z=True)
    parts, m = [], x.shape[0]
    for layer, p, cache, g in zip(layers, params, caches, grads):
        if len(p):
            numbers = _weights(xp, p, g, m)
            parts += [numbers[name] for name in WEIGHTS]
        if _has_activation(layer):
            numbers = _activity(xp, layer.activation, cache.z, cache.a, saturation_prime)
            parts += [numbers[name] for name in ACTIVITY + _per_unit(layer)]
    if _output_numbers(layers[-1]):
        err, act, z = out - y, layers[-1].activation, caches[-1].z
        z0 = xp.zeros_like(xp.reshape(z, (-1,))[:1])
        parts += [xp.sqrt(xp.mean(err * err, axis=0)), xp.sqrt(xp.mean(delta * delta, axis=0)),
                  act.backward(z0, act.fn(z0), xp.ones_like(z0))]
    totals = _totals(xp, cost, out, y, labels, device)
    totals |= input_numbers(xp, x)
    parts += [totals[name] for name in TOTALS]
    return xp.concat([xp.reshape(xp.astype(v, out.dtype), (-1,)) for v in parts])


def _weights(xp, p, g, m) -> dict:
    """The weight numbers of one layer: its first parameter w (units, *fan_in) and the
    gradients (means over the m rows); all parameters must be finite."""
    w, gw = p[0], g[0]
    finite = functools.reduce(lambda f, a: f & xp.all(xp.isfinite(a)), p[1:],
                              xp.all(xp.isfinite(w)))
    bias_sq = sum(xp.sum(gb * gb) for gb in g[1:]) if len(g) > 1 else xp.sum(gw * 0.0)
    return {"finite": xp.astype(finite, w.dtype),
            "weight_rms": rms(xp, w),
            "positive_weights": xp.mean(xp.astype(w > 0, w.dtype)),
            "negative_weights": xp.mean(xp.astype(w < 0, w.dtype)),
            "unit_spread": xp.max(xp.abs(w - xp.mean(w, axis=0, keepdims=True))),
            "grad_norm": xp.sqrt(xp.sum(gw * gw)) / m,
            "bias_grad_norm": xp.sqrt(bias_sq) / m}


def _activity(xp, act, z, a, saturation_prime) -> dict:
    """Means and spreads of a and z; per unit (axis 1: a unit, or a filter's map) the share of
    (example, position) pairs saturating it or making it active (z > 0)."""
    others = (0,) + tuple(range(2, z.ndim))
    numbers = {"act_mean": xp.mean(a), "act_std": xp.std(a), "z_mean": xp.mean(z),
               "z_std": std(xp, z)}
    if act.saturating:
        z0 = xp.zeros_like(xp.reshape(z, (-1,))[:1])
        peak = act.backward(z0, act.fn(z0), xp.ones_like(z0))
        rel = act.backward(z, a, xp.ones_like(z)) / peak
        numbers["sat_share"] = xp.mean(xp.astype(rel < saturation_prime, z.dtype), axis=others)
    if act.rectified:
        numbers["active_share"] = xp.mean(xp.astype(z > 0, z.dtype), axis=others)
    return numbers


# -- on the host ------------------------------------------------------------------------------

def measure(net, probe, saturation_prime) -> tuple:
    """(per-layer dicts, totals) of ``layout``'s numbers: one compiled call, one transfer."""
    layers, cost, device = net.layers, net.cost, net.backend.device
    fn = net.engine().function(("diagnose_layered", saturation_prime), lambda: (
        lambda params, x, y, labels: probe_numbers(layers, params, cost, x, y, labels,
                                                   saturation_prime, device)))
    with net.backend.device_scope():
        flat = net.backend.to_numpy(fn(net.params, probe.x, probe.y, probe.labels)).tolist()
    per_layer, totals, i = [{} for _ in layers], {}, 0
    for l, name, size in layout(layers, net.sizes, net.sizes[0]):
        into = totals if l is None else per_layer[l]
        into[name] = flat[i] if size is None else flat[i:i + size]
        i += 1 if size is None else size
    assert i == len(flat), "layout and probe_numbers disagree"
    return per_layer, totals


def layer_stats(net, per_layer, th, eta=None) -> list:
    """One stats dict per layer (report.STATS, None where a layer has no such number, and
    "type", the layer's class name), with the "_" keys layer_checks reads; ``eta`` (or None)
    gives the update ratio eta |dC/dw| / |w|."""
    stats = []
    shapes = sequential.output_shapes(net.layers, (net.sizes[0],))
    for l, (layer, host, w_shape) in enumerate(zip(net.layers, per_layer, _weight_shapes(net))):
        act = layer.activation if _has_activation(layer) else None
        units = shapes[l][0] if act is not None else net.sizes[l + 1]
        st = {"layer": l, "type": type(layer).__name__,
              "activation": None if act is None else act.name, "units": units,
              "finite": host.get("finite", 1.0) == 1.0}
        st.update({k: host.get(k) for k in ACTIVITY})
        sat, active = host.get("sat_share"), host.get("active_share")
        st["saturated"] = None if sat is None else sum(sat) / units
        st["saturated_units"] = (None if sat is None else
                                 sum(1 for s in sat if s >= th.unit_share) / units)
        st["dead"] = None if active is None else sum(1 for s in active if s == 0.0) / units
        if w_shape is None:
            st.update(dict.fromkeys(("weight_rms", "weight_scale", "positive_weights",
                                     "grad_norm", "grad_rms", "bias_grad_norm",
                                     "update_ratio")))
        else:
            n_in = math.prod(w_shape[1:])
            st.update({k: host[k] for k in ("weight_rms", "positive_weights", "grad_norm",
                                            "bias_grad_norm")})
            st["n_in"] = n_in
            st["weight_scale"] = host["weight_rms"] * math.sqrt(n_in)
            st["grad_rms"] = host["grad_norm"] / math.sqrt(math.prod(w_shape))
            st["update_ratio"] = update_ratio(eta, host["grad_norm"], host["weight_rms"],
                                              math.prod(w_shape))
            st["_unit_spread"] = host["unit_spread"]
            st["_negative_weights"] = host["negative_weights"]
        st.update({"_" + k: v for k, v in (("sat_share", sat), ("active_share", active))
                   if v is not None})
        st.update({"_" + k: host[k] for k in ("err_rms", "delta_rms", "peak") if k in host})
        if "_peak" in st:
            st["output_slowdown"] = min(slowdowns(st), default=None)
        stats.append(st)
    return stats


def _weight_shapes(net) -> list:
    """Per layer the shape of its first parameter (its weights), or None."""
    out, shape = [], (net.sizes[0],)
    for layer in net.layers:
        p = layer.param_shapes(shape)
        out.append(tuple(p[0]) if p else None)
        shape = tuple(layer.output_shape(shape))
    return out


def layer_problems(net, stats, th, ctx) -> tuple:
    """layer_checks' rules, one layer at a time, on the layers with weights (module doc):
    (problems, held), ``held`` the output layer's identical_units and tiny_weights, which are
    not reported (_OUTPUT_START) but keep it out of the gradient comparisons."""
    problems, held, last = [], [], len(stats) - 1
    zero_start = stats[-1]["weight_rms"] == 0.0  # no gradient below the output layer yet
    for l, (st, layer) in enumerate(zip(stats, net.layers)):
        if st["weight_rms"] is None:
            continue
        act, found = layer.activation, []
        if act.saturating and l < last:
            found += layer_checks._hidden_saturation(st, act, th, net.cost, ctx["progress"])
        if act.saturating and l == last:
            found += layer_checks._output_saturation(st, act, th, net.cost)
        if act.rectified:
            below = [s for s in stats[:l] if s["weight_rms"] is not None
                     and s["grad_rms"] > layer_checks._STILL * s["weight_rms"]]
            dead = layer_checks._dead(st, act, th, l == last, ctx, below)
            if zero_start and any(s["weight_rms"] is not None for s in stats[:l]):
                dead = [_not_yet(p) for p in dead]
            found += dead
        for p in layer_checks._weight_problems(st, th, ctx):
            (held if l == last and p.kind in _OUTPUT_START else found).append(p)
        if net.sizes[l + 1] != st["units"]:  # units with a feature map each: filters
            for p in found:
                if p.kind in ("dead_units", "saturated_units"):
                    p.message += (f"; the units of layer {l} ({st['type']}) are its filters, "
                                  "each counted over every position of its feature map")
        problems += found
    return problems, held


def _not_yet(problem):
    """A dead-unit verdict that rested on "nothing below learns" while the output layer's
    weights are all zero: the layers below get their first gradient after the first step."""
    if problem.severity != "info":
        problem.severity = "info"
        problem.message += ("; but the output layer's weights are all zero (network3's Softmax "
                            "start), so no gradient reaches the layers below before the first "
                            "step: judge these units after it")
    return problem


# all-zero output weights (network3's softmax layer starts so) are a start, not a fault: the
# output units get different errors, so their weights part at the first step
_OUTPUT_START = ("identical_units", "tiny_weights")


def diagnose_layered(net, probe, th, *, eta, lmbda, n, records, whole, threshold=None,
                     mini_batch_size=None) -> Report:
    """The Report of a layered network on a probe already taken (diagnosis.diagnose's steps,
    the layered way: see the module docstring)."""
    decay = None if eta is None or not lmbda else eta * lmbda / n
    per_layer, totals = measure(net, probe, th.saturation_prime)
    totals["accuracy"] = totals.pop("hits") / probe.n
    stats = layer_stats(net, per_layer, th, eta)
    summary = {"sizes": list(net.sizes), "layers": [st["type"] for st in stats],
               "cost": net.cost.name, "backend": net.backend.name, "n_probe": probe.n,
               "eta": eta, "lmbda": lmbda, "decay_per_step": decay,
               "accuracy": totals["accuracy"], "cost_value": totals["cost_value"],
               "predicted_share": [c / probe.n for c in totals["pred_counts"]],
               "input_rms": totals["x_rms"], "input_max": totals["x_max"]}
    weighted = [st for st in stats if st.get("weight_scale") is not None]  # the first
    scale = chance_cost(net, totals["label_counts"]) if records else None
    summary["chance_cost"] = scale
    problems = history_problems(records, th, lmbda=lmbda, n=n, scale=scale)
    if not all(st["finite"] for st in stats) or not math.isfinite(totals["cost_value"]):
        problems = net_checks.inputs(totals, weighted or stats, th,
                                     trained=bool(records)) + problems
        problems += net_checks.divergence(stats, totals)
    else:
        progress = net_checks.progress(totals, probe.n)
        ctx = {"m": probe.n, "whole": whole, "ties": totals["ties"], "decay": decay,
               "lmbda": lmbda, "progress": progress, "learning": learning(records, th),
               "x_rms": totals["x_rms"], "first": weighted[0]["layer"] if weighted else None}
        problems = (net_checks.inputs(totals, weighted, th, trained=bool(records),
                                      progress=progress) if weighted else []) + problems
        found, held = layer_problems(net, stats, th, ctx)
        problems += found
        problems += net_checks.decay(decay, lmbda, th)
        if weighted and weighted[-1]["weight_rms"] > 0.0:  # (all zero: no gradient below yet)
            problems += net_checks.gradient_problems(weighted, th, eta, found=problems + held)
        last = len(stats) - 1
        problems = attribute(problems, records, th, eta=eta, progress=progress, last=last,
                             threshold=threshold, mini_batch_size=mini_batch_size, n=n,
                             scale=scale)
        problems += net_checks.collapse(totals, probe.n, th, problems, bool(records),
                                        ctx["learning"], scale)
        relate(problems, bool(records), last)
    resolve_eta(problems, eta, threshold)
    return Report(problems, public(stats), summary)
