"""stats.py: the per-layer numbers, against a NumPy reference."""

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import diagnose

from ._helpers import N_IN, N_OUT, host_params, problem_data, set_params


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
    assert report.stats[0]["saturated"] == pytest.approx(np.mean(rel < 0.01), abs=2.5e-3)
    assert report.stats[0]["z_std"] == pytest.approx(z.std(), rel=1e-3)
    assert report.stats[0]["weight_rms"] == pytest.approx(np.sqrt(np.mean((w1 * 25) ** 2)),
                                                          rel=1e-5)
    units = np.mean(rel < 0.01, axis=0) >= 0.9
    # (float32 on the device may move a unit on the 90% edge: one unit of ten at most)
    assert abs(report.stats[0]["saturated_units"] - units.mean()) <= 0.1 + 1e-9


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
