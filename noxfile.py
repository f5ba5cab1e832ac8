"""One test session per backend, each in its own virtual environment:

    nox -s "tests(backend='numpy')"   ... 'jax', 'torch', 'array_api_strict', 'cupy'
    nox -s tests                      every backend in turn

Each session installs ``backends/test.txt`` and ``backends/<backend file>`` and runs the parity
suite on that backend only (NNXP_TEST_BACKENDS).  The CuPy session needs an NVIDIA GPU: without
one it skips, saying so; with one it installs cupy-cuda12x and runs the whole suite on the GPU.
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
    env = {"NNXP_TEST_BACKENDS": backend}
    data = Path(__file__).parent.parent / "shared" / "data" / "mnist"
    if "NNXP_DATA_DIR" not in os.environ and data.is_dir():
        env["NNXP_DATA_DIR"] = str(data)
    session.run("python", "-m", "pytest", *session.posargs, env=env)
