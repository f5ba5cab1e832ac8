"""measure.py: one pure function of arrays, one transfer, compiled once on JAX; its per-unit
numbers (z_max, z spread) and argmax ties against NumPy."""

import numpy as np
import pytest

import nnxp
import nnxp.testing
from nnxp.diagnostics import Thresholds, diagnose
from nnxp.diagnostics.measure import layout, measure
from nnxp.initializers import he_weight, zero_bias

from ._helpers import N_IN, N_OUT, host_params, problem_data, set_params, uniform_data


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


def test_argmax_ties_match_numpy(backend):
    """Rows whose largest output several units share (here: every output 0 on the inputs that
    switch every output unit off), counted as NumPy counts them."""
    x, labels = uniform_data(n=300)
    net = nnxp.Network([N_IN, 6, N_OUT], activation="relu", output_activation="relu",
                       cost=nnxp.QuadraticCost, seed=0, weight_init=he_weight,
                       bias_init=zero_bias)
    (w1, b1), (w2, b2) = host_params(net)
    set_params(net, [None, (w2, b2 - 0.3)])
    _, totals = measure(net, net.prepare((x, labels)), 0.01)
    out = np.maximum(np.maximum(x @ w1.T + b1, 0) @ w2.T + b2 - 0.3, 0)
    ties = int(np.sum((out == out.max(axis=1, keepdims=True)).sum(axis=1) > 1))
    assert 0 < ties < len(x) and totals["ties"] == ties
    assert (None, "ties", None) in layout(net.sizes, net.activations)


def test_runs_on_a_non_default_strict_device():
    pytest.importorskip("array_api_strict")
    data = problem_data()
    with nnxp.use_backend("array_api_strict", device="device1"):
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        (w1, b1), _ = host_params(net)
        set_params(net, [(w1 * 40, b1), None])
        report = diagnose(net, data, eta=0.5)
    assert report.find("saturated_units", layer=0)


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
        programs = nnxp.testing.programs(net.engine())
        diagnose(net, prepared, thresholds={"saturation_prime": 0.02})
        assert nnxp.testing.programs(net.engine()) == programs + 1  # one program per saturation threshold
