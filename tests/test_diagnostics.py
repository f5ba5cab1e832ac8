"""Diagnostics: each pathology built by hand on a tiny network and synthetic data, on every
backend; a healthy network gets no problem; the numbers match a NumPy reference and NumPy's run;
the report API, thresholds and the HealthMonitor callback."""

import inspect
import json
import warnings

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import HealthMonitor, NNXPHealthWarning, Thresholds, diagnose
from nnxp.initializers import he_weight, zero_bias

N_IN, N_OUT = 8, 3


def problem_data(n=600, seed=1):
    """Three Gaussian clusters in [0, 1]-ish inputs, labels by cluster: learnable in an epoch."""
    rng = np.random.default_rng(seed)
    centres = rng.random((N_OUT, N_IN))
    labels = np.arange(n) % N_OUT
    x = centres[labels] + 0.15 * rng.standard_normal((n, N_IN))
    return x, labels


def uniform_data(n=600, seed=1):
    """Inputs uniform in [0, 1)^8 (every direction varies, so a unit is dead only if made so),
    labels from a fixed random teacher."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, N_IN))
    teacher = rng.standard_normal((N_IN, N_OUT))
    return x, np.argmax((x - 0.5) @ teacher, axis=1)


def set_params(net, params):
    """Replace a network's parameters by host arrays [(w, b), ...] (None keeps a layer)."""
    new = []
    for (w, b), given in zip(net.params, params):
        if given is None:
            new.append((w, b))
        else:
            new.append((net.backend.asarray(given[0], net.dtype),
                        net.backend.asarray(given[1], net.dtype)))
    net.params = tuple(new)


def host_params(net):
    return [(net.backend.to_numpy(w).astype(np.float64), net.backend.to_numpy(b).astype(np.float64))
            for w, b in net.params]


def kinds_at(report):
    return {(p.kind, p.layer) for p in report.problems}


# -- no false alarms --------------------------------------------------------------------------

def test_healthy_network_trained_one_epoch_has_no_problems(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 16, N_OUT], seed=0)
    history = net.SGD(data, 1, 10, 0.5, monitor_training_cost=True)
    report = diagnose(net, data, eta=0.5, history=history)
    assert report.problems == [], str(report)
    assert report.ok and report.headline() == "healthy"
    assert report.summary["accuracy"] > 0.6


@pytest.mark.parametrize("activation", ["tanh", "relu", "leakyrelu"])
def test_fresh_networks_of_other_activations_have_no_warnings(backend, activation):
    data = uniform_data()
    rectified = dict(weight_init=he_weight, bias_init=zero_bias) if "relu" in activation else {}
    net = nnxp.Network([N_IN, 16, 16, N_OUT], activation=activation,
                       cost=nnxp.LogLikelihoodCost, seed=0, **rectified)
    report = diagnose(net, data, eta=0.1)
    assert report.ok, str(report)  # at most "info" (an untrained net may favour one class)


# -- each pathology -----------------------------------------------------------------------------

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
    assert p.units == [j for j in range(10) if j in p.units]  # sorted unit indices
    assert "default_weight_initializer" in p.advice
    assert report.stats[0]["saturated"] == pytest.approx(p.evidence["saturated"])


def test_saturation_fraction_matches_a_numpy_reference(backend):
    data = problem_data(n=500)
    net = nnxp.Network([N_IN, 10, N_OUT], seed=3)
    (w1, b1), _ = host_params(net)
    set_params(net, [(w1 * 25.0, b1 * 4.0), None])
    report = diagnose(net, data)
    x = data[0]
    z = x @ (w1 * 25.0).T + b1 * 4.0
    s = 1.0 / (1.0 + np.exp(-z))
    rel = s * (1 - s) / 0.25
    expected = np.mean(rel < 0.01)
    assert report.stats[0]["saturated"] == pytest.approx(expected, abs=2.5e-3)
    assert report.stats[0]["z_std"] == pytest.approx(z.std(), rel=1e-3)
    assert report.stats[0]["weight_rms"] == pytest.approx(np.sqrt(np.mean((w1 * 25) ** 2)),
                                                          rel=1e-5)


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
            assert "default_weight_initializer" in found[0].advice
            assert found[0].evidence["delta_fraction"] < 0.01
        else:  # cross-entropy's delta = a - y: the same saturation is harmless
            assert not found, str(report)


def test_dead_relu_units_in_hidden_and_output_layers(backend):
    data = uniform_data()
    net = nnxp.Network([N_IN, 8, N_OUT], activation="relu", output_activation="relu",
                       cost=nnxp.QuadraticCost, seed=0, weight_init=he_weight,
                       bias_init=zero_bias)
    (w1, b1), (w2, b2) = host_params(net)
    b1[[1, 3]] = -100.0
    b2[2] = -100.0
    set_params(net, [(w1, b1), (np.abs(w2), b2)])
    report = diagnose(net, data)
    hidden = report.find("dead_units", layer=0)
    output = report.find("dead_units", layer=1)
    assert len(hidden) == 1 and hidden[0].units == [1, 3], str(report)
    assert len(output) == 1 and output[0].units == [2] and output[0].severity == "error"
    assert "LeakyReLU" in hidden[0].advice
    assert report.stats[0]["dead"] == pytest.approx(2 / 8)


def test_one_dead_unit_of_many_is_below_the_hidden_threshold(backend):
    data = uniform_data()
    net = nnxp.Network([N_IN, 20, N_OUT], activation="relu", cost=nnxp.LogLikelihoodCost,
                       seed=0, weight_init=he_weight, bias_init=zero_bias)
    (w1, b1), _ = host_params(net)
    b1[5] = -100.0
    set_params(net, [(w1, b1), None])
    report = diagnose(net, data)
    assert not report.find("dead_units"), str(report)
    assert report.stats[0]["dead"] == pytest.approx(1 / 20)
    lowered = diagnose(net, data, thresholds={"dead_fraction": 0.05})
    assert lowered.find("dead_units", layer=0)[0].units == [5]


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


def test_vanishing_gradients_in_a_deep_sigmoid_network(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 8, 8, 8, 8, N_OUT], seed=0)
    layers = host_params(net)
    set_params(net, [None] + [(w * 0.2, b) for w, b in layers[1:4]] + [None])
    report = diagnose(net, data)
    found = report.find("vanishing_gradients", layer=0)
    assert len(found) == 1, str(report)
    assert found[0].evidence["ratio_to_output"] < 1e-3
    ratios = [s["grad_rms"] for s in report.stats]
    assert ratios[0] < ratios[1] < ratios[2] < ratios[3]  # the book's chapter 5 picture


def test_exploding_updates_when_eta_is_huge(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    calm = diagnose(net, data, eta=0.5)
    assert not calm.find("exploding_gradients"), str(calm)
    report = diagnose(net, data, eta=500.0)
    found = report.find("exploding_gradients")
    assert found and all(p.evidence["update_ratio"] > 1.0 for p in found)
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
    assert not report.find("exploding_gradients")  # large relative updates are no news here


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


# -- history ----------------------------------------------------------------------------------

def _records(**series):
    n = len(next(iter(series.values())))
    return [{"epoch": i, "eta": 2.0, **{k: v[i] for k, v in series.items()}} for i in range(n)]


@pytest.mark.parametrize("costs,expected", [
    ([1.0, 0.8, 0.7, 0.65, 0.62], False),          # steady progress
    ([1.0, 0.8, 0.9, 1.2, 1.5], True),             # rising
    ([1.0, 1.3, 0.95, 1.35, 1.02], True),          # oscillating without progress
    ([0.40, 0.401, 0.399, 0.402, 0.403], False),   # noise-level wiggles near convergence
])
def test_learning_rate_too_high_from_the_training_cost(costs, expected):
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        report = diagnose(net, data, history=_records(training_cost=costs))
    found = report.find("learning_rate_too_high")
    assert bool(found) == expected, str(report)
    if expected:
        assert "eta" in found[0].advice and found[0].evidence["costs"] == costs


def test_overfitting_from_evaluation_accuracy():
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        over = _records(training_cost=[0.9, 0.6, 0.4, 0.3, 0.2],
                        evaluation_accuracy=[800, 900, 850, 820, 800])
        report = diagnose(net, data, history=over)
        (p,) = report.find("overfitting")
        assert "stop early" in p.advice and p.evidence["best_index"] == 1
        plateau = _records(training_cost=[0.9, 0.6, 0.4, 0.3, 0.2],
                           evaluation_accuracy=[800, 900, 905, 903, 904])
        assert not diagnose(net, data, history=plateau).find("overfitting")


# -- the report, thresholds, backends ---------------------------------------------------------

def test_report_api_and_json(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], cost=nnxp.QuadraticCost, seed=0)
    net.large_weight_initializer()
    (w1, b1), (w2, b2) = host_params(net)
    set_params(net, [(w1 * 10, b1), (w2, b2 - 30.0)])
    report = diagnose(net, data, eta=3.0, lmbda=1.0, n=600)
    text = str(report)
    assert "saturated_units" in text and "advice:" in text and "weight_rms" in text
    full, compact = report.to_dict(), report.to_dict(compact=True)
    for d in (full, compact):
        assert json.loads(json.dumps(d)) == d
        assert {s["layer"] for s in d["stats"]} == {0, 1}
    assert "advice" in full["problems"][0] and "advice" not in compact["problems"][0]
    for p in report.problems:
        assert p.kind in nnxp.Report.KINDS and p.severity in ("error", "warning", "info")
        assert p.message and p.advice
    stats = report.stats[0]
    for key in ("act_mean", "act_std", "saturated", "dead", "weight_rms", "grad_norm",
                "update_ratio", "bias_grad_norm"):
        assert key in stats
    assert report.summary["decay_per_step"] == pytest.approx(3.0 * 1.0 / 600)


def test_stats_agree_with_numpy(backend):
    data = problem_data()

    def measure():
        net = nnxp.Network([N_IN, 12, N_OUT], seed=5)
        net.large_weight_initializer()
        return diagnose(net, data, eta=0.7).stats

    with nnxp.use_backend("numpy"):
        expected = measure()
    got = measure()
    for g, e in zip(got, expected):
        for key, value in e.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, rel=2e-3, abs=1e-6), key
            else:
                assert g[key] == value, key


def test_runs_on_a_non_default_strict_device():
    pytest.importorskip("array_api_strict")
    data = problem_data()
    with nnxp.use_backend("array_api_strict", device="device1"):
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        (w1, b1), _ = host_params(net)
        set_params(net, [(w1 * 40, b1), None])
        report = diagnose(net, data, eta=0.5)
    assert report.find("saturated_units", layer=0)


def test_thresholds_are_adjustable_and_checked():
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        (w1, b1), _ = host_params(net)
        set_params(net, [(w1 * 40, b1 * 10), None])
        sat = diagnose(net, data).stats[0]["saturated"]
        assert diagnose(net, data).find("saturated_units")
        assert not diagnose(net, data, thresholds={"saturated_fraction": min(1.0, sat + 0.01)}
                            ).find("saturated_units")
        assert diagnose(net, data, thresholds=Thresholds(probe_size=50)).summary["n_probe"] == 50
        assert diagnose(net, data, probe_size=7).summary["n_probe"] <= 7
        with pytest.raises(nnxp.ConfigError, match="unknown thresholds"):
            diagnose(net, data, thresholds={"saturation": 0.1})
        with pytest.raises(nnxp.ConfigError, match="positive"):
            Thresholds(collapse_share=-1)
        with pytest.raises(nnxp.ConfigError, match="eta"):
            diagnose(net, data, eta=-1.0)


def test_probe_spreads_over_data_sorted_by_class():
    with nnxp.use_backend("numpy"):
        x, labels = problem_data(n=900)
        order = np.argsort(labels, kind="stable")
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        report = diagnose(net, (x[order], labels[order]), probe_size=90)
    shares = np.bincount(labels, minlength=N_OUT) / len(labels)
    assert report.summary["n_probe"] == 90
    # every class is in the probe in about its share (a prefix would hold only class 0)
    assert report.summary["accuracy"] >= 0 and min(shares) > 0
    probe_labels = labels[order][::10]
    assert len(np.unique(probe_labels)) == N_OUT


# -- HealthMonitor ----------------------------------------------------------------------------

def test_health_monitor_warns_once_per_new_problem_and_records(backend):
    data = uniform_data()
    net = nnxp.Network([N_IN, 8, N_OUT], activation="relu", cost=nnxp.LogLikelihoodCost,
                       seed=0, weight_init=he_weight, bias_init=zero_bias)
    (w1, b1), _ = host_params(net)
    b1[:4] = -100.0  # half the hidden units dead: they stay dead
    set_params(net, [(w1, b1), None])
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
        net = nnxp.Network([N_IN, 8, N_OUT], activation="relu", cost=nnxp.LogLikelihoodCost,
                           seed=0, weight_init=he_weight, bias_init=zero_bias)
        (w1, b1), _ = host_params(net)
        b1[:4] = -100.0
        set_params(net, [(w1, b1), None])
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
    assert "Advice: use LeakyReLU" in text


# -- the measurement: one pure function of arrays, one transfer, compiled once on JAX ---------

def test_one_device_to_host_transfer_per_diagnosis(backend, monkeypatch):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, 10, N_OUT], seed=0)
    prepared = net.prepare(data)
    calls = []
    to_numpy = type(backend).to_numpy

    def spy(self, x):
        calls.append(tuple(x.shape))
        return to_numpy(self, x)

    monkeypatch.setattr(type(backend), "to_numpy", spy)
    report = diagnose(net, prepared, eta=0.5, lmbda=1.0, probe_size=100)
    assert len(calls) == 1, calls
    assert report.summary["n_probe"] == 100 and len(report.stats) == 3


def test_jax_measurement_is_compiled_once_and_reused():
    jax = pytest.importorskip("jax")
    compiles = []

    def listener(name, seconds, **kwargs):
        if name == "/jax/core/compile/backend_compile_duration":
            compiles.append(name)

    with nnxp.use_backend("jax"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        prepared = net.prepare(data)
        first = diagnose(net, prepared, eta=0.5)
        net.SGD(prepared, 1, 10, 0.5)                    # new parameters, same shapes
        jax.monitoring.register_event_duration_secs_listener(listener)
        try:
            with jax.transfer_guard_device_to_host("disallow"):  # no implicit transfer
                again = [diagnose(net, prepared, eta=0.5) for _ in range(3)]
        finally:
            jax.monitoring.unregister_event_duration_listener(listener)
        assert compiles == []
        assert again[0].stats[0]["grad_norm"] != first.stats[0]["grad_norm"]
        programs = net.engine().programs
        diagnose(net, prepared, thresholds={"saturation_prime": 0.02})
        assert net.engine().programs == programs + 1  # one program per saturation threshold
