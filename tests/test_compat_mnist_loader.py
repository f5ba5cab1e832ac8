"""nnxp.compat.mnist_loader: the book's formats, read through nnxp.datasets (synthetic IDX
files here; the real files where NNXP_DATA_DIR has them)."""

import errno

import numpy as np
import pytest

from conftest import mnist_dir
from nnxp.compat import mnist_loader, network2
from nnxp.datasets import load_mnist, mnist
from nnxp.errors import DataError
from test_datasets import closed_port_url, make_mnist


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """Synthetic MNIST (60 training images: 50 / 10, 20 test) found through NNXP_DATA_DIR."""
    path = tmp_path / "mnist"
    arrays = make_mnist(path)
    monkeypatch.setenv("NNXP_DATA_DIR", str(path))
    monkeypatch.setattr(mnist, "MIRRORS", (closed_port_url(),))
    return path, arrays


def test_load_data_is_the_pickles_format(folder):
    path, arrays = folder
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = mnist_loader.load_data()
    assert [a.shape for a in (tr_x, va_x, te_x)] == [(50, 784), (10, 784), (20, 784)]
    assert all(a.dtype == np.float32 for a in (tr_x, va_x, te_x))
    assert all(a.dtype == np.int64 for a in (tr_y, va_y, te_y))
    assert tr_x.min() >= 0.0 and tr_x.max() == 1.0
    np.testing.assert_array_equal(tr_y, arrays["train_labels"][:50])
    np.testing.assert_array_equal(va_y, arrays["train_labels"][50:])
    np.testing.assert_array_equal(te_x * np.float32(255), arrays["test_images"].reshape(20, -1))
    (nx, ny), _, _ = load_mnist(path, backend="numpy")      # the same bits as nnxp's loader
    np.testing.assert_array_equal(nx, tr_x)
    np.testing.assert_array_equal(ny, tr_y)


def test_load_data_wrapper_is_the_books_lists(folder):
    _, arrays = folder
    training, validation, test = mnist_loader.load_data_wrapper()
    assert (len(training), len(validation), len(test)) == (50, 10, 20)
    assert isinstance(training, list) and len(training[:7]) == 7
    for x, y in training:
        assert x.shape == (784, 1) and x.dtype == np.float32
        assert y.shape == (10, 1) and y.dtype == np.float64 and y.sum() == 1.0
    assert [int(np.argmax(y)) for _, y in training] == arrays["train_labels"][:50].tolist()
    assert [y for _, y in validation] == arrays["train_labels"][50:].tolist()
    assert all(type(y) is int and x.shape == (784, 1) for x, y in test)
    np.testing.assert_array_equal(test[3][0][:, 0] * np.float32(255),
                                  arrays["test_images"][3].ravel())
    np.testing.assert_array_equal(mnist_loader.vectorized_result(7),
                                  network2.vectorized_result(7))
    assert mnist_loader.vectorized_result(7)[7, 0] == 1.0


def test_the_lists_train_a_network(folder, capsys):
    training, validation, _ = mnist_loader.load_data_wrapper()
    net = network2.Network([784, 5, 10])
    net.SGD(training, 1, 10, 0.1, evaluation_data=validation,
            monitor_evaluation_accuracy=True)
    assert capsys.readouterr().out.splitlines()[1].endswith(" / 10")


def test_missing_files_are_nnxps_error(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("NNXP_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(mnist, "MIRRORS", (closed_port_url(),))
    with pytest.raises(DataError, match="MNIST files missing"):
        mnist_loader.load_data_wrapper()


def test_missing_files_are_caught_as_the_books_missing_file(tmp_path, monkeypatch):
    """The book's loader opened ../data/mnist.pkl.gz, so a missing file was a
    FileNotFoundError: programs catching IOError still catch nnxp's DataError."""
    monkeypatch.setattr(mnist, "MIRRORS", (closed_port_url(),))
    for folder in (tmp_path / "empty", tmp_path / "not-there"):
        if folder.name == "empty":
            folder.mkdir()
        monkeypatch.setenv("NNXP_DATA_DIR", str(folder))
        with pytest.raises(IOError) as caught:
            mnist_loader.load_data()
        assert isinstance(caught.value, FileNotFoundError) and \
            isinstance(caught.value, DataError)
        assert caught.value.errno == errno.ENOENT and caught.value.filename == str(folder)
        assert str(caught.value).startswith("MNIST ")  # nnxp's message, not "[Errno 2]"


def test_real_files_give_nielsens_split():
    folder = mnist_dir()   # skips without the real files (fails with NNXP_REQUIRE_DATA=1)
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = mnist_loader.load_data(folder)
    assert (len(tr_y), len(va_y), len(te_y)) == (50_000, 10_000, 10_000)
    assert tr_x.dtype == np.float32 and tr_x.max() == 1.0 and te_y.dtype == np.int64
    assert tr_y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    training, validation, test = mnist_loader.load_data_wrapper(folder)
    x, y = training[0]
    assert x.shape == (784, 1) and x.dtype == np.float32 and y.shape == (10, 1)
    assert int(np.argmax(y)) == 5 and y.sum() == 1.0
    assert validation[0][0].shape == (784, 1) and isinstance(validation[0][1], int)
    assert sum(label == 0 for _, label in test) == 980
