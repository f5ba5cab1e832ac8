"""The three diagnostics scenarios of examples/ on real MNIST, kept fast: subsets of 10,000
training and 2,000 validation images, a few epochs, on JAX when it is installed (each epoch is
one compiled program there), else NumPy.  Each test says what of the full scenario it checks;
each script's ``main`` also runs once, tiny, to show it is runnable as it stands.

Measured (seed 0, JAX): (a) validation accuracy 9-11% after each of 3 epochs; (b) after 3 good
epochs the broken network is at ~10% and a fresh one of the same seed at ~87-90%; (c) at the
start the large network has ~52% of its hidden (unit, input) pairs saturated, the default 0%.
Only robust outcomes of float32 runs are asserted (chance accuracy, costs frozen at 0.5, which
problem comes first), never a trajectory.
"""

import contextlib
import importlib.util
import sys
from pathlib import Path

import pytest

import nnxp

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fast():
    """The fastest backend installed: JAX, else NumPy."""
    try:
        with nnxp.use_backend("jax") as be:
            yield be
    except nnxp.BackendError:
        with nnxp.use_backend("numpy") as be:
            yield be


@pytest.fixture(scope="module")
def subset(mnist):
    (x, y), (xv, yv), _ = mnist
    return (x[:10000], y[:10000]), (xv[:2000], yv[:2000])


def test_noise_generator_stays_at_chance_and_the_diagnosis_says_why(fast, subset):
    """(a) eta 10, lmbda 1000 (scaled to keep eta lmbda / n = 0.2): chance accuracy, one class
    for everything, because weight decay of 20% per step wipes the weights out (the full
    scenario also ends with every hidden unit saturated by its bias)."""
    train, validation = subset
    net, history, report = example("scenario_noise").run(train, validation, epochs=3)
    assert all(a < 0.15 * 2000 for a in history.evaluation_accuracy)
    kinds = {(p.kind, p.layer) for p in report.problems}
    assert {("output_collapse", None), ("weight_decay_too_strong", None),
            ("tiny_weights", 0)} <= kinds
    (decay,) = report.find("weight_decay_too_strong")
    assert "1 - eta lmbda / n = 0.8" in decay.message and "lower lmbda" in decay.advice
    assert decay.evidence["decay_per_step"] == pytest.approx(0.2) and decay.severity == "error"
    (collapse,) = report.find("output_collapse")
    assert collapse.severity == "error" and collapse.evidence["share"] > 0.9
    assert collapse.advice.startswith("the output no longer depends on the input because of: "
                                      "weight_decay_too_strong")


def test_broken_network_cannot_recover_and_the_diagnosis_names_eta(fast, subset):
    """(b) 6 epochs at eta 300, mini-batch 5,000 (12 steps), then good training (3 epochs here,
    30 in the full scenario): far below a fresh network.  Given eta and the history of the run
    that broke it, the diagnosis names eta first (the cost froze at once), then the output
    units saturated under the quadratic cost; the hidden weights' scale is compared with
    network2's N(0, 1), not blamed."""
    train, validation = subset
    broken, fresh, (bad, after, fresh_history), report = example("scenario_broken").run(
        train, validation, bad_epochs=6, epochs=3)
    assert after.evaluation_accuracy[-1] < 0.2 * 2000
    assert fresh_history.evaluation_accuracy[-1] > 0.75 * 2000
    first = report.primary
    assert first.kind == "learning_rate_too_high" and first.severity == "error", str(report)
    assert "eta = 300" in first.message and first.remedy == {"eta": 30.0}
    (out,) = report.find("saturated_units", layer=1)
    assert out.severity == "error" and len(out.units) >= 5
    assert out.evidence["cost"] == "QuadraticCost" and out.evidence["delta_fraction"] < 0.01
    assert "CrossEntropyCost" in out.advice
    for hidden in report.find("saturated_units", layer=0):
        assert "network2's large_weight_initializer" in hidden.message


def test_large_initialization_is_diagnosed_as_saturated_at_the_start(fast, subset):
    """(c) at the start: the large network's hidden layer saturated, by weights ~28x the
    1/sqrt(n_in) scale; the default network has no warning (at most the untrained net's info)."""
    train, validation = subset
    out = example("scenario_init").run(train, validation, epochs=0)
    _, large, _ = out["large"]
    _, default, _ = out["default"]
    (p,) = large.find("saturated_units", layer=0)
    assert p.severity == "warning" and 0.3 < p.evidence["saturated"] < 0.9
    assert 20 < p.evidence["weight_scale"] < 40
    assert "default_weight_initializer" in p.advice
    assert default.ok and not default.find("saturated_units")
    assert default.stats[0]["saturated"] < 0.01


@pytest.mark.parametrize("name,argv,expected", [
    ("scenario_noise", ["--n-train", "3000", "--epochs", "1"], "weight_decay_too_strong"),
    ("scenario_broken", ["--n-train", "3000", "--bad-epochs", "4", "--epochs", "1"],
     "learning_rate_too_high (network)"),
    ("scenario_init", ["--n-train", "3000", "--epochs", "0"], "large initialization"),
])
def test_each_scenario_script_runs(fast, mnist, capsys, monkeypatch, name, argv, expected):
    from conftest import mnist_dir
    monkeypatch.setenv("NNXP_DATA_DIR", str(mnist_dir()))
    assert example(name).main(argv) == 0
    assert expected in capsys.readouterr().out
