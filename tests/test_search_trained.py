"""A search returns its best trials' trained networks (``result.network``, ``best_network``):
the parameters the workers trained, equal to ``rerun``'s network trained again from scratch,
bit for bit on NumPy (float64 and float32), to the parity suite's bounds elsewhere; only the
best ``keep`` are held."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import nnxp
import nnxp.search as search
from conftest import blobs, dask_client, to_numpy

SIZES = [6, 9, 3]
TRAIN, VALID = blobs(), blobs(60, seed=1)
SPACE = {"sizes": SIZES, "eta": [0.3, 2.0], "lmbda": [0.0, 3.0], "momentum": [0.0, 0.6]}


def _grid(space=SPACE, executor=None, **options):
    options.setdefault("epochs", 2)
    options.setdefault("mini_batch_size", 10)
    if executor is not None:
        return search.grid(space, TRAIN, VALID, executor=executor, **options)
    with ThreadPoolExecutor(2) as pool:
        return search.grid(space, TRAIN, VALID, executor=pool, **options)


def _same(net, other, exact, dtype):
    assert net.sizes == other.sizes and net.dtype == other.dtype
    for (w, b), (w2, b2) in zip(net.params, other.params):
        for a, a2 in ((w, w2), (b, b2)):
            a, a2 = to_numpy(a), to_numpy(a2)
            if exact:
                assert a.dtype == a2.dtype and np.array_equal(a, a2)
            else:
                np.testing.assert_allclose(a, a2, rtol=1e-10 if dtype == "float64" else 1e-4,
                                           atol=1e-12 if dtype == "float64" else 1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_returned_network_equals_rerun(backend, dtype):
    exact = backend.name == "numpy"
    result = _grid(dict(SPACE, dtype=dtype), seed=4, keep=2)
    assert sorted(result.trained) == sorted(r["trial"] for r in result.records[:2])
    best = result.best_network()
    assert best.backend.name == backend.name and best.seed == result.best["seed"]
    again, _ = search.rerun(result, None, TRAIN, VALID)
    _same(best, again, exact, dtype)
    second = result.records[1]
    again, _ = search.rerun(result, second["trial"], TRAIN, VALID)
    _same(result.network(second), again, exact, dtype)
    _same(result.network(second["trial"]), again, exact, dtype)
    # the network measures what the record says: its accuracy is the record's final one
    assert best.accuracy(VALID) / len(VALID[1]) == result.best["final_accuracy"]


def test_only_the_best_keep_are_held():
    with nnxp.use_backend("numpy"):
        one = _grid(seed=4)                      # keep=1 by default
        none = _grid(seed=4, keep=0)
        three = _grid(seed=4, keep=3, max_members=1)
    assert list(one.trained) == [one.best["trial"]]
    assert none.trained == {}
    assert sorted(three.trained) == sorted(r["trial"] for r in three.records[:3])
    for w, b in three.trained[three.best["trial"]]:
        assert type(w) is np.ndarray and type(b) is np.ndarray  # host arrays, pickle anywhere
    with pytest.raises(nnxp.ConfigError, match="not kept.*rerun"):
        one.network(one.records[-1])
    with pytest.raises(nnxp.ConfigError, match="not kept"):
        none.best_network()
    with pytest.raises(nnxp.ConfigError, match="no trial 99"):
        one.network(99)
    with pytest.raises(nnxp.ConfigError, match="keep"):
        _grid(seed=4, keep=-1)


def test_a_trial_or_result_of_the_wrong_type_is_refused():
    """True is not trial 1, 1.0 not a trial number; rerun and plot take a SearchResult."""
    with nnxp.use_backend("numpy"):
        result = _grid({"sizes": SIZES, "eta": [0.3, 2.0]}, epochs=1, keep=2)
    for trial in (True, 1.0, "1", [1]):
        with pytest.raises(nnxp.InputTypeError, match="trial must be a trial number"):
            result.network(trial)
        with pytest.raises(nnxp.InputTypeError, match="trial must be a trial number"):
            search.rerun(result, trial, TRAIN, VALID)
    for wrong in (None, "result.json", result.records):
        with pytest.raises(nnxp.InputTypeError, match="expected a SearchResult"):
            search.rerun(wrong, 0, TRAIN, VALID)
        with pytest.raises(nnxp.InputTypeError, match="expected a SearchResult"):
            search.plot_search(wrong)
    with pytest.raises(nnxp.InputTypeError, match="path must be a file path"):
        result.plot(3)
    for initializer in ("he", 3):
        with pytest.raises(nnxp.InputTypeError, match="initializer must be the function"):
            search.rerun(result, 0, TRAIN, VALID, initializer=initializer)


def test_halving_returns_the_best_trial_of_the_last_round():
    with nnxp.use_backend("numpy"), ThreadPoolExecutor(2) as pool:
        result = search.halving(dict(SPACE, dtype="float64"), TRAIN, VALID, epochs=3,
                                mini_batch_size=10, factor=3, seed=2, executor=pool, keep=2)
    assert sorted(result.trained) == sorted(r["trial"] for r in result.records[:2])
    assert result.records[0]["round"] == len(result.rounds) - 1
    again, _ = search.rerun(result, None, TRAIN, VALID)
    _same(result.best_network(), again, True, "float64")


def test_a_leaky_relu_trial_is_rebuilt_from_the_search_s_objects():
    """rerun and network build the activation the search built (never parsed from its label)."""
    space = {"sizes": SIZES, "eta": [0.1], "activation": [nnxp.LeakyReLU(0.05)],
             "dtype": "float64"}
    with nnxp.use_backend("numpy"):
        result = _grid(space, seed=1)
        again, _ = search.rerun(result, 0, TRAIN, VALID)
    assert again.activations[0] == nnxp.LeakyReLU(0.05)
    _same(result.best_network(), again, True, "float64")


def test_trained_networks_come_back_from_dask():
    with nnxp.use_backend("numpy"), dask_client() as client:
        result = _grid(dict(SPACE, dtype="float64"), executor=client, seed=4, keep=2)
    assert len(result.trained) == 2
    again, _ = search.rerun(result, None, TRAIN, VALID)
    _same(result.best_network(), again, True, "float64")


def test_a_group_sends_back_only_its_best_keep_members(monkeypatch):
    """The bound holds on the wire: a worker's outcomes carry parameters for its group's best
    ``keep`` members only (ranked as the records are)."""
    import nnxp.search.executors as executors
    sent, run_group = [], executors.run_group

    def spy(task, data=None):
        outcomes = run_group(task, data)
        sent.append(sorted(o["trial"] for o in outcomes if o["params"] is not None))
        return outcomes
    monkeypatch.setattr(executors, "run_group", spy)
    with nnxp.use_backend("numpy"):
        result = _grid({"sizes": SIZES, "eta": [0.3, 1.0, 2.0], "lmbda": [0.0, 3.0]}, seed=4,
                       keep=2, max_members=6)   # one shape: one group of all 6 trials
    best = sorted(r["trial"] for r in result.records[:2])
    assert sent == [best] and sorted(result.trained) == best
