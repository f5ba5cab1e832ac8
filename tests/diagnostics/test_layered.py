"""layered.py: nnxp.diagnose and SGD(health=True) on a network of layer objects (per-layer
statistics from sequential.forward's caches; a convolutional layer's units are its filters)."""

import json

import numpy as np

import nnxp
from nnxp.diagnostics import HealthMonitor
from nnxp.initializers import he_weight, zero_bias
from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax


def digits(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 64)), rng.integers(0, 4, n)


def conv_net(activation="ReLU", conv_weight=he_weight):
    """Reshape, a 4-filter ConvPool, Flatten, a dense ReLU layer, a softmax: He weights and
    zero biases in the hidden layers, so that none starts off."""
    return nnxp.Network(
        [64, Reshape((1, 8, 8)),
         ConvPool(4, (3, 3), activation=activation, weight_init=conv_weight,
                  bias_init=zero_bias),
         Flatten(), Dense(16, "ReLU", weight_init=he_weight, bias_init=zero_bias),
         Softmax(4, weight_init=nnxp.initializers.default_weight)],
        cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")


def set_conv_biases(net, layer, values):
    w, b = net.params[layer]
    b = np.array(net.backend.to_numpy(b), dtype=np.float64)
    for unit, value in values.items():
        b[unit] = value
    params = list(net.params)
    params[layer] = (w, net.backend.asarray(b, net.dtype))
    net.params = tuple(params)


def test_a_healthy_conv_net_has_no_error_and_one_stats_entry_per_layer(backend):
    net = conv_net()
    report = nnxp.diagnose(net, digits())
    assert not [p for p in report.problems if p.severity == "error"], str(report)
    assert not report.find("dead_units", 1)
    assert [st["layer"] for st in report.stats] == [0, 1, 2, 3, 4]
    assert [st["type"] for st in report.stats] == ["Reshape", "ConvPool", "Flatten", "Dense",
                                                   "Softmax"]
    reshape, conv = report.stats[0], report.stats[1]
    assert reshape["activation"] is None and reshape["weight_rms"] is None
    assert conv["units"] == 4 and conv["dead"] == 0.0
    # a filter's fan-in is C kh kw = 9: He weights N(0, 2/9) give weight_scale near sqrt(2)
    assert 0.8 < conv["weight_scale"] < 2.0
    assert report.summary["layers"][1] == "ConvPool"
    assert json.loads(json.dumps(report.to_dict()))["stats"][1]["type"] == "ConvPool"
    assert len(str(report).splitlines()) >= 7


def test_filters_made_dead_by_hand_are_reported_with_their_indices(backend):
    net = conv_net()
    set_conv_biases(net, 1, {1: -100.0, 3: -100.0})
    report = nnxp.diagnose(net, digits())
    dead = report.find("dead_units", 1)
    assert len(dead) == 1 and dead[0].units == [1, 3], str(report)
    assert dead[0].severity in ("warning", "error")
    assert "filters" in dead[0].message
    assert report.stats[1]["dead"] == 0.5


def test_saturated_tanh_filters_are_reported(backend):
    big = lambda rng, shape: rng.normal(0.0, 30.0, size=shape)  # noqa: E731
    net = conv_net("Tanh", big)
    report = nnxp.diagnose(net, digits())
    sat = report.find("saturated_units", 1)
    assert sat and sat[0].severity != "info", str(report)
    assert sat[0].units and set(sat[0].units) <= {0, 1, 2, 3}
    assert report.stats[1]["saturated"] >= 0.25


def test_health_monitor_trains_a_layered_network(backend):
    X, y = digits(200)
    net = conv_net()
    set_conv_biases(net, 1, {0: -100.0})
    monitor = HealthMonitor(probe=(X, y), warn=False, thresholds={"probe_size": 200})
    history = net.SGD((X, y), 2, 20, 0.05, health=monitor)
    assert len(monitor.reports) == 2
    assert "health" in history.records[-1]
    found = monitor.reports[0].find("dead_units", 1)
    assert found and 0 in found[0].units


def test_no_dead_verdict_above_the_first_layer_while_the_softmax_starts_at_zero(backend):
    # network3's Softmax starts with zero weights: no gradient reaches the layers below it
    # before the first step, which is no reason to call the ReLU units above the data dead
    X, y = digits(300)
    net = nnxp.Network([64, Reshape((1, 8, 8)), ConvPool(4, (3, 3), activation="Tanh"),
                        Flatten(), Dense(16, "ReLU", weight_init=he_weight,
                                         bias_init=zero_bias), Softmax(4)],
                       cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    report = nnxp.diagnose(net, (X, y))
    dead = report.find("dead_units", 3)
    assert dead and all(p.severity == "info" for p in dead), str(report)
    assert "first step" in dead[0].message
    assert not report.find("identical_units") and not report.find("tiny_weights")


def test_a_saturated_sigmoid_output_under_the_quadratic_cost_is_reported(backend):
    big = lambda rng, shape: rng.normal(0.0, 30.0, size=shape)  # noqa: E731
    net = nnxp.Network([64, Reshape((1, 8, 8)), ConvPool(4, (3, 3)), Flatten(),
                        Dense(4, "Sigmoid", weight_init=big)],
                       cost=nnxp.QuadraticCost, seed=0, dtype="float64")
    report = nnxp.diagnose(net, digits())
    found = report.find("saturated_units", 3)
    assert found and found[0].evidence["cause"] == "output", str(report)
    assert found[0].remedy["cost"] == "CrossEntropyCost"
    assert report.stats[3]["output_slowdown"] < 0.1


def test_unscaled_inputs_are_named_on_a_layered_network_as_on_a_dense_one(backend):
    """0-255 pixels: the first layer with weights (the ConvPool, behind a Reshape) is read
    for the weight scale, as the dense diagnosis reads its first layer."""
    x, y = digits()
    net = conv_net(activation="Sigmoid", conv_weight=nnxp.initializers.default_weight)
    report = nnxp.diagnose(net, (x * 255.0, y))
    problem = report.find("inputs_not_scaled")
    assert problem, str(report)
    assert 0 < problem[0].remedy["scale_inputs"] < 1 / 100
    assert 50 < report.summary["input_rms"] < 255
    assert not nnxp.diagnose(net, (x, y)).find("inputs_not_scaled")
