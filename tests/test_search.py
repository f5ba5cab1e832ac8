"""nnxp.search: grid and random search, the records, the space, failures, plots.  The reference
for every trial is the same network trained alone (``rerun``: Network(sizes, seed=record's seed)
with the search's shuffling seed): bit for bit on NumPy, to float64 rounding elsewhere."""

import csv
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import nnxp
import nnxp.search as search
from nnxp.search.space import HYPER
from conftest import blobs

SIZES = [6, 9, 3]


TRAIN, VALID = blobs(), blobs(60, seed=1)


def _grid(space, **options):
    options.setdefault("epochs", 3)
    options.setdefault("mini_batch_size", 10)
    with ThreadPoolExecutor(2) as executor:
        return search.grid(space, TRAIN, VALID, executor=executor, **options)


def _without_seconds(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_grid_records_are_complete_and_sorted(backend):
    space = {"sizes": SIZES, "eta": [0.05, 1.0, 3.0], "lmbda": [0.0, 2.0]}
    result = _grid(space, seed=3)
    assert len(result.records) == 6 and {r["trial"] for r in result.records} == set(range(6))
    for r in result.records:
        assert set(HYPER) <= set(r) and r["sizes"] == SIZES and r["status"] == "ok"
        assert r["epochs"] == 3 and 0 <= r["best_accuracy"] <= 1 and r["error"] is None
        assert r["final_accuracy"] <= r["best_accuracy"] and r["best_cost"] <= r["final_cost"]
        assert len(result.histories[r["trial"]]["records"]) == 3
    best = [r["best_accuracy"] for r in result.records]
    assert best == sorted(best, reverse=True) and result.best is result.records[0]
    assert [(r["eta"], r["lmbda"]) for r in sorted(result.records, key=lambda r: r["trial"])] \
        == [(e, l) for e in (0.05, 1.0, 3.0) for l in (0.0, 2.0)]  # the first key slowest
    assert result.config["varied"] == ["eta", "lmbda"]
    assert result.best["best_accuracy"] > 0.8  # the blobs are easy for a good eta
    assert "grid search: 6 trials" in str(result)


@pytest.mark.parametrize("dtype", ["float64"])
def test_a_population_member_equals_the_trial_trained_alone(backend, dtype):
    """Trials of one shape train as one Population; each member equals the network trained
    alone with the record's seed and the search's shuffling seed (``rerun``)."""
    space = {"sizes": SIZES, "dtype": dtype, "eta": [0.3, 2.0], "lmbda": [0.0, 3.0],
             "momentum": [0.0, 0.6], "l1": [0.0, 0.5]}
    exact = backend.name == "numpy"
    if not exact:  # fewer shapes, fewer compiled programs (NumPy covers the L1 split)
        space["l1"] = [0.5]
    result = _grid(space, seed=11, epochs=2)  # a shape per (momentum, l1): 4 members each
    for record in result.records[::3] if exact else result.records[::8]:
        net, history = search.rerun(result, record["trial"], TRAIN, VALID)
        mine = result.histories[record["trial"]]["records"]
        assert [r["evaluation_accuracy"] for r in mine] == history.evaluation_accuracy
        costs = [r["evaluation_cost"] for r in mine]
        if exact:
            assert costs == history.evaluation_cost
        else:
            np.testing.assert_allclose(costs, history.evaluation_cost, rtol=1e-10)
        assert record["seed"] == net.seed
    if exact:  # the grouping does not change a bit: every trial alone gives the same table
        alone = _grid(space, seed=11, epochs=2, max_members=1)
        assert _without_seconds(alone.records) == _without_seconds(result.records)


def test_member_equals_alone_on_mnist_shapes():
    """The same on real-sized arrays ([784, 30, 10], float32, NumPy, one BLAS thread): the
    wide matrix products go through BLAS exactly as for one network."""
    rng = np.random.default_rng(5)
    x, y = rng.random((300, 784)).astype(np.float32), rng.integers(0, 10, 300)
    xv, yv = rng.random((100, 784)).astype(np.float32), rng.integers(0, 10, 100)
    space = {"sizes": [784, 30, 10], "eta": [0.1, 0.5, 2.0], "lmbda": [0.0, 5.0]}
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with nnxp.use_backend("numpy"), ThreadPoolExecutor(1) as executor, \
            threadpoolctl.threadpool_limits(1):  # the condition the docs state
        result = search.grid(space, (x, y), (xv, yv), epochs=2, mini_batch_size=10,
                             executor=executor, max_members=6)
        for record in result.records[:2]:
            _, history = search.rerun(result, record, (x, y), (xv, yv))
            mine = result.histories[record["trial"]]["records"]
            assert [r["evaluation_cost"] for r in mine] == history.evaluation_cost


def test_csv_and_json_hold_every_record(tmp_path):
    result = _grid({"sizes": SIZES, "eta": [0.1, 1.0], "activation": ["Sigmoid", "Tanh"]})
    result.to_csv(tmp_path / "r.csv")
    result.to_json(tmp_path / "r.json")
    with open(tmp_path / "r.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["trial"]) for r in rows] == [r["trial"] for r in result.records]
    assert json.loads(rows[0]["sizes"]) == SIZES and {r["activation"] for r in rows} == \
        {"Sigmoid", "Tanh"}
    assert float(rows[0]["best_accuracy"]) == result.records[0]["best_accuracy"]
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["records"] == json.loads(json.dumps(result.records))
    assert set(saved["histories"]) == {str(r["trial"]) for r in result.records}


def test_the_table_is_never_written_over_the_searchs_own_results_file(tmp_path, monkeypatch):
    """to_json, to_csv and plot at the search's own path= (by any name: relative, through a
    link) are refused and the file is left byte for byte (to_json replaced it with a file
    the search then refused to resume from: "not an nnxp search results file")."""
    path = tmp_path / "search.json"
    result = _grid({"sizes": SIZES, "eta": [0.1, 1.0]}, epochs=1, path=path)
    saved = path.read_bytes()
    (tmp_path / "link.json").symlink_to(path)
    monkeypatch.chdir(tmp_path)
    for write in (result.to_json, result.to_csv, result.plot):
        for name in (path, "search.json", "link.json"):
            with pytest.raises(nnxp.ConfigError, match="a file this search keeps"):
                write(name)
    assert path.read_bytes() == saved
    result.to_json("table.json")
    assert json.loads((tmp_path / "table.json").read_text())["records"] == result.records
    again = _grid({"sizes": SIZES, "eta": [0.1, 1.0]}, epochs=1, path=path)  # resumes
    assert _without_seconds(again.records) == _without_seconds(result.records)
    with ThreadPoolExecutor(2) as executor:
        halved = search.halving({"sizes": SIZES, "eta": [0.1, 0.5, 1.0, 2.0]}, TRAIN, VALID,
                                epochs=2, mini_batch_size=10, n_candidates=4, factor=2,
                                path=tmp_path / "halving.json", executor=executor)
    checkpoint = next(iter(halved.checkpoints.values()))
    with pytest.raises(nnxp.ConfigError, match="a file this search keeps"):
        halved.to_csv(checkpoint)


@pytest.mark.parametrize("kind", ["grid", "halving"])
def test_a_url_is_not_taken_for_a_results_file(tmp_path, monkeypatch, kind):
    """path="sqlite:///search.db" (an Optuna habit): a ConfigError before anything runs (the
    search wrote ./sqlite:/search.db, in a new folder of the working directory)."""
    monkeypatch.chdir(tmp_path)
    space = {"sizes": SIZES, "eta": [0.1, 1.0]}
    with pytest.raises(nnxp.ConfigError, match="results file.*URL 'sqlite:///search.db'"):
        with ThreadPoolExecutor(1) as executor:
            if kind == "grid":
                search.grid(space, TRAIN, VALID, epochs=1, mini_batch_size=10,
                            path="sqlite:///search.db", executor=executor)
            else:
                search.halving(space, TRAIN, VALID, epochs=2, mini_batch_size=10,
                               n_candidates=2, factor=2, path="sqlite:///search.db",
                               executor=executor)
    assert os.listdir(tmp_path) == []


def test_random_search_draws_log_uniform_and_choices():
    space = {"sizes": [SIZES, [6, 4, 3]], "eta": (0.01, 10.0), "lmbda": search.loguniform(
        1e-3, 1.0), "momentum": (0.0, 0.9), "mini_batch_size": [5, 10]}
    result = search.random(space, TRAIN, VALID, n_trials=12, epochs=1, mini_batch_size=10,
                           seed=4, executor=ThreadPoolExecutor(2))
    records = sorted(result.records, key=lambda r: r["trial"])
    assert len(records) == 12
    etas = [r["eta"] for r in records]
    assert all(0.01 <= e <= 10 for e in etas) and len(set(etas)) == 12
    assert min(etas) < 0.1 and max(etas) > 1.0  # log-uniform: every decade gets some
    assert all(1e-3 <= r["lmbda"] <= 1 and 0 <= r["momentum"] <= 0.9 for r in records)
    assert {r["mini_batch_size"] for r in records} == {5, 10}
    assert {tuple(r["sizes"]) for r in records} == {tuple(SIZES), (6, 4, 3)}
    again = search.random(space, TRAIN, VALID, n_trials=12, epochs=1, mini_batch_size=10,
                          seed=4, executor=ThreadPoolExecutor(2))
    assert _without_seconds(again.records) == _without_seconds(result.records)
    other = search.random(space, TRAIN, VALID, n_trials=2, epochs=1, mini_batch_size=10,
                          seed=5, executor=ThreadPoolExecutor(1))
    assert other.records[0]["eta"] not in etas


@pytest.mark.parametrize("name, values", [
    ("momentum", (0.0, 1.5)),
    ("momentum", search.uniform(0.5, 1.2)),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_a_range_reaching_outside_its_values_is_refused_whatever_the_seed(name, values, seed):
    """Before, a draw outside was refused and one inside ran: the seed decided."""
    space = dict({"sizes": SIZES, "eta": (0.1, 1.0)}, **{name: values})
    with pytest.raises(nnxp.ConfigError, match=f"{name} ranges over .* outside the values"):
        search.random(space, TRAIN, VALID, n_trials=1, epochs=1, mini_batch_size=10,
                      seed=seed, executor=ThreadPoolExecutor(1))


def test_random_search_takes_scipy_distributions():
    stats = pytest.importorskip("scipy.stats")
    space = {"sizes": SIZES, "eta": stats.loguniform(0.1, 1.0)}
    result = search.random(space, TRAIN, VALID, n_trials=3, epochs=1, mini_batch_size=10,
                           executor=ThreadPoolExecutor(1))
    assert all(0.1 <= r["eta"] <= 1.0 for r in result.records)


def test_a_search_needs_an_integer_seed():
    with pytest.raises(nnxp.ConfigError, match="integer seed"):
        search.grid({"sizes": SIZES, "eta": [0.1]}, TRAIN, VALID, epochs=1, mini_batch_size=10,
                    seed=None)


@pytest.mark.parametrize("space, options, match", [
    ({"sizes": SIZES, "eta": [0.1], "gamma": [1]}, {}, "unknown hyper-parameters"),
    ({"sizes": SIZES}, {}, "must give 'sizes' and 'eta'"),
    ({"sizes": SIZES, "eta": []}, {}, "eta lists no values"),
    ({"sizes": SIZES, "eta": (0.1, 1.0)}, {}, "eta is a range"),
    ({"sizes": SIZES, "eta": [-1.0]}, {}, "eta must be > 0"),
    ({"sizes": SIZES, "eta": [0.1], "momentum": [1.5]}, {}, r"momentum must be in \[0, 1\)"),
    ({"sizes": SIZES, "eta": [0.1], "activation": ["Swish"]}, {}, "unknown activation"),
    ({"sizes": [SIZES, [5, 3]], "eta": [0.1]}, {}, "same input and output widths"),
    ({"sizes": SIZES, "eta": [0.1]}, {"patience": 3}, "unknown search options"),
    ({"sizes": SIZES, "eta": [0.1]}, {"executor": "dask"}, "executor must be"),
    ({"sizes": SIZES, "eta": [0.1]}, {"progress": "no"}, "progress must be True or False"),
    ({"sizes": SIZES, "eta": [0.1]}, {"progress": [1]}, "progress must be True or False"),
    ({"sizes": SIZES, "eta": [0.1]}, {"validation_subset": 0}, "^validation_subset must be"),
    ({"sizes": SIZES, "eta": [0.1]}, {"training_subset": 2.5}, "^training_subset must be"),
    ([("eta", 0.1)], {}, "space must be a dict"),
])
def test_bad_searches_are_clear_errors(space, options, match):
    with pytest.raises(nnxp.ConfigError, match=match):
        search.grid(space, TRAIN, VALID, epochs=1, mini_batch_size=10, **options)


def test_missing_or_bad_data_is_refused_before_training():
    space = {"sizes": SIZES, "eta": [0.1]}
    with pytest.raises(nnxp.ConfigError, match="evaluation_data"):
        search.grid(space, TRAIN, None, epochs=1, mini_batch_size=10)
    with pytest.raises(nnxp.DataError, match="features"):
        search.grid(space, (TRAIN[0][:, :4], TRAIN[1]), VALID, epochs=1, mini_batch_size=10)


def failing_initializer(rng, shape):
    raise ValueError("this initializer always fails")


def test_diverging_and_failing_trials_are_recorded_and_the_search_goes_on():
    space = {"sizes": SIZES, "cost": ["QuadraticCost"], "activation": ["Identity"],
             "dtype": ["float64"], "eta": [0.01, 5.0],
             "initializer": ["default", failing_initializer]}
    result = _grid(space)
    by = {(r["eta"], r["initializer"]): r for r in result.records}
    assert by[(0.01, "default")]["status"] == "ok"
    diverged = by[(5.0, "default")]
    assert diverged["status"] == "diverged" and "diverged in epoch" in diverged["stop_reason"]
    for eta in (0.01, 5.0):
        failed = by[(eta, f"{__name__}.failing_initializer")]
        assert failed["status"] == "error" and failed["best_accuracy"] is None
        assert "ValueError: this initializer always fails" in failed["error"]
    assert [r["status"] for r in result.records][-2:] == ["error", "error"]  # sorted last


def test_a_search_where_every_trial_diverged_has_no_best_and_says_so(tmp_path):
    """Every trial diverged in its first epoch: no best; the table, its files and its plot
    still come; result.network() and rerun(result) say there is no best trial and what the
    trials did (it was "no trial None in this search"); a named trial still reruns."""
    space = {"sizes": SIZES, "cost": ["QuadraticCost"], "activation": ["Identity"],
             "dtype": ["float64"], "eta": [1e6, 1e7]}
    with nnxp.use_backend("numpy"):
        result = _grid(space, epochs=1, keep=2)
    assert [r["status"] for r in result.records] == ["diverged"] * 2 and result.best is None
    assert "2 trials" in str(result)
    result.to_csv(tmp_path / "search.csv")
    assert len((tmp_path / "search.csv").read_text().splitlines()) == 3
    for call in (result.network, result.best_network,
                 lambda: search.rerun(result, None, TRAIN, VALID)):
        with pytest.raises(nnxp.ConfigError, match="no best trial.*2 trials.*2 diverged"):
            call()
    empty = search.SearchResult("grid", [], {}, {"shuffle_seed": 0})
    with pytest.raises(nnxp.ConfigError, match="no best trial.*none ran"):
        empty.network()
    with nnxp.use_backend("numpy"):
        net, history = search.rerun(result, 0, TRAIN, VALID)
    assert history.stop_reason.startswith("diverged")


@pytest.mark.parametrize("record", [{}, {"trial": 99}, {"trial": "0"}, {"trial": True}])
def test_a_record_that_is_not_the_searchs_is_named_as_such(record):
    """network(record) of a dict that names no trial of the search: it said the trial's
    network "was not kept" and that rerun would train it again (rerun then refused it)."""
    with nnxp.use_backend("numpy"):
        result = _grid({"sizes": SIZES, "eta": [0.1, 1.0]}, epochs=1, keep=2)
    for call in (result.network, lambda r: search.rerun(result, r, TRAIN, VALID)):
        with pytest.raises(nnxp.ConfigError, match="is not a trial of this search"):
            call(record)


def test_progress_bar_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    space = {"sizes": SIZES, "eta": [0.1, 1.0], "lmbda": [0.0, 1.0],
             "activation": ["Sigmoid", "Tanh"]}
    result = _grid(space, epochs=1, progress=True)
    err = capsys.readouterr().err
    assert "8" in err and ("trial" in err or "%" in err)
    fig = result.plot(tmp_path / "search.png")
    assert (tmp_path / "search.png").stat().st_size > 1000
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in panels] == ["activation", "eta", "lmbda"]
    assert panels[1].get_xscale() == "log"


def test_eta_range_from_the_learning_rate_finder():
    net = nnxp.Network(SIZES, seed=0)
    lr = nnxp.find_learning_rate(net, TRAIN, mode="sweep", budget_batches=40, n_train=200)
    rng = np.random.default_rng(0)
    dist = search.eta_range(lr)
    draws = [dist.sample(rng) for _ in range(50)]
    assert lr.threshold / 10 <= min(draws) and max(draws) <= lr.threshold
    with pytest.raises(nnxp.ConfigError, match="threshold"):
        search.eta_range(object())


@pytest.mark.parametrize("values, match", [
    (5, "choice needs a list of values"),
    (None, "choice needs a list of values"),
    ("relu", "split into its letters"),
    ({0.1, 1.0}, "is a set"),
    ({"a": 1}, "is a dict"),
])
def test_choice_refuses_what_is_not_a_list_of_values(values, match):
    with pytest.raises(nnxp.ConfigError, match=match):
        search.choice(values)


class _Found:
    def __init__(self, threshold):
        self.threshold = threshold


@pytest.mark.parametrize("found, decades, match", [
    (_Found("1.0"), 1.0, "threshold"),
    (_Found(float("nan")), 1.0, "threshold"),
    (_Found(-1.0), 1.0, "threshold"),
    (_Found(1.0), 400, "smallest float"),
])
def test_eta_range_refuses_a_threshold_or_decades_it_cannot_use(found, decades, match):
    with pytest.raises(nnxp.ConfigError, match=match):
        search.eta_range(found, decades)


def test_importing_nnxp_search_imports_no_plotting_or_dask():
    import subprocess
    code = ("import sys, nnxp.search; print(sorted(m for m in ('matplotlib', 'distributed', "
            "'tqdm', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_monitor_subset_without_monitor_every_is_refused_before_any_trial(tmp_path):
    """As Network.SGD refuses it: every trial would have ignored it (or, once SGD refused it,
    every trial would have failed)."""
    with pytest.raises(nnxp.ConfigError, match="without monitor_every it would be ignored"):
        _grid({"sizes": SIZES, "eta": [0.5]}, monitor_subset=10, path=tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("space", [{"sizes": SIZES, "eta": [0.5]},
                                   {"sizes": SIZES, "eta": [0.5], "mini_batch_size": [5, 30]}])
def test_monitor_every_of_an_epoch_or_more_is_refused_before_any_trial(tmp_path, space):
    """As Network.SGD refuses it, for each mini-batch size the trials use (240 examples: 24
    mini-batches of 10, 8 of 30): every trial measured nothing within its epochs, silently."""
    every = 8 if "mini_batch_size" in space else 24
    with pytest.raises(nnxp.ConfigError, match=f"monitor_every={every} .* nothing would be "
                                               "measured"):
        _grid(space, monitor_every=every, path=tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()
    result = _grid(space, monitor_every=every - 1)
    assert all(r["status"] == "ok" for r in result.records)


def test_optuna_refuses_a_trial_whose_epoch_has_too_few_mini_batches():
    """An Optuna space's mini-batch size is drawn trial by trial: a trial whose epoch has no
    more mini-batches than monitor_every is refused when it is asked, before it trains."""
    pytest.importorskip("optuna")
    with pytest.raises(nnxp.ConfigError, match="monitor_every=8 .* nothing would be measured"):
        search.optuna({"sizes": SIZES, "eta": (0.1, 1.0), "mini_batch_size": [30]}, TRAIN,
                      VALID, n_trials=2, batch=2, epochs=1, mini_batch_size=10,
                      monitor_every=8, executor=ThreadPoolExecutor(1))


def test_the_data_fingerprint_of_results_files_is_unchanged():
    """A results file records a BLAKE2b digest of the data, and a resume compares it: the
    digest is that of the arrays' bytes in C order (the value of nnxp before it hashed in
    place), whatever the arrays' memory order, so files saved earlier still resume."""
    from nnxp.search.session import fingerprint
    x, y = np.arange(12, dtype=np.float32).reshape(3, 4), np.array([0, 1, 2], np.int64)
    f = fingerprint(((x, y), (np.asfortranarray(x), y)))
    assert f == {"n_training": 3, "n_evaluation": 3, "training": "d1ae333e2e87b56b22e4b24f",
                 "evaluation": "d1ae333e2e87b56b22e4b24f"}
    assert fingerprint(((x[:0], y[:0]), (x, y)))["training"] == "b8e1dda3ac0aa3820ad2990b"
