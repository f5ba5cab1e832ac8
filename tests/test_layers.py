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
from nnxp.layers import Conv2D, ConvPool, Dense, Flatten, MaxPool2D, Softmax, sequential
from nnxp.masks import keep_mask

from conftest import layer_masks, to_numpy

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


# -- against PyTorch autograd (float64, 1e-9), every backend ---------------------------------

def _torch_dense_net(torch, params, x, labels, masks, p_dropouts, evaluate=False):
    """The reference: Dense(ReLU) with dropout, then Softmax with dropout, summed
    log-likelihood; torch.nn.functional only."""
    F = torch.nn.functional
    ts = [[torch.tensor(a, requires_grad=True) for a in p] for p in params]
    h = torch.tensor(x)
    for l, ((w, b), mask, p) in enumerate(zip(ts, masks, p_dropouts)):
        if evaluate:
            z = (1 - p) * F.linear(h, w) + b
        else:
            z = F.linear(h * torch.tensor(mask), w, b)
        h = torch.relu(z) if l == 0 else z
    loss = F.nll_loss(F.log_softmax(h, dim=-1), torch.tensor(labels), reduction="sum")
    loss.backward()
    return loss.item(), [[a.grad.numpy() for a in p] for p in ts]


@pytest.mark.parametrize("members", [1, 2])
def test_dense_softmax_dropout_match_torch_autograd(backend, members):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    layers = (Dense(5, ReLU, p_dropout=0.5), Softmax(3, p_dropout=0.25))
    host = [sequential.init(layers, rng, (4,)) for _ in range(members)]
    host = [tuple((w + 0.3 * rng.standard_normal(w.shape), b) for w, b in p) for p in host]
    m, lead = 6, (6,) if members == 1 else (members, 6)
    x, labels = rng.standard_normal((m, 4)), rng.integers(0, 3, m)
    masks = layer_masks(layers, np.random.default_rng(9), (4,), lead)
    params = _device(backend, host[0] if members == 1 else sequential.stack_params(host))
    dx, dy = backend.asarray(x, "float64"), backend.asarray(_onehot(labels, 3), "float64")
    dmasks = tuple(backend.asarray(k, "float64") for k in masks)

    out, caches = sequential.forward(layers, params, dx, dmasks)
    cost = to_numpy(LogLikelihoodCost.fn(out, dy))
    grads = sequential.backward(layers, params, caches,
                                sequential.output_error(layers, caches, LogLikelihoodCost, dy),
                                at_z=True)
    evaluated = to_numpy(sequential.apply(layers, params, dx))
    for k in range(members):
        pick = (lambda a: a) if members == 1 else (lambda a: a[k])
        loss, ref = _torch_dense_net(torch, host[k], x, labels, [pick(q) for q in masks],
                                     (0.5, 0.25))
        np.testing.assert_allclose(pick(cost).sum(), loss, rtol=1e-9, atol=1e-9)
        for got, want in zip(grads, ref):
            for g, r in zip(got, want):
                np.testing.assert_allclose(pick(to_numpy(g)), r, rtol=1e-9, atol=1e-9)
        with torch.no_grad():
            h = torch.relu(0.5 * torch.tensor(x) @ torch.tensor(host[k][0][0]).T
                           + torch.tensor(host[k][0][1]))
            z = 0.75 * h @ torch.tensor(host[k][1][0]).T + torch.tensor(host[k][1][1])
        np.testing.assert_allclose(pick(evaluated), torch.softmax(z, -1).numpy(), rtol=1e-9,
                                   atol=1e-12)


def test_softmax_backward_from_dc_da_matches_torch(backend):
    """``backward`` (from dC/da, through the softmax's Jacobian) for any upstream gradient."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    layer = Softmax(4, weight_init=default_weight, bias_init=normal_bias)
    (w, b), _ = layer.init(rng, (3,))
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    params = tuple(backend.asarray(a, "float64") for a in (w, b))
    out, cache = layer.forward(params, backend.asarray(x, "float64"))
    (gw, gb), gx = layer.backward(params, cache, backend.asarray(g, "float64"))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    (torch.softmax(torch.nn.functional.linear(tx, tw, tb), -1) * torch.tensor(g)).sum().backward()
    for got, want in ((gw, tw), (gb, tb), (gx, tx)):
        np.testing.assert_allclose(to_numpy(got), want.grad.numpy(), rtol=1e-9, atol=1e-12)


# -- finite differences (float64) ------------------------------------------------------------

def numerical_grads(loss, params, picks=12, eps=1e-6, seed=0):
    """Central differences of ``loss(params)`` at ``picks`` random coordinates of each array:
    [(layer, index, coordinate, value)]."""
    rng, found = np.random.default_rng(seed), []
    for l, p in enumerate(params):
        for i, a in enumerate(p):
            for flat in rng.choice(a.size, size=min(picks, a.size), replace=False):
                coord = np.unravel_index(flat, a.shape)
                plus, minus = a.copy(), a.copy()
                plus[coord] += eps
                minus[coord] -= eps

                def swap(v):
                    return tuple(tuple(v if (ll, ii) == (l, i) else q for ii, q in enumerate(pp))
                                 for ll, pp in enumerate(params))
                found.append((l, i, coord, (loss(swap(plus)) - loss(swap(minus))) / (2 * eps)))
    return found


def test_dense_softmax_gradients_match_finite_differences(backend):
    rng = np.random.default_rng(5)
    layers = (Dense(6, Tanh, p_dropout=0.3), Dense(5, Sigmoid), Softmax(4, p_dropout=0.5))
    host = sequential.init(layers, rng, (3,))
    host = tuple((w + 0.5 * rng.standard_normal(w.shape), b) for w, b in host)
    masks = tuple(None if k is None else backend.asarray(k, "float64")
                  for k in layer_masks(layers, rng, (3,), (7,)))
    x = backend.asarray(rng.standard_normal((7, 3)), "float64")
    y = backend.asarray(_onehot(rng.integers(0, 4, 7), 4), "float64")

    def loss(p):
        out, _ = sequential.forward(layers, _device(backend, p), x, masks)
        return float(to_numpy(LogLikelihoodCost.fn(out, y)).sum())

    params = _device(backend, host)
    out, caches = sequential.forward(layers, params, x, masks)
    grads = sequential.backward(layers, params, caches,
                                sequential.output_error(layers, caches, LogLikelihoodCost, y),
                                at_z=True)
    for l, i, coord, numeric in numerical_grads(loss, host):
        assert abs(to_numpy(grads[l][i])[coord] - numeric) < 1e-6 * max(1.0, abs(numeric))


# -- network3's dropout, the protocol, the checks --------------------------------------------

def test_dropout_training_and_evaluation_paths_are_network3s():
    rng = np.random.default_rng(6)
    layer = Dense(3, ReLU, p_dropout=0.4)
    (w, b), _ = layer.init(rng, (5,))
    x, mask = rng.standard_normal((4, 5)), keep_mask(rng, 0.4, (4, 5))
    train, _ = layer.forward((w, b), x, mask=mask)
    np.testing.assert_array_equal(train, np.maximum((x * mask) @ w.T + b, 0))  # no 1/(1-p)
    np.testing.assert_array_equal(layer.apply((w, b), x), np.maximum(0.6 * (x @ w.T) + b, 0))
    np.testing.assert_array_equal(layer.forward((w, b), x)[0], layer.apply((w, b), x))


def test_protocol_shapes_and_skipped_input_gradient():
    rng = np.random.default_rng(7)
    layer = Dense(3)
    params, out_shape = layer.init(rng, (4,))
    assert out_shape == (3,) == layer.output_shape((4,))
    assert [a.shape for a in params] == [(3, 4), (3,)]
    y, cache = layer.forward(params, rng.standard_normal((2, 5, 4)))
    grads, dx = layer.backward(params, cache, np.ones((2, 5, 3)))
    assert dx.shape == (2, 5, 4) and layer.backward(params, cache, np.ones((2, 5, 3)),
                                                    need_input_grad=False)[1] is None
    soft = Softmax(2)
    (w, b), _ = soft.init(rng, (3,))
    assert not w.any() and not b.any()  # network3 starts the softmax layer at zero


def test_initializers_are_called_in_order_and_checked():
    calls = []

    def weight(rng, shape):
        calls.append(("w", shape))
        return np.ones(shape)

    def bias(rng, shape):
        calls.append(("b", shape))
        return [0.5] * shape[0]

    (w, b), _ = Dense(2, weight_init=weight, bias_init=bias).init(np.random.default_rng(), (3,))
    assert calls == [("w", (2, 3)), ("b", (2,))] and b.tolist() == [0.5, 0.5]
    with pytest.raises(nnxp.ConfigError, match="weight initializer must return shape"):
        Dense(2, weight_init=lambda rng, s: np.ones(3)).init(np.random.default_rng(), (3,))
    with pytest.raises(nnxp.ConfigError, match="NaN or infinite"):
        Dense(2, bias_init=lambda rng, s: [np.nan, 0]).init(np.random.default_rng(), (3,))


@pytest.mark.parametrize("make, match", [
    (lambda: Dense(0), "n_out must be a positive int"),
    (lambda: Dense(3, p_dropout=1.0), r"p_dropout must be a number in \[0, 1\)"),
    (lambda: Dense(3, activation="nope"), "unknown activation"),
    (lambda: Softmax(2, p_dropout=-0.1), "p_dropout"),
    (lambda: MaxPool2D((2, 0)), "pool must be a positive int or a pair"),
    (lambda: Flatten(0), "ndim must be a positive int"),
])
def test_bad_configuration_is_refused_clearly(make, match):
    with pytest.raises(nnxp.ConfigError, match=match):
        make()


def test_bad_shapes_are_refused_clearly():
    rng = np.random.default_rng()
    with pytest.raises(nnxp.ConfigError, match=r"Dense takes examples of shape \(n_in,\) "
                                                r"\(put a Flatten\(\) before it\)"):
        Dense(3).init(rng, (1, 28, 28))
    with pytest.raises(nnxp.ConfigError, match="MaxPool2D takes no dropout mask"):
        MaxPool2D().forward((), np.zeros((1, 1, 4, 4)), mask=np.ones((1, 1, 4, 4)))
    with pytest.raises(nnxp.ConfigError, match="no activation"):
        sequential.output_error((MaxPool2D(),), ((),), LogLikelihoodCost, np.zeros(1))


def test_the_package_docstring_example_runs():
    import doctest

    import nnxp.layers
    result = doctest.testmod(nnxp.layers)
    assert result.attempted > 0 and result.failed == 0


def test_backward_computes_no_input_gradient_below_the_first_parameters():
    """Reshape then Dense: the Dense layer is the first with parameters, so it is asked for
    no input gradient and the Reshape is not visited (its grads are ())."""
    from nnxp.layers import Reshape

    class Spy(Dense):
        def backward_z(self, params, cache, delta_z, *, need_input_grad=True):
            asked.append(need_input_grad)
            return super().backward_z(params, cache, delta_z, need_input_grad=need_input_grad)

    asked = []
    layers = (Reshape((6,), ndim=2), Spy(4), Spy(3))
    params = sequential.init(layers, np.random.default_rng(0), (2, 3))
    _, caches = sequential.forward(layers, params, np.ones((5, 2, 3)))
    grads = sequential.backward(layers, params, caches, np.ones((5, 3)))
    assert asked == [True, False] and grads[0] == ()


def test_numpy_integers_are_accepted_and_stored_as_ints():
    from nnxp.layers import ConvPool
    layer = ConvPool(np.int64(4), (np.int32(5), 5), pool=np.int64(2))
    assert layer.n_filters == 4 and type(layer.n_filters) is int
    assert layer.filter_size == (5, 5) and layer.pool == (2, 2)
    assert Dense(np.int64(3)).output_shape((np.int64(7),)) == (3,)
    with pytest.raises(nnxp.ConfigError, match="n_filters must be a positive int"):
        ConvPool(2.5, 5)
    with pytest.raises(nnxp.ConfigError, match="Dense takes examples of shape"):
        Dense(3).output_shape(("7",))


@pytest.mark.parametrize("value", ["0.5", b"0.5", True, False])
def test_p_dropout_refuses_text_and_bools(value):
    """A string is not converted and a bool is not a probability (False was taken as 0)."""
    for layer in (Dense, Softmax):
        with pytest.raises(nnxp.ConfigError, match=r"p_dropout must be a number in \[0, 1\)"):
            layer(3, p_dropout=value)


@pytest.mark.parametrize("make", [
    lambda v: Dense(3, weight_init=v), lambda v: Softmax(3, bias_init=v),
    lambda v: Conv2D(2, 2, bias_init=v), lambda v: ConvPool(2, 2, weight_init=v)])
@pytest.mark.parametrize("value", ["normal", 3, [0.0]])
def test_an_initializer_that_is_not_a_function_is_refused_when_the_layer_is_made(make, value):
    with pytest.raises(nnxp.InputTypeError, match=r"_init must be a function \(rng, shape\)"):
        make(value)


@pytest.mark.parametrize("make", [
    lambda v: Dense(3, weight_init=v), lambda v: Softmax(3, bias_init=v),
    lambda v: Conv2D(2, 2, bias_init=v), lambda v: ConvPool(2, 2, weight_init=v)])
@pytest.mark.parametrize("value", [lambda shape: 0.0, lambda rng, shape, scale: 0.0,
                                   lambda *, rng, shape: 0.0])
def test_an_initializer_of_another_signature_is_refused_when_the_layer_is_made(make, value):
    """It was called as init(rng, shape) only when the network was built: a bare TypeError
    ("takes 1 positional argument but 2 were given") from inside nnxp."""
    with pytest.raises(nnxp.InputTypeError, match=r"_init: each is called as "
                                                  r"(weight|bias)_init\(rng, shape\)"):
        make(value)


def test_none_is_an_initializer_only_where_it_is_the_default():
    assert ConvPool(2, 2, weight_init=None).weight_init is None   # network3's default rule
    with pytest.raises(nnxp.InputTypeError, match="Dense's weight_init must be a function"):
        Dense(3, weight_init=None)


@pytest.mark.parametrize("drawn", ["abc", [[1.0, "x"]], object(), np.ones((2, 3)) + 1j])
def test_an_initializer_returning_no_numbers_is_a_config_error(drawn):
    with pytest.raises(nnxp.ConfigError, match="weight initializer must return an array of "
                                               "real numbers of shape"):
        Dense(2, weight_init=lambda rng, s: drawn).init(np.random.default_rng(), (3,))


def test_an_unordered_shape_and_an_incomplete_layer_are_refused_when_given():
    """Reshape of a set or dict (was: built with the set's own order, (10, 3, 12) for
    {3, 10, 12}; a dict's keys); the base class Layer, or a subclass without backward, in a
    network (was: a bare AttributeError, or one at SGD after predicting)."""
    from nnxp import layers as L
    for shape in ({3, 10, 12}, {1: 0, 28: 0}):
        with pytest.raises(nnxp.ConfigError, match="Reshape's shape must be a tuple"):
            L.Reshape(shape)
    assert L.Reshape([1, 28, 28]).shape == (1, 28, 28)
    for make in (nnxp.Network, lambda e, **kw: nnxp.Population(e, seeds=[0], **kw)):
        with pytest.raises(nnxp.ConfigError, match="Layer is not a complete layer"):
            make([81, L.Layer(), L.Softmax(4)], cost=nnxp.LogLikelihoodCost)
