"""Bad input meets one clear error at the public boundary: nnxp.NNXPError (a ValueError, or
also a TypeError for wrong types), whose message says what was expected and what was given."""

import numpy as np
import pytest

import nnxp

X = np.random.default_rng(0).random((20, 4))
Y = np.arange(20) % 3


@pytest.mark.parametrize("sizes,match", [
    ([4], "at least two"), ([], "at least two"), ([4, 0, 3], r"positive integer"),
    ([4, 2.5, 3], "positive integer"), ([4, -1], "positive integer"), (None, "list of layer"),
    ([4, True, 3], "positive integer"),
])
def test_bad_sizes(backend, sizes, match):
    with pytest.raises(nnxp.ConfigError, match=match):
        nnxp.Network(sizes)


@pytest.mark.parametrize("kwargs,match", [
    (dict(cost="hinge"), "unknown cost 'hinge'; known: QuadraticCost"),
    (dict(activation="swish"), "unknown activation 'swish'"),
    (dict(activation=42), "activation must be one of"),
    (dict(cost=nnxp.LogLikelihoodCost, output_activation=nnxp.Sigmoid), "needs a Softmax"),
    (dict(cost=nnxp.CrossEntropyCost, output_activation=nnxp.ReLU), "needs a Sigmoid"),
    (dict(dtype="float16"), "dtype must be 'float32' or 'float64', got 'float16'"),
    (dict(seed=-1), "seed must be a non-negative integer"),
    (dict(seed="abc"), "seed must be"),
    (dict(activation=[nnxp.ReLU] * 5), r"one activation per hidden layer \(1\)"),
    (dict(weight_init="big"), "weight_init must be a function"),
])
def test_bad_network_arguments(backend, kwargs, match):
    with pytest.raises(nnxp.ConfigError, match=match):
        nnxp.Network([4, 5, 3], **kwargs)


def test_leaky_relu_slope_checked():
    with pytest.raises(nnxp.ConfigError, match=r"slope must be in \[0, 1\), got 2.0"):
        nnxp.LeakyReLU(2)


@pytest.mark.parametrize("data,match", [
    ((X[:, :3], Y), r"X has 3 features per example .* input layer has 4 units"),
    ((X, Y[:10]), "X has 20 examples but y has 10"),
    ((X[:0], Y[:0]), "is empty"),
    ([], "is empty"),
    ((X, Y + 3), r"labels must lie in \[0, 3\) .* got labels from 3 to 5"),
    ((X, Y - 1), r"got labels from -1 to 1"),
    ((X, Y + 0.5), "must hold integer class labels"),
    ((X, np.ones((20, 4))), r"y must be labels \(n,\) or desired outputs \(n, 3\)"),
    ((np.where(X > 0.5, np.nan, X), Y), "X contains NaN or infinite values"),
    ((np.where(X > 0.5, np.inf, X), Y), "NaN or infinite"),
    ((X, np.full((20, 3), np.nan)), "y contains NaN"),
    ((X.astype(str), Y), "X must hold numbers"),
    ((X[0], Y), r"X must have shape \(n, 4\)"),
    ((X, Y, Y), "must be a pair"),
    (None, "is None"),
    ("abc", "must be a pair"),
])
def test_bad_training_data(backend, data, match):
    net = nnxp.Network([4, 5, 3], seed=0)
    with pytest.raises(nnxp.NNXPError, match=match):
        net.SGD(data, 1, 5, 0.5)


def test_bad_data_on_the_device(backend):
    """The same checks when the data already are arrays of the network's backend."""
    net = nnxp.Network([4, 5, 3], seed=0)
    xd = backend.asarray(np.where(X > 0.5, np.nan, X), "float32")
    with pytest.raises(nnxp.DataError, match="NaN or infinite"):
        net.SGD((xd, backend.asarray(Y, "index")), 1, 5, 0.5)
    with pytest.raises(nnxp.DataError, match=r"labels must lie in \[0, 3\)"):
        net.SGD((backend.asarray(X, "float32"), backend.asarray(Y + 1, "index")), 1, 5, 0.5)
    with pytest.raises(nnxp.DataError, match="X has 3 features"):
        net.SGD((backend.asarray(X[:, :3], "float32"), backend.asarray(Y, "index")), 1, 5, 0.5)


def test_foreign_arrays_are_refused_with_a_clear_message():
    torch = pytest.importorskip("torch")
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([4, 5, 3], seed=0)
        with pytest.raises(nnxp.InputTypeError, match="torch.Tensor.*computes with numpy"):
            net.SGD((torch.tensor(X), torch.tensor(Y)), 1, 5, 0.5)
        with pytest.raises(TypeError):  # InputTypeError is also a TypeError
            net.SGD((torch.tensor(X), torch.tensor(Y)), 1, 5, 0.5)


@pytest.mark.parametrize("args,kwargs,match", [
    ((1, 0, 0.5), {}, "mini_batch_size must be > 0, got 0"),
    ((1, -5, 0.5), {}, "mini_batch_size must be > 0"),
    ((1, 2.5, 0.5), {}, "mini_batch_size must be an integer, got 2.5"),
    ((1, 5, 0.0), {}, "eta must be > 0, got 0.0"),
    ((1, 5, -1.0), {}, "eta must be > 0"),
    ((1, 5, float("nan")), {}, "eta must be a finite number, got nan"),
    ((-1, 5, 0.5), {}, "epochs must be >= 0, got -1"),
    ((1, 5, 0.5), dict(lmbda=-1.0), "lmbda must be >= 0, got -1.0"),
    ((1, 5, 0.5), dict(l1=-0.1), "l1 must be >= 0"),
    ((1, 5, 0.5), dict(momentum=1.0), r"momentum must be in \[0, 1\)"),
    ((1, 5, 0.5), dict(optimizer="adam"), "unknown optimizer 'adam'"),
    ((1, 5, 0.5), dict(engine="turbo"), r"engine .turbo. does not run on the \w+ backend"),
    ((1, 5, 0.5), dict(shuffle="yes"), "shuffle must be True, False or a non-negative integer seed, got .yes."),
    ((1, 5, 0.5), dict(monitor_evaluation_accuracy=True), "need evaluation_data"),
])
def test_bad_hyper_parameters(backend, args, kwargs, match):
    net = nnxp.Network([4, 5, 3], seed=0)
    with pytest.raises(nnxp.ConfigError, match=match):
        net.SGD((X, Y), *args, **kwargs)


def test_feedforward_shape_errors(backend):
    net = nnxp.Network([4, 5, 3], seed=0)
    with pytest.raises(nnxp.DataError, match=r"x must have shape \(n, 4\), \(4,\) or \(4, 1\); "
                                             r"got \(2, 3\)"):
        net.feedforward(np.ones((2, 3)))
    assert tuple(net.feedforward(np.ones(4)).shape) == (3,)
    assert tuple(net.feedforward(np.ones((7, 4))).shape) == (7, 3)


def test_errors_are_value_errors():
    assert issubclass(nnxp.NNXPError, ValueError)
    for cls in (nnxp.BackendError, nnxp.DataError, nnxp.ConfigError, nnxp.InputTypeError):
        assert issubclass(cls, nnxp.NNXPError)


def test_feedforward_refuses_another_librarys_arrays():
    torch = pytest.importorskip("torch")
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([4, 5, 3], seed=0)
        with pytest.raises(nnxp.InputTypeError, match="torch.Tensor.*computes with numpy"):
            net.feedforward(torch.ones(2, 4))
