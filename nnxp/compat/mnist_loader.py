"""nnxp.compat.mnist_loader: the book's ``mnist_loader``, reading MNIST with nnxp.datasets.

    load_data() -> (training_data, validation_data, test_data)
        each a pair (X, y) of NumPy arrays as in the book's mnist.pkl.gz: X float32 (n, 784),
        pixel / 255 in [0, 1]; y int64 (n,) digits.  Nielsen's split: 50,000 / 10,000 / 10,000
    load_data_wrapper() -> (training_data, validation_data, test_data)
        lists (sliceable) of pairs (x, y): x a (784, 1) float32 column (a view of load_data's
        array); y a (10, 1) one-hot float64 column for the training data, the digit (an int)
        for the validation and test data
    vectorized_result(j) -> (10, 1) column with 1.0 in row j

The files are found, downloaded and checked as by ``nnxp.datasets.load_mnist`` (``path``,
else $NNXP_DATA_DIR, else the user cache folder; published SHA-256 sums for downloads), not
read from ``../data/mnist.pkl.gz``.  The book's file holds pixel / 256; these are pixel / 255,
the scale nnxp uses everywhere.
"""

from __future__ import annotations

import numpy as np

from ..datasets import load_mnist
from .network2 import vectorized_result

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]


def load_data(path=None):
    """MNIST as three pairs (X float32 (n, 784), y int64 (n,)); see the module docstring."""
    splits = load_mnist(path, dtype="float32", backend="numpy")
    return tuple((np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64))
                 for x, y in splits)


def load_data_wrapper(path=None):
    """MNIST as the book's lists of (x, y) column pairs; see the module docstring."""
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = load_data(path)
    training_data = list(zip(_columns(tr_x), [vectorized_result(y) for y in tr_y]))
    validation_data = list(zip(_columns(va_x), va_y.tolist()))
    test_data = list(zip(_columns(te_x), te_y.tolist()))
    return training_data, validation_data, test_data


def _columns(x):
    return list(x.reshape(-1, x.shape[1], 1))
