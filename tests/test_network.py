"""nnxp's SGD against network2's algorithm (a per-example loop written from the book)."""

import numpy as np
import pytest

import nnxp
from conftest import optional, params_numpy, to_numpy
from reference import network2_sgd


@pytest.mark.parametrize("n,m", [(200, 10), (205, 10), (64, 64), (30, 7)])
def test_one_epoch_matches_network2_loop(backend, n, m):
    rng = np.random.default_rng(n + m)
    x, labels = rng.random((n, 8)), rng.integers(0, 3, n)
    y = np.eye(3)[labels]
    net = nnxp.Network([8, 6, 5, 3], seed=11, dtype="float64")
    p0 = params_numpy(net)
    net.SGD((x, labels), 1, m, 0.8, lmbda=3.0, shuffle=False)
    order = np.arange(n)
    w, b = network2_sgd(p0[0::2], p0[1::2], x, y, order, m, 0.8, 3.0, n)
    got = params_numpy(net)
    for g, e in zip(got, [a for pair in zip(w, b) for a in pair]):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-13)


def test_shuffle_seed_is_a_host_permutation(backend):
    """shuffle=<int> visits examples in numpy.random.default_rng(int).permutation(n) order."""
    rng = np.random.default_rng(0)
    n = 50
    x, labels = rng.random((n, 5)), rng.integers(0, 2, n)
    a = nnxp.Network([5, 4, 2], seed=1, dtype="float64")
    a.SGD((x, labels), 1, 5, 0.5, shuffle=123)
    order = np.random.default_rng(123).permutation(n)
    b = nnxp.Network([5, 4, 2], seed=1, dtype="float64")
    b.SGD((x[order], labels[order]), 1, 5, 0.5, shuffle=False)
    for p, q in zip(params_numpy(a), params_numpy(b)):
        # gathered vs. sliced mini-batches: a library may pick another kernel (1 ulp)
        np.testing.assert_allclose(p, q, rtol=1e-14, atol=1e-15)


def test_network2_list_format_trains_like_arrays(backend):
    """network2's list of (x column, one-hot column) pairs gives the same net as (X, y)."""
    rng = np.random.default_rng(1)
    x, labels = rng.random((40, 6)), rng.integers(0, 3, 40)
    pairs = [(xi.reshape(-1, 1), np.eye(3)[k].reshape(-1, 1)) for xi, k in zip(x, labels)]
    eval_pairs = [(xi.reshape(-1, 1), int(k)) for xi, k in zip(x, labels)]
    a = nnxp.Network([6, 5, 3], seed=2, dtype="float64")
    ha = a.SGD(pairs, 2, 4, 0.5, lmbda=1.0, evaluation_data=eval_pairs,
               monitor_evaluation_accuracy=True, shuffle=9)
    b = nnxp.Network([6, 5, 3], seed=2, dtype="float64")
    hb = b.SGD((x, labels), 2, 4, 0.5, lmbda=1.0, evaluation_data=(x, labels),
               monitor_evaluation_accuracy=True, shuffle=9)
    assert ha.evaluation_accuracy == hb.evaluation_accuracy
    for p, q in zip(params_numpy(a), params_numpy(b)):
        np.testing.assert_array_equal(p, q)
    out = a.feedforward(pairs[0][0])          # network2's column-vector call
    assert tuple(out.shape) == (3, 1)


def test_total_cost_and_accuracy_match_network2_definitions(backend):
    rng = np.random.default_rng(4)
    x, labels = rng.random((30, 6)), rng.integers(0, 3, 30)
    net = nnxp.Network([6, 4, 3], seed=5, dtype="float64")
    p = params_numpy(net)
    a = x
    for w, b in zip(p[0::2], p[1::2]):
        a = 1 / (1 + np.exp(-(a @ w.T + b)))
    y = np.eye(3)[labels]
    ce = -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / 30
    l2 = 0.5 * (2.0 / 30) * sum(np.sum(w ** 2) for w in p[0::2])
    assert net.total_cost((x, labels), 2.0) == pytest.approx(ce + l2, rel=1e-12)
    assert net.accuracy((x, labels)) == int(np.sum(np.argmax(a, axis=1) == labels))
    assert net.accuracy((x, y), convert=True) == net.accuracy((x, labels))


# -- network2 code keeps working: what it assigns takes effect, what it passes is accepted ----

def _xy(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 5)), rng.integers(0, 3, n)


def test_assigning_the_cost_changes_the_next_sgd(backend):
    x, y = _xy()
    quadratic = nnxp.Network([5, 4, 3], cost=nnxp.QuadraticCost, seed=0, dtype="float64")
    switched = nnxp.Network([5, 4, 3], cost=nnxp.QuadraticCost, seed=0, dtype="float64")
    quadratic.SGD((x, y), 1, 10, 0.5, shuffle=False)
    switched.SGD((x, y), 1, 10, 0.5, shuffle=False)
    switched.cost = nnxp.CrossEntropyCost()  # an instance, as network2 scripts write it
    quadratic.SGD((x, y), 1, 10, 0.5, shuffle=False)
    switched.SGD((x, y), 1, 10, 0.5, shuffle=False)
    assert switched.cost is nnxp.CrossEntropyCost
    assert not np.allclose(params_numpy(switched)[0], params_numpy(quadratic)[0])
    with pytest.raises(nnxp.ConfigError, match="LogLikelihoodCost needs a Softmax output"):
        switched.cost = nnxp.LogLikelihoodCost


def test_assigning_weights_and_biases(backend):
    net = nnxp.Network([5, 4, 3], seed=0, dtype="float64")
    new_w = [np.full((4, 5), 0.5), np.full((3, 4), -0.25)]
    net.weights = new_w
    net.biases = [np.zeros((4, 1)), np.ones(3)]  # network2's (n, 1) columns, or (n,)
    got = params_numpy(net)
    np.testing.assert_array_equal(got[0], new_w[0])
    np.testing.assert_array_equal(got[1], np.zeros(4))
    np.testing.assert_array_equal(got[3], np.ones(3))
    out = to_numpy(net.feedforward(np.zeros((1, 5))))
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    # hidden: sigmoid(0) = 0.5 per unit; output: sigmoid(-0.25 * 4 * 0.5 + 1) = sigmoid(0.5)
    np.testing.assert_allclose(out, np.full((1, 3), sigmoid(0.5)))
    with pytest.raises(nnxp.DataError, match=r"net.weights\[1\] must be numbers of shape"):
        net.weights = [np.ones((4, 5)), np.ones((4, 3))]
    with pytest.raises(nnxp.DataError, match="must be a list of 2 arrays"):
        net.biases = [np.ones(4)]
    with pytest.raises(nnxp.DataError, match="NaN or infinite"):
        net.weights = [np.full((4, 5), np.nan), np.ones((3, 4))]


def test_optimizer_objects_and_early_stopping_n(backend):
    x, y = _xy()
    a = nnxp.Network([5, 4, 3], seed=0, dtype="float64")
    a.SGD((x, y), 2, 10, 0.5, optimizer=nnxp.momentum(0.9), shuffle=1)
    b = nnxp.Network([5, 4, 3], seed=0, dtype="float64")
    b.SGD((x, y), 2, 10, 0.5, momentum=0.9, shuffle=1)
    for p, q in zip(params_numpy(a), params_numpy(b)):
        np.testing.assert_array_equal(p, q)
    h = nnxp.Network([5, 4, 3], seed=0).SGD((x, y), 30, 10, 1e-9, evaluation_data=(x, y),
                                            monitor_evaluation_accuracy=True,
                                            early_stopping_n=2)
    assert len(h.records) == 3 and "no improvement" in h.stop_reason


def test_a_network_keeps_the_backend_it_was_given():
    optional("array_api_strict")
    net = nnxp.Network([3, 2], backend="array_api_strict")
    assert net.backend.name == "array_api_strict" and nnxp.get_backend() == "numpy"
    with pytest.raises(nnxp.BackendError, match="unknown backend"):
        nnxp.Network([3, 2], backend="fortran")


def test_a_population_pickles_onto_its_backend(backend):
    import pickle
    x, y = _xy()
    pop = nnxp.Population([5, 4, 3], seeds=[0, 1, 2])
    pop.SGD((x, y), 1, 10, [0.5, 1.0, 2.0], shuffle=3)
    back = pickle.loads(pickle.dumps(pop))   # a TypeError (a module in it) before
    assert back.backend.name == backend.name and back.dtype == pop.dtype
    assert back.seeds == pop.seeds and len(back.histories) == 3
    for a, b in zip(params_numpy(back), params_numpy(pop)):
        np.testing.assert_array_equal(a, b)
    pop.SGD((x, y), 1, 10, 0.5)
    back.SGD((x, y), 1, 10, 0.5)
    for a, b in zip(params_numpy(back), params_numpy(pop)):
        np.testing.assert_array_equal(a, b)


def test_a_network_pickles_onto_its_backend(backend):
    import pickle
    x, y = _xy()
    net = nnxp.Network([5, 4, 3], seed=0)
    net.SGD((x, y), 1, 10, 0.5, shuffle=3)
    back = pickle.loads(pickle.dumps(net))
    assert back.backend.name == backend.name and back.dtype == net.dtype
    for a, b in zip(params_numpy(back), params_numpy(net)):
        np.testing.assert_array_equal(a, b)
    net.SGD((x, y), 1, 10, 0.5)
    back.SGD((x, y), 1, 10, 0.5)  # the shuffling stream travelled too
    for a, b in zip(params_numpy(back), params_numpy(net)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kw,match", [
    (dict(early_stopping_n=3, early_stopping=5), "early_stopping_n=3 and early_stopping=5 "
                                                 "name the same option"),
    (dict(early_stopping_n=""), "early_stopping_n must be an integer, got ''"),
    (dict(early_stopping_n=False), "early_stopping_n must be an integer, got False"),
    (dict(early_stopping_n=[]), "early_stopping_n must be an integer, got"),
    (dict(early_stopping_n=-1), "early_stopping_n must be > 0, got -1"),
])
def test_early_stopping_n_is_checked_not_read_as_a_truth_value(backend, kw, match):
    """early_stopping_n beside a different early_stopping was dropped without a word, and
    "", False or [] were read as off (a string as a truth value)."""
    x, y = _xy()
    with pytest.raises(nnxp.ConfigError, match=match):
        nnxp.Network([5, 4, 3], seed=0).SGD((x, y), 2, 10, 0.5, evaluation_data=(x, y), **kw)


@pytest.mark.parametrize("kw", [dict(early_stopping_n=0), dict(early_stopping_n=None),
                                dict(early_stopping_n=2, early_stopping=2)])
def test_early_stopping_n_zero_is_off_as_in_network2_ports(backend, kw):
    x, y = _xy()
    h = nnxp.Network([5, 4, 3], seed=0).SGD((x, y), 2, 10, 0.5, evaluation_data=(x, y), **kw)
    assert len(h.records) == 2


def test_params_of_host_arrays_go_to_the_networks_device(backend):
    """net.params set to NumPy arrays on PyTorch or array-api-strict: taken, then the next
    feedforward or SGD failed with a bare TypeError (torch's swapaxes) or AttributeError (the
    fifth sweep); now moved to the network's device, as the weights setter does."""
    net = nnxp.Network([3, 2], seed=0, dtype="float64")
    host = tuple((np.asarray(to_numpy(w)), np.asarray(to_numpy(b))) for w, b in net.params)
    before = to_numpy(net.feedforward(np.ones((2, 3))))
    net.params = host
    np.testing.assert_array_equal(to_numpy(net.feedforward(np.ones((2, 3)))), before)
    net.SGD((np.ones((4, 3)), np.array([0, 1, 0, 1])), 1, 2, 0.1)
    assert all(net.backend.owns(a) for layer in net.params for a in layer)
