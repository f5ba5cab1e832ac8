"""nnxp.search.halving: scikit-learn's successive-halving schedule, promoted trials continuing
from their state (the same bits as the trial trained straight through), the budget, the
checkpoint files, and resuming an interrupted search."""

from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
import pytest

import nnxp
import nnxp.search as search
from conftest import blobs


TRAIN, VALID = blobs(), blobs(60, seed=1)
SPACE = {"sizes": [6, 9, 3], "eta": (0.02, 5.0), "lmbda": (0.01, 3.0), "momentum": [0.0, 0.5]}


def _halving(**options):
    options.setdefault("executor", ThreadPoolExecutor(2))
    options = {"n_candidates": 9, "epochs": 9, **options}
    return search.halving(SPACE, TRAIN, VALID, mini_batch_size=10, seed=2, **options)


def _without_seconds(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


class Interrupting(ThreadPoolExecutor):
    """Runs tasks on threads, but the ``at``-th submission raises KeyboardInterrupt once the
    earlier ones are done (as a Ctrl-C in the middle of a search would); counts what it ran."""

    def __init__(self, at=None):
        super().__init__(2)
        self.at, self.submitted, self.futures = at, 0, []

    def submit(self, fn, *args, **kwargs):
        self.submitted += 1
        if self.submitted == self.at:
            earlier = list(self.futures)
            return super().submit(_interrupt, earlier)
        self.futures.append(super().submit(fn, *args, **kwargs))
        return self.futures[-1]


def _interrupt(earlier):
    wait(earlier)
    raise KeyboardInterrupt


@pytest.mark.parametrize("n, factor, low, high", [(27, 3, 1, 27), (16, 3, 1, 9), (10, 2, 2, 20),
                                                  (9, 3, 1, 100), (30, 4, 1, 10)])
def test_schedule_is_scikit_learns(n, factor, low, high):
    pytest.importorskip("sklearn")
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    class Epochs(ClassifierMixin, BaseEstimator):
        def __init__(self, epochs=1, c=0):
            self.epochs, self.c = epochs, c

        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            return np.full(len(X), self.classes_[0])

    X, y = np.zeros((20, 1)), np.arange(20) % 2
    sk = HalvingGridSearchCV(Epochs(), {"c": list(range(n))}, resource="epochs",
                             min_resources=low, max_resources=high, factor=factor,
                             cv=2).fit(X, y)
    mine = search.schedule(n, factor, low, high)
    assert [c for c, _ in mine] == list(sk.n_candidates_)
    assert [e for _, e in mine] == list(sk.n_resources_)
    if (n, factor, low, high) == (27, 3, 1, 27):
        assert mine == [(27, 1), (9, 3), (3, 9), (1, 27)]


@pytest.mark.parametrize("args, match", [
    (("27", 3, 1, 27), "n_candidates must be an integer"),
    ((0, 3, 1, 27), "n_candidates must be > 0"),
    ((27, 1, 1, 27), "factor must be > 1"),
    ((27, 2.5, 1, 27), "factor must be an integer"),
    ((27, 3, 0, 27), "min_epochs must be > 0"),
    ((27, 3, 1, None), "max_epochs must be an integer"),
])
def test_schedule_refuses_what_makes_no_rounds(args, match):
    with pytest.raises(nnxp.ConfigError, match=match):
        search.schedule(*args)


def test_promoted_trials_continue_and_equal_the_trial_trained_straight(backend):
    if backend.name != "numpy":  # one population per round: JAX compiles once per size
        result = _halving(n_candidates=3, epochs=3, max_members=3)
        assert [(r["candidates"], r["epochs"]) for r in result.rounds] == [(3, 1), (1, 3)]
        assert result.budget["epochs_trained"] == 3 + 2
        _check_winner(backend, result)
        return
    result = _halving()
    assert [(r["candidates"], r["epochs"]) for r in result.rounds] == [(9, 1), (3, 3), (1, 9)]
    assert [len(r["trials"]) for r in result.rounds] == [9, 3, 1]
    # promoted: the best three of round 0, by best validation accuracy
    round0 = sorted((r for r in result.records), key=lambda r: r["trial"])
    assert result.rounds[1]["trials"][0] in result.rounds[0]["trials"][:3]
    assert set(result.rounds[1]["trials"]) == set(result.rounds[0]["trials"][:3])
    assert {r["round"] for r in round0} == {0, 1, 2}
    assert result.budget == {"epochs_trained": 9 * 1 + 3 * 2 + 1 * 6,
                             "epochs_if_restarted": 9 * 1 + 3 * 3 + 1 * 9,
                             "epochs_full_grid": 9 * 9}
    best = result.best
    assert best["round"] == 2 and best["epochs"] == 9 and best["trial"] == \
        result.rounds[2]["trials"][0]
    assert len(result.histories[best["trial"]]["records"]) == 9
    _check_winner(backend, result)


def _check_winner(backend, result):
    """The winner, continued from round to round, is the network trained straight alone."""
    best = result.best
    net, history = search.rerun(result, best, TRAIN, VALID)
    mine = result.histories[best["trial"]]["records"]
    assert [r["evaluation_accuracy"] for r in mine] == history.evaluation_accuracy
    rtol = 0 if backend.name == "numpy" else 1e-5
    np.testing.assert_allclose([r["evaluation_cost"] for r in mine], history.evaluation_cost,
                               rtol=rtol)


class _Counting(ThreadPoolExecutor):
    def __init__(self):
        super().__init__(1)
        self.calls = 0

    def submit(self, fn, *args, **kwargs):
        self.calls += 1
        return super().submit(fn, *args, **kwargs)


@pytest.mark.parametrize("block", ["file", "folder"])
def test_a_checkpoint_place_that_cannot_be_written_fails_before_any_training(tmp_path, block):
    """Before: the FileError came after round 0 had trained, its work lost."""
    results = tmp_path / "halving.json"
    if block == "file":   # the checkpoints' folder is a file
        (tmp_path / "halving.json.trials").write_text("mine")
    else:                 # the first checkpoint's name is a folder
        (tmp_path / "halving.json.trials" / "trial-0000-epoch-0001.json").mkdir(parents=True)
    pool = _Counting()
    with pytest.raises(nnxp.FileError, match="trial checkpoint"):
        search.halving({"sizes": [6, 9, 3], "eta": (0.02, 5.0)}, TRAIN, VALID, epochs=3,
                       mini_batch_size=10, n_candidates=3, executor=pool, path=str(results))
    assert pool.calls == 0 and not results.exists()
    if block == "file":
        assert (tmp_path / "halving.json.trials").read_text() == "mine"


def test_checkpoint_files_are_networks_that_resume_alone(tmp_path):
    with nnxp.use_backend("numpy"):
        result = _halving(path=tmp_path / "halving.json")
        out = next(r for r in result.records if r["round"] == 0)  # eliminated after 1 epoch
        path = result.checkpoints[out["trial"]]
        assert path.endswith(f"trial-{out['trial']:04d}-epoch-0001.json")
        net = nnxp.load(path)
        assert net.seed == out["seed"] and len(net.checkpoint[3].records) == 1
        history = net.resume(TRAIN, VALID, epochs=4)  # on its own, three more epochs
        alone = nnxp.Network([6, 9, 3], seed=out["seed"])
        momentum = {"momentum": out["momentum"]} if out["momentum"] else {}
        straight = alone.SGD(TRAIN, 4, 10, out["eta"], lmbda=out["lmbda"],
                             evaluation_data=VALID, monitor_evaluation_accuracy=True,
                             monitor_evaluation_cost=True, shuffle=result.shuffle_seed,
                             **momentum)
        assert history.evaluation_cost == straight.evaluation_cost
        for (w, b), (w2, b2) in zip(net.params, alone.params):
            np.testing.assert_array_equal(w, w2)
            np.testing.assert_array_equal(b, b2)
        files = sorted(p.name for p in (tmp_path / "halving.json.trials").iterdir())
        assert len(files) == 9  # one per trial: its newest state only
        assert sum(f.endswith("epoch-0009.json") for f in files) == 1


@pytest.mark.parametrize("at", [5, 11])  # in round 0; at the start of round 1
def test_an_interrupted_search_resumes_to_the_same_table(tmp_path, at):
    with nnxp.use_backend("numpy"):
        whole = _halving()
        path = tmp_path / "halving.json"
        executor = Interrupting(at)
        with pytest.raises(KeyboardInterrupt):
            _halving(path=path, executor=executor, max_members=1)
        again = Interrupting()
        resumed = _halving(path=path, executor=again, max_members=1)
        assert _without_seconds(resumed.records) == _without_seconds(whole.records)
        assert resumed.rounds == whole.rounds and resumed.budget == whole.budget
        assert again.submitted < 9 + 3 + 1  # what was finished was not run again
        done = Interrupting()
        _halving(path=path, executor=done)
        assert done.submitted == 0
