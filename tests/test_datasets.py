"""Tests of nnxp.datasets: MNIST files, Nielsen's split, corruption, downloads.

Real-data tests read MNIST where nnxp's one rule finds it (``mnist_folder()``: NNXP_DATA_DIR,
else the user cache folder, where ./run setup copies it; conftest.mnist_dir) and skip when it is
not there (they fail instead when NNXP_REQUIRE_DATA=1).  Everything else uses small synthetic IDX
files written here (60 training images: 50 training / 10 validation, 20 test images) and, for
downloads, an HTTP server on 127.0.0.1.  No test touches the network or ~/.cache: every test
runs with XDG_CACHE_HOME in tmp_path, NNXP_DATA_DIR unset and the mirrors pointed at a closed
local port unless it says otherwise.
"""

import functools
import gzip
import hashlib
import http.server
import json
import os
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import mnist_dir
from nnxp.datasets import MNIST_FILES, expand_mnist, load_mnist, mnist
from nnxp.errors import BackendError, ConfigError, DataError, InputTypeError

NAMES = {role: f.name for role, f in MNIST_FILES.items()}


# -- helpers ----------------------------------------------------------------------------------

def write_idx(path, array, magic, *, gz=True, count=None):
    """Write ``array`` (uint8) as an IDX file; ``count`` overrides the first dimension."""
    dims = list(array.shape)
    if count is not None:
        dims[0] = count
    data = struct.pack(f">{1 + len(dims)}i", magic, *dims) + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def make_mnist(folder, n_train=60, n_test=20, *, gz=True, seed=0):
    """Four synthetic MNIST files in ``folder``; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.permutation(np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.permutation(np.arange(n_test) % 10).astype(np.uint8),
    }
    arrays["train_images"][0, 0, :2] = (0, 255)   # both ends of the range appear
    for role, array in arrays.items():
        name = NAMES[role] if gz else NAMES[role].removesuffix(".gz")
        write_idx(folder / name, array, 2051 if "images" in role else 2049, gz=gz)
    return arrays


def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def fresh(folder):
    """An empty folder (a folder named by path= must exist), created once."""
    folder.mkdir(exist_ok=True)
    return folder


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("NNXP_DATA_DIR", raising=False)
    monkeypatch.setattr(mnist, "MIRRORS", (closed_port_url(),))


@pytest.fixture
def synthetic(tmp_path):
    folder = tmp_path / "mnist"
    return folder, make_mnist(folder)


# -- real data --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def real_dir():
    """The real MNIST folder by nnxp's rule, looked up before any test isolates the
    environment (session fixtures come first)."""
    return str(mnist_dir())


@pytest.fixture(scope="session")
def real(real_dir):
    return load_mnist(real_dir, backend="numpy", download=False)


def raw_labels(folder, name):
    """Labels read independently of nnxp: the bytes after the 8-byte IDX header."""
    path = os.path.join(folder, name)
    data = gzip.open(path).read() if os.path.isfile(path) else \
        open(path.removesuffix(".gz"), "rb").read()
    return np.frombuffer(data, np.uint8, offset=8)


def test_real_split_shapes_range_dtype(real):
    (X, y), (Xv, yv), (Xt, yt) = real
    assert [a.shape for a in (X, y, Xv, yv, Xt, yt)] == [
        (50000, 784), (50000,), (10000, 784), (10000,), (10000, 784), (10000,)]
    for a in (X, Xv, Xt):
        assert isinstance(a, np.ndarray) and a.dtype == np.float32
        assert a.min() == 0.0 and a.max() == 1.0
    for a in (y, yv, yt):
        assert a.dtype.kind == "i" and a.min() == 0 and a.max() == 9


def test_real_first_labels_and_split_order(real, real_dir):
    (_, y), (_, yv), (_, yt) = real
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]   # published
    train = raw_labels(real_dir, NAMES["train_labels"])
    np.testing.assert_array_equal(np.concatenate([y, yv]), train)
    np.testing.assert_array_equal(yt, raw_labels(real_dir, NAMES["test_labels"]))


def test_real_label_counts_and_mean(real):
    (X, y), (Xv, yv), (_, yt) = real
    counts = np.bincount(yt, minlength=10)
    assert counts.sum() == 10000
    # Published per-digit counts of the MNIST test set.
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # 0.1307: the well-known mean of the 60,000 training images scaled to [0, 1].
    mean = (X.sum(dtype=np.float64) + Xv.sum(dtype=np.float64)) / (60000 * 784)
    assert mean == pytest.approx(0.1307, abs=2e-4)


def test_real_digits_subset_and_n_train(real_dir, real):
    (X, y), (Xv, yv), (Xt, yt) = load_mnist(real_dir, digits=(0, 1), backend="numpy")
    assert set(np.unique(y).tolist()) == {0, 1} and set(np.unique(yt).tolist()) == {0, 1}
    assert len(yt) == 980 + 1135
    keep = np.isin(real[0][1], (0, 1))
    np.testing.assert_array_equal(X, real[0][0][keep])
    (X, y), (Xv, yv), (Xt, yt) = load_mnist(real_dir, n_train=100, n_test=7, backend="numpy")
    assert X.shape == (100, 784) and Xv.shape == (10000, 784) and Xt.shape == (7, 784)
    np.testing.assert_array_equal(y, real[0][1][:100])


def test_real_one_hot_float64_and_numpy_backend(real_dir, real):
    (X, Y), _, (_, Yt) = load_mnist(real_dir, one_hot=True, dtype="float64", backend="numpy",
                                    n_train=5000)
    assert isinstance(X, np.ndarray) and isinstance(Y, np.ndarray)
    assert X.dtype == np.float64 and Y.dtype == np.float64 and Y.shape == (5000, 10)
    assert Yt.shape == (10000, 10)
    np.testing.assert_array_equal(Y.argmax(axis=1), real[0][1][:5000])
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(Yt.argmax(axis=1), real[2][1])
    np.testing.assert_allclose(X, real[0][0][:5000], rtol=0, atol=1e-7)
    np.testing.assert_array_equal(np.round(X * 255) / 255, X)   # whole grey levels


def test_real_from_environment_variable(real_dir, monkeypatch):
    monkeypatch.setenv("NNXP_DATA_DIR", real_dir)
    (_, y), _, _ = load_mnist(backend="numpy", download=False, n_train=10)
    assert y.tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


# -- synthetic files: split, options, arguments -----------------------------------------------

def test_synthetic_split_is_documented_rule(synthetic):
    folder, arrays = synthetic
    (X, y), (Xv, yv), (Xt, yt) = load_mnist(folder, backend="numpy")
    images = arrays["train_images"].reshape(60, 784).astype(np.float32) / np.float32(255)
    # 60 training images: validation is the last 60 // 6 = 10, training the first 50.
    np.testing.assert_array_equal(X, images[:50])
    np.testing.assert_array_equal(Xv, images[50:])
    np.testing.assert_array_equal(y, arrays["train_labels"][:50])
    np.testing.assert_array_equal(yv, arrays["train_labels"][50:])
    np.testing.assert_array_equal(Xt, arrays["test_images"].reshape(20, 784) / np.float32(255))
    np.testing.assert_array_equal(yt, arrays["test_labels"])
    assert X.dtype == np.float32 and X.min() == 0.0 and X.max() == 1.0


def test_uncompressed_files_are_accepted(tmp_path):
    arrays = make_mnist(tmp_path / "raw", gz=False)
    assert not list((tmp_path / "raw").glob("*.gz"))
    _, _, (Xt, yt) = load_mnist(tmp_path / "raw", backend="numpy", download=False)
    np.testing.assert_array_equal(yt, arrays["test_labels"])
    np.testing.assert_array_equal(Xt * 255, arrays["test_images"].reshape(20, 784))


def test_digits_keep_order_and_values(synthetic):
    folder, arrays = synthetic
    (X, y), (Xv, yv), (Xt, yt) = load_mnist(folder, digits=(1, 7), backend="numpy")
    labels = arrays["train_labels"][:50]
    keep = np.isin(labels, (1, 7))
    np.testing.assert_array_equal(y, labels[keep])
    np.testing.assert_array_equal(X * 255, arrays["train_images"].reshape(60, 784)[:50][keep])
    assert set(yv.tolist()) <= {1, 7} and sorted(set(yt.tolist())) == [1, 7]
    assert len(yt) == 4   # 20 test labels, two of each digit


def test_n_limits_keep_the_first_images(synthetic):
    folder, arrays = synthetic
    (X, y), (Xv, yv), (Xt, yt) = load_mnist(folder, n_train=5, n_validation=3, n_test=2,
                                            backend="numpy")
    assert (len(y), len(yv), len(yt)) == (5, 3, 2)
    np.testing.assert_array_equal(y, arrays["train_labels"][:5])
    np.testing.assert_array_equal(yv, arrays["train_labels"][50:53])
    np.testing.assert_array_equal(yt, arrays["test_labels"][:2])
    with pytest.raises(ConfigError, match=r"n_test=21, but that split has only 20"):
        load_mnist(folder, n_test=21)
    with pytest.raises(ConfigError, match=r"n_train=6.*only 5 images of the digits \(3,\)"):
        load_mnist(folder, digits=3, n_train=6)


def test_one_hot_matches_labels(synthetic):
    folder, _ = synthetic
    (_, y), _, _ = load_mnist(folder, backend="numpy")
    for dtype in ("float32", "float64"):
        (X, Y), _, (_, Yt) = load_mnist(folder, one_hot=True, dtype=dtype, backend="numpy")
        assert Y.shape == (50, 10) and Yt.shape == (20, 10)
        assert X.dtype == Y.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(Y.argmax(axis=1), y)
        np.testing.assert_array_equal(Y.sum(axis=1), 1)


@pytest.mark.parametrize("kw, message", [
    ({"digits": (0, 10)}, "digits must be"),
    ({"digits": ()}, "digits must be"),
    ({"digits": "01"}, "digits must be"),
    ({"digits": (True,)}, "digits must be"),
    ({"n_train": 0}, "n_train must be > 0"),
    ({"n_validation": -5}, "n_validation must be > 0"),
    ({"n_test": 2.5}, "n_test must be an integer"),
    ({"n_test": True}, "n_test must be an integer"),
    ({"dtype": "int32"}, "dtype must be 'float32' or 'float64'"),
    ({"dtype": None}, "dtype must be"),
    ({"dtype": "float16"}, "dtype must be"),
])
def test_bad_arguments_raise_config_error(synthetic, kw, message):
    folder, _ = synthetic
    with pytest.raises(ConfigError, match=message):
        load_mnist(folder, **kw)


@pytest.mark.parametrize("kw, message", [
    ({"one_hot": "no"}, "one_hot must be True or False"),     # was taken as true
    ({"one_hot": 2}, "one_hot must be True or False"),
    ({"download": "no"}, "download must be True or False"),   # would have downloaded
    ({"progress": "no"}, "progress must be True or False"),   # would have shown a bar
    ({"digits": {0: 1}}, "digits must be"),                    # its keys were the digits
])
def test_flags_and_digits_of_the_wrong_kind_are_refused(synthetic, monkeypatch, kw, message):
    monkeypatch.setattr(mnist, "fetch", lambda *a, **k: pytest.fail("tried to download"))
    folder, _ = synthetic
    with pytest.raises(ConfigError, match=message):
        load_mnist(folder, **kw)
    with pytest.raises(ConfigError, match=message):
        expand_mnist(folder, cache=False, **kw)


@pytest.mark.parametrize("path, error", [
    (3, InputTypeError), (b"/tmp", InputTypeError), ("", ConfigError), ("a\0b", ConfigError)])
def test_a_path_that_is_not_a_path_is_refused(path, error):
    """An int or bytes path was a TypeError from os.path; an empty one read as a folder."""
    for call in (lambda: load_mnist(path, download=False), lambda: mnist.mnist_folder(path),
                 lambda: mnist.mnist_available(path)):
        with pytest.raises(error, match="MNIST folder path"):
            call()


def test_numpy_dtype_objects_are_accepted(synthetic):
    folder, _ = synthetic
    (X, _), _, _ = load_mnist(folder, dtype=np.float64, backend="numpy")
    assert X.dtype == np.float64


def test_unknown_backend_is_a_backend_error(synthetic):
    with pytest.raises(BackendError, match="unknown backend"):
        load_mnist(synthetic[0], backend="no-such-backend")


def test_each_call_returns_fresh_read_only_arrays(synthetic):
    folder, _ = synthetic
    (X1, y1), _, _ = load_mnist(folder, backend="numpy")
    with pytest.raises(ValueError, match="read-only"):
        X1[0, 0] = 1.0  # read-only: SGD prepares such arrays once (nnxp.data)
    X1, y1 = X1.copy(), y1.copy()
    first = X1.copy()
    X1[:] = -1
    y1[:] = -1
    (X2, y2), _, _ = load_mnist(folder, backend="numpy")
    np.testing.assert_array_equal(X2, first)
    assert y2.min() >= 0 and not np.shares_memory(X1, X2)


def test_cache_is_refreshed_when_a_file_changes(synthetic):
    folder, arrays = synthetic
    _, _, (_, yt) = load_mnist(folder, backend="numpy")
    new = (arrays["test_labels"] + 1) % 10
    path = write_idx(folder / NAMES["test_labels"], new, 2049)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    _, _, (_, yt2) = load_mnist(folder, backend="numpy")
    np.testing.assert_array_equal(yt2, new)
    assert not np.array_equal(yt, yt2)


def test_backends_receive_the_same_values(synthetic, backend):
    # ``backend`` (tests/conftest.py) runs this on every backend under test, selected.
    folder, _ = synthetic
    (Xn, yn), _, _ = load_mnist(folder, backend="numpy")
    (X, Y), _, (_, Yt) = load_mnist(folder, one_hot=True, n_test=3)   # backend=None: selected
    (_, y), _, _ = load_mnist(folder, backend=backend.name)
    assert isinstance(X, np.ndarray) == (backend.name == "numpy")
    assert type(X) is type(backend.asarray(np.zeros(1)))
    np.testing.assert_array_equal(backend.to_numpy(X), Xn)
    np.testing.assert_array_equal(backend.to_numpy(y), yn)
    np.testing.assert_array_equal(backend.to_numpy(Y).argmax(axis=1), yn)
    assert backend.to_numpy(X).dtype == np.float32 and backend.to_numpy(y).dtype.kind == "i"
    assert tuple(Yt.shape) == (3, 10)


# -- where the files are looked for -----------------------------------------------------------

def test_folder_order_path_env_cache(tmp_path, monkeypatch):
    cache = make_mnist(tmp_path / "xdg-cache" / "nnxp" / "mnist", seed=1)
    env = make_mnist(tmp_path / "env", seed=2)
    given = make_mnist(tmp_path / "given", seed=3)
    first = lambda **kw: load_mnist(backend="numpy", download=False, **kw)[2][1].tolist()
    assert first() == cache["test_labels"].tolist()
    monkeypatch.setenv("NNXP_DATA_DIR", str(tmp_path / "env"))
    assert first() == env["test_labels"].tolist()
    assert first(path=tmp_path / "given") == given["test_labels"].tolist()
    assert given["test_labels"].tolist() != env["test_labels"].tolist()


def test_home_cache_when_xdg_is_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    arrays = make_mnist(tmp_path / "home" / ".cache" / "nnxp" / "mnist")
    _, _, (_, yt) = load_mnist(backend="numpy", download=False)
    np.testing.assert_array_equal(yt, arrays["test_labels"])


def test_missing_files_without_download(tmp_path, monkeypatch):
    make_mnist(tmp_path / "part")
    (tmp_path / "part" / NAMES["test_images"]).unlink()
    monkeypatch.setattr(mnist, "fetch", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "part", download=False)
    message = str(info.value)
    assert str(tmp_path / "part") in message and NAMES["test_images"] in message
    assert NAMES["train_images"] not in message
    assert "NNXP_DATA_DIR" in message and "--no-download" in message
    assert "download=True" in message and "pass download=True" not in message


# -- corrupted files --------------------------------------------------------------------------

def _truncated_header_count(folder, arrays):
    write_idx(folder / NAMES["train_images"], arrays["train_images"][:59], 2051, count=60)
    return NAMES["train_images"], "truncated"


def _trailing_bytes(folder, arrays):
    write_idx(folder / NAMES["test_labels"], np.append(arrays["test_labels"], 3), 2049, count=20)
    return NAMES["test_labels"], "holds 29 bytes"


def _truncated_gzip(folder, arrays):
    path = folder / NAMES["test_images"]
    path.write_bytes(path.read_bytes()[:500])
    return NAMES["test_images"], "not a valid gzip file, or is truncated"


def _bad_magic(folder, arrays):
    write_idx(folder / NAMES["test_images"], arrays["test_images"], 2049)
    return NAMES["test_images"], "magic number 2049, expected 2051"


def _count_mismatch(folder, arrays):
    write_idx(folder / NAMES["train_labels"], arrays["train_labels"][:59], 2049)
    return NAMES["train_labels"], "60 images but .* 59 labels"


def _garbage(folder, arrays):
    (folder / NAMES["train_labels"]).write_bytes(b"this is not a gzip file\n" * 20)
    return NAMES["train_labels"], "not a valid gzip file"


def _label_out_of_range(folder, arrays):
    labels = arrays["test_labels"].copy()
    labels[4] = 12
    write_idx(folder / NAMES["test_labels"], labels, 2049)
    return NAMES["test_labels"], "label 12"


def _wrong_image_size(folder, arrays):
    write_idx(folder / NAMES["test_images"], arrays["test_images"][:, :27], 2051)
    return NAMES["test_images"], "27 x 28 images"


def _empty_file(folder, arrays):
    (folder / NAMES["test_labels"]).write_bytes(gzip.compress(b"\x00\x00"))
    return NAMES["test_labels"], "too short"


@pytest.mark.parametrize("corrupt", [
    _truncated_header_count, _trailing_bytes, _truncated_gzip, _bad_magic, _count_mismatch,
    _garbage, _label_out_of_range, _wrong_image_size, _empty_file])
def test_corrupted_files_raise_data_error_naming_the_file(synthetic, corrupt):
    folder, arrays = synthetic
    name, what = corrupt(folder, arrays)
    with pytest.raises(DataError, match=what) as info:
        load_mnist(folder, download=False)
    assert str(folder / name) in str(info.value)


# -- downloads --------------------------------------------------------------------------------

class _Handler(http.server.SimpleHTTPRequestHandler):
    truncate = False   # serve half of each file while announcing its full length

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data[:len(data) // 2] if self.truncate else data)


@pytest.fixture
def server(tmp_path):
    """Serve synthetic gz files from tmp_path/served; yields (url, arrays, served folder)."""
    served = tmp_path / "served"
    arrays = make_mnist(served / "mnist")
    servers = []

    def start(truncate=False):
        handler = type("H", (_Handler,), {"truncate": truncate})
        httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(served)))
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/mnist/"

    yield start, arrays, served / "mnist"
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def published(monkeypatch, server):
    """FILES with the checksums of the served synthetic files."""
    _, _, served = server
    files = {role: f._replace(sha256=hashlib.sha256((served / f.name).read_bytes()).hexdigest())
             for role, f in MNIST_FILES.items()}
    monkeypatch.setattr(mnist, "FILES", files)
    return files


def test_download_writes_verified_files_atomically(tmp_path, monkeypatch, server, published):
    start, arrays, served = server
    monkeypatch.setattr(mnist, "MIRRORS", (start(),))
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append((a, b)),
                                                     real_replace(a, b))[1])
    target = tmp_path / "xdg-cache" / "nnxp" / "mnist"   # the user cache: created
    assert not target.exists()
    _, _, (_, yt) = load_mnist(backend="numpy", progress=False)
    np.testing.assert_array_equal(yt, arrays["test_labels"])
    assert sorted(p.name for p in target.iterdir()) == sorted(NAMES.values())
    for f in published.values():
        assert (target / f.name).read_bytes() == (served / f.name).read_bytes()
    assert len(replaced) == 4
    for src, dst in replaced:   # each file was renamed from a temporary name in its folder
        assert os.path.dirname(src) == os.path.dirname(dst) == str(target)
        assert os.path.basename(src).endswith(".part")


def test_download_only_fetches_missing_files(tmp_path, monkeypatch, server, published):
    start, arrays, served = server
    monkeypatch.setattr(mnist, "MIRRORS", (start(),))
    folder = tmp_path / "some"
    make_mnist(folder, seed=9)
    (folder / NAMES["test_labels"]).unlink()
    _, _, (_, yt) = load_mnist(folder, backend="numpy", progress=False)
    np.testing.assert_array_equal(yt, arrays["test_labels"])    # downloaded
    kept = (folder / NAMES["train_images"]).read_bytes()
    assert kept != (served / NAMES["train_images"]).read_bytes()   # local file untouched


def test_checksum_mismatch_leaves_no_file(tmp_path, monkeypatch, server, published):
    start, _, _ = server
    monkeypatch.setattr(mnist, "MIRRORS", (start(),))
    bad = dict(published, test_images=published["test_images"]._replace(sha256="0" * 64))
    monkeypatch.setattr(mnist, "FILES", bad)
    folder = fresh(tmp_path / "dl")
    with pytest.raises(DataError, match="SHA-256 mismatch") as info:
        load_mnist(folder, progress=False)
    assert NAMES["test_images"] in str(info.value) and "NNXP_DATA_DIR" in str(info.value)
    assert not (folder / NAMES["test_images"]).exists()
    assert leftovers(folder) == []


def test_a_download_larger_than_published_is_refused_as_it_comes(tmp_path, monkeypatch,
                                                                  server, published):
    """A mirror that sends more than the published size (an 800 MB answer for a 4.5 kB file)
    was written in full, then refused by its checksum; the size bounds it now."""
    start, _, _ = server
    monkeypatch.setattr(mnist, "MIRRORS", (start(),))
    small = dict(published, test_labels=published["test_labels"]._replace(size=10))
    monkeypatch.setattr(mnist, "FILES", small)
    folder = fresh(tmp_path / "dl")
    with pytest.raises(DataError, match="more than the published 10"):
        load_mnist(folder, progress=False)
    assert not (folder / NAMES["test_labels"]).exists() and leftovers(folder) == []


def test_downloaded_files_get_the_umasks_mode(tmp_path, monkeypatch, server, published):
    """The download's temporary file was mkstemp's 0600, kept by the rename: another user of
    a shared data folder could not read MNIST; now 0666 less the umask, as every nnxp file."""
    start, _, _ = server
    monkeypatch.setattr(mnist, "MIRRORS", (start(),))
    folder = fresh(tmp_path / "dl")
    old = os.umask(0o022)
    try:
        load_mnist(folder, progress=False, backend="numpy")
    finally:
        os.umask(old)
    assert {oct((folder / f.name).stat().st_mode & 0o777) for f in published.values()} == \
        {oct(0o644)}


def test_truncated_download_leaves_no_file(tmp_path, monkeypatch, server, published):
    start, _, _ = server
    monkeypatch.setattr(mnist, "MIRRORS", (start(truncate=True),))
    folder = fresh(tmp_path / "dl")
    with pytest.raises(DataError, match=NAMES["train_images"]):
        load_mnist(folder, progress=False)
    assert list(folder.iterdir()) == []


def test_first_mirror_down_uses_the_fallback(tmp_path, monkeypatch, server, published):
    start, arrays, _ = server
    url = start()
    monkeypatch.setattr(mnist, "MIRRORS", (closed_port_url(), url + "missing/", url))
    (_, y), _, _ = load_mnist(fresh(tmp_path / "dl"), backend="numpy", progress=False)
    np.testing.assert_array_equal(y, arrays["train_labels"][:50])


def test_no_mirror_reachable(tmp_path, monkeypatch, server, published):
    start, _, _ = server
    down = (closed_port_url(), start() + "missing/")
    monkeypatch.setattr(mnist, "MIRRORS", down)
    folder = fresh(tmp_path / "offline")
    with pytest.raises(DataError) as info:
        load_mnist(folder, progress=False)
    message = str(info.value)
    assert "NNXP_DATA_DIR" in message and str(folder) in message
    assert all(name in message for name in NAMES.values())
    assert "HTTP 404" in message and down[0] in message
    assert leftovers(folder) == []


def test_progress_is_shown_only_when_asked(tmp_path, monkeypatch, server, published, capsys):
    start, _, _ = server
    monkeypatch.setattr(mnist, "MIRRORS", (start(),))
    load_mnist(fresh(tmp_path / "quiet"), progress=False)
    assert capsys.readouterr().err == ""
    load_mnist(fresh(tmp_path / "default"))            # stderr is not a terminal here: quiet
    assert capsys.readouterr().err == ""
    load_mnist(fresh(tmp_path / "loud"), progress=True)
    err = capsys.readouterr().err
    assert all(name in err for name in NAMES.values())
    monkeypatch.setitem(sys.modules, "tqdm", None)   # tqdm not installed: one plain line each
    load_mnist(fresh(tmp_path / "plain"), progress=True)
    size = (fresh(tmp_path / "plain") / NAMES["test_labels"]).stat().st_size
    assert f"downloading {NAMES['test_labels']} ... {size:,} bytes" in capsys.readouterr().err


# -- folders a user names ---------------------------------------------------------------------

@pytest.mark.parametrize("download", [True, False])
def test_a_mistyped_folder_is_refused_not_created(tmp_path, monkeypatch, download):
    monkeypatch.setattr(mnist, "fetch", lambda *a, **k: pytest.fail("tried to download"))
    typo = tmp_path / "mnsit"
    monkeypatch.setenv("NNXP_DATA_DIR", str(typo))
    with pytest.raises(DataError) as info:
        load_mnist(download=download)
    message = str(info.value)
    assert f"MNIST folder {typo} (from NNXP_DATA_DIR) does not exist" in message
    assert "unset NNXP_DATA_DIR" in message and "xdg-cache" in message
    with pytest.raises(DataError, match=r"given as path=\) does not exist"):
        load_mnist(typo / "deeper", download=download)
    assert not typo.exists()
    assert not mnist.mnist_available(typo)


def test_a_file_named_as_the_folder_is_called_a_file(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "fetch", lambda *a, **k: pytest.fail("tried to download"))
    a_file = tmp_path / "mnist"
    a_file.write_text("not a folder")
    monkeypatch.setenv("NNXP_DATA_DIR", str(a_file))
    with pytest.raises(DataError, match=r"\(from NNXP_DATA_DIR\) is a file, not a folder"):
        load_mnist(download=True)
    assert a_file.read_text() == "not a folder"


def test_real_data_tests_find_mnist_by_the_library_rule(tmp_path, real_dir):
    """With NNXP_DATA_DIR unset and MNIST in the user cache folder (where ./run setup puts
    it), the real-data tests run: the tests look where nnxp looks."""
    real = Path(real_dir)
    cache = tmp_path / "xdg" / "nnxp" / "mnist"
    cache.mkdir(parents=True)
    for f in MNIST_FILES.values():
        for name in (f.name, f.name.removesuffix(".gz")):
            if (real / name).is_file():
                (cache / name).symlink_to(real / name)
    env = {k: v for k, v in os.environ.items() if k not in ("NNXP_DATA_DIR",)}
    env.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), NNXP_REQUIRE_DATA="1",
               NNXP_TEST_BACKENDS="numpy")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
         "-k", "test_real_first_labels_and_split_order or test_real_from_environment"],
        capture_output=True, text=True, env=env, cwd=os.path.dirname(__file__), timeout=600)
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout[-2000:]


# -- decompression bombs ----------------------------------------------------------------------

def write_bomb(path, inflated, dims=(60000, 28, 28), magic=2051):
    """A gzip file of an IDX header announcing ``dims`` followed by ``inflated`` zero bytes:
    small on disk (members of 1 MiB of zeros, about 1 KB each, concatenated: gzip reads them
    as one stream), large once decompressed."""
    member = gzip.compress(bytes(1 << 20), compresslevel=9)
    with open(path, "wb") as out:
        out.write(gzip.compress(struct.pack(f">{1 + len(dims)}i", magic, *dims)))
        for _ in range(inflated >> 20):
            out.write(member)
    return path


BOMB_SCRIPT = r"""
import json, resource, sys
import numpy as np
import nnxp
from nnxp.errors import DataError
from nnxp.compat import mnist_loader

def vm_bytes():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024

budget = vm_bytes() + 300 * 2**20     # 300 MB above what the process holds now
resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
for name, load in (("load_mnist", lambda: nnxp.datasets.load_mnist(sys.argv[1], download=False)),
                   ("compat", lambda: mnist_loader.load_data(sys.argv[1]))):
    try:
        load()
        out[name] = "loaded"
    except DataError as exc:
        out[name] = "DataError: " + str(exc)
    except MemoryError as exc:
        out[name] = "MemoryError"
out["peak_growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(out))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("case", ["inflates", "announces"])
def test_a_gzip_bomb_is_refused_before_it_is_inflated(synthetic, case):
    """1 MB on disk inflating to 1 GB (case "inflates": a valid MNIST header, then far more
    bytes than it announces) or a header announcing 10**8 images: a DataError, under an
    address-space limit of 300 MB above the process's size, with a bounded peak."""
    folder, _ = synthetic
    path = folder / NAMES["train_images"]
    if case == "inflates":
        write_bomb(path, 1 << 30)
        assert path.stat().st_size < 2 << 20
    else:
        write_bomb(path, 64 << 20, dims=(10 ** 8, 28, 28))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "NNXP_BACKEND": "numpy"}
    result = subprocess.run([sys.executable, "-c", BOMB_SCRIPT, str(folder)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.splitlines()[-1])
    expected = ("holds more than" if case == "inflates" else "announces 100,000,000 images")
    for name in ("load_mnist", "compat"):
        assert out[name].startswith("DataError: ") and expected in out[name], out
        assert str(path) in out[name]
    assert out["peak_growth_mb"] < 120, out   # MNIST's 47 MB array at most, not 1 GB


def test_huge_counts_and_shuffle_seeds_are_config_errors_with_short_messages(real_dir):
    # was: a bare ValueError (int-to-str limit) for 10**5000, after reading MNIST; a
    # 447-character message for 10**400
    folder = real_dir
    for n in (10 ** 5000, 10 ** 400):
        with pytest.raises(ConfigError, match="n_train=") as info:
            load_mnist(folder, download=False, n_train=n)
        assert len(str(info.value)) < 300
    with pytest.raises(ConfigError, match="at most 200 digits"):
        expand_mnist(folder, download=False, cache=False, n_train=10, shuffle=10 ** 5000)
