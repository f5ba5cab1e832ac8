"""The README's Python examples run as written (on MNIST subsets: ``load_mnist`` is limited to
1,000 / 500 / 500 images here, so 30 epochs take seconds), in order, in one namespace; blocks
with placeholders (``...``), a cluster, or a first line ``# needs ...`` (devices, optional
libraries) are left to docs/scale.md's tests.  A block that uses names of the blocks before it
says so in the text just above it; the search's script shows the ``__main__`` guard."""

import ast
import builtins
import re
from pathlib import Path


import nnxp
import nnxp.datasets

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    """(text just above the block, the block) for every Python block, in order."""
    parts = re.split(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return [(parts[i - 1].strip().split("\n\n")[-1], parts[i]) for i in range(1, len(parts), 2)]


def runnable_blocks():
    return [b for _, b in python_blocks()
            if "..." not in b and "distributed" not in b and not b.startswith("# needs")]


def free_names(block):
    """Names a block reads without defining or importing them (nor builtins)."""
    tree = ast.parse(block)
    bound, read = set(dir(builtins)), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.arg)):
            bound.add(getattr(node, "name", None) or node.arg)
    return read - bound


def test_blocks_that_use_earlier_names_say_so():
    blocks = python_blocks()
    assert not free_names(blocks[0][1])
    assert "run in order, as one program" in blocks[0][0]
    for above, block in blocks[1:]:
        if free_names(block):
            assert "Continuing" in above or "as in the blocks above" in above, (
                f"a block reads {sorted(free_names(block))} from the blocks before it without "
                f"saying so; the text above it: {above!r}")


def test_the_search_example_is_a_script_with_the_main_guard():
    """The search trains in spawned worker processes: pasted into a script without the guard,
    each worker would start the search again (the README shows the guard)."""
    [(above, block)] = [(a, b) for a, b in python_blocks() if "nnxp.search." in b]
    assert not free_names(block)
    assert 'if __name__ == "__main__":' in block and "__main__" in above
    calls = [line for line in block.splitlines() if "nnxp.search." in line and "(" in line]
    assert calls and all(line.startswith("    ") for line in calls)


def test_the_readme_has_runnable_examples():
    assert len(runnable_blocks()) >= 3


def test_the_readme_examples_run(mnist, monkeypatch, tmp_path):
    real = nnxp.datasets.load_mnist

    def small(*args, **kw):
        kw = {"n_train": 1000, "n_validation": 500, "n_test": 500, **kw}
        return real(*args, **kw)

    monkeypatch.setattr(nnxp.datasets, "load_mnist", small)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    with nnxp.use_backend("numpy"):
        for block in runnable_blocks():
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    assert (tmp_path / "net.json").exists()
    assert isinstance(namespace["report"], nnxp.Report)
    assert len(namespace["histories"]) == 16
    assert namespace["result"].recommended is not None
