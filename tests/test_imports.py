"""The architecture's import rules, read from the source (docs/architecture.md, rules 1, 2 and 7)."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "nnxp"
MATH_MODULES = ["activations", "costs", "initializers", "backprop", "optimizers", "namespace",
                "diagnostics", "lr_finder", "plan", "stopping", "history", "layers"]
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
        if rel.startswith("backends/") or rel.startswith("engines/"):
            continue
        found = imported_top_level(path) & BACKEND_SPECIFIC
        if found:
            offenders[rel] = found
    assert not offenders


def test_no_module_tests_which_backend_it_runs_on():
    """Rule 2: backends are told apart by their classes, never by comparing names, outside
    nnxp/backends/ and nnxp/engines/."""
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith(("backends/", "engines/")):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                    isinstance(side, ast.Attribute) and side.attr == "name"
                    and "backend" in ast.unparse(side.value)
                    for side in [node.left, *node.comparators]):
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders


def test_no_import_cycles_hidden_in_function_bodies():
    """Imports inside functions are for optional libraries (matplotlib, tqdm, jax in engines),
    not for breaking cycles between nnxp modules: no function imports a module that imports
    the function's own module, directly or through others."""
    graph = {}
    for path in PKG.rglob("*.py"):
        mod = _module_name(path)
        graph[mod] = _nnxp_imports(path, mod, top_level_only=True)
    for path in PKG.rglob("*.py"):
        mod = _module_name(path)
        for target in _nnxp_imports(path, mod, top_level_only=False) - graph[mod]:
            assert mod not in _reachable(graph, target), f"{mod} imports {target} in a function"


def test_checks_imports_only_leaf_modules():
    """Every module may import checks.py (the optimizers, the backends, the layers): so checks
    imports only nnxp modules that import no other nnxp module, and no cycle can form."""
    graph = {_module_name(p): _nnxp_imports(p, _module_name(p), top_level_only=False)
             for p in PKG.rglob("*.py")}
    for target in graph["nnxp.checks"]:
        assert not graph[target], f"nnxp.checks imports {target}, which imports {graph[target]}"


def _module_name(path):
    """nnxp/loop.py -> nnxp.loop; nnxp/engines/__init__.py -> nnxp.engines."""
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {".".join(p.relative_to(PKG.parent).with_suffix("").parts).removesuffix(".__init__")
           for p in PKG.rglob("*.py")}


def _resolve(mod, path, node):
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    base = package.split(".")
    if node.level > 1:
        base = base[:-(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _nnxp_imports(path, mod, top_level_only):
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            target = _resolve(mod, path, node)
            for a in node.names:  # a submodule if there is one, else the module itself
                sub = f"{target}.{a.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("nnxp")}
    return {t for t in found if t.startswith("nnxp")}


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        mod = todo.pop()
        if mod in seen or mod not in graph:
            continue
        seen.add(mod)
        todo.extend(graph[mod])
    return seen
