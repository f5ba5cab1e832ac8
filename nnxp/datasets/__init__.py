"""Datasets, read on the host and moved to the selected backend once.

    load_mnist(path=None, *, download=True, one_hot=False, digits=None, n_train=None,
               n_validation=None, n_test=None, dtype="float32", backend=None, progress=None)
        -> ((X, y), (X, y), (X, y))     Nielsen's 50,000 / 10,000 / 10,000 split
    mnist_folder(path=None) -> str      where MNIST is looked for: path, else $NNXP_DATA_DIR, else
                                        ~/.cache/nnxp/mnist (the one rule, everywhere)
    mnist_available(path=None) -> bool  whether the four files are there
    MissingMNIST                        the DataError of missing files, also a FileNotFoundError
    MNIST_FILES                         {role: MnistFile(name, sha256, size)} of the four files
    expand_mnist(path=None, *, cache=None, shuffle=0, **load_mnist_kw)
        -> ((X, y), (X, y), (X, y))     the book's expanded set: each training image and its
                                        four one-pixel shifts (250,000), cached on disk

Details in ``nnxp/datasets/mnist.py`` and ``nnxp/datasets/expanded.py``; the book's lists of
column pairs (``load_data_wrapper``) are nnxp.compat.mnist_loader's.
"""

from .expanded import expand_mnist
from .mnist import FILES as MNIST_FILES
from .mnist import MissingMNIST, MnistFile, load_mnist, mnist_available, mnist_folder

__all__ = ["MNIST_FILES", "MissingMNIST", "MnistFile", "expand_mnist", "load_mnist",
           "mnist_available", "mnist_folder"]
