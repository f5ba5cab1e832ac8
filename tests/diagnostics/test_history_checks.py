"""history.py: learning rate too high (rising, oscillating), overfitting versus instability,
the stall, the robust trend.  Curves are given as numbers, so every assertion is exact."""

import math
import re

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import Thresholds
from nnxp.diagnostics.history_checks import history_problems, stalled, trend

from ._helpers import records

TH = Thresholds()


def kinds(recs, **kw):
    return [p.kind for p in history_problems(recs, TH, **kw)]


@pytest.mark.parametrize("costs,expected", [
    ([1.0, 0.8, 0.7, 0.65, 0.62], False),                      # steady progress
    ([1.0, 0.8, 0.9, 1.2, 1.5], True),                         # rising
    ([1.0, 1.3, 0.95, 1.35, 1.02], True),                      # oscillating without progress
    ([0.40, 0.401, 0.399, 0.402, 0.403], False),               # noise-level wiggles
    ([2.6, 1.3, 0.74, 0.56, 0.52, 0.47, 0.50, 0.73, 0.46, 0.39], False),  # one spike, progress
])
def test_learning_rate_too_high_from_the_training_cost(costs, expected):
    found = history_problems(records(training_cost=costs), TH)
    assert bool(found) == expected, [p.message for p in found]
    if expected:
        (p,) = found
        assert p.kind == "learning_rate_too_high" and p.remedy == {"eta": "find"}
        assert p.evidence["costs"] == costs


# the book's eta = 2.5 (cost jumping between 0.74 and 1.05) and the halved eta, smoother
BOOK_2_5 = [1.02, 0.81, 1.05, 0.77, 0.93, 0.74, 1.01, 0.79, 0.98, 0.75, 1.03, 0.78]
HALVED = [0.90, 0.70, 0.62, 0.58, 0.60, 0.53, 0.51, 0.52, 0.48, 0.47, 0.47, 0.45]


@pytest.mark.parametrize("start", range(6))
def test_the_oscillation_verdict_does_not_depend_on_where_a_spike_falls(start):
    """Whatever epoch the window starts at (on a spike or not), eta 2.5 oscillates and the
    halved eta does not."""
    assert kinds(records(training_cost=BOOK_2_5[start:])) == ["learning_rate_too_high"]
    assert kinds(records(training_cost=HALVED[start:])) == []


def test_a_long_healthy_run_that_wiggles_near_convergence_is_not_flagged():
    """MNIST, [784, 30, 10], eta 0.5, lmbda 5.0, 30 epochs on 50,000 images (a measured
    curve): late wiggles of up to 15% between epochs, on 3 of 29 steps."""
    costs = [0.409, 0.323, 0.302, 0.3, 0.282, 0.289, 0.274, 0.254, 0.238, 0.246, 0.239, 0.242,
             0.238, 0.215, 0.232, 0.233, 0.239, 0.228, 0.22, 0.218, 0.217, 0.2, 0.203, 0.233,
             0.219, 0.22, 0.221, 0.209, 0.195, 0.22]
    assert kinds(records(training_cost=costs)) == []


# eta 10 (issue 10): validation accuracy 5792 -> 4379 while the training cost falls 3.2 -> 2.7
UNSTABLE = records(training_cost=[4.32, 3.2, 2.54, 3.5, 3.21, 2.5, 3.7, 3.12, 2.41, 2.7],
                   evaluation_accuracy=[4100, 5200, 5792, 4300, 5100, 5500, 4200, 4900, 5600,
                                        4379],
                   training_accuracy=[21000, 26000, 28950, 22000, 25000, 28000, 21000, 25000,
                                      29000, 23520])


def test_instability_is_not_overfitting():
    assert kinds(UNSTABLE) == ["learning_rate_too_high"]


def test_overfitting_needs_a_stable_training_curve_and_training_accuracy_that_holds():
    over = records(eta=0.5, training_cost=[0.9, 0.6, 0.4, 0.3, 0.2],
                   evaluation_accuracy=[800, 900, 850, 820, 800])
    (p,) = history_problems(over, TH, n=1000)
    assert p.kind == "overfitting" and p.evidence["best_index"] == 1
    assert p.remedy == {"lmbda": pytest.approx(0.1)}  # the book's: 5e-5 * 1000 / 0.5
    plateau = records(training_cost=[0.9, 0.6, 0.4, 0.3, 0.2],
                      evaluation_accuracy=[800, 900, 905, 903, 904])
    assert kinds(plateau) == []
    falling = records(training_cost=[0.9, 0.6, 0.4, 0.3, 0.2],
                      evaluation_accuracy=[800, 900, 850, 820, 800],
                      training_accuracy=[800, 950, 900, 850, 820])
    assert kinds(falling) == []  # training accuracy fell too: not overfitting


# the book's overfitting (1,000 images, no regularization): the evaluation cost turns up while
# the accuracy levels off and the training cost keeps falling
EVAL_COST = [2.3, 1.33, 1.32, 1.38, 1.44, 1.5, 1.54, 1.64, 1.66, 1.68, 1.71, 1.73]
EVAL_ACC = [541, 787, 806, 800, 814, 818, 808, 805, 807, 804, 805, 809]
TRAIN_COST = [2.0, 0.44, 0.21, 0.13, 0.089, 0.068, 0.053, 0.043, 0.036, 0.030, 0.026, 0.023]


def test_overfitting_from_the_evaluation_cost_without_regularization():
    recs = records(eta=0.5, training_cost=TRAIN_COST, evaluation_cost=EVAL_COST,
                   evaluation_accuracy=EVAL_ACC)
    (p,) = history_problems(recs, TH, n=1000)
    assert p.kind == "overfitting" and p.evidence["key"] == "evaluation_cost"
    # with L2 the evaluation cost grows with the weights: it says nothing then
    assert kinds(recs, lmbda=0.1) == []
    # and while the accuracy still climbs, a rising cost is confident mistakes, not overfitting
    climbing = records(eta=0.5, training_cost=TRAIN_COST, evaluation_cost=EVAL_COST,
                       evaluation_accuracy=[541 + 30 * i for i in range(12)])
    assert kinds(climbing) == []


def test_stalled_and_trend():
    assert stalled(records(training_cost=[0.5, 0.5, 0.5, 0.5]), TH)["plateau"] == 0.5
    assert stalled(records(training_cost=[2.32, 2.35, 2.37, 2.35, 2.34]), TH) is not None
    assert stalled(records(training_cost=[1.0, 0.7, 0.5, 0.4]), TH) is None
    assert stalled(records(training_cost=[1.0, 1.0]), TH) is None  # too short to tell
    assert trend([1.0, 2.0, 4.0, 8.0]) == pytest.approx(7.0)
    assert trend([1.0, 0.5, 0.25, 0.125, 0.0625]) == pytest.approx(1 / 16 - 1)
    assert trend([1.0, 0.5, 9.0, 0.125, 0.0625]) < -0.8  # one spike hardly moves it
    assert math.isfinite(trend([0.0, -1.0, 1.0]))


def test_divergence_of_a_recorded_cost():
    (p,) = history_problems(records(training_cost=[1.0, float("nan")]), TH)
    assert p.kind == "divergence" and p.severity == "error"


def test_a_cost_that_climbs_past_e709_is_diagnosed_and_said_in_words():
    """A history whose cost climbs from 2 to 1e300 (a float64 run blowing up): a bare
    OverflowError from math.expm1 in the trend (a health monitor would crash mid-training),
    and "inf%" or percentages of hundreds of digits in the message (the sixth sweep)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((200, 8)), rng.integers(0, 3, 200)
    net = nnxp.Network([8, 5, 3], seed=0, dtype="float64")
    for costs in ([2.0, 2.0, 2.0, 1e200, 1e300, 1e300], [1.0, 10, 1e3, 1e6, 1e10, 1e20],
                  [1e308, 1e-308] * 3):
        history = [{"epoch": i, "eta": 0.5, "training_cost": c} for i, c in enumerate(costs)]
        report = nnxp.diagnose(net, (x, y), eta=0.5, history=history)
        for p in report.find("learning_rate_too_high"):
            assert "inf%" not in p.message and len(p.message) < 1000, p.message
            assert not re.search(r"\d{7,}%", p.message), p.message
