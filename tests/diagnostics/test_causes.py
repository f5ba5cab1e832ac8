"""causes.py: eta named when a run broke at once, and each cause first, as severe as what it
explains."""

import nnxp
from nnxp.diagnostics import diagnose
from nnxp.initializers import he_weight, zero_bias

from ._helpers import N_IN, N_OUT, host_params, problem_data, records, set_params, uniform_data

STALLED = dict(training_cost=[2.31, 2.30, 2.31, 2.30, 2.31])


def dead_relu_net():
    """Every hidden ReLU unit off on every input: the output no longer depends on the input."""
    net = nnxp.Network([N_IN, 8, N_OUT], activation="relu", cost=nnxp.LogLikelihoodCost,
                       seed=0, weight_init=he_weight, bias_init=zero_bias)
    (w1, b1), _ = host_params(net)
    set_params(net, [(w1, b1 - 100.0), None])
    return net


def test_a_run_that_broke_at_once_is_attributed_to_eta(backend):
    data = uniform_data()
    net = dead_relu_net()
    report = diagnose(net, data, eta=2.0, history=records(eta=2.0, **STALLED))
    first = report.primary
    assert first.kind == "learning_rate_too_high" and first.severity == "error", str(report)
    assert "eta = 2" in first.message and "stopped improving at once" in first.message
    assert first.remedy == {"eta": 0.2} and "dead_units@0" in first.evidence["explains"]
    (dead,) = report.find("dead_units", layer=0)
    assert dead.evidence["explained_by"] == "learning_rate_too_high"


def test_without_eta_or_without_a_history_the_state_is_the_finding(backend):
    data = uniform_data()
    net = dead_relu_net()
    assert diagnose(net, data, history=records(**STALLED)).primary.kind == "dead_units"
    assert diagnose(net, data, eta=2.0).primary.kind == "dead_units"


def test_a_cause_in_the_configuration_comes_before_eta():
    """Weight decay of 20% a step explains a stall better than eta: it is named first and
    eta is not blamed."""
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        layers = host_params(net)
        set_params(net, [(w * 1e-4, b) for w, b in layers])
        report = diagnose(net, data, eta=0.5, lmbda=240.0,
                          history=records(eta=0.5, training_cost=[1.1, 1.1, 1.1, 1.1]))
    assert report.primary.kind == "weight_decay_too_strong", str(report)
    assert not report.find("learning_rate_too_high")


def test_a_network_that_learned_is_not_said_to_have_stalled():
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        net.SGD(data, 3, 10, 0.5)
        report = diagnose(net, data, eta=0.5, history=records(eta=0.5, **STALLED))
    assert report.summary["accuracy"] > 0.9 and not report.find("learning_rate_too_high")


def test_an_oscillating_cost_takes_the_severity_of_the_saturation_it_explains(backend):
    """Large steps grow the weights until the hidden units saturate: with a history that
    oscillates, learning_rate_too_high (a warning by itself) explains the saturation (an
    error) and comes first."""
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    (w1, b1), _ = host_params(net)
    set_params(net, [(w1 * 40.0, b1 * 10.0), None])
    history = records(eta=10.0, training_cost=[3.0, 2.5, 3.4, 2.6, 3.5, 2.7, 3.3])
    report = diagnose(net, data, eta=10.0, history=history)
    sat = report.find("saturated_units", layer=0)[0]
    first = report.primary
    rank = ["info", "warning", "error"]
    assert first.kind == "learning_rate_too_high", str(report)
    assert rank.index(first.severity) >= rank.index(sat.severity)
    assert sat.evidence["explained_by"] == "learning_rate_too_high"
