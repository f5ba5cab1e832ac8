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

What is measured.  One forward pass and one backpropagation over the probe (the first
``probe_size`` rows of ``data``, taken with a stride so that data sorted by class still give
every class), all on the network's device; only a few numbers per layer and per unit come back
to the host.  ``eta``, ``lmbda`` and ``n`` (the training-set size) are optional: with them the
report adds update-to-weight ratios and the weight decay per step.  ``history`` (a History or
its list of records) adds the checks that need a curve.

Problem kinds (``Report.KINDS``) and when they are reported, with the default thresholds:

    divergence              a parameter, the probe cost or a recorded cost is NaN or infinite
    saturated_units         hidden sigmoid/tanh layer: at least ``saturated_fraction`` (25%) of
                            its (unit, input) pairs have a derivative below
                            ``saturation_prime`` (1%) of its peak (sigmoid |z| > 6, tanh |z| > 3);
                            output layer: units whose error is not small but whose error signal
                            delta^L is under ``output_slowdown`` (10%) of what an unsaturated
                            unit would pass back: a saturated output under a cost whose delta
                            carries sigma'(z) (the quadratic cost), chapter 3
    dead_units              ReLU-family units with z <= 0 on every probe input: hidden layers
                            when at least ``dead_fraction`` (10%) are dead, output layer any
    output_collapse         one class gets ``collapse_share`` (90%) of the predictions, though
                            its share of the labels is below that
    vanishing_gradients     a layer's gradient RMS below ``vanishing_ratio`` (1e-3) of the
                            largest layer's (needs two layers or more)
    exploding_gradients     a layer's gradient RMS above ``exploding_ratio`` (1e3) times the
                            smallest layer's, or (with eta) a full step eta*|grad|/|w| above
                            ``max_update_ratio`` (1.0) of the weights
    tiny_weights            weight RMS below ``tiny_weight_ratio`` (5%) of 1/sqrt(n_in): the
                            output hardly depends on the input (too much L2 weight decay)
    same_sign_weights       at least ``same_sign_share`` (99%) of a layer's weights (10 or more)
                            share one sign
    identical_units         every unit of a layer has the same weights: symmetry never breaks
    learning_rate_too_high  (history) over the last ``window`` (5) costs the training cost
                            rose by more than ``rise_tolerance`` (1%), or went up and down
                            ``min_reversals`` (2) times without progress
    overfitting             (history) the evaluation cost rose ``rise_tolerance`` above its
                            best while the training cost kept falling

Severity: "error" (the network cannot learn as it is), "warning" (it learns badly), "info".

This is a math module: it imports no array library.  Arrays stay on the device; the host gets
Python floats through ``float()`` and small vectors through ``net.backend.to_numpy``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field

from .backprop import backprop, forward
from .data import Dataset
from .errors import ConfigError

__all__ = ["diagnose", "Report", "Problem", "Thresholds", "HealthMonitor",
           "NNXPHealthWarning", "KINDS", "STATS"]

KINDS = ("divergence", "saturated_units", "dead_units", "output_collapse",
         "vanishing_gradients", "exploding_gradients", "tiny_weights", "same_sign_weights",
         "identical_units", "learning_rate_too_high", "overfitting")

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
    unit_share: float = 0.9         # a unit is listed when saturated on this share of inputs
    output_slowdown: float = 0.1    # output unit: |delta| / (peak |a - y|) below this
    output_min_error: float = 0.1   # ... and RMS(a - y) of that unit at least this
    dead_fraction: float = 0.1      # hidden layer: share of dead units
    collapse_share: float = 0.9     # share of predictions in one class
    vanishing_ratio: float = 1e-3   # gradient RMS below this times the largest layer's
    exploding_ratio: float = 1e3    # gradient RMS above this times the smallest layer's
    max_update_ratio: float = 1.0   # eta |grad| / |w| above this
    tiny_weight_ratio: float = 0.05  # weight RMS below this times 1/sqrt(n_in)
    same_sign_share: float = 0.99   # share of weights with one sign
    window: int = 5                 # recent evaluations the history checks look at
    rise_tolerance: float = 0.01    # relative rise that counts as "rising"
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
        """True when no problem was found."""
        return not self.problems

    @property
    def kinds(self) -> set:
        return {p.kind for p in self.problems}

    def find(self, kind, layer="any") -> list:
        """The problems of ``kind`` (at ``layer``, when given; None is the whole network)."""
        return [p for p in self.problems if p.kind == kind and (layer == "any" or p.layer == layer)]

    def headline(self) -> str:
        """One line: "healthy" or the problems as kind@layer."""
        if self.ok:
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
        if self.ok:
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
    probe = take_probe(prepared, size)
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
        problems += _layer_problems(net, layers, th, eta, decay)
        problems += _collapse(net_stats, probe.n, th)
        problems += _gradient_problems(layers, th, eta)
    stats = [{k: v for k, v in st.items() if not k.startswith("_") and k != "finite"}
             for st in layers]
    return Report(problems, stats, summary)


def take_probe(data: Dataset, size: int) -> Dataset:
    """At most ``size`` rows of a prepared Dataset, spread evenly over it (on the device)."""
    if data.n <= size:
        return data
    stride = -(-data.n // size)
    rows = slice(0, stride * size, stride)
    x, y, labels = data.x[rows, ...], data.y[rows, ...], data.labels[rows]
    return Dataset(x, y, labels, int(x.shape[0]))


def _measure(net, probe, eta, th):
    """Per-layer numbers (host floats and small lists) and net-level numbers of one pass."""
    xp, be = net.backend.xp, net.backend
    x, y = probe.x, probe.y
    m = probe.n
    zs, as_ = forward(net.params, net.activations, x)
    grads = backprop(net.params, net.activations, net.cost, x, y)
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
