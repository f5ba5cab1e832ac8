"""Network files (nnxp/io.py): exact round trips, network2 compatibility both ways, clear errors for bad files, atomic saves."""

import json
import os

import numpy as np
import pytest

import nnxp
from conftest import params_numpy, to_numpy

RNG = np.random.default_rng(0)
X, Y = RNG.random((90, 6)), RNG.integers(0, 3, 90)
XV, YV = RNG.random((30, 6)), RNG.integers(0, 3, 30)


def network2_save(path, sizes, weights, biases, cost_name):
    """What network2.Network.save writes: its four keys, biases as (n, 1) columns."""
    data = {"sizes": sizes, "weights": [w.tolist() for w in weights],
            "biases": [b.reshape(-1, 1).tolist() for b in biases], "cost": cost_name}
    with open(path, "w") as f:
        json.dump(data, f)


def network2_load_and_feedforward(path, x):
    """network2.load (with a fixed table instead of getattr) and its feedforward, one column
    vector at a time."""
    with open(path) as f:
        data = json.load(f)
    assert data["cost"] in ("QuadraticCost", "CrossEntropyCost")
    weights = [np.array(w) for w in data["weights"]]
    biases = [np.array(b) for b in data["biases"]]
    out = []
    for col in x:
        a = col.reshape(-1, 1)
        for w, b in zip(weights, biases):
            a = 1.0 / (1.0 + np.exp(-(np.dot(w, a) + b)))
        out.append(a.reshape(-1))
    return np.array(out)


def test_save_load_round_trip_is_exact(backend, tmp_path):
    for dtype in ("float32", "float64"):
        net = nnxp.Network([6, 5, 4, 3], seed=1, dtype=dtype,
                           activation=[nnxp.Tanh, nnxp.LeakyReLU(0.2)])
        net.SGD((X, Y), 1, 10, 0.3)
        net.save(tmp_path / "net.json")
        back = nnxp.load(tmp_path / "net.json")
        assert back.sizes == net.sizes and back.dtype == dtype
        assert back.activations == net.activations and back.cost is net.cost
        for a, b in zip(params_numpy(back), params_numpy(net)):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(to_numpy(back.feedforward(XV)),
                                      to_numpy(net.feedforward(XV)))


def test_network2_file_loads_and_predicts_like_its_weights(backend, tmp_path):
    rng = np.random.default_rng(3)
    sizes = [6, 4, 3]
    weights = [rng.standard_normal((4, 6)), rng.standard_normal((3, 4))]
    biases = [rng.standard_normal(4), rng.standard_normal(3)]
    network2_save(tmp_path / "n2.json", sizes, weights, biases, "CrossEntropyCost")
    net = nnxp.load(tmp_path / "n2.json")
    assert net.cost is nnxp.CrossEntropyCost and net.dtype == "float64"
    expected = network2_load_and_feedforward(tmp_path / "n2.json", XV)
    np.testing.assert_allclose(to_numpy(net.feedforward(XV)), expected, rtol=1e-12)
    assert net.accuracy((XV, YV)) == int(np.sum(np.argmax(expected, 1) == YV))


def test_network2_can_read_what_nnxp_saves(backend, tmp_path):
    net = nnxp.Network([6, 5, 3], cost=nnxp.QuadraticCost, seed=2, dtype="float64")
    net.save(tmp_path / "net.json")
    np.testing.assert_allclose(network2_load_and_feedforward(tmp_path / "net.json", XV),
                               to_numpy(net.feedforward(XV)), rtol=1e-12)


@pytest.mark.parametrize("content,match", [
    ("{not json", "is not a JSON network file"),
    ('{"sizes": [2, 2]}', "lacks the keys of a network file"),
    ('{"sizes": [2, 2], "weights": [[[1, 2], [3, 4]]], "biases": [[[1]]], '
     '"cost": "CrossEntropyCost"}', r"layer 0 should have weights \(2, 2\) and biases"),
    ('{"sizes": [1, 1], "weights": [[[1]]], "biases": [[[1]]], "cost": "os.system"}',
     "unknown cost 'os.system'"),
    ('{"sizes": [1, 1], "weights": [[[NaN]]], "biases": [[[1]]], "cost": "QuadraticCost"}',
     "NaN or infinite"),
    ('{"sizes": [1, 1], "weights": [[[1]]], "biases": [[[1]]], "cost": "QuadraticCost", '
     '"format": "nnxp.network", "version": 99}', "reads 'nnxp.network' up to version 1"),
])
def test_bad_files_get_clear_errors(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(nnxp.DataError, match=match):
        nnxp.load(path)
    with pytest.raises(nnxp.DataError, match="no network file at"):
        nnxp.load(tmp_path / "missing.json")


def test_a_failed_save_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    nnxp.Network([6, 5, 3], seed=0).save(path)
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        nnxp.Network([6, 5, 3], seed=1).save(path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["net.json"]  # no temporary file left behind


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_network_with_nan_parameters_is_not_saved(backend, tmp_path, bad):
    """A diverged network (on_divergence="continue") was written as JSON with NaN that
    nnxp.load refuses, over the file already there."""
    path = tmp_path / "net.json"
    nnxp.Network([6, 5, 3], seed=0).save(path)
    before = path.read_text()
    net = nnxp.Network([6, 5, 3], seed=1)
    w, b = (to_numpy(a).copy() for a in net.params[1])
    b[2] = bad
    net.params = (net.params[0], tuple(net.backend.asarray(a) for a in (w, b)))
    with pytest.raises(nnxp.DataError, match=r"layer 1's parameters\[1\] hold NaN or infinite"):
        net.save(path)
    assert path.read_text() == before
    nnxp.load(path)
