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


@pytest.mark.parametrize("cost, dtype, v", [
    ("CrossEntropyCost", "float64", 38.0), ("CrossEntropyCost", "float64", 800.0),
    ("CrossEntropyCost", "float32", 20.0), ("CrossEntropyCost", "float32", 30.0),
    ("LogLikelihoodCost", "float64", 800.0), ("LogLikelihoodCost", "float32", 60.0),
])
def test_the_cost_of_saturated_outputs_is_exact(backend, cost, dtype, v):
    """Two output units at z = -v (target 1) and z = +v (target 0): the exact cost is 2v
    for either pairing (softplus(v) + softplus(v) - ... and logsumexp - z_y).  The logs of
    the clipped outputs capped it: 745.1 at v = 38 and v = 800 in float64, 104 from v = 20
    in float32 (the fifth sweep); total_cost now reads it from z."""
    net = nnxp.Network([1, 2], cost=cost, seed=0, dtype=dtype)
    net.weights = [np.array([[-v], [v]])]
    net.biases = [np.zeros(2)]
    got = net.total_cost((np.array([[1.0]]), np.array([0])))
    assert got == pytest.approx(2 * v, rel=1e-6 if dtype == "float32" else 1e-12)


def test_the_cost_from_z_equals_the_cost_from_the_outputs_where_nothing_saturates():
    rng = np.random.default_rng(0)
    z = rng.normal(0.0, 3.0, (50, 10))
    y = np.eye(10)[rng.integers(0, 10, 50)]
    for cost, act in ((nnxp.CrossEntropyCost, nnxp.Sigmoid()), (nnxp.LogLikelihoodCost,
                                                                nnxp.Softmax())):
        a = act.fn(z)
        np.testing.assert_allclose(cost.fn_z(z, a, y, act), cost.fn(a, y), rtol=1e-12)
    a = nnxp.Tanh().fn(z)  # another output activation: fn itself
    np.testing.assert_array_equal(nnxp.QuadraticCost.fn_z(z, a, y, nnxp.Tanh()),
                                  nnxp.QuadraticCost.fn(a, y))
