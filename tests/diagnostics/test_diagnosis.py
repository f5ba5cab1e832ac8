"""diagnosis.py: diagnose end to end (no false alarms on healthy networks, the probe, the
arguments) and take_probe."""

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import diagnose
from nnxp.initializers import he_weight, zero_bias

from ._helpers import N_IN, N_OUT, problem_data, uniform_data


def test_healthy_network_trained_one_epoch_has_no_problems(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 16, N_OUT], seed=0)
    history = net.SGD(data, 1, 10, 0.5, monitor_training_cost=True)
    report = diagnose(net, data, eta=0.5, history=history)
    assert report.problems == [], str(report)
    assert report.ok and report.headline() == "healthy" and report.primary is None
    assert report.summary["accuracy"] > 0.6


@pytest.mark.parametrize("activation", ["tanh", "relu", "leakyrelu"])
def test_fresh_networks_of_other_activations_have_no_warnings(backend, activation):
    data = uniform_data()
    rectified = dict(weight_init=he_weight, bias_init=zero_bias) if "relu" in activation else {}
    net = nnxp.Network([N_IN, 16, 16, N_OUT], activation=activation,
                       cost=nnxp.LogLikelihoodCost, seed=0, **rectified)
    report = diagnose(net, data, eta=0.1)
    assert report.ok, str(report)  # at most "info" (an untrained net may favour one class)


def test_small_relu_outputs_at_the_start_are_not_called_dead():
    """Issue 10's false alarm: ReLU hidden and output units, weights and biases N(0, 0.01^2),
    before training.  Outputs with a negative bias are 0 on every input, but the hidden layer
    learns and turns them back on (such networks train to 95%): at most "info"."""
    rng = np.random.default_rng(0)
    x, labels = rng.random((2000, 64)), np.arange(2000) % 10
    small = lambda r, shape: 0.01 * r.standard_normal(shape)  # noqa: E731
    with nnxp.use_backend("numpy"):
        for seed in range(4):
            net = nnxp.Network([64, 50, 10], activation="relu", output_activation="relu",
                               cost=nnxp.QuadraticCost, weight_init=small, bias_init=small,
                               seed=seed)
            report = diagnose(net, (x, labels), eta=0.05)
            assert report.ok, str(report)
            assert all(p.severity == "info" for p in report.find("dead_units"))


def test_probe_spreads_over_data_sorted_by_class():
    with nnxp.use_backend("numpy"):
        x, labels = problem_data(n=900)
        order = np.argsort(labels, kind="stable")
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        report = diagnose(net, (x[order], labels[order]), probe_size=90)
    assert report.summary["n_probe"] == 90
    # every class is in the probe (a prefix would hold only class 0)
    assert len(np.unique(labels[order][::10])) == N_OUT


@pytest.mark.parametrize("bad", [dict(eta=-1.0), dict(eta=True), dict(n=0), dict(lmbda=-1),
                                 dict(probe_size=0), dict(history="epochs")])
def test_bad_arguments_are_config_errors(bad):
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        with pytest.raises(nnxp.ConfigError):
            diagnose(net, problem_data(), **bad)


@pytest.mark.parametrize("make, hint", [(lambda: "net", ""), (lambda: None, ""),
                                        (lambda: nnxp.Population([N_IN, 10, N_OUT],
                                                                 seeds=range(2)), "pop\\[k\\]")])
def test_what_is_not_a_network_is_an_input_type_error(make, hint):
    """At the boundary, naming what was given (a Population: how to diagnose its members),
    never an AttributeError or a reshape error from inside the measurements."""
    with nnxp.use_backend("numpy"):
        with pytest.raises(nnxp.InputTypeError, match="needs an nnxp.Network.*" + hint):
            diagnose(make(), problem_data())


@pytest.mark.parametrize("bad", [
    dict(eta=float("inf")), dict(lmbda=float("nan")), dict(lmbda=float("inf")),
    dict(n=float("inf")), dict(threshold=float("inf")), dict(mini_batch_size=1.5),
    dict(mini_batch_size=float("inf")), dict(eta="0.1"),
    dict(history=[{"training_cost": "x"}]), dict(history=[{"training_cost": [1.0, 2.0]}]),
    dict(history=[{"evaluation_accuracy": "9"}] * 3), dict(history=[{"training_cost": True}]),
    dict(history=[{"training_cost": 1.0, "eta": "x"}] * 3)])
def test_arguments_that_are_not_finite_numbers_are_config_errors(bad):
    """NaN and inf were accepted (lmbda=nan silently, eta=inf reported as an absurd eta), a
    fractional mini-batch size too; a history record's text or list was a bare ValueError or
    TypeError from float(), or ('9', True) taken as a number."""
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        with pytest.raises(nnxp.ConfigError, match="must be a|history record"):
            diagnose(net, problem_data(), **bad)


def test_numpy_scalars_huge_history_values_and_flags_at_diagnoses_boundary():
    """eta, lmbda, n, probe_size as NumPy scalars are taken, as SGD takes them (were refused
    with 'must be a positive finite number, got np.float32(0.5)'); a history value of 10**400
    is a ConfigError (was a bare OverflowError); Problem.to_dict(compact="no") is a ConfigError
    as Report.to_dict's is (was read as true)."""
    import json
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 6)) * 300, rng.integers(0, 3, 60)
    net = nnxp.Network([6, 5, 3], seed=0)
    report = nnxp.diagnose(net, (x, y), eta=np.float32(0.5), lmbda=np.float32(1.0),
                           n=np.int64(60), probe_size=np.int64(50))
    assert "inputs_not_scaled" in report.headline()
    json.dumps(report.to_dict())
    with pytest.raises(nnxp.ConfigError, match="training_cost must be a number"):
        nnxp.diagnose(net, (x, y), history=[{"epoch": 0, "training_cost": 10 ** 400}])
    with pytest.raises(nnxp.ConfigError, match="compact must be True or False"):
        report.problems[0].to_dict(compact="no")


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_huge_finite_weights_and_inputs_give_finite_statistics_and_no_wrong_verdict():
    """Weights times 1e20 (float32: their squares overflow) were diagnosed identical_units
    ('all 5 units of layer 0 have the same weights': the RMS overflowed to inf, so every
    spread looked tiny) with NumPy overflow warnings; inputs times 1e20 gave an inf RMS and
    z spread.  The statistics are computed scaled: finite, no warning, no identical units."""
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 6)), rng.integers(0, 3, 60)
    net = nnxp.Network([6, 5, 3], seed=0)
    net.weights = [np.asarray(w) * 1e20 for w in net.weights]
    report = nnxp.diagnose(net, (x, y))
    assert "identical_units" not in report.headline()
    assert np.isfinite(report.stats[0]["weight_rms"]) and report.stats[0]["weight_rms"] > 1e19
    scaled = nnxp.diagnose(nnxp.Network([6, 5, 3], seed=0), (x * 1e20, y))
    assert np.isfinite(scaled.summary["input_rms"]) and np.isfinite(scaled.stats[0]["z_std"])
    assert "inputs_not_scaled" in scaled.headline()
