"""layered.py: nnxp.diagnose and SGD(health=True) on a network of layer objects (per-layer
statistics from sequential.forward's caches; a convolutional layer's units are its filters;
the gradient comparisons over the layers with weights)."""

import json

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import HealthMonitor
from nnxp.initializers import default_weight, he_weight, zero_bias
from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax

from ._helpers import N_IN, N_OUT, host_params, kinds_at, problem_data, set_params

GRADIENT_KINDS = ("vanishing_gradients", "exploding_gradients", "learning_rate_too_high")


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


def scaled(factor):
    """The 1/sqrt(n_in) initializer times ``factor`` (small weights: factor < 1)."""
    return lambda rng, shape: factor * default_weight(rng, shape)


def gradient_verdicts(report):
    return {(p.kind, p.layer) for p in report.problems
            if p.kind in GRADIENT_KINDS and p.severity != "info"}


def test_a_deep_sigmoid_conv_net_with_small_weights_has_vanishing_gradients(backend):
    """Chapter 5 on a conv net: a sigmoid ConvPool, three sigmoid dense layers at 0.3 of the
    1/sqrt(n_in) scale and a softmax; the gradient shrinks layer by layer towards the input,
    and the first two layers with weights (positions 1 and 3: Reshape and Flatten add no
    depth) learn over 1,000 times more slowly than the output layer."""
    small = scaled(0.3)
    net = nnxp.Network([64, Reshape((1, 8, 8)), ConvPool(4, (3, 3), weight_init=small),
                        Flatten(), Dense(16, "Sigmoid", weight_init=small),
                        Dense(16, "Sigmoid", weight_init=small),
                        Dense(16, "Sigmoid", weight_init=small),
                        Softmax(4, weight_init=default_weight)],
                       cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    report = nnxp.diagnose(net, digits(), eta=0.5)
    assert gradient_verdicts(report) == {("vanishing_gradients", 1),
                                         ("vanishing_gradients", 3)}, str(report)
    (conv,) = report.find("vanishing_gradients", 1)
    assert conv.severity == "warning" and conv.evidence["ratio_to_output"] < 1e-3
    assert conv.remedy == {"activation": "relu", "weight_init": he_weight,
                           "bias_init": zero_bias}
    assert "the vanishing gradient problem" in conv.message
    rms = [st["grad_rms"] for st in report.stats if st["grad_rms"] is not None]
    assert rms == sorted(rms) and rms[0] < 1e-3 * rms[-1]  # the book's chapter 5 picture
    assert all(st["update_ratio"] > 0 for st in report.stats if st["grad_rms"] is not None)
    # one layer with weights below the output is not the deep-network problem, however many
    # layers without weights sit between them (positions 1 and 3 here)
    shallow = nnxp.Network([64, Reshape((1, 8, 8)), ConvPool(4, (3, 3), weight_init=small),
                            Flatten(), Softmax(4, weight_init=scaled(1e-4))],
                           cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    calm = nnxp.diagnose(shallow, digits(), eta=0.5)
    assert calm.stats[1]["grad_rms"] < 1e-3 * calm.stats[3]["grad_rms"]
    assert not calm.find("vanishing_gradients"), str(calm)
    # a step far larger than tiny output weights is the weights' problem, not eta's: a
    # dense stack reports tiny_weights there and no update ratio; a layered one neither
    # (network3's softmax starts at zero weights)
    assert calm.stats[3]["update_ratio"] > 100
    assert not calm.find("learning_rate_too_high"), str(calm)


def synthetic_images(n=200, seed=0):
    """28x28 images in [0, 1]: ten random-pixel prototypes plus noise, one per class."""
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((10, 28, 28)) < 0.2).astype(np.float64)
    labels = np.arange(n) % 10
    x = np.clip(prototypes[labels] + 0.3 * rng.standard_normal((n, 28, 28)), 0.0, 1.0)
    return x.reshape(n, 784), labels


def test_the_books_relu_conv_net_has_no_gradient_problem_before_or_after_its_first_epoch(
        backend):
    """Chapter 6's row 4 (two ReLU ConvPools of 20 and 40 5x5 filters, 100 ReLU units, a
    softmax starting at zero, eta 0.03, lmbda 0.1) with He weights: no gradient verdict
    fresh (no gradient reaches below the all-zero softmax yet: the comparisons wait) nor after
    an epoch with health=, where every layer with weights has its gradient and update ratio
    measured against the output layer's."""
    x, y = synthetic_images()
    he = {"weight_init": he_weight, "bias_init": zero_bias}
    net = nnxp.Network([784, Reshape((1, 28, 28)), ConvPool(20, (5, 5), activation="ReLU", **he),
                        ConvPool(40, (5, 5), activation="ReLU", **he), Flatten(),
                        Dense(100, "ReLU", **he), Softmax(10)],
                       cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    fresh = nnxp.diagnose(net, (x, y), eta=0.03, lmbda=0.1)
    assert not gradient_verdicts(fresh), str(fresh)
    monitor = HealthMonitor(probe=(x, y), warn=False, thresholds={"probe_size": 200})
    net.SGD((x, y), 1, 10, 0.03, lmbda=0.1, health=monitor)
    report = monitor.reports[-1]
    assert not gradient_verdicts(report) and not report.find("exploding_gradients"), \
        str(report)
    weighted = [st for st in report.stats if st["grad_rms"] is not None]
    assert [st["layer"] for st in weighted] == [1, 2, 4, 5]
    assert all(0 < st["update_ratio"] < 1 for st in weighted), weighted
    assert all(1e-3 < st["grad_rms"] / weighted[-1]["grad_rms"] < 1e3 for st in weighted)


def test_a_layered_dense_stack_has_the_gradient_verdicts_and_numbers_of_the_dense_network(
        backend):
    """[Dense, ...] layer objects and the int-sizes Network with the same parameters: the
    same gradients by layer (weights and biases, chapter 5's speed of learning), update
    ratios, verdicts, messages and evidence, to 1e-9 in float64 (chapter 5's deep sigmoid
    network with small hidden weights: vanishing gradients in its first layer)."""
    data = problem_data()
    sizes = [N_IN, 8, 8, 8, 8, N_OUT]
    dense = nnxp.Network(sizes, cost=nnxp.CrossEntropyCost, seed=0, dtype="float64")
    params = host_params(dense)
    set_params(dense, [params[0]] + [(w * 0.2, b) for w, b in params[1:4]] + [params[4]])
    layered = nnxp.Network([N_IN] + [Dense(n, "Sigmoid") for n in sizes[1:]],
                           cost=nnxp.CrossEntropyCost, seed=0, dtype="float64")
    layered.params = tuple(dense.params)
    want = nnxp.diagnose(dense, data, eta=0.5)
    got = nnxp.diagnose(layered, data, eta=0.5)
    assert ("vanishing_gradients", 0) in gradient_verdicts(want), str(want)
    assert gradient_verdicts(got) == gradient_verdicts(want), str(got)
    assert kinds_at(got) == kinds_at(want)
    for name in ("grad_norm", "grad_rms", "bias_grad_norm", "update_ratio", "weight_rms"):
        assert [st[name] for st in got.stats] == pytest.approx(
            [st[name] for st in want.stats], rel=1e-9, abs=0.0), name
    found = [sorted((p for p in r.problems if p.kind in GRADIENT_KINDS),
                    key=lambda p: (p.kind, p.layer)) for r in (got, want)]
    assert len(found[0]) == len(found[1])
    for g, w in zip(*found):
        assert (g.kind, g.layer, g.severity, g.message, g.remedy) == \
            (w.kind, w.layer, w.severity, w.message, w.remedy)
        numbers = [k for k, v in w.evidence.items() if isinstance(v, float)]
        assert sorted(g.evidence) == sorted(w.evidence)
        assert [g.evidence[k] for k in numbers] == pytest.approx(
            [w.evidence[k] for k in numbers], rel=1e-9, abs=0.0)
        assert {k: v for k, v in g.evidence.items() if k not in numbers} == \
            {k: v for k, v in w.evidence.items() if k not in numbers}
