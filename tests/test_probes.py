"""An outside reviewer's probes, kept: population arguments and callbacks, memory bounds, the
scikit-learn estimator's inputs, edited checkpoints and resumes, and training under signals.
Each bad input meets an ``NNXPError`` saying what was expected and what was given, or the
documented behaviour; nothing else.  Tests taking ``backend`` run on every selected backend;
hypothesis draws the hostile values (few examples: CI runs them on the four CPU backends).
The scenarios in real processes (a SIGINT during evaluation, a read-only checkpoint without
``unittest``, a failing disk during a resume) are cases of tests/test_reliability.py, whose
table in docs/reliability.md lists every case."""

import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnxp

ROOT = Path(__file__).resolve().parent.parent
RNG = np.random.default_rng(0)
X, Y = RNG.random((60, 6)), RNG.integers(0, 3, 60)
XV, YV = RNG.random((20, 6)), RNG.integers(0, 3, 20)
SIZES = [6, 5, 3]
FEW = settings(max_examples=25, deadline=None, derandomize=True,
               suppress_health_check=list(HealthCheck))


# -- population callbacks ---------------------------------------------------------------------

def _stopped_by(verdict, k=3):
    """Which members a callback returning ``verdict`` after epoch 0 stops."""
    pop = nnxp.Population(SIZES, seeds=range(k))
    histories = pop.SGD((X, Y), 2, 10, 0.5, shuffle=1,
                        callbacks=[lambda records, p: verdict if records[0] is not None
                                   and records[0]["epoch"] == 0 else None])
    return [i for i, h in enumerate(histories) if h.stop_reason is not None]


@pytest.mark.parametrize("verdict,stopped", [
    (None, []), (False, []), ([], []), (True, [0, 1, 2]), ([1], [1]), ((0, 2), [0, 2]),
    ({2}, [2]), (range(1, 3), [1, 2]), ([1, 1], [1]), (np.array([2]), [2]),
    ([True, False, False], [0]), ([False, True, True], [1, 2]),
    (np.array([False, False, True]), [2]), ([np.True_, np.False_, np.False_], [0]),
    # NumPy's booleans (``return np.mean(...) > 0.9``) were refused as not True or False
    (np.True_, [0, 1, 2]), (np.False_, []), (np.array(True), [0, 1, 2]),
], ids=repr)
def test_a_callback_names_members_by_index_or_mask(backend, verdict, stopped):
    assert _stopped_by(verdict) == stopped


@pytest.mark.parametrize("verdict,why", [
    (99, "a list is needed"), (1, "a list is needed"), (-1, "a list is needed"),
    (2.0, "not a collection"), ("a", "not a collection"), ({"a": 1}, "not a collection"),
    ([99], r"in \[0, 3\)"), ([-1], r"in \[0, 3\)"), ([2.0], "integers"), (["1"], "integers"),
    ([[0]], "integers"), ([True, 0, 1], "integers"), ([True, False], "one value per member"),
    (np.array([[0]]), "1-D"), (np.array([0.5]), "integers"),
], ids=repr)
def test_a_callbacks_bad_answer_is_a_clear_error(backend, verdict, why):
    with pytest.raises(nnxp.ConfigError, match=rf"callback .*after epoch 0.* must return None "
                                               rf"or False .*{why}"):
        _stopped_by(verdict)


ANSWERS = st.recursive(st.none() | st.booleans() | st.integers(-5, 5)
                       | st.floats(allow_nan=True) | st.text(max_size=3),
                       lambda inner: st.lists(inner, max_size=4) | st.sets(st.integers(-4, 4)),
                       max_leaves=6)


@FEW
@given(ANSWERS)
def test_any_callback_answer_stops_what_it_names_or_is_refused(verdict):
    with nnxp.use_backend("numpy"):
        try:
            stopped = _stopped_by(verdict)
        except nnxp.ConfigError as exc:
            assert "must return None or False" in str(exc)
            return
    if verdict is True:
        assert stopped == [0, 1, 2]
    elif isinstance(verdict, list) and verdict and all(isinstance(v, bool) for v in verdict):
        assert stopped == [i for i, v in enumerate(verdict) if v]
    elif verdict:
        assert stopped == sorted(set(verdict))
    else:
        assert stopped == []


# -- a network's callbacks --------------------------------------------------------------------

@pytest.mark.parametrize("verdict,epochs", [
    (None, 3), (False, 3), (0, 3), (np.False_, 3), (True, 1), (1, 1), (np.True_, 1),
], ids=repr)
def test_a_networks_callback_stops_on_true(verdict, epochs):
    history = nnxp.Network(SIZES, seed=0).SGD((X, Y), 3, 10, 0.5,
                                              callbacks=[lambda record, net: verdict])
    assert len(history.records) == epochs


@pytest.mark.parametrize("verdict", ["continue", "no", {"epoch": 0}, [1], 2, 0.5], ids=repr)
def test_a_networks_callback_answer_that_is_not_true_or_false_is_refused(verdict):
    # a string, or the record returned by mistake, was a truth value: training stopped
    with pytest.raises(nnxp.ConfigError, match=r"callback .* \(after epoch 0\) must return True "
                                               r"\(stop\) or False / None \(go on\)"):
        nnxp.Network(SIZES, seed=0).SGD((X, Y), 3, 10, 0.5,
                                        callbacks=[lambda record, net: verdict])


# -- per-member hyper-parameters --------------------------------------------------------------

@pytest.mark.parametrize("name", ["eta", "lmbda", "l1", "momentum"])
@pytest.mark.parametrize("value", [{0.1, 0.2}, frozenset({0.1, 0.2}), {0.1: 1, 0.2: 2}, b"ab",
                                   np.array(0.1)], ids=["set", "frozenset", "dict", "bytes",
                                                        "0-d array"])
def test_per_member_values_are_ordered_sequences(backend, name, value):
    pop = nnxp.Population(SIZES, seeds=[0, 1])
    args = dict(eta=0.5, **{name: value}) if name != "eta" else dict(eta=value)
    eta = args.pop("eta")
    with pytest.raises(nnxp.ConfigError, match=rf"{name}.*(one number|a number)"):
        pop.SGD((X, Y), 1, 10, eta, **args)


def test_per_member_values_may_be_arrays(backend):
    pop = nnxp.Population(SIZES, seeds=[0, 1])
    histories = pop.SGD((X, Y), 1, 10, np.array([0.5, 0.1]), lmbda=(0.0, 1.0))
    assert [h.records[0]["eta"] for h in histories] == [0.5, 0.1]
    with pytest.raises(nnxp.ConfigError, match="lmbda must be one number or a list of 2"):
        pop.total_cost((X, Y), lmbda={0.0: 1, 1.0: 2})


# -- memory bounds ----------------------------------------------------------------------------

def test_a_huge_population_is_refused_before_anything_is_allocated():
    start = time.perf_counter()
    for seeds in (range(10 ** 12), itertools.count()):  # an endless iterator too
        with pytest.raises(nnxp.ConfigError, match=r"Population of .* members of sizes "
                                                   r"\[784, 100, 10\] would need about .*GiB"):
            nnxp.Population([784, 100, 10], seeds=seeds)
    assert time.perf_counter() - start < 5  # no member was built


def test_max_memory_bounds_and_overrides():
    need = nnxp.checks.network_bytes(SIZES, 3, "float32")
    with pytest.raises(nnxp.ConfigError, match="more than the 100 bytes of max_memory"):
        nnxp.Population(SIZES, seeds=range(3), max_memory=100)
    assert len(nnxp.Population(SIZES, seeds=range(3), max_memory=need)) == 3
    assert len(nnxp.Population(SIZES, seeds=range(3), max_memory=math.inf)) == 3
    for bad in (-1, 0, "1G", True):
        with pytest.raises(nnxp.ConfigError, match="max_memory must be"):
            nnxp.Population(SIZES, seeds=range(3), max_memory=bad)


def test_the_environment_sets_the_bound(monkeypatch):
    from nnxp.sklearn import NNXPClassifier
    monkeypatch.setenv("NNXP_MAX_MEMORY", "1M")
    with pytest.raises(nnxp.ConfigError, match="of NNXP_MAX_MEMORY"):
        nnxp.Network([784, 1000, 10])
    with pytest.raises(nnxp.ConfigError, match=r"NNXPClassifier\(hidden=\(1000000,\)\) on 6 "
                                               r"features and 3 classes would need about"):
        NNXPClassifier(hidden=(1000000,), epochs=1).fit(X, Y)
    monkeypatch.setenv("NNXP_MAX_MEMORY", "inf")
    assert nnxp.Network([784, 1000, 10]).sizes == [784, 1000, 10]
    for zero in ("0", "0G", "0.0", "00"):  # all off: "0G" and "0.0" were a bound of 0 bytes
        monkeypatch.setenv("NNXP_MAX_MEMORY", zero)
        assert nnxp.Network([784, 1000, 10]).sizes == [784, 1000, 10]
    monkeypatch.setenv("NNXP_MAX_MEMORY", "lots")
    with pytest.raises(nnxp.ConfigError, match="NNXP_MAX_MEMORY must be a number of bytes"):
        nnxp.Network(SIZES)


def test_the_limit_is_the_smallest_the_system_sets(monkeypatch):
    monkeypatch.delenv("NNXP_MAX_MEMORY", raising=False)
    limit, source = nnxp.checks.memory_limit()
    assert limit is None or limit > 2 ** 20 and source
    code = ("import resource, nnxp; resource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31)); "
            "from nnxp.sklearn import NNXPClassifier; import numpy as np\n"
            "try:\n    NNXPClassifier(hidden=(10**8,)).fit(np.random.rand(20, 64), "
            "np.arange(20) % 2)\n"
            "except nnxp.ConfigError as e:\n    print('refused', 'ulimit -v' in str(e))")
    env = {k: v for k, v in os.environ.items() if k != "NNXP_MAX_MEMORY"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.stdout.split() == ["refused", "True"], out.stderr[-2000:]


# -- the estimator's inputs -------------------------------------------------------------------

@pytest.fixture
def sklearn_classifier():
    pytest.importorskip("sklearn")
    from nnxp.sklearn import NNXPClassifier
    return NNXPClassifier


def test_strings_in_x_are_a_clear_error_strings_in_y_are_labels(backend, sklearn_classifier):
    text = np.array([["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]])
    for call in (lambda: sklearn_classifier(epochs=1).fit(text, [0, 1, 0, 1]),
                 lambda: sklearn_classifier(epochs=1).partial_fit(text, [0, 1, 0, 1], [0, 1])):
        with pytest.raises(nnxp.DataError, match="X must hold numbers .* could not convert "
                                                 "string to float"):
            call()
    labels = np.array(["cat", "dog", "emu"])[Y]
    clf = sklearn_classifier(epochs=1, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["cat", "dog", "emu"]
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    with pytest.raises(nnxp.DataError, match="X must hold numbers"):
        clf.predict(text[:, :1].repeat(6, axis=1))
    mixed = X.astype(object)
    mixed[0, 0] = {"not": "a number"}
    with pytest.raises(nnxp.InputTypeError, match="X must hold numbers"):
        sklearn_classifier(epochs=1).fit(mixed, Y)


@pytest.mark.parametrize("epochs", [0, -1, 2.5, True, "10", None])
def test_epochs_must_be_a_positive_integer_at_fit(sklearn_classifier, epochs):
    clf = sklearn_classifier(epochs=epochs)  # scikit-learn's rule: __init__ only stores
    with pytest.raises(nnxp.ConfigError, match="epochs must be"):
        clf.fit(X, Y)


@FEW
@given(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-10, 10), st.text(max_size=2),
                          st.none()), min_size=12, max_size=12))
def test_any_x_fits_or_meets_an_nnxp_error(values):
    from nnxp.sklearn import NNXPClassifier
    x = np.array(values, dtype=object).reshape(6, 2)
    try:
        NNXPClassifier(hidden=(3,), epochs=1).fit(x, [0, 1] * 3)
    except nnxp.NNXPError:
        pass


# -- checkpoints ------------------------------------------------------------------------------

def _checkpointed(tmp_path, epochs=2, **options):
    path = tmp_path / "run.json"
    nnxp.Network(SIZES, seed=7, dtype="float64").SGD(
        (X, Y), epochs, 10, 0.5, momentum=0.5, evaluation_data=(XV, YV),
        monitor_evaluation_accuracy=True, checkpoint=path, **options)
    return path


def _edit(path, change):
    d = json.loads(path.read_text())
    change(d["checkpoint"])
    path.write_text(json.dumps(d))


def test_a_resume_on_other_data_of_the_same_size_is_refused(backend, tmp_path):
    path = _checkpointed(tmp_path)
    stored = json.loads(path.read_text())["checkpoint"]["state"]["data"]
    assert stored.startswith("blake2b-128:")
    other = (X[::-1].copy(), Y[::-1].copy())  # the same examples, in another order
    with pytest.raises(nnxp.DataError, match=rf"holds the fingerprint {stored} \(60 examples\), "
                                             r"the data given have blake2b-128:[0-9a-f]{32} "
                                             r"\(60 examples\).*other_data=True"):
        nnxp.load(path).resume(other, (XV, YV), epochs=3)
    assert nnxp.load(path).checkpoint[1].epoch == 2  # refused before training: untouched
    nnxp.load(path).resume((X.tolist(), Y.tolist()), (XV, YV), epochs=3)  # the same data
    net = nnxp.load(path)
    net.resume(other, (XV, YV), epochs=4, other_data=True)
    assert nnxp.load(path).checkpoint[1].data != stored  # the new data are recorded


def test_the_fingerprint_is_the_same_on_every_backend(backend, tmp_path):
    with nnxp.use_backend("numpy"):
        path = _checkpointed(tmp_path)
    net = nnxp.load(path)
    assert net.checkpoint[1].data == nnxp.checkpoint.data_fingerprint(
        net.prepare((X, Y)), backend)
    net.resume((X, Y), (XV, YV), epochs=3)
    assert nnxp.load(path).checkpoint[1].epoch == 3


def test_a_checkpoint_without_a_fingerprint_still_resumes(tmp_path):
    path = _checkpointed(tmp_path)
    _edit(path, lambda c: c["state"].pop("data"))
    nnxp.load(path).resume((X, Y), (XV, YV), epochs=3)
    assert nnxp.load(path).checkpoint[1].data is not None  # recorded from now on
    path = _checkpointed(tmp_path)
    _edit(path, lambda c: c["state"].update(data="md5:abc"))
    with pytest.raises(nnxp.DataError, match="checkpoint field state.data"):
        nnxp.load(path)


def test_resume_epochs_is_the_runs_total(tmp_path):
    path = _checkpointed(tmp_path, epochs=3)
    with pytest.raises(nnxp.ConfigError, match=r"epochs=1, but this run has already done 3 "
                                               r"epochs: epochs is the run's total.*epochs=4"):
        nnxp.load(path).resume((X, Y), (XV, YV), epochs=1)
    h = nnxp.load(path).resume((X, Y), (XV, YV), epochs=3)  # done: nothing to train
    assert len(h.records) == 3
    assert len(nnxp.load(path).resume((X, Y), (XV, YV), epochs=5).records) == 5


@pytest.mark.parametrize("field,value,when,match", [
    ("best_accuracy", 1e308, "resume", "best_accuracy: 1e[+]308 examples classified correctly, "
                                       "but the evaluation data hold 20"),
    ("best_accuracy", 21, "resume", "best_accuracy: .*hold 20"),
    ("best_accuracy", 2.5, "load", "best_accuracy: .*whole number"),
    ("best_accuracy", -3, "load", "best_accuracy: .*>= -1"),
    ("eta", 1e6, "load", r"eta: .*the schedule gives 0.5 / 2\*\*0"),
    ("start_eta", 0.25, "load", "start_eta: .*the plan's eta is 0.5"),
    ("since_best", 99, "load", "since_best: .*at most 2"),
    ("halvings", 1, "load", r"eta: 0.5, but the schedule gives 0.5 / 2\*\*1 = 0.25"),
])
def test_tracker_fields_are_bounded(tmp_path, field, value, when, match):
    path = _checkpointed(tmp_path, early_stopping=5)
    _edit(path, lambda c: c["state"]["trackers"][0].update({field: value}))
    with pytest.raises(nnxp.DataError, match=rf"checkpoint field state.trackers\[0\]"
                                             rf"\.{match}"):
        nnxp.load(path).resume((X, Y), (XV, YV), epochs=3)
    if when == "resume":
        nnxp.load(path)  # each field alone is plausible: the bound needs the data


VELOCITY = [None, "x", {"a": 1}, [[None]], [["1"]], [[1.0], [1.0, 2.0]], [[[0.0]]], True]
RNG_STATE = ["x", [], 7, {"bit_generator": "MT19937", "state": {"key": [0], "pos": 0}},
             {"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}},
             {"bit_generator": "PCG64", "state": {"state": -1, "inc": 1}},
             {"bit_generator": "PCG64", "state": {"state": 1, "inc": 1}, "has_uint32": "x",
              "uinteger": 0},
             {"bit_generator": ["PCG64"], "state": None}]


@pytest.mark.parametrize("value", VELOCITY, ids=repr)
def test_an_edited_velocity_names_its_field(tmp_path, value):
    path = _checkpointed(tmp_path)
    _edit(path, lambda c: c["optimizer_state"].__setitem__(-1, value))
    with pytest.raises(nnxp.DataError, match=r"checkpoint field optimizer_state\[\d+\]"):
        nnxp.load(path)


@pytest.mark.parametrize("value", RNG_STATE, ids=repr)
def test_an_edited_rng_state_names_its_field(tmp_path, value):
    path = _checkpointed(tmp_path)
    _edit(path, lambda c: c["state"].update(rng_state=value))
    with pytest.raises(nnxp.DataError, match="checkpoint field state.rng_state"):
        nnxp.load(path)


# -- training under signals -------------------------------------------------------------------

def test_sigterm_before_the_first_checkpoint_leaves_nothing_behind(tmp_path):
    """SIGTERM (what timeout and schedulers send) during the first epoch: the process ends,
    no checkpoint and no temporary file is left, and the same command trains from the start."""
    path, script = tmp_path / "run.json", tmp_path / "train.py"
    script.write_text(f"""
import numpy as np, nnxp, sys
x = np.random.default_rng(0).random((100000, 6)); y = np.arange(100000) % 3
print("training", flush=True)
nnxp.Network([6, 5, 3], seed=7).SGD((x, y), 2, 1, 0.05, checkpoint={str(path)!r})
""")
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                             env=dict(os.environ, PYTHONPATH=str(ROOT), NNXP_BACKEND="numpy"))
    assert child.stdout.readline().strip() == b"training"
    time.sleep(0.5)
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGTERM
    assert list(tmp_path.iterdir()) == [script]
