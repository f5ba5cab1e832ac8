"""health.py: the HealthMonitor callback (warns once per new problem, records, every k)."""

import inspect
import json
import warnings

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import HealthMonitor, NNXPHealthWarning
from nnxp.initializers import he_weight, zero_bias

from ._helpers import N_IN, N_OUT, host_params, problem_data, set_params, uniform_data


def half_dead_net():
    """Half the first layer's ReLU units off on every input: they stay dead."""
    net = nnxp.Network([N_IN, 8, N_OUT], activation="relu", cost=nnxp.LogLikelihoodCost,
                       seed=0, weight_init=he_weight, bias_init=zero_bias)
    (w1, b1), _ = host_params(net)
    b1[:4] = -100.0
    set_params(net, [(w1, b1), None])
    return net


def test_health_monitor_warns_once_per_new_problem_and_records(backend):
    data = uniform_data()
    net = half_dead_net()
    monitor = HealthMonitor(probe=data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = net.SGD(data, 3, 10, 0.05, callbacks=[monitor])
    health = [w for w in caught if issubclass(w.category, NNXPHealthWarning)]
    assert len(health) == 1 and "dead_units" in str(health[0].message)
    assert len(monitor.reports) == 3
    for record in history.records:
        assert record["health"]["problems"][0]["kind"] == "dead_units"
        assert record["health"]["problems"][0]["units"] == [0, 1, 2, 3]
        json.dumps(record["health"])


def test_health_monitor_every_k_and_bind():
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        monitor = HealthMonitor(every=2, warn=False)
        with pytest.raises(nnxp.ConfigError, match="probe"):
            monitor({"epoch": 0, "eta": 0.5}, net)
        monitor = HealthMonitor(every=2, warn=False).bind(net.prepare(data), lmbda=5.0)
        history = net.SGD(data, 4, 10, 0.5, callbacks=[monitor])
        assert ["health" in r for r in history.records] == [True, False, True, False]
        assert monitor.n == 600 and monitor.reports[-1].summary["lmbda"] == 5.0
        with pytest.raises(nnxp.ConfigError):
            HealthMonitor(every=0)


def test_sgd_health_true_runs_the_monitor():
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        history = net.SGD(data, 2, 10, 0.5, health=True)
        assert all(r["health"]["headline"] == "healthy" for r in history.records)


def test_health_warning_points_at_the_users_sgd_call_and_is_one_line():
    with nnxp.use_backend("numpy"):
        data = uniform_data()
        net = half_dead_net()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            line = inspect.currentframe().f_lineno + 1
            net.SGD(data, 1, 10, 0.05, health=True)
            monitor = HealthMonitor(probe=data)
            monitor({"epoch": 7, "eta": 0.05}, net)
            direct = inspect.currentframe().f_lineno - 1
    found = [w for w in caught if issubclass(w.category, NNXPHealthWarning)]
    assert [(w.filename, w.lineno) for w in found] == [(__file__, line), (__file__, direct)]
    text = str(found[1].message)
    assert "\n" not in text and text.startswith("nnxp health (epoch 7): dead_units (layer 0, ")
    assert "Advice: re-initialize with He weights" in text


@pytest.mark.parametrize("bad", ["yes", 1, 0.5, [True]])
def test_health_takes_a_flag_or_a_monitor_only(bad):
    """A value that is neither (a string, a number) was taken as true and trained with the
    default monitor: refused before training, naming what health takes."""
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([4, 5, 3], seed=0)
        before = [np.array(w) for w, _ in net.params]
        x = np.ones((20, 4))
        with pytest.raises(nnxp.InputTypeError, match="health must be True, False"):
            net.SGD((x, np.zeros(20, int)), 1, 10, 0.1, health=bad)
        assert all(np.array_equal(w, v) for (w, _), v in zip(net.params, before))


@pytest.mark.parametrize("bad", [dict(warn="no"), dict(warn=2), dict(lmbda=-1.0),
                                 dict(lmbda="5"), dict(lmbda=float("nan")), dict(n=0),
                                 dict(n="50000")])
def test_health_monitor_refuses_bad_arguments_when_made(bad):
    """warn="no" was taken as true (it warned); a bad lmbda or n was accepted and failed only
    inside training, at the first check, after an epoch's work."""
    with pytest.raises(nnxp.ConfigError, match="must be"):
        HealthMonitor(**bad)


def test_a_monitor_among_the_callbacks_takes_its_probe_from_the_training_data():
    """HealthMonitor() in callbacks= (the class docstring's example) was never bound: a
    ConfigError 'needs a probe' after the first epoch's work."""
    with nnxp.use_backend("numpy"):
        monitor = HealthMonitor(warn=False)
        history = nnxp.Network([N_IN, 10, N_OUT], seed=0).SGD(problem_data(), 2, 10, 0.1,
                                                               callbacks=[monitor])
        assert len(monitor.reports) == 2 and "health" in history.records[-1]


def test_a_population_refuses_a_health_monitor_before_training():
    """It failed after the first epoch (diagnose needs one network; the callback gets K
    records)."""
    with nnxp.use_backend("numpy"):
        pop = nnxp.Population([N_IN, 10, N_OUT], [0, 1])
        before = [a.copy() for a in host_params(pop[0])[0]]
        with pytest.raises(nnxp.ConfigError, match="HealthMonitor diagnoses one network"):
            pop.SGD(problem_data(), 1, 10, 0.1, callbacks=[HealthMonitor(probe=problem_data())])
        for a, b in zip(before, host_params(pop[0])[0]):
            np.testing.assert_array_equal(a, b)   # not trained
