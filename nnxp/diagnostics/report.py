"""What diagnose returns: a Report of Problems and per-layer numbers, readable and JSON-safe.

    Problem(kind, layer, units, severity, message, advice, evidence, remedy)
        kind      one of KINDS;  layer: weight-layer index, or None for the whole network
        units     unit indices concerned (may be empty);  severity: "error" | "warning" | "info"
        message   what was measured, in the book's terms;  advice: what to do
        evidence  the numbers behind it (a dict)
        remedy    the advice as Network / SGD arguments to change, values as those accept
                  them (advice.py), may be empty
    Report(problems, stats, summary)
        .problems sorted by severity, then those no other problem explains (no
                  "explained_by" in their evidence) before those one does, then cause
                  before consequence (KINDS order), then layer
        .primary  the first error or warning: the cause to fix first (None when there is none)
        .stats: one dict per layer (STATS)
        .summary  net-level numbers (sizes, cost, backend, probe cost and accuracy, ...)
        .ok, .kinds, .find(kind, layer="any"), .headline(), .to_dict(compact=False), str(report)
        (to_dict's problems carry advice, evidence and remedy unless compact)

Everything here runs on the host, on Python numbers: no arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..checks import flag

__all__ = ["Problem", "Report", "KINDS", "STATS"]

KINDS = ("inputs_not_scaled", "divergence", "identical_units", "same_sign_weights",
         "weight_decay_too_strong",
         "too_few_updates", "learning_rate_too_high", "tiny_weights", "dead_units",
         "saturated_units", "exploding_gradients", "vanishing_gradients", "overfitting", "output_collapse")
# in this order within one severity: causes (the data's scale, then the configuration:
# initial weights, lmbda, eta)
# before the states they lead to (dead, saturated, vanished weights), symptoms (collapse) last

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
_COLUMNS = ("layer", "activation", "units", "act_mean", "act_std", "z_std", "saturated", "dead",
            "weight_rms", "weight_scale", "grad_rms", "update_ratio")


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
    remedy: dict = field(default_factory=dict)

    def __post_init__(self):
        self.remedy = dict(self.remedy)  # each problem its own: never a shared constant

    @property
    def key(self) -> tuple:
        return (self.kind, self.layer)

    @property
    def where(self) -> str:
        return "network" if self.layer is None else f"layer {self.layer}"

    def to_dict(self, compact=False) -> dict:
        d = {"kind": self.kind, "layer": self.layer, "units": list(self.units),
             "severity": self.severity, "message": self.message}
        if not flag("compact", compact):  # a string such as "no" is not a truth value
            d["advice"] = self.advice
            d["evidence"] = _json_safe(self.evidence)
            d["remedy"] = _json_safe(self.remedy)
        return d

    def __str__(self) -> str:
        return (f"[{self.severity}] {self.kind} ({self.where}): {self.message}\n"
                f"    advice: {self.advice}")


class Report:
    """The result of ``diagnose``: ``problems``, per-layer ``stats`` and a net ``summary``."""

    KINDS = KINDS

    def __init__(self, problems, stats, summary):
        self.problems = sorted(problems, key=lambda p: (
            _SEVERITY[p.severity], "explained_by" in p.evidence, KINDS.index(p.kind),
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

    @property
    def primary(self):
        """The first problem of severity "error" or "warning" (the cause to fix first), or
        None."""
        return next((p for p in self.problems if p.severity != "info"), None)

    def find(self, kind, layer="any") -> list:
        """The problems of ``kind`` (at ``layer``, when given; None is the whole network); a
        kind not in KINDS is a ConfigError (a misspelt kind would otherwise find nothing)."""
        if kind not in KINDS:
            from ..checks import show
            from ..errors import ConfigError
            raise ConfigError(f"unknown problem kind {show(kind)}; the kinds are "
                              f"{', '.join(KINDS)}")
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
        stats, summary = self.stats, self.summary
        if flag("compact", compact):
            stats = [{k: _round(v) for k, v in s.items()} for s in stats]
            summary = {k: _round(v) for k, v in summary.items()}
        return {"headline": self.headline(),
                "problems": [p.to_dict(compact) for p in self.problems],
                "stats": _json_safe(stats), "summary": _json_safe(summary)}

    def __str__(self) -> str:
        s = self.summary
        lines = [f"nnxp diagnosis of {s['sizes']} ({s['cost']}, {s['backend']}) on "
                 f"{s['n_probe']} probe inputs: cost {_fmt(s['cost_value'])}, accuracy "
                 f"{_fmt(s['accuracy'])}"]
        rows = [[_fmt(st.get(c)) for c in _COLUMNS] for st in self.stats]
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS)]
        lines.append("  " + "  ".join(c.rjust(w) for c, w in zip(_COLUMNS, widths)))
        lines += ["  " + "  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in rows]
        if not self.problems:
            lines.append("No problems found.")
        else:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [str(p) for p in self.problems]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Report: {self.headline()}>"


def _round(v):
    """4 significant digits for the compact per-epoch record (lists element by element)."""
    if isinstance(v, float) and math.isfinite(v) and v != 0.0:
        return float(f"{v:.4g}")
    if isinstance(v, list):
        return [_round(x) for x in v]
    return v


def _json_safe(v):
    """``v`` with non-finite floats and unknown objects as strings, dict keys as strings."""
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if callable(v) and hasattr(v, "__name__"):  # an initializer in a remedy: its name
        return v.__name__
    return str(v)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)
