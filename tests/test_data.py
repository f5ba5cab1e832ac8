"""Data (nnxp/data.py): bad training data meets one clear DataError / InputTypeError at the boundary, on the host and on the device; values checked in the compute dtype; a Dataset prepared for another network is refused."""

import numpy as np
import pytest

import nnxp

X = np.random.default_rng(0).random((20, 4))
Y = np.arange(20) % 3


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
    ((X.astype(str), Y), "X must hold real numbers, got dtype <U"),
    ((X[0], Y), r"X must have shape \(n, 4\)"),
    ((X, Y, Y), "must be a pair"),
    (None, "is None"),
    ("abc", "must be a pair"),
    (([[1, 2, 3, 4], [1, 2]], [0, 1]), "X must be an array or nested lists of one shape"),
    (([[1, 2, 3, 4]] * 2, [[0, 1, 0], [1]]), "y must be an array or nested lists of one shape"),
    ([(X[0], 0, 1), (X[1], 1, 2)], "item 0 is a tuple of 3 values"),
    ([(X[0], 0), (X[1],)], "item 1 is a tuple of 1 values"),
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


def test_feedforward_refuses_another_librarys_arrays():
    torch = pytest.importorskip("torch")
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([4, 5, 3], seed=0)
        with pytest.raises(nnxp.InputTypeError, match="torch.Tensor.*computes with numpy"):
            net.feedforward(torch.ones(2, 4))


def test_values_are_checked_in_the_compute_dtype(backend):
    x = X.copy()
    x[3, 1] = 1e39  # finite in float64, inf in float32
    with pytest.raises(nnxp.DataError, match=r"NaN or infinite values \(in float32"):
        nnxp.Network([4, 5, 3]).SGD((x, Y), 1, 5, 0.1)
    net = nnxp.Network([4, 5, 3], dtype="float64")
    assert net.accuracy((x, Y)) >= 0  # fine in float64


def test_huge_labels_are_reported_as_given(backend):
    with pytest.raises(nnxp.DataError, match=r"got labels from 0 to 1e\+20"):
        nnxp.Network([4, 5, 3]).SGD((X, np.where(Y == 2, 1e20, Y)), 1, 5, 0.1)


def test_a_dataset_prepared_for_another_network_is_refused(backend):
    data = nnxp.Network([4, 5, 3]).prepare((X, Y))
    with pytest.raises(nnxp.DataError, match="this Dataset is .*float32.*float64"):
        nnxp.Network([4, 5, 3], dtype="float64").SGD(data, 1, 5, 0.1)
    with pytest.raises(nnxp.DataError, match=r"the network needs \(20, 4\) and \(20, 2\)"):
        nnxp.Network([4, 5, 2]).SGD(data, 1, 5, 0.1)
    assert nnxp.Network([4, 6, 3]).SGD(data, 1, 5, 0.1).records  # same shapes: fine
