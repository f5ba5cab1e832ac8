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
        monitor = HealthMonitor(every=2, warn=False, lmbda=5.0).bind(net.prepare(data))
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


@pytest.mark.parametrize("bad", ["yes", 2, 0.5, [True]])
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


# -- a monitor used again, and hostile arguments (stop 30's sweep; each failed before its fix) --

_R = np.random.default_rng(0)
_X, _Y = _R.random((60, 6)), _R.integers(0, 3, 60)


def _headline(history):
    return history.records[-1]["health"]["headline"]


def test_a_monitor_used_again_takes_the_new_runs_lmbda_and_data():
    """A HealthMonitor given to a second SGD diagnoses that run: its weight decay (was: the
    first run's lmbda=100 kept, 'weight_decay_too_strong' reported for lmbda=0) and its
    training data (was: the first run's probe, so 0..255 inputs went unflagged)."""
    m = HealthMonitor(warn=False)
    nnxp.Network([6, 5, 3], seed=0).SGD((_X, _Y), 1, 10, 0.5, lmbda=100.0, callbacks=[m])
    h = nnxp.Network([6, 5, 3], seed=0).SGD((_X, _Y), 1, 10, 0.5, lmbda=0.0, callbacks=[m])
    assert m.lmbda == 0.0 and "weight_decay_too_strong" not in _headline(h)
    m2, net = HealthMonitor(warn=False), nnxp.Network([6, 5, 3], seed=0)
    net.SGD((_X, _Y), 1, 10, 0.5, health=m2)
    assert "inputs_not_scaled" in _headline(net.SGD((_X * 255, _Y), 1, 10, 0.5, health=m2))
    given = HealthMonitor(lmbda=3.0, warn=False)  # a constructor's lmbda is kept
    nnxp.Network([6, 5, 3], seed=0).SGD((_X, _Y), 1, 10, 0.5, lmbda=0.0, callbacks=[given])
    assert given.lmbda == 3.0


def test_a_probe_that_does_not_fit_is_refused_before_the_first_epoch(tmp_path):
    path = tmp_path / "net.json"
    net = nnxp.Network([6, 5, 3], seed=0)
    before = [np.array(w) for w in net.weights]
    bad = HealthMonitor(probe=(np.ones((10, 7)), np.zeros(10, int)))
    with pytest.raises(nnxp.DataError, match="probe: X has 7 features"):
        net.SGD((_X, _Y), 3, 10, 0.5, checkpoint=path, health=bad)
    assert not path.exists()  # was: an epoch trained, then the error, and no checkpoint
    assert all((np.asarray(w) == b).all() for w, b in zip(net.weights, before))
    for probe in ("abc", 5):
        with pytest.raises(nnxp.InputTypeError, match="probe must be None or data"):
            HealthMonitor(probe=probe)


def test_a_monitor_called_directly_with_bad_arguments_says_how_it_is_called():
    m, net = HealthMonitor(probe=(_X, _Y)), nnxp.Network([6, 5, 3], seed=0)
    with pytest.raises(nnxp.InputTypeError, match="record .a dict"):  # was: AttributeError
        m(None, net)
    with pytest.raises(nnxp.InputTypeError, match="the network being trained"):
        m({"epoch": 0}, None)


@pytest.mark.parametrize("health", [np.True_, 1, np.array(True)])
def test_health_takes_any_flag(health):
    h = nnxp.Network([6, 5, 3], seed=0).SGD((_X, _Y), 1, 10, 0.5, health=health)
    assert "health" in h.records[-1]  # was: InputTypeError for np.True_ and 1


def test_thresholds_store_python_numbers_and_take_integral_floats():
    t = nnxp.diagnostics.Thresholds(window=np.int64(5), probe_size=100.0,
                                    max_decay=np.float32(1e-3))
    assert (t.window, t.probe_size) == (5, 100) and type(t.window) is int
    assert type(t.max_decay) is float
    with pytest.raises(nnxp.ConfigError, match="window must be an integer"):
        nnxp.diagnostics.Thresholds(window=4.5)
    # was: a bare TypeError (slice indices) from the history checks, in diagnose and mid-training
    report = nnxp.diagnose(nnxp.Network([6, 5, 3], seed=0), (_X, _Y),
                           thresholds={"window": 4.0})
    assert isinstance(report.headline(), str)


def test_a_monitor_takes_numpy_ints_and_forgets_a_record_it_refused():
    """HealthMonitor(every=np.int64(2)) was refused ("must be a positive integer"); a record
    it refused (an eta of text) stayed in its history, and every later call failed on it (the
    sixth sweep)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((300, 16)), rng.integers(0, 3, 300)
    assert nnxp.HealthMonitor(every=np.int64(2), warn=False).every == 2
    net = nnxp.Network([16, 8, 3], seed=0)
    monitor = nnxp.HealthMonitor(probe=(x, y), warn=False)
    with pytest.raises(nnxp.ConfigError, match="eta"):
        monitor({"epoch": 0, "eta": "0.5"}, net)
    assert monitor.records == []
    monitor({"epoch": 1, "eta": 0.5}, net)
    assert len(monitor.records) == 1 and len(monitor.reports) == 1
