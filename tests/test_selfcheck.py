"""python -m nnxp.selfcheck: agreement with NumPy is reported, and disagreement is caught."""

import subprocess
import sys

import numpy as np
import pytest

import nnxp.selfcheck as sc
from conftest import optional


def test_selfcheck_agrees_on_every_backend(backend):
    result = sc.check(backend.name, dtype="float64")
    assert result["agree"], result
    assert result["max_relative_difference"] < 1e-10
    assert result["accuracy"] == result["numpy_accuracy"] > 0.3 * result["n"]


def test_selfcheck_detects_a_backend_that_computes_differently(monkeypatch):
    """Perturb the trained weights of the checked backend only: the check must fail."""
    optional("array_api_strict")
    real = sc.train

    def skewed(name, *args, **kwargs):
        be, weights, acc, sec, comp = real(name, *args, **kwargs)
        if name != "numpy":
            weights = [w * (1 + 1e-6) for w in weights]
        return be, weights, acc, sec, comp

    monkeypatch.setattr(sc, "train", skewed)
    result = sc.check("array_api_strict", dtype="float64")
    assert not result["agree"] and result["max_relative_difference"] > 1e-7
    assert sc.main(["--backend", "array_api_strict", "--dtype", "float64"]) == 1


def test_selfcheck_command_line():
    r = subprocess.run([sys.executable, "-m", "nnxp.selfcheck", "--backend", "numpy"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "AGREES with NumPy" in r.stdout and "backend     numpy" in r.stdout
    r = subprocess.run([sys.executable, "-m", "nnxp.selfcheck", "--backend", "bogus"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "valid backends" in r.stderr
    r = subprocess.run([sys.executable, "-m", "nnxp.selfcheck", "--dtype", "float16"],
                       capture_output=True, text=True)  # argparse's refusal: one line too
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
