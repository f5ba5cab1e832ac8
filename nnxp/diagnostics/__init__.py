"""Diagnostics: why a network is not learning, measured on a probe batch, in the book's terms.

    diagnose(net, data, *, eta=None, lmbda=0.0, n=None, history=None, thresholds=None,
             probe_size=None, threshold=None, mini_batch_size=None) -> Report
    Report.problems   [Problem(kind, layer, units, severity, message, advice, evidence, remedy)]
    Report.primary    the first error or warning: the cause to fix first
    Report.stats      one dict of numbers per layer (see STATS), and Report.summary for the net
    str(report)       a readable summary;  report.to_dict(compact=False) -> JSON-safe dict
    Thresholds(...)   every threshold below, adjustable: diagnose(..., thresholds={"...": x})
    HealthMonitor(probe=None, every=1, thresholds=None, warn=True)
        a training callback ``monitor(record, net)``: diagnoses every ``every`` calls, puts
        ``record["health"]`` (compact), keeps ``monitor.reports``, and warns once per new
        (kind, layer) with ``NNXPHealthWarning``, confirmed on diagnose's default probe;
        ``monitor.bind(training_data)`` takes its
        probe from the training data when none was given.
    take_probe(dataset, size, backend) -> Dataset   at most ``size`` rows, spread evenly

What is measured.  One forward pass and one backpropagation over the probe (``probe_size``
rows of ``data``, 2,000 by default, taken with a stride so that data sorted by class still give
every class), all on the network's device; only a few numbers per layer and per unit come back
to the host, as one small array.  ``eta``, ``lmbda`` and ``n`` (the training-set size) are
optional: with them the report adds update-to-weight ratios and the weight decay per step.
``history`` (a History or its list of records, of one run or several in order) adds the checks
that need a curve, and lets the report name eta as the cause of a run that broke at once (the
eta of the run that broke it).  A change of the cost is judged against the cost of knowing
nothing on the probe (every input given the class frequencies: measure.chance_cost), so that a
small data set's cost near its floor, which moves a lot relative to itself, is not a verdict.
``threshold`` (the finder's threshold eta, or its LRResult) decides whether eta is too high:
at or below it never, above it always; remedies that lower eta then use half of it.
``mini_batch_size`` (the run's) lets the report name too few updates.

Problem kinds (``Report.KINDS``, in the order causes come before consequences) and when they
are reported, with the default thresholds:

    inputs_not_scaled       the probe's inputs have an RMS above ``input_rms`` (10) and, in a
                            network not trained (no history), the first layer's weights are at
                            most 3x the 1/sqrt(n_in) scale (after training whatever they did:
                            the first layer's steps grow with the inputs); "info" once the
                            trained network has learned; z is as wide as the data; remedy
                            ``scale_inputs`` = 1 / max |x|, or one factor per column, 1 / its
                            max |x|, when the largest magnitude is above ``column_spread``
                            (10) times the median column's (a data transform:
                            advice.scale_inputs); it explains what the wide z does
    divergence              a parameter, the probe cost or a recorded cost is NaN or infinite
    identical_units         every unit of a layer has the same weights: symmetry never breaks
    same_sign_weights       at least ``same_sign_share`` (99%) of a layer's weights (10 or more)
                            share one sign; an error when it pushes the layer's z off centre
                            into saturation, or the output collapses.  After training from one
                            of nnxp's (symmetric) initializers, made by the steps: explained by
                            a learning rate or weight decay found, and listed after it
    weight_decay_too_strong (eta, lmbda and n known) eta lmbda / n, the fraction of every weight
                            L2 regularization removes at each step, above ``max_decay`` (1e-3)
    too_few_updates         (history and mini_batch_size) fewer than ``min_updates`` (1,000)
                            SGD steps in all at mini-batches above 10, a network that has not
                            learned, no dead or saturated units, and a cost that did not rise
                            (at most the cost of knowing nothing): a smaller mini-batch
    learning_rate_too_high  (threshold) eta above the finder's threshold.  (history) over the
                            last ``window`` (30) epochs the training cost rose (Theil-Sen trend
                            above ``rise_tolerance``, 5%) or oscillates: it rose by more than 5%
                            between epochs at least ``min_rises`` (2) times, on
                            ``oscillation_share`` (20%) of the steps, and these rises add up to
                            more than the trend's fall; and the rise, or the cost's swing above
                            its floor (history.swing), is at least ``swing`` (3%) of the cost of
                            knowing nothing; never when eta is at or below the finder's
                            ``threshold``; "info" asking for the finder when the cost also
                            falls beyond its noise (history.falls) below the cost of knowing
                            nothing (the finder's threshold then decides).  An error when it
                            explains dead or saturated units or a collapse.  (eta and
                            history) the cost stopped improving after its first epoch or
                            two, in a network still at chance with dead or saturated units:
                            the first steps (of the run then training) broke it; or
                            rectified output units are 0 on every input after training in a
                            network that has not learned; or units died (4 or more epochs)
                            under the initialization their remedy names.  (eta) one full
                            step eta |dC/dw| above ``max_update_ratio`` (100) times |w|
    tiny_weights            weight RMS below ``tiny_weight_ratio`` (5%) of 1/sqrt(n_in) (the
                            first layer's times the inputs' RMS when above 1): the output
                            hardly depends on the input (too much L2 weight decay)
    dead_units              ReLU-family units with z <= 0 on every input of a probe of at least
                            ``conclusive_probe`` (300) rows whose input cannot change: the first
                            layer, or a layer below which nothing learns.  Hidden layers when at
                            least ``dead_fraction`` (10%) are; output layer any.  Units off
                            everywhere that the layers below can still turn on, and a minority
                            of a hidden layer in a network that has learned or whose cost is
                            falling: "info"
    saturated_units         hidden sigmoid/tanh layer: at least ``saturated_fraction`` (25%) of
                            its (unit, input) pairs have a derivative below ``saturation_prime``
                            (1%) of its peak (sigmoid |z| > 6, tanh |z| > 3), unless the network
                            has ``learned`` (its probe accuracy went half the way from chance to
                            100%) and the layer is below 90%; the cause the numbers point at is
                            said (weights of one sign, z off centre, weights large next to
                            1/sqrt(n_in) and to network2's N(0, 1)); an error when 90% of the
                            units are saturated on ``unit_share`` (90%) of the inputs.  Output
                            layer: units whose error RMS(a - y) is at least ``output_min_error``
                            (0.1) but whose delta^L is under ``output_slowdown`` (10%) of what
                            an unsaturated unit would pass back (chapter 3's slowdown)
    exploding_gradients     a hidden layer's weight-gradient RMS above ``exploding_ratio`` (1e3)
                            times the output layer's
    vanishing_gradients     a layer two or more layers below the output whose weight-gradient
                            RMS is below ``vanishing_ratio`` (1e-3) of the output layer's (the
                            book's chapter 5), unless saturated or dead units explain it
    overfitting             (history) the evaluation accuracy fell by ``rise_tolerance`` from
                            its best, or (no L2) the evaluation cost rose from its best while
                            the accuracy stopped improving, two or more epochs ago, by more than
                            1.5 times its own median change per epoch (and, counted in
                            answers, by more than 9: McNemar), while the training cost
                            kept falling and no learning_rate_too_high was found and the
                            training accuracy held
    output_collapse         one class gets ``collapse_share`` (90%) of the predictions, though
                            its share of the labels is below that, with the problems that
                            explain it and how many predictions are argmax ties ("info" without
                            an error to explain it for an untrained network, one whose cost
                            is still falling, or one whose cost is at most that of predicting
                            the class frequencies: the plateau training starts on)

Severity: "error" (the network cannot learn as it is), "warning" (it learns badly), "info"
(not a verdict).  ``Report.problems`` are sorted by severity, then what no other problem
explains before what one does, then in KINDS order, so the first (``Report.primary``) is the
cause to fix; each Problem carries its advice as text and as a
``remedy``, the Network / SGD arguments to change, as those accept them
(``advice.split_remedy`` separates the two).

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
    history_checks.py  the checks on cost and accuracy curves
    causes.py          which problem explains which: eta named, causes first
    advice.py          the advice phrases and remedies the checks share
    health.py          HealthMonitor, NNXPHealthWarning
"""

from .diagnosis import diagnose, take_probe
from .health import HealthMonitor, NNXPHealthWarning
from .report import KINDS, STATS, Problem, Report
from .thresholds import Thresholds

__all__ = ["diagnose", "Report", "Problem", "Thresholds", "HealthMonitor",
           "NNXPHealthWarning", "take_probe", "KINDS", "STATS"]
