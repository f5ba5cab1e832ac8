"""The fresh and blind held-out groups (benchmarks/fresh_suite.py, blind_suite.py) build and run.

Every case's network fits its data (input width, number of classes) and its labels are
consistent; two tiny cases (a healthy one and a broken start, two epochs) run end to end through
heldout_suite's machinery, the remedy step included.  What the diagnosis says about them is the
group's measurement (``python benchmarks/bench_diagnose.py --suite fresh``), not asserted here."""

import dataclasses
import pathlib
import sys

import numpy as np
import pytest

import nnxp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the repo's benchmarks/

from benchmarks import blind_suite as blind  # noqa: E402
from benchmarks import diagnose_suite as suite  # noqa: E402
from benchmarks import fresh_suite as fresh  # noqa: E402
from benchmarks import heldout_suite as heldout  # noqa: E402

from .test_suite import one_thread  # noqa: E402

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def data():
    from conftest import mnist_dir
    return fresh.load(data_dir=mnist_dir())


@pytest.fixture(scope="module")
def blind_data():
    from conftest import mnist_dir
    return blind.load(data_dir=mnist_dir())


@pytest.mark.parametrize("group", [fresh, blind], ids=["fresh", "blind"])
def test_the_group_has_the_promised_cases(group):
    names = [s.name for s in group.SCENARIOS]
    assert len(names) == len(set(names))
    assert len(group.SCENARIOS) >= 26 and len(group.HEALTHY) >= 13 and len(group.FAILING) >= 12
    assert all(s.healthy and s.monitor for s in group.HEALTHY)
    for s in group.FAILING:
        assert s.primary in s.expect and s.primary not in s.allow
        assert s.stage in ("fresh", "trained")
    if group is blind:  # none of its names (and so none of its cases) is another suite's
        others = {s.name for g in (fresh, heldout, suite) for s in g.SCENARIOS}
        assert not others & set(names)


@pytest.mark.parametrize("scenario", fresh.SCENARIOS + blind.SCENARIOS, ids=lambda s: s.name)
def test_every_case_builds_a_network_that_fits_its_data(data, blind_data, scenario):
    config = scenario.config
    group = blind_data if scenario in blind.SCENARIOS else data
    (x, y), (xe, ye) = group[config["data"]]
    assert x.shape[1] == xe.shape[1] == config["sizes"][0]
    assert int(max(np.max(y), np.max(ye))) + 1 == config["sizes"][-1]
    assert config["mb"] <= len(y)
    with nnxp.use_backend("numpy"):
        net = suite.build(config, 0)
        net.prepare((x, y))  # checks the widths and labels against the network
        out = np.asarray(net.feedforward(x[:3]))
    assert out.shape == (3, config["sizes"][-1])


def _tiny(name):
    s = fresh.by_name(name)
    return dataclasses.replace(s, config={**s.config, "epochs": 2})


@pytest.mark.parametrize("name", ["blobs-sigmoid", "blobs-zero-init"])
def test_a_tiny_case_runs_end_to_end(data, name):
    scenario = _tiny(name)
    with nnxp.use_backend("numpy"), one_thread():
        cases = heldout.run_cases(scenario, 0, data)
        stages = [c["stage"] for c in cases]
        assert stages == (["trained", "monitor"] if scenario.healthy else ["fresh"])
        for c in cases:
            assert 0.0 <= c["accuracy"] <= 1.0
            assert c["scenario"] == name and c["healthy"] == scenario.healthy
        if not scenario.healthy:
            outcome = heldout.try_advice(scenario, 0, data, cases[0])
            assert outcome["scenario"] == name and isinstance(outcome["fixed"], bool)
