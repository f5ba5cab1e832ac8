"""The README's Python examples run as written (on MNIST subsets: ``load_mnist`` is limited to
1,000 / 500 / 500 images here, so 30 epochs take seconds), in order, in one namespace; blocks
with placeholders (``...``) or a cluster are left to docs/scale.md's tests."""

import re
from pathlib import Path

import pytest

import nnxp
import nnxp.datasets

README = Path(__file__).resolve().parent.parent / "README.md"


def runnable_blocks():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return [b for b in blocks if "..." not in b and "distributed" not in b]


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
