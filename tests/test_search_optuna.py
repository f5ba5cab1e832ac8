"""nnxp.search.optuna: Optuna's ask-and-tell over populations.  The space as suggest_* calls,
a batch of trials trained as populations whose members equal the networks trained alone
(``rerun``), a pruned member frozen while its population trains on, the same seed the same
table (threads, a Dask LocalCluster), a search killed outright resumed from its journal with
no finished trial trained again, two processes sharing one journal, hostile arguments."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import nnxp
import nnxp.search as search
from nnxp.search.executors import Dispatcher
from nnxp.search.optuna_search import MissingOptuna, Space
from conftest import Interrupting, blobs, dask_client, optional

optuna = optional("optuna")
optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
TRAIN, VALID = blobs(), blobs(60, seed=1)
SPACE = {"sizes": [6, 9, 3], "eta": (0.05, 5.0), "lmbda": (0.01, 1.0), "momentum": [0.0, 0.5]}


def _optuna(space=SPACE, executor=None, on="numpy", **options):
    options.setdefault("n_trials", 8)
    options.setdefault("batch", 4)
    options.setdefault("epochs", 3)
    options.setdefault("mini_batch_size", 10)
    with nnxp.use_backend(on):
        if executor == "processes":  # the default: local processes
            return search.optuna(space, TRAIN, VALID, **options)
        if executor is not None:
            return search.optuna(space, TRAIN, VALID, executor=executor, **options)
        with ThreadPoolExecutor(2) as pool:
            return search.optuna(space, TRAIN, VALID, executor=pool, **options)


def _without_seconds(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


class PruneSmallEta(optuna.pruners.BasePruner):
    """Prunes a trial whose eta is below 0.5 once it reported epoch 1: a decision the test
    knows in advance."""

    def prune(self, study, trial):
        return trial.params["eta"] < 0.5 and trial.last_step is not None and \
            trial.last_step >= 1


def define_by_run(trial):
    width = trial.suggest_categorical("width", [5, 9])
    return {"sizes": [6, width, 3], "eta": trial.suggest_float("eta", 0.1, 3.0, log=True),
            "activation": trial.suggest_categorical("activation", ["Sigmoid", "Tanh"])}


def _spy(monkeypatch):
    """The member lists of every group sent to an executor."""
    real, sent = Dispatcher.submit, []

    def submit(self, task):
        sent.append([m["trial"] for m in task.members])
        return real(self, task)
    monkeypatch.setattr(Dispatcher, "submit", submit)
    return sent


def test_the_space_becomes_suggest_calls():
    space = Space({"sizes": [[6, 9, 3], [6, 5, 3]], "eta": (0.05, 5.0),
                   "lmbda": search.uniform(0.0, 2.0), "momentum": (0.1, 0.9),
                   "l1": [0.0, 0.1], "activation": "Tanh", "initializer": ["default", "he"]})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    point = space.point(trial)
    d = trial.distributions
    assert d["eta"] == optuna.distributions.FloatDistribution(0.05, 5.0, log=True)
    assert d["lmbda"] == optuna.distributions.FloatDistribution(0.0, 2.0, log=False)
    assert d["momentum"] == optuna.distributions.FloatDistribution(0.1, 0.9, log=False)
    assert d["sizes"].choices == ("[6, 9, 3]", "[6, 5, 3]")
    assert d["l1"].choices == (0.0, 0.1) and "activation" not in d  # a single value is fixed
    assert point["sizes"] in ([6, 9, 3], [6, 5, 3]) and point["activation"] == "Tanh"
    assert 0.05 <= point["eta"] <= 5.0 and point["initializer"] in ("default", "he")
    # the same point again from the trial's parameters (how a resumed search reads a trial)
    again = space.point(optuna.trial.FixedTrial(trial.params))
    assert again == point


def test_a_batch_trains_as_populations_and_every_member_is_the_network_alone(monkeypatch):
    """float64, NumPy: each record's history equals Network(...).SGD alone (rerun), bit for
    bit, although trials trained in groups, in chunks of one epoch (the default pruner), and
    the chunked table is the table of trials trained straight through (NopPruner)."""
    sent = _spy(monkeypatch)
    space = dict(SPACE, dtype="float64")
    never = optuna.pruners.MedianPruner(n_startup_trials=10 ** 6)
    result = _optuna(space, pruner=never, batch=8)
    assert max(len(members) for members in sent) >= 2  # populations
    assert len(sent) > 2  # chunks: one task per group and epoch
    assert len(result.records) == 8 and all(r["status"] == "ok" for r in result.records)
    for record in result.records:
        net, history = search.rerun(result, record, TRAIN, VALID)
        mine = result.histories[record["trial"]]["records"]
        assert [r["evaluation_accuracy"] for r in mine] == history.evaluation_accuracy
        assert [r["evaluation_cost"] for r in mine] == history.evaluation_cost
        assert net.seed == record["seed"]
    straight = _optuna(space, pruner=optuna.pruners.NopPruner(), batch=8)
    assert _without_seconds(straight.records) == _without_seconds(result.records)
    assert result.study.best_value == result.best["best_accuracy"]
    assert {t.number for t in result.study.trials} == {r["trial"] for r in result.records}
    network = result.best_network()  # the kept trained network
    assert network.seed == result.best["seed"]


def test_a_pruned_member_is_frozen_while_its_population_trains_on(monkeypatch):
    sent = _spy(monkeypatch)
    one_shape = {"sizes": [6, 9, 3], "eta": (0.05, 5.0), "lmbda": (0.01, 1.0)}
    result = _optuna(one_shape, pruner=PruneSmallEta(), epochs=4, batch=8, max_members=8)
    pruned = [r for r in result.records if r["status"] == "pruned"]
    full = [r for r in result.records if r["status"] == "ok"]
    assert pruned and full
    assert all(r["eta"] < 0.5 and r["epochs"] == 2 for r in pruned)
    assert all(r["eta"] >= 0.5 and r["epochs"] == 4 for r in full)
    assert all(r["stop_reason"] == "pruned by PruneSmallEta after epoch 1" for r in pruned)
    every = sorted(r["trial"] for r in result.records)
    assert sent[0] == every  # epoch 0: one population of all 8
    later = sorted(r["trial"] for r in full)
    assert sent[-1] == later  # the last epoch: the pruned members are no longer trained
    states = {t.number: t.state for t in result.study.trials}
    assert all(states[r["trial"]] == optuna.trial.TrialState.PRUNED for r in pruned)
    assert all(states[r["trial"]] == optuna.trial.TrialState.COMPLETE for r in full)
    for record in pruned[:1] + full[:1]:  # frozen: its 2 epochs are the network's first 2
        _, history = search.rerun(result, record, TRAIN, VALID)
        assert len(history.evaluation_accuracy) == record["epochs"]
        mine = result.histories[record["trial"]]["records"]
        assert [r["evaluation_accuracy"] for r in mine] == history.evaluation_accuracy
    frozen = result.study.trials[pruned[0]["trial"]]
    assert sorted(frozen.intermediate_values) == [0, 1]
    assert result.budget == {"epochs_trained": 4 * len(full) + 2 * len(pruned),
                             "epochs_without_pruning": 32, "pruned": len(pruned)}


def test_every_backend_trains_the_networks_alone_and_freezes_the_pruned(backend):
    """Chunks of one epoch, a population that shrinks when members are pruned: each record is
    the network trained alone, to float64 rounding off NumPy."""
    space = {"sizes": [6, 9, 3], "dtype": "float64", "eta": (0.05, 5.0), "lmbda": (0.01, 1.0)}
    result = _optuna(space, on=backend.name, pruner=PruneSmallEta(), batch=6, n_trials=6,
                     max_members=6)
    assert {r["status"] for r in result.records} == {"ok", "pruned"}
    for record in result.records:
        _, history = search.rerun(result, record, TRAIN, VALID)
        mine = result.histories[record["trial"]]["records"]
        assert [r["evaluation_accuracy"] for r in mine] == history.evaluation_accuracy
        np.testing.assert_allclose([r["evaluation_cost"] for r in mine],
                                   history.evaluation_cost, rtol=1e-10)


def test_a_define_by_run_function_is_a_space():
    result = _optuna(define_by_run, n_trials=6, batch=3)
    assert len(result.records) == 6
    for r in result.records:
        params = result.study.trials[r["trial"]].params
        assert r["sizes"] == [6, params["width"], 3] and r["eta"] == params["eta"]
        assert r["activation"] == params["activation"]


def test_the_table_csv_json_and_plots(tmp_path):
    optional("matplotlib")
    result = _optuna(pruner=PruneSmallEta(), n_trials=4, batch=4)
    result.to_csv(tmp_path / "s.csv")
    result.to_json(tmp_path / "s.json")
    saved = json.loads((tmp_path / "s.json").read_text())
    assert [r["trial"] for r in saved["records"]] == [r["trial"] for r in result.records]
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 5
    assert {"eta", "lmbda"} <= set(result.config["varied"]) <= {"eta", "lmbda", "momentum"}
    assert "optuna search: 4 trials" in str(result)
    result.plot(tmp_path / "s.png")  # nnxp's plot of the records
    with warnings.catch_warnings():  # Optuna calls its matplotlib plots experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = optuna.visualization.matplotlib.plot_intermediate_values(result.study)
    assert (tmp_path / "s.png").stat().st_size > 0 and len(ax.get_lines()) == 4


def test_the_same_seed_gives_the_same_table():
    """On threads and on the default local processes alike."""
    first = _optuna(seed=5, pruner=optuna.pruners.MedianPruner(n_startup_trials=2))
    again = _optuna(seed=5, pruner=optuna.pruners.MedianPruner(n_startup_trials=2),
                    executor="processes")
    other = _optuna(seed=6, pruner=optuna.pruners.MedianPruner(n_startup_trials=2))
    assert _without_seconds(first.records) == _without_seconds(again.records)
    assert [r["eta"] for r in first.records] != [r["eta"] for r in other.records]


def test_dask_local_cluster_gives_the_same_table():
    optional("distributed")
    threads = _optuna(seed=2, pruner=PruneSmallEta(), epochs=3)
    with dask_client() as client:
        on_dask = _optuna(seed=2, pruner=PruneSmallEta(), epochs=3, executor=client)
    assert _without_seconds(on_dask.records) == _without_seconds(threads.records)
    assert any(r["status"] == "pruned" for r in on_dask.records)


def test_an_interrupted_search_resumes_from_its_journal(tmp_path, monkeypatch):
    path = tmp_path / "study.journal"
    options = dict(path=str(path), seed=1, n_trials=8, batch=2, epochs=2,
                   pruner=optuna.pruners.NopPruner())
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C at the 3rd group (the 2nd round)
        _optuna(executor=Interrupting(3, workers=1), max_members=1, **options)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(path)))
    before = optuna.load_study(study_name="nnxp", storage=storage)
    done = {t.number for t in before.trials if t.state == optuna.trial.TrialState.COMPLETE}
    failed = [t for t in before.trials if t.state == optuna.trial.TrialState.FAIL]
    assert done and failed  # finished trials kept; the interrupted ones told FAIL ...
    assert len([t for t in before.trials if t.state == optuna.trial.TrialState.WAITING]) \
        == len(failed)  # ... and asked again
    sent = _spy(monkeypatch)
    result = _optuna(**options)
    trained = {n for members in sent for n in members}
    assert not trained & done  # no finished trial runs again
    assert len(result.records) == 8 and {r["trial"] for r in result.records} >= done
    assert not {t.number for t in failed} & {r["trial"] for r in result.records}
    again = _optuna(**options)  # nothing left: the same table, nothing trained
    assert _without_seconds(again.records) == _without_seconds(result.records)


SCRIPT = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, {tests!r})
import nnxp, nnxp.search
import optuna
from conftest import blobs
optuna.logging.set_verbosity(optuna.logging.WARNING)


class Slow(ThreadPoolExecutor):
    def submit(self, fn, *args, **kwargs):
        def slow():
            time.sleep({delay})
            return fn(*args, **kwargs)
        return super().submit(slow)


def barrier(folder, n=2):  # start together: n processes have written their file in folder
    import os
    open(os.path.join(folder, str(os.getpid())), "w").close()
    while len(os.listdir(folder)) < n:
        time.sleep(0.05)


if __name__ == "__main__":
    if len(sys.argv) > 2:
        barrier(sys.argv[2])
    with nnxp.use_backend("numpy"), Slow(1) as pool:
        nnxp.search.optuna({space!r}, blobs(), blobs(60, seed=1), n_trials={n_trials},
                           batch={batch}, epochs=2, mini_batch_size=10, seed=1,
                           path=sys.argv[1], executor=pool,
                           pruner=optuna.pruners.NopPruner())
"""


def _script(tmp_path, name, delay, n_trials, batch):
    script = tmp_path / name
    script.write_text(SCRIPT.format(tests=str(ROOT / "tests"), delay=delay, space=SPACE,
                                    n_trials=n_trials, batch=batch))
    return script


def _env():
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def _load(path):
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(path)))
    return optuna.load_study(study_name="nnxp", storage=storage)


def _counts(path, *states):
    """How many trials of the journal's study are in each state (none while the search has
    not written its study yet: the journal file exists a moment before)."""
    if not path.exists():
        return [0] * len(states)
    try:
        study = _load(path)
    except KeyError:
        return [0] * len(states)
    return [len(study.get_trials(states=(state,))) for state in states]


def _wait_for(condition, process, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        assert process.poll() is None, "the search ended before the test could kill it"
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_killed_search_resumes_without_training_a_finished_trial_again(tmp_path,
                                                                        monkeypatch):
    path = tmp_path / "study.journal"
    process = subprocess.Popen([sys.executable, str(_script(tmp_path, "s.py", 1.0, 8, 2)),
                                str(path)], env=_env())
    complete = optuna.trial.TrialState.COMPLETE
    try:
        running = optuna.trial.TrialState.RUNNING

        def killable():  # two trials told, one training
            done, now = _counts(path, complete, running)
            return done >= 2 and now >= 1
        _wait_for(killable, process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    before = _load(path)
    done = {t.number: t.user_attrs["nnxp"] for t in before.get_trials(states=(complete,))}
    running = {t.number for t in before.trials if t.state == optuna.trial.TrialState.RUNNING}
    assert running  # the killed search left trials unfinished
    sent = _spy(monkeypatch)
    result = _optuna(path=str(path), seed=1, n_trials=8, batch=2, epochs=2,
                     pruner=optuna.pruners.NopPruner())
    trained = {n for members in sent for n in members}
    assert not trained & set(done)  # no finished trial runs again
    assert len(result.records) == 8
    assert {r["trial"] for r in result.records} >= set(done)
    assert not running & {r["trial"] for r in result.records}  # abandoned, asked again
    etas = [r["eta"] for r in result.records]
    assert len(set(etas)) == 8  # the resumed sampler does not draw the first points again
    after = _load(path)
    assert all(after.trials[n].state == optuna.trial.TrialState.FAIL for n in running)
    assert all(after.trials[n].user_attrs["nnxp"] == done[n] for n in done)
    assert not list((tmp_path / "study.journal.drivers").iterdir())  # no lock left behind


def test_two_processes_share_one_journal(tmp_path):
    path = tmp_path / "study.journal"
    script = _script(tmp_path, "s.py", 0.5, 10, 1)
    ready = tmp_path / "ready"
    ready.mkdir()
    processes = [subprocess.Popen([sys.executable, str(script), str(path), str(ready)],
                                  env=_env()) for _ in range(2)]
    try:
        for p in processes:
            assert p.wait(300) == 0
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    study = _load(path)
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert 10 <= len(finished) <= 11 and len(finished) == len(study.trials)  # once each
    assert len({t.user_attrs["nnxp_driver"] for t in finished}) == 2  # both worked
    result = _optuna(path=str(path), seed=1, n_trials=10, batch=1, epochs=2,
                     pruner=optuna.pruners.NopPruner())
    assert len(result.records) == len(finished)  # nothing left to do: the table is read


def test_a_journal_of_another_search_is_refused(tmp_path):
    path = str(tmp_path / "study.journal")
    _optuna(path=path, n_trials=2, batch=2, epochs=1)
    with pytest.raises(nnxp.ConfigError, match="holds another search.*epochs"):
        _optuna(path=path, n_trials=2, batch=2, epochs=2)
    with pytest.raises(nnxp.ConfigError, match="holds another search.*space"):
        _optuna(dict(SPACE, eta=(0.1, 1.0)), path=path, n_trials=2, batch=2, epochs=1)


def test_a_grid_sampler_ends_the_search_when_its_grid_is_done():
    """GridSampler calls study.stop() when its last point is told, which Optuna refuses
    outside study.optimize (RuntimeError: "`Study.stop` is supposed to be invoked inside an
    objective function", after all the training; and again on every resume): the search
    ends there, as optimize would, with each point of the grid once."""
    grid = {"eta": [0.1, 1.0], "momentum": [0.0, 0.5]}
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.GridSampler(grid, seed=0))
    result = _optuna({"sizes": [6, 9, 3], **grid}, study=study, n_trials=8, batch=2, epochs=1)
    assert sorted((r["eta"], r["momentum"]) for r in result.records) == \
        [(0.1, 0.0), (0.1, 0.5), (1.0, 0.0), (1.0, 0.5)]
    assert all(r["status"] == "ok" for r in result.records)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 4


def test_a_study_of_something_else_is_refused_and_enqueued_points_are_taken():
    """A study whose finished trials are not an nnxp search's (study.optimize over another
    objective): a ConfigError naming them, the study untouched (its 5 trials counted
    towards n_trials=3, so nothing ran and the table was empty, without a word).  Points
    enqueued in an empty study are welcome: the search runs them first."""
    other = _maximizing()
    other.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=5)
    with pytest.raises(nnxp.ConfigError, match="5 trials of something other.*'x'"):
        _optuna(study=other, n_trials=3, batch=3, epochs=1)
    assert len(other.trials) == 5 and "nnxp" not in other.user_attrs
    fresh = _maximizing()
    fresh.enqueue_trial({"eta": 0.5, "lmbda": 0.1, "momentum": 0.5})
    result = _optuna(study=fresh, n_trials=2, batch=2, epochs=1)
    first = next(r for r in result.records if r["trial"] == 0)
    assert (first["eta"], first["lmbda"], first["momentum"]) == (0.5, 0.1, 0.5)
    assert len(result.records) == 2


def test_a_dead_searchs_lock_file_without_trials_is_removed(tmp_path):
    """A search killed between asking a trial and naming it left its lock file with no trial
    pointing at it: the next search removes it (when free and older than the grace second),
    and leaves a live search's file and a starting search's file alone."""
    import fcntl
    path = tmp_path / "study.journal"
    _optuna(path=str(path), n_trials=2, batch=2, epochs=1)
    drivers = tmp_path / "study.journal.drivers"
    orphan, alive, young = (drivers / f"{name}.lock" for name in ("dead0", "alive0", "young0"))
    for f in (orphan, alive, young):
        f.write_text("")
    old, new = time.time() - 60, time.time() + 3600  # "young" stays young however slow
    os.utime(orphan, (old, old))
    os.utime(alive, (old, old))
    os.utime(young, (new, new))
    held = os.open(alive, os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        _optuna(path=str(path), n_trials=4, batch=2, epochs=1)
    finally:
        os.close(held)
    assert not orphan.exists()
    assert alive.exists() and young.exists()


def test_the_journal_folder_is_made_and_a_bad_place_is_a_file_error(tmp_path):
    """As every save of nnxp: a missing folder is made; a folder that cannot be is a
    FileError naming the journal, never Optuna's raw OSError."""
    path = tmp_path / "runs" / "today" / "study.journal"
    result = _optuna(path=str(path), n_trials=2, batch=2, epochs=1)
    assert path.is_file() and len(result.records) == 2
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(nnxp.FileError, match="journal"):
        _optuna(path=str(tmp_path / "a_file" / "study.journal"), n_trials=2, batch=2, epochs=1)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: nothing to refuse
            return
        with pytest.raises(nnxp.FileError, match="journal"):
            _optuna(path=str(locked / "sub" / "study.journal"), n_trials=2, batch=2, epochs=1)
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("url", ["sqlite:///search.db", "postgresql://me@db/searches"])
def test_a_storage_url_is_not_taken_for_a_journal_path(tmp_path, monkeypatch, url):
    """path= an RDB URL: a ConfigError pointing to study=optuna.create_study(storage=...)
    (a journal was written in a new folder "sqlite:" of the working directory); nothing is
    made.  A URL as study= says where it goes too."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(nnxp.ConfigError, match="not a storage URL.*create_study.storage="):
        _optuna(path=url, n_trials=2, batch=2, epochs=1)
    assert os.listdir(tmp_path) == []
    with pytest.raises(nnxp.ConfigError, match="optuna.Study.*create_study.storage="):
        _optuna(study=url, n_trials=2, batch=2, epochs=1)


def test_the_table_is_never_written_over_the_journal(tmp_path):
    """result.to_json(path) with the journal's path= would have replaced the study."""
    path = tmp_path / "study.journal"
    result = _optuna(path=str(path), n_trials=1, batch=1, epochs=1)
    journal = path.read_bytes()
    with pytest.raises(nnxp.ConfigError, match="a file this search keeps"):
        result.to_json(path)
    assert path.read_bytes() == journal


def test_an_edited_trial_in_the_journal_is_refused(tmp_path):
    path = tmp_path / "study.journal"
    _optuna(path=str(path), n_trials=2, batch=2, epochs=2)
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):  # trial 0's outcome, its first epoch made impossible
        op = json.loads(line)
        if "nnxp" in op.get("user_attr", {}) and op.get("trial_id") == 0:
            op["user_attr"]["nnxp"]["history"]["records"][0]["evaluation_accuracy"] = 10 ** 6
            lines[i] = json.dumps(op)
            break
    else:
        raise AssertionError("no outcome of trial 0 in the journal")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(nnxp.DataError, match="trial 0.*evaluation_accuracy"):
        _optuna(path=str(path), n_trials=2, batch=2, epochs=2)


def test_without_optuna_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(MissingOptuna, match="backends/optuna.txt"):
        search.optuna(SPACE, TRAIN, VALID, n_trials=1, epochs=1, mini_batch_size=10)
    assert issubclass(MissingOptuna, nnxp.NNXPError)


def _maximizing():
    return optuna.create_study(direction="maximize")


@pytest.mark.parametrize("space, options, match", [
    ({"sizes": [6, 9, 3], "eta": {0.1, 1.0}}, {}, "eta is a set"),
    ({"sizes": [6, 9, 3], "eta": __import__("scipy.stats").stats.loguniform(0.1, 1)}, {},
     "rvs"),
    ({"sizes": [6, 9, 3], "eta": [0.1, 0.1]}, {}, "twice"),
    ({"sizes": [6, 9, 3], "eta": (0.1, 1.0), "cost": ["CrossEntropyCost", "a"]}, {},
     "unknown cost 'a'"),
    ({"sizes": [6, 9, 3], "eta": (0.1, 1.0), "momentum": [0.0, 1.5]}, {}, "momentum"),
    ({"sizes": [6, 9, 3], "eta": (0.1, 1.0), "momentum": (0.0, 1.5)}, {},
     "momentum ranges over uniform\\(0.0, 1.5\\), outside the values"),
    ({"sizes": [6, 9, 3], "eta": (0.1, 1.0), "momentum": search.uniform(0.5, 1.2)}, {},
     "momentum ranges over .* outside"),
    ({"sizes": [6, 9, 3], "eta": (0.1, 0.5, 1.0)}, {}, "eta is a tuple of 3 values"),
    ({"sizes": [6, 9, 3], "eta": (0.1, "1.0")}, {}, "eta is a tuple of 2 values"),
    ({"sizes": [6, 9, 3], "eta": (0.1, 1.0), "mini_batch_size": (10, 20)}, {}, "range"),
    ({"sizes": [6, 9, 3]}, {}, "'sizes' and 'eta'"),
    (lambda trial: {}, {}, "no name of its own"),
    ("not_a_dict", {}, "must return a dict"),
    (SPACE, {"study": "my study"}, "optuna.Study"),
    (SPACE, {"study": optuna.create_study()}, "maximize"),
    (SPACE, {"study": _maximizing(), "pruner": optuna.pruners.NopPruner()}, "not both"),
    (SPACE, {"sampler": "tpe"}, "sampler must be an optuna sampler"),
    (SPACE, {"batch": 0}, "batch"),
    (SPACE, {"n_trials": -1}, "n_trials"),
    (SPACE, {"prune_every": 0}, "prune_every"),
    (SPACE, {"n_trials": 10 ** 6}, "max_trials"),
    (SPACE, {"colour": "red"}, "unknown search options"),
    (SPACE, {"mini_batch_size": 0}, "mini_batch_size"),
])
def test_hostile_arguments_are_clear_errors(space, options, match):
    space = globals()[space] if isinstance(space, str) else space
    with pytest.raises(nnxp.ConfigError, match=match):
        _optuna(space, **options)


def test_a_bad_choice_is_refused_before_optuna_asks_anything():
    study = _maximizing()
    with pytest.raises(nnxp.ConfigError, match="unknown cost 'a'"):
        _optuna(dict(SPACE, cost=["CrossEntropyCost", "a"]), study=study)
    assert study.trials == []


def not_a_dict(trial):
    return [trial.suggest_float("eta", 0.1, 1.0)]


def wrong_widths(trial):
    """Fits the data for trial 0 (and the search's probe), not after."""
    return {"sizes": [6, trial.suggest_int("h", 2, 4), 3 if trial.number == 0 else 4],
            "eta": 1.0}


def test_a_point_that_does_not_fit_the_data_stops_the_search_and_is_not_asked_again():
    study = _maximizing()
    with pytest.raises(nnxp.ConfigError, match="outputs"):
        _optuna(wrong_widths, study=study, n_trials=20, batch=4)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL] * 4
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.WAITING]


def test_bad_data_is_refused_before_a_journal_is_written(tmp_path):
    path = tmp_path / "study.journal"
    with pytest.raises(nnxp.ConfigError, match="evaluation_data"):
        with nnxp.use_backend("numpy"):
            search.optuna(SPACE, TRAIN, None, n_trials=1, epochs=1, mini_batch_size=10,
                          path=str(path), executor=ThreadPoolExecutor(1))
    assert not path.exists()


def test_a_path_that_is_not_a_journal_is_refused(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a journal\n")
    with pytest.raises(nnxp.NNXPError, match="journal"):
        _optuna(path=str(bad), n_trials=1, batch=1, epochs=1)
    assert bad.read_text() == "not a journal\n"


@pytest.mark.parametrize("edit, match", [
    (lambda text: text[:-30], "last line .* is cut short"),
    (lambda text: text + b"\x00\x00 not json\n", r"line \d+ is not an Optuna journal operation"),
    (lambda text: text.replace(b"\n", b'\n{"op_code": 99}\n', 1), "line 2 is not an Optuna"),
])
def test_a_damaged_journal_is_refused_and_left_as_it_is(tmp_path, edit, match):
    """Before: Optuna's JSONDecodeError, UnicodeDecodeError or AssertionError from deep inside,
    and a line cut short had the next operation glued to it."""
    journal = tmp_path / "study.log"
    _optuna(path=str(journal), n_trials=1, batch=1, epochs=1)
    damaged = edit(journal.read_bytes())
    journal.write_bytes(damaged)
    with pytest.raises(nnxp.DataError, match=match):
        _optuna(path=str(journal), n_trials=2, batch=1, epochs=1)
    assert journal.read_bytes() == damaged


def _dashboard_get(app, path):
    """GET ``path`` from optuna-dashboard's WSGI application (no server): (status, JSON)."""
    from wsgiref.util import setup_testing_defaults
    environ = {"PATH_INFO": path.partition("?")[0], "QUERY_STRING": path.partition("?")[2],
               "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    return status[0], json.loads(body)


def test_optuna_dashboard_reads_the_journal_of_a_search(tmp_path):
    """What ``optuna-dashboard PATH`` shows: its own loading code (the storage it guesses from
    the path, its JSON API, through its WSGI application without a server) reads the study
    nnxp wrote, with every trial's parameters, value, state and per-epoch accuracies."""
    dashboard = optional("optuna_dashboard")
    path = tmp_path / "study.journal"
    result = _optuna(path=str(path), seed=3, pruner=PruneSmallEta())
    app = dashboard.wsgi(str(path))
    status, listed = _dashboard_get(app, "/api/studies")
    assert status.startswith("200")
    [summary] = listed["study_summaries"]
    assert summary["study_name"] == "nnxp"
    status, detail = _dashboard_get(app, f"/api/studies/{summary['study_id']}?after=0")
    assert status.startswith("200")
    shown = {t["number"]: t for t in detail["trials"]}
    assert sorted(shown) == sorted(r["trial"] for r in result.records)
    states = {"ok": "Complete", "pruned": "Pruned"}
    for record in result.records:
        trial = shown[record["trial"]]
        assert trial["state"] == states[record["status"]]
        params = {p["name"]: p["param_external_value"] for p in trial["params"]}
        assert float(params["eta"]) == record["eta"]  # shown as text
        accuracies = [r["evaluation_accuracy"] / len(VALID[1])
                      for r in result.histories[record["trial"]]["records"]]
        assert [v["value"] for v in trial["intermediate_values"]] == accuracies
        if record["status"] == "ok":
            assert trial["values"] == [record["best_accuracy"]]
    assert any(r["status"] == "pruned" for r in result.records)
    [best] = detail["best_trials"]  # one of the best (ties are told apart differently)
    assert best["values"] == [result.best["best_accuracy"]]


def test_a_dask_storage_is_a_study_s_storage():
    """optuna-integration's DaskStorage (the study kept by the Dask scheduler of a
    LocalCluster on the loopback) as the storage of the study given: the same table as the
    same seeded sampler and pruner in memory, and the study on the scheduler holds every
    trial and nnxp's outcome of each."""
    optional("distributed")
    integration = optional("optuna_integration")

    def study(storage):
        return optuna.create_study(storage=storage, direction="maximize",
                                   sampler=optuna.samplers.TPESampler(seed=4),
                                   pruner=PruneSmallEta())

    in_memory = _optuna(study=study(None))
    with dask_client() as client, warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = integration.DaskStorage(name="nnxp-test", client=client)
        on_dask = _optuna(study=study(storage), executor=client)
        again = integration.DaskStorage(name="nnxp-test", client=client)  # the scheduler's
        trials = optuna.load_study(study_name=on_dask.study.study_name,
                                   storage=again).get_trials(deepcopy=False)
    assert _without_seconds(on_dask.records) == _without_seconds(in_memory.records)
    assert len(trials) == 8 and all("nnxp" in t.user_attrs for t in trials)
    assert any(r["status"] == "pruned" for r in on_dask.records)


def test_a_grid_sampler_asked_in_a_batch_larger_than_its_grid_runs_each_point_once():
    """A round asks its trials while none has finished: Optuna's GridSampler then hands out
    its points again (at random) once every point is running, so a batch of 16 over a grid of
    3 trained 12 trials (was: eta counts 3, 4, 5).  The search stops asking once every point
    of the grid is held by a trial."""
    grid = {"eta": [0.5, 1.0, 2.0]}
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.GridSampler(grid, seed=0))
    result = _optuna({"sizes": [6, 9, 3], **grid}, study=study, n_trials=12, batch=16,
                     epochs=1)
    assert sorted(r["eta"] for r in result.records) == [0.5, 1.0, 2.0]


def test_waiting_trials_run_and_do_not_count_before_they_have(tmp_path):
    """A search interrupted in its last round (Ctrl-C: its trials told FAIL and their points
    enqueued again) resumes and runs them (was: the waiting copies counted towards n_trials,
    so the resume ran nothing and returned an empty table, however often it was run); points
    enqueued in a fresh study with n_trials equal to their number run too (was: none)."""
    class CtrlC(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            raise KeyboardInterrupt
    path = tmp_path / "s.journal"
    space = dict(SPACE, eta=(0.1, 3.0))
    with pytest.raises(KeyboardInterrupt):
        _optuna(space, path=path, n_trials=4, batch=4, epochs=2, pruner=CtrlC())
    resumed = _optuna(space, path=path, n_trials=4, batch=4, epochs=2)
    assert len(resumed.records) == 4 and all(r["status"] == "ok" for r in resumed.records)
    study = optuna.create_study(direction="maximize")
    for eta in (0.2, 0.4, 0.8):
        study.enqueue_trial({"eta": eta})
    result = _optuna(space, study=study, n_trials=3, epochs=1)
    assert sorted(r["eta"] for r in result.records) == [0.2, 0.4, 0.8]


def test_seeds_optuna_refuses_dtype_classes_and_cost_instances_run_and_resume(tmp_path):
    """seed=2**32 (Optuna's samplers take < 2**32: was a DataError blaming the journal, and an
    empty journal left); dtype given as np.float32 (was a bare TypeError from the error
    message's own repr); a cost given as an instance, network2's CrossEntropyCost(), labelled
    by its class (was its repr with a memory address: another process could never resume)."""
    path = tmp_path / "s.journal"
    space = dict(SPACE, dtype=np.float32, cost=nnxp.CrossEntropyCost())
    first = _optuna(space, path=path, n_trials=2, batch=2, epochs=1, seed=2 ** 32)
    assert len(first.records) == 2 and {r["dtype"] for r in first.records} == {"float32"}
    described = first.study.user_attrs["nnxp"]
    described = json.loads(described) if isinstance(described, str) else described
    assert "0x" not in str(described["space"]["cost"])
    assert "CrossEntropyCost()" in str(described["space"]["cost"])
    script = tmp_path / "again.py"  # a new process resumes (the label is the same there)
    script.write_text(
        "import sys, json, numpy as np, nnxp\n"
        f"sys.path.insert(0, {os.path.dirname(__file__)!r})\n"
        "from test_search_optuna import SPACE, _optuna\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "if __name__ == '__main__':\n"
        "    r = _optuna(dict(SPACE, dtype=np.float32, cost=nnxp.CrossEntropyCost()),\n"
        f"                path={str(path)!r}, n_trials=3, batch=2, epochs=1, seed=2 ** 32,\n"
        "                executor=ThreadPoolExecutor(1))\n"
        "    print(len(r.records))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "3"


def test_a_file_where_the_lock_folder_goes_is_refused_before_anything_is_written(tmp_path):
    # was: a bare FileExistsError, after the journal was written
    path = tmp_path / "s.journal"
    (tmp_path / "s.journal.drivers").write_text("not a folder")
    with pytest.raises(nnxp.FileError, match="is not a folder"):
        _optuna(SPACE, path=path, n_trials=2, epochs=1)
    assert not path.exists()


def test_the_lock_folder_is_the_journals_whatever_link_names_it(tmp_path):
    """Searches on a journal through a symbolic link keep their locks beside the file itself
    (was: beside the link, so a search killed while using the link was never found by one
    given the file's name: its trials stayed RUNNING and counted towards n_trials)."""
    real = tmp_path / "s.journal"
    link = tmp_path / "link.journal"
    link.symlink_to(real)
    _optuna(SPACE, path=link, n_trials=2, batch=2, epochs=1)
    assert (tmp_path / "s.journal.drivers").is_dir()
    assert not (tmp_path / "link.journal.drivers").exists()


def test_an_enqueued_point_outside_the_space_and_a_momentum_range_reaching_one():
    """study.enqueue_trial({"sizes": [6, 9, 3]}) (a list where Optuna names the choice by its
    label) or an eta out of range: a ConfigError naming the point and how to enqueue (was
    Optuna's bare ValueError "'[6, 9, 3]' not in ('[6, 9, 3]', ...)"); momentum (0.0, 1.0):
    refused naming the range (was a ConfigError about a point 1.0 the user never wrote)."""
    space = {"sizes": [[6, 9, 3], [6, 4, 3]], "eta": (0.1, 3.0)}
    for point in ({"sizes": [6, 9, 3]}, {"eta": -1.0}):
        study = optuna.create_study(direction="maximize")
        study.enqueue_trial(point)
        with pytest.raises(nnxp.ConfigError, match="an enqueued point.*not a point of this"):
            _optuna(space, study=study, n_trials=2, epochs=1)
    with pytest.raises(nnxp.ConfigError, match=r"momentum's range \(0.0, 1.0\) reaches 1"):
        _optuna(dict(SPACE, momentum=(0.0, 1.0)), n_trials=2, epochs=1)


def test_a_search_beside_another_live_one_on_its_journal_draws_other_points(tmp_path):
    """Two searches started together on one journal both held 0 trials when they opened it,
    so their default samplers, seeded alike, drew the same points (the sweep saw 4 or 6
    distinct points of 8 in 1-3 of 6 attempts).  A search that finds another alive on its
    journal seeds its sampler with its own name too; alone, it draws the seed's points."""
    from nnxp.search.optuna_search import Drivers

    def points(result):
        return sorted((r["eta"], r["lmbda"]) for r in result.records)
    kw = dict(n_trials=2, batch=2, epochs=1)
    alone = _optuna(SPACE, path=tmp_path / "a.journal", **kw)
    assert points(_optuna(SPACE, path=tmp_path / "c.journal", **kw)) == points(alone)
    other = Drivers(str(tmp_path / "b.journal"))  # another search, alive on b.journal
    try:
        probe = Drivers(str(tmp_path / "b.journal"))
        assert probe.others_alive()
        probe.close()
        beside = _optuna(SPACE, path=tmp_path / "b.journal", **kw)
    finally:
        other.close()
    assert points(beside) != points(alone)


@pytest.mark.parametrize("edit", ["drop trial_id", "user_attr text", "state 1.5"])
def test_a_journal_with_an_edited_field_is_a_data_error(tmp_path, edit):
    """Each line still JSON with a known op_code, one field edited: Optuna's replay raised a
    bare KeyError / TypeError / ValueError when the file was opened."""
    path = tmp_path / "s.journal"
    _optuna(SPACE, path=path, n_trials=2, batch=2, epochs=1)
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        op = json.loads(line)
        if edit == "drop trial_id" and "trial_id" in op and "param_name" in op:
            del op["trial_id"]
        elif edit == "user_attr text" and "user_attr" in op:
            op["user_attr"] = "x"
        elif edit == "state 1.5" and "state" in op and "trial_id" in op:
            op["state"] = 1.5
        else:
            continue
        lines[i] = json.dumps(op)
        break
    else:
        raise AssertionError(f"the journal has no line to edit for {edit!r}")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(nnxp.DataError, match="does not replay"):
        _optuna(SPACE, path=path, n_trials=3, batch=2, epochs=1)


def _space_reading_the_study(trial):
    """A define-by-run space that reads trial.study, as Optuna's own examples do."""
    top = trial.study.user_attrs.get("eta_top", 3.0)
    return {"sizes": [6, 9, 3], "eta": trial.suggest_float("eta", 0.1, top, log=True)}


def test_a_space_function_that_reads_trial_study_resumes(tmp_path):
    # was: the second call trained its trials, then a DataError blaming the journal
    # ("malformed (AttributeError: 'FixedTrial' object has no attribute 'study')"), on
    # every later call
    path = tmp_path / "s.journal"
    assert len(_optuna(_space_reading_the_study, path=path, n_trials=2, batch=2,
                       epochs=1).records) == 2
    assert len(_optuna(_space_reading_the_study, path=path, n_trials=4, batch=2,
                       epochs=1).records) == 4


def test_a_journal_whose_trained_parameters_were_edited_is_a_data_error(tmp_path):
    """A finished trial's eta edited in the journal: the table reported the edited eta with
    the accuracies the original one measured, without a word.  Each outcome keeps a digest of
    the parameters it was trained with."""
    path = tmp_path / "s.journal"
    space = dict(SPACE, eta=(0.1, 3.0))
    _optuna(space, path=path, n_trials=2, batch=2, epochs=1)
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        op = json.loads(line)
        if op.get("param_name") == "eta" and op.get("trial_id") == 0:
            op["param_value_internal"] = 2.9
            lines[i] = json.dumps(op)
            break
    else:
        raise AssertionError("the journal holds no eta of trial 0")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(nnxp.DataError, match="not those it was trained with"):
        _optuna(space, path=path, n_trials=2, batch=2, epochs=1)


SPACE_MODULE = '''
def space(trial):
    """A define-by-run space in a module of its own."""
    return {"sizes": [6, 9, 3], "eta": trial.suggest_float("eta", 0.1, %s, log=True)}
'''


def _space_module(tmp_path, monkeypatch, top, extra=""):
    """The function ``space`` of the module ``edited_space`` in tmp_path, its source written
    with ``top`` for eta's upper bound (and ``extra`` text before it), imported afresh."""
    import importlib
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "edited_space.py").write_text(extra + SPACE_MODULE % top)
    sys.modules.pop("edited_space", None)
    importlib.invalidate_caches()
    return importlib.import_module("edited_space").space


def test_a_space_function_edited_before_its_resume_is_refused(tmp_path, monkeypatch):
    """The space function's range changed between a search and its resume: the finished
    trials were drawn by the old code and would be read back through the new one (was: taken
    without a word).  An edit that changes no code (a comment, the docstring, blank lines)
    resumes; a study an older nnxp described by the function's name alone resumes too."""
    path = tmp_path / "s.journal"
    first = _optuna(_space_module(tmp_path, monkeypatch, "3.0"), path=path, n_trials=2,
                    batch=2, epochs=1)
    assert len(first.records) == 2
    edited = _space_module(tmp_path, monkeypatch, "0.5")
    with pytest.raises(nnxp.ConfigError, match="space function edited_space.space had other "
                                               "source code"):
        _optuna(edited, path=path, n_trials=4, batch=2, epochs=1)
    same = _space_module(tmp_path, monkeypatch, "3.0", extra="# a comment\n\n\n")
    assert len(_optuna(same, path=path, n_trials=4, batch=2, epochs=1).records) == 4
    study = first.study.__class__("nnxp", first.study._storage)
    described = dict(study.user_attrs["nnxp"])
    described["space"] = {"function": "edited_space.space"}  # as nnxp described it before
    study.set_user_attr("nnxp", described)
    assert len(_optuna(same, path=path, n_trials=6, batch=2, epochs=1).records) == 6


def test_the_source_digest_reads_code_not_formatting():
    from nnxp.search.space import source_digest
    assert source_digest(define_by_run) == source_digest(define_by_run)
    assert source_digest(define_by_run) != source_digest(_space_reading_the_study)
    assert source_digest(len) is None  # no Python source
