"""nnxp.compat where the book's programs are run by others: accuracy at saturated outputs, a
subclass's own methods, the in-place shuffle, and nnxp.diagnose on a compat network.

References are the book's code written out in tests/reference.py, run from the same seeds.
"""

import random
import warnings

import numpy as np
import pytest

import nnxp
from nnxp.compat import network, network2
from conftest import mnist_dir
from reference import book_accuracy, book_init, book_sgd, network2_backprop
from test_compat_network2 import SIZES, book_data, is_numpy


# -- accuracy is argmax(feedforward(x)) with the book's sigmoid, also at saturated outputs ------

def saturated_net(module, sizes=(12, 4)):
    """A one-layer network with book_data's teacher as weights and biases of -60: every z is
    in about [-70, -50], where nnxp's 0.5 + 0.5 tanh(z/2) is exactly 0 and the book's
    1 / (1 + e^-z) gives distinct numbers (from 1e-31 to 1e-22)."""
    net = module.Network(list(sizes))
    net.weights = [np.random.default_rng(3).standard_normal((sizes[1], sizes[0]))]
    net.biases = [np.full((sizes[1], 1), -60.0)]
    return net


def test_saturated_outputs_are_counted_as_the_book(backend):
    sizes = [12, 4]
    _, data = book_data(n_train=1, n_eval=300, sizes=sizes)
    for module in (network, network2):
        net = saturated_net(module, sizes)
        z = np.hstack([net.weights[0] @ x + net.biases[0] for x, _ in data])
        assert z.max() < -38                    # saturated: tanh's sigmoid is 0 everywhere
        expected = book_accuracy(net.weights, net.biases, data)
        zeros = sum(int(label == 0) for _, label in data)
        assert expected != zeros                # the book does not answer class 0 each time
        assert expected > 150                   # but mostly the right one (of 300)
        got = net.evaluate(data) if module is network else net.accuracy(data)
        assert got == expected
        assert got == sum(int(np.argmax(net.feedforward(x)) == y) for x, y in data)


def test_sgd_monitors_saturated_outputs_as_the_book(backend):
    """The counts SGD prints are measured as accuracy() is (a tiny eta keeps the network
    saturated)."""
    training, data = book_data(n_eval=300, sizes=[12, 4])
    net = saturated_net(network2, [12, 4])
    result = net.SGD(training, 1, 10, 1e-9, evaluation_data=data,
                     monitor_evaluation_accuracy=True, monitor_training_accuracy=True)
    assert result.evaluation_accuracy == [book_accuracy(net.weights, net.biases, data)]
    assert result.training_accuracy == [book_accuracy(net.weights, net.biases, training)]
    assert result.evaluation_accuracy[0] > 150


def test_the_book_sigmoid_is_the_books_formula_without_overflow_warnings():
    from nnxp.compat._book import BookSigmoid
    z = np.concatenate([np.linspace(-800, 800, 4001), [-709.782712893384, -709.7827128933841,
                                                      -745.2, -36.8, 36.8, 0.0]])
    with np.errstate(over="ignore"):
        book = 1.0 / (1.0 + np.exp(-z))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = BookSigmoid().fn(z)
        assert np.array_equal(network2.sigmoid(z), book)
    assert np.array_equal(ours, book)
    assert ours[z == -709.782712893384][0] > 0 and ours[z == -709.7827128933841][0] == 0


def test_saturated_outputs_under_exact_mode(monkeypatch):
    monkeypatch.setenv("NNXP_COMPAT_EXACT", "1")
    _, data = book_data(n_train=1, n_eval=300, sizes=[12, 4])
    net = saturated_net(network2, [12, 4])
    with nnxp.use_backend("numpy"):
        assert net.accuracy(data) == book_accuracy(net.weights, net.biases, data)


def test_chapter3_hyper_parameter_example_prints_the_books_counts(monkeypatch):
    """network2.Network([784, 10]), eta 10, lmbda 20, mini-batch 10 on MNIST (the book's
    chapter-3 example of a bad choice): the weights are the book's bit for bit under
    NNXP_COMPAT_EXACT=1, and so are the accuracy lines, with outputs saturated."""
    from nnxp.compat import mnist_loader
    monkeypatch.setenv("NNXP_COMPAT_EXACT", "1")
    training, validation, _ = mnist_loader.load_data_wrapper(str(mnist_dir()))
    training, validation = training[:2000], validation[:2000]
    with nnxp.use_backend("numpy"):
        random.seed(0)
        np.random.seed(0)
        net = network2.Network([784, 10])
        got = net.SGD(list(training), 3, 10, 10.0, lmbda=20.0, evaluation_data=validation,
                      monitor_evaluation_accuracy=True, monitor_training_accuracy=True)
    random.seed(0)
    np.random.seed(0)
    w, b = book_init([784, 10])
    with np.errstate(over="ignore"):
        w, b, records = book_sgd(w, b, list(training), 3, 10, 10.0, 20.0,
                                 evaluation_data=validation,
                                 monitor=("training_accuracy", "evaluation_accuracy"))
    assert all(np.array_equal(p, q) for p, q in zip(net.weights + net.biases, w + b))
    assert got.training_accuracy == [r["training_accuracy"] for r in records]
    assert got.evaluation_accuracy == [r["evaluation_accuracy"] for r in records]


# -- a subclass's own methods are used where the book uses them ------------------------------

class DoNothing(network.Network):
    def update_mini_batch(self, mini_batch, eta):
        pass


class DoNothing2(network2.Network):
    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        pass


def test_a_do_nothing_update_mini_batch_leaves_the_network_untrained(capsys):
    training, test = book_data()
    for cls in (DoNothing, DoNothing2):
        np.random.seed(1)
        net = cls(SIZES)
        before = [p.copy() for p in net.weights + net.biases]
        chance = book_accuracy(net.weights, net.biases, test)
        if cls is DoNothing:
            net.SGD(training, 3, 10, 3.0, test_data=test)
            assert capsys.readouterr().out.splitlines() == [
                f"Epoch {j}: {chance} / 60" for j in range(3)]
        else:
            result = net.SGD(training, 3, 10, 0.5, evaluation_data=test,
                             monitor_evaluation_accuracy=True)
            assert result.evaluation_accuracy == [chance] * 3
        assert all(np.array_equal(p, q) for p, q in zip(net.weights + net.biases, before))


def test_a_subclass_takes_zip_objects_as_the_engine_does(capsys):
    """Python 3 ports pass zip objects (and list them once); the engine's path takes them.
    A subclass's path (the book's loop) failed with a bare TypeError (len of a zip), and a
    zip measured every epoch would be empty after the first."""
    training, test = book_data()
    for cls in (DoNothing, DoNothing2):
        np.random.seed(1)
        net = cls(SIZES)
        chance = book_accuracy(net.weights, net.biases, test)
        if cls is DoNothing:
            net.SGD(zip(*zip(*training)), 3, 10, 3.0, test_data=zip(*zip(*test)))
            assert capsys.readouterr().out.splitlines() == [
                f"Epoch {j}: {chance} / 60" for j in range(3)]
        else:
            result = net.SGD(zip(*zip(*training)), 3, 10, 0.5,
                             evaluation_data=zip(*zip(*test)),
                             monitor_evaluation_accuracy=True, monitor_training_cost=True)
            assert result.evaluation_accuracy == [chance] * 3
            assert len(result.training_cost) == 3


class L1(network2.Network):
    """The chapter-3 exercise: L1 regularization written as a new update_mini_batch."""

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_b, delta_w = self.backprop(x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, delta_b)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, delta_w)]
        self.weights = [w - eta * (lmbda / n) * np.sign(w) - (eta / len(mini_batch)) * nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]


class BookL1:
    """The book's network2 (tests/reference.py's backprop, its SGD loop) with the same
    update_mini_batch: what the exercise's author runs."""

    update_mini_batch = L1.update_mini_batch

    def __init__(self, sizes):
        self.weights, self.biases = book_init(sizes)

    def backprop(self, x, y):
        return network2_backprop(self.weights, self.biases, x, y)

    def SGD(self, training_data, epochs, m, eta, lmbda):
        n = len(training_data)
        for _ in range(epochs):
            random.shuffle(training_data)
            for k in range(0, n, m):
                self.update_mini_batch(training_data[k:k + m], eta, lmbda, n)


def test_an_l1_update_mini_batch_trains_as_in_the_book(backend, capsys):
    random.seed(SEED := 4)
    np.random.seed(SEED)
    net = L1(SIZES)
    training, evaluation = book_data()
    net.SGD(training, 3, 10, 0.5, lmbda=2.0, evaluation_data=evaluation,
            monitor_evaluation_accuracy=True)
    random.seed(SEED)
    np.random.seed(SEED)
    book = BookL1(SIZES)
    ref_training, _ = book_data()
    book.SGD(ref_training, 3, 10, 0.5, 2.0)
    for ours, theirs in zip(net.weights + net.biases, book.weights + book.biases):
        np.testing.assert_array_equal(ours, theirs)
    last = capsys.readouterr().out.splitlines()[-2]
    assert last == (f"Accuracy on evaluation data: "
                    f"{book_accuracy(book.weights, book.biases, evaluation)} / 60")


class DoubledCost(network.Network):
    def cost_derivative(self, output_activations, y):
        return 2 * (output_activations - y)


def test_an_overridden_cost_derivative_is_used_by_sgd():
    """dC/da = 2 (a - y) doubles every gradient exactly (a power of two), so the run is the
    book's at twice the learning rate, bit for bit."""
    sizes = [12, 10, 4]
    random.seed(2)
    np.random.seed(2)
    net = DoubledCost(sizes)
    training, _ = book_data(sizes=sizes)
    net.SGD(training, 2, 10, 1.5)
    random.seed(2)
    np.random.seed(2)
    w, b = book_init(sizes, large=True)
    ref_training, _ = book_data(sizes=sizes)
    w, b, _ = book_sgd(w, b, ref_training, 2, 10, 3.0, cost="quadratic", monitor=())
    assert all(np.array_equal(p, q) for p, q in zip(net.weights + net.biases, w + b))
    x, y = training[0]
    nabla_b, _ = net.backprop(x, y)
    np.testing.assert_array_equal(nabla_b[-1], 2 * network2_backprop(
        net.weights, net.biases, x, y, "quadratic")[0][-1])


class Reversed(network2.Network):
    def feedforward(self, a):
        return super().feedforward(a)[::-1]


class FrozenFirstLayer(network2.Network):
    def backprop(self, x, y):
        nabla_b, nabla_w = super().backprop(x, y)
        return [np.zeros_like(nabla_b[0])] + nabla_b[1:], [np.zeros_like(nabla_w[0])] + \
            nabla_w[1:]


def test_an_overridden_feedforward_is_what_accuracy_and_sgd_measure():
    np.random.seed(6)
    net = Reversed(SIZES)
    training, evaluation = book_data()
    expected = sum(int(np.argmax(net.feedforward(x)) == y) for x, y in evaluation)
    assert expected != book_accuracy(net.weights, net.biases, evaluation)
    assert net.accuracy(evaluation) == expected
    net.SGD(training, 1, 10, 0.5, evaluation_data=evaluation, monitor_evaluation_accuracy=True)
    after = net.accuracy(evaluation)
    assert after == sum(int(np.argmax(net.feedforward(x)) == y) for x, y in evaluation)
    cost = np.mean([network2.CrossEntropyCost.fn(net.feedforward(x), y) for x, y in training])
    assert net.total_cost(training, 0.0) == pytest.approx(cost, rel=1e-12)


def test_an_overridden_backprop_is_what_update_mini_batch_uses():
    np.random.seed(7)
    net = FrozenFirstLayer(SIZES)
    first, second = net.weights[0].copy(), net.weights[1].copy()
    training, _ = book_data()
    net.SGD(training, 2, 10, 0.5)
    assert np.array_equal(net.weights[0], first) and not np.allclose(net.weights[1], second)


def test_an_override_assigned_to_the_instance_is_used_too():
    np.random.seed(8)
    net = network2.Network(SIZES)
    before = [w.copy() for w in net.weights]
    net.update_mini_batch = lambda mini_batch, eta, lmbda, n: None
    net.SGD(book_data()[0], 2, 10, 0.5)
    assert all(np.array_equal(p, q) for p, q in zip(net.weights, before))


# -- the caller's list is shuffled in place, as the book does it ------------------------------

@pytest.mark.parametrize("override", [False, True])
def test_sgd_shuffles_the_callers_list_in_place_as_the_book(override):
    random.seed(3)
    np.random.seed(3)
    net = (DoNothing2 if override else network2.Network)(SIZES)
    training, _ = book_data()
    original, same_list = list(training), training
    state = random.getstate()
    for _ in range(2):
        net.SGD(training, 2, 10, 0.5)
    assert training is same_list
    random.setstate(state)
    book_order = list(original)
    for _ in range(4):      # the book: random.shuffle(training_data), every epoch of both calls
        random.shuffle(book_order)
    assert all(p is q for p, q in zip(training, book_order))
    # a port that shuffles a copy would leave the list as it was: this one does not
    assert not all(p is q for p, q in zip(training, original))


# -- nnxp.diagnose takes a compat network as the nnxp.Network it is -------------------------

def test_diagnose_a_compat_network_as_the_equivalent_nnxp_network(backend):
    training, _ = book_data(n_train=200)
    for module, cost in ((network, nnxp.QuadraticCost), (network2, nnxp.CrossEntropyCost)):
        np.random.seed(5)
        net = module.Network(SIZES)
        net.SGD(training, 1, 10, 0.5)
        twin = nnxp.Network(SIZES, cost=cost, dtype="float64", seed=0)
        twin.weights = [w.copy() for w in net.weights]
        twin.biases = [b.reshape(-1) for b in net.biases]
        got = nnxp.diagnose(net, training, eta=0.5, n=200)
        expected = nnxp.diagnose(twin, training, eta=0.5, n=200)
        assert got.to_dict() == expected.to_dict()
        assert got.summary["cost"] == cost.name and got.summary["sizes"] == SIZES
        view = net.__nnxp_network__()
        assert isinstance(view, nnxp.Network)
        np.testing.assert_array_equal(np.asarray(view.weights[0]), net.weights[0])
