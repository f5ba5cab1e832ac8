"""A minimal MNIST reader for the benchmarks: the four IDX files, Nielsen's split, host NumPy.

    load_split(dtype="float32", data_dir=None) -> dict with keys "train", "validation", "test",
        each a pair (X, y): X of shape (n, 784) in [0, 1] with the given dtype, y int64 labels (n,).
        train = the first 50,000 training images, validation = the last 10,000, test = the
        10,000 test images (the split of Nielsen's book).
    load_training(dtype="float32", data_dir=None) -> (X, y)   the 50,000 training images only
    one_hot(y, classes=10, dtype="float32") -> (n, classes)

The folder is ``data_dir``, else ``$NNXP_DATA_DIR``, else ``/work/shared/data/mnist``; it holds
the standard gzip-compressed files (``train-images-idx3-ubyte.gz`` ...).  No download, no
checksum: the benchmarks time training, and this module is kept independent of nnxp's own
dataset code on purpose, so that a bug there cannot hide in a side-by-side comparison.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

__all__ = ["load_split", "load_training", "one_hot", "resolve_dir"]

DEFAULT_DIR = "/work/shared/data/mnist"
_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
N_TRAIN = 50_000


def resolve_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder the IDX files are read from: ``path``, $NNXP_DATA_DIR, or the shared copy."""
    return Path(path or os.environ.get("NNXP_DATA_DIR") or DEFAULT_DIR)


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzip-compressed) as a uint8 array of its stated shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:  # 0x08: unsigned byte, the only type MNIST uses
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {shape} bytes of data, found {data.size}")
    return data.reshape(shape)


def _images(path: Path, dtype) -> np.ndarray:
    raw = _read_idx(path)
    X = raw.reshape(raw.shape[0], -1).astype(dtype)
    X /= np.asarray(255.0, dtype=dtype)
    return X


def load_split(dtype="float32", data_dir: str | os.PathLike | None = None) -> dict:
    """Nielsen's 50k/10k/10k split as host NumPy arrays; see the module docstring."""
    folder = resolve_dir(data_dir)
    X_all = _images(folder / _FILES["train_images"], dtype)
    y_all = _read_idx(folder / _FILES["train_labels"]).astype(np.int64)
    X_test = _images(folder / _FILES["test_images"], dtype)
    y_test = _read_idx(folder / _FILES["test_labels"]).astype(np.int64)
    return {
        "train": (np.ascontiguousarray(X_all[:N_TRAIN]), y_all[:N_TRAIN].copy()),
        "validation": (np.ascontiguousarray(X_all[N_TRAIN:]), y_all[N_TRAIN:].copy()),
        "test": (X_test, y_test),
    }


def load_training(dtype="float32", data_dir: str | os.PathLike | None = None):
    """The 50,000 training images and labels only, ``(X (50000, 784), y (50000,))``."""
    return load_split(dtype, data_dir)["train"]


def one_hot(y: np.ndarray, classes: int = 10, dtype="float32") -> np.ndarray:
    """Integer labels (n,) -> one-hot rows (n, classes)."""
    Y = np.zeros((y.shape[0], classes), dtype=dtype)
    Y[np.arange(y.shape[0]), y] = 1
    return Y
