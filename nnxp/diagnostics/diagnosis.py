"""diagnose: measure a network on a probe batch and say what stops it learning.

    diagnose(net, data, *, eta=None, lmbda=0.0, n=None, history=None, thresholds=None,
             probe_size=None) -> Report
    take_probe(data, size, backend) -> Dataset   at most ``size`` rows of a prepared Dataset,
                                                 spread evenly over it

The steps: the probe (on the device), measure (one compiled pass, one transfer), the per-layer
stats (host), the cost of knowing nothing on the probe (measure.chance_cost, the history's
yardstick), then the checks: history, the scale of the inputs, divergence, or the layer and
network checks; then the
causes (causes.py): the finder's verdict on eta, too few updates, eta named when the run broke
at once or its ReLU outputs died, each cause as severe as what it explains, so that the
Report's first problem is the one to fix; last, remedies that lower eta get a number
(advice.resolve_eta).
"""

from __future__ import annotations

import math
import numbers

from ..data import Dataset
from ..checks import show
from ..errors import ConfigError, InputTypeError
from . import network_checks as net_checks
from .causes import attribute, relate
from .advice import resolve_eta
from .history_checks import history_problems, learning, records as as_records
from .layer_checks import layer_problems
from .layered import diagnose_layered
from .measure import chance_cost, measure
from .report import Report
from .stats import finish, layer_stats, public
from .thresholds import Thresholds

__all__ = ["diagnose", "take_probe"]


def diagnose(net, data, *, eta=None, lmbda=0.0, n=None, history=None, thresholds=None,
             probe_size=None, threshold=None, mini_batch_size=None) -> Report:
    """Measure ``net`` on a probe batch of ``data`` and say what stops it learning.

    ``data``: anything ``net.prepare`` accepts ((X, y) arrays, network2 pairs, a Dataset).
    ``eta``, ``lmbda``, ``n``: the training hyper-parameters, when known (update ratios, weight
    decay per step eta*lmbda/n).  ``history``: a History or a list of epoch records (cost
    curves).  ``thresholds``: a Thresholds or a dict of overrides.  ``probe_size`` overrides
    ``thresholds.probe_size``.  ``threshold``: the finder's threshold eta for this network and
    mini-batch size (a number, or find_learning_rate's LRResult): it decides whether eta is
    too high, and remedies that lower eta use half of it.  ``mini_batch_size``: the training
    run's, for too_few_updates.

    >>> report = nnxp.diagnose(net, (X, y))                         # doctest: +SKIP
    >>> print(report); report.find("saturated_units")               # doctest: +SKIP
    """
    view = getattr(net, "__nnxp_network__", None)
    if view is not None:  # nnxp.compat's networks: diagnosed as the nnxp.Network they are
        net = view()
    _check_network(net)
    th = Thresholds.of(thresholds)
    size = _check_arguments(eta, lmbda, n, th.probe_size if probe_size is None else probe_size)
    threshold = _threshold(threshold)
    _check_positive("mini_batch_size", mini_batch_size, integer=True)
    prepared = net.prepare(data, "data")
    probe = take_probe(prepared, size, net.backend)
    records = as_records(history)
    n_train = n if n is not None else prepared.n
    if getattr(net, "layers", None) is not None:  # layer objects: layered.py measures them
        return diagnose_layered(net, probe, th, eta=eta, lmbda=lmbda, n=n_train, records=records,
                                whole=probe.n == prepared.n, threshold=threshold,
                                mini_batch_size=mini_batch_size)
    decay = None if eta is None or not lmbda else eta * lmbda / n_train
    layers, totals = measure(net, probe, th.saturation_prime)
    totals["accuracy"] = totals.pop("hits") / probe.n
    stats = layer_stats(net, layers, eta)
    summary = {"sizes": list(net.sizes), "cost": net.cost.name, "backend": net.backend.name,
               "n_probe": probe.n, "eta": eta, "lmbda": lmbda, "decay_per_step": decay,
               "accuracy": totals["accuracy"], "cost_value": totals["cost_value"],
               "predicted_share": [c / probe.n for c in totals["pred_counts"]],
               "input_rms": totals["x_rms"], "input_max": totals["x_max"]}
    scale = chance_cost(net, totals["label_counts"]) if records else None
    summary["chance_cost"] = scale
    problems = history_problems(records, th, lmbda=lmbda, n=n_train, scale=scale)
    if not all(st["finite"] for st in stats) or not math.isfinite(totals["cost_value"]):
        problems = net_checks.inputs(totals, stats, th, trained=bool(records)) + problems
        problems += net_checks.divergence(stats, totals)
        relate(problems, bool(records), len(stats) - 1)
    else:
        finish(stats, th)
        problems = _checks(net, stats, totals, th, eta, lmbda, decay, probe.n, records,
                           problems, whole=probe.n == prepared.n,
                           run={"threshold": threshold, "mini_batch_size": mini_batch_size,
                                "n": n_train, "scale": scale,
                                "current": {k: getattr(net, k) for k in ("weight_init",
                                                                         "bias_init")
                                            if hasattr(net, k)}})
    resolve_eta(problems, eta, threshold)
    return Report(problems, public(stats), summary)


def _checks(net, stats, totals, th, eta, lmbda, decay, m, records, problems, whole,
            run) -> list:
    """The layer and network checks of a network whose numbers are finite, with the
    history's ``problems``, linked to their causes (``whole``: the probe is all the data)."""
    progress = net_checks.progress(totals, m)
    ctx = {"m": m, "whole": whole, "ties": totals["ties"], "decay": decay, "lmbda": lmbda,
           "progress": progress, "learning": learning(records, th), "x_rms": totals["x_rms"],
           "first": 0}
    problems = (net_checks.inputs(totals, stats, th, trained=bool(records), progress=progress)
                + problems + layer_problems(net, stats, th, ctx))
    problems += net_checks.decay(decay, lmbda, th)
    problems += net_checks.gradient_problems(stats, th, eta, found=problems)
    last = len(stats) - 1
    problems = attribute(problems, records, th, eta=eta, progress=progress, last=last, **run)
    problems += net_checks.collapse(totals, m, th, problems, bool(records), ctx["learning"],
                                    run["scale"])
    relate(problems, bool(records), last)
    return problems


def _threshold(value):
    """The finder's threshold from a number, an LRResult (its ``threshold``) or None."""
    value = getattr(value, "threshold", value)
    _check_positive("threshold", value)
    return None if value is None else float(value)


def _check_positive(name, value, integer=False) -> None:
    """None, or a positive finite number (an integer with ``integer``)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                              or not 0 < value < math.inf or (integer and value != int(value))):
        raise ConfigError(f"{name} must be a positive finite {'integer' if integer else 'number'}"
                          f" or None, got {show(value)}")


def _check_network(net) -> None:
    """An nnxp.Network, told by what the measurements use (diagnostics does not import
    network.py, which imports diagnostics for health=): a Population has these too, and a
    vote."""
    population = hasattr(net, "vote") and hasattr(net, "__getitem__")
    if population or not all(hasattr(net, a) for a in ("prepare", "spec", "params", "backend")):
        hint = ("; a Population is diagnosed member by member: nnxp.diagnose(pop[k], data)"
                if population else "")
        raise InputTypeError(f"diagnose needs an nnxp.Network (or a network of nnxp.compat), "
                             f"got {show(net)}{hint}")


def _check_arguments(eta, lmbda, n, size) -> int:
    for name, value in (("eta", eta), ("n", n)):
        _check_positive(name, value)
    if isinstance(lmbda, bool) or not isinstance(lmbda, numbers.Real) \
            or not 0 <= lmbda < math.inf:
        raise ConfigError(f"lmbda must be a non-negative finite number, got {show(lmbda)}")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ConfigError(f"probe_size must be a positive integer, got {show(size)}")
    return int(size)


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
