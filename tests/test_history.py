"""History (nnxp/history.py): network2's four lists, records, JSON, pickling."""

import numpy as np
import pytest

import nnxp
from conftest import params_numpy

RNG = np.random.default_rng(0)
X, Y = RNG.random((100, 6)), RNG.integers(0, 3, 100)
XV, YV = RNG.random((40, 6)), RNG.integers(0, 3, 40)


def test_history_round_trips_and_unpacks_like_network2(tmp_path, backend):
    net = nnxp.Network([6, 5, 3], seed=0)
    h = net.SGD((X, Y), 2, 10, 0.5, evaluation_data=(XV, YV), monitor_evaluation_cost=True,
                monitor_evaluation_accuracy=True, monitor_training_cost=True,
                monitor_training_accuracy=True)
    ec, ea, tc, ta = h
    assert len(ec) == len(ea) == len(tc) == len(ta) == 2
    assert all(0 <= a <= 100 for a in ta) and all(0 <= a <= 40 for a in ea)
    h.save(tmp_path / "h.json")
    import json
    back = nnxp.History.from_dict(json.loads((tmp_path / "h.json").read_text()))
    assert tuple(back) == tuple(h) and back.records == h.records


def test_history_pickles_with_its_content():
    import pickle
    h = nnxp.History([{"epoch": 0, "eta": 0.5, "seconds": 0.1, "evaluation_accuracy": 7,
                       "training_cost": 0.3}], stop_reason="done")
    back = pickle.loads(pickle.dumps(h))
    assert back.evaluation_accuracy == [7] and back.training_cost == [0.3]
    assert back.records == h.records and back.stop_reason == "done"
