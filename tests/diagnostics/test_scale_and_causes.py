"""Verdicts that hold whatever training did: unscaled inputs after the weights grew, one scale
factor per column for features of very different ranges, weights of one sign that training
made (ranked after the learning rate or weight decay that made them), and an output collapse
on the plateau of knowing nothing (not an error with nothing to blame)."""

import math

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import diagnose
from nnxp.diagnostics.advice import scale_inputs, split_remedy
from nnxp.errors import ConfigError

from ._helpers import N_IN, N_OUT, host_params, problem_data, records, set_params

FLAT = [3.2, 3.1, 3.15, 3.12, 3.1, 3.11]  # a training cost that stopped improving


# -- inputs_not_scaled after training -----------------------------------------------------------

def test_unscaled_inputs_are_named_after_training_though_the_weights_grew(backend):
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0, activation="relu")
    (w1, b1), _ = host_params(net)
    set_params(net, [(1000.0 * w1, b1), None])  # grown in training, as on 0-255 pixels
    report = diagnose(net, (255.0 * x, y), eta=0.1, history=records(eta=0.1,
                                                                     training_cost=FLAT))
    assert report.primary.kind == "inputs_not_scaled", str(report)
    assert "grew in training" in report.primary.message
    # set large at the start (no history): the initializer is the cause, as before
    assert not diagnose(net, (255.0 * x, y), eta=0.1).find("inputs_not_scaled")


def test_unscaled_inputs_of_a_network_that_learned_are_info(backend):
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    history = net.SGD((x, y), 5, 10, 3.0, monitor_training_cost=True)
    assert diagnose(net, (x, y), history=history).summary["accuracy"] > 0.9
    (w1, b1), _ = host_params(net)
    set_params(net, [(w1 / 255.0, b1), None])  # the same network, on inputs 255 times larger
    report = diagnose(net, (255.0 * x, y), history=history)
    (problem,) = report.find("inputs_not_scaled")
    assert problem.severity == "info" and report.ok, str(report)


# -- one factor per column ---------------------------------------------------------------------

RANGES = np.array([1.0, 3000.0, 0.05, 40.0, 2.0, 900.0, 0.5, 7.0])  # a raw tabular data set


def test_columns_of_very_different_ranges_get_one_factor_each(backend):
    x, y = problem_data()
    raw = np.abs(x) * RANGES
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    report = diagnose(net, (raw, y), eta=0.5)
    first = report.primary
    assert first.kind == "inputs_not_scaled" and first.evidence["per_column"], str(report)
    factors = first.remedy["scale_inputs"]
    assert factors == pytest.approx(list(1.0 / raw.max(axis=0)), rel=1e-2)
    assert split_remedy(first.remedy) == ({}, {})
    scaled = scale_inputs(first.remedy, raw)
    assert np.abs(scaled).max(axis=0) == pytest.approx(np.ones(N_IN), rel=1e-2)
    assert not diagnose(net, (scaled, y), eta=0.5).find("inputs_not_scaled")


def test_columns_of_one_range_keep_one_factor(backend):
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    (problem,) = diagnose(net, (255.0 * np.abs(x), y)).find("inputs_not_scaled")
    assert isinstance(problem.remedy["scale_inputs"], float)
    assert not problem.evidence["per_column"]


def test_scale_inputs_applies_factors_per_column_on_the_backends_arrays(backend):
    x = backend.asarray(np.arange(6.0).reshape(2, 3), "float32")
    out = backend.to_numpy(scale_inputs({"scale_inputs": [1.0, 0.5, 0.25]}, x))
    assert out.tolist() == [[0.0, 0.5, 0.5], [3.0, 2.0, 1.25]]
    with pytest.raises(ConfigError, match="3"):
        scale_inputs({"scale_inputs": [1.0, 0.5]}, x)
    with pytest.raises(ConfigError, match="number"):
        scale_inputs({"scale_inputs": "per column"}, x)


# -- weights of one sign made in training --------------------------------------------------------

def _one_sign(weight_init=None):
    """A trained network whose first layer's weights all turned positive."""
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0, weight_init=weight_init)
    (w1, b1), _ = host_params(net)
    set_params(net, [(3.0 * np.abs(w1), b1), None])
    return net


def test_weights_of_one_sign_made_in_training_come_after_the_weight_decay(backend):
    x, y = problem_data()
    report = diagnose(_one_sign(), (x, y), eta=0.5, lmbda=60.0, n=600,
                      history=records(eta=0.5, training_cost=FLAT))
    kinds = [p.kind for p in report.problems if p.severity != "info"]
    assert kinds[0] == "weight_decay_too_strong", str(report)
    (same,) = report.find("same_sign_weights")
    assert same.evidence["explained_by"] == "weight_decay_too_strong"
    assert same.evidence["made_in_training"]
    collapse = report.find("output_collapse")
    assert collapse and collapse[0].remedy == report.primary.remedy


def test_weights_of_one_sign_made_in_training_come_after_a_learning_rate(backend):
    x, y = problem_data()
    report = diagnose(_one_sign(), (x, y), eta=5.0, threshold=1.0,
                      history=records(eta=5.0, training_cost=FLAT))
    assert report.primary.kind == "learning_rate_too_high", str(report)
    assert report.primary.severity == "error"
    assert report.find("same_sign_weights")[0].evidence["explained_by"] == (
        "learning_rate_too_high")


def test_weights_of_one_sign_from_an_initializer_of_ones_own_stay_the_cause(backend):
    x, y = problem_data()

    def uniform01(rng, shape):
        return rng.random(shape)

    report = diagnose(_one_sign(uniform01), (x, y), eta=0.5, lmbda=60.0, n=600,
                      history=records(eta=0.5, training_cost=FLAT))
    assert report.primary.kind == "same_sign_weights", str(report)


# -- an output collapse on the plateau of knowing nothing ---------------------------------------

def _plateau(output_bias):
    """Two classes (2/3 and 1/3), small output weights: the output is the biases'."""
    x, labels = problem_data()
    y = (labels == 0).astype(int)
    net = nnxp.Network([N_IN, 10, 2], seed=0)
    _, (w2, _) = host_params(net)
    set_params(net, [None, (0.1 * w2, np.asarray(output_bias))])
    return net, (x, y)


def test_an_output_collapse_at_the_cost_of_knowing_nothing_is_the_plateau_not_an_error(backend):
    p = np.array([2 / 3, 1 / 3])
    net, data = _plateau(np.log(p / (1 - p)))  # outputs = the class frequencies
    chance = -2 * (p[0] * math.log(p[0]) + p[1] * math.log(p[1]))
    history = records(eta=0.3, training_cost=[1.01 * chance] * 6)  # not falling
    report = diagnose(net, data, eta=0.3, history=history)
    (collapse,) = report.find("output_collapse")
    assert collapse.severity == "info" and report.ok, str(report)
    assert "class frequencies" in collapse.message


def test_an_output_collapse_above_the_cost_of_knowing_nothing_stays_an_error(backend):
    net, data = _plateau([4.0, 2.0])  # confident, and wrong on a third of the inputs
    history = records(eta=0.3, training_cost=[2.8] * 6)
    report = diagnose(net, data, eta=0.3, history=history)
    assert report.primary.kind == "output_collapse", str(report)
    assert report.primary.severity == "error"


# -- dead units drawn by the initialization the advice names ------------------------------------

def _offset_relu(bias_init):
    """A ReLU network on inputs all of one sign (no centring): with zero biases, a unit whose
    weights point away from the inputs' mean is dead from the start."""
    from nnxp.initializers import he_weight
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0, activation="relu", weight_init=he_weight,
                       bias_init=bias_init)
    (w1, b1), _ = host_params(net)
    w1[:2] = -np.abs(w1[:2])  # 2 of 10 units off on every (positive) input
    set_params(net, [(w1, b1), None])
    return net, (np.abs(x) + 0.5, y)


def test_a_minority_of_dead_units_under_the_advised_initialization_is_info(backend):
    from nnxp.initializers import zero_bias
    net, data = _offset_relu(zero_bias)
    (dead,) = diagnose(net, data).find("dead_units", layer=0)
    assert dead.severity == "info" and dead.evidence["drawn_dead"], str(dead)


def test_a_minority_of_dead_units_under_another_initialization_stays_a_warning(backend):
    def small_bias(rng, shape):
        return np.full(shape, 0.0)  # zero biases, but not the initializer the advice names

    net, data = _offset_relu(small_bias)
    (dead,) = diagnose(net, data).find("dead_units", layer=0)
    assert dead.severity == "warning", str(dead)
