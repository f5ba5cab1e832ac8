"""Verdicts against the data's own noise and scale: inputs that are not scaled, an oscillation
about a cost that falls beyond its noise (the finder decides), a fall of a few answers on a
small evaluation set, dead units under the initialization their remedy names, and the
HealthMonitor's confirmation on diagnose's probe.  Curves are given as numbers."""

import warnings

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import HealthMonitor, NNXPHealthWarning, Thresholds, diagnose
from nnxp.diagnostics.advice import scale_inputs, split_remedy
from nnxp.diagnostics.history_checks import falls, history_problems, swing
from nnxp.initializers import he_weight, zero_bias

from ._helpers import N_IN, N_OUT, host_params, kinds_at, problem_data, records, set_params
from .test_health import half_dead_net

TH = Thresholds()

# the training cost of a healthy [20, 50, 50, 3] tanh network on make_classification (eta 0.1),
# epochs 11-40: it bounces by up to 20% between epochs while it falls from 0.51 to 0.32
NOISY_FALL = [0.506, 0.495, 0.482, 0.481, 0.487, 0.578, 0.505, 0.471, 0.473, 0.532, 0.481, 0.475,
              0.493, 0.462, 0.445, 0.39, 0.413, 0.364, 0.386, 0.379, 0.348, 0.366, 0.357, 0.361,
              0.315, 0.351, 0.323, 0.387, 0.326, 0.316]
CHANCE = 1.098  # the cost of predicting its class frequencies (3 balanced classes)


# -- inputs_not_scaled --------------------------------------------------------------------------

def test_unscaled_inputs_are_named_first_with_a_remedy_that_scales_them(backend):
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    report = diagnose(net, (255.0 * x, y), eta=0.5)
    first = report.primary
    assert first.kind == "inputs_not_scaled" and first.severity == "error", str(report)
    assert first.remedy == {"scale_inputs": pytest.approx(1 / (255.0 * np.abs(x).max()),
                                                          rel=1e-2)}
    assert "saturated_units" in first.evidence.get("explains", [""])[0]
    assert split_remedy(first.remedy) == ({}, {})  # a data transform, not an argument
    again = diagnose(net, (scale_inputs(first.remedy, 255.0 * x), y), eta=0.5)
    assert not again.find("inputs_not_scaled"), str(again)


def test_scaled_and_standardized_inputs_are_not_called_unscaled(backend):
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    standard = (x - x.mean(axis=0)) / x.std(axis=0)
    for inputs in (x, standard, 5.0 * standard):
        assert not diagnose(net, (inputs, y)).find("inputs_not_scaled")


def test_large_weights_on_unscaled_inputs_stay_a_weights_problem(backend):
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0, weight_init=nnxp.initializers.large_weight)
    (w1, b1), _ = host_params(net)
    set_params(net, [(10.0 * w1, b1), None])  # weights 10 x 1/sqrt(n_in) x sqrt(n_in)
    report = diagnose(net, (20.0 * x, y))
    assert not report.find("inputs_not_scaled") and report.find("saturated_units")


def test_a_run_diverged_on_unscaled_inputs_names_the_inputs(backend):
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    (w1, b1), out = host_params(net)
    set_params(net, [(np.full_like(w1, np.nan), b1), None])
    report = diagnose(net, (1000.0 * x, y), eta=0.5)
    assert [p.kind for p in report.problems][:2] == ["inputs_not_scaled", "divergence"]
    assert report.primary.kind == "inputs_not_scaled"


# -- learning_rate_too_high against the cost's own noise ----------------------------------------

def test_an_oscillation_about_a_cost_that_falls_beyond_its_noise_asks_the_finder():
    assert falls(NOISY_FALL)
    (p,) = history_problems(records(eta=0.1, training_cost=NOISY_FALL), TH, scale=CHANCE)
    assert p.kind == "learning_rate_too_high" and p.severity == "info"
    assert p.evidence["ask_finder"]


# the book's eta 2.5 ([784, 30, 10], cross-entropy, lmbda 5; the tuned suite's eta-small-batch,
# seed 0, NumPy float32): it bounces by 5-30% between epochs while it falls, and its swing, 2.4%
# of the cost of knowing nothing, is below the `swing` bar but above `ask_swing`
BOOK_ETA_2_5 = [1.0244, 0.8631, 0.7882, 0.8086, 0.7268, 0.7773, 0.6954, 0.9252, 0.6978, 0.6835,
                0.5911, 0.7507, 0.5877, 0.5826, 0.6099, 0.5964, 0.5809, 0.5922, 0.6622, 0.5728,
                0.5619, 0.6016, 0.5602, 0.6319, 0.5108, 0.6031, 0.5716, 0.667, 0.4456, 0.5256]
BOOK_CHANCE = 3.2457  # 10 sigmoid outputs under cross-entropy


def test_a_small_swing_about_a_falling_cost_asks_the_finder_and_a_tiny_one_is_noise():
    ratio = swing(BOOK_ETA_2_5) / BOOK_CHANCE
    assert TH.ask_swing <= ratio < TH.swing and falls(BOOK_ETA_2_5)
    (p,) = history_problems(records(eta=2.5, training_cost=BOOK_ETA_2_5), TH, scale=BOOK_CHANCE)
    assert p.kind == "learning_rate_too_high" and p.severity == "info"
    assert p.evidence["ask_finder"]
    # the same curve against a yardstick 3x larger swings by 0.8% of it: noise near the floor
    assert swing(BOOK_ETA_2_5) / (3 * BOOK_CHANCE) < TH.ask_swing
    assert history_problems(records(eta=2.5, training_cost=BOOK_ETA_2_5), TH,
                            scale=3 * BOOK_CHANCE) == []


def test_the_finder_decides_what_the_curve_cannot(backend):
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    history = records(eta=0.1, training_cost=NOISY_FALL)
    data = problem_data()
    below = diagnose(net, data, eta=0.1, history=history, threshold=0.5)
    assert not kinds_at(below) & {("learning_rate_too_high", None)}, str(below)
    above = diagnose(net, data, eta=0.1, history=history, threshold=0.05)
    (p,) = above.find("learning_rate_too_high")
    assert p.severity in ("warning", "error") and p.remedy == {"eta": 0.025}


def test_an_oscillation_that_does_not_fall_is_still_a_verdict():
    flat = [1.02, 0.81, 1.05, 0.77, 0.93, 0.74, 1.01, 0.79, 0.98, 0.75, 1.03, 0.78]
    assert not falls(flat)
    (p,) = history_problems(records(eta=2.5, training_cost=flat), TH)
    assert p.kind == "learning_rate_too_high" and p.severity == "warning"


# -- overfitting against the evaluation set's size ----------------------------------------------

def test_a_fall_of_a_few_answers_on_a_small_evaluation_set_is_not_overfitting():
    # iris (50 evaluation rows), ReLU: 35 right at epoch 6, then 31-33 while the cost falls
    acc = [29, 31, 31, 33, 34, 35, 35, 33, 32, 31, 31, 31, 31, 31, 32, 32]
    cost = [1.021 - 0.04 * i for i in range(len(acc))]
    found = history_problems(records(eta=0.05, training_cost=cost, evaluation_accuracy=acc),
                             TH, n=100)
    assert not [p for p in found if p.kind == "overfitting"]
    many = [10 * a for a in acc]  # the same curve on 500 rows: 40 answers lost
    found = history_problems(records(eta=0.05, training_cost=cost, evaluation_accuracy=many),
                             TH, n=1000)
    assert [p for p in found if p.kind == "overfitting"]


# -- dead units under the initialization their remedy names -------------------------------------

def killed_net():
    """A ReLU network made with He weights and zero biases, half of whose first layer's units
    were pushed off (as large steps do): test_health's half-dead network."""
    return half_dead_net()


def test_dead_units_under_their_own_remedy_name_eta_after_training(backend):
    fell = records(eta=2.5, training_cost=[1.1, 0.9, 0.8, 0.72, 0.68, 0.65])
    report = diagnose(killed_net(), problem_data(), eta=2.5, history=fell)
    assert report.primary.kind == "learning_rate_too_high", str(report)
    assert report.primary.remedy == {"eta": 0.25}
    (dead,) = report.find("dead_units", layer=0)
    assert dead.evidence["explained_by"] == "learning_rate_too_high"


def test_dead_units_with_another_initialization_keep_their_remedy(backend):
    net = killed_net()
    net.weight_init = nnxp.initializers.default_weight  # not what the remedy names
    fell = records(eta=2.5, training_cost=[1.1, 0.9, 0.8, 0.72, 0.68, 0.65])
    report = diagnose(net, problem_data(), eta=2.5, history=fell)
    assert report.primary.kind == "dead_units", str(report)


# -- the HealthMonitor warns only on diagnose's evidence ---------------------------------------

def rare_data(n=2000):
    """Inputs whose first feature is 1 only on rows 1, 6, 11, ... (never on the rows a
    400-row probe takes with a stride of 5) and 0 elsewhere."""
    rng = np.random.default_rng(0)
    x = rng.random((n, N_IN)) * 0.1
    x[:, 0] = (np.arange(n) % 5 == 1).astype(float)
    return x, np.arange(n) % N_OUT


def test_the_monitor_confirms_a_problem_on_diagnoses_probe_before_warning():
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([N_IN, 4, N_OUT], activation="relu", cost=nnxp.LogLikelihoodCost,
                           seed=0, weight_init=he_weight, bias_init=zero_bias)
        (w1, b1), out = host_params(net)
        w1[:2] = 0.0
        w1[:2, 0] = 10.0  # units 0 and 1 see only the rare feature
        b1[:2] = -1.0
        set_params(net, [(w1, b1), None])
        x, y = rare_data()
        small = diagnose(net, (x, y), probe_size=HealthMonitor.PROBE_SIZE)
        assert small.find("dead_units", layer=0)[0].severity != "info"  # what 400 rows show
        assert not diagnose(net, (x, y)).find("dead_units")                # what 2,000 show
        monitor = HealthMonitor(probe=(x, y))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            monitor({"epoch": 0, "eta": 0.01}, net)
    assert not [w for w in caught if issubclass(w.category, NNXPHealthWarning)]
    assert monitor.reports[-1].summary["n_probe"] == 2000


def test_output_weights_of_one_sign_after_a_too_high_eta_are_its_effect():
    from nnxp.diagnostics.causes import relate
    from nnxp.diagnostics.report import Problem, Report
    lr = Problem("learning_rate_too_high", None, [], "error", "oscillates", "", {}, {"eta": 1})
    sign = Problem("same_sign_weights", 1, [], "error", "one sign", "", {}, {"weight_init": 0})
    relate([lr, sign], trained=True, last=1)
    assert sign.severity == "info" and sign.evidence["explained_by"] == lr.kind
    assert Report([sign, lr], [], {}).primary is lr
