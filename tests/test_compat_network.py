"""nnxp.compat.network (chapter 1) against network.py's SGD written out per example
(tests/reference.py, quadratic cost, N(0, 1) weights): the same "Epoch j: n / N" lines from the
same seeds, on every backend (NumPy exactly, the others to tolerance)."""

import random

import numpy as np
import pytest

import nnxp
from nnxp.compat import network
from nnxp.errors import DataError
from reference import book_accuracy, book_init, book_sgd, network2_backprop
from test_compat_network2 import book_data, is_numpy

SIZES = [12, 10, 4]


def lines_of(records, n_test):
    return [f"Epoch {j}: {r['evaluation_accuracy']} / {n_test}" for j, r in enumerate(records)]


@pytest.mark.parametrize("seed", [0, 12345678])
def test_epoch_lines_match_the_book(backend, capsys, seed):
    random.seed(seed)
    np.random.seed(seed)
    net = network.Network(SIZES)
    training, test = book_data(sizes=SIZES, seed=seed + 1)
    assert net.SGD(training, 4, 10, 3.0, test_data=test) is None
    got = capsys.readouterr().out.splitlines()

    random.seed(seed)
    np.random.seed(seed)
    w, b = book_init(SIZES, large=True)
    ref_training, ref_test = book_data(sizes=SIZES, seed=seed + 1)
    w, b, records = book_sgd(w, b, ref_training, 4, 10, 3.0, cost="quadratic",
                             evaluation_data=ref_test, monitor=("evaluation_accuracy",))
    expected = lines_of(records, 60)
    if is_numpy(backend):
        assert got == expected
    else:
        counts = [[int(s.split(": ")[1].split(" / ")[0]) for s in lines]
                  for lines in (got, expected)]
        assert len(got) == 4 and all(abs(p - q) <= 1 for p, q in zip(*counts))
    tol = 1e-9 if is_numpy(backend) else 1e-7
    for ours, theirs in zip(net.weights + net.biases, w + b):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    assert all(np.array_equal(x, rx) for (x, _), (rx, _) in zip(training, ref_training))


def test_without_test_data_each_epoch_is_complete(capsys):
    net = network.Network(SIZES)
    training, _ = book_data(sizes=SIZES)
    net.SGD(training, 3, 10, 3.0)
    assert capsys.readouterr().out.splitlines() == [f"Epoch {j} complete" for j in range(3)]
    net.SGD(training, 1, 10, 3.0, test_data=[])   # an empty list is "no test data", as there
    assert capsys.readouterr().out.splitlines() == ["Epoch 0 complete"]


def test_init_draws_biases_then_weights_from_numpys_global_generator():
    np.random.seed(42)
    net = network.Network(SIZES)
    np.random.seed(42)
    w, b = book_init(SIZES, large=True)
    assert all(np.array_equal(p, q) for p, q in zip(net.weights + net.biases, w + b))
    assert [x.shape for x in net.biases] == [(10, 1), (4, 1)]
    assert net.num_layers == 3 and net.sizes == SIZES


def test_per_example_methods_are_the_books_bit_for_bit(backend):
    np.random.seed(3)
    net = network.Network(SIZES)
    w, b = [x.copy() for x in net.weights], [x.copy() for x in net.biases]
    training, test = book_data(sizes=SIZES)
    x, y = training[0]
    nabla_b, nabla_w = net.backprop(x, y)
    ref_b, ref_w = network2_backprop(w, b, x, y, "quadratic")
    assert [v.shape for v in nabla_b] == [(10, 1), (4, 1)]
    assert all(np.array_equal(p, q) for p, q in zip(nabla_b + nabla_w, ref_b + ref_w))
    np.testing.assert_array_equal(net.cost_derivative(np.ones((4, 1)), y), 1 - y)
    assert net.evaluate(test) == book_accuracy(w, b, test)
    net.update_mini_batch(training[:7], 3.0)
    nb, nw = [np.zeros(v.shape) for v in b], [np.zeros(v.shape) for v in w]
    for xi, yi in training[:7]:
        db, dw = network2_backprop(w, b, xi, yi, "quadratic")
        nb, nw = [p + q for p, q in zip(nb, db)], [p + q for p, q in zip(nw, dw)]
    expected = [wl - (3.0 / 7) * d for wl, d in zip(w, nw)] + \
        [bl - (3.0 / 7) * d for bl, d in zip(b, nb)]
    assert all(np.array_equal(p, q) for p, q in zip(net.weights + net.biases, expected))
    np.testing.assert_array_equal(network.sigmoid(np.array([0.0, 2.0])),
                                  1 / (1 + np.exp(-np.array([0.0, 2.0]))))
    assert network.sigmoid_prime(0.0) == 0.25


def test_exact_mode_reproduces_a_chaotic_run(monkeypatch):
    """eta = 3.0 with N(0, 1) weights: rounding differences grow (chapter 1 on MNIST changes
    its first epoch's count).  NNXP_COMPAT_EXACT=1 keeps every bit of the book's loop."""
    monkeypatch.setenv("NNXP_COMPAT_EXACT", "1")
    with nnxp.use_backend("numpy"):
        random.seed(0)
        np.random.seed(0)
        net = network.Network(SIZES)
        training, _ = book_data(sizes=SIZES, n_train=95)
        net.SGD(training, 3, 10, 3.0)
    random.seed(0)
    np.random.seed(0)
    w, b = book_init(SIZES, large=True)
    ref_training, _ = book_data(sizes=SIZES, n_train=95)
    w, b, _ = book_sgd(w, b, ref_training, 3, 10, 3.0, cost="quadratic", monitor=())
    assert all(np.array_equal(p, q) for p, q in zip(net.weights + net.biases, w + b))


def test_bad_input_gets_clear_errors():
    net = network.Network([3, 2])
    with pytest.raises(DataError, match="training_data is None"):
        net.SGD(None, 1, 1, 1.0)
    with pytest.raises(DataError, match="backprop"):
        net.backprop(np.zeros((4, 1)), np.zeros((2, 1)))
    with pytest.raises(DataError, match="y must be"):
        net.backprop(np.zeros((3, 1)), np.zeros((5, 1)))
    net.biases = net.biases[:1] + net.biases
    with pytest.raises(DataError, match="net.biases must be a list of 1"):
        net.feedforward(np.zeros((3, 1)))
