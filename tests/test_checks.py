"""Argument checks (nnxp/checks.py, used by Network, SGD, Population, load): one clear error, a ValueError (or also a TypeError), saying what was expected and what was given."""

import numpy as np
import pytest

import nnxp
from nnxp import checks

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
    (dict(dtype=None), "dtype must be 'float32' or 'float64', got None"),
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
    ((1, 5, 0.5), dict(optimizer="adagrad"), "unknown optimizer 'adagrad'"),
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
    with pytest.raises(nnxp.DataError, match=r"x must have shape \(n, 4\), \(4,\) or \(4, 1\), "
                                             r"or be n images of 4 values; got \(2, 3\)"):
        net.feedforward(np.ones((2, 3)))
    assert tuple(net.feedforward(np.ones(4)).shape) == (3,)
    assert tuple(net.feedforward(np.ones((7, 4))).shape) == (7, 3)


def test_errors_are_value_errors():
    assert issubclass(nnxp.NNXPError, ValueError)
    for cls in (nnxp.BackendError, nnxp.DataError, nnxp.ConfigError, nnxp.InputTypeError):
        assert issubclass(cls, nnxp.NNXPError)


@pytest.mark.parametrize("sizes", [{784, 30, 10}, frozenset([3, 2]), {"a": 1, "b": 2}])
def test_unordered_sizes_are_refused(sizes):
    with pytest.raises(nnxp.ConfigError, match="an ordered sequence"):
        nnxp.Network(sizes)


def test_errors_never_embed_a_data_set():
    """network.py's SGD(training_data, 30, 10, 3.0, test_data) given to network2's signature
    puts test_data where lmbda goes: the message names the mistake, not 10,000 arrays."""
    test_data = [(np.zeros((784, 1)), 7)] * 10000
    net = nnxp.Network([784, 30, 10])
    with pytest.raises(nnxp.ConfigError) as info:
        net.SGD((np.zeros((20, 784)), np.zeros(20, int)), 1, 10, 3.0, test_data)
    assert "lmbda (SGD's fifth argument) must be a number, got data (a list of 10000 items)" \
        in str(info.value) and "nnxp.compat.network" in str(info.value)
    assert len(str(info.value)) < 400
    with pytest.raises(nnxp.ConfigError) as info:
        net.SGD((np.zeros((20, 784)), np.zeros(20, int)), 1, 10, 3.0, test_data=test_data)
    assert "unknown keyword arguments ['test_data']" in str(info.value)
    assert len(str(info.value)) < 500


def test_show_caps_what_it_shows():
    from nnxp.checks import show
    assert show(np.zeros((5000, 784))) == "a ndarray of shape (5000, 784)"
    assert len(show("x" * 10000)) < 220
    assert show([1, 2]) == "[1, 2]"


def test_clip_caps_another_errors_message_and_says_its_length():
    from nnxp.checks import LIMIT, clip
    assert clip(ValueError("short")) == "short"
    long = clip("y" * 10000)
    assert len(long) <= LIMIT and long.endswith("(10000 chars)")


@pytest.mark.parametrize("call", [
    lambda: nnxp.use_backend("b" * 10000).__enter__(),
    lambda: nnxp.register_optimizer("o-" * 5000, lambda: None),
    lambda: nnxp.Network([4, 3], dtype="d" * 10000),
])
def test_long_values_are_capped_in_every_module(call):
    with pytest.raises(nnxp.NNXPError) as info:
        call()
    assert len(str(info.value)) < 500 and "(10002 chars)" in str(info.value)  # repr: 2 quotes


def test_nbytes_is_the_one_size_in_messages():
    from nnxp.checks import nbytes
    assert nbytes(999_999) == "999,999 bytes" and nbytes(5 * 2 ** 20) == "5.0 MiB"
    assert nbytes(3 * 2 ** 30) == "3.0 GiB" and nbytes(2 ** 41) == "2.0 TiB"


def test_a_flag_takes_an_array_librarys_boolean_scalar():
    # np.True_ (what a comparison of NumPy values gives) was "must be True or False, got np.True_"
    assert checks.flag("monitor", np.True_) is True and checks.flag("monitor", np.False_) is False
    assert checks.flag("monitor", np.array(True)) is True
    for bad in (np.array([True]), np.float32(0.5), "yes", None):
        with pytest.raises(nnxp.ConfigError, match="must be True or False"):
            checks.flag("monitor", bad)
    x = np.random.default_rng(0).random((20, 4)).astype("float32")
    h = nnxp.Network([4, 3, 2], seed=0).SGD((x, np.arange(20) % 2), 1, 5, 0.5,
                                             evaluation_data=(x, np.arange(20) % 2),
                                             monitor_evaluation_accuracy=np.True_)
    assert len(h.evaluation_accuracy) == 1


def test_huge_integers_are_config_errors_and_seeds_are_what_files_read_back():
    """10**400 for a float hyper-parameter (was OverflowError from math.isfinite), its value
    capped in the message; a seed of more than 200 digits (was accepted, and saved into files
    nnxp.load refused; 10**5000 a bare ValueError from the int-to-str limit)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 6)), rng.integers(0, 3, 60)
    with pytest.raises(nnxp.ConfigError, match="eta must be a finite number") as info:
        nnxp.Network([6, 5, 3], seed=0).SGD((x, y), 1, 10, eta=10 ** 400)
    assert len(str(info.value)) < 300
    with pytest.raises(nnxp.ConfigError, match=r"eta\[1\] must be a finite number"):
        nnxp.Population([6, 5, 3], seeds=[0, 1]).SGD((x, y), 1, 10, eta=[0.5, 10 ** 400])
    for seed in (10 ** 200, 10 ** 5000):
        with pytest.raises(nnxp.ConfigError, match="at most 200 digits"):
            nnxp.Network([6, 5, 3], seed=seed)
    assert nnxp.Network([6, 5, 3], seed=10 ** 200 - 1).seed == 10 ** 200 - 1


def test_flags_and_choices_given_as_numpy_values():
    """nesterov=np.True_ is a flag as any other (was a ConfigError); on_divergence given as
    an array (was a bare 'truth value is ambiguous' ValueError, or with one element accepted
    and a checkpoint that could not be written)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 6)), rng.integers(0, 3, 60)
    h = nnxp.Network([6, 5, 3], seed=0).SGD((x, y), 1, 10, 0.5, momentum=0.5, nesterov=np.True_)
    assert len(h.records) == 1
    for value in (np.array(["stop", "continue"]), np.array(["stop"])):
        with pytest.raises(nnxp.ConfigError, match="on_divergence must be 'stop' or"):
            nnxp.Network([6, 5, 3], seed=0).SGD((x, y), 1, 10, 0.5, on_divergence=value)
    assert checks.show(10 ** 5000) == "an int of about 5001 digits"
