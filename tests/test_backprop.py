"""Backpropagation against independent references: central finite differences of a NumPy
forward pass written here (every activation x cost pair that makes sense, float64), and PyTorch
autograd when torch is installed."""

import numpy as np
import pytest

import nnxp
from nnxp.backprop import backprop
from reference import finite_difference_grads
from conftest import to_numpy

# Reference activations and costs, written independently of nnxp's (naive textbook forms).
REF_ACT = {
    "Sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "Tanh": np.tanh,
    "ReLU": lambda z: np.maximum(z, 0.0),
    "LeakyReLU": lambda z: np.where(z > 0, z, 0.1 * z),
    "Identity": lambda z: z,
    "Softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
}
REF_COST = {
    "QuadraticCost": lambda a, y: 0.5 * np.sum((a - y) ** 2),
    "CrossEntropyCost": lambda a, y: -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)),
    "LogLikelihoodCost": lambda a, y: -np.sum(y * np.log(a)),
}
ACT = {"Sigmoid": nnxp.Sigmoid, "Tanh": nnxp.Tanh, "ReLU": nnxp.ReLU,
       "LeakyReLU": nnxp.LeakyReLU(0.1), "Identity": nnxp.Identity, "Softmax": nnxp.Softmax}
HIDDEN = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Identity"]
OUTPUTS = [("QuadraticCost", "Sigmoid"), ("QuadraticCost", "Tanh"),
           ("QuadraticCost", "Identity"), ("QuadraticCost", "ReLU"),
           ("QuadraticCost", "Softmax"), ("CrossEntropyCost", "Sigmoid"),
           ("LogLikelihoodCost", "Softmax")]


def _problem(sizes, cost, seed=0, m=5):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, sizes[0]))
    if cost == "QuadraticCost":
        y = rng.random((m, sizes[-1]))
    else:
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    return x, y


def _ref_loss(sizes, hidden, output, cost, X, Y):
    acts = [REF_ACT[hidden]] * (len(sizes) - 2) + [REF_ACT[output]]

    def loss(params):
        a = X
        for (w, b), f in zip(zip(params[0::2], params[1::2]), acts):
            a = f(a @ w.T + b)
        return REF_COST[cost](a, Y)
    return loss


def _nnxp_grads(backend, sizes, hidden, output, cost, x, y, seed=1):
    net = nnxp.Network(sizes, cost=getattr(nnxp, cost), activation=ACT[hidden],
                       output_activation=ACT[output], seed=seed, dtype="float64")
    xd, yd = backend.asarray(x, "float64"), backend.asarray(y, "float64")
    grads = backprop(net.params, net.activations, net.cost, xd, yd)
    params = [to_numpy(a).copy() for wb in net.params for a in wb]
    return params, [to_numpy(g) for wb in grads for g in wb]


def _rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("cost,output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_matches_finite_differences(backend, hidden, cost, output):
    sizes = [4, 6, 3]
    X, Y = _problem(sizes, cost)
    params, grads = _nnxp_grads(backend, sizes, hidden, output, cost, X, Y)
    fd = finite_difference_grads(_ref_loss(sizes, hidden, output, cost, X, Y), params)
    for g, f in zip(grads, fd):
        assert _rel_err(g, f) < 1e-6


@pytest.mark.parametrize("hidden", ["Sigmoid", "Tanh", "ReLU"])
def test_backprop_three_hidden_layers(backend, hidden):
    sizes = [5, 7, 6, 4, 3]
    cost, output = "CrossEntropyCost", "Sigmoid"
    X, Y = _problem(sizes, cost, seed=3, m=8)
    params, grads = _nnxp_grads(backend, sizes, hidden, output, cost, X, Y)
    fd = finite_difference_grads(_ref_loss(sizes, hidden, output, cost, X, Y), params)
    assert len(grads) == 8
    for g, f in zip(grads, fd):
        assert _rel_err(g, f) < 1e-6


TORCH_CASES = [("Sigmoid", "CrossEntropyCost", "Sigmoid"), ("Tanh", "QuadraticCost", "Tanh"),
               ("ReLU", "LogLikelihoodCost", "Softmax"),
               ("LeakyReLU", "QuadraticCost", "Identity")]


@pytest.mark.parametrize("hidden,cost,output", TORCH_CASES)
def test_backprop_matches_torch_autograd(backend, hidden, cost, output):
    torch = pytest.importorskip("torch")
    sizes = [6, 8, 5, 4]
    x, y = _problem(sizes, cost, seed=5, m=7)
    params, grads = _nnxp_grads(backend, sizes, hidden, output, cost, x, y)
    tp = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    acts = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "ReLU": torch.relu,
            "LeakyReLU": lambda z: torch.nn.functional.leaky_relu(z, 0.1),
            "Identity": lambda z: z, "Softmax": lambda z: torch.softmax(z, dim=1)}
    a = torch.tensor(x)
    layer_acts = [acts[hidden]] * (len(sizes) - 2) + [acts[output]]
    for w, b, f in zip(tp[0::2], tp[1::2], layer_acts):
        a = f(a @ w.T + b)
    yt = torch.tensor(y)
    loss = {"QuadraticCost": lambda: 0.5 * ((a - yt) ** 2).sum(),
            "CrossEntropyCost": lambda: torch.nn.functional.binary_cross_entropy(
                a, yt, reduction="sum"),
            "LogLikelihoodCost": lambda: -(yt * torch.log(a)).sum()}[cost]()
    loss.backward()
    for g, p in zip(grads, tp):
        assert _rel_err(g, p.grad.numpy()) < 1e-10


@pytest.mark.parametrize("hidden,cost,output", TORCH_CASES)
def test_a_population_gets_each_members_own_gradients(backend, hidden, cost, output):
    """Parameters with a leading member axis: the same code, member by member the same
    numbers (float64; bit for bit on NumPy)."""
    sizes, k = [6, 8, 5, 4], 3
    x, y = _problem(sizes, cost, seed=5, m=7)
    nets = [nnxp.Network(sizes, cost=getattr(nnxp, cost), activation=ACT[hidden],
                         output_activation=ACT[output], seed=s, dtype="float64")
            for s in range(k)]
    xp = backend.xp
    stacked = tuple((xp.stack([n.params[l][0] for n in nets]),
                     xp.stack([n.params[l][1] for n in nets])) for l in range(3))
    xd, yd = backend.asarray(x, "float64"), backend.asarray(y, "float64")
    grads = backprop(stacked, nets[0].activations, nets[0].cost, xd, yd)
    # the first layer as one product for every member (what the JAX backend runs)
    fused = backprop(stacked, nets[0].activations, nets[0].cost, xd, yd, stacked=True)
    for i, net in enumerate(nets):
        alone = backprop(net.params, net.activations, net.cost, xd, yd)
        for (gw, gb), (aw, ab), (fw, fb) in zip(grads, alone, fused):
            for g, a, f in ((gw, aw, fw), (gb, ab, fb)):
                g, a, f = to_numpy(g)[i], to_numpy(a), to_numpy(f)[i]
                if backend.name == "numpy":
                    np.testing.assert_array_equal(g, a)
                else:
                    np.testing.assert_allclose(g, a, rtol=1e-12, atol=1e-14)
                np.testing.assert_allclose(f, a, rtol=1e-12, atol=1e-14)
