"""nnxp installed with NumPy only (the README's ``pip install -e .``): every optional library
absent, in a subprocess whose ``sitecustomize`` makes jax, torch, scikit-learn,
array-api-strict, Dask and optuna unimportable (``ModuleNotFoundError``, as where they were never
installed).  What a new user runs first must work, and what needs a missing library must say,
in one line, what to install from the checkout (exit status 2 for the command-line programs).

CI also runs this file in a real NumPy-only virtual environment (.ci/run; ``nox -s
numpy_only``), where the prelude changes nothing.
"""

import gzip
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
ABSENT = ("jax", "jaxlib", "torch", "sklearn", "array_api_strict", "dask", "distributed",
          "optuna")

PRELUDE = f'''
import sys

class _Absent:
    """A finder that says what pip would have said: the package is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {ABSENT!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Absent())
'''


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The environment of a NumPy-only process: the prelude as sitecustomize, this checkout
    first on the path, the NumPy backend unless a test says otherwise."""
    site = tmp_path_factory.mktemp("site")
    (site / "sitecustomize.py").write_text(PRELUDE)
    path = os.pathsep.join(filter(None, [str(site), str(ROOT), os.environ.get("PYTHONPATH")]))
    environ = {k: v for k, v in os.environ.items()
               if k not in ("NNXP_BACKEND", "NNXP_DEVICE", "NNXP_TEST_BACKENDS")}
    return {**environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def run(env, *args, extra=None, timeout=300):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          env={**env, **(extra or {})}, cwd=ROOT, timeout=timeout)


def python(env, code, **kw):
    result = run(env, "-c", textwrap.dedent(code), **kw)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def one_clear_line(result, prefix):
    """Exit status 2 and exactly one line on stderr, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_the_prelude_hides_the_optional_libraries(env):
    out = python(env, f"""
        for name in {ABSENT!r}:
            try:
                __import__(name)
            except ModuleNotFoundError as exc:
                assert exc.name == name, exc
            else:
                print("imported", name)
        print("ok")
    """)
    assert out.split() == ["ok"]


def test_available_lists_numpy_and_each_missing_backend_says_what_to_install(env):
    out = python(env, """
        import nnxp
        print(nnxp.available())
        for name in ("jax", "torch", "array_api_strict", "cupy"):
            try:
                nnxp.use_backend(name).__enter__()
            except nnxp.BackendError as exc:
                print(name, "|", exc)
    """)
    lines = out.splitlines()
    assert lines[0] == "['numpy']"
    files = {"jax": "backends/jax.txt", "torch": "backends/torch.txt",
             "array_api_strict": "backends/strict.txt", "cupy": "backends/cupy-cuda12.txt"}
    said = dict(line.split(" | ", 1) for line in lines[1:])
    assert set(said) == set(files)
    for name, message in said.items():
        assert f"pip install -r {files[name]}" in message and "nnxp[" not in message, message


def test_selfcheck_of_a_missing_backend_is_one_clear_line(env):
    line = one_clear_line(run(env, "-m", "nnxp.selfcheck", "--backend", "jax"),
                          "nnxp selfcheck: backend 'jax' needs the package 'jax'")
    assert "pip install -r backends/jax.txt" in line
    ok = run(env, "-m", "nnxp.selfcheck", "--backend", "numpy")
    assert ok.returncode == 0 and "AGREES with NumPy" in ok.stdout, ok.stderr


def test_train_example_on_a_missing_backend_is_one_clear_line(env):
    line = one_clear_line(run(env, "examples/train.py", "--epochs", "1",
                              extra={"NNXP_BACKEND": "jax"}),
                          "train.py: backend 'jax' needs the package 'jax'")
    assert "pip install -r backends/jax.txt" in line


def write_mnist(folder, n_train=600, n_test=100, seed=0):
    """Four small synthetic MNIST files (IDX, gzipped): enough for train.py to run."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    parts = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
             "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
             "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
             "t10k-labels-idx1-ubyte.gz": np.arange(n_test) % 10}
    for name, array in parts.items():
        magic = 2051 if "images" in name else 2049
        header = struct.pack(f">{1 + array.ndim}i", magic, *array.shape)
        (folder / name).write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))
    return folder


def test_numpy_training_runs(env, tmp_path):
    out = python(env, """
        import numpy as np
        import nnxp
        rng = np.random.default_rng(0)
        x = rng.random((300, 4))
        y = (x[:, 0] + x[:, 1] > 1).astype(int)
        net = nnxp.Network([4, 8, 2], seed=0)
        history = net.SGD((x, y), 5, 10, 2.0, evaluation_data=(x, y),
                          monitor_evaluation_accuracy=True)
        print(net.backend.name, history.evaluation_accuracy[-1])
    """)
    name, accuracy = out.split()
    assert name == "numpy" and int(accuracy) > 240
    data = write_mnist(tmp_path / "mnist")
    result = run(env, "examples/train.py", "--epochs", "1", "--sizes", "784", "10", "10",
                 "--data-dir", data, "--no-download")
    assert result.returncode == 0, result.stderr
    assert "backend numpy" in result.stdout and "test accuracy:" in result.stdout


def test_search_imports_and_the_estimator_names_scikit_learn(env):
    out = python(env, """
        import nnxp.search
        print(callable(nnxp.search.grid))
        try:
            import nnxp.sklearn
        except ModuleNotFoundError as exc:
            import nnxp
            print(isinstance(exc, nnxp.NNXPError), "|", exc)
        try:
            nnxp.search.optuna({"sizes": [2, 3, 2], "eta": (0.1, 1.0)}, None, None,
                               n_trials=1, epochs=1, mini_batch_size=1)
        except ModuleNotFoundError as exc:
            print(isinstance(exc, nnxp.NNXPError), "|", exc)
    """)
    first, second, third = out.splitlines()
    assert first == "True"
    is_nnxp_error, message = second.split(" | ", 1)
    assert is_nnxp_error == "True"
    assert "scikit-learn" in message and "pip install -r backends/sklearn.txt" in message
    is_nnxp_error, message = third.split(" | ", 1)
    assert is_nnxp_error == "True"
    assert "optuna" in message and "pip install -r backends/optuna.txt" in message


@pytest.mark.parametrize("outcome", ["fails", "passes"])
def test_ci_removes_its_environments(tmp_path, outcome):
    """.ci/run makes its virtual environments in one temporary folder and removes it on exit,
    whether the tests fail or pass (run here with a stand-in for ./run and for python3, so no
    environment is really built)."""
    repo, temp = tmp_path / "repo", tmp_path / "tmp"
    (repo / ".ci").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "mnist").mkdir(parents=True)
    temp.mkdir()
    (repo / ".ci" / "run").write_text((ROOT / ".ci" / "run").read_text())
    status = 1 if outcome == "fails" else 0
    (repo / "run").write_text(f'#!/bin/sh\nmkdir -p "$NNXP_VENV"\n'
                              f'echo "$NNXP_VENV" > "{tmp_path}/venv-was"\nexit {status}\n')
    (repo / "run").chmod(0o755)
    fake_python = tmp_path / "fake-python"    # "python3 -m venv DIR": a DIR/bin/python that
    fake_python.write_text('#!/bin/sh\nmkdir -p "$3/bin"\n'   # does nothing, successfully
                           'printf "#!/bin/sh\\nexit 0\\n" > "$3/bin/python"\n'
                           'chmod +x "$3/bin/python"\n')
    fake_python.chmod(0o755)
    result = subprocess.run(["bash", str(repo / ".ci" / "run")], capture_output=True, text=True,
                            env={**os.environ, "TMPDIR": str(temp), "PYTHON": str(fake_python)},
                            timeout=60)
    assert result.returncode == status, result.stderr
    venv = Path((tmp_path / "venv-was").read_text().strip())
    assert venv.is_relative_to(temp)
    assert list(temp.iterdir()) == []          # everything it made is gone
