"""Prediction and evaluation on values that are not finite: ``Network.predict``, ``accuracy``
/ ``evaluate``, ``Population.vote`` / ``accuracy`` and ``NNXPClassifier.predict`` / ``score``
refuse NaN or infinite inputs (in the compute dtype) with a DataError naming the first one,
instead of answering class 0 (argmax of NaN); ``feedforward`` keeps NaN in, NaN out."""

import numpy as np
import pytest

import nnxp
from conftest import optional, to_numpy

RNG = np.random.default_rng(0)
X, Y = RNG.random((20, 4)), RNG.integers(0, 3, 20)
BAD = [np.nan, np.inf, -np.inf, 1e39]  # 1e39: finite in float64, infinite in float32


def _with(bad, row=3, column=2, x=X):
    x = x.copy()
    x[row, column] = bad
    return x


@pytest.mark.parametrize("bad", BAD)
def test_predict_refuses_values_that_are_not_finite(backend, bad):
    net = nnxp.Network([4, 5, 3], seed=0)
    x = _with(bad)
    with pytest.raises(nnxp.DataError, match=r"predict: x contains NaN or infinite values "
                       r"\(in float32.*1 of its 80 values; the first is example 3, feature 2"):
        net.predict(x)
    for one in (x[3], x[3][:, None]):   # one example, network2's column
        with pytest.raises(nnxp.DataError, match="the first is example 0, feature 2"):
            net.predict(one)


def test_predict_refuses_device_arrays_that_are_not_finite(backend):
    net = nnxp.Network([4, 5, 3], seed=0)
    x = _with(np.nan, 7, 1)
    x[9, 0] = np.inf
    with pytest.raises(nnxp.DataError, match="2 of its 80 values; the first is example 7, "
                       "feature 1: nan"):
        net.predict(backend.asarray(x, "float32"))


def test_predict_of_one_example_or_a_column_is_its_rows_class(backend):
    """(n_in,) and network2's column (n_in, 1) give one class: that of the row (a column
    gave n_out zeros: argmax over its length-1 axis)."""
    net = nnxp.Network([4, 3], seed=1)
    net.weights = [10 * np.eye(3, 4)]   # class: the largest of the first three features
    net.biases = [np.zeros(3)]
    rows = to_numpy(net.predict(X))
    np.testing.assert_array_equal(rows, np.argmax(X[:, :3], axis=1))
    for i in range(len(X)):
        assert int(to_numpy(net.predict(X[i]))) == rows[i]
        assert int(to_numpy(net.predict(X[i][:, None]))) == rows[i]


def test_feedforward_does_not_check_its_input(backend):
    """feedforward does not check (documented): NaN in, NaN out, in that row only; an
    infinite input may even give finite, saturated outputs (why predict checks x itself)."""
    net = nnxp.Network([4, 5, 3], seed=0)
    out = to_numpy(net.feedforward(_with(np.nan)))
    assert np.isnan(out[3]).all() and np.isfinite(np.delete(out, 3, axis=0)).all()
    assert np.isfinite(to_numpy(net.feedforward(_with(np.inf)))).all()


@pytest.mark.parametrize("bad", BAD)
def test_accuracy_names_the_first_value_that_is_not_finite(backend, bad):
    net = nnxp.Network([4, 5, 3], seed=0)
    for measure in (net.accuracy, net.evaluate, net.total_cost):
        with pytest.raises(nnxp.DataError, match=r"data: X contains NaN or infinite values "
                           r"\(in float32.*the first is example 3, feature 2"):
            measure((_with(bad), Y))


@pytest.mark.parametrize("bad", BAD)
def test_vote_refuses_values_that_are_not_finite(backend, bad):
    pop = nnxp.Population([4, 5, 3], seeds=[0, 1, 2])
    with pytest.raises(nnxp.DataError, match=r"vote: x contains NaN or infinite values "
                       r"\(in float32.*the first is example 3, feature 2"):
        pop.vote(_with(bad))
    with pytest.raises(nnxp.DataError, match="the first is example 3, feature 2"):
        pop.accuracy((_with(bad), Y))
    assert np.isnan(to_numpy(pop.feedforward(_with(np.nan)))[:, 3]).all()  # unchecked


def test_float64_networks_take_what_is_finite_in_float64(backend):
    x = _with(1e39)
    net = nnxp.Network([4, 5, 3], seed=0, dtype="float64")
    assert to_numpy(net.predict(x)).shape == (20,)
    pop = nnxp.Population([4, 5, 3], seeds=[0, 1], dtype="float64")
    assert pop.vote(x).shape == (20,)


def test_the_estimator_refuses_what_is_infinite_in_its_dtype():
    """scikit-learn's own check refuses NaN and inf in float64; 1e39 passes it, and became
    inf in the float32 network: class 0 for that row, without a word."""
    optional("sklearn")
    from nnxp.sklearn import NNXPClassifier
    clf = NNXPClassifier(hidden=(5,), epochs=2, random_state=0).fit(X, Y)
    x = _with(1e39)
    for call, name in ((clf.predict, "predict"), (clf.predict_proba, "predict_proba"),
                       (lambda x: clf.score(x, Y), "predict")):
        with pytest.raises(nnxp.DataError, match=rf"{name}: X contains NaN or infinite values "
                           r"\(in float32.*the first is example 3, feature 2: inf"):
            call(x)
    for bad in (np.nan, np.inf):
        with pytest.raises(nnxp.DataError, match="Input X contains"):
            clf.predict(_with(bad))
    clf64 = NNXPClassifier(hidden=(5,), epochs=2, random_state=0, dtype="float64").fit(X, Y)
    assert clf64.predict(x).shape == (20,)


# -- parameters that are not finite (a diverged run) -----------------------------------------

def _diverged(dtype="float32"):
    """A network trained past divergence on purpose (on_divergence="continue"): quadratic
    cost on linear units at eta 1e6 overflows in the first epoch (tests/test_reliability.py)."""
    net = nnxp.Network([4, 5, 3], cost=nnxp.QuadraticCost, activation=nnxp.Identity, seed=0,
                       dtype=dtype)
    history = net.SGD((X, Y), 3, 10, 1e6, shuffle=1, on_divergence="continue")
    assert history.stop_reason is None and len(history.records) == 3  # monitoring as before
    return net


def _with_parameter(net, value, layer=1):
    """``net`` with one weight of ``layer`` set to ``value`` (on its device)."""
    be = net.backend
    params = [[to_numpy(a).copy() for a in p] for p in net.params]
    params[layer][0][0, 0] = value
    net.params = tuple(tuple(be.asarray(a, net.dtype) for a in p) for p in params)
    return net


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow, on purpose
@pytest.mark.parametrize("make", ["diverged", "nan", "inf"])
def test_a_network_whose_parameters_are_not_finite_refuses_to_predict(backend, make):
    net = (_diverged() if make == "diverged" else
           _with_parameter(nnxp.Network([4, 5, 3], seed=0), float(make)))
    with pytest.raises(nnxp.DataError, match="predict: the network's parameters are not "
                       "finite .*layer .* hold NaN or infinite.*smaller eta"):
        net.predict(X)
    with pytest.raises(nnxp.DataError, match="predict: the network's parameters"):
        net.predict(X[0])
    for name in ("accuracy", "evaluate"):
        with pytest.raises(nnxp.DataError, match="accuracy: the network's parameters are not "
                           "finite"):
            getattr(net, name)((X, Y))
    with pytest.raises(nnxp.DataError, match="measure: the network's parameters"):
        net.measure((X, Y))
    assert not np.isfinite(net.total_cost((X, Y)))  # NaN or inf: visible as it is
    assert to_numpy(net.feedforward(X)).shape == (20, 3)  # unchecked (documented)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow, on purpose
def test_a_population_names_its_members_whose_parameters_are_not_finite(backend):
    pop = nnxp.Population([4, 5, 3], seeds=[0, 1, 2])
    params = [[to_numpy(a).copy() for a in p] for p in pop.params]
    params[0][0][1, 2, 3] = np.nan   # member 1, first layer
    params[1][1][2, 0] = np.inf      # member 2, output biases
    pop.params = tuple(tuple(backend.asarray(a, "float32") for a in p) for p in params)
    with pytest.raises(nnxp.DataError, match="accuracy: the parameters of members 1, 2 are "
                       "not finite.*pop\\[k\\] is member k alone"):
        pop.accuracy((X, Y))
    with pytest.raises(nnxp.DataError, match="vote: the parameters of members 1, 2 are not"):
        pop.vote(X)
    cost = pop.total_cost((X, Y))
    assert np.isfinite(cost[0]) and not np.isfinite(cost[1])
    assert 0 <= pop[0].accuracy((X, Y)) <= 20
    with pytest.raises(nnxp.DataError, match="predict: the network's parameters are not"):
        pop[1].predict(X)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow, on purpose
def test_a_population_trained_past_divergence_refuses_to_vote(backend):
    pop = nnxp.Population([4, 5, 3], seeds=[0, 1], cost=nnxp.QuadraticCost,
                          activation=nnxp.Identity)
    histories = pop.SGD((X, Y), 2, 10, [1e6, 1e-3], shuffle=1, on_divergence="continue")
    assert [len(h.records) for h in histories] == [2, 2]
    with pytest.raises(nnxp.DataError, match="vote: the parameters of member 0 are not"):
        pop.vote(X)


def test_the_estimator_refuses_parameters_that_are_not_finite():
    optional("sklearn")
    from nnxp.sklearn import NNXPClassifier
    clf = NNXPClassifier(hidden=(5,), epochs=2, random_state=0).fit(X, Y)
    _with_parameter(clf.network_, np.nan, layer=0)
    for call, name in ((clf.predict, "predict"), (clf.predict_proba, "predict_proba"),
                       (lambda x: clf.score(x, Y), "predict")):
        with pytest.raises(nnxp.DataError, match=f"{name}: the network's parameters are not"):
            call(X)


def test_the_books_modules_still_count_argmax_zero_for_a_diverged_network():
    """nnxp.compat keeps the book's behaviour: evaluate / accuracy of NaN weights count the
    examples of class 0 (argmax of NaN outputs), as network.py and network2.py do."""
    from nnxp.compat import network, network2
    data = [(x.reshape(4, 1), int(y)) for x, y in zip(X, Y)]
    for module, measure in ((network, "evaluate"), (network2, "accuracy")):
        net = module.Network([4, 5, 3])
        net.weights = [w * np.nan for w in net.weights]
        assert getattr(net, measure)(data) == int(np.sum(Y == 0))


def test_images_are_taken_as_rows_as_sgd_and_accuracy_take_them(backend):
    """predict, feedforward and vote refused (n, 1, 6, 6) with a DataError while SGD, accuracy
    and diagnose flattened it (nnxp.data): the two halves of the API now read it alike."""
    images = RNG.random((7, 1, 6, 6))
    rows = images.reshape(7, 36)
    net = nnxp.Network([36, nnxp.layers.Reshape((1, 6, 6)), nnxp.layers.ConvPool(2, (3, 3)),
                        nnxp.layers.Flatten(), nnxp.layers.Softmax(3)],
                       cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    for a, b in ((net.predict(images), net.predict(rows)),
                 (net.feedforward(images), net.feedforward(rows))):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    assert to_numpy(net.predict(images)).shape == (7,)
    assert net.accuracy((images, np.arange(7) % 3)) == net.accuracy((rows, np.arange(7) % 3))
    pop = nnxp.Population([36, 5, 3], seeds=[0, 1], dtype="float64")
    np.testing.assert_array_equal(pop.vote(images), pop.vote(rows))
    np.testing.assert_array_equal(to_numpy(pop.feedforward(backend.asarray(images))),
                                  to_numpy(pop.feedforward(rows)))
    for bad in (RNG.random((7, 5, 5)), RNG.random((7, 36, 2))):   # not 36 values an image
        with pytest.raises(nnxp.DataError, match="n images of 36 values"):
            net.predict(bad)
        with pytest.raises(nnxp.DataError, match="n images of 36 values"):
            pop.vote(bad)


def _saturated(dtype, zs):
    """A one-layer sigmoid network whose outputs for the input [1] have the weighted inputs
    ``zs``: far enough below 0 that every output rounds to 0 (or to steps of 6e-8 in float32)."""
    net = nnxp.Network([1, len(zs)], seed=0, dtype=dtype)
    net.weights = [np.array(zs, dtype=np.float64)[:, None]]
    net.biases = [np.zeros(len(zs))]
    return net


@pytest.mark.parametrize("dtype, zs", [("float64", [-50.0, -40.0, -45.0]),
                                       ("float32", [-20.0, -18.0, -19.0])])
def test_saturated_outputs_are_classed_by_their_weighted_inputs(backend, dtype, zs):
    """Sigmoid outputs of z = -50, -40, -45 all round to 0 (the tanh form); their argmax
    answered class 0 where the exact sigmoid's largest output is class 1 (the fifth sweep,
    against torch.sigmoid: 772 of 2,000 where the exact count was 791 in the book's
    chapter-3 example).  predict, accuracy, a population's vote and the estimator agree."""
    x = np.array([[1.0]])
    net = _saturated(dtype, zs)
    assert len(set(to_numpy(net.feedforward(x))[0].tolist())) < 3  # tied, as rounded
    assert to_numpy(net.predict(x)).tolist() == [1]
    assert net.accuracy((x, np.array([1]))) == 1
    pop = nnxp.Population([1, 3], seeds=[0, 1], dtype=dtype)
    w = np.stack([np.array(zs)[:, None]] * 2)
    pop.params = ((backend.asarray(w, dtype), backend.asarray(np.zeros((2, 3)), dtype)),)
    assert pop.vote(x).tolist() == [1]
    assert list(pop.accuracy((x, np.array([1])))) == [1, 1]
