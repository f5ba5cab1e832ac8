"""One test session per backend, each in its own virtual environment:

    nox -s "tests(backend='numpy')"   ... 'jax', 'torch', 'array_api_strict', 'cupy'
    nox -s tests                      every backend in turn
    nox -s numpy_only                 nnxp with NumPy alone (the README's ``pip install -e .``)

Each session installs ``backends/test.txt`` and ``backends/<backend file>`` and runs the parity
suite on that backend only (NNXP_TEST_BACKENDS).  The CuPy session needs an NVIDIA GPU: without
one it skips, saying so; with one it installs cupy-cuda12x and runs the whole suite on the GPU.
The NumPy-only session installs nnxp and ``backends/test-numpy-only.txt`` (pytest, hypothesis)
and nothing else: no JAX, PyTorch, array-api-strict, scikit-learn, Dask or pandas.  The suite
runs on NumPy; a test that needs one of those skips, naming it (conftest.optional), so a module
that imports an optional library where it should not fails here.
Point NNXP_DATA_DIR at MNIST (e.g. ../shared/data/mnist) for the real-data tests.
"""

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.reuse_existing_virtualenvs = True

BACKEND_FILES = {
    "numpy": "backends/numpy.txt",
    "jax": "backends/jax.txt",
    "torch": "backends/torch.txt",
    "array_api_strict": "backends/strict.txt",
    "cupy": "backends/cupy-cuda12.txt",
}


def cuda_device_present() -> bool:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


@nox.session
@nox.parametrize("backend", list(BACKEND_FILES))
def tests(session, backend):
    if backend == "cupy" and not cuda_device_present():
        session.skip("CuPy needs a CUDA device and this machine has none (nvidia-smi -L finds "
                     "no GPU); on a GPU machine this session installs cupy-cuda12x and runs the "
                     "whole suite there")
    session.install("-r", "backends/test.txt", "-r", BACKEND_FILES[backend])
    session.install("-e", ".")
    session.run("python", "-m", "pytest", *session.posargs, env=test_env(backend))


@nox.session
def numpy_only(session):
    """nnxp with NumPy alone: the suite on NumPy, tests of optional libraries skipped."""
    session.install("-r", "backends/test-numpy-only.txt")
    session.install("-e", ".")
    session.run("python", "-m", "pytest", *session.posargs, env=test_env("numpy"))


def test_env(backend) -> dict:
    """NNXP_TEST_BACKENDS, and NNXP_DATA_DIR at ../shared/data/mnist when it is there and
    nothing else is set (else MNIST is found by nnxp's own rule)."""
    env = {"NNXP_TEST_BACKENDS": backend}
    data = Path(__file__).parent.parent / "shared" / "data" / "mnist"
    if "NNXP_DATA_DIR" not in os.environ and data.is_dir():
        env["NNXP_DATA_DIR"] = str(data)
    return env
