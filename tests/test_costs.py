"""Costs (nnxp/costs.py): finite for outputs of exactly 0 or 1, delta = dC/dz, names and instances."""

import warnings

import numpy as np
import pytest

import nnxp
from conftest import to_numpy


@pytest.mark.parametrize("cost", [nnxp.CrossEntropyCost, nnxp.LogLikelihoodCost,
                                  nnxp.QuadraticCost])
def test_costs_finite_when_outputs_are_exactly_zero_or_one(backend, cost):
    a = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.25, 0.25]])
    y = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = to_numpy(cost.fn(backend.asarray(a, "float32"), backend.asarray(y, "float32")))
    assert np.all(np.isfinite(c))
    assert c[0] == pytest.approx(0.0, abs=1e-6)   # a perfect answer costs nothing
    # a confidently wrong answer costs a lot (quadratic: exactly 1)
    assert c[1] == pytest.approx(1.0) if cost is nnxp.QuadraticCost else c[1] > 10
    expected = {"CrossEntropyCost": -np.log(0.5) - np.log(0.75) * 2,
                "LogLikelihoodCost": -np.log(0.5),
                "QuadraticCost": 0.5 * (0.25 + 0.0625 * 2)}[cost.name]
    assert c[2] == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_delta_is_dC_dz(backend):
    """CrossEntropyCost.delta = a - y equals d/dz of fn(sigmoid(z), y) (finite differences)."""
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((4, 3)), rng.random((4, 3))
    sig, ce = nnxp.Sigmoid(), nnxp.CrossEntropyCost
    cost = lambda zz: to_numpy(ce.fn(sig.fn(backend.asarray(zz, "float64")),
                                     backend.asarray(y, "float64"))).sum()
    fd = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += 1e-6
        zm[idx] -= 1e-6
        fd[idx] = (cost(zp) - cost(zm)) / 2e-6
    zd = backend.asarray(z, "float64")
    delta = to_numpy(ce.delta(zd, sig.fn(zd), backend.asarray(y, "float64")))
    np.testing.assert_allclose(delta, fd, rtol=1e-6, atol=1e-8)
