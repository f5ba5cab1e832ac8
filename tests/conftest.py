"""The parity suite's fixtures: every test that takes ``backend`` runs on every selected backend.

Backends: ``--backends=numpy,jax`` or ``NNXP_TEST_BACKENDS=numpy,jax``; by default every backend
that imports here (CuPy only with a CUDA device).  A backend asked for by name that cannot run is
an error, not a skip: a CI run that silently tested nothing would be worse than a red one.

Data: ``mnist`` gives the real MNIST files found by nnxp's one rule (``mnist_dir()``, i.e.
``nnxp.datasets.mnist_folder()``: NNXP_DATA_DIR, else the user cache folder, where ./run setup
copies them); without them those tests skip with the reason, unless ``NNXP_REQUIRE_DATA=1`` (set
by CI), which turns the skip into a failure.

Optional libraries: a test that needs one (scikit-learn, Dask, JAX, PyTorch, array-api-strict,
pandas ...) gets it through ``optional(module)``, which skips the test, naming the library and
its requirements file, where it is not installed (the NumPy-only environment: ``nox -s
numpy_only``), unless ``NNXP_REQUIRE_OPTIONAL=1`` (CI's full environment), where a missing one is
an error: a CI run that silently skipped them would be worse than a red one.

On JAX, tests run under ``jax.numpy_dtype_promotion("strict")``, so a silent float32 -> float64
upcast (a float64 scalar meeting float32 weights) fails loudly instead of slowing a GPU down.
"""

import contextlib
from concurrent.futures import ThreadPoolExecutor, wait
import importlib
import os
from pathlib import Path

import numpy as np
import pytest

import nnxp
from nnxp import backends

# the requirements file (backends/) that installs each optional library
REQUIREMENTS = {"jax": "jax.txt", "optax": "jax.txt", "torch": "torch.txt", "array_api_strict": "strict.txt",
                "sklearn": "sklearn.txt", "distributed": "dask.txt", "dask": "dask.txt",
                "pandas": "test.txt", "tqdm": "search.txt", "matplotlib": "plot.txt", "optuna": "optuna.txt",
                "optuna_dashboard": "optuna.txt", "optuna_integration": "optuna.txt", "keras": "(the bench extra)"}


def optional(module):
    """The optional library ``module``; where it is not installed, skip the test (or the
    module, at module level) saying so, or fail under NNXP_REQUIRE_OPTIONAL=1."""
    if os.environ.get("NNXP_REQUIRE_OPTIONAL") == "1":
        return importlib.import_module(module)
    top = module.partition(".")[0]
    source = REQUIREMENTS.get(top, "its package")
    return pytest.importorskip(module, reason=f"needs {top}, which is not installed here "
                               f"(backends/{source})" if source.endswith(".txt") else
                               f"needs {top}, which is not installed here ({source})")


def pytest_addoption(parser):
    parser.addoption("--backends", default=None,
                     help="comma-separated backends to test (default: NNXP_TEST_BACKENDS, "
                          "else every backend installed here)")


def selected_backends(config) -> list:
    spec = config.getoption("--backends") or os.environ.get("NNXP_TEST_BACKENDS")
    if not spec:
        return backends.available()
    names = [backends.canonical(s) for s in spec.split(",") if s.strip()]
    for name in names:
        backends.load(name)  # raises BackendError with the reason: a requested backend must run
    return names


def pytest_configure(config):
    config.nnxp_backends = selected_backends(config)


def pytest_report_header(config):
    return f"nnxp backends under test: {', '.join(config.nnxp_backends)}"


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", metafunc.config.nnxp_backends, indirect=True)


@pytest.fixture
def backend(request):
    """The Backend under test, selected for the duration of the test."""
    with nnxp.use_backend(request.param) as be:
        with _strict_promotion(be):
            yield be


def _strict_promotion(be):
    if be.name == "jax":
        import jax
        return jax.numpy_dtype_promotion("strict")
    return contextlib.nullcontext()


def to_numpy(x):
    """A backend array (of any backend) as a float64 / int NumPy array, for comparisons."""
    if isinstance(x, (np.ndarray, np.generic, int, float)):
        return np.asarray(x)
    for name in backends.BACKENDS:
        with contextlib.suppress(nnxp.BackendError):
            be = backends.load(name)
            if be.owns(x):
                return be.to_numpy(x)
    raise TypeError(f"cannot convert {type(x)}")


def params_numpy(net):
    """A network's parameters as a list of NumPy arrays: w1, b1, w2, b2, ..."""
    return [to_numpy(a) for wb in net.params for a in wb]


# -- MNIST -----------------------------------------------------------------------------------

def mnist_dir():
    """MNIST by nnxp's one rule (nnxp.datasets.mnist_folder): NNXP_DATA_DIR, else the user
    cache folder, where ./run setup puts the checkout's local copy."""
    from nnxp.datasets import mnist_available, mnist_folder
    if mnist_available():
        return Path(mnist_folder())
    reason = (f"MNIST not found in {mnist_folder()}: set NNXP_DATA_DIR to a folder with the "
              "four IDX files, or run ./run setup")
    if os.environ.get("NNXP_REQUIRE_DATA") == "1":
        pytest.fail(reason + " -- and NNXP_REQUIRE_DATA=1 requires them")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist():
    """Nielsen's split as host float64 arrays: (train, validation, test), each (X, y)."""
    from nnxp.datasets import load_mnist
    return load_mnist(mnist_dir(), download=False, dtype="float64", backend="numpy")


def blobs(n=240, seed=0, width=6):
    """Three Gaussian blobs in ``width`` dimensions (fixed centres, labels 0, 1, 2 in turn):
    data that a small network separates in a few epochs, for the search tests."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    centres = np.random.default_rng(42).standard_normal((3, width))
    return centres[labels] + 0.5 * rng.standard_normal((n, width)), labels


@contextlib.contextmanager
def dask_client():
    """A Dask LocalCluster of 2 single-threaded worker processes on the loopback, whose workers
    import this checkout's nnxp, and its Client."""
    distributed = pytest.importorskip("distributed")
    root = str(Path(__file__).resolve().parent.parent)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  env=env) as cluster, \
            distributed.Client(cluster) as client:
        yield client


class Interrupting(ThreadPoolExecutor):
    """Threads; the ``at``-th submission raises KeyboardInterrupt once the earlier ones are
    done (a Ctrl-C in the middle of a search): the search tests' interrupted executor."""

    def __init__(self, at=None, workers=2):
        super().__init__(workers)
        self.at, self.calls, self.futures = at, 0, []

    def submit(self, fn, *args, **kwargs):
        self.calls += 1
        if self.calls == self.at:
            return super().submit(_interrupt, list(self.futures))
        self.futures.append(super().submit(fn, *args, **kwargs))
        return self.futures[-1]


def _interrupt(earlier):
    wait(earlier)
    raise KeyboardInterrupt


def layer_masks(layers, rng, input_shape, lead):
    """Host 0/1 float64 dropout masks for layers.sequential.forward: per layer None, or
    masks.keep_mask for its input shape after the leading shape ``lead`` ((m,), or (K, m))."""
    from nnxp.layers import sequential
    from nnxp.masks import keep_mask
    shapes = [tuple(input_shape)] + sequential.output_shapes(layers, input_shape)[:-1]
    return tuple(keep_mask(rng, layer.p_dropout, tuple(lead) + shape).astype(np.float64)
                 if layer.p_dropout > 0 else None for layer, shape in zip(layers, shapes))
