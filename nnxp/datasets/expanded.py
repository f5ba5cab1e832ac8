"""The book's expanded MNIST training set (its ``expand_mnist.py``), cached on disk.

    expand_mnist(path=None, *, cache=None, shuffle=0, download=True, one_hot=False,
                 digits=None, n_train=None, n_validation=None, n_test=None,
                 dtype="float32", backend=None, progress=None)
        -> ((X, y) expanded training, (X, y) validation, (X, y) test)

        Training: each of the training images of Nielsen's split (50,000 for the real files)
        kept and shifted by one pixel down, up, right and left: 5 x 50,000 = 250,000 images.
        Validation and test: exactly as ``load_mnist`` gives them.  Every argument but
        ``cache`` and ``shuffle`` means what it means for ``load_mnist``, and the arrays come
        back in the same form (``digits`` and ``n_train`` apply to the expanded set: ``n_train``
        keeps its first n images).

    expand(images, labels, shuffle=0) -> (images, labels)
        The expansion itself on uint8 host arrays: images (n, 784), labels (n,) ->
        (5n, 784), (5n,).
    book_order(count, seed) -> (count,) int64
        The permutation the book's ``random.shuffle`` applies after ``random.seed(seed)``.

    >>> (X, y), validation, test = expand_mnist()      # X (250000, 784) float32

The shifts are the book's, exactly: ``np.roll`` by one pixel, then the row or column that
wrapped around is set to 0.  Before shuffling, image k is followed by its four shifts, in the
book's order: rows 5k .. 5k+4 are the original, down (roll +1 along the rows, row 0 zeroed), up
(roll -1, row 27 zeroed), right (roll +1 along the columns, column 0 zeroed) and left (roll -1,
column 27 zeroed).  The label of each shift is its original's, so each label appears five times
per original image.

The order: the book shuffles the 250,000 pairs with Python's ``random.shuffle`` and never seeds
``random``, so its file has a different order on every run.  ``shuffle=seed`` (default 0) gives
the order the book's script produces, under the Python 2.7 it was written for, when
``random.seed(seed)`` runs before it: Python 2.7's ``shuffle`` algorithm (j = int(random() *
(i + 1)) for i from the end down) over the Mersenne Twister stream ``random.Random(seed)``,
whose ``random()`` sequence Python guarantees not to change between versions (Python 3's
``random.shuffle`` draws differently, and NumPy's generators promise no stable stream).  It
is deterministic on every platform and Python version and needs no NumPy RNG.
``shuffle=False`` keeps the unshuffled order above.

The cache: the uint8 result (785 bytes per image: 196 MB for 250,000; not compressed, because
decompressing costs about as much as computing the set again) in a file named after the SHA-256
of the source training images and labels and the shuffle, e.g.
``mnist-expanded-<12 hex digits>-seed0.bin``.  The file is a line naming the format, a JSON
header line (format version, shuffle, count, source SHA-256, data size and SHA-256), then the
images (count x 784 bytes) and the labels (count bytes).  It is used only when all of these
match and the data hash to the recorded SHA-256; otherwise it is recomputed and replaced, with
a ``CacheWarning`` naming the file and the reason: it is never trusted.  Files are written
atomically (``nnxp.files``): a crash leaves the old file or the new one, never half of one.
Where:

- ``cache=None`` (default): next to MNIST, in ``mnist_folder(path)`` (nnxp's one rule:
  ``path``, else ``$NNXP_DATA_DIR``, else the user cache folder), else in the user cache folder
  ``$XDG_CACHE_HOME/nnxp`` (default ``~/.cache/nnxp``).  Both are read; the first that can be
  written is written.  A folder without write permission bits (such as a shared read-only copy
  of the data) counts as read-only even for root, who could write there.  When neither can be
  written, the set is computed in memory and a ``CacheWarning`` says so: nothing fails.
- ``cache=folder``: that folder only; a failure to write there is a ``FileError``.
- ``cache=False``: computed in memory, nothing read or written.

Memory: the uint8 set is 196 MB; the float32 result 784 MB (float64: 1.6 GB), converted once
from uint8 on the host like ``load_mnist``'s arrays.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import warnings

import numpy as np

from ..backends import resolve
from ..checks import SEED_DIGITS, show
from ..errors import ConfigError, DataError, FileError
from ..files import as_path, atomic_write_bytes, read_bytes
from .mnist import _finish, _flags, _folder, _options, _splits

__all__ = ["CacheWarning", "book_order", "expand", "expand_mnist"]

_SIDE = 28
_PIXELS = _SIDE * _SIDE
_FORMAT = b"nnxp expanded MNIST\n"
_VERSION = 1
_HEADER_MAX = 4096    # bytes of the first two lines


class CacheWarning(UserWarning):
    """A cache file was refused and recomputed, or the result could not be cached."""


def expand_mnist(path=None, *, cache=None, shuffle=0, download=True, one_hot=False,
                 digits=None, n_train=None, n_validation=None, n_test=None,
                 dtype="float32", backend=None, progress=None):
    """The book's expanded MNIST as ``(training, validation, test)`` pairs ``(X, y)``; see the
    module docstring."""
    dtype, keep, limits = _options(dtype, digits, n_train, n_validation, n_test)
    download, one_hot, progress = _flags(download, one_hot, progress)
    order = _check_shuffle(shuffle)
    folders, strict = _cache_folders(path, cache)
    be = resolve(backend)
    (train_x, train_y), validation, test = _splits(path, download, progress)
    train, notes = _cached_expansion(train_x, train_y, order, folders, strict)
    for note in notes:
        warnings.warn(note, CacheWarning, stacklevel=2)
    return _finish((train, validation, test), be, keep, limits, one_hot, dtype)


# -- the expansion ----------------------------------------------------------------------------

def expand(images, labels, shuffle=0):
    """Each image (a row of 784 uint8 pixels) followed by its four one-pixel shifts (down, up,
    right, left, each with the wrapped row or column zeroed), then shuffled in the book's
    order (``shuffle=seed``) or not (``shuffle=False``)."""
    order = _check_shuffle(shuffle)
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != _PIXELS or labels.shape != images.shape[:1]:
        raise DataError(f"expand takes images (n, {_PIXELS}) and labels (n,), got "
                        f"{images.shape} and {labels.shape}")
    n = len(images)
    image = images.reshape(n, _SIDE, _SIDE)
    out = np.zeros((n, 5, _SIDE, _SIDE), dtype=images.dtype)
    out[:, 0] = image
    out[:, 1, 1:, :] = image[:, :-1, :]   # down:  np.roll(+1, rows),    row 0 zeroed
    out[:, 2, :-1, :] = image[:, 1:, :]   # up:    np.roll(-1, rows),    row 27 zeroed
    out[:, 3, :, 1:] = image[:, :, :-1]   # right: np.roll(+1, columns), column 0 zeroed
    out[:, 4, :, :-1] = image[:, :, 1:]   # left:  np.roll(-1, columns), column 27 zeroed
    out, labels = out.reshape(5 * n, _PIXELS), np.repeat(labels, 5)
    if order is False:
        return out, labels
    perm = book_order(5 * n, order)
    return out[perm], labels[perm]


def book_order(count, seed):
    """``p`` such that ``pairs[p]`` is the list the book's ``random.shuffle(pairs)`` leaves,
    under Python 2.7, after ``random.seed(seed)``; see the module docstring."""
    random_ = random.Random(seed).random
    perm = list(range(count))
    for i in range(count - 1, 0, -1):
        j = int(random_() * (i + 1))
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm, dtype=np.int64)


def _check_shuffle(shuffle):
    if shuffle is False:
        return False
    if isinstance(shuffle, (int, np.integer)) and not isinstance(shuffle, bool) \
            and 0 <= shuffle < 10 ** SEED_DIGITS:  # the seed names the cached file
        return int(shuffle)
    raise ConfigError(f"shuffle must be a non-negative integer seed of at most {SEED_DIGITS} "
                      f"digits (the book's order after "
                      f"random.seed(seed)) or False (each image followed by its four shifts), "
                      f"got {show(shuffle)}")


# -- the cache --------------------------------------------------------------------------------

def _cache_folders(path, cache):
    """(folders to look in and write to, in order; whether a write failure is an error)."""
    if cache is False:
        return [], False
    if cache is None:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folders = [_folder(path)[0], os.path.join(xdg, "nnxp")]
        return list(dict.fromkeys(os.path.abspath(f) for f in folders)), False
    if cache is True:
        raise ConfigError("cache must be None (next to MNIST, else ~/.cache/nnxp), a folder "
                          "path, or False (no cache), got True")
    return [as_path(cache, "expanded-MNIST cache folder")], True


def _cached_expansion(x, y, order, folders, strict):
    """((images, labels) uint8, warnings) from the first valid cache file, else computed and
    written to the first folder that takes it."""
    source = _sha256(x, y)
    tail = "unshuffled" if order is False else f"seed{order}"
    name = f"mnist-expanded-{source[:12]}-{tail}.bin"
    expected = {"version": _VERSION, "shuffle": order, "count": 5 * len(y), "side": _SIDE,
                "source_sha256": source}
    notes = []
    for folder in folders:
        file = os.path.join(folder, name)
        if not os.path.lexists(file):
            continue
        try:
            return _read(file, expected), notes
        except DataError as exc:
            notes.append(f"the expanded-MNIST cache {file} was not used: {exc}; recomputing")
    arrays = expand(x, y, order)
    failures = []
    for folder in folders:
        try:
            _check_not_read_only(folder)
            _write(os.path.join(folder, name), expected, *arrays)
            return arrays, notes
        except FileError as exc:
            if strict:
                raise FileError(f"{exc}; pass cache=False to compute the expanded set in "
                                "memory without a cache", filename=exc.filename,
                                errno=exc.errno) from None
            failures.append(str(exc))
    if folders:
        notes.append("the expanded MNIST set was computed in memory and not cached (it will be "
                     "computed again next time): " + "; ".join(failures))
    return arrays, notes


def _check_not_read_only(folder):
    """A FileError if ``folder`` (or, before it exists, its nearest existing parent) has no
    write permission bits: such a folder is read-only by its owner's decision, honoured even
    by a process (root) that could write there anyway."""
    existing = os.path.abspath(folder)
    while not os.path.lexists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    try:
        mode = os.stat(existing).st_mode
    except OSError:
        return   # the write itself will say why
    if not mode & 0o222:
        raise FileError(f"cannot save the expanded-MNIST cache in {folder!r}: "
                        f"{existing!r} is read-only (it has no write permission bits)",
                        filename=existing, errno=errno.EACCES)


def _sha256(*arrays):
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a, dtype=np.uint8))
    return digest.hexdigest()


def _write(file, expected, images, labels):
    images, labels = np.ascontiguousarray(images), np.ascontiguousarray(labels, np.uint8)
    header = dict(expected, data_bytes=images.nbytes + labels.nbytes,
                  data_sha256=_sha256(images, labels))
    line = json.dumps(header, sort_keys=True).encode("ascii") + b"\n"
    data = b"".join([_FORMAT, line, memoryview(images).cast("B"), memoryview(labels)])
    atomic_write_bytes(file, data, what="expanded-MNIST cache")


def _read(file, expected):
    """The cached (images, labels), or a DataError saying why the file cannot be used."""
    count = expected["count"]
    size = count * (_PIXELS + 1)
    data = read_bytes(file, max_bytes=_HEADER_MAX + size, what="expanded-MNIST cache")
    if not data.startswith(_FORMAT):
        raise DataError("it does not start with the expanded-MNIST format line")
    end = data.find(b"\n", len(_FORMAT), _HEADER_MAX)
    header = _header(data[len(_FORMAT):end] if end > 0 else b"")
    for key, value in dict(expected, data_bytes=size).items():
        if header.get(key) != value or type(header.get(key)) is not type(value):
            raise DataError(f"its header has {key}={show(header.get(key))}, expected {value!r}")
    flat = np.frombuffer(data, np.uint8, offset=end + 1)
    if flat.size != size:
        raise DataError(f"it holds {flat.size} bytes of data, its header announces {size} "
                        "(the file is truncated or has bytes appended)")
    images, labels = flat[:count * _PIXELS].reshape(count, _PIXELS), flat[count * _PIXELS:]
    if _sha256(images, labels) != header.get("data_sha256"):
        raise DataError("its data do not match the SHA-256 in its header (the file is corrupted)")
    if labels.size and labels.max() > 9:
        raise DataError(f"it holds label {labels.max()}; MNIST labels are 0-9")
    return images, labels


def _header(line):
    try:
        header = json.loads(line.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise DataError("its header is not the expected JSON line") from None
    if not isinstance(header, dict):
        raise DataError("its header is not a JSON object")
    return header
