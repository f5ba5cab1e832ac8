"""The CI-reduced held-out suite (benchmarks/heldout_suite.py): data and failures no
threshold was tuned on, seed 0.  Healthy digits and moons networks of three kinds get no
warning from the diagnosis after training nor from the HealthMonitor during it; the seed
threads' failures name the cause whose remedy fixes them.  The full suite (three seeds, every
scenario, each remedy applied) is ``python benchmarks/bench_diagnose.py --suite heldout``."""

import pathlib
import sys

import pytest

import nnxp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the repo's benchmarks/

from benchmarks import heldout_suite as heldout  # noqa: E402

from .test_suite import one_thread  # noqa: E402

pytest.importorskip("sklearn")

HEALTHY = ("digits-sigmoid-1.0", "digits-tanh-0.1", "digits-relu-0.1", "moons-sigmoid-1.0",
           "moons-tanh-0.3", "moons-relu-0.3")
FAILING = ("full-batch-small", "chapter1-eta300", "digits-sigmoid-eta10", "moons-relu-eta3",
           "digits-dead-init")


@pytest.fixture(scope="module")
def data(mnist):
    from conftest import mnist_dir
    return heldout.load(data_dir=mnist_dir())


def test_healthy_networks_on_small_data_get_no_warning(data):
    with nnxp.use_backend("numpy"), one_thread():
        cases = [c for name in HEALTHY
                 for c in heldout.run_cases(heldout.by_name(name), 0, data)]
    flagged = [(c["scenario"], c["stage"], c["problems"]) for c in cases if c["reported"]]
    assert flagged == []


@pytest.mark.parametrize("name", FAILING)
def test_the_cause_named_first_is_the_one_whose_remedy_fixes_the_run(data, name):
    scenario = heldout.by_name(name)
    with nnxp.use_backend("numpy"), one_thread():
        case = next(c for c in heldout.run_cases(scenario, 0, data,
                                                 finder=heldout.finder(scenario, data))
                    if c["stage"] != "monitor")  # the finder, when the remedy lowers eta
        assert case["primary_ok"], (case["named_first"], case["problems"])
        outcome = heldout.try_advice(scenario, 0, data, case)
    assert outcome["fixed"], outcome
