"""nnxp.layers' convolutional layers: Conv2D, MaxPool2D, ConvPool (network3's ConvPoolLayer)
against PyTorch autograd (float64, 1e-9) and finite differences on every backend, for one network
and K members; each backend's fast primitives against the generic array-API ones; array-api-
strict's non-default device."""

import numpy as np
import pytest

import nnxp
from nnxp.activations import ReLU, Sigmoid, Tanh
from nnxp.costs import LogLikelihoodCost
from nnxp.layers import (Conv2D, ConvPool, Dense, Flatten, MaxPool2D, Reshape, Softmax,
                         primitives, sequential)
from nnxp.namespace import namespace

from conftest import layer_masks, to_numpy

# 11 x 10 images: the conv-pool layer's 9 x 8 maps leave a row that fills no window
INPUT = (110,)
LAYERS = (Reshape((1, 11, 10)), ConvPool(3, (3, 3), (2, 2), Tanh), Conv2D(4, (2, 2), Sigmoid),
          MaxPool2D((2, 2)), Flatten(), Dense(6, ReLU, p_dropout=0.5),
          Softmax(3, p_dropout=0.25))


def _host_params(rng, members):
    """Random params (the softmax too, not network3's zeros), one tuple per member."""
    nets = []
    for _ in range(members):
        p = sequential.init(LAYERS, rng, INPUT)
        nets.append(tuple(tuple(a + 0.3 * rng.standard_normal(a.shape) for a in q) for q in p))
    return nets


def _device(backend, tree):
    return tuple(tuple(backend.asarray(a, "float64") for a in p) for p in tree)


def _torch_reference(torch, p, x, labels, masks):
    """LAYERS written with torch.nn.functional, the summed log-likelihood and its gradients."""
    F = torch.nn.functional
    t = [[torch.tensor(a, requires_grad=True) for a in q] for q in p]
    h = torch.tensor(x).reshape(-1, 1, 11, 10)
    h = torch.tanh(F.max_pool2d(F.conv2d(h, t[1][0]), 2) + t[1][1][:, None, None])
    h = F.max_pool2d(torch.sigmoid(F.conv2d(h, t[2][0]) + t[2][1][:, None, None]), 2)
    h = torch.relu(F.linear(h.flatten(1) * torch.tensor(masks[5]), t[5][0], t[5][1]))
    z = F.linear(h * torch.tensor(masks[6]), t[6][0], t[6][1])
    loss = F.nll_loss(F.log_softmax(z, -1), torch.tensor(labels), reduction="sum")
    loss.backward()
    return loss.item(), [[a.grad.numpy() for a in q] for q in t]


@pytest.mark.parametrize("members, shared", [(1, True), (2, True), (2, False)])
def test_conv_net_matches_torch_autograd(backend, members, shared):
    """Forward, cost and every gradient of a conv-pool / conv / pool / dense / softmax stack
    with dropout, within 1e-9 of PyTorch autograd in float64; K members with a shared input
    or one input each.  (Random inputs: no ties in any pooling window.)"""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    host = _host_params(rng, members)
    m = 5
    x = rng.standard_normal((m,) + INPUT if shared else (members, m) + INPUT)
    labels = rng.integers(0, 3, (m,) if members == 1 else (members, m))
    lead = (m,) if members == 1 else (members, m)
    masks = layer_masks(LAYERS, rng, INPUT, lead)
    params = _device(backend, host[0] if members == 1 else sequential.stack_params(host))
    dmasks = tuple(None if k is None else backend.asarray(k, "float64") for k in masks)
    y = backend.asarray(np.eye(3)[labels], "float64")

    out, caches = sequential.forward(LAYERS, params, backend.asarray(x, "float64"), dmasks)
    cost = to_numpy(LogLikelihoodCost.fn(out, y))
    error = sequential.output_error(LAYERS, caches, LogLikelihoodCost, y)
    grads = sequential.backward(LAYERS, params, caches, error, at_z=True)
    assert namespace(grads[1][0]) is backend.xp
    for k in range(members):
        pick = (lambda a: a) if members == 1 else (lambda a: a[k])
        xk = x if shared else x[k]
        loss, ref = _torch_reference(torch, host[k], xk, pick(labels),
                                     [None if q is None else pick(q) for q in masks])
        np.testing.assert_allclose(pick(cost).sum(), loss, rtol=1e-9, atol=1e-9)
        for got, want in zip(grads, ref):
            assert len(got) == len(want)
            for g, r in zip(got, want):
                np.testing.assert_allclose(pick(to_numpy(g)), r, rtol=1e-9, atol=1e-9)


def test_conv_layers_match_finite_differences(backend):
    """Every parameter and the input gradient of Conv2D, MaxPool2D and ConvPool, float64."""
    rng = np.random.default_rng(1)
    layers = (ConvPool(2, (2, 3), (2, 2), Sigmoid), Conv2D(3, 2, Tanh), MaxPool2D((1, 2)),
              Flatten(), Softmax(2))
    shape = (2, 7, 9)
    host = tuple(tuple(a + 0.3 * rng.standard_normal(a.shape) for a in p)
                 for p in sequential.init(layers, rng, shape))
    x_host = rng.standard_normal((4,) + shape)
    y = backend.asarray(np.eye(2)[rng.integers(0, 2, 4)], "float64")

    def loss(p, x=x_host):
        out = sequential.apply(layers, _device(backend, p), backend.asarray(x, "float64"))
        return float(to_numpy(LogLikelihoodCost.fn(out, y)).sum())

    params, x = _device(backend, host), backend.asarray(x_host, "float64")
    _, caches = sequential.forward(layers, params, x)
    grads = sequential.backward(layers, params, caches,
                                sequential.output_error(layers, caches, LogLikelihoodCost, y),
                                at_z=True)
    from test_layers import numerical_grads
    for l, i, coord, numeric in numerical_grads(loss, host):
        assert abs(to_numpy(grads[l][i])[coord] - numeric) < 1e-6 * max(1.0, abs(numeric))
    # the input gradient, which a first layer never computes inside sequential.backward
    (_, dx) = layers[0].backward_z(params[0], caches[0], _error_at(layers, params, caches, y))
    for flat in np.random.default_rng(2).choice(x_host.size, 10, replace=False):
        coord = np.unravel_index(flat, x_host.shape)
        plus, minus = x_host.copy(), x_host.copy()
        plus[coord] += 1e-6
        minus[coord] -= 1e-6
        numeric = (loss(host, plus) - loss(host, minus)) / 2e-6
        assert abs(to_numpy(dx)[coord] - numeric) < 1e-6 * max(1.0, abs(numeric))


def _error_at(layers, params, caches, y):
    """dC/dz of the first layer: the error backpropagated down to it."""
    delta = sequential.output_error(layers, caches, LogLikelihoodCost, y)
    for l in range(len(layers) - 1, 0, -1):
        step = layers[l].backward_z if l == len(layers) - 1 else layers[l].backward
        _, delta = step(params[l], caches[l], delta)
    return layers[0].activation.backward(caches[0].z, caches[0].a, delta)


# -- the fast primitives against the generic ones --------------------------------------------

CASES = [((3, 2, 8, 7), (4, 2, 3, 2)),          # one network
         ((2, 3, 2, 8, 7), (2, 4, 2, 3, 2)),    # K = 2 members, an input each
         ((3, 2, 8, 7), (2, 4, 2, 3, 2)),       # K = 2 members sharing the input
         ((1, 1, 5, 5), (1, 1, 5, 5)),          # the filter as large as the image
         ((4, 1, 9, 8), (3, 1, 4, 3)),          # one input channel (PyTorch: im2col on CPU)
         ((3, 1, 8, 7), (2, 4, 1, 3, 2)),       # one channel shared by K = 2 members
         ((2, 3, 1, 8, 7), (2, 4, 1, 3, 2)),    # one channel, K = 2 inputs (groups)
         ((70, 1, 6, 5), (2, 1, 3, 3))]         # one channel, a large batch


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("x_shape, w_shape", CASES)
def test_fast_conv_matches_generic(backend, x_shape, w_shape, dtype):
    """The same numbers to rounding, in the input's dtype (no silent upcast)."""
    rng = np.random.default_rng(3)
    tol = 1e-12 if dtype == "float64" else 2e-5
    x, w = (backend.asarray(rng.standard_normal(s), dtype) for s in (x_shape, w_shape))
    fast, generic = primitives.lookup(backend.xp), primitives.GENERIC

    def same(a, b):
        assert a.dtype == x.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=tol, atol=tol)

    y = fast["conv2d"](x, w)
    same(y, generic["conv2d"](x, w))
    dy = backend.asarray(rng.standard_normal(tuple(y.shape)), dtype)
    for need in (True, False):
        (dw, dx), (gw, gx) = (ops["conv2d_backward"](x, w, dy, need) for ops in (fast, generic))
        same(dw, gw)
        assert tuple(dw.shape) == w_shape
        if need:
            assert tuple(dx.shape) == x_shape
            same(dx, gx)
        else:
            assert dx is None and gx is None


POOL_CASES = [((2, 3, 8, 6), (2, 2)), ((2, 2, 3, 9, 7), (2, 3)), ((1, 1, 5, 4), (1, 1)),
              ((2, 1, 7, 9), (3, 1)), ((1, 2, 6, 6), (1, 3))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rule", ["max_pool2d_backward", "max_pool2d_backward_all"])
@pytest.mark.parametrize("x_shape, pool", POOL_CASES)
def test_fast_pool_matches_generic_with_ties(backend, x_shape, pool, rule, dtype):
    """Small integers make ties in most windows: every implementation routes a window's
    gradient to the same elements (its first maximum in row-major order, or, for the
    ``_all`` rule, every maximum), exactly, in the input's dtype; the border that fills no
    window gets 0."""
    rng = np.random.default_rng(4)
    x = backend.asarray(rng.integers(0, 3, x_shape), dtype)
    fast, generic = primitives.lookup(backend.xp), primitives.GENERIC
    y = fast["max_pool2d"](x, pool)
    assert y.dtype == x.dtype
    assert np.array_equal(to_numpy(y), to_numpy(generic["max_pool2d"](x, pool)))
    dy = backend.asarray(rng.standard_normal(tuple(y.shape)), dtype)
    dx = fast[rule](x, pool, dy)
    assert dx.dtype == x.dtype and tuple(dx.shape) == x_shape
    assert np.array_equal(to_numpy(dx), to_numpy(generic[rule](x, pool, dy)))


@pytest.mark.parametrize("xp_name, module", [("numpy", "conv_numpy"),
                                             ("array_api_compat.torch", "conv_torch")])
def test_numpy_and_torch_have_every_primitive(xp_name, module):
    """NumPy's and PyTorch's tables cover every generic primitive, Theano's tie rule included
    (the generic one, with its reductions over short window axes, is what network3 ran on
    them)."""
    xp = pytest.importorskip(xp_name)
    from nnxp.backends.primitives import fast_primitives
    table = fast_primitives(xp)
    assert set(table) == set(primitives.GENERIC)
    assert all(f.__module__ == f"nnxp.backends.{module}" for f in table.values())


def test_pool_gradient_goes_to_the_first_maximum():
    x = np.array([[[[1.0, 3.0, 3.0, 0.0],
                    [3.0, 2.0, 1.0, 3.0],
                    [5.0, 5.0, 0.0, 0.0]]]])  # the last row fills no window: ignored
    dx = primitives.max_pool2d_backward(x, (2, 2), np.array([[[[10.0, 20.0]]]]))
    assert np.array_equal(dx, [[[[0, 10, 20, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]])
    assert np.array_equal(primitives.max_pool2d(x, (2, 2)), [[[[3.0, 3.0]]]])


def test_lookup_uses_the_backends_table():
    from nnxp.backends.primitives import MODULES, fast_primitives
    assert fast_primitives(np)["conv2d"].__module__ == "nnxp.backends.conv_numpy"
    assert set(MODULES) == {"numpy", "jax.numpy", "array_api_compat.torch"}
    strict = pytest.importorskip("array_api_strict")
    assert primitives.lookup(strict) == primitives.GENERIC


# -- array-api-strict's non-default device ----------------------------------------------------

def test_conv_net_stays_on_a_non_default_device():
    """Every array the layers make (zeros for padding, index ranges, masks' products) is made
    on the input's device: array-api-strict refuses to mix devices, and every result is on
    device1."""
    strict = pytest.importorskip("array_api_strict")
    dev = strict.Device("device1")
    rng = np.random.default_rng(5)
    host = _host_params(rng, 2)
    with nnxp.use_backend("array_api_strict", "device1") as be:
        assert be.device == dev
        params = _device(be, sequential.stack_params(host))
        x = be.asarray(rng.standard_normal((3,) + INPUT), "float64")
        masks = tuple(None if k is None else be.asarray(k, "float64")
                      for k in layer_masks(LAYERS, rng, INPUT, (2, 3)))
        y = be.asarray(np.eye(3)[rng.integers(0, 3, (2, 3))], "float64")
        out, caches = sequential.forward(LAYERS, params, x, masks)
        grads = sequential.backward(LAYERS, params, caches,
                                    sequential.output_error(LAYERS, caches, LogLikelihoodCost,
                                                            y), at_z=True)
        evaluated = sequential.apply(LAYERS, params, x)
        _, dx = LAYERS[1].backward_z(params[1], caches[1], caches[1].z)  # dx too
        for a in (out, evaluated, dx, *[g for q in grads for g in q]):
            assert a.device == dev
        # the padding of a max-pool's ignored border, on its own
        odd = be.asarray(rng.standard_normal((2, 5, 5)), "float64")
        assert primitives.max_pool2d_backward(odd, (2, 2), primitives.max_pool2d(
            odd, (2, 2))).device == dev


def test_compiled_forward_and_backward_match_eager(backend):
    """The layers are pure functions: the backend's compile (jax.jit on JAX, where a traced
    max-pool must stay differentiable) gives the eager numbers, also with forward and backward
    in separate programs (every cache a pytree of arrays)."""
    rng = np.random.default_rng(6)
    params = _device(backend, sequential.stack_params(_host_params(rng, 2)))
    x = backend.asarray(rng.standard_normal((2, 4) + INPUT), "float64")
    masks = tuple(None if k is None else backend.asarray(k, "float64")
                  for k in layer_masks(LAYERS, rng, INPUT, (2, 4)))
    y = backend.asarray(np.eye(3)[rng.integers(0, 3, (2, 4))], "float64")

    def grads(params, x, y, masks):
        out, caches = sequential.forward(LAYERS, params, x, masks)
        error = sequential.output_error(LAYERS, caches, LogLikelihoodCost, y)
        return sequential.apply(LAYERS, params, x), sequential.backward(
            LAYERS, params, caches, error, at_z=True)

    def split(params, x, y, masks):  # caches out of one program into another: pytrees
        _, caches = backend.compile(lambda p, x, k: sequential.forward(LAYERS, p, x, k))(
            params, x, masks)
        out = backend.compile(lambda p, x: sequential.apply(LAYERS, p, x))(params, x)
        return out, backend.compile(lambda p, c, y: sequential.backward(
            LAYERS, p, c, sequential.output_error(LAYERS, c, LogLikelihoodCost, y),
            at_z=True))(params, caches, y)

    eager = grads(params, x, y, masks)
    for compiled in (backend.compile(grads)(params, x, y, masks), split(params, x, y, masks)):
        np.testing.assert_allclose(to_numpy(compiled[0]), to_numpy(eager[0]), rtol=1e-12)
        for got, want in zip(compiled[1], eager[1]):
            for g, w in zip(got, want):
                np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=1e-10, atol=1e-12)


def test_ties_all_routes_to_every_maximum_as_theano(backend):
    """ties="all" (Theano's rule, network3's numbers): every element equal to its window's
    maximum gets the window's gradient; without ties the two rules agree."""
    x = np.array([[[[1.0, 3.0, 3.0, 0.0, 7.0],
                    [3.0, 2.0, 1.0, 3.0, 7.0],
                    [5.0, 5.0, 0.0, 0.0, 7.0]]]])  # the last row and column fill no window
    dy = np.array([[[[10.0, 20.0]]]])
    bx, bdy = backend.asarray(x, "float64"), backend.asarray(dy, "float64")
    layer = MaxPool2D((2, 2), ties="all")
    _, dx = layer.backward((), layer.forward((), bx)[1], bdy)
    assert np.array_equal(to_numpy(dx), [[[[0, 10, 20, 0, 0], [10, 0, 0, 20, 0],
                                           [0, 0, 0, 0, 0]]]])
    _, first = MaxPool2D((2, 2)).backward((), bx, bdy)
    assert np.array_equal(to_numpy(first), [[[[0, 10, 20, 0, 0], [0, 0, 0, 0, 0],
                                              [0, 0, 0, 0, 0]]]])
    rng = np.random.default_rng(7)
    x = backend.asarray(rng.standard_normal((2, 3, 4, 7, 9)), "float64")
    dy = backend.asarray(rng.standard_normal((2, 3, 4, 3, 4)), "float64")
    assert np.array_equal(to_numpy(primitives.max_pool2d_backward_all(x, (2, 2), dy)),
                          to_numpy(primitives.max_pool2d_backward(x, (2, 2), dy)))
    conv_all, conv_first = ConvPool(2, 2, ties="all"), ConvPool(2, 2)
    params = tuple(backend.asarray(a, "float64")
                   for a in conv_first.init(rng, (1, 5, 5))[0])
    blank = backend.asarray(np.zeros((1, 1, 5, 5)), "float64")  # every window a tie
    delta = backend.asarray(np.ones((1, 2, 2, 2)), "float64")
    _, dx_all = conv_all.backward_z(params, conv_all.forward(params, blank)[1], delta)
    _, dx_first = conv_first.backward_z(params, conv_first.forward(params, blank)[1], delta)
    every = backend.asarray(np.ones((1, 2, 4, 4)), "float64")  # all 4 x 4 conv outputs tie
    top_left = backend.asarray(np.kron(np.ones((1, 2, 2, 2)), [[1.0, 0.0], [0.0, 0.0]]),
                               "float64")
    for dx, d_conv in ((dx_all, every), (dx_first, top_left)):
        np.testing.assert_allclose(to_numpy(dx), to_numpy(
            primitives.conv2d_backward(blank, params[0], d_conv)[1]), rtol=1e-12, atol=1e-12)
    with pytest.raises(nnxp.ConfigError, match="ties must be 'first' or 'all'"):
        ConvPool(2, 2, ties="last")


def test_numpy_layers_import_no_other_array_library():
    """A NumPy-only install: the fast-primitive table imports only the module of the
    namespace in use, and that module imports its library lazily."""
    import subprocess
    import sys
    code = ("import sys, numpy as np\n"
            "from nnxp.layers import ConvPool, sequential\n"
            "layers = (ConvPool(2, 3),)\n"
            "params = sequential.init(layers, np.random.default_rng(0), (1, 8, 8))\n"
            "y, caches = sequential.forward(layers, params, np.ones((2, 1, 8, 8)))\n"
            "sequential.backward(layers, params, caches, y)\n"
            "print(sorted(m for m in ('jax', 'torch', 'cupy', 'array_api_strict')"
            " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("ties", [["all"], {"first": 1}, None, 1])
def test_ties_that_is_not_a_name_is_a_config_error(ties):
    """An unhashable value (a list) was a bare TypeError from the dict lookup."""
    for make in (lambda: MaxPool2D(2, ties=ties), lambda: ConvPool(2, 2, ties=ties)):
        with pytest.raises(nnxp.ConfigError, match="ties must be 'first' or 'all'"):
            make()


@pytest.mark.parametrize("layer", [Conv2D, lambda n, f, **kw: ConvPool(n, f, **kw)],
                         ids=["Conv2D", "ConvPool"])
@pytest.mark.parametrize("activation", ["Softmax", nnxp.Softmax, nnxp.Softmax()])
def test_a_conv_layer_refuses_the_softmax(layer, activation):
    """It trained, normalising each row of pixels of each feature map (the last axis), not
    the filters: network3's softmax takes a matrix, and its conv layers cannot have one."""
    with pytest.raises(nnxp.ConfigError, match="activation cannot be Softmax"):
        layer(2, 3, activation=activation)
    assert layer(2, 3, activation="ReLU").activation == ReLU()


def test_a_conv_network_is_scored_in_bounded_passes_with_the_same_counts(monkeypatch):
    """accuracy / total_cost of a network with convolutions go over the data in passes of
    EVAL_ROWS examples (was one pass: about 1 GB for 10,000 MNIST images, 5 GB for 50,000,
    then a bare MemoryError on a smaller machine): the same hits, the cost to rounding."""
    from nnxp import engines, layers as L
    rng = np.random.default_rng(0)
    x, y = rng.random((250, 81)), rng.integers(0, 4, 250)
    net = nnxp.Network([81, L.Reshape((1, 9, 9)), L.ConvPool(3, 3), L.Flatten(), L.Softmax(4)],
                       cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    whole = (net.accuracy((x, y)), net.total_cost((x, y), lmbda=1.0))
    calls = []
    real = engines._scores
    monkeypatch.setattr(engines, "EVAL_ROWS", 100)
    monkeypatch.setattr(engines, "_scores", lambda spec, p, xs, *a: calls.append(
        xs.shape[0]) or real(spec, p, xs, *a))
    net = nnxp.Network([81, L.Reshape((1, 9, 9)), L.ConvPool(3, 3), L.Flatten(), L.Softmax(4)],
                       cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    assert net.accuracy((x, y)) == whole[0]
    assert net.total_cost((x, y), lmbda=1.0) == pytest.approx(whole[1], rel=1e-12)
    assert calls and max(calls) == 100
