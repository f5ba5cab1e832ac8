"""Activations (nnxp/activations.py): values against textbook formulas, derivatives against finite differences, stability for any finite input (no overflow warning, no NaN, no inf)."""

import math
import warnings

import numpy as np
import pytest

import nnxp
from nnxp.activations import as_activation, from_name
from nnxp.costs import cost_from_name
from conftest import to_numpy

Z = np.array([[-1e4, -800.0, -50.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 50.0, 800.0, 1e4]])
ACTS = [nnxp.Sigmoid(), nnxp.Tanh(), nnxp.ReLU(), nnxp.LeakyReLU(0.05), nnxp.Identity(),
        nnxp.Softmax()]


def _reference(act, z):
    """Textbook values computed one number at a time with Python's math module."""
    f = {"Sigmoid": lambda v: 1 / (1 + math.exp(-v)) if v > -700 else 0.0,
         "Tanh": math.tanh, "ReLU": lambda v: max(v, 0.0),
         "LeakyReLU": lambda v: v if v > 0 else 0.05 * v, "Identity": lambda v: v}
    if act.name == "Softmax":
        row = z[0] - z[0].max()
        e = np.array([math.exp(v) for v in row])
        return (e / e.sum())[None, :]
    return np.vectorize(f[act.name])(z)


@pytest.mark.parametrize("act", ACTS, ids=lambda a: a.name)
def test_activation_values_and_stability(backend, act):
    z = backend.asarray(Z, "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning fails the test
        a = to_numpy(act.fn(z))
        g = to_numpy(act.backward(z, act.fn(z), backend.xp.ones_like(z)))
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(g))
    np.testing.assert_allclose(a, _reference(act, Z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_stays_in_unit_interval_in_every_dtype(backend, dtype):
    a = to_numpy(nnxp.Sigmoid().fn(backend.asarray(Z, dtype)))
    assert np.all((a >= 0) & (a <= 1)) and a[0, 0] == 0 and a[0, -1] == 1


@pytest.mark.parametrize("act", ACTS[:5], ids=lambda a: a.name)
def test_prime_matches_finite_differences(backend, act):
    z = np.linspace(-3, 3, 13)[None, :] + 0.0123  # away from ReLU's kink at 0
    eps = 1e-6
    up = to_numpy(act.fn(backend.asarray(z + eps, "float64")))
    down = to_numpy(act.fn(backend.asarray(z - eps, "float64")))
    prime = to_numpy(act.prime(backend.asarray(z, "float64")))
    np.testing.assert_allclose(prime, (up - down) / (2 * eps), rtol=1e-7, atol=1e-9)


def test_softmax_rows_sum_to_one_for_huge_inputs(backend):
    z = backend.asarray(np.array([[1e4, 1e4 - 1, -1e4], [-1e4, -1e4, -1e4]]), "float32")
    a = to_numpy(nnxp.Softmax().fn(z))
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(a[1], 1 / 3, rtol=1e-6)


def test_names_round_trip_through_the_fixed_tables():
    for act in ACTS:
        assert from_name(act.to_dict()) == act
    assert from_name("leakyrelu", slope=0.2) == nnxp.LeakyReLU(0.2)
    for cost in (nnxp.QuadraticCost, nnxp.CrossEntropyCost, nnxp.LogLikelihoodCost):
        assert cost_from_name(cost.name) is cost
    with pytest.raises(nnxp.ConfigError, match="unknown activation '__class__'"):
        from_name("__class__")


class _NoFn(nnxp.activations.Activation):
    name = "NoFn"


@pytest.mark.parametrize("act", [nnxp.activations.Activation(), _NoFn, _NoFn()],
                         ids=["Activation()", "subclass", "subclass()"])
def test_an_activation_without_fn_is_refused_when_given(act):
    """The base class's instance was taken: the network was built and its first forward
    pass raised a bare NotImplementedError from inside nnxp."""
    with pytest.raises(nnxp.ConfigError, match=r"defines no fn\(z\)"):
        as_activation(act)
    with pytest.raises(nnxp.ConfigError, match=r"defines no fn\(z\)"):
        nnxp.layers.Dense(3, act)
    with pytest.raises(nnxp.ConfigError, match=r"defines no fn\(z\)"):
        nnxp.Network([4, 3, 2], activation=act)


@pytest.mark.parametrize("make", [lambda v: as_activation(v), lambda v: from_name(v),
                                  lambda v: nnxp.LeakyReLU(v),
                                  lambda v: from_name("LeakyReLU", extra=v)])
@pytest.mark.parametrize("value", ["x" * 5000, ["a"] * 5000], ids=["text", "list"])
def test_activation_errors_show_at_most_a_capped_value(make, value):
    """Messages said the whole value: 5,000 characters of a misspelt name, 25,000 of a list."""
    with pytest.raises(nnxp.ConfigError) as caught:
        make(value)
    assert len(str(caught.value)) < 400
