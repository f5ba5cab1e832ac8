"""The CI-reduced scenario suite of benchmarks/bench_diagnose.py: diagnose's targets on real
MNIST subsets (5,000 training images), one seed, the scenarios of diagnose_suite.QUICK.

Targets (issue 10): no "error" on a healthy network; every failing scenario's primary cause
named first; precision and recall of every problem kind at least 0.9.  Then the finder on the
book's eta example: its recommendation trains and its threshold separates the eta that works
(0.5) from the one that oscillates (2.5); and one piece of advice applied and retrained.

The outcomes asserted are the suite's labels (which problem comes first, which kinds are
reported; when a diagnosis asks for the finder, the documented workflow runs it and diagnoses
again), robust properties of runs that either train or break by a wide margin (the eta
scenarios run 30 epochs, as the book's do, for a wide margin on the oscillation verdict).  The
full benchmark (three seeds, every scenario, advice for each) is
``python benchmarks/bench_diagnose.py``.
"""

import pathlib
import sys

import pytest

import nnxp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the repo's benchmarks/

from benchmarks import diagnose_suite as suite  # noqa: E402


@pytest.fixture(scope="module")
def data(mnist):
    from conftest import mnist_dir
    return suite.load(data_dir=mnist_dir())


def one_thread():
    """BLAS on one thread (threadpoolctl, when installed): on a busy machine its worker
    threads make these small products several times slower."""
    try:
        import threadpoolctl
    except ImportError:  # only the speed depends on it
        import contextlib
        return contextlib.nullcontext()
    return threadpoolctl.threadpool_limits(1)


def pytest_generate_tests(metafunc):
    """The suite's verdicts on NumPy and on JAX (the two backends the issue's targets name;
    the diagnostics' arithmetic is the same code on every backend, checked by the parity
    suite), among the backends under test."""
    if "suite_backend" in metafunc.fixturenames:
        chosen = [b for b in ("numpy", "jax") if b in metafunc.config.nnxp_backends]
        metafunc.parametrize("suite_backend", chosen)


def test_targets_on_the_quick_suite(suite_backend, data):
    with nnxp.use_backend(suite_backend), one_thread():
        cases = []
        for name in suite.QUICK:
            scenario = suite.by_name(name)
            got = suite.run_cases(scenario, 0, data)
            if any(p.startswith("learning_rate_too_high[info]") for c in got
                   for p in c["problems"]):  # the curve cannot tell: the finder decides
                threshold = suite.finder_threshold(scenario.config,
                                                   suite._subset(data, scenario.config)[0])
                got = suite.run_cases(scenario, 0, data, finder=lambda: threshold)
            cases += got
    score = suite.score(cases)
    assert score["healthy_errors"] == []
    wrong = [(c["scenario"], c["primary"], c["named_first"], c["problems"]) for c in cases
             if c["primary"] is not None and not c["primary_ok"]]
    assert wrong == []
    assert len(score["kinds"]) >= 8
    for kind, row in score["kinds"].items():
        assert row["precision"] is None or row["precision"] >= 0.9, (kind, row)
        assert row["recall"] is None or row["recall"] >= 0.9, (kind, row)


def test_the_finder_separates_the_books_etas_and_its_advice_works(data):
    with nnxp.use_backend("numpy"), one_thread():
        scenario = suite.by_name("eta-small-batch")
        found = suite.run_finder(scenario, data)
        assert found["trains"] and found["separates"], found
        collapse = suite.by_name("relu-collapse")
        xy = suite._subset(data, collapse.config)[0]
        threshold = suite.finder_threshold(collapse.config, xy)
        case = next(c for c in suite.run_cases(collapse, 0, data, finder=lambda: threshold)
                    if c["stage"] == "trained")
        outcome = suite.try_advice(collapse, 0, data, case, None)
    # the remedy is the finder's recommendation, a number SGD takes as it is
    assert outcome["remedy"] == {"eta": threshold / 2} and outcome["fixed"], outcome
