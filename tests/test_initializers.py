"""Initializers (nnxp/initializers.py): plain functions of (rng, shape) drawn on the host, with
the scales the book and the papers give."""

import numpy as np
import pytest

from nnxp import initializers as I


@pytest.mark.parametrize("name,std", [("default", 1 / np.sqrt(400)), ("large", 1.0),
                                      ("he", np.sqrt(2 / 400)),
                                      ("glorot", np.sqrt(6 / 500) / np.sqrt(3))])
def test_weight_scales(name, std):
    w = I.WEIGHT_INITIALIZERS[name](np.random.default_rng(0), (100, 400))
    assert w.shape == (100, 400)
    assert abs(w.mean()) < 0.05 * std * 10 and abs(w.std() / std - 1) < 0.02


def test_glorot_is_bounded_and_biases():
    r = np.sqrt(6 / 500)
    w = I.glorot_weight(np.random.default_rng(1), (100, 400))
    assert np.abs(w).max() <= r
    b = I.normal_bias(np.random.default_rng(2), (1000,))
    assert b.shape == (1000,) and abs(b.std() - 1) < 0.1
    assert np.array_equal(np.asarray(I.zero_bias(None, (3,))), np.zeros(3))


def test_same_generator_state_gives_the_same_draws():
    a = I.default_weight(np.random.default_rng(5), (3, 4))
    b = I.default_weight(np.random.default_rng(5), (3, 4))
    np.testing.assert_array_equal(a, b)
