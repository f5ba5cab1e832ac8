"""nnxp.layers: the protocol, Dense and Softmax against nnxp.backprop (bit for bit) and PyTorch
autograd, network3's dropout, finite differences, the argument checks."""

import numpy as np
import pytest

import nnxp
from nnxp import backprop
from nnxp.activations import ReLU, Sigmoid, Tanh
from nnxp.core import init_params, stack_params
from nnxp.costs import CrossEntropyCost, LogLikelihoodCost
from nnxp.initializers import default_weight, normal_bias
from nnxp.layers import Dense, Flatten, MaxPool2D, Softmax, draw_mask, sequential

from conftest import to_numpy

SIZES = (6, 5, 4, 3)
ACTS = (Sigmoid(), ReLU(), Sigmoid())


def _device(backend, tree, dtype="float64"):
    return tuple(tuple(backend.asarray(a, dtype) for a in p) for p in tree)


def _onehot(labels, n):
    return np.eye(n)[labels]


def _host_net(members, seed=0):
    nets = [init_params(SIZES, default_weight, normal_bias, seed + k) for k in range(members)]
    return nets[0] if members == 1 else stack_params(nets)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("members", [1, 3])
def test_dense_stack_gives_backprop_bits(backend, dtype, members):
    """The same params through Dense layers and through nnxp.backprop: the same bits for the
    output, the evaluation path and every gradient (one network, and K with a shared x)."""
    rng = np.random.default_rng(1)
    params = _device(backend, _host_net(members), dtype)
    x = backend.asarray(rng.standard_normal((7, SIZES[0])), dtype)
    y = backend.asarray(_onehot(rng.integers(0, 3, 7), 3), dtype)
    layers = tuple(Dense(n, act) for n, act in zip(SIZES[1:], ACTS))

    expected = backprop.backprop(params, ACTS, CrossEntropyCost, x, y, scale=1.0 / 7)
    out, caches = sequential.forward(layers, params, x)
    delta = sequential.output_error(layers, caches, CrossEntropyCost, y) * (1.0 / 7)
    grads = sequential.backward(layers, params, caches, delta, at_z=True)

    ref = to_numpy(backprop.feedforward(params, ACTS, x))
    assert np.array_equal(to_numpy(out), ref)
    assert np.array_equal(to_numpy(sequential.apply(layers, params, x)), ref)
    for (gw, gb), (ew, eb) in zip(grads, expected):
        assert np.array_equal(to_numpy(gw), to_numpy(ew))
        assert np.array_equal(to_numpy(gb), to_numpy(eb))
