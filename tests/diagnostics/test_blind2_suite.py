"""The second blind group (benchmarks/blind2_suite.py) is well formed, without diagnosing it.

Names unique and no other suite's; every failing case labelled with a kind nnxp.diagnostics
has, named first only once and not also "allowed"; a remedy a researcher would expect for each
failing case, in the vocabulary ``diagnose_suite.apply`` takes; ``by_name``; each network fits
its data; ``bench_diagnose.py --suite blind2`` selects the group.  Nothing here runs
``nnxp.diagnose``, a HealthMonitor or the benchmark: the group is measured once, by
``python benchmarks/bench_diagnose.py --suite blind2 --seeds 0 1``."""

import pathlib
import sys

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import KINDS

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the repo's benchmarks/

from benchmarks import bench_diagnose  # noqa: E402
from benchmarks import blind2_suite as blind2  # noqa: E402
from benchmarks import blind_suite as blind  # noqa: E402
from benchmarks import diagnose_suite as suite  # noqa: E402
from benchmarks import fresh_suite as fresh  # noqa: E402
from benchmarks import heldout_suite as heldout  # noqa: E402

pytest.importorskip("sklearn")


def test_names_are_unique_and_no_other_suites():
    names = [s.name for s in blind2.SCENARIOS]
    assert len(names) == len(set(names))
    others = {s.name for g in (suite, heldout, fresh, blind) for s in g.SCENARIOS}
    assert not others & set(names)
    assert blind2.SCENARIOS == blind2.HEALTHY + blind2.FAILING
    assert len(blind2.HEALTHY) >= 14 and len(blind2.FAILING) >= 14


def test_every_label_is_a_kind_the_library_has():
    assert all(s.healthy and s.monitor and s.stage == "trained" for s in blind2.HEALTHY)
    for s in blind2.FAILING:
        assert not s.healthy
        assert s.primary in KINDS and s.expect == (s.primary,)
        assert set(s.allow) <= set(KINDS) and s.primary not in s.allow
        assert s.stage in ("fresh", "trained")
        assert 0.5 <= s.bar < 1.0


def test_every_failing_case_has_an_expected_remedy_apply_accepts():
    assert set(blind2.REMEDIES) == {s.name for s in blind2.FAILING}
    for s in blind2.FAILING:
        config = suite.apply(s.config, blind2.REMEDIES[s.name])
        assert config != s.config


def test_by_name_finds_every_case_and_only_those():
    for s in blind2.SCENARIOS:
        assert blind2.by_name(s.name) is s
    with pytest.raises(StopIteration):
        blind2.by_name("no-such-case")


def test_the_benchmark_selects_the_group(monkeypatch):
    seen = {}

    def tuned(*args, **kwargs):  # without the dispatch, run() would train the tuned suite
        raise AssertionError("--suite blind2 ran the tuned suite")
    monkeypatch.setattr(bench_diagnose.suite, "load", tuned)
    monkeypatch.setattr(bench_diagnose, "run_heldout",
                        lambda *args: seen.setdefault("group", args[-1]))
    assert bench_diagnose.run(which="blind2") is blind2

    def run(backend, seeds, only, finder, advice, which):  # the command line, not run
        seen["which"], seen["seeds"] = which, seeds
        return {}
    monkeypatch.setattr(bench_diagnose, "run", run)
    monkeypatch.setattr(bench_diagnose, "tables", lambda result: "")
    assert bench_diagnose.main(["--suite", "blind2", "--seeds", "0", "1"]) == 0
    assert seen["which"] == "blind2" and seen["seeds"] == [0, 1]


@pytest.fixture(scope="module")
def data():
    from conftest import mnist_dir
    return blind2.load(data_dir=mnist_dir())


def test_every_network_fits_its_data(data):
    for s in blind2.SCENARIOS:
        config = s.config
        (x, y), (xe, ye) = data[config["data"]]
        assert x.shape[1] == xe.shape[1] == config["sizes"][0], s.name
        assert int(max(np.max(y), np.max(ye))) + 1 == config["sizes"][-1], s.name
        assert config["mb"] <= len(y), s.name
        with nnxp.use_backend("numpy"):
            net = suite.build(config, 0)
            net.prepare((x, y))  # checks the widths and labels against the network
            assert np.asarray(net.feedforward(x[:3])).shape == (3, config["sizes"][-1])
