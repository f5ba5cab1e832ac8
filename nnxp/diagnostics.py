"""Diagnostics: why a network is not learning, measured on a probe batch, in the book's terms.

    diagnose(net, data, *, eta=None, lmbda=0.0, n=None, history=None, thresholds=None)
        -> Report
    Report.problems   [Problem(kind, layer, units, severity, message, advice, evidence), ...]
    Report.stats      one dict of numbers per layer (see STATS), and Report.summary for the net
    str(report)       a readable summary;  report.to_dict(compact=False) -> JSON-safe dict
    Thresholds(...)   every threshold below, adjustable: diagnose(..., thresholds={"...": x})
    HealthMonitor(probe=None, every=1, thresholds=None, warn=True)
        a training callback ``monitor(record, net)``: diagnoses every ``every`` calls, puts
        ``record["health"]`` (compact), keeps ``monitor.reports``, and warns once per new
        (kind, layer) with ``NNXPHealthWarning``; ``monitor.bind(training_data)`` takes its
        probe from the training data when none was given.

What is measured.  One forward pass and one backpropagation over the probe (``probe_size``
rows of ``data``, 2,000 by default, taken with a stride so that data sorted by class still give
every class), all on the network's device; only a few numbers per layer and per unit come back
to the host.  ``eta``, ``lmbda`` and ``n`` (the training-set size) are optional: with them the
report adds update-to-weight ratios and the weight decay per step.  ``history`` (a History or
its list of records) adds the checks that need a curve.

Problem kinds (``Report.KINDS``) and when they are reported, with the default thresholds:

    divergence              a parameter, the probe cost or a recorded cost is NaN or infinite
    saturated_units         hidden sigmoid/tanh layer: at least ``saturated_fraction`` (25%) of
                            its (unit, input) pairs have a derivative below
                            ``saturation_prime`` (1%) of its peak (sigmoid |z| > 6, tanh |z| > 3),
                            unless the network has ``learned`` (its probe accuracy went half the
                            way from chance to 100%: trained networks' confident hidden units
                            saturate too) and the layer is below 90%; output layer: units whose
                            error RMS(a - y) is at least ``output_min_error`` (0.1) but whose
                            error signal delta^L is under ``output_slowdown`` (10%) of what an
                            unsaturated unit would pass back: a saturated output under a cost
                            whose delta carries sigma'(z), such as the quadratic cost (chapter 3)
    dead_units              ReLU-family units with z <= 0 on every probe input: hidden layers
                            when at least ``dead_fraction`` (10%) are dead, output layer any
    output_collapse         one class gets ``collapse_share`` (90%) of the predictions, though
                            its share of the labels is below that ("info" for a network with no
                            history and no cause found: untrained networks often do this)
    vanishing_gradients     a hidden layer's weight-gradient RMS below ``vanishing_ratio`` (1e-3)
                            of the output layer's (the book's chapter 5)
    exploding_gradients     a hidden layer's weight-gradient RMS above ``exploding_ratio`` (1e3)
                            times the output layer's, or (with eta) one full step
                            eta |dC/dw| above ``max_update_ratio`` (1.0) times |w|
    tiny_weights            weight RMS below ``tiny_weight_ratio`` (5%) of 1/sqrt(n_in): the
                            output hardly depends on the input (too much L2 weight decay)
    weight_decay_too_strong (eta, lmbda and n known) eta lmbda / n, the fraction of every weight
                            L2 regularization removes at each step, above ``max_decay`` (1e-3)
    same_sign_weights       at least ``same_sign_share`` (99%) of a layer's weights (10 or more)
                            share one sign
    identical_units         every unit of a layer has the same weights: symmetry never breaks
    learning_rate_too_high  (history) over the last ``window`` (5) training costs the cost rose
                            by more than ``rise_tolerance`` (5%), or went up and down
                            ``min_reversals`` (2) times by more than that without progress
                            (evaluation costs only: the oscillation test alone)
    overfitting             (history) the evaluation accuracy (else cost) is worse than its best
                            of two or more evaluations ago by ``rise_tolerance`` while the
                            training cost (else accuracy) kept improving

Severity: "error" (the network cannot learn as it is), "warning" (it learns badly), "info".

This is a math module: it imports no array library.  Arrays stay on the device; the host gets
Python floats through ``float()`` and small vectors through ``net.backend.to_numpy``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from dataclasses import dataclass, field

from .backprop import forward
from .data import Dataset
from .errors import ConfigError

__all__ = ["diagnose", "Report", "Problem", "Thresholds", "HealthMonitor",
           "NNXPHealthWarning", "KINDS", "STATS"]

KINDS = ("divergence", "saturated_units", "dead_units", "output_collapse",
         "vanishing_gradients", "exploding_gradients", "tiny_weights", "weight_decay_too_strong",
         "same_sign_weights", "identical_units", "learning_rate_too_high", "overfitting")

STATS = {  # the per-layer numbers of Report.stats, as the report prints them
    "layer": "layer index (0 = first weight layer)",
    "activation": "activation name",
    "units": "number of units",
    "act_mean": "mean activation over probe inputs and units",
    "act_std": "standard deviation of the activations",
    "z_mean": "mean weighted input z",
    "z_std": "standard deviation of z",
    "saturated": "fraction of (unit, input) pairs with a derivative below saturation_prime "
                 "of its peak (saturating activations; else None)",
    "saturated_units": "fraction of units saturated on >= unit_share of the inputs",
    "dead": "fraction of units with z <= 0 on every input (ReLU family; else None)",
    "weight_rms": "root mean square of the weights",
    "weight_scale": "weight_rms * sqrt(n_in): 1.0 for the default 1/sqrt(n_in) initializer",
    "positive_weights": "fraction of weights > 0",
    "grad_norm": "Frobenius norm of dC/dw, mean over the probe (unregularized cost)",
    "grad_rms": "root mean square of dC/dw",
    "bias_grad_norm": "norm of dC/db = the book's delta^l, its 'speed of learning'",
    "update_ratio": "eta * |dC/dw| / |w| (when eta is known; else None)",
}

_SEVERITY = {"error": 0, "warning": 1, "info": 2}


class NNXPHealthWarning(UserWarning):
    """Issued by HealthMonitor, once per new problem (kind and layer) during training."""


@dataclass(frozen=True)
class Thresholds:
    """Every threshold the checks use (see the module docstring); all adjustable."""

    probe_size: int = 2000          # probe rows taken from the data
    saturation_prime: float = 0.01  # derivative below this fraction of its peak: saturated
    saturated_fraction: float = 0.25  # hidden layer: share of saturated (unit, input) pairs
    learned: float = 0.5            # ... unless accuracy went this far from chance to 100%
    unit_share: float = 0.9         # a unit is listed when saturated on this share of inputs
    output_slowdown: float = 0.1    # output unit: |delta| / (peak |a - y|) below this
    output_min_error: float = 0.1   # ... and RMS(a - y) of that unit at least this
    dead_fraction: float = 0.1      # hidden layer: share of dead units
    collapse_share: float = 0.9     # share of predictions in one class
    vanishing_ratio: float = 1e-3   # gradient RMS below this times the largest layer's
    exploding_ratio: float = 1e3    # gradient RMS above this times the smallest layer's
    max_update_ratio: float = 1.0   # eta |grad| / |w| above this
    tiny_weight_ratio: float = 0.05  # weight RMS below this times 1/sqrt(n_in)
    max_decay: float = 1e-3         # L2 weight decay per step eta lmbda / n above this
    same_sign_share: float = 0.99   # share of weights with one sign
    window: int = 5                 # recent evaluations the history checks look at
    rise_tolerance: float = 0.05    # relative rise that counts as "rising"
    min_reversals: int = 2          # direction changes that count as "oscillating"

    @classmethod
    def of(cls, value) -> "Thresholds":
        """Thresholds from None, a Thresholds, or a dict of overrides."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ConfigError(f"unknown thresholds {unknown}; known: {sorted(known)}")
            return dataclasses.replace(cls(), **value)
        raise ConfigError(f"thresholds must be a Thresholds, a dict or None, got {value!r}")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ConfigError(f"threshold {f.name} must be a positive number, got {v!r}")
        if self.probe_size != int(self.probe_size) or self.window < 2:
            raise ConfigError(f"probe_size must be an integer and window >= 2; got "
                              f"{self.probe_size!r} and {self.window!r}")


@dataclass
class Problem:
    """One finding: what (kind), where (layer, units), how bad, why (message), what to do."""

    kind: str
    layer: int | None
    units: list = field(default_factory=list)
    severity: str = "warning"
    message: str = ""
    advice: str = ""
    evidence: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.kind, self.layer)

    def to_dict(self, compact=False) -> dict:
        d = {"kind": self.kind, "layer": self.layer, "units": list(self.units),
             "severity": self.severity, "message": self.message}
        if not compact:
            d["advice"] = self.advice
            d["evidence"] = _json_safe(self.evidence)
        return d

    def __str__(self) -> str:
        where = "network" if self.layer is None else f"layer {self.layer}"
        return f"[{self.severity}] {self.kind} ({where}): {self.message}\n    advice: {self.advice}"


class Report:
    """The result of ``diagnose``: ``problems``, per-layer ``stats`` and a net ``summary``."""

    KINDS = KINDS

    def __init__(self, problems, stats, summary):
        self.problems = sorted(problems, key=lambda p: (_SEVERITY[p.severity],
                                                        -1 if p.layer is None else p.layer))
        self.stats = stats
        self.summary = summary

    @property
    def ok(self) -> bool:
        """True when no problem of severity "error" or "warning" was found ("info" may be)."""
        return not any(p.severity != "info" for p in self.problems)

    @property
    def kinds(self) -> set:
        return {p.kind for p in self.problems}

    def find(self, kind, layer="any") -> list:
        """The problems of ``kind`` (at ``layer``, when given; None is the whole network)."""
        return [p for p in self.problems if p.kind == kind and (layer == "any" or p.layer == layer)]

    def headline(self) -> str:
        """One line: "healthy" or the problems as kind@layer."""
        if not self.problems:
            return "healthy"
        return "; ".join(p.kind + ("" if p.layer is None else f"@{p.layer}")
                         for p in self.problems)

    def to_dict(self, compact=False) -> dict:
        """JSON-safe: problems, stats, summary.  ``compact`` keeps only what a per-epoch
        record needs (no advice or evidence, stats rounded to 4 significant digits)."""
        stats = self.stats
        if compact:
            stats = [{k: _round(v) for k, v in s.items()} for s in stats]
        return {"headline": self.headline(),
                "problems": [p.to_dict(compact) for p in self.problems],
                "stats": _json_safe(stats),
                "summary": _json_safe({k: _round(v) for k, v in self.summary.items()}
                                      if compact else self.summary)}

    def __str__(self) -> str:
        s = self.summary
        lines = [f"nnxp diagnosis of {s['sizes']} ({s['cost']}, {s['backend']}) on "
                 f"{s['n_probe']} probe inputs: cost {_fmt(s['cost_value'])}, accuracy "
                 f"{_fmt(s['accuracy'])}"]
        cols = ("layer", "activation", "units", "act_mean", "act_std", "z_std", "saturated",
                "dead", "weight_rms", "weight_scale", "grad_rms", "update_ratio")
        rows = [[_fmt(st.get(c)) for c in cols] for st in self.stats]
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
        lines.append("  " + "  ".join(c.rjust(w) for c, w in zip(cols, widths)))
        lines += ["  " + "  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in rows]
        if not self.problems:
            lines.append("No problems found.")
        else:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [str(p) for p in self.problems]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Report: {self.headline()}>"


# ---------------------------------------------------------------------------------------------
# diagnose

def diagnose(net, data, *, eta=None, lmbda=0.0, n=None, history=None, thresholds=None,
             probe_size=None) -> Report:
    """Measure ``net`` on a probe batch of ``data`` and say what stops it learning.

    ``data``: anything ``net.prepare`` accepts ((X, y) arrays, network2 pairs, a Dataset).
    ``eta``, ``lmbda``, ``n``: the training hyper-parameters, when known (update ratios, weight
    decay per step eta*lmbda/n).  ``history``: a History or a list of epoch records (cost
    curves).  ``thresholds``: a Thresholds or a dict of overrides.  ``probe_size`` overrides
    ``thresholds.probe_size``.

    >>> report = nnxp.diagnose(net, (X, y))                         # doctest: +SKIP
    >>> print(report); report.find("saturated_units")               # doctest: +SKIP
    """
    th = Thresholds.of(thresholds)
    for name, value in (("eta", eta), ("n", n)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not value > 0):
            raise ConfigError(f"{name} must be a positive number or None, got {value!r}")
    if isinstance(lmbda, bool) or not isinstance(lmbda, (int, float)) or lmbda < 0:
        raise ConfigError(f"lmbda must be a non-negative number, got {lmbda!r}")
    size = th.probe_size if probe_size is None else probe_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigError(f"probe_size must be a positive integer, got {size!r}")
    prepared = net.prepare(data, "data")
    probe = take_probe(prepared, size, net.backend)
    records = _records(history)
    n_train = n if n is not None else prepared.n
    decay = None if eta is None or not lmbda else eta * lmbda / n_train
    layers, net_stats = _measure(net, probe, eta, th)
    summary = {"sizes": list(net.sizes), "cost": net.cost.name, "backend": net.backend.name,
               "n_probe": probe.n, "eta": eta, "lmbda": lmbda, "decay_per_step": decay,
               **{k: v for k, v in net_stats.items() if k not in ("pred_counts", "label_counts")},
               "predicted_share": [c / probe.n for c in net_stats["pred_counts"]]}
    problems = _history_problems(records, th)
    if not all(st["finite"] for st in layers) or not math.isfinite(net_stats["cost_value"]):
        problems += _divergence(layers, net_stats)
    else:
        problems += _layer_problems(net, layers, th, eta, decay, _progress(net_stats, probe.n))
        problems += _decay(decay, th)
        tiny = {p.layer for p in problems if p.kind == "tiny_weights"}
        problems += _gradient_problems(layers, th, eta, skip=tiny)
        problems += _collapse(net_stats, probe.n, th, problems, trained=bool(records))
    stats = [{k: v for k, v in st.items() if not k.startswith("_") and k != "finite"}
             for st in layers]
    return Report(problems, stats, summary)


def take_probe(data: Dataset, size: int, backend) -> Dataset:
    """At most ``size`` rows of a prepared Dataset, spread evenly over it, copied on the
    device into contiguous arrays (a strided view would slow every matrix product down)."""
    if data.n <= size:
        return data
    xp = backend.xp
    stride = -(-data.n // size)
    rows = xp.arange(0, data.n, stride, dtype=data.labels.dtype, device=backend.device)
    take = lambda a: xp.take(a, rows, axis=0)  # noqa: E731
    return Dataset(take(data.x), take(data.y), take(data.labels), int(rows.shape[0]))


def _measure(net, probe, eta, th):
    """Per-layer numbers (host floats and small lists) and net-level numbers of one pass."""
    xp, be = net.backend.xp, net.backend
    x, y = probe.x, probe.y
    m = probe.n
    zs, as_ = forward(net.params, net.activations, x)
    grads = _backward(net, zs, as_, y)
    last = len(net.params) - 1
    layers = []
    for l, ((w, b), act, z, a, (gw, gb)) in enumerate(
            zip(net.params, net.activations, zs, as_[1:], grads)):
        n_out, n_in = (int(s) for s in w.shape)
        scalars = {
            "finite": xp.astype(xp.all(xp.isfinite(w)) & xp.all(xp.isfinite(b)), w.dtype),
            "act_mean": xp.mean(a), "act_std": xp.std(a),
            "z_mean": xp.mean(z), "z_std": xp.std(z),
            "weight_rms": xp.sqrt(xp.mean(w * w)),
            "positive_weights": xp.mean(xp.astype(w > 0, w.dtype)),
            "negative_weights": xp.mean(xp.astype(w < 0, w.dtype)),
            "unit_spread": xp.max(xp.abs(w - xp.mean(w, axis=0, keepdims=True))),
            "grad_norm": xp.sqrt(xp.sum(gw * gw)) / m,
            "bias_grad_norm": xp.sqrt(xp.sum(gb * gb)) / m,
        }
        vectors = {}
        if act.saturating:
            peak = _peak_derivative(xp, act, z, be.device)
            rel = act.backward(z, a, xp.ones_like(z)) / peak
            vectors["_sat_share"] = xp.mean(xp.astype(rel < th.saturation_prime, z.dtype), axis=0)
        if act.rectified:
            vectors["_active_share"] = xp.mean(xp.astype(z > 0, z.dtype), axis=0)
        if l == last:
            err = a - y
            delta = net.cost.delta(z, a, y, act)
            vectors["_err_rms"] = xp.sqrt(xp.mean(err * err, axis=0))
            vectors["_delta_rms"] = xp.sqrt(xp.mean(delta * delta, axis=0))
            if act.saturating:
                vectors["_peak"] = xp.reshape(_peak_derivative(xp, act, z, be.device), (1,))
        host = _to_host(be, xp, scalars, vectors)
        st = {"layer": l, "activation": act.name, "units": n_out, "n_in": n_in,
              "finite": host.pop("finite") == 1.0}
        st.update({k: host[k] for k in ("act_mean", "act_std", "z_mean", "z_std")})
        st["saturated"] = (sum(host["_sat_share"]) / n_out) if act.saturating else None
        st["saturated_units"] = None
        st["dead"] = None
        if act.rectified:
            st["dead"] = sum(1 for s in host["_active_share"] if s == 0.0) / n_out
        st.update({k: host[k] for k in ("weight_rms", "positive_weights", "grad_norm",
                                        "bias_grad_norm")})
        st["weight_scale"] = host["weight_rms"] * math.sqrt(n_in)
        st["grad_rms"] = host["grad_norm"] / math.sqrt(n_out * n_in)
        st["update_ratio"] = (None if eta is None else
                              _ratio(eta * host["grad_norm"],
                                     host["weight_rms"] * math.sqrt(n_out * n_in)))
        st.update({k: v for k, v in host.items() if k.startswith("_")})
        st["_unit_spread"] = host["unit_spread"]
        st["_negative_weights"] = host["negative_weights"]
        layers.append(st)
    out, labels = as_[-1], probe.labels
    classes = xp.arange(net.sizes[-1], dtype=labels.dtype, device=be.device)
    pred = xp.argmax(out, axis=1)
    counts = xp.concat([
        xp.sum(xp.astype(pred[:, None] == classes[None, :], out.dtype), axis=0),
        xp.sum(xp.astype(labels[:, None] == classes[None, :], out.dtype), axis=0),
        xp.reshape(xp.sum(xp.astype(pred == labels, out.dtype)), (1,)),
        xp.reshape(xp.mean(net.cost.fn(out, y)), (1,))])
    host = be.to_numpy(counts).tolist()
    k = net.sizes[-1]
    net_stats = {"pred_counts": host[:k], "label_counts": host[k:2 * k],
                 "accuracy": host[2 * k] / m, "cost_value": host[2 * k + 1]}
    return layers, net_stats


def _backward(net, zs, as_, y):
    """backprop.backprop's gradients (BP1-BP4), from the forward pass already made."""
    delta = net.cost.delta(zs[-1], as_[-1], y, net.activations[-1])
    xp = net.backend.xp
    grads = [None] * len(net.params)
    for l in range(len(net.params) - 1, -1, -1):
        grads[l] = (delta.T @ as_[l], xp.sum(delta, axis=0))
        if l > 0:
            delta = net.activations[l - 1].backward(zs[l - 1], as_[l],
                                                    delta @ net.params[l][0])
    return grads


def _peak_derivative(xp, act, z, device):
    """The activation's largest derivative, taken at z = 0 (sigmoid 1/4, tanh 1)."""
    z0 = xp.zeros((1, 1), dtype=z.dtype, device=device)
    return xp.reshape(act.backward(z0, act.fn(z0), xp.ones_like(z0)), ())


def _to_host(be, xp, scalars, vectors) -> dict:
    """All of one layer's numbers in one device -> host transfer."""
    names = list(scalars)
    parts = [xp.stack([xp.astype(scalars[k], scalars["act_mean"].dtype) for k in names])]
    sizes = []
    for k, v in vectors.items():
        parts.append(xp.astype(v, scalars["act_mean"].dtype))
        sizes.append((k, int(v.shape[0])))
    flat = be.to_numpy(xp.concat(parts)).tolist()
    host = dict(zip(names, flat[:len(names)]))
    i = len(names)
    for k, size in sizes:
        host[k] = flat[i:i + size]
        i += size
    return host


def _ratio(a, b):
    return a / b if b > 0 else (math.inf if a > 0 else 0.0)


# ---------------------------------------------------------------------------------------------
# The checks: host numbers in, Problems out.

_REINIT = "re-initialize with net.default_weight_initializer() (weights N(0, 1/n_in), chapter 3)"
_FIND_ETA = ("find the threshold eta at which the training cost starts to decrease with "
             "nnxp.find_learning_rate() and use about half of it (chapter 3)")


def _divergence(layers, net_stats) -> list:
    bad = [st["layer"] for st in layers if not st["finite"]]
    advice = ("restart from the last good parameters with a smaller eta (" + _FIND_ETA + "); "
              "check that inputs are scaled to [0, 1]")
    problems = [Problem("divergence", l, [], "error",
                        f"layer {l} has NaN or infinite weights or biases: training diverged",
                        advice, {"finite": False}) for l in bad]
    if not bad:
        problems.append(Problem("divergence", None, [], "error",
                                f"the cost on the probe is {net_stats['cost_value']}: the "
                                "outputs overflowed", advice,
                                {"cost": net_stats["cost_value"]}))
    return problems


def _progress(net_stats, m) -> float:
    """How far the probe accuracy went from chance (the largest label share) towards 1."""
    chance = max(net_stats["label_counts"]) / m
    return 1.0 if chance >= 1.0 else (net_stats["accuracy"] - chance) / (1.0 - chance)


def _layer_problems(net, layers, th, eta, decay, progress) -> list:
    problems = []
    last = len(layers) - 1
    for st, act in zip(layers, net.activations):
        l = st["layer"]
        if act.saturating and l < last:
            problems += _hidden_saturation(st, act, th, net.cost, progress)
        if act.saturating and l == last:
            problems += _output_saturation(st, act, th, net.cost)
        if act.saturating:
            share = st.pop("_sat_share")
            st["saturated_units"] = sum(1 for s in share if s >= th.unit_share) / st["units"]
        if act.rectified:
            problems += _dead(st, act, th, l == last)
        problems += _weight_problems(st, th, eta, decay)
    return problems


def _saturation_cause(st) -> tuple:
    """(why, advice) for saturated units: large weights, or biases pushing z off centre."""
    scale, z_mean, z_std = st["weight_scale"], st["z_mean"], st["z_std"]
    if scale >= 3.0:
        return (f"the weights are {scale:.0f}x the 1/sqrt(n_in) scale of the default "
                f"initializer (RMS {st['weight_rms']:.3g}), so z = w.a + b is wide (std "
                f"{z_std:.3g})", _REINIT)
    if abs(z_mean) > 2 * z_std:
        return (f"the biases push every z far from 0 (mean z {z_mean:.3g}, std {z_std:.3g})",
                "re-initialize the network; if it was trained into this state, use a smaller "
                "eta and check the L2 strength lmbda")
    return (f"z has mean {z_mean:.3g} and std {z_std:.3g}",
            _REINIT + "; a smaller eta keeps the weights from growing")


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
    peak = st["_peak"][0]
    err, delta = st["_err_rms"], st["_delta_rms"]
    slow = [d / (peak * e) if e > 0 else math.inf for d, e in zip(delta, err)]
    units = [j for j, (s, e) in enumerate(zip(slow, err))
             if e >= th.output_min_error and s < th.output_slowdown]
    st["output_slowdown"] = min(slow) if slow else None
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
                  "outputs still learn fast (chapter 3); and " + _REINIT + ", since these "
                  "weights are stuck; a smaller eta avoids driving outputs into saturation")
    else:
        advice = (f"pair the output activation with a cost whose delta^L = a - y "
                  f"(CrossEntropyCost for Sigmoid, LogLikelihoodCost for Softmax); {_REINIT}")
    severity = "error" if 2 * len(units) >= st["units"] else "warning"
    return [Problem("saturated_units", st["layer"], units, severity, msg, advice,
                    {"error_rms": mean_err, "delta_fraction": mean_slow, "cost": cost.name,
                     "weight_scale": st["weight_scale"]})]


def _dead(st, act, th, is_output) -> list:
    share = st.pop("_active_share")
    units = [j for j, s in enumerate(share) if s == 0.0]
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


def _weight_problems(st, th, eta, decay) -> list:
    problems, l = [], st["layer"]
    n_w = st["units"] * st["n_in"]
    if st["units"] >= 2 and st["_unit_spread"] <= 1e-6 * st["weight_rms"]:
        problems.append(Problem(
            "identical_units", l, list(range(st["units"])), "error",
            f"all {st['units']} units of layer {l} have the same weights: they compute the "
            "same function, get the same gradient, and stay identical forever",
            "start from random weights, symmetric about zero: " + _REINIT,
            {"unit_spread": st["_unit_spread"]}))
    elif st["weight_scale"] < th.tiny_weight_ratio:
        why = ""
        advice = ("if training with L2 regularization, lmbda is too large for this eta and "
                  "training-set size (each step multiplies the weights by 1 - eta lmbda / n); "
                  "lower lmbda or eta, and " + _REINIT)
        if decay is not None:
            why = (f"; each step multiplies them by 1 - eta lmbda / n = {1 - decay:.3g}, so "
                   "weight decay overwhelms learning")
            advice = (f"lower lmbda (or eta): eta lmbda / n = {decay:.3g} should be far below "
                      f"1 (the book's MNIST run: 0.5 * 5.0 / 50000 = 5e-5); then " + _REINIT)
        problems.append(Problem(
            "tiny_weights", l, [], "error" if st["weight_scale"] < th.tiny_weight_ratio / 10
            else "warning",
            f"the weights of layer {l} have RMS {st['weight_rms']:.3g}, "
            f"{st['weight_scale']:.2%} of the 1/sqrt(n_in) scale: the layer's output hardly "
            f"depends on its input" + why, advice,
            {"weight_rms": st["weight_rms"], "weight_scale": st["weight_scale"],
             "decay_per_step": decay}))
    pos, neg = st["positive_weights"], st["_negative_weights"]
    if n_w >= 10 and st["weight_rms"] > 0 and max(pos, neg) >= th.same_sign_share:
        sign = "positive" if pos >= neg else "negative"
        problems.append(Problem(
            "same_sign_weights", l, [], "warning",
            f"{max(pos, neg):.1%} of the {n_w} weights of layer {l} are {sign}: every unit "
            "sees the same direction of its inputs, and z cannot be centred",
            "use initial weights symmetric about zero: " + _REINIT,
            {"positive_weights": pos, "negative_weights": neg}))
    return problems


_INPUT_BLIND = ("weight_decay_too_strong", "tiny_weights", "identical_units", "dead_units",
                "saturated_units")


def _decay(decay, th) -> list:
    if decay is None or decay <= th.max_decay:
        return []
    return [Problem(
        "weight_decay_too_strong", None, [], "error" if decay > 0.05 else "warning",
        f"L2 regularization multiplies every weight by 1 - eta lmbda / n = {1 - decay:.4g} at "
        f"each step, so the weights forget what they learned within about {1 / decay:.0f} "
        "mini-batches",
        f"lower lmbda (or eta) so that eta lmbda / n is far below 1 (here {decay:.3g}; the "
        "book's MNIST run: 0.5 * 5.0 / 50000 = 5e-5), then " + _REINIT,
        {"decay_per_step": decay})]


def _collapse(net_stats, m, th, others, trained) -> list:
    counts, labels = net_stats["pred_counts"], net_stats["label_counts"]
    if len(counts) < 2:
        return []
    c = max(range(len(counts)), key=counts.__getitem__)
    share, label_share = counts[c] / m, labels[c] / m
    if share < th.collapse_share or label_share >= th.collapse_share:
        return []
    causes = sorted((p for p in others if p.kind in _INPUT_BLIND),
                    key=lambda p: _INPUT_BLIND.index(p.kind))  # root causes first
    msg = (f"the network predicts class {c} for {share:.0%} of the probe inputs (its share of "
           f"the labels is {label_share:.0%}); accuracy {net_stats['accuracy']:.1%}")
    if causes:
        advice = ("the output no longer depends on the input because of: "
                  + "; ".join(f"{p.kind} ({'network' if p.layer is None else f'layer {p.layer}'})"
                              for p in causes) + ". Fix those first: " + causes[0].advice)
    else:
        advice = ("check the cost (CrossEntropyCost with sigmoid outputs), eta (" + _FIND_ETA
                  + ") and the initialization (" + _REINIT + ")")
    severity = "error" if causes or trained else "info"
    if severity == "info":
        msg += ("; an untrained network often does this (its output biases decide), so this "
                "matters only if training does not change it")
    return [Problem("output_collapse", None, [c], severity, msg, advice,
                    {"class": c, "share": share, "label_share": label_share,
                     "accuracy": net_stats["accuracy"]})]


def _gradient_problems(layers, th, eta, skip=()) -> list:
    """Gradients by layer against the output layer's; update ratios (layers in ``skip``, whose
    weights have vanished, are left out: any update is large next to them)."""
    problems = []
    g_out = layers[-1]["grad_rms"]
    for st in layers:
        l, g = st["layer"], st["grad_rms"]
        if l in skip:
            continue
        if l < len(layers) - 1 and g_out > 0:
            ratio = g / g_out
            if ratio < th.vanishing_ratio:
                problems.append(Problem(
                    "vanishing_gradients", l, [], "warning",
                    f"the gradient of layer {l}'s weights has RMS {g:.3g}, {ratio:.1e} of the "
                    f"output layer's: layer {l} learns about {1 / max(ratio, 1e-300):.0f}x "
                    "more slowly (the vanishing gradient problem)",
                    "each sigmoid layer multiplies the error by sigma'(z) <= 1/4 and by its "
                    "weights: " + _REINIT + "; fewer layers, or tanh / ReLU hidden units",
                    {"grad_rms": g, "ratio_to_output": ratio}))
            elif ratio > th.exploding_ratio:
                problems.append(Problem(
                    "exploding_gradients", l, [], "error",
                    f"the gradient of layer {l}'s weights has RMS {g:.3g}, {ratio:.3g}x the "
                    "output layer's (the exploding gradient problem)",
                    "large weights multiply the error at each layer: " + _REINIT
                    + "; a smaller eta", {"grad_rms": g, "ratio_to_output": ratio}))
                continue
        u = st["update_ratio"]
        if u is not None and u > th.max_update_ratio:
            problems.append(Problem(
                "exploding_gradients", l, [], "error",
                f"one full gradient step eta |dC/dw| = {u:.3g} x |w| for layer {l}: the "
                f"updates are larger than the weights (eta = {eta:g})",
                "a smaller eta: " + _FIND_ETA, {"update_ratio": u, "eta": eta}))
    return problems


# -- the checks that read a history of epoch records ---------------------------------------

def _records(history) -> list:
    if history is None:
        return []
    records = getattr(history, "records", history)
    if not isinstance(records, (list, tuple)) or not all(isinstance(r, dict) for r in records):
        raise ConfigError("history must be a History or a list of epoch records (dicts), got "
                          f"{type(history).__name__}")
    return list(records)


def _series(records, key) -> list:
    return [float(r[key]) for r in records if key in r and r[key] is not None]


def _history_problems(records, th) -> list:
    problems = []
    costs = {k: _series(records, k) for k in ("training_cost", "evaluation_cost")}
    for key, values in costs.items():
        if values and not math.isfinite(values[-1]):
            return [Problem("divergence", None, [], "error",
                            f"the recorded {key.replace('_', ' ')} is {values[-1]}: training "
                            "diverged", "restart with a smaller eta: " + _FIND_ETA,
                            {key: values[-1]})]
    eta = records[-1].get("eta") if records else None
    name = "training_cost" if costs["training_cost"] else "evaluation_cost"
    recent = costs[name][-th.window:]
    if len(recent) >= 3:
        rise, reversals = _rise_and_reversals(recent, th.rise_tolerance)
        rising = rise > th.rise_tolerance and name == "training_cost"
        if rising or (reversals >= th.min_reversals and rise > -th.rise_tolerance):
            what = (f"rose by {rise:.1%}" if rising else
                    f"went up and down {reversals} times without progress")
            problems.append(Problem(
                "learning_rate_too_high", None, [], "error" if rise > 1.0 else "warning",
                f"over the last {len(recent)} evaluations the {name.replace('_', ' ')} {what}: "
                + ", ".join(f"{c:.4g}" for c in recent)
                + (f" (eta = {eta:g})" if isinstance(eta, (int, float)) else ""),
                "halve eta, or " + _FIND_ETA + "; a schedule that lowers eta when the cost "
                "stops falling", {"costs": recent, "eta": eta}))
    problems += _overfitting(records, th)
    return problems


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


# ---------------------------------------------------------------------------------------------
# HealthMonitor: the checks during training.

class HealthMonitor:
    """A training callback that diagnoses the network every ``every`` calls.

        monitor = HealthMonitor()                   # probe taken in bind(training_data)
        monitor = HealthMonitor(probe=(X[:2000], y[:2000]), every=5)
        history = net.SGD(..., callbacks=[monitor]) # or net.SGD(..., health=True)
        monitor.reports[-1]; history.records[-1]["health"]

    Each check puts ``record["health"] = report.to_dict(compact=True)`` and keeps the Report
    in ``reports``; each problem (kind and layer) not seen before is announced once with
    ``warnings.warn(..., NNXPHealthWarning)`` when ``warn``.  The records it has seen are its
    history (learning_rate_too_high, overfitting, divergence of the cost).  ``lmbda`` and ``n``
    (training-set size), when known, add the weight decay per step to the report.  It never
    stops training (it returns None).

    The probe is ``PROBE_SIZE`` = 400 rows unless ``thresholds`` say otherwise (diagnose's
    default is 2,000): enough for every check, and cheap: about 2-3 ms on NumPy for
    [784, 30, 10].  On a busy machine the probe's matrix products wake BLAS's worker threads,
    which can cost 30-50 ms a check; when the backend offers ``limit_threads()`` (a context
    manager) the check runs inside it.
    """

    PROBE_SIZE = 400  # rows per check by default; see the class docstring

    def __init__(self, probe=None, every=1, thresholds=None, warn=True, *, lmbda=0.0, n=None):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"every must be a positive integer, got {every!r}")
        self.thresholds = (Thresholds(probe_size=self.PROBE_SIZE) if thresholds is None
                           else Thresholds.of(thresholds))
        self.every, self.warn, self.lmbda, self.n = every, warn, lmbda, n
        self.reports, self.records, self.warned = [], [], set()
        self._source, self._probe, self._calls = probe, None, 0

    def bind(self, training_data, *, lmbda=None, n=None) -> "HealthMonitor":
        """Use ``training_data`` (a prepared Dataset or raw data) for the probe unless one was
        given; called by training before the first epoch."""
        if self._source is None:
            self._source, self._probe = training_data, None
        if isinstance(training_data, Dataset) and n is None and self.n is None:
            n = training_data.n
        self.lmbda = self.lmbda if lmbda is None else lmbda
        self.n = self.n if n is None else n
        return self

    def __call__(self, record, net):
        self._calls += 1
        self.records.append(record)
        if (self._calls - 1) % self.every:
            return None
        limit = getattr(net.backend, "limit_threads", None)  # optional Backend hook
        with (limit() if callable(limit) else contextlib.nullcontext()):
            report = diagnose(net, self._probe_for(net), eta=record.get("eta"),
                              lmbda=self.lmbda or 0.0, n=self.n, history=self.records,
                              thresholds=self.thresholds)
        record["health"] = report.to_dict(compact=True)
        self.reports.append(report)
        for p in report.problems:
            if p.severity != "info" and p.key not in self.warned:
                self.warned.add(p.key)
                if self.warn:
                    epoch = record.get("epoch")
                    when = "" if epoch is None else f" (epoch {epoch})"
                    where = "network" if p.layer is None else f"layer {p.layer}"
                    warnings.warn(f"nnxp health{when}: {p.kind} ({where}): {p.message}. "
                                  f"Advice: {p.advice}", NNXPHealthWarning, stacklevel=2)
        return None

    def _probe_for(self, net):
        if self._probe is None:
            if self._source is None:
                raise ConfigError("HealthMonitor needs a probe: pass probe=(X, y) or call "
                                  "monitor.bind(training_data) before training")
            self._probe = take_probe(net.prepare(self._source, "probe"),
                                     self.thresholds.probe_size, net.backend)
        return self._probe


# ---------------------------------------------------------------------------------------------

def _round(v):
    if isinstance(v, float) and math.isfinite(v) and v != 0.0:
        return float(f"{v:.4g}")
    if isinstance(v, list):
        return [_round(x) for x in v]
    return v


def _json_safe(v):
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    return str(v)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)
