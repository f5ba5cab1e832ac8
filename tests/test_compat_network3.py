"""nnxp.compat.network3 against the book's own network3.py run on Theano (tests/reference/
network3/, made by tests/reference/make_network3_reference.py), on every backend.

From the same ``np.random.seed``, in float64 without dropout, on the reference's MNIST slices:
the lines SGD prints must be the book's, character for character, and the final weights and
biases equal the book's to REL_TOL of each array's largest value.  Measured: at most 1e-14 on
NumPy, JAX, PyTorch and array-api-strict; the bound leaves room for other summation orders
(another BLAS, another CPU's kernels) over the 200-400 updates of a run.  Dropout, which
Theano's random streams make unrepeatable, is checked against a NumPy model written here from
the book's formulas and the documented mask rule.
"""

import contextlib
import functools
import gzip
import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnxp
from conftest import mnist_dir, optional, to_numpy
from nnxp.compat import network3
from nnxp.compat.network3 import (ConvPoolLayer, FullyConnectedLayer, Network, SoftmaxLayer,
                                  SharedValue)
from nnxp.errors import ConfigError, DataError, InputTypeError, NNXPError

REFERENCE = Path(__file__).resolve().parent / "reference" / "network3"
REL_TOL = 1e-10


@functools.lru_cache(maxsize=None)
def reference():
    return json.loads((REFERENCE / "reference.json").read_text())


def slices(mnist):
    """The reference's data: the first 1,000 / 500 / 500 images of Nielsen's three splits."""
    meta = reference()["meta"]["data"]
    out = []
    for (x, y), name in zip(mnist, ("training", "validation", "test")):
        lo, hi = meta[name]["split_rows"]
        n = hi - lo
        out.append((x[:n], y[:n]))
    return out


def build(config):
    layers = []
    for name, kwargs in config["layers"]:
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        if "activation_fn" in kwargs:
            kwargs["activation_fn"] = getattr(network3, kwargs["activation_fn"])
        layers.append(getattr(network3, name)(**kwargs))
    return Network(layers, config["mini_batch_size"])


def run(config, data, capsys):
    np.random.seed(config["seed"])
    net = build(config)
    capsys.readouterr()
    net.SGD(data[0], config["epochs"], config["mini_batch_size"], config["eta"], data[1],
            data[2], lmbda=config["lmbda"])
    return net, capsys.readouterr().out.splitlines()


@pytest.fixture
def float64(monkeypatch):
    monkeypatch.setenv("NNXP_FLOATX", "float64")


# -- the book's runs ------------------------------------------------------------------------------

def test_the_data_are_the_references(mnist):
    meta = reference()["meta"]["data"]
    for (x, y), name in zip(slices(mnist), ("training", "validation", "test")):
        pixels = np.rint(x * 255).astype(np.uint8)
        assert np.array_equal(pixels / 255.0, x)
        assert hashlib.sha256(pixels.tobytes()).hexdigest() == meta[name]["images_sha256"]
        assert (hashlib.sha256(y.astype(np.uint8).tobytes()).hexdigest()
                == meta[name]["labels_sha256"])


@pytest.mark.parametrize("name", ["shallow", "basic_conv", "dbl_conv_relu", "tanh_linear"])
def test_runs_print_the_books_lines_and_reach_its_weights(backend, mnist, float64, capsys,
                                                          name):
    config = reference()["runs"][name]
    net, lines = run(config, slices(mnist), capsys)
    assert lines == config["lines"]
    book = np.load(REFERENCE / f"{name}.npz")
    for i, layer in enumerate(net.layers):
        for key, value in (("w", layer.w.get_value()), ("b", layer.b.get_value())):
            want = book[f"{key}{i}"]
            assert value.dtype == np.float64 and value.shape == want.shape
            scale = np.max(np.abs(want))
            assert np.max(np.abs(value - want)) <= REL_TOL * scale, (name, key, i)


def test_float32_by_default_close_to_the_float64_book(backend, mnist, monkeypatch, capsys):
    """The book's GPU = True: float32 weights and arithmetic.  The shallow sigmoid run is not
    chaotic, so float32 stays within 1e-4 of the float64 book (measured: 9e-7)."""
    monkeypatch.delenv("NNXP_FLOATX", raising=False)
    config = reference()["runs"]["shallow"]
    data = [(x.astype(np.float32), y) for x, y in slices(mnist)]
    net, lines = run(config, data, capsys)
    assert len(lines) == len(config["lines"]) and all(
        re.sub(r"\d+\.\d\d%", "%", a) == re.sub(r"\d+\.\d\d%", "%", b)
        for a, b in zip(lines, config["lines"]))
    book = np.load(REFERENCE / "shallow.npz")
    for i, layer in enumerate(net.layers):
        w = layer.w.get_value()
        assert w.dtype == np.float32
        assert np.max(np.abs(w - book[f"w{i}"])) <= 1e-4 * np.max(np.abs(book[f"w{i}"]))


# -- shared values ------------------------------------------------------------------------------------

def tiny_net(p=(0.0, 0.0), seed=None):
    return Network([ConvPoolLayer(filter_shape=(3, 1, 3, 3), image_shape=(5, 1, 8, 8)),
                    FullyConnectedLayer(3 * 3 * 3, 6, p_dropout=p[0]),
                    SoftmaxLayer(6, 4, p_dropout=p[1])], 5, seed=seed)


def tiny_data(n=40, width=64, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, width))
    teacher = rng.standard_normal((width, classes))
    return x, np.argmax(x @ teacher, axis=1)


def test_get_value_and_set_value_in_the_books_shapes(float64):
    np.random.seed(0)
    net = tiny_net()
    conv, dense, soft = net.layers
    assert conv.w.get_value().shape == (3, 1, 3, 3) and conv.b.get_value().shape == (3,)
    assert dense.w.get_value().shape == (27, 6) and soft.w.get_value().shape == (6, 4)
    assert not soft.w.get_value().any() and not soft.b.get_value().any()
    assert net.params == [conv.w, conv.b, dense.w, dense.b, soft.w, soft.b]
    w = dense.w.get_value()
    w[0, 0] = 5.0  # a copy: the layer's value is unchanged
    assert dense.w.get_value()[0, 0] != 5.0
    with pytest.raises(ValueError):
        dense.w.get_value(borrow=True)[0, 0] = 0.0  # the stored array is read-only
    new = np.arange(27 * 6, dtype=np.float64).reshape(27, 6) / 100
    dense.w.set_value(new)
    assert np.array_equal(dense.w.get_value(), new) and np.array_equal(dense.w.eval(), new)
    with pytest.raises(DataError, match=r"\(27, 6\)"):
        dense.w.set_value(new.T)


def test_set_value_between_calls_is_what_the_next_sgd_trains(backend, float64, capsys):
    """Parameters written with set_value reach the device at the next SGD: training twice
    from the same values gives the same weights; and a second SGD continues from the first."""
    x, y = tiny_data()
    np.random.seed(1)
    net = tiny_net()
    start = [v.get_value() for v in net.params]
    net.SGD((x, y), 1, 5, 0.5, (x, y), (x, y))
    once = [v.get_value() for v in net.params]
    assert not np.array_equal(once[0], start[0])
    net.SGD((x, y), 1, 5, 0.5, (x, y), (x, y))
    twice = [v.get_value() for v in net.params]
    for v, value in zip(net.params, start):
        v.set_value(value)
    net.SGD((x, y), 1, 5, 0.5, (x, y), (x, y))
    for v, want in zip(net.params, once):
        np.testing.assert_allclose(v.get_value(), want, rtol=0, atol=1e-13)
    net.SGD((x, y), 1, 5, 0.5, (x, y), (x, y))
    for v, want in zip(net.params, twice):
        np.testing.assert_allclose(v.get_value(), want, rtol=0, atol=1e-13)


def test_convolution_is_theanos_true_convolution(backend, float64, capsys):
    """w holds the book's filters: the layer computes sum w[k, c, kh-1-u, kw-1-v] x[c, i+u, j+v]
    + b[k] (the filters flipped), written out here with loops.  Seen through one SGD step on
    one example: the softmax layer starts at zero, so its new weights are -eta a (1/3 - y) for
    the conv layer's output a (linear, no pooling), in the book's (n_in, n_out) layout."""
    np.random.seed(2)
    net = Network([ConvPoolLayer(filter_shape=(2, 1, 3, 3), image_shape=(1, 1, 6, 6),
                                 poolsize=(1, 1), activation_fn=network3.linear),
                   SoftmaxLayer(2 * 4 * 4, 3)], 1)
    conv = net.layers[0]
    w = np.random.standard_normal((2, 1, 3, 3))
    conv.w.set_value(w)
    x, label, b = np.random.random((1, 36)), np.array([1]), conv.b.get_value()
    net.SGD((x, label), 1, 1, 1.0, (x, label), None)
    out = net.layers[1].w.get_value()[:, 1] / (2.0 / 3.0)
    img, want = x.reshape(6, 6), np.zeros((2, 4, 4))
    for k in range(2):
        for i in range(4):
            for j in range(4):
                want[k, i, j] = sum(w[k, 0, 2 - u, 2 - v] * img[i + u, j + v]
                                    for u in range(3) for v in range(3)) + b[k]
    np.testing.assert_allclose(out.reshape(2, 4, 4), want, rtol=1e-12, atol=1e-12)


# -- dropout: a NumPy model of the book's formulas ------------------------------------------------

def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def book_dropout_sgd(ws, bs, ps, x, y, m, eta, rng):
    """network3's SGD for FullyConnectedLayer(sigmoid) ... + SoftmaxLayer, one epoch: masks
    on each layer's input (rng.random(shape) >= p, mini-batch by mini-batch, layer by layer),
    mean log-likelihood, plain update."""
    ws, bs = [w.copy() for w in ws], [b.copy() for b in bs]
    for k in range(len(x) // m):
        xb, yb = x[k * m:(k + 1) * m], y[k * m:(k + 1) * m]
        masks = [(rng.random((m, w.shape[0])) >= p) if p > 0 else np.ones((m, w.shape[0]))
                 for w, p in zip(ws, ps)]
        inputs, a = [], xb
        for l, (w, b) in enumerate(zip(ws, bs)):
            inputs.append(a * masks[l])
            z = inputs[-1] @ w + b
            a = _softmax(z) if l == len(ws) - 1 else _sigmoid(z)
        delta = (a - np.eye(a.shape[1])[yb]) / m
        for l in range(len(ws) - 1, -1, -1):
            dw, db = inputs[l].T @ delta, delta.sum(axis=0)
            if l:
                a_prev = inputs[l] / np.where(masks[l] == 0, 1, masks[l])  # unmasked input
                delta = (delta @ ws[l].T) * masks[l] * a_prev * (1 - a_prev)
            ws[l], bs[l] = ws[l] - eta * dw, bs[l] - eta * db
    return ws, bs


def book_accuracy(ws, bs, ps, x, y, m):
    a = x
    for l, (w, b) in enumerate(zip(ws, bs)):
        z = (1 - ps[l]) * (a @ w) + b
        a = _softmax(z) if l == len(ws) - 1 else _sigmoid(z)
    right = (np.argmax(a, axis=1) == y)[:(len(y) // m) * m]
    return np.mean(right.reshape(-1, m).mean(axis=1))


def test_dropout_masks_and_evaluation_as_the_book(backend, float64, capsys):
    x, y = tiny_data(n=30, width=12, classes=3, seed=4)
    ps = (0.5, 0.25)
    np.random.seed(5)
    net = Network([FullyConnectedLayer(12, 8, p_dropout=ps[0]),
                   SoftmaxLayer(8, 3, p_dropout=ps[1])], 10, seed=7)
    np.random.seed(6)
    for layer in net.layers:  # the softmax layer's zeros would hide its mask
        layer.w.set_value(np.random.standard_normal(layer.w.get_value().shape))
    ws = [layer.w.get_value() for layer in net.layers]
    bs = [layer.b.get_value() for layer in net.layers]
    capsys.readouterr()
    net.SGD((x, y), 1, 10, 0.5, (x, y), (x, y))
    lines = capsys.readouterr().out.splitlines()
    ws, bs = book_dropout_sgd(ws, bs, ps, x, y, 10, 0.5, np.random.default_rng(7))
    for layer, w, b in zip(net.layers, ws, bs):
        np.testing.assert_allclose(layer.w.get_value(), w, rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.b.get_value(), b, rtol=0, atol=1e-12)
    accuracy = book_accuracy(ws, bs, ps, x, y, 10)
    assert lines[1] == f"Epoch 0: validation accuracy {accuracy:.2%}"
    predicted = np.concatenate([net.test_mb_predictions(i) for i in range(3)])
    assert np.mean(predicted == y) == pytest.approx(accuracy)


def test_dropout_is_the_same_on_every_backend(backend, float64, capsys):
    """Masks come from the host generator: the NumPy run's weights, here, on a conv net."""
    x, y = tiny_data()
    results = []
    for name in ("numpy", backend.name):
        with nnxp.use_backend(name):
            np.random.seed(8)
            net = tiny_net(p=(0.5, 0.3), seed=9)
            net.SGD((x, y), 2, 5, 0.3, (x, y), (x, y))
            results.append([v.get_value() for v in net.params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_dropout_masks_come_from_the_mask_stream_in_bounded_bool_chunks(monkeypatch, float64,
                                                                       capsys):
    """network3 draws from nnxp.masks.MaskStream (the native API's stream): bool, whole
    mini-batches of about CHUNK_ROWS rows a chunk; how the epoch is cut changes no bit."""
    from nnxp import engines, masks
    calls, draw = [], masks.MaskStream.draw

    def recording(self, count, rows):
        out = draw(self, count, rows)
        calls.append((count, rows, {k.dtype for k in out if k is not None}))
        return out

    monkeypatch.setattr(masks.MaskStream, "draw", recording)
    x, y = tiny_data()  # 40 rows: 8 mini-batches of 5
    results = []
    for chunk_rows in (10 ** 6, 15):
        monkeypatch.setattr(engines, "CHUNK_ROWS", chunk_rows)
        np.random.seed(8)
        net = tiny_net(p=(0.5, 0.3), seed=9)
        net.SGD((x, y), 2, 5, 0.3, (x, y), None)
        results.append([v.get_value() for v in net.params])
    bool_ = {np.dtype(bool)}
    assert calls == [(8, 5, bool_)] * 2 + [(3, 5, bool_), (3, 5, bool_), (2, 5, bool_)] * 2
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_dropout_layer(backend):
    be = backend
    x = be.asarray(np.ones((200, 50)), "float32")
    a = to_numpy(network3.dropout_layer(x, 0.3))
    assert set(np.unique(a)) == {0.0, 1.0} and abs(a.mean() - 0.7) < 0.02
    assert np.array_equal(a, to_numpy(network3.dropout_layer(x, 0.3)))  # the book's seed
    rng = np.random.default_rng(1)
    b = to_numpy(network3.dropout_layer(x, 0.3, rng))
    assert np.array_equal(b, (np.random.default_rng(1).random((200, 50)) >= 0.3))
    with pytest.raises(ConfigError):
        network3.dropout_layer(x, 1.0)
    with pytest.raises(InputTypeError):
        network3.dropout_layer(x, 0.5, rng=3)


# -- one compiled program per mini-batch, no transfers ---------------------------------------

def test_each_mini_batch_is_one_call_of_one_compiled_program(backend, float64, monkeypatch,
                                                             capsys):
    """The step is compiled once (jax.jit on JAX) and called once per mini-batch with the
    data already on the device; on JAX the whole SGD runs with implicit transfers forbidden
    (only the explicit moves of data, parameters and accuracy counts happen)."""
    calls, compile_ = {}, type(backend).compile

    def counting(self, fn):
        compiled = compile_(self, fn)
        calls[fn.__name__] = 0

        def call(*args):
            calls[fn.__name__] += 1
            return compiled(*args)
        return call

    monkeypatch.setattr(type(backend), "compile", counting)
    x, y = tiny_data(n=40)
    np.random.seed(0)
    net = tiny_net(p=(0.5, 0.0))
    guard = contextlib.nullcontext()
    if backend.name == "jax":
        import jax
        guard = jax.transfer_guard("disallow")
    with guard:
        net.SGD((x, y), 3, 5, 0.1, (x[:20], y[:20]), (x[:10], y[:10]))
    assert calls["step"] == 3 * 8
    assert calls["hits"] == 3 + 3  # one call per evaluation of 20 and of 10 rows


def test_an_interrupted_sgd_keeps_the_training_done(backend, float64, monkeypatch, capsys):
    """Ctrl-C in the fourth mini-batch: the shared values hold the first three updates, as
    Theano's in-place updates would."""
    compile_, calls = type(backend).compile, [0]

    def interrupting(self, fn):
        compiled = compile_(self, fn)
        if fn.__name__ != "step":
            return compiled

        def call(*args):
            calls[0] += 1
            if calls[0] == 4:
                raise KeyboardInterrupt
            return compiled(*args)
        return call

    x, y = tiny_data()
    np.random.seed(3)
    three = tiny_net()
    three.SGD((x[:15], y[:15]), 1, 5, 0.5, (x, y), (x, y))
    monkeypatch.setattr(type(backend), "compile", interrupting)
    np.random.seed(3)
    net = tiny_net()
    with pytest.raises(KeyboardInterrupt):
        net.SGD((x, y), 1, 5, 0.5, (x, y), (x, y))
    for v, want in zip(net.params, three.params):
        np.testing.assert_allclose(v.get_value(), want.get_value(), rtol=0, atol=1e-14)


# -- printing, data, activations -----------------------------------------------------------------

def test_lines_when_validation_accuracy_falls(monkeypatch, capsys):
    """Only a new best (>=) prints the test accuracy, as the book; the last lines name the
    best epoch's last iteration and its test accuracy."""
    x, y = tiny_data()
    accuracies = iter([0.5, 0.25, 0.5, 0.75, 0.125, 0.875, 0.625])
    monkeypatch.setattr(Network, "_accuracy", lambda self, be, params, data: next(accuracies))
    np.random.seed(0)
    tiny_net().SGD((x, y), 4, 5, 0.1, (x, y), (x, y))
    assert capsys.readouterr().out.splitlines() == [
        "Training mini-batch number 0",
        "Epoch 0: validation accuracy 50.00%",
        "This is the best validation accuracy to date.",
        "The corresponding test accuracy is 25.00%",
        "Epoch 1: validation accuracy 50.00%",
        "This is the best validation accuracy to date.",
        "The corresponding test accuracy is 75.00%",
        "Epoch 2: validation accuracy 12.50%",
        "Epoch 3: validation accuracy 87.50%",
        "This is the best validation accuracy to date.",
        "The corresponding test accuracy is 62.50%",
        "Finished training network.",
        "Best validation accuracy of 87.50% obtained at iteration 31",
        "Corresponding test accuracy of 62.50%"]


def test_without_test_data_the_test_lines_are_left_out(capsys):
    x, y = tiny_data()
    np.random.seed(0)
    tiny_net().SGD((x, y), 1, 5, 0.1, (x, y), None)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == ["Finished training network.",
                          lines[-1]] and lines[-1].startswith("Best validation accuracy of")
    assert not any("test accuracy" in line for line in lines)


def test_training_mini_batch_lines_every_1000(capsys):
    x, y = tiny_data(n=2400, width=64)
    np.random.seed(0)
    tiny_net().SGD((x, y), 5, 5, 0.1, (x[:10], y[:10]), (x[:10], y[:10]))
    numbers = [int(line.rsplit(" ", 1)[1]) for line in capsys.readouterr().out.splitlines()
               if line.startswith("Training mini-batch number")]
    assert numbers == [0, 1000, 2000]


def book_pickle(path, splits):
    with gzip.open(path, "wb") as f:
        pickle.dump(splits, f, protocol=2)


def test_load_data_shared_reads_the_books_pickle(tmp_path, float64):
    rng = np.random.default_rng(0)
    splits = tuple((rng.random((n, 784)).astype(np.float32), rng.integers(0, 10, n))
                   for n in (30, 20, 10))
    book_pickle(tmp_path / "mnist.pkl.gz", splits)
    data = network3.load_data_shared(tmp_path / "mnist.pkl.gz")
    for (x, y), (want_x, want_y) in zip(data, splits):
        assert isinstance(x, SharedValue) and x.dtype == np.float64 and y.dtype == np.int32
        assert np.array_equal(x.get_value(), want_x) and np.array_equal(y.eval(), want_y)
    assert [network3.size(d) for d in data] == [30, 20, 10]
    assert network3.size((splits[0][0], splits[0][1])) == 30


def test_load_data_shared_reads_a_python2_pickle(float64):
    """The layout the book's mnist.pkl.gz has: cPickle under Python 2, NumPy 1.x arrays
    (tests/reference/make_py2_pickle.py made the file, with Python 2.7)."""
    data = network3.load_data_shared(REFERENCE / "py2_mnist_like.pkl.gz")
    for k, ((x, y), n) in enumerate(zip(data, (3, 2, 1))):
        assert np.array_equal(x.get_value(), 0.5 * k + np.arange(4 * n).reshape(n, 4))
        assert np.array_equal(y.get_value(), (k + np.arange(n)) % 10)
        assert x.dtype == np.float64 and y.dtype == np.int32


class _Trap:
    def __reduce__(self):
        return (os.getcwd, ())  # harmless, but code: the reader must refuse to call it


@pytest.mark.parametrize("content", [((_Trap(), 1), (2, 3), (4, 5)), [1, 2], b"not a pickle"])
def test_load_data_shared_refuses_other_pickles(tmp_path, content):
    path = tmp_path / "bad.pkl.gz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        book_pickle(path, content)
    with pytest.raises(DataError, match="bad.pkl.gz"):
        network3.load_data_shared(path)
    with pytest.raises(DataError, match="no pickle"):
        network3.load_data_shared(tmp_path / "missing.pkl.gz")


@pytest.mark.parametrize("kind", [FileNotFoundError, IsADirectoryError, NotADirectoryError])
def test_load_data_shared_of_a_file_open_refuses_is_the_books_oserror_too(tmp_path, kind):
    """The book's load_data_shared opens the file (gzip.open): ``except IOError`` still
    catches nnxp's DataError."""
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder").mkdir()
    path = {FileNotFoundError: tmp_path / "mnist.pkl.gz", IsADirectoryError: tmp_path / "a_folder",
            NotADirectoryError: tmp_path / "a_file" / "mnist.pkl.gz"}[kind]
    with pytest.raises(kind) as caught:
        network3.load_data_shared(path)
    assert isinstance(caught.value, DataError) and str(path) in str(caught.value)


def test_load_data_shared_takes_a_bytes_file_name(tmp_path, float64):
    """The book's gzip.open takes a bytes path; nnxp refused it (InputTypeError)."""
    rng = np.random.default_rng(0)
    book_pickle(tmp_path / "mnist.pkl.gz", tuple(
        (rng.random((n, 784)).astype(np.float32), rng.integers(0, 10, n)) for n in (4, 3, 2)))
    data = network3.load_data_shared(os.fsencode(tmp_path / "mnist.pkl.gz"))
    assert [network3.size(d) for d in data] == [4, 3, 2]


def test_load_data_shared_without_a_file_is_nnxps_mnist(monkeypatch):
    monkeypatch.setenv("NNXP_DATA_DIR", str(mnist_dir()))
    monkeypatch.delenv("NNXP_FLOATX", raising=False)
    data = network3.load_data_shared()
    assert [network3.size(d) for d in data] == [50000, 10000, 10000]
    x, y = data[2]
    assert x.dtype == np.float32 and x.shape == (10000, 784) and y.dtype == np.int32
    assert 0.0 <= x.get_value(borrow=True).min() and x.get_value(borrow=True).max() == 1.0


def test_activation_functions_are_callable(backend):
    z = backend.asarray(np.array([-2.0, 0.0, 3.0]), "float32")
    assert np.allclose(to_numpy(network3.ReLU(z)), [0, 0, 3])
    assert np.allclose(to_numpy(network3.linear(z)), [-2, 0, 3])
    assert np.allclose(to_numpy(network3.tanh(z)), np.tanh([-2, 0, 3]))
    assert np.allclose(to_numpy(network3.sigmoid(z)), 1 / (1 + np.exp([2.0, 0.0, -3.0])))
    assert float(network3.sigmoid(0.0)) == 0.5


@pytest.mark.parametrize("fn", ["sigmoid", "tanh", "ReLU", "linear"])
@pytest.mark.parametrize("z", [None, "a", np.array(["a"]), [None, 1.0]])
def test_activation_functions_refuse_what_is_not_numbers(fn, z):
    """A TypeError, as Theano's on these (nnxp read None as NaN, and raised NumPy's
    ValueError for text)."""
    with pytest.raises(InputTypeError, match=f"{fn} takes a number"):
        getattr(network3, fn)(z)


# -- refusals -------------------------------------------------------------------------------------------

def _fc(**kw):
    return FullyConnectedLayer(**{"n_in": 64, "n_out": 6, **kw})


BAD_LAYERS = {
    "no layers": lambda: Network([], 5),
    "not a layer": lambda: Network(["dense", SoftmaxLayer(6, 4)], 5),
    "no softmax at the end": lambda: Network([_fc()], 5),
    "sizes do not chain": lambda: Network([_fc(), SoftmaxLayer(7, 4)], 5),
    "image_shape for other mini-batches": lambda: Network(
        [ConvPoolLayer((3, 1, 3, 3), (10, 1, 8, 8)), SoftmaxLayer(27, 4)], 5),
    "mini_batch_size 0": lambda: Network([_fc(), SoftmaxLayer(6, 4)], 0),
    "channels differ": lambda: ConvPoolLayer((3, 2, 3, 3), (5, 1, 8, 8)),
    "filter larger than image": lambda: ConvPoolLayer((3, 1, 9, 9), (5, 1, 8, 8)),
    "filter_shape of 3": lambda: ConvPoolLayer((3, 3, 3), (5, 1, 8, 8)),
    "poolsize 0": lambda: ConvPoolLayer((3, 1, 3, 3), (5, 1, 8, 8), poolsize=(0, 2)),
    "a Python activation": lambda: _fc(activation_fn=lambda z: z),
    "p_dropout 1": lambda: _fc(p_dropout=1.0),
    "n_out 0": lambda: SoftmaxLayer(6, 0),
    "one layer object twice": lambda: (lambda hidden: Network(  # trained untied, one kept
        [_fc(), hidden, hidden, SoftmaxLayer(6, 4)], 5))(FullyConnectedLayer(6, 6)),
}  # n_in a float: an InputTypeError (test_arguments_of_the_wrong_type_are_a_typeerror...)


@pytest.mark.parametrize("make", BAD_LAYERS.values(), ids=BAD_LAYERS.keys())
def test_bad_layers_are_refused(make):
    with pytest.raises(ConfigError):
        make()


@pytest.mark.parametrize("poolsize", [np.array([2, 2]), range(2, 4), [2, 3]])
def test_poolsize_is_what_the_books_tuple_takes(poolsize):
    """The book's max_pool_2d makes tuple(poolsize): a NumPy array or a range trains there
    (nnxp refused them with a ConfigError)."""
    layer = ConvPoolLayer((3, 1, 3, 3), (5, 1, 8, 8), poolsize=poolsize)
    assert layer.poolsize == tuple(int(p) for p in poolsize) == layer.layer.pool
    assert all(type(p) is int for p in layer.poolsize)


def test_layers_of_different_floatx_are_refused(monkeypatch):
    monkeypatch.setenv("NNXP_FLOATX", "float64")
    first = _fc()
    monkeypatch.setenv("NNXP_FLOATX", "float32")
    with pytest.raises(ConfigError, match="NNXP_FLOATX"):
        Network([first, SoftmaxLayer(6, 4)], 5)
    monkeypatch.setenv("NNXP_FLOATX", "float16")
    with pytest.raises(ConfigError, match="float16"):
        _fc()


def test_a_device_without_float64_trains_float32_and_refuses_float64(monkeypatch, capsys):
    optional("array_api_strict")
    np.random.seed(0)
    float32_net = tiny_net(p=(0.5, 0.0))
    monkeypatch.setenv("NNXP_FLOATX", "float64")
    float64_net = tiny_net()
    with nnxp.use_backend("array_api_strict", device="no_float64"):
        _sgd(float32_net, tiny_data())
        assert float32_net.params[0].dtype == np.float32
        with pytest.raises(ConfigError, match="NNXP_FLOATX"):
            _sgd(float64_net, tiny_data())


def _sgd(net, data, **kw):
    args = {"training_data": data, "epochs": 1, "mini_batch_size": 5, "eta": 0.1,
            "validation_data": data, "test_data": data, **kw}
    net.SGD(**args)


BAD_SGD = {
    "epochs 0": (ConfigError, {"epochs": 0}),
    "eta 0": (ConfigError, {"eta": 0.0}),
    "lmbda negative": (ConfigError, {"lmbda": -1.0}),
    "another mini_batch_size": (ConfigError, {"mini_batch_size": 10}),
    "data not a pair": (DataError, {"training_data": [1, 2, 3]}),
    "wrong width": (DataError, {"validation_data": (np.zeros((10, 63)), np.zeros(10, int))}),
    "label out of range": (DataError, {"test_data": (np.zeros((10, 64)), np.full(10, 4))}),
    "less than a mini-batch": (DataError, {"training_data": (np.zeros((4, 64)),
                                                             np.zeros(4, int))}),
    "NaN": (DataError, {"training_data": (np.full((10, 64), np.nan), np.zeros(10, int))}),
}


@pytest.mark.parametrize("error, kw", BAD_SGD.values(), ids=BAD_SGD.keys())
def test_bad_sgd_arguments_are_refused_and_nothing_changes(error, kw, capsys):
    np.random.seed(0)
    net = tiny_net()
    before = [v.get_value() for v in net.params]
    with pytest.raises(error):
        _sgd(net, tiny_data(), **kw)
    assert all(np.array_equal(v.get_value(), b) for v, b in zip(net.params, before))
    assert capsys.readouterr().out == ""


def test_errors_are_nnxp_errors():
    assert issubclass(ConfigError, NNXPError) and issubclass(DataError, NNXPError)


def test_the_example_runs_the_books_networks(tmp_path):
    """examples/conv.py as a user runs it (a subprocess), on a small slice."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "NNXP_DATA_DIR": str(mnist_dir()), "NNXP_BACKEND": "numpy",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                       os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, str(root / "examples" / "conv.py")]
    result = subprocess.run(command + ["--net", "shallow", "--n-train", "500", "--epochs", "2"],
                            capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Training mini-batch number 0"
    assert any(re.fullmatch(r"Epoch 1: validation accuracy \d+\.\d\d%", line) for line in lines)
    assert lines[-3] == "Finished training network."
    assert re.fullmatch(r"Corresponding test accuracy of \d+\.\d\d%", lines[-1])
    bad = subprocess.run(command + ["--n-train", "0"], capture_output=True, text=True, env=env,
                         timeout=600)
    assert bad.returncode == 2 and "--n-train" in bad.stderr


@pytest.mark.parametrize("make", [
    lambda: FullyConnectedLayer(n_in=784.0, n_out=10),
    lambda: SoftmaxLayer(n_in=10, n_out="10"),
    lambda: ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape=(20, 1, 5.0, 5)),
    # the book's filter_shape[0], np.prod(poolsize) or tuple(poolsize) raise TypeError
    lambda: ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape=5),
    lambda: ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape=None),
    lambda: ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape="abcd"),
    lambda: ConvPoolLayer((20, 1, 5, 5), (10, 1, 28, 28), poolsize=2),
    lambda: ConvPoolLayer((20, 1, 5, 5), (10, 1, 28, 28), poolsize=None),
    lambda: ConvPoolLayer((20, 1, 5, 5), (10, 1, 28, 28), poolsize=np.array(2)),
    lambda: Network([SoftmaxLayer(n_in=784, n_out=10)], None),
    lambda: Network([SoftmaxLayer(n_in=784, n_out=10)], 10).SGD(None, 1.0, 10, 0.1, None, None),
    lambda: Network([SoftmaxLayer(n_in=784, n_out=10)], 10).SGD(None, 1, 10, "0.1", None, None),
])
def test_arguments_of_the_wrong_type_are_a_typeerror_as_in_the_book(make):
    """The book's np.random.normal(size=...) and arithmetic raise TypeError on these: nnxp's
    refusal is an InputTypeError, an NNXPError and a TypeError (it was a ConfigError)."""
    with pytest.raises(InputTypeError, match="must be"):
        make()


def test_load_data_shared_reads_the_books_expanded_pickle(tmp_path, float64):
    """The book's expand_mnist.py writes its training split as [list of image rows, list of
    numpy.int64 labels] (`[list(d) for d in zip(*expanded_training_pairs)]`); the book's
    load_data_shared reads it, and so does nnxp's (was: a DataError, the NumPy scalars refused
    and the lists not arrays)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 784)).astype(np.float32), rng.integers(0, 10, 6)
    expanded = [list(d) for d in zip(*[(xi, yi) for xi, yi in zip(x, y)])]
    book_pickle(tmp_path / "mnist_expanded.pkl.gz", (expanded, (x[:2], y[:2]), (x[:2], y[:2])))
    (tx, ty), _, _ = network3.load_data_shared(tmp_path / "mnist_expanded.pkl.gz")
    np.testing.assert_array_equal(ty.get_value(), y)
    np.testing.assert_array_equal(tx.get_value(), x.astype(tx.get_value().dtype))
    book_pickle(tmp_path / "ints.pkl.gz", ([list(x), [int(v) for v in y]], (x, y), (x, y)))
    np.testing.assert_array_equal(
        network3.load_data_shared(tmp_path / "ints.pkl.gz")[0][1].get_value(), y)


@pytest.mark.parametrize("labels,pattern", [(np.array([np.nan, 1.0]), "not whole numbers"),
                                            (np.array([0.5, 1.0]), "not whole numbers"),
                                            (np.array(["a", "b"]), "not numbers")])
def test_load_data_shared_refuses_labels_that_are_not_whole_numbers(tmp_path, labels, pattern):
    # was: NaN cast to -2147483648 with a NumPy warning; text labels a bare ValueError
    x = np.zeros((2, 784), np.float32)
    good = (x, np.array([0, 1]))
    book_pickle(tmp_path / "bad.pkl.gz", (good, (x, labels), good))
    with pytest.raises(DataError, match=pattern):
        network3.load_data_shared(tmp_path / "bad.pkl.gz")


@pytest.mark.parametrize("call", [lambda: network3.size(None), lambda: network3.size(()),
                                  lambda: network3.dropout_layer([[1.0, 2.0]], 0.5),
                                  lambda: network3.dropout_layer(None, 0.5)])
def test_the_helpers_refuse_what_they_cannot_take_with_an_input_type_error(call):
    # was: TypeError / IndexError from inside (size), or array_api_compat's (dropout_layer);
    # an InputTypeError is a TypeError still, as the book's code would have raised
    with pytest.raises(nnxp.InputTypeError):
        call()


def test_set_value_past_the_dtypes_range_is_a_data_error():
    # was: NumPy's overflow warning and inf stored, in float32
    layer = network3.FullyConnectedLayer(3, 2)
    assert layer.w.get_value().dtype == np.float32  # network3's default floatX
    with pytest.raises(DataError, match="past float32's range"):
        layer.w.set_value(np.full((3, 2), 1e300))
