"""The architecture's import rules, read from the source (DESIGN.md, rules 1 and 2)."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "nnxp"
MATH_MODULES = ["activations", "costs", "initializers", "backprop", "optimizers", "step",
                "namespace", "diagnostics", "lr_finder"]
ARRAY_LIBRARIES = {"numpy", "cupy", "jax", "jaxlib", "torch", "array_api_strict"}
BACKEND_SPECIFIC = {"cupy", "jax", "jaxlib", "torch", "array_api_strict"}


def imported_top_level(path: Path) -> set:
    """Every top-level package imported anywhere in a module (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                names.add(str(node.args[0].value).split(".")[0])
    return names


def module_files(module: str) -> list:
    """The files of a math module: ``nnxp/<module>.py``, or every .py of a package
    ``nnxp/<module>/``."""
    single, package = PKG / f"{module}.py", PKG / module
    assert single.is_file() != package.is_dir(), f"{module}: expected a module or a package"
    return [single] if single.is_file() else sorted(package.rglob("*.py"))


@pytest.mark.parametrize("module", MATH_MODULES)
def test_math_modules_import_no_array_library(module):
    for path in module_files(module):
        imported = imported_top_level(path)
        rel = path.relative_to(PKG).as_posix()
        assert not imported & ARRAY_LIBRARIES, f"{rel} imports {imported & ARRAY_LIBRARIES}"


def test_a_math_package_is_read_file_by_file():
    files = {p.relative_to(PKG).as_posix() for p in module_files("diagnostics")}
    assert {"diagnostics/__init__.py", "diagnostics/measure.py"} <= files


def test_rule_catches_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    import jax.numpy as jnp\n    from numpy import exp\n")
    assert imported_top_level(bad) == {"jax", "numpy"}


def test_backend_specific_imports_only_in_backend_and_engines():
    offenders = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if rel == "backend.py" or rel.startswith("engines/"):
            continue
        found = imported_top_level(path) & BACKEND_SPECIFIC
        if found:
            offenders[rel] = found
    assert not offenders
