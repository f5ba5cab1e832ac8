"""nnxp.compat.network2 against network2's SGD written out per example (tests/reference.py):
the same epoch lines from the same seeds of ``random`` and ``numpy.random``, on every backend.

Data: a small synthetic problem in the book's format (lists of column pairs; one-hot training
targets, integer evaluation labels), labels from a random linear "teacher" so accuracy moves.
NumPy must give the book's accuracy counts exactly and its costs to rounding; other backends
(float64 too) to tolerance.
"""

import json
import os
import random

import numpy as np
import pytest

import nnxp
import nnxp.compat
from nnxp.compat import forget_data, network2
from nnxp.errors import ConfigError, DataError, InputTypeError
from nnxp.testing import data_cache_info
from reference import book_init, book_sgd, network2_backprop

SIZES = [12, 9, 4]
SEED = 12345678
MONITOR = dict(monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
               monitor_training_cost=True, monitor_training_accuracy=True)


def book_data(n_train=150, n_eval=60, seed=3, sizes=SIZES):
    """(training pairs with one-hot (k, 1) targets, evaluation pairs with int labels)."""
    rng = np.random.default_rng(seed)
    n_in, k = sizes[0], sizes[-1]
    teacher = rng.standard_normal((k, n_in))
    x = rng.random((n_train + n_eval, n_in))
    labels = np.argmax(x @ teacher.T + 0.3 * rng.standard_normal((len(x), k)), axis=1)
    columns = [row.reshape(-1, 1) for row in x]
    eye = np.eye(k)
    training = [(c, eye[l].reshape(-1, 1)) for c, l in zip(columns[:n_train], labels)]
    evaluation = [(c, int(l)) for c, l in zip(columns[n_train:], labels[n_train:])]
    return training, evaluation


def printed(records, n, n_eval):
    """network2's lines for ``records`` (the reference's)."""
    lines = []
    for j, r in enumerate(records):
        lines.append(f"Epoch {j} training complete")
        for key, text in (("training_cost", "Cost on training data: {}"),
                          ("training_accuracy", "Accuracy on training data: {} / " + str(n)),
                          ("evaluation_cost", "Cost on evaluation data: {}"),
                          ("evaluation_accuracy",
                           "Accuracy on evaluation data: {} / " + str(n_eval))):
            if key in r:
                lines.append(text.format(r[key]))
        lines.append("")
    return lines


def assert_same_lines(got, expected, exact):
    """Same lines; accuracy counts equal (within 1 off NumPy), costs equal to rounding."""
    assert len(got) == len(expected), (got, expected)
    for g, e in zip(got, expected):
        if g.startswith("Cost"):
            head, value = g.rsplit(": ", 1)
            assert head == e.rsplit(": ", 1)[0]
            assert float(value) == pytest.approx(float(e.rsplit(": ", 1)[1]),
                                                 rel=1e-10 if exact else 1e-7)
        elif g.startswith("Accuracy") and not exact:
            (gn, gd), (en, ed) = (s.rsplit(": ", 1)[1].split(" / ") for s in (g, e))
            assert gd == ed and abs(int(gn) - int(en)) <= 1, (g, e)
        else:
            assert g == e


def is_numpy(backend):
    return isinstance(backend.asarray(np.zeros(1)), np.ndarray)


@pytest.mark.parametrize("cost,large,lmbda", [
    (network2.CrossEntropyCost, False, 0.0),        # the class, network2's default init
    (network2.CrossEntropyCost(), True, 3.0),       # an instance, as fig/overfitting.py
    (network2.QuadraticCost, False, 1.0),
])
def test_epoch_lines_match_the_book(backend, capsys, cost, large, lmbda):
    exact = is_numpy(backend)
    random.seed(SEED)
    np.random.seed(SEED)
    net = network2.Network(SIZES, cost=cost)
    if large:
        net.large_weight_initializer()
    training, evaluation = book_data()
    result = net.SGD(training, 4, 10, 0.5, lmbda=lmbda, evaluation_data=evaluation, **MONITOR)
    got = capsys.readouterr().out.splitlines()
    after_compat = random.getstate(), np.random.get_state()[2]

    random.seed(SEED)
    np.random.seed(SEED)
    w, b = book_init(SIZES)
    if large:
        w, b = book_init(SIZES, large=True)
    ref_training, ref_evaluation = book_data()
    name = "quadratic" if "Quadratic" in getattr(cost, "__name__", type(cost).__name__) \
        else "cross_entropy"
    w, b, records = book_sgd(w, b, ref_training, 4, 10, 0.5, lmbda, name, ref_evaluation)
    assert (random.getstate(), np.random.get_state()[2]) == after_compat

    assert_same_lines(got, printed(records, 150, 60), exact)
    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = result
    assert len(evaluation_cost) == len(training_accuracy) == 4
    if exact:
        assert evaluation_accuracy == [r["evaluation_accuracy"] for r in records]
        assert training_accuracy == [r["training_accuracy"] for r in records]
    np.testing.assert_allclose(training_cost, [r["training_cost"] for r in records],
                               rtol=1e-10 if exact else 1e-7)
    for ours, theirs in zip(net.weights + net.biases, w + b):
        assert ours.dtype == np.float64 and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11 if exact else 1e-8)
    # the caller's list was shuffled in place, exactly as random.shuffle(training_data)
    assert all(np.array_equal(x, rx) and np.array_equal(y, ry)
               for (x, y), (rx, ry) in zip(training, ref_training))


def test_second_call_continues_from_the_shuffled_list(backend, capsys):
    """Two SGD calls on one list: the second shuffles the list as the first left it, and the
    data are converted once (not per call or per epoch)."""
    forget_data()
    nnxp.data.clear_cache()
    random.seed(1)
    np.random.seed(1)
    net = network2.Network(SIZES)
    training, evaluation = book_data()
    for _ in range(2):
        net.SGD(training, 2, 7, 0.3, evaluation_data=evaluation,
                monitor_evaluation_accuracy=True)
    hits = net.accuracy(evaluation)
    net.accuracy(training, convert=True)
    assert data_cache_info().scanned == 2  # the training list, the evaluation list
    assert data_cache_info().size == 2     # their device copies are nnxp.data's, one cache
    got = capsys.readouterr().out.splitlines()

    random.seed(1)
    np.random.seed(1)
    w, b = book_init(SIZES)
    ref_training, ref_evaluation = book_data()
    records = []
    for _ in range(2):
        w, b, more = book_sgd(w, b, ref_training, 2, 7, 0.3, evaluation_data=ref_evaluation,
                              monitor=("evaluation_accuracy",))
        records += more
    expected = printed(records[:2], 150, 60) + printed(records[2:], 150, 60)
    assert_same_lines(got, expected, is_numpy(backend))
    assert abs(hits - records[-1]["evaluation_accuracy"]) <= (0 if is_numpy(backend) else 1)
    assert all(np.array_equal(x, rx) for (x, _), (rx, _) in zip(training, ref_training))


def test_assignments_take_effect_in_the_next_sgd(backend):
    random.seed(7)
    np.random.seed(7)
    net = network2.Network(SIZES)
    training, evaluation = book_data()
    net.SGD(training, 1, 10, 0.5)
    net.weights = [w * 0.5 for w in net.weights]          # the list
    net.weights[1] = np.full((4, 9), 0.1)                  # one element
    net.biases[0][:] = 0.2                                 # an array, in place
    net.biases[1] = net.biases[1].reshape(-1)              # (n,) is accepted too
    net.cost = network2.QuadraticCost()                    # the cost, an instance
    start_w = [w.copy() for w in net.weights]
    start_b = [b.copy() for b in net.biases]
    order = list(training)
    state = random.getstate()
    net.SGD(training, 2, 10, 0.5, lmbda=0.5)

    random.setstate(state)
    w, b, _ = book_sgd(start_w, start_b, order, 2, 10, 0.5, 0.5, "quadratic", monitor=())
    tol = 1e-10 if is_numpy(backend) else 1e-7
    for ours, theirs in zip(net.weights + net.biases, w + b):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    assert net.biases[1].shape == (4, 1)


def test_early_stopping_n_as_the_python3_port(capsys):
    """Stop once the last accuracy printed has not beaten its best (from 0) for n epochs;
    the epochs before are those of the run without early stopping."""
    def run(**kw):
        random.seed(5)
        np.random.seed(5)
        net = network2.Network(SIZES)
        training, evaluation = book_data()
        out = net.SGD(training, 12, 10, 4.0, evaluation_data=evaluation,
                      monitor_evaluation_accuracy=True, **kw)
        return out, capsys.readouterr().out.splitlines()

    (_, full_accuracy, _, _), full_lines = run()
    best, since, stop = 0, 0, None
    for j, accuracy in enumerate(full_accuracy):
        best, since = (accuracy, 0) if accuracy > best else (best, since + 1)
        if since == 2:
            stop = j
            break
    assert stop is not None and stop < 11, full_accuracy  # the data make it stop early
    (_, accuracy, _, _), lines = run(early_stopping_n=2)
    assert accuracy == full_accuracy[:stop + 1]
    assert lines == full_lines[:3 * (stop + 1)]


def test_early_stopping_n_needs_a_printed_accuracy():
    net = network2.Network(SIZES)
    training, evaluation = book_data()
    with pytest.raises(ConfigError, match="monitor_evaluation_accuracy"):
        net.SGD(training, 3, 10, 0.5, evaluation_data=evaluation, early_stopping_n=2)


def test_no_monitoring_prints_epochs_and_returns_empty_lists(capsys):
    net = network2.Network(SIZES)
    training, _ = book_data()
    result = net.SGD(training, 2, 10, 0.5)
    assert capsys.readouterr().out.splitlines() == ["Epoch 0 training complete", "",
                                                    "Epoch 1 training complete", ""]
    assert tuple(result) == ([], [], [], [])


def test_per_example_methods_are_the_books_bit_for_bit():
    np.random.seed(2)
    net = network2.Network(SIZES)
    w, b = [x.copy() for x in net.weights], [x.copy() for x in net.biases]
    training, evaluation = book_data()
    x, y = training[4]
    out = net.feedforward(x)
    a = x
    for wl, bl in zip(w, b):
        a = 1.0 / (1.0 + np.exp(-(np.dot(wl, a) + bl)))
    assert out.shape == (4, 1) and np.array_equal(out, a)
    for name in ("cross_entropy", "quadratic"):
        net.cost = network2.QuadraticCost if name == "quadratic" else network2.CrossEntropyCost
        nabla_b, nabla_w = net.backprop(x, y)
        ref_b, ref_w = network2_backprop(w, b, x, y, name)
        assert all(np.array_equal(p, q) for p, q in zip(nabla_b + nabla_w, ref_b + ref_w))
    net.cost = network2.CrossEntropyCost
    net.update_mini_batch(training[:10], 0.5, 2.0, 150)
    nb = [np.zeros(v.shape) for v in b]
    nw = [np.zeros(v.shape) for v in w]
    for xi, yi in training[:10]:
        db, dw = network2_backprop(w, b, xi, yi)
        nb = [p + q for p, q in zip(nb, db)]
        nw = [p + q for p, q in zip(nw, dw)]
    ref_w = [(1 - 0.5 * (2.0 / 150)) * wl - (0.5 / 10) * d for wl, d in zip(w, nw)]
    ref_b = [bl - (0.5 / 10) * d for bl, d in zip(b, nb)]
    assert all(np.array_equal(p, q) for p, q in zip(net.weights + net.biases, ref_w + ref_b))


def test_exact_mode_trains_bit_for_bit(monkeypatch):
    """NNXP_COMPAT_EXACT=1 on NumPy: SGD's parameters equal the book's loop's exactly."""
    monkeypatch.setenv("NNXP_COMPAT_EXACT", "1")
    with nnxp.use_backend("numpy"):
        random.seed(SEED)
        np.random.seed(SEED)
        net = network2.Network(SIZES)
        training, evaluation = book_data()
        net.SGD(training, 3, 10, 0.5, lmbda=2.0)
    random.seed(SEED)
    np.random.seed(SEED)
    w, b = book_init(SIZES)
    ref_training, _ = book_data()
    w, b, _ = book_sgd(w, b, ref_training, 3, 10, 0.5, 2.0, monitor=())
    assert all(np.array_equal(p, q) for p, q in zip(net.weights + net.biases, w + b))


@pytest.mark.parametrize("value, exact", [("1", True), ("on", True), (" TRUE ", True),
                                          ("", False), ("0", False), ("off", False),
                                          ("2", None), ("maybe", None), ("ture", None)])
def test_nnxp_compat_exact_is_1_or_0(monkeypatch, value, exact):
    """A misspelt NNXP_COMPAT_EXACT ("ture", "2") left the book's arithmetic off without a
    word: a chaotic run then printed other lines than the book's.  Now a ConfigError."""
    monkeypatch.setenv("NNXP_COMPAT_EXACT", value)
    net = network2.Network([3, 2])
    data = [(np.zeros((3, 1)), np.eye(2)[k % 2].reshape(-1, 1)) for k in range(4)]
    if exact is None:
        with pytest.raises(ConfigError, match="NNXP_COMPAT_EXACT must be 1 .* or 0"):
            net.SGD(data, 1, 2, 0.1)
    else:
        assert nnxp.compat._shell.exact() is exact
        net.SGD(data, 1, 2, 0.1)


def test_accuracy_and_total_cost(backend):
    np.random.seed(4)
    net = network2.Network(SIZES)
    training, evaluation = book_data()
    from reference import book_accuracy, book_cost
    assert net.accuracy(evaluation) == book_accuracy(net.weights, net.biases, evaluation)
    assert net.accuracy(training, convert=True) == book_accuracy(net.weights, net.biases,
                                                                 training)
    for data, convert in ((training, False), (evaluation, True)):
        assert net.total_cost(data, 2.0, convert=convert) == pytest.approx(
            book_cost(net.weights, net.biases, data, 2.0, "cross_entropy"), rel=1e-9)


def test_save_and_load_round_trip(tmp_path):
    np.random.seed(9)
    net = network2.Network([5, 4, 3], cost=network2.QuadraticCost())
    net.SGD(book_data(40, 10, sizes=[5, 4, 3])[0], 1, 8, 0.5)
    path = tmp_path / "net.json"
    net.save(path)
    d = json.loads(path.read_text())
    assert set(d) == {"sizes", "weights", "biases", "cost"}
    assert d["cost"] == "QuadraticCost" and d["sizes"] == [5, 4, 3]
    assert np.array(d["biases"][0]).shape == (4, 1)
    np.random.seed(11)
    loaded = network2.load(str(path))
    drawn_after_load = np.random.random()
    np.random.seed(11)
    network2.Network([5, 4, 3])  # network2's load builds a Network first: the same draws
    assert drawn_after_load == np.random.random()
    assert loaded.cost is network2.QuadraticCost and loaded.sizes == [5, 4, 3]
    assert all(np.array_equal(p, q) for p, q in zip(loaded.weights + loaded.biases,
                                                    net.weights + net.biases))
    again = nnxp.load(path, dtype="float64")  # nnxp reads network2's files too
    np.testing.assert_array_equal(np.asarray(again.weights[0]), net.weights[0])


def test_load_refuses_what_network2_cannot_be(tmp_path):
    path = tmp_path / "relu.json"
    nnxp.Network([3, 2], cost="quadratic", activation="ReLU", output_activation="ReLU",
                 seed=0).save(path)
    with pytest.raises(DataError, match="nnxp.load"):
        network2.load(path)
    with pytest.raises(DataError, match="no network file"):
        network2.load(tmp_path / "missing.json")


def _unopenable(tmp_path, kind):
    """A path that ``open`` refuses with ``kind``."""
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder").mkdir(exist_ok=True)
    return {FileNotFoundError: tmp_path / "missing.json", IsADirectoryError: tmp_path / "a_folder",
            NotADirectoryError: tmp_path / "a_file" / "net.json"}[kind]


@pytest.mark.parametrize("kind", [FileNotFoundError, IsADirectoryError, NotADirectoryError])
def test_load_of_a_file_open_refuses_is_the_books_oserror_too(tmp_path, kind):
    """The book's load opens the file: a program's ``except IOError:`` around it (train a new
    network when none was saved) still catches nnxp's DataError."""
    path = _unopenable(tmp_path, kind)
    with pytest.raises(kind) as caught:
        network2.load(path)
    assert isinstance(caught.value, DataError) and isinstance(caught.value, IOError)
    assert str(path) in str(caught.value) and caught.value.filename == str(path)
    try:
        net = network2.load(path)
    except IOError:
        net = network2.Network([3, 2])
    assert net.sizes == [3, 2]


def test_save_and_load_take_bytes_file_names_as_the_books_open(tmp_path):
    """The book's open() takes a bytes path; nnxp refused it (InputTypeError)."""
    path = os.fsencode(tmp_path / "net.json")
    net = network2.Network([3, 2])
    net.save(path)
    np.testing.assert_array_equal(network2.load(path).weights[0], net.weights[0])


def test_load_of_a_broken_file_is_a_dataerror_not_an_oserror(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(DataError) as caught:
        network2.load(path)
    assert not isinstance(caught.value, OSError)


@pytest.mark.parametrize("layers", [
    [nnxp.layers.Reshape((1, 6, 6)), nnxp.layers.ConvPool(2, (3, 3)), nnxp.layers.Flatten(),
     nnxp.layers.Dense(3)],
    [nnxp.layers.Dense(5, p_dropout=0.5), nnxp.layers.Dense(3)],
])
def test_load_refuses_a_network_of_layers(tmp_path, layers):
    """A sigmoid, cross-entropy network of conv or dropout layers: nnxp's file has no sizes,
    weights or biases (the book's load: KeyError), and network2.load failed with a bare
    TypeError ('NoneType' object is not iterable)."""
    path = tmp_path / "layers.json"
    nnxp.Network([36, *layers], cost=nnxp.CrossEntropyCost, seed=0).save(path)
    with pytest.raises(DataError, match="holds a network of layers .*nnxp.load"):
        network2.load(path)


def test_costs_are_network2s():
    rng = np.random.default_rng(0)
    a, y, z = rng.random((4, 1)), np.eye(4)[1].reshape(-1, 1), rng.standard_normal((4, 1))
    ce = np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))
    assert network2.CrossEntropyCost.fn(a, y) == pytest.approx(ce, rel=1e-12)
    assert network2.QuadraticCost.fn(a, y) == pytest.approx(
        0.5 * np.linalg.norm(a - y) ** 2, rel=1e-12)
    np.testing.assert_array_equal(network2.CrossEntropyCost.delta(z, a, y), a - y)
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(network2.QuadraticCost.delta(z, a, y), (a - y) * s * (1 - s),
                               rtol=1e-12)
    assert network2.CrossEntropyCost.fn(np.ones((4, 1)), np.eye(4)[0].reshape(-1, 1)) < 200
    np.testing.assert_allclose(network2.sigmoid(z), s, rtol=1e-12)
    np.testing.assert_allclose(network2.sigmoid_prime(z), s * (1 - s), rtol=1e-12)
    with np.errstate(over="ignore"):
        assert network2.sigmoid(-1000.0) == 0.0 and network2.sigmoid(0) == 0.5
    np.testing.assert_array_equal(network2.vectorized_result(3), np.eye(10)[3].reshape(-1, 1))


@pytest.mark.parametrize("z", [None, "a", np.array(["a"]), [None, 1.0], [[1.0], [1.0, 2.0]]])
def test_sigmoid_of_what_is_not_numbers_is_a_typeerror(z):
    """The book's ``-z`` raises TypeError on these; nnxp read None as NaN and raised NumPy's
    ValueError for text."""
    with pytest.raises(InputTypeError, match="sigmoid takes a number"):
        network2.sigmoid(z)
    with pytest.raises(TypeError):
        network2.sigmoid_prime(z)


def test_sigmoid_of_complex_numbers_is_the_books():
    """The book's formula on complex z (nnxp dropped the imaginary part)."""
    z = np.array([[1 + 2j], [-0.5 + 0.1j]])
    np.testing.assert_array_equal(network2.sigmoid(z), 1.0 / (1.0 + np.exp(-z)))
    assert network2.sigmoid(1 + 2j) == 1.0 / (1.0 + np.exp(-(1 + 2j)))


def test_costs_accepted_and_refused():
    for cost in (network2.CrossEntropyCost, network2.QuadraticCost(), nnxp.CrossEntropyCost,
                 nnxp.QuadraticCost()):
        network2.Network([3, 2], cost=cost)

    class Mine:
        @staticmethod
        def fn(a, y):
            return 0.0

        @staticmethod
        def delta(z, a, y):
            return a - y

    class Tweaked(network2.CrossEntropyCost):
        @staticmethod
        def delta(z, a, y):
            return 2 * (a - y)

    for cost in (Mine, Tweaked, nnxp.LogLikelihoodCost, "CrossEntropyCost"):
        with pytest.raises(ConfigError, match="QuadraticCost or CrossEntropyCost"):
            network2.Network([3, 2], cost=cost)
    net = network2.Network([3, 2])
    net.cost = Mine
    with pytest.raises(ConfigError, match="QuadraticCost or CrossEntropyCost"):
        net.SGD([(np.zeros((3, 1)), np.zeros((2, 1)))], 1, 1, 0.1)


def test_bad_input_gets_clear_errors():
    net = network2.Network([3, 4, 2])
    good = [(np.zeros((3, 1)), np.eye(2)[0].reshape(-1, 1))] * 4
    with pytest.raises(DataError, match="3"):
        net.SGD([(np.zeros((5, 1)), np.zeros((2, 1)))], 1, 1, 0.1)
    with pytest.raises(DataError, match="empty"):
        net.SGD([], 1, 1, 0.1)
    with pytest.raises(ConfigError, match="eta"):
        net.SGD(good, 1, 1, -0.1)
    with pytest.raises(ConfigError, match="evaluation_data"):
        net.SGD(good, 1, 1, 0.1, monitor_evaluation_accuracy=True)
    net.weights[0] = np.zeros((3, 4))
    with pytest.raises(DataError, match=r"net.weights\[0\] must have shape \(4, 3\)"):
        net.SGD(good, 1, 1, 0.1)
    with pytest.raises(ConfigError, match="sizes"):
        network2.Network([784])
    with pytest.raises(DataError, match="feedforward"):
        network2.Network([3, 2]).feedforward(np.zeros((4, 1)))


def test_python3_port_inputs_zip_and_single_output():
    """zip objects (the Python 3 ports' loader) and one output unit with scalar targets."""
    np.random.seed(0)
    xs = [np.array([[a], [b]], dtype=float) for a in (0, 1) for b in (0, 1)]
    net = network2.Network([2, 3, 1], cost=network2.QuadraticCost)
    before = [w.copy() for w in net.weights]
    net.SGD(zip(xs, [0.0, 1.0, 1.0, 0.0]), 2, 2, 1.0)
    assert not all(np.array_equal(p, q) for p, q in zip(before, net.weights))
    assert net.feedforward(xs[0]).shape == (1, 1)


def test_converted_data_do_not_outlive_the_callers_list():
    """The device copy of a list is kept while the caller holds the list, not after."""
    import gc
    import weakref
    nnxp.compat.forget_data()
    net = network2.Network(SIZES)
    training, _ = book_data()
    probe = weakref.ref(training[0][0])
    net.SGD(training, 1, 10, 0.5)
    del training
    net.SGD(book_data(seed=4)[0], 1, 10, 0.5)
    gc.collect()
    assert probe() is None


BOOK_TYPEERRORS = {  # the book's code raises TypeError on each of these
    "sizes None": lambda m: m.Network(None),
    "sizes an int": lambda m: m.Network(784),
    "sizes a set": lambda m: m.Network({3, 2}),
    "a float width": lambda m: m.Network([3, 4.0, 2]),
    "a text width": lambda m: m.Network(["3", 2]),
    "epochs 2.0": lambda m: m.Network([3, 2]).SGD(PAIRS, 2.0, 1, 0.1),
    "epochs None": lambda m: m.Network([3, 2]).SGD(PAIRS, None, 1, 0.1),
    "mini_batch_size '2'": lambda m: m.Network([3, 2]).SGD(PAIRS, 1, "2", 0.1),
    "mini_batch_size 2.0": lambda m: m.Network([3, 2]).SGD(PAIRS, 1, 2.0, 0.1),
    "eta '0.5'": lambda m: m.Network([3, 2]).SGD(PAIRS, 1, 1, "0.5"),
    "eta None": lambda m: m.Network([3, 2]).SGD(PAIRS, 1, 1, None),
    "update_mini_batch eta None": lambda m: m.Network([3, 2]).update_mini_batch(
        PAIRS, None, *([0.0, 4] if m is network2 else [])),
}


PAIRS = [(np.zeros((3, 1)), np.eye(2)[k % 2].reshape(-1, 1)) for k in range(4)]


@pytest.mark.parametrize("module", ["network", "network2"])
@pytest.mark.parametrize("case", sorted(BOOK_TYPEERRORS))
def test_arguments_of_the_wrong_type_are_a_typeerror_as_in_the_book(module, case):
    """nnxp's refusal is an InputTypeError: an NNXPError and the TypeError the book raised,
    so ``except TypeError`` around the book's calls still catches it (it was a ConfigError,
    a ValueError)."""
    with pytest.raises(InputTypeError, match="must be"):
        BOOK_TYPEERRORS[case](getattr(nnxp.compat, module))


@pytest.mark.parametrize("call", [
    lambda: network2.Network([3, 2]).SGD(PAIRS, 1, 1, 0.1, lmbda="1"),
    lambda: network2.Network([3, 2]).total_cost(PAIRS, None),
    lambda: network2.Network([3, 2]).update_mini_batch(PAIRS, 0.1, "1", 4),
])
def test_lmbda_of_the_wrong_type_is_a_typeerror_as_in_the_book(call):
    with pytest.raises(InputTypeError, match="lmbda must be a number"):
        call()
