"""layer_checks.py: saturation and its cause, dead units (only when conclusive), the weights.

Each pathology is built by hand on a tiny network and synthetic data, on every backend; the
verdicts are read from parameters set exactly, never from a chaotic training run."""

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import diagnose
from nnxp.initializers import default_weight, he_weight, zero_bias

from ._helpers import N_IN, N_OUT, host_params, kinds_at, problem_data, set_params, uniform_data


# -- saturation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_large_weights_saturate_hidden_units(backend, activation):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], activation=activation, output_activation="sigmoid",
                       seed=0)
    (w1, b1), _ = host_params(net)
    set_params(net, [(w1 * 40.0, b1 * 10.0), None])
    report = diagnose(net, data)
    found = report.find("saturated_units", layer=0)
    assert len(found) == 1, str(report)
    p = found[0]
    assert p.evidence["weight_scale"] > 3.0 and p.evidence["saturated"] >= 0.25
    assert p.units == sorted(p.units)
    assert "default_weight_initializer" in p.advice and p.remedy == {"weight_init": default_weight}
    assert report.stats[0]["saturated"] == pytest.approx(p.evidence["saturated"])


def test_saturation_by_n01_weights_is_compared_with_network2s_initializer():
    """N(0, 1) weights on 100 inputs: the cause said is their scale, 10x 1/sqrt(n_in), which is
    what network2's large_weight_initializer gives (such networks learn, more slowly)."""
    rng = np.random.default_rng(0)
    x, labels = rng.random((500, 100)), np.arange(500) % 3
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([100, 20, 3], seed=0)
        net.large_weight_initializer()
        (p,) = diagnose(net, (x, labels)).find("saturated_units", layer=0)
    assert p.evidence["cause"] == "large_weights" and p.severity == "warning"
    assert "network2's large_weight_initializer, give 10x" in p.message
    assert "learns, more slowly" in p.message


def test_saturation_by_weights_of_one_sign_names_the_sign_not_the_width(backend):
    """Weights U[0, 1): z is pushed far to one side (every unit at 1), and the report says so
    and links it to same_sign_weights, which comes first as an error."""
    rng = np.random.default_rng(0)
    data = rng.random((500, 100)), np.arange(500) % 3
    net = nnxp.Network([100, 10, N_OUT], seed=0)
    set_params(net, [(rng.random((10, 100)), np.zeros(10)), None])
    report = diagnose(net, data)
    (sat,) = report.find("saturated_units", layer=0)
    assert sat.evidence["cause"] == "same_sign" and "are positive" in sat.message
    assert "wide" not in sat.message
    first = report.primary
    assert first.kind == "same_sign_weights" and first.severity == "error", str(report)
    assert "saturated_units@0" in first.evidence["explains"]


def test_saturated_outputs_under_quadratic_cost_name_cross_entropy(backend):
    data = problem_data()
    for cost, flagged in ((nnxp.QuadraticCost, True), (nnxp.CrossEntropyCost, False)):
        net = nnxp.Network([N_IN, 10, N_OUT], cost=cost, seed=0)
        (w1, b1), (w2, b2) = host_params(net)
        set_params(net, [None, (w2, b2 - 30.0)])  # every output ~ 0: wrong for its own class
        report = diagnose(net, data)
        found = report.find("saturated_units", layer=1)
        if flagged:
            assert len(found) == 1 and found[0].units == [0, 1, 2], str(report)
            assert found[0].severity == "error"
            assert "CrossEntropyCost" in found[0].advice
            assert found[0].remedy == {"cost": "CrossEntropyCost", "weight_init": default_weight}
            assert found[0].evidence["delta_fraction"] < 0.01
        else:  # cross-entropy's delta = a - y: the same saturation is harmless
            assert not found, str(report)


# -- dead units ---------------------------------------------------------------------------------

def _relu_net(sizes=(N_IN, 8, N_OUT), output="relu", cost=nnxp.QuadraticCost):
    return nnxp.Network(list(sizes), activation="relu", output_activation=output, cost=cost,
                        seed=0, weight_init=he_weight, bias_init=zero_bias)


def test_first_layer_units_off_on_every_input_are_dead(backend):
    """The first layer's input is the data: off on a conclusive probe means dead for good."""
    data = uniform_data()
    net = _relu_net(cost=nnxp.LogLikelihoodCost, output=None)
    (w1, b1), _ = host_params(net)
    b1[[1, 3]] = -100.0
    set_params(net, [(w1, b1), None])
    (p,) = diagnose(net, data).find("dead_units", layer=0)
    assert p.units == [1, 3] and p.severity == "warning"  # 2 of 8: learns badly
    assert "their input is the data" in p.message and "never recover" in p.message
    assert p.remedy == {"weight_init": he_weight, "bias_init": zero_bias}
    assert "LeakyReLU" not in p.advice


def test_an_output_unit_the_layer_below_can_revive_is_not_called_dead(backend):
    """An output unit just below 0 on every input while the hidden layer learns: its own
    gradient is 0, but it can come back (small-initialized networks do): "info" only, and no
    claim that its class can never win the argmax."""
    data = uniform_data()
    net = _relu_net()
    (w1, b1), (w2, b2) = host_params(net)
    z2 = np.maximum(data[0] @ w1.T + b1, 0) @ w2.T + b2
    b2[2] -= z2[:, 2].max() + 1e-3 * z2[:, 2].std()  # off everywhere, by a hair
    set_params(net, [None, (w2, b2)])
    report = diagnose(net, data)
    (p,) = report.find("dead_units", layer=1)
    assert p.severity == "info" and p.units == [2], str(report)
    assert "can turn them back on" in p.message and "never win" not in p.message
    assert ("dead_units", 1) not in kinds_at(report)


def test_every_output_dead_freezes_the_network(backend):
    """All outputs off: no gradient reaches anything, so nothing can revive them."""
    data = uniform_data()
    net = _relu_net()
    (w1, b1), (w2, b2) = host_params(net)
    set_params(net, [None, (w2, b2 - 50.0)])
    report = diagnose(net, data)
    (p,) = report.find("dead_units", layer=1)
    assert p.units == [0, 1, 2] and p.severity == "error"
    assert "nothing below them learns" in p.message
    assert p.evidence["ties"] == report.summary["n_probe"]  # every output 0 on every input


def test_a_small_probe_cannot_show_a_unit_dead(backend):
    data = uniform_data()
    net = _relu_net(cost=nnxp.LogLikelihoodCost, output=None)
    (w1, b1), _ = host_params(net)
    b1[[1, 3]] = -100.0
    set_params(net, [(w1, b1), None])
    (p,) = diagnose(net, data, probe_size=50).find("dead_units", layer=0)
    assert p.severity == "info" and "too few inputs" in p.message
    small = (data[0][:100], data[1][:100])  # ... unless the probe is all the data there is
    assert diagnose(net, small).find("dead_units", layer=0)[0].severity == "warning"


def test_one_dead_unit_of_many_is_below_the_hidden_threshold(backend):
    data = uniform_data()
    net = _relu_net((N_IN, 20, N_OUT), cost=nnxp.LogLikelihoodCost, output=None)
    (w1, b1), _ = host_params(net)
    b1[5] = -100.0
    set_params(net, [(w1, b1), None])
    report = diagnose(net, data)
    assert not report.find("dead_units"), str(report)
    assert report.stats[0]["dead"] == pytest.approx(1 / 20)
    lowered = diagnose(net, data, thresholds={"dead_fraction": 0.05})
    assert lowered.find("dead_units", layer=0)[0].units == [5]


def test_leaky_units_off_everywhere_still_learn_through_the_leak(backend):
    data = uniform_data()
    net = nnxp.Network([N_IN, 8, N_OUT], activation=nnxp.LeakyReLU(0.01),
                       cost=nnxp.LogLikelihoodCost, seed=0, weight_init=he_weight,
                       bias_init=zero_bias)
    (w1, b1), _ = host_params(net)
    b1[:4] = -100.0
    set_params(net, [(w1, b1), None])
    (p,) = diagnose(net, data).find("dead_units", layer=0)
    assert p.severity == "warning" and "leak slope 0.01" in p.message


# -- the weights --------------------------------------------------------------------------------

def test_same_sign_and_identical_units(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    (w1, b1), _ = host_params(net)
    set_params(net, [(np.abs(w1), b1), None])
    report = diagnose(net, data)
    assert ("same_sign_weights", 0) in kinds_at(report)
    assert "symmetric about zero" in report.find("same_sign_weights")[0].advice
    set_params(net, [(np.full_like(w1, 0.05), b1 * 0 + 0.1), None])
    report = diagnose(net, data)
    (p,) = report.find("identical_units")
    assert p.layer == 0 and p.units == list(range(10)) and p.severity == "error"
    assert report.primary is p


def test_tiny_weights_explain_weight_decay(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    layers = host_params(net)
    set_params(net, [(w * 1e-4, b) for w, b in layers])
    report = diagnose(net, data, eta=10.0, lmbda=1000.0, n=50000)
    found = report.find("tiny_weights")
    assert {p.layer for p in found} == {0, 1}, str(report)
    assert "1 - eta lmbda / n = 0.8" in found[0].message
    assert "lower lmbda" in found[0].advice
    assert found[0].remedy["lmbda"] == pytest.approx(1000.0 * 5e-5 / 0.2)
    assert not report.find("learning_rate_too_high")  # large relative updates are no news
    assert report.primary.kind == "weight_decay_too_strong"
