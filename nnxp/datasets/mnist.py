"""MNIST: the four IDX files, Nielsen's 50,000 / 10,000 / 10,000 split, on any backend.

    load_mnist(path=None, *, download=True, one_hot=False, digits=None,
               n_train=None, n_validation=None, n_test=None,
               dtype="float32", backend=None, progress=None)
        -> ((X, y) training, (X, y) validation, (X, y) test)

        X   (n, 784) pixel / 255 in [0, 1], "float32" (default) or "float64", one row per image
        y   (n,) integer labels 0-9 in the backend's index dtype, or with one_hot=True
            (n, 10) one-hot rows in X's dtype

The book's lists of column pairs (``load_data_wrapper``) are nnxp.compat.mnist_loader's.

    >>> (X, y), validation, test = load_mnist(digits=(0, 1), n_train=1000)

    mnist_folder(path=None) -> str     where they are read from, by the rule below
    mnist_available(path=None) -> bool whether the four files are there
    MissingMNIST                       the DataError of a missing folder or file, also a
                                       FileNotFoundError (``except OSError`` catches it, as
                                       it caught the book's ``open('../data/mnist.pkl.gz')``)

``download`` and ``one_hot`` are True or False and ``progress`` None, True or False (a string
such as "no" is a ConfigError, not a truth value); ``path`` a str or os.PathLike.

Where the files are: ``path``, else ``$NNXP_DATA_DIR``, else the user cache folder
(``$XDG_CACHE_HOME/nnxp/mnist``, default ``~/.cache/nnxp/mnist``).  The first of these that is
given is *the* folder: the files are looked for there (gzipped or not, names as in ``FILES``)
and downloaded there.  A folder named by ``path`` or ``$NNXP_DATA_DIR`` must exist (a mistyped
name is a DataError, never a new folder); only the user cache folder is created.  Files found there are read without a checksum: a folder the user points
at is trusted (the offline copy in this project has rebuilt training images that do not match
the published SHA-256).  Downloaded files must match the published SHA-256 in ``FILES`` before
they get their name (see ``_download.py``); ``MIRRORS`` are tried in order.

Files are read as streams, their IDX headers checked before any data: images must be 28 x 28,
a file may announce at most ``MAX_IMAGES`` (70,000, all of MNIST) and must hold exactly the
bytes it announces, so a damaged file or a decompression bomb is a DataError before anything
large is allocated.

The split is Nielsen's: training = the first 50,000 images of the training file, validation =
its last 10,000, test = the test file.  For a training file of another length n (a subset,
the small synthetic files of the tests) validation is its last min(10,000, n // 6) images: the
same last sixth as for the real 60,000.  Then ``digits`` keeps only those digits in every split
(labels keep their values; Nielsen suggests starting with 0s and 1s), and ``n_train``,
``n_validation``, ``n_test`` keep the first n of each split.

Why the host: pixels are scaled on the host in the requested dtype, so every backend receives
the same bits, and each array then goes to the device once (``Backend.asarray``).  The decoded
uint8 files are cached in memory (per file, refreshed when the file changes), so repeated calls
are fast; every call returns fresh arrays (NumPy arrays read-only, so that SGD prepares them
once: ``X.copy()`` for a writeable one).
"""

from __future__ import annotations

import errno
import gzip
import os
import zlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from .. import checks
from ..backends import resolve
from ..errors import ConfigError, DataError
from ..files import as_path
from ._download import DownloadFailed, fetch

__all__ = ["FILES", "MAX_IMAGES", "MIRRORS", "MissingMNIST", "MnistFile", "load_mnist",
           "mnist_folder", "mnist_available"]


class MnistFile(NamedTuple):
    name: str     # file name, here and on the mirrors (the un-gzipped name is accepted too)
    sha256: str   # published SHA-256 of the gzip file, checked on download only
    size: int     # its size in bytes


# Published SHA-256 sums and sizes of the gzip files (where they come from: docs/datasets.md).
FILES = MappingProxyType({
    "train_images": MnistFile(
        "train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
    "train_labels": MnistFile(
        "train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
    "test_images": MnistFile(
        "t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
    "test_labels": MnistFile(
        "t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
})

# Tried in order; the first is torchvision's mirror, the second TensorFlow's.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

_IMAGES, _LABELS = 2051, 2049   # IDX magic: 0x08 (unsigned byte) << 8 | number of dimensions
_SIDE = 28
MAX_IMAGES = 70_000   # all of MNIST (60,000 training + 10,000 test): no MNIST file holds more
_CHUNK = 1 << 20      # bytes read at a time; also the most read past the announced end
_VALIDATION = 10_000
_cache: dict[str, tuple[tuple[int, int], np.ndarray]] = {}   # realpath -> (stat key, uint8)


def load_mnist(path=None, *, download=True, one_hot=False, digits=None,
               n_train=None, n_validation=None, n_test=None,
               dtype="float32", backend=None, progress=None):
    """MNIST as ``(training, validation, test)`` pairs ``(X, y)``; see the module docstring."""
    dtype, keep, limits = _options(dtype, digits, n_train, n_validation, n_test)
    download, one_hot, progress = _flags(download, one_hot, progress)
    return _finish(_splits(path, download, progress), resolve(backend), keep, limits, one_hot,
                   dtype)


def _flags(download, one_hot, progress):
    """``download`` and ``one_hot`` True or False, ``progress`` None, True or False: a string
    such as "no" is refused, not taken as true (download="no" would download)."""
    return (checks.flag("download", download), checks.flag("one_hot", one_hot),
            None if progress is None else checks.flag("progress", progress))


def _options(dtype, digits, n_train, n_validation, n_test):
    """(dtype, digits kept or None, {"n_train": n or None, ...}), checked."""
    return checks.dtype(dtype), _check_digits(digits), {
        name: checks.optional_int(name, n) for name, n in
        [("n_train", n_train), ("n_validation", n_validation), ("n_test", n_test)]}


def _splits(path, download, progress):
    """Nielsen's (training, validation, test) pairs of read-only uint8 arrays: the last
    _VALIDATION training images are the validation set."""
    files = _locate(path, download, progress)
    train_x, train_y = _pair(files, "train")
    cut = len(train_y) - min(_VALIDATION, len(train_y) // 6)
    return (train_x[:cut], train_y[:cut]), (train_x[cut:], train_y[cut:]), _pair(files, "test")


def _finish(splits, be, keep, limits, one_hot, dtype):
    """Each split filtered (``digits``, ``n_*``) and converted for the backend."""
    out = []
    for (x, y), (name, n) in zip(splits, limits.items()):
        if keep is not None:
            mask = np.isin(y, keep)
            x, y = x[mask], y[mask]
        if n is not None:
            if n > len(y):
                raise ConfigError(f"{name}={checks.show(n)}, but that split has only {len(y)} images"
                                  + (f" of the digits {tuple(keep.tolist())}"
                                     if keep is not None else ""))
            x, y = x[:n], y[:n]
        out.append(_to_backend(be, x, y, one_hot, dtype))
    return tuple(out)


# -- arguments --------------------------------------------------------------------------------

def _check_digits(digits):
    if digits is None:
        return None
    values = (digits,) if isinstance(digits, (int, np.integer)) else digits
    try:
        values = [] if isinstance(values, Mapping) else list(values)
    except TypeError:
        values = [digits]
    good = [d for d in values if isinstance(d, (int, np.integer)) and not isinstance(d, bool)
            and 0 <= d <= 9]
    if not values or len(good) != len(values):
        raise ConfigError(f"digits must be a non-empty collection of the digits 0-9, "
                          f"such as digits=(0, 1); got {checks.show(digits)}")
    return np.array(sorted({int(d) for d in values}))


# -- files ------------------------------------------------------------------------------------

def mnist_folder(path=None) -> str:
    """The folder MNIST is read from (and downloaded to), by the one rule every part of nnxp
    follows: ``path``, else ``$NNXP_DATA_DIR``, else the user cache folder
    (``$XDG_CACHE_HOME/nnxp/mnist``, default ``~/.cache/nnxp/mnist``)."""
    return _folder(path)[0]


def mnist_available(path=None) -> bool:
    """Whether the four MNIST files are in ``mnist_folder(path)`` (nothing is downloaded)."""
    folder = mnist_folder(path)
    return all(_find(folder, f.name) for f in FILES.values())


_PATH, _ENV, _CACHE = "given as path=", "from NNXP_DATA_DIR", "the user cache folder"


def _folder(path):
    """The folder to use and the words that say where it came from."""
    if path is not None:
        return as_path(path, "MNIST folder"), _PATH
    if os.environ.get("NNXP_DATA_DIR"):
        return os.environ["NNXP_DATA_DIR"], _ENV
    return _cache_folder(), _CACHE


class MissingMNIST(DataError, FileNotFoundError):
    """MNIST's folder or files are not there (and could not be downloaded): a DataError and a
    FileNotFoundError, ``errno`` ENOENT and ``filename`` the folder."""

    def __init__(self, message, folder):
        super().__init__(message)
        self.errno, self.strerror, self.filename = errno.ENOENT, os.strerror(errno.ENOENT), \
            folder

    def __str__(self) -> str:
        return self.args[0]  # nnxp's message, not OSError's "[Errno 2] ..."


def _cache_folder():
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "nnxp", "mnist")


def _find(folder, name):
    for candidate in (name, name.removesuffix(".gz")):
        candidate = os.path.join(folder, candidate)
        if os.path.isfile(candidate):
            return candidate
    return None


def _locate(path, download, progress):
    """{role: file path} for the four files, downloading the missing ones if allowed."""
    folder, source = _folder(path)
    if source != _CACHE and not os.path.isdir(folder):
        raise MissingMNIST(
            f"MNIST folder {folder} ({source}) "
            f"{'is a file, not a folder' if os.path.exists(folder) else 'does not exist'}; "
            f"nnxp reads MNIST from, and "
            "downloads it into, a folder you name only when it exists: check the name, or "
            "create the folder (downloading or copying the four MNIST files fills it)"
            + (f", or unset NNXP_DATA_DIR to use the user cache folder {_cache_folder()}"
               if source == _ENV else ""), folder)
    found = {role: _find(folder, f.name) for role, f in FILES.items()}
    reason = ("downloading is off (download=False; examples/train.py: --no-download), so "
              "nothing was downloaded")
    if download:
        try:
            for role in [r for r, p in found.items() if p is None]:
                found[role] = fetch(FILES[role].name, folder, MIRRORS, FILES[role].sha256,
                                    progress, size=FILES[role].size)
        except DownloadFailed as exc:
            reason = f"the download failed ({exc})"
        except OSError as exc:
            reason = f"the download failed: cannot write to {folder} ({exc})"
    missing = [FILES[r].name for r, p in found.items() if p is None]
    if missing:
        raise MissingMNIST(
            f"MNIST files missing in {folder} ({source}): {', '.join(missing)}; {reason}. "
            "Copy the four MNIST files (gzipped or not) there, or point NNXP_DATA_DIR "
            "(or load_mnist(path=...), or examples/train.py's --data-dir) at a folder that "
            "holds them"
            + ("" if download else ", or allow downloading (load_mnist(download=True), the "
               "default; examples/train.py without --no-download) to fetch them from "
               + " or ".join(MIRRORS)), folder)
    return found


def _pair(files, split):
    x = _read(files[f"{split}_images"], _IMAGES)
    y = _read(files[f"{split}_labels"], _LABELS)
    if len(x) != len(y):
        raise DataError(f"{files[f'{split}_images']} holds {len(x)} images but "
                        f"{files[f'{split}_labels']} holds {len(y)} labels; the two files "
                        "must describe the same images")
    return x, y


def _read(filepath, magic):
    """The decoded file as a read-only uint8 array, from the cache when the file is unchanged."""
    stat = os.stat(filepath)
    key, real = (stat.st_size, stat.st_mtime_ns), os.path.realpath(filepath)
    if real not in _cache or _cache[real][0] != key:
        _cache[real] = (key, _parse_idx(filepath, magic))
    return _cache[real][1]


def _parse_idx(filepath, magic):
    """IDX: big-endian int32 magic, one big-endian int32 per dimension, then uint8 data, read
    as a stream (the module docstring): exactly the announced bytes, and at most ``_CHUNK``
    more to detect trailing data."""
    kind, ndim = ("images", 3) if magic == _IMAGES else ("labels", 1)
    try:
        with (gzip.open if filepath.endswith(".gz") else open)(filepath, "rb") as f:
            array, dims = _read_idx(f, filepath, magic, kind, ndim)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{filepath} is not a valid gzip file, or is truncated ({exc}); "
                        "delete it and download or copy it again") from None
    except OSError as exc:
        raise DataError(f"cannot read {filepath}: {exc}") from None
    array.flags.writeable = False   # read-only: safe to cache
    if kind == "labels":
        if array.size and array.max() > 9:
            raise DataError(f"{filepath} holds label {array.max()}; MNIST labels are 0-9")
        return array
    return array.reshape(dims[0], _SIDE * _SIDE)


def _read_idx(f, filepath, magic, kind, ndim):
    """(uint8 array of the data, dims) from the open file ``f``; see _parse_idx."""
    header = 4 + 4 * ndim
    head = f.read(header)
    if len(head) < header:
        raise DataError(f"{filepath} is too short ({len(head)} bytes) to be an IDX file "
                        f"of MNIST {kind}")
    found = int.from_bytes(head[:4], "big")
    if found != magic:
        raise DataError(f"{filepath} is not an IDX file of MNIST {kind}: magic number "
                        f"{found}, expected {magic}")
    dims = [int.from_bytes(head[4 * i:4 * i + 4], "big") for i in range(1, ndim + 1)]
    if kind == "images" and dims[1:] != [_SIDE, _SIDE]:
        raise DataError(f"{filepath} holds {dims[1]} x {dims[2]} images; MNIST images "
                        f"are {_SIDE} x {_SIDE}")
    if dims[0] > MAX_IMAGES:
        raise DataError(f"{filepath}: its header announces {dims[0]:,} {kind}; an MNIST file "
                        f"holds at most {MAX_IMAGES:,} (all of MNIST), so it is refused "
                        "before reading it (a corrupted file, or one that only looks like "
                        "MNIST)")
    size = int(np.prod(dims))
    expected = header + size
    array = np.empty(size, np.uint8)
    view, got = memoryview(array), 0
    while got < size:
        n = f.readinto(view[got:got + _CHUNK])
        if not n:
            break
        got += n
    extra = 0 if got < size else len(f.read(_CHUNK))
    if got < size or extra:
        holds = (f"more than {expected + extra:,}" if extra == _CHUNK
                 else f"{header + got + extra}")
        raise DataError(f"{filepath}: its header announces {' x '.join(map(str, dims))} "
                        f"{kind} ({expected} bytes) but it holds {holds} bytes; the file "
                        "is truncated or corrupted")
    return array, dims


def _to_backend(be, x, y, one_hot, dtype):
    """Scale on the host in ``dtype`` (fresh arrays), then one transfer each.  Host (NumPy)
    arrays come back read-only: SGD then checks and converts them once, not at every call
    (nnxp.data); ``X.copy()`` gives a writeable one."""
    x = x.astype(dtype)
    x /= 255
    y = np.eye(10, dtype=dtype)[y] if one_hot else y.astype(np.int64)
    out = be.asarray(x, dtype), be.asarray(y, dtype if one_hot else "index")
    for a in out:
        if isinstance(a, np.ndarray) and a.base is None:
            a.flags.writeable = False
    return out
