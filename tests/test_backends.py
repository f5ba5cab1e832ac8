"""The backend selector: names, environment, context manager, and its error messages."""

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

import nnxp
from conftest import optional
from nnxp import backends


def test_default_and_environment(monkeypatch):
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    assert nnxp.get_backend() == "numpy"
    monkeypatch.setenv("NNXP_BACKEND", "strict")
    assert nnxp.get_backend() == "array_api_strict"


def test_use_backend_nests_and_restores(monkeypatch):
    optional("array_api_strict")
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    with nnxp.use_backend("array_api_strict"):
        assert nnxp.get_backend() == "array_api_strict"
        with nnxp.use_backend("numpy"):
            assert nnxp.get_backend() == "numpy"
        assert nnxp.get_backend() == "array_api_strict"
        assert nnxp.Network([2, 2]).backend.name == "array_api_strict"
    assert nnxp.get_backend() == "numpy"


def test_set_backend(monkeypatch):
    optional("array_api_strict")
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


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name,requirements", [
    ("jax", "backends/jax.txt"), ("torch", "backends/torch.txt"),
    ("array_api_strict", "backends/strict.txt"), ("cupy", "backends/cupy-cuda12.txt")])
def test_missing_package_names_the_requirements_file(monkeypatch, name, requirements):
    """nnxp is installed from a checkout: the message names the checkout's requirements file
    (an extra of a package index nnxp is not on could not work)."""
    real = importlib.import_module

    def fake(module, *a, **k):
        if module == name:
            raise ImportError(f"No module named {name!r}")
        return real(module, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    backends.clear_cache()
    with pytest.raises(nnxp.BackendError) as info:
        nnxp.use_backend(name).__enter__()
    message = str(info.value)
    assert f"pip install -r {requirements}" in message and "nnxp[" not in message
    assert (ROOT / requirements).is_file()
    backends.clear_cache()


def _nnxp_imports(path):
    """The nnxp modules a file imports, anywhere in it (relative imports resolved)."""
    package = path.parent.relative_to(ROOT).as_posix().replace("/", ".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {f"{target}.{a.name}" for a in node.names} | {target}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


@pytest.mark.parametrize("here,there", [("backends", "engines"), ("engines", "backends")])
def test_backends_and_engines_do_not_import_each_other(here, there):
    """A backend names its engines ("module.Class" in ``engines``); nnxp.engines imports them
    when first used: neither package imports the other."""
    offenders = {p.name: sorted(m for m in _nnxp_imports(p) if m.startswith(f"nnxp.{there}"))
                 for p in (ROOT / "nnxp" / here).glob("*.py")}
    assert not {k: v for k, v in offenders.items() if v}
    assert _nnxp_imports(ROOT / "nnxp" / "engines" / "jax_mesh.py") >= {"nnxp.engines.jax_scan"}


def test_every_backend_names_engines_that_exist():
    optional("jax")
    from nnxp.backends import base, jax_backend, jax_mesh
    from nnxp.engines import _engine_class
    for cls in (base.Backend, jax_backend.JaxBackend, jax_mesh.MeshBackend):
        for name, path in cls.engines.items():
            assert _engine_class(path).name == name


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
    optional("array_api_strict")
    with pytest.raises(nnxp.BackendError, match="array_api_strict has devices"):
        nnxp.use_backend("array_api_strict", "device9").__enter__()


def test_jax_backend_and_float64():
    jax = optional("jax")
    with nnxp.use_backend("jax") as be:
        assert nnxp.get_backend() == "jax"
        net = nnxp.Network([3, 2], dtype="float64")
        assert str(net.weights[0].dtype) == "float64"
        assert jax.config.jax_enable_x64
        assert str(nnxp.Network([3, 2]).weights[0].dtype) == "float32"
        assert be.device in jax.devices()


def test_env_selects_jax_in_a_fresh_process():
    optional("jax")
    r = subprocess.run([sys.executable, "-c", "import nnxp; print(nnxp.get_backend())"],
                       capture_output=True, text=True, env={"NNXP_BACKEND": "jax", "PATH": ""})
    assert r.stdout.strip() == "jax"


def test_available_lists_the_backends_that_run_here():
    names = backends.available()
    assert names[0] == "numpy" and set(names) <= set(nnxp.BACKENDS)
    for name in names:
        assert backends.load(name).name == name


def test_nnxp_device_applies_to_the_backend_nnxp_backend_names(monkeypatch):
    optional("array_api_strict")
    monkeypatch.setenv("NNXP_BACKEND", "array_api_strict")
    monkeypatch.setenv("NNXP_DEVICE", "device1")
    assert str(backends.current().device).endswith("'device1')")
    with nnxp.use_backend("array_api_strict") as be:   # same backend: the env's device holds
        assert str(be.device).endswith("'device1')")
    with nnxp.use_backend("numpy") as be:              # another backend: the device is not its
        assert be.device == "cpu"
    with nnxp.use_backend("array_api_strict", "device2") as be:
        assert str(be.device).endswith("'device2')")


@pytest.mark.parametrize("name,device", [("numpy", ["cpu"]), ("numpy", {"kind": "cpu"}),
                                         ("torch", 5), ("array_api_strict", ["device1"]),
                                         ("jax", ("cpu",))])
def test_a_device_that_is_not_a_name_is_refused_clearly(monkeypatch, name, device):
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    # was: TypeError (unhashable list) or AttributeError (torch's int.partition)
    with pytest.raises(nnxp.BackendError, match="device must be None or a device name"):
        nnxp.use_backend(name, device).__enter__()
    with pytest.raises(nnxp.BackendError, match="device must be None or a device name"):
        nnxp.set_backend(name, device)
    assert nnxp.get_backend() == "numpy"


@pytest.mark.parametrize("spec", ["cpu:-1", "gpu:-2", "cpu:x"])
def test_a_negative_device_index_is_refused(spec):
    # was: "cpu:-1" taken as the last device (Python's negative indexing)
    assert backends.selection.split_device("gpu:1", "cpu") == ("gpu", 1)
    with pytest.raises(nnxp.BackendError, match=r"an index >= 0"):
        backends.selection.split_device(spec, "cpu")


@pytest.mark.parametrize("spec", ["cpu:", ":0", "cpu:+1", "cpu:1_0", "cpu:\u0661", "cpu:0\n",
                                  " cpu", "cpu ", "cpu: 1"])
def test_a_malformed_device_name_is_refused(spec):
    # was: read by int(): "cpu:" and ":0" as device 0 of the default kind, "cpu:1_0" as
    # device 10, "cpu:\u0661" (an Arabic-Indic one) as device 1
    with pytest.raises(nnxp.BackendError, match=r"device must look like 'cpu'"):
        backends.selection.split_device(spec, "cpu")
    assert backends.selection.split_device("Gpu:01", "cpu") == ("gpu", 1)


@pytest.mark.parametrize("spec", ["cpu:1", "cpu:9"])
def test_torch_refuses_a_cpu_device_that_does_not_exist(spec):
    # was: accepted, Backend('torch', device=device(type='cpu', index=9)), its arrays on "cpu"
    optional("torch")
    with pytest.raises(nnxp.BackendError, match=r"torch has one CPU device"):
        nnxp.use_backend("torch", spec).__enter__()
    with nnxp.use_backend("torch", "cpu:0") as be:
        assert be.device.type == "cpu"


@pytest.mark.parametrize("name", ["numpy", "jax", "torch", "array_api_strict"])
def test_a_device_kind_is_read_in_any_case_on_every_backend(name):
    """"CPU" and "Cpu:0" are the CPU on every backend, as JAX and CuPy read them (split_device);
    was: JAX took "CPU", NumPy, PyTorch and array-api-strict refused it."""
    if name != "numpy":
        optional(name)
    cpu = backends.load(name, "cpu").device
    for spec in ("CPU", "Cpu:0"):
        assert backends.load(name, spec).device == cpu
    with pytest.raises(nnxp.BackendError):
        backends.load(name, "CPU:7")


def test_jax_refuses_a_negative_device_index():
    optional("jax")
    with pytest.raises(nnxp.BackendError, match=r"an index >= 0.*'cpu:-1'"):
        nnxp.use_backend("jax", "cpu:-1").__enter__()


def test_set_backend_inside_a_block_holds_after_it(monkeypatch):
    """set_backend selects for the rest of the process, also inside a use_backend block;
    a block's end removes only its own selection (was: IndexError from the block's exit after
    set_backend(None); a set_backend inside a block undone by the block's exit)."""
    optional("array_api_strict")
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    try:
        nnxp.set_backend("array_api_strict")
        with nnxp.use_backend("numpy"):
            nnxp.set_backend(None)
            assert nnxp.get_backend() == "numpy"
        assert nnxp.get_backend() == "numpy"
        with nnxp.use_backend("numpy"):
            with nnxp.use_backend("numpy"):
                nnxp.set_backend("array_api_strict")
                assert nnxp.get_backend() == "array_api_strict"
            assert nnxp.get_backend() == "array_api_strict"
        assert nnxp.get_backend() == "array_api_strict"
    finally:
        nnxp.set_backend(None)
    assert nnxp.get_backend() == "numpy"


def test_blocks_end_in_any_order_removing_their_own_selection(monkeypatch):
    """Two blocks left out of order (generators, __exit__ by hand): each end removes its own
    selection, so none is left behind (was: the last one removed, whichever block it was)."""
    optional("array_api_strict")
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    outer, inner = nnxp.use_backend("array_api_strict"), nnxp.use_backend("numpy")
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    assert nnxp.get_backend() == "numpy"
    inner.__exit__(None, None, None)
    assert nnxp.get_backend() == "numpy" and not backends.selection._blocks.get()


def test_errors_from_the_environment_name_the_variable(monkeypatch):
    """A bad NNXP_BACKEND / NNXP_DEVICE set long ago in a shell is named in the message
    (was: the same message as a bad name in the code, with no hint of where it came from)."""
    monkeypatch.setenv("NNXP_BACKEND", "bogus")
    with pytest.raises(nnxp.BackendError, match=r"unknown backend 'bogus'.*from the "
                                                r"environment variable NNXP_BACKEND"):
        nnxp.Network([2, 1])
    monkeypatch.setenv("NNXP_BACKEND", "numpy")
    monkeypatch.setenv("NNXP_DEVICE", "gpu")
    with pytest.raises(nnxp.BackendError, match=r"CPU only; got device 'gpu' \(the device "
                                                r"comes from the environment variable "
                                                r"NNXP_DEVICE\)"):
        nnxp.Network([2, 1])
    with pytest.raises(nnxp.BackendError) as caught:  # a device in the code is the code's
        nnxp.use_backend("numpy", "gpu:1").__enter__()
    assert "NNXP_DEVICE" not in str(caught.value)
    with nnxp.use_backend("numpy", "cpu") as be:  # a device in the code wins over the env
        assert be.device == "cpu"
