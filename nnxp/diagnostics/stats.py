"""The per-layer numbers of a Report, derived on the host from what measure brought back.

    layer_stats(net, layers, eta) -> [stats dict per layer]
        the STATS of report.py (with n_in), plus what only the checks read under "_" keys
        (per-unit shares and RMS values, unit spread, share of negative weights) and "finite"
    finish(stats, th)
        fills in what needs a threshold and finite numbers: "saturated_units" (the share of
        units saturated on ``th.unit_share`` of the inputs) and, for a saturating output
        layer, "output_slowdown" (the smallest of ``slowdowns``)
    slowdowns(st) -> [per output unit: RMS(delta^L) / (peak derivative * RMS(a - y))]
        1 for an unsaturated unit, near 0 when sigma'(z) ~ 0 silences its error
    public(stats) -> the stats without "_" keys and "finite", as Report.stats holds them
    update_ratio(eta, grad_norm, weight_rms, size) -> eta |dC/dw| / |w| (None without eta)
        one full gradient step against the weights (``size`` of them), for dense and layered
        networks alike
"""

from __future__ import annotations

import math

__all__ = ["layer_stats", "finish", "slowdowns", "public", "update_ratio"]

_PER_UNIT = ("sat_share", "active_share", "err_rms", "delta_rms", "peak")


def layer_stats(net, layers, eta) -> list:
    """One stats dict per layer from ``measure``'s host numbers; ``eta`` (or None) gives the
    update ratio eta |dC/dw| / |w|."""
    stats = []
    for l, (host, act, (w, _)) in enumerate(zip(layers, net.activations, net.params)):
        n_out, n_in = (int(s) for s in w.shape)
        st = {"layer": l, "activation": act.name, "units": n_out, "n_in": n_in,
              "finite": host["finite"] == 1.0}
        st.update({k: host[k] for k in ("act_mean", "act_std", "z_mean", "z_std")})
        st["saturated"] = sum(host["sat_share"]) / n_out if act.saturating else None
        st["saturated_units"] = None
        st["dead"] = (sum(1 for s in host["active_share"] if s == 0.0) / n_out
                      if act.rectified else None)
        st.update({k: host[k] for k in ("weight_rms", "positive_weights", "grad_norm",
                                        "bias_grad_norm")})
        st["weight_scale"] = host["weight_rms"] * math.sqrt(n_in)
        st["grad_rms"] = host["grad_norm"] / math.sqrt(n_out * n_in)
        st["update_ratio"] = update_ratio(eta, host["grad_norm"], host["weight_rms"],
                                          n_out * n_in)
        st.update({"_" + k: host[k] for k in _PER_UNIT if k in host})
        st["_unit_spread"] = host["unit_spread"]
        st["_negative_weights"] = host["negative_weights"]
        st["_bias_max"] = host["bias_max"]  # 0: the biases are as zero_bias drew them
        stats.append(st)
    return stats


def finish(stats, th) -> None:
    """Add "saturated_units" and the output layer's "output_slowdown" (finite numbers only)."""
    for st in stats:
        if st["saturated"] is not None:
            share = st["_sat_share"]
            st["saturated_units"] = sum(1 for s in share if s >= th.unit_share) / st["units"]
        if "_peak" in st:
            slow = slowdowns(st)
            st["output_slowdown"] = min(slow) if slow else None


def slowdowns(st) -> list:
    """Per output unit, the error signal delta^L relative to what an unsaturated unit of the
    same error would pass back: RMS(delta) / (peak derivative * RMS(a - y))."""
    peak = st["_peak"]
    return [d / (peak * e) if e > 0 else math.inf for d, e in zip(st["_delta_rms"], st["_err_rms"])]


def public(stats) -> list:
    """The stats as Report.stats holds them: no "_" keys, no "finite"."""
    return [{k: v for k, v in st.items() if not k.startswith("_") and k != "finite"}
            for st in stats]


def update_ratio(eta, grad_norm, weight_rms, size):
    """eta |dC/dw| / |w|, with |w| = weight_rms sqrt(size); None when eta is None, inf for a
    step on all-zero weights."""
    if eta is None:
        return None
    return _ratio(eta * grad_norm, weight_rms * math.sqrt(size))


def _ratio(a, b):
    return a / b if b > 0 else (math.inf if a > 0 else 0.0)
