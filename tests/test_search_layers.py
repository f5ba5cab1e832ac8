"""nnxp.search over layered architectures: a space's sizes may list layer objects as
nnxp.Network takes them.  The records name such an architecture by its label; the trials build,
count, group and checkpoint it from its layer objects; a trial equals the same network trained
alone; halving continues it from its checkpoint; a results file resumes; Optuna chooses among
labels; an edited label, a checkpoint of other layers and one label for two architectures are
refused."""

import json
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import nnxp
import nnxp.search as search
from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax
from nnxp.search.architectures import label
from conftest import blobs
from test_search_halving import Interrupting, _without_seconds

TRAIN, VALID = blobs(width=16), blobs(60, seed=1, width=16)
DENSE = [16, 8, 3]
CONV = [16, Reshape((1, 4, 4)), ConvPool(2, (3, 3), pool=(1, 1)), Flatten(), Dense(6),
        Softmax(3)]
COST = "LogLikelihoodCost"


def _grid(executor=None, **options):
    space = {"sizes": [DENSE, CONV], "eta": [0.5, 2.0], "cost": COST, "dtype": "float64"}
    return search.grid(space, TRAIN, VALID, epochs=3, mini_batch_size=10, seed=4,
                       executor=executor or ThreadPoolExecutor(2), **options)


def _alone(record, epochs, shuffle):
    net = nnxp.Network(CONV, cost=nnxp.LogLikelihoodCost, seed=record["seed"], dtype="float64")
    history = net.SGD(TRAIN, epochs, 10, record["eta"], evaluation_data=VALID,
                      monitor_evaluation_accuracy=True, monitor_evaluation_cost=True,
                      shuffle=shuffle)
    return net, history


def _same_params(a, b):
    for layer_a, layer_b in zip(a.params, b.params, strict=True):
        for x, y in zip(layer_a, layer_b, strict=True):
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=0, atol=1e-10)


def test_a_grid_over_a_dense_and_a_conv_architecture(backend):
    result = _grid(keep=4, max_members=2)
    conv = label(CONV)
    assert conv.startswith("16,Reshape(shape=(1, 4, 4)") and "ConvPool(n_filters=2" in conv
    assert sorted(map(str, {json.dumps(r["sizes"]) for r in result.records})) == \
        sorted([json.dumps(DENSE), json.dumps(conv)])
    assert all(r["status"] == "ok" for r in result.records)
    assert result.config["varied"] == ["sizes", "eta"]
    assert conv in result.csv() and json.loads(json.dumps(result.to_dict()))
    assert "grid search: 4 trials" in str(result)
    for record in (r for r in result.records if r["sizes"] == conv):
        alone, history = _alone(record, 3, result.shuffle_seed)
        trained = result.network(record)
        assert trained.layers == alone.layers
        _same_params(trained, alone)
        mine = result.histories[record["trial"]]["records"]
        assert [r["evaluation_accuracy"] for r in mine] == history.evaluation_accuracy
        net, again = search.rerun(result, record, TRAIN, VALID)
        _same_params(net, alone)
    dense = next(r for r in result.records if r["sizes"] == DENSE)
    assert result.network(dense).layers is None
    trial = result.trials[2]  # the trials carry the objects, which pickle (search processes)
    assert trial.build["sizes"] == CONV
    assert pickle.loads(pickle.dumps(trial)).build["sizes"] == CONV


def test_halving_continues_a_conv_trial_from_its_checkpoint(tmp_path):
    space = {"sizes": CONV, "eta": (0.1, 3.0), "cost": COST, "dtype": "float64"}

    def halving(**options):
        return search.halving(space, TRAIN, VALID, mini_batch_size=10, seed=2, n_candidates=3,
                              epochs=3, max_members=1, **options)
    with nnxp.use_backend("numpy"):
        whole = halving(executor=ThreadPoolExecutor(2))
        assert [(r["candidates"], r["epochs"]) for r in whole.rounds] == [(3, 1), (1, 3)]
        path = tmp_path / "halving.json"
        with pytest.raises(KeyboardInterrupt):
            halving(path=path, executor=Interrupting(4))  # at the start of round 1
        again = Interrupting()
        resumed = halving(path=path, executor=again)
        assert again.submitted == 1  # round 0 not run again: the winner continued from its file
        assert _without_seconds(resumed.records) == _without_seconds(whole.records)
        best = resumed.best
        assert best["sizes"] == label(CONV) and best["epochs"] == 3
        alone, history = _alone(best, 3, resumed.shuffle_seed)
        mine = resumed.histories[best["trial"]]["records"]
        assert [r["evaluation_accuracy"] for r in mine] == history.evaluation_accuracy
        np.testing.assert_allclose([r["evaluation_cost"] for r in mine],
                                   history.evaluation_cost, rtol=0, atol=1e-10)
        net = nnxp.load(resumed.checkpoints[best["trial"]])
        assert net.layers == alone.layers and net.seed == best["seed"]
        _same_params(net, alone)


def test_a_results_file_with_a_layered_record_resumes(tmp_path):
    with nnxp.use_backend("numpy"):
        whole = _grid()
        path = tmp_path / "grid.json"
        with pytest.raises(KeyboardInterrupt):
            _grid(path=path, executor=Interrupting(3), max_members=1)
        saved = json.loads(path.read_text())
        assert label(CONV) in json.dumps(saved)
        again = Interrupting()
        resumed = _grid(path=path, executor=again, max_members=1)
        assert again.submitted == 2
        assert _without_seconds(resumed.records) == _without_seconds(whole.records)


@pytest.mark.parametrize("edit", ["another layer", "the dense trial's"])
def test_an_edited_label_in_a_results_file_is_refused(tmp_path, edit):
    """A record's label is compared with the space's own; never parsed into layers."""
    with nnxp.use_backend("numpy"):
        path = tmp_path / "grid.json"
        _grid(path=path)
        saved = json.loads(path.read_text())
        if edit == "another layer":
            record = next(r for r in saved["records"] if isinstance(r["sizes"], str))
            record["sizes"] = record["sizes"].replace("n_filters=2", "n_filters=3")
        else:
            record = next(r for r in saved["records"] if r["sizes"] == DENSE)
            record["sizes"] = label(CONV)
        text = json.dumps(saved)
        path.write_text(text)
        with pytest.raises(nnxp.DataError, match="sizes"):
            _grid(path=path)
        assert path.read_text() == text  # nothing written
        # the config's copy of the trials edited too: the results of another search
        saved["config"]["trials"][2]["sizes"] = saved["config"]["trials"][2]["sizes"].replace(
            "n_filters=2", "n_filters=3")
        path.write_text(json.dumps(saved))
        with pytest.raises(nnxp.ConfigError, match="another search"):
            _grid(path=path)


def test_two_architectures_with_one_label_are_refused():
    def ones(rng, shape):
        return np.ones(shape)
    twin = CONV[:4] + [Dense(6, weight_init=ones)] + CONV[5:]
    assert label(twin) == label(CONV) and twin != CONV
    with pytest.raises(nnxp.ConfigError, match="the label"):
        search.grid({"sizes": [CONV, twin], "eta": [1.0], "cost": COST}, TRAIN, VALID, epochs=1,
                    mini_batch_size=10, executor=ThreadPoolExecutor(1))


def test_a_layered_record_is_built_from_the_searchs_own_layers_only():
    with nnxp.use_backend("numpy"):
        result = _grid(keep=4)
        record = next(r for r in result.records if isinstance(r["sizes"], str))
        edited = dict(record, sizes=record["sizes"].replace("n_filters=2", "n_filters=3"))
        with pytest.raises(nnxp.ConfigError, match="sizes"):
            search.rerun(result, edited, TRAIN, VALID)
        result.trials = None  # a result made by hand: nothing to build the label from
        with pytest.raises(nnxp.ConfigError, match="label only"):
            result.network(record)


def test_optuna_searches_layered_architectures_and_resumes_its_study(tmp_path):
    space = {"sizes": [DENSE, CONV], "eta": (0.1, 3.0), "cost": COST, "dtype": "float64"}

    def run(n_trials, path):
        return search.optuna(space, TRAIN, VALID, n_trials=n_trials, batch=3, epochs=2,
                             mini_batch_size=10, seed=5, keep=6, path=path,
                             executor=ThreadPoolExecutor(2))
    with nnxp.use_backend("numpy"):
        path = tmp_path / "optuna.json"
        first = run(3, path)
        result = run(6, path)  # three more, the first three read back from the study
        assert len(result.records) == 6
        def by_trial(records):
            return {r["trial"]: r for r in _without_seconds(records) if r["trial"] < 3}
        assert by_trial(result.records) == by_trial(first.records)
        labels = {json.dumps(r["sizes"]) for r in result.records}
        assert labels == {json.dumps(DENSE), json.dumps(label(CONV))}
        conv = [r for r in result.records if r["sizes"] == label(CONV)]
        for record in conv:
            alone, _ = _alone(record, 2, result.shuffle_seed)
            net, _ = search.rerun(result, record, TRAIN, VALID)
            _same_params(net, alone)
            if record["trial"] in result.trained:  # trained in this session
                _same_params(result.network(record), alone)
        assert any(r["trial"] in result.trained for r in conv)


def test_a_checkpoint_of_other_layers_with_the_same_shapes_is_refused(tmp_path):
    """Even with its digest recorded, a checkpoint whose layers differ from the trial's (here
    a Tanh ConvPool for a Sigmoid one: the same parameter shapes) is not continued from."""
    def halving(entries, path, executor):
        space = {"sizes": entries, "eta": (0.1, 3.0), "cost": COST, "dtype": "float64"}
        return search.halving(space, TRAIN, VALID, mini_batch_size=10, seed=2, n_candidates=3,
                              epochs=3, max_members=1, path=path, executor=executor)
    tanh = CONV[:2] + [ConvPool(2, (3, 3), pool=(1, 1), activation="Tanh")] + CONV[3:]
    with nnxp.use_backend("numpy"):
        a, b = tmp_path / "a.json", tmp_path / "b.json"
        for entries, path in ((CONV, a), (tanh, b)):
            with pytest.raises(KeyboardInterrupt):
                halving(entries, path, Interrupting(4))
        saved = json.loads(a.read_text())
        for name in saved["checkpoints"]:
            other = (tmp_path / "b.json.trials" / name).read_bytes()
            (tmp_path / "a.json.trials" / name).write_bytes(other)
        saved["checkpoints"] = json.loads(b.read_text())["checkpoints"]
        a.write_text(json.dumps(saved))
        with pytest.raises(nnxp.DataError, match="holds a network"):
            halving(CONV, a, Interrupting())


def test_a_random_search_draws_among_dense_and_layered_architectures():
    space = {"sizes": [DENSE, CONV], "eta": (0.1, 3.0), "cost": COST, "dtype": "float64"}
    with nnxp.use_backend("numpy"):
        result = search.random(space, TRAIN, VALID, n_trials=6, epochs=1, mini_batch_size=10,
                               seed=1, executor=ThreadPoolExecutor(2), keep=6)
        assert {json.dumps(r["sizes"]) for r in result.records} == \
            {json.dumps(DENSE), json.dumps(label(CONV))}
        for record in result.records:
            layers = result.network(record).layers
            assert (layers is None) == (record["sizes"] == DENSE)


def test_local_processes_receive_the_layers_and_give_the_threads_table():
    """The default executor (spawned processes): the tasks pickle the layer objects."""
    with nnxp.use_backend("numpy"):
        threads = _grid()
        space = {"sizes": [DENSE, CONV], "eta": [0.5, 2.0], "cost": COST, "dtype": "float64"}
        processes = search.grid(space, TRAIN, VALID, epochs=3, mini_batch_size=10, seed=4,
                                executor=None)
        assert _without_seconds(processes.records) == _without_seconds(threads.records)


def test_optuna_refuses_two_architectures_with_one_label():
    def ones(rng, shape):
        return np.ones(shape)
    twin = CONV[:4] + [Dense(6, weight_init=ones)] + CONV[5:]
    with pytest.raises(nnxp.ConfigError, match="twice"):
        search.optuna({"sizes": [CONV, twin], "eta": (0.1, 1.0), "cost": COST}, TRAIN, VALID,
                      n_trials=2, epochs=1, mini_batch_size=10, executor=ThreadPoolExecutor(1))


def ones(rng, shape):
    return np.ones(shape)


def twin_space(trial):
    """A define-by-run space whose two architectures share a label."""
    which = trial.suggest_categorical("which", [0, 1])
    dense = Dense(6) if which == 0 else Dense(6, weight_init=ones)
    return {"sizes": CONV[:4] + [dense] + CONV[5:], "eta": 0.5, "cost": COST}


def test_optuna_refuses_a_define_by_run_label_for_two_architectures():
    with pytest.raises(nnxp.ConfigError, match="label"):
        search.optuna(twin_space, TRAIN, VALID, n_trials=8, batch=8, epochs=1, seed=3,
                      mini_batch_size=10, executor=ThreadPoolExecutor(1))
