"""The pure core (nnxp/core.py): parameters drawn on the host, the step as a pure function,
per-member selection for populations."""

import numpy as np
import pytest

import nnxp
from nnxp import core
from nnxp.optimizers import training_chain
from conftest import to_numpy


def test_init_params_draws_weights_then_biases_layer_by_layer():
    seq = np.random.SeedSequence(3)
    params = core.init_params([4, 3, 2], lambda rng, s: rng.standard_normal(s),
                              lambda rng, s: rng.standard_normal(s), seq)
    rng = np.random.default_rng(seq)
    expected = [rng.standard_normal((3, 4)), rng.standard_normal(3),
                rng.standard_normal((2, 3)), rng.standard_normal(2)]
    for got, want in zip([a for layer in params for a in layer], expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("init,match", [
    (lambda rng, s: np.zeros((1, 1)), "initializers must return shapes"),
    (lambda rng, s: np.full(s, np.nan), "NaN or infinite"),
])
def test_bad_initializers_are_refused(init, match):
    with pytest.raises(nnxp.ConfigError, match=match):
        nnxp.Network([3, 2], weight_init=init)


def test_the_step_is_pure(backend):
    net = nnxp.Network([4, 3, 2], seed=0, dtype="float64")
    x = backend.asarray(np.random.default_rng(0).random((5, 4)), "float64")
    y = backend.asarray(np.eye(2)[[0, 1, 0, 1, 1]], "float64")
    transform = training_chain(nnxp.momentum(0.5), eta=0.3, decay=0.1)
    step = core.make_step(net.spec, transform)
    state = transform.init(net.params)
    before = [to_numpy(a).copy() for layer in net.params for a in layer]
    params, state2 = step(net.params, state, x, y)
    again, _ = step(net.params, state, x, y)
    for a, b in zip(before, [to_numpy(a) for layer in net.params for a in layer]):
        np.testing.assert_array_equal(a, b)  # inputs untouched
    for a, b in zip([to_numpy(a) for l in params for a in l], [to_numpy(a) for l in again for a in l]):
        np.testing.assert_array_equal(a, b)  # same inputs, same outputs


def test_select_keeps_members(backend):
    new = (backend.asarray(np.ones((3, 2, 2)), "float32"),)
    old = (backend.asarray(np.zeros((3, 2, 2)), "float32"),)
    keep = backend.asarray(np.array([True, False, True]), None)
    (out,) = core.select(keep, new, old)
    np.testing.assert_array_equal(to_numpy(out)[:, 0, 0], [1.0, 0.0, 1.0])
