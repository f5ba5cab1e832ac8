"""Tests of nnxp.datasets.expand_mnist: the book's expand_mnist.py, its order, and the cache.

The reference is the book's procedure written out directly in NumPy (``book_expansion``: its loop,
np.roll then the wrapped row or column zeroed, image by image) and the order Python 2.7's
``random.shuffle`` gives after ``random.seed(seed)``: the constants in
``test_book_order_is_python_2_7s_shuffle`` were printed by Python 2.7.18 with

    random.seed(seed); perm = range(n); random.shuffle(perm)
    print perm[:8], hashlib.sha256(",".join(map(str, perm))).hexdigest()

Everything but the last test uses small synthetic IDX files in tmp_path (60 training images:
50 training, 10 validation; 20 test), with XDG_CACHE_HOME in tmp_path and NNXP_DATA_DIR unset,
so that no test reads or writes ~/.cache or a real data folder.  The last reads the real files
by nnxp's rule (conftest's ``mnist_dir``) and writes its cache in tmp_path.
"""

import gzip
import hashlib
import json
import os
import random
import stat
import struct
import warnings

import numpy as np
import pytest

from conftest import mnist_dir, to_numpy
from nnxp.datasets import MNIST_FILES, expand_mnist, expanded, load_mnist
from nnxp.datasets.expanded import CacheWarning, book_order, expand
from nnxp.errors import ConfigError, DataError, FileError, InputTypeError

N_TRAIN, N_TEST = 60, 20   # 50 training images in Nielsen's split, 10 validation
REAL_ENV = {k: os.environ.get(k) for k in ("NNXP_DATA_DIR", "XDG_CACHE_HOME")}


# -- helpers ----------------------------------------------------------------------------------

def make_mnist(folder, seed=0):
    """The four MNIST files, synthetic, in ``folder``; returns (train images, train labels)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {"train_images": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
              "train_labels": rng.permutation(np.arange(N_TRAIN) % 10).astype(np.uint8),
              "test_images": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
              "test_labels": rng.permutation(np.arange(N_TEST) % 10).astype(np.uint8)}
    for role, a in arrays.items():
        magic = 2051 if "images" in role else 2049
        data = struct.pack(f">{1 + a.ndim}i", magic, *a.shape) + a.tobytes()
        (folder / MNIST_FILES[role].name).write_bytes(gzip.compress(data))
    return arrays["train_images"].reshape(N_TRAIN, 784), arrays["train_labels"]


def book_expansion(images, labels):
    """The book's loop, directly: each image, then np.roll by d along axis with the wrapped row
    or column zeroed, for the book's four (d, axis, index_position, index)."""
    pairs = []
    for x, y in zip(images, labels):
        pairs.append((x, y))
        image = np.reshape(x, (-1, 28))
        for d, axis, index_position, index in [(1, 0, "first", 0), (-1, 0, "first", 27),
                                                (1, 1, "last", 0), (-1, 1, "last", 27)]:
            new_img = np.roll(image, d, axis)
            if index_position == "first":
                new_img[index, :] = np.zeros(28)
            else:
                new_img[:, index] = np.zeros(28)
            pairs.append((np.reshape(new_img, 784), y))
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def cache_files(folder):
    return sorted(p for p in folder.glob("mnist-expanded-*.bin")) if folder.is_dir() else []


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("NNXP_DATA_DIR", raising=False)


@pytest.fixture
def synthetic(tmp_path):
    folder = tmp_path / "mnist"
    images, labels = make_mnist(folder)
    return folder, images[:50], labels[:50]


@pytest.fixture
def read_only():
    """chmod a folder to r-x for the test, and back afterwards (so tmp_path can be removed)."""
    folders = []

    def chmod(folder):
        folder.mkdir(parents=True, exist_ok=True)
        folders.append(folder)
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
        return folder
    yield chmod
    for folder in folders:
        folder.chmod(stat.S_IRWXU)


# -- the book's procedure ---------------------------------------------------------------------

def test_shifts_are_the_books_exactly(synthetic):
    _, images, labels = synthetic
    reference = book_expansion(images, labels)
    got = expand(images, labels, shuffle=False)
    assert got[0].dtype == np.uint8 and got[0].shape == (250, 784)
    np.testing.assert_array_equal(got[0], reference[0])
    np.testing.assert_array_equal(got[1], reference[1])
    perm = book_order(250, 7)
    shuffled = expand(images, labels, shuffle=7)
    np.testing.assert_array_equal(shuffled[0], reference[0][perm])
    np.testing.assert_array_equal(shuffled[1], reference[1][perm])


def test_shift_directions_and_the_zeroed_edge():
    """A pixel at (row 27, column 5) and one at (3, 0): down wraps the first to row 0, which is
    zeroed; left wraps the second to column 27, zeroed; every other move is one step."""
    image = np.zeros((28, 28), np.uint8)
    image[27, 5], image[3, 0] = 200, 100
    out, labels = expand(image.reshape(1, 784), np.array([4]), shuffle=False)
    where = [{tuple(p.tolist()): int(v[tuple(p)]) for p in np.argwhere(v)}
             for v in out.reshape(5, 28, 28)]
    assert where == [{(27, 5): 200, (3, 0): 100},   # the original
                     {(4, 0): 100},                  # down
                     {(26, 5): 200, (2, 0): 100},    # up
                     {(27, 6): 200, (3, 1): 100},    # right
                     {(27, 4): 200}]                 # left
    assert labels.tolist() == [4] * 5


@pytest.mark.parametrize("seed, count, head, digest", [
    (0, 10, [9, 4, 0, 5, 2, 7, 1, 3],
     "0c351d5471651600708f23c2fc7a17922523647c3f5f7502ed01191a12e43b1e"),
    (0, 250_000, [152460, 203148, 11726, 16249, 155228, 247893, 246925, 139410],
     "1b51c7d01af8fcecc323cf7b73663c1de733a8dddbe77d3da71999956d18b290"),
    (12345, 1000, [698, 336, 942, 364, 958, 420, 204, 748],
     "6c2d649c73b2dbe2aea60feab19cd2cca35b83202f4a484938d368b9c6206c58"),
    (2 ** 40 + 7, 1000, [597, 325, 759, 420, 982, 660, 538, 773],
     "f6aefafe2163c3372a9a09ca486f86c1c62c41a20a53a50c318aa36454b21a55"),
])
def test_book_order_is_python_2_7s_shuffle(seed, count, head, digest):
    perm = book_order(count, seed).tolist()
    assert perm[:8] == head
    assert hashlib.sha256(",".join(map(str, perm)).encode()).hexdigest() == digest


def test_book_order_is_not_python_3s_shuffle():
    """Why book_order exists: Python 3's random.shuffle gives another order from one seed."""
    python3 = list(range(10))
    random.Random(0).shuffle(python3)
    assert book_order(10, 0).tolist() != python3


# -- expand_mnist -----------------------------------------------------------------------------

def test_counts_labels_and_the_other_splits(synthetic):
    folder, images, labels = synthetic
    (X, y), validation, test = expand_mnist(folder, shuffle=False, cache=False,
                                            download=False, backend="numpy")
    assert X.shape == (250, 784) and y.shape == (250,)
    assert y.tolist() == np.repeat(labels, 5).tolist()   # 5 times per original image
    np.testing.assert_array_equal(X[::5], images / np.float32(255))
    (X0, y0), validation0, test0 = load_mnist(folder, download=False, backend="numpy")
    for got, want in zip(validation + test, validation0 + test0):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype and not got.flags.writeable
    (Xs, ys), _, _ = expand_mnist(folder, cache=False, download=False, backend="numpy")
    assert np.bincount(ys, minlength=10).tolist() == \
        (5 * np.bincount(labels, minlength=10)).tolist()
    assert not np.array_equal(ys, y)


def test_same_form_as_load_mnist(synthetic):
    folder, images, labels = synthetic
    for kw in ({}, {"dtype": "float64"}, {"one_hot": True}, {"one_hot": True, "dtype": "float64"}):
        (X, y), _, _ = expand_mnist(folder, cache=False, download=False, backend="numpy", **kw)
        (X0, y0), _, _ = load_mnist(folder, download=False, backend="numpy", **kw)
        assert (X.dtype, y.dtype, X.shape[1:], y.shape[1:]) == \
            (X0.dtype, y0.dtype, X0.shape[1:], y0.shape[1:])
        assert not X.flags.writeable and not y.flags.writeable
        assert X.min() == 0 and X.max() <= 1


def test_digits_and_limits(synthetic):
    folder, images, labels = synthetic
    (X, y), (Xv, yv), (Xt, yt) = expand_mnist(folder, cache=False, download=False,
                                              backend="numpy", digits=(0, 1), n_train=12,
                                              n_test=3)
    full = expand_mnist(folder, cache=False, download=False, backend="numpy")
    keep = np.isin(full[0][1], (0, 1))
    np.testing.assert_array_equal(X, full[0][0][keep][:12])
    assert set(y.tolist()) <= {0, 1} and len(y) == 12 and len(yt) == 3
    with pytest.raises(ConfigError, match="n_train=251"):
        expand_mnist(folder, cache=False, download=False, n_train=251)


def test_on_every_backend(backend, synthetic):
    folder, images, labels = synthetic
    (X, y), (Xv, yv), _ = expand_mnist(folder, cache=False, download=False)
    (Xn, yn), (Xvn, yvn), _ = expand_mnist(folder, cache=False, download=False,
                                           backend="numpy")
    assert backend.owns(X) and backend.owns(yv)
    np.testing.assert_array_equal(to_numpy(X), Xn)
    np.testing.assert_array_equal(to_numpy(y), yn)
    np.testing.assert_array_equal(to_numpy(Xv), Xvn)


def test_deterministic(synthetic):
    folder, _, _ = synthetic
    runs = [expand_mnist(folder, cache=False, download=False, backend="numpy", shuffle=s)[0]
            for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][1], runs[2][1])


@pytest.mark.parametrize("kw, error, match", [
    ({"shuffle": True}, ConfigError, "shuffle must be a non-negative integer seed"),
    ({"shuffle": -1}, ConfigError, "shuffle must be"),
    ({"shuffle": 1.5}, ConfigError, "shuffle must be"),
    ({"cache": True}, ConfigError, "cache must be None"),
    ({"cache": 42}, InputTypeError, "cache folder path must be a str"),
])
def test_bad_arguments(synthetic, kw, error, match):
    folder, _, _ = synthetic
    with pytest.raises(error, match=match):
        expand_mnist(folder, download=False, **kw)


def test_expand_refuses_other_shapes():
    with pytest.raises(DataError, match=r"images \(n, 784\) and labels \(n,\)"):
        expand(np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.uint8))


# -- the cache --------------------------------------------------------------------------------

def load(folder, **kw):
    kw = {"download": False, "backend": "numpy", **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)   # a silent test must not warn
        return expand_mnist(folder, **kw)[0]


def test_cache_written_once_next_to_mnist_then_reused(synthetic, tmp_path, monkeypatch):
    folder, images, labels = synthetic
    X, y = load(folder)
    files = cache_files(folder)
    assert len(files) == 1 and files[0].name.endswith("-seed0.bin")
    assert files[0].stat().st_size > 250 * 785
    assert not cache_files(tmp_path / "xdg" / "nnxp")
    assert not [p for p in folder.iterdir() if "nnxp-tmp" in p.name]   # no temporaries left
    before = files[0].stat().st_mtime_ns, files[0].stat().st_ino

    def fail(*args, **kw):
        raise AssertionError("recomputed although a valid cache exists")
    monkeypatch.setattr(expanded, "expand", fail)
    X2, y2 = load(folder)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert (files[0].stat().st_mtime_ns, files[0].stat().st_ino) == before


def test_cache_per_shuffle_and_source(synthetic, tmp_path):
    folder, _, _ = synthetic
    load(folder)
    load(folder, shuffle=3)
    load(folder, shuffle=False)
    names = [p.name for p in cache_files(folder)]
    assert len(names) == 3 and any(n.endswith("-unshuffled.bin") for n in names)
    other = tmp_path / "other"
    make_mnist(other, seed=1)
    load(other, cache=folder)   # other images: another file in the same folder
    assert len(cache_files(folder)) == 4


def test_cache_in_a_named_folder(synthetic, tmp_path):
    folder, _, _ = synthetic
    X, _ = load(folder, cache=tmp_path / "mine" / "deep")
    assert len(cache_files(tmp_path / "mine" / "deep")) == 1 and not cache_files(folder)
    np.testing.assert_array_equal(X, load(folder, cache=False)[0])


def corrupt_data(file):
    data = bytearray(file.read_bytes())
    data[-300] ^= 0x01   # one bit of one pixel
    file.write_bytes(bytes(data))


def truncate(file):
    file.write_bytes(file.read_bytes()[:-10])


def edit_header(file):
    fmt, line, rest = file.read_bytes().split(b"\n", 2)
    header = json.loads(line)
    header["count"] = 10
    file.write_bytes(fmt + b"\n" + json.dumps(header).encode() + b"\n" + rest)


def edit_source(file):
    data = file.read_bytes()
    i = data.index(b'"source_sha256": "') + len(b'"source_sha256": "')
    file.write_bytes(data[:i] + (b"0" if data[i:i + 1] != b"0" else b"1") + data[i + 1:])


def garbage(file):
    file.write_bytes(b"not a cache\n")


@pytest.mark.parametrize("damage, reason", [
    (corrupt_data, "do not match the SHA-256 in its header"),
    (truncate, "truncated"),
    (edit_header, "its header has count=10"),
    (edit_source, "its header has source_sha256="),
    (garbage, "does not start with the expanded-MNIST format line"),
])
def test_damaged_cache_is_refused_and_recomputed(synthetic, damage, reason):
    folder, _, _ = synthetic
    X, y = load(folder)
    file, = cache_files(folder)
    damage(file)
    with pytest.warns(CacheWarning, match=reason):
        (X2, y2), _, _ = expand_mnist(folder, download=False, backend="numpy")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    np.testing.assert_array_equal(load(folder)[0], X)   # rewritten: no warning now


def test_read_only_data_folder_falls_back_to_the_user_cache(synthetic, tmp_path, read_only):
    folder, _, _ = synthetic
    read_only(folder)
    X, y = load(folder)
    assert not cache_files(folder)
    assert len(cache_files(tmp_path / "xdg" / "nnxp")) == 1
    np.testing.assert_array_equal(load(folder)[0], X)


def test_valid_cache_in_a_read_only_folder_is_read(synthetic, tmp_path, read_only):
    folder, _, _ = synthetic
    X, _ = load(folder)
    read_only(folder)
    np.testing.assert_array_equal(load(folder)[0], X)
    assert not cache_files(tmp_path / "xdg" / "nnxp")


def test_nothing_writable_computes_in_memory(synthetic, tmp_path, read_only):
    folder, _, _ = synthetic
    read_only(folder)
    read_only(tmp_path / "xdg")
    with pytest.warns(CacheWarning, match="computed in memory and not cached"):
        (X, y), _, _ = expand_mnist(folder, download=False, backend="numpy")
    np.testing.assert_array_equal(X, load(folder, cache=False)[0])
    assert not cache_files(folder) and not cache_files(tmp_path / "xdg" / "nnxp")


def test_a_named_read_only_folder_is_an_error(synthetic, tmp_path, read_only):
    folder, _, _ = synthetic
    mine = read_only(tmp_path / "mine")
    with pytest.raises(FileError, match="read-only.*cache=False"):
        expand_mnist(folder, download=False, cache=mine)


def test_a_failed_write_leaves_the_old_file(synthetic, monkeypatch):
    """The writer is nnxp.files' atomic one: a crash in the middle keeps the previous file."""
    folder, _, _ = synthetic
    load(folder)
    file, = cache_files(folder)
    corrupt_data(file)
    damaged = file.read_bytes()

    def crash(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        expand_mnist(folder, download=False, backend="numpy")
    assert file.read_bytes() == damaged
    assert not [p for p in folder.iterdir() if "nnxp-tmp" in p.name]


# -- real MNIST -------------------------------------------------------------------------------

def test_real_mnist(tmp_path, monkeypatch):
    for key, value in REAL_ENV.items():   # the real folder, by nnxp's rule, as outside the tests
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    folder = mnist_dir()   # skips without the real files (fails with NNXP_REQUIRE_DATA=1)
    (X, y), validation, test = expand_mnist(folder, cache=tmp_path, download=False,
                                            backend="numpy")
    assert X.shape == (250_000, 784) and X.dtype == np.float32 and y.shape == (250_000,)
    (X0, y0), validation0, test0 = load_mnist(folder, download=False, backend="numpy")
    assert np.bincount(y).tolist() == (5 * np.bincount(y0)).tolist()
    for got, want in zip(validation + test, validation0 + test0):
        np.testing.assert_array_equal(got, want)
    perm = book_order(250_000, 0)
    rows = [0, 1, 2, 3, 4, 123_456, 249_999]
    originals = X0[perm[rows] // 5] * np.float32(255)
    reference, _ = book_expansion(originals.round().astype(np.uint8), y0[perm[rows] // 5])
    picked = reference.reshape(len(rows), 5, 784)[np.arange(len(rows)), perm[rows] % 5]
    np.testing.assert_array_equal(X[rows], picked / np.float32(255))
    assert y[rows].tolist() == y0[perm[rows] // 5].tolist()
    file, = cache_files(tmp_path)
    assert file.stat().st_size > 250_000 * 785
