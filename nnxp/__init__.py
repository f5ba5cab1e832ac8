"""nnxp: feedforward neural networks in the spirit of Nielsen's network2.py, written once against
the Python array API and run on NumPy, JAX, CuPy, PyTorch or array-api-strict.

    import nnxp
    net = nnxp.Network([784, 30, 10], cost=nnxp.CrossEntropyCost, seed=0)
    history = net.SGD((X, y), 30, 10, 0.5, lmbda=5.0, evaluation_data=(Xv, yv),
                      monitor_evaluation_accuracy=True)

Layers (``nnxp.layers``: Dense, Softmax, ConvPool, Conv2D, MaxPool2D, Flatten, Reshape) are
entries of ``sizes`` too, for convolutional networks (docs/chapter6.md):

    net = nnxp.Network([784, nnxp.layers.Reshape((1, 28, 28)), nnxp.layers.ConvPool(20, 5),
                        nnxp.layers.Flatten(), nnxp.layers.Softmax(10)],
                       cost=nnxp.LogLikelihoodCost, seed=0)

Select the array library with NNXP_BACKEND=numpy|jax|cupy|torch|array_api_strict, or
``nnxp.set_backend(name)`` (the whole process) / ``with nnxp.use_backend(name):`` (the thread or
asyncio task inside the block only: nnxp/backends/selection.py).
"""

from . import datasets, layers
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .backends import (BACKENDS, available, get_backend, set_backend, set_thread_policy,
                       use_backend)
from .costs import CrossEntropyCost, LogLikelihoodCost, QuadraticCost
from .diagnostics import HealthMonitor, Report, diagnose
from .errors import (BackendError, ConfigError, DataError, FileError, InputTypeError,
                     NNXPError)
from .data import Dataset
from .history import History
from .lr_finder import find_learning_rate
from .network import Network, load
from .optimizers import (Optimizer, Transform, adam, momentum, nesterov, register_optimizer,
                         rmsprop, sgd)
from .population import Population, load_population
from . import search  # nnxp.search.grid / random / halving (imports no optional library)

__version__ = "0.1.0"

__all__ = [
    "Network", "Population", "History", "Dataset", "load", "load_population",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity",
    "QuadraticCost", "CrossEntropyCost", "LogLikelihoodCost",
    "sgd", "momentum", "nesterov", "adam", "rmsprop", "Transform", "Optimizer",
    "register_optimizer",
    "BACKENDS", "available", "get_backend", "set_backend", "use_backend", "set_thread_policy",
    "NNXPError", "BackendError", "DataError", "ConfigError", "InputTypeError", "FileError",
    "diagnose", "Report", "HealthMonitor", "find_learning_rate",
]


def __getattr__(name):
    """``nnxp.plot`` (and nnxp.compat, nnxp.sklearn, ...) on first use: imported here rather than
    above, so that ``python -m nnxp.plot`` runs the module as a script without finding it
    imported already (runpy's RuntimeWarning)."""
    import importlib
    if name in ("plot", "compat", "sklearn", "selfcheck", "testing", "engines", "checks",
                "files"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
