"""The backend selector: names, environment, context manager, and its error messages."""

import subprocess
import sys
import types

import pytest

import nnxp
import importlib

from nnxp import backends


def test_default_and_environment(monkeypatch):
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    assert nnxp.get_backend() == "numpy"
    monkeypatch.setenv("NNXP_BACKEND", "strict")
    assert nnxp.get_backend() == "array_api_strict"


def test_use_backend_nests_and_restores(monkeypatch):
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    with nnxp.use_backend("array_api_strict"):
        assert nnxp.get_backend() == "array_api_strict"
        with nnxp.use_backend("numpy"):
            assert nnxp.get_backend() == "numpy"
        assert nnxp.get_backend() == "array_api_strict"
        assert nnxp.Network([2, 2]).backend.name == "array_api_strict"
    assert nnxp.get_backend() == "numpy"


def test_set_backend(monkeypatch):
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    try:
        nnxp.set_backend("array_api_strict")
        assert nnxp.get_backend() == "array_api_strict"
    finally:
        nnxp.set_backend(None)
    assert nnxp.get_backend() == "numpy"


def test_unknown_backend_lists_the_valid_ones(monkeypatch):
    with pytest.raises(nnxp.BackendError, match="unknown backend 'bogus'; valid backends: "
                                                "numpy, jax, cupy, torch, array_api_strict"):
        nnxp.use_backend("bogus").__enter__()
    monkeypatch.setenv("NNXP_BACKEND", "bogus")
    with pytest.raises(nnxp.BackendError, match="valid backends"):
        nnxp.Network([2, 3, 1])


def test_bogus_backend_from_the_shell_ends_with_one_clear_line():
    env = {"NNXP_BACKEND": "bogus", "PATH": ""}
    r = subprocess.run([sys.executable, "-c", "import nnxp; nnxp.Network([2,3,1])"],
                       capture_output=True, text=True, env=env)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("nnxp.errors.BackendError: unknown backend 'bogus'")
    assert "numpy, jax, cupy, torch, array_api_strict" in last


def test_missing_package_names_the_extra(monkeypatch):
    real = importlib.import_module

    def fake(name, *a, **k):
        if name == "jax":
            raise ImportError("No module named 'jax'")
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    backends.clear_cache()
    with pytest.raises(nnxp.BackendError, match=r"pip install 'nnxp\[jax\]'"):
        nnxp.use_backend("jax").__enter__()


@pytest.mark.parametrize("count,error", [(0, None), (None, RuntimeError("cudaErrorNoDevice"))])
def test_cupy_without_a_cuda_device_says_so(monkeypatch, count, error):
    def get_device_count():
        if error:
            raise error
        return count
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=get_device_count)))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    backends.clear_cache()
    with pytest.raises(nnxp.BackendError, match="CuPy is installed but no CUDA device"):
        nnxp.use_backend("cupy").__enter__()


def test_bad_device_names(monkeypatch):
    with pytest.raises(nnxp.BackendError, match="numpy backend runs on the CPU only"):
        nnxp.use_backend("numpy", "gpu").__enter__()
    with pytest.raises(nnxp.BackendError, match="array_api_strict has devices"):
        nnxp.use_backend("array_api_strict", "device9").__enter__()


def test_jax_backend_and_float64():
    jax = pytest.importorskip("jax")
    with nnxp.use_backend("jax") as be:
        assert nnxp.get_backend() == "jax"
        net = nnxp.Network([3, 2], dtype="float64")
        assert str(net.weights[0].dtype) == "float64"
        assert jax.config.jax_enable_x64
        assert str(nnxp.Network([3, 2]).weights[0].dtype) == "float32"
        assert be.device in jax.devices()


def test_env_selects_jax_in_a_fresh_process():
    pytest.importorskip("jax")
    r = subprocess.run([sys.executable, "-c", "import nnxp; print(nnxp.get_backend())"],
                       capture_output=True, text=True, env={"NNXP_BACKEND": "jax", "PATH": ""})
    assert r.stdout.strip() == "jax"


def test_available_lists_the_backends_that_run_here():
    names = backends.available()
    assert names[0] == "numpy" and set(names) <= set(nnxp.BACKENDS)
    for name in names:
        assert backends.load(name).name == name


def test_nnxp_device_applies_to_the_backend_nnxp_backend_names(monkeypatch):
    monkeypatch.setenv("NNXP_BACKEND", "array_api_strict")
    monkeypatch.setenv("NNXP_DEVICE", "device1")
    assert str(backends.current().device).endswith("'device1')")
    with nnxp.use_backend("array_api_strict") as be:   # same backend: the env's device holds
        assert str(be.device).endswith("'device1')")
    with nnxp.use_backend("numpy") as be:              # another backend: the device is not its
        assert be.device == "cpu"
    with nnxp.use_backend("array_api_strict", "device2") as be:
        assert str(be.device).endswith("'device2')")
