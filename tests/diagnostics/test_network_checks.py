"""network_checks.py: divergence, weight decay, gradients by layer, update ratios, collapse."""

import json

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import diagnose
from nnxp.initializers import default_weight, he_weight, zero_bias

from ._helpers import N_IN, N_OUT, host_params, kinds_at, problem_data, set_params, uniform_data


def test_output_collapse_names_the_class_and_its_share(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    (w1, b1), (w2, b2) = host_params(net)
    b2[1] = 50.0
    set_params(net, [None, (w2, b2)])
    fresh = diagnose(net, data)
    (p,) = fresh.find("output_collapse")
    assert p.units == [1] and p.layer is None and p.evidence["share"] == 1.0
    assert p.severity == "info"  # no history: might be an untrained network
    trained = diagnose(net, data, history=[{"epoch": 0, "eta": 0.5}])
    assert trained.find("output_collapse")[0].severity == "error"
    # a class that really has 95% of the labels is not a collapse
    x, _ = data
    labels = np.where(np.arange(len(x)) % 20 == 0, 0, 1)
    assert not diagnose(net, (x, labels)).find("output_collapse")


def test_a_collapse_made_of_argmax_ties_says_so(backend):
    """Every output 0 on every input: argmax gives everything to class 0 by its first-index
    rule, and the report says that the predictions are ties."""
    data = uniform_data()
    net = nnxp.Network([N_IN, 8, N_OUT], activation="relu", output_activation="relu",
                       cost=nnxp.QuadraticCost, seed=0, weight_init=he_weight,
                       bias_init=zero_bias)
    (w1, b1), (w2, b2) = host_params(net)
    set_params(net, [None, (w2, b2 - 50.0)])
    report = diagnose(net, data, history=[{"epoch": 0, "eta": 0.5}])
    (p,) = report.find("output_collapse")
    assert p.units == [0] and p.evidence["ties"] == report.summary["n_probe"]
    assert "argmax gives them to the first" in p.message
    assert p.evidence["causes"] == ["dead_units"] and p.remedy == {"weight_init": he_weight,
                                                                   "bias_init": zero_bias}


def test_vanishing_gradients_in_a_deep_sigmoid_network(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 8, 8, 8, 8, N_OUT], seed=0)
    layers = host_params(net)
    set_params(net, [None] + [(w * 0.2, b) for w, b in layers[1:4]] + [None])
    report = diagnose(net, data)
    found = report.find("vanishing_gradients", layer=0)
    assert len(found) == 1, str(report)
    assert found[0].evidence["ratio_to_output"] < 1e-3
    assert found[0].remedy == {"activation": "relu", "weight_init": he_weight, "bias_init": zero_bias}
    ratios = [s["grad_rms"] for s in report.stats]
    assert ratios[0] < ratios[1] < ratios[2] < ratios[3]  # the book's chapter 5 picture


def test_a_one_hidden_layer_network_has_no_vanishing_gradient_problem(backend):
    """A small hidden-layer gradient next to the output's, one layer down, is not chapter 5's
    deep-network problem (here the output weights are tiny: that is what is reported)."""
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    (w1, b1), (w2, b2) = host_params(net)
    set_params(net, [None, (w2 * 1e-5, b2)])
    report = diagnose(net, data)
    assert report.stats[0]["grad_rms"] < 1e-3 * report.stats[1]["grad_rms"]
    assert not report.find("vanishing_gradients"), str(report)
    assert ("tiny_weights", 1) in kinds_at(report)


def test_only_an_absurd_step_is_a_verdict_on_eta(backend):
    """A fresh network's update ratio eta |dC/dw| / |w| does not separate working from failing
    etas (full-batch eta 5 trains with 6.5 at the output layer; eta 300 at mini-batch 1,000
    fails with 8.8): only a step 100 times the weights is reported, as learning_rate_too_high."""
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    calm = diagnose(net, data, eta=5.0)
    assert not calm.find("learning_rate_too_high") and not calm.find("exploding_gradients")
    report = diagnose(net, data, eta=5000.0)
    found = report.find("learning_rate_too_high")
    assert found and all(p.evidence["update_ratio"] > 100 for p in found), str(report)
    assert all(p.remedy == {"eta": 500.0} for p in found)  # eta / 10: a number SGD takes
    assert report.stats[-1]["update_ratio"] == pytest.approx(
        1000 * calm.stats[-1]["update_ratio"], rel=1e-4)


def test_divergence_from_parameters_and_from_the_history(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    (w1, b1), (w2, b2) = host_params(net)
    w2[0, 0] = np.nan
    set_params(net, [None, (w2, b2)])
    report = diagnose(net, data)
    assert kinds_at(report) == {("divergence", 1)}
    json.dumps(report.to_dict())  # NaN numbers become strings
    fine = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    history = [{"epoch": 0, "eta": 3.0, "training_cost": 1.0},
               {"epoch": 1, "eta": 3.0, "training_cost": float("inf")}]
    assert ("divergence", None) in kinds_at(diagnose(fine, data, history=history))


def test_weight_decay_too_strong_and_its_remedy():
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        report = diagnose(net, data, eta=0.5, lmbda=240.0)  # 0.5 * 240 / 600 = 0.2 per step
    (p,) = report.find("weight_decay_too_strong")
    assert p.severity == "error" and p.evidence["decay_per_step"] == pytest.approx(0.2)
    assert p.remedy["lmbda"] * 0.5 / 600 == pytest.approx(5e-5)  # the book's decay per step
    assert not diagnose(net, data, eta=0.5, lmbda=0.06).find("weight_decay_too_strong")
