"""Diagnostics: why a network is not learning, measured on a probe batch, in the book's terms.

    diagnose(net, data, *, eta=None, lmbda=0.0, n=None, history=None, thresholds=None,
             probe_size=None) -> Report
    Report.problems   [Problem(kind, layer, units, severity, message, advice, evidence), ...]
    Report.stats      one dict of numbers per layer (see STATS), and Report.summary for the net
    str(report)       a readable summary;  report.to_dict(compact=False) -> JSON-safe dict
    Thresholds(...)   every threshold below, adjustable: diagnose(..., thresholds={"...": x})
    HealthMonitor(probe=None, every=1, thresholds=None, warn=True)
        a training callback ``monitor(record, net)``: diagnoses every ``every`` calls, puts
        ``record["health"]`` (compact), keeps ``monitor.reports``, and warns once per new
        (kind, layer) with ``NNXPHealthWarning``; ``monitor.bind(training_data)`` takes its
        probe from the training data when none was given.
    take_probe(dataset, size, backend) -> Dataset   at most ``size`` rows, spread evenly

What is measured.  One forward pass and one backpropagation over the probe (``probe_size``
rows of ``data``, 2,000 by default, taken with a stride so that data sorted by class still give
every class), all on the network's device; only a few numbers per layer and per unit come back
to the host, as one small array.  ``eta``, ``lmbda`` and ``n`` (the training-set size) are
optional: with them the report adds update-to-weight ratios and the weight decay per step.
``history`` (a History or its list of records) adds the checks that need a curve.

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

This is a math package: it imports no array library.  The measurement is one pure function of
arrays (measure.py), compiled on JAX (``nnxp.engines.compiled``) and cached on the network; its
numbers come back to the host as one small flat array, in one transfer.

Modules (one idea each):

    thresholds.py      Thresholds
    report.py          Problem, Report, KINDS, STATS; text and JSON
    diagnosis.py       diagnose, take_probe: the steps, in order
    measure.py         the device side: one pass, one flat array, one transfer
    stats.py           the per-layer numbers of the report, derived on the host
    layer_checks.py    saturation, dead units, the weights: one layer at a time
    network_checks.py  divergence, weight decay, gradients, output collapse
    history.py         the checks on cost and accuracy curves
    advice.py          the advice phrases the checks share
    health.py          HealthMonitor, NNXPHealthWarning
"""

from .diagnosis import diagnose, take_probe
from .health import HealthMonitor, NNXPHealthWarning
from .report import KINDS, STATS, Problem, Report
from .thresholds import Thresholds

__all__ = ["diagnose", "Report", "Problem", "Thresholds", "HealthMonitor",
           "NNXPHealthWarning", "take_probe", "KINDS", "STATS"]
