"""Reliability: the bad inputs and faults users meet, each tried here, with what nnxp does.

Each case below is a small scenario with its own assertions; ``docs/reliability.md``'s table
"Training, arguments, data, populations, ..." is generated from this list (``python
tests/test_reliability.py --write``), and ``test_the_documented_table_is_current`` fails when
the two differ.  The file tables of that page name tests of tests/test_files.py and
tests/test_formats.py; ``test_every_test_the_page_names_exists`` keeps those names true.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nnxp

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- cases: begin -->", "<!-- cases: end -->"
RNG = np.random.default_rng(0)
X, Y = RNG.random((60, 6)), RNG.integers(0, 3, 60)
CASES = []


def case(area, what, outcome):
    def register(fn):
        CASES.append((area, what, outcome, fn))
        return fn
    return register


def raises(kind, pattern, call):
    with pytest.raises(kind, match=pattern):
        call()


def linear(dtype="float32"):
    """Quadratic cost on linear units: a large eta makes the weights overflow in one epoch
    (on MNIST, ReLU units do the same: [784, 30, 10] at eta 1e6 diverges in epoch 0)."""
    return nnxp.Network([6, 5, 3], cost=nnxp.QuadraticCost, activation=nnxp.Identity, seed=0,
                        dtype=dtype)


# -- divergence ------------------------------------------------------------------------------

@case("divergence", "`eta=1e6`, quadratic cost: the weights overflow in the first epoch",
      "training stops; `History.stop_reason` names the epoch and advises a smaller eta "
      "(the book's threshold procedure); the weights are the last finite ones; no NumPy "
      "overflow warnings")
def _eta_1e6(tmp):
    net = linear()
    start = [np.array(a) for a in _params(net)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        h = net.SGD((X, Y), 3, 10, 1e6, shuffle=1)
    assert h.stop_reason.startswith("diverged in epoch 0") and "eta / 10" in h.stop_reason
    for a, b in zip(_params(net), start):
        np.testing.assert_array_equal(a, b)


@case("divergence", "a diverging run with `checkpoint=`",
      "the checkpoint on disk keeps the last finite weights and loads; it is never "
      "overwritten with NaN")
def _diverging_checkpoint(tmp):
    net = linear()
    path = tmp / "run.json"
    net.SGD((X, Y), 2, 10, 0.001, shuffle=1, checkpoint=path)
    h = net.SGD((X, Y), 3, 10, 1e6, shuffle=1, checkpoint=path)
    assert h.stop_reason.startswith("diverged")
    saved = nnxp.load(path)
    assert all(np.isfinite(a).all() for a in _params(saved))


@case("divergence", "`health=True` while diverging",
      "the same stop (the health monitor's warning no longer precedes NaN epochs)")
def _health_divergence(tmp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = linear().SGD((X, Y), 3, 10, 1e6, shuffle=1, health=True)
    assert h.stop_reason.startswith("diverged") and len(h.records) == 1


@case("divergence", "`on_divergence=\"continue\"`", "the old behaviour, on request: NaN epochs "
      "go on")
def _continue(tmp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h = linear().SGD((X, Y), 2, 10, 1e6, shuffle=1, on_divergence="continue")
    assert h.stop_reason is None and len(h.records) == 2


@case("divergence", "one member of a `Population` diverges",
      "that member stops with its last finite weights; the others train on")
def _population(tmp):
    pop = nnxp.Population([6, 5, 3], seeds=[0, 1], cost=nnxp.QuadraticCost,
                          activation=nnxp.Identity)
    hs = pop.SGD((X, Y), 2, 10, [0.01, 1e6], shuffle=1)
    assert hs[1].stop_reason.startswith("diverged") and hs[0].stop_reason is None
    assert len(hs[0].records) == 2


# -- checkpoints -----------------------------------------------------------------------------

def _checkpoint(tmp):
    path = tmp / "run.json"
    nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 2, 10, 0.5, momentum=0.5, checkpoint=path)
    return path, json.loads(path.read_text())


@case("checkpoints", "a checkpoint edited to name another file as its path",
      "ignored: `resume()` writes to the path it is given, else to the file it loaded; the "
      "other file is untouched")
def _path_in_file(tmp):
    path, d = _checkpoint(tmp)
    victim = tmp / "victim.txt"
    victim.write_text("keep")
    d["checkpoint"]["plan"]["checkpoint"] = str(victim)
    path.write_text(json.dumps(d))
    nnxp.load(path).resume((X, Y), epochs=3)
    assert victim.read_text() == "keep" and nnxp.load(path).checkpoint[1].epoch == 3


@case("checkpoints", "a checkpoint moved to another folder", "resuming it updates it where it "
      "is now")
def _moved(tmp):
    path, _ = _checkpoint(tmp)
    moved = tmp / "moved.json"
    os.replace(path, moved)
    nnxp.load(moved).resume((X, Y), epochs=3)
    assert not path.exists() and nnxp.load(moved).checkpoint[1].epoch == 3


@pytest.mark.parametrize("field,value", [("mini_batch_size", -1), ("eta", -0.5)])
def _edited_plan(tmp, field, value):
    path, d = _checkpoint(tmp)
    d["checkpoint"]["plan"][field] = value
    path.write_text(json.dumps(d))
    raises(nnxp.DataError, f"checkpoint field plan.{field}", lambda: nnxp.load(path))


@case("checkpoints", "edited checkpoints: `mini_batch_size=-1`, a negative eta, a velocity "
      "of the wrong shape, a broken RNG state",
      "`DataError` naming the file and the field; hypothesis edits 300 checkpoints in CI "
      "(2,500 in the slow run) and meets nothing but `NNXPError`")
def _edited(tmp):
    for field, value in (("mini_batch_size", -1), ("eta", -0.5)):
        _edited_plan(tmp, field, value)
    path, d = _checkpoint(tmp)
    leaves = d["checkpoint"]["optimizer_state"]
    i = next(i for i, a in enumerate(leaves) if np.ndim(a) == 2)
    leaves[i] = [[0.0]]
    path.write_text(json.dumps(d))
    raises(nnxp.DataError, rf"optimizer_state\[{i}\]: shape", lambda: nnxp.load(path))
    path, d = _checkpoint(tmp)
    d["checkpoint"]["state"]["rng_state"] = {"bit_generator": "PCG64", "state": 7}
    path.write_text(json.dumps(d))
    raises(nnxp.DataError, "state.rng_state", lambda: nnxp.load(path))


@case("checkpoints", "`checkpoint=` a directory, a path under a file, `checkpoint=42`",
      "refused before the first epoch: `FileError` / `InputTypeError` (no file `./42`)")
def _bad_checkpoint_paths(tmp):
    net = nnxp.Network([6, 5, 3], seed=0)
    raises(nnxp.FileError, "directory", lambda: net.SGD((X, Y), 1, 10, 0.5, checkpoint=tmp))
    (tmp / "file").write_text("x")
    raises(nnxp.FileError, "is a file", lambda: net.SGD((X, Y), 1, 10, 0.5,
                                                         checkpoint=tmp / "file" / "run.json"))
    raises(nnxp.InputTypeError, "path must be a str", lambda: net.SGD((X, Y), 1, 10, 0.5,
                                                              checkpoint=42))
    assert not Path("42").exists()


@case("checkpoints", "the disk fails while a checkpoint is written (after some epochs)",
      "`FileError` carrying `.history` (the epochs trained); the network keeps its trained "
      "weights; the old checkpoint is whole")
def _failed_write(tmp):
    import nnxp.train as module  # where training writes checkpoints
    net = nnxp.Network([6, 5, 3], seed=0)
    path = tmp / "run.json"
    calls = []
    real = module.atomic_write_text

    def full_disk(p, text, what="file"):
        calls.append(p)
        if len(calls) == 2:
            raise nnxp.FileError(f"cannot write the {what} {p!r}: No space left on device",
                                 filename=str(p), errno=28)
        return real(p, text, what=what)

    module.atomic_write_text = full_disk
    try:
        with pytest.raises(nnxp.FileError) as info:
            net.SGD((X, Y), 4, 10, 0.5, checkpoint=path)
    finally:
        module.atomic_write_text = real
    assert len(info.value.history.records) == 2 and nnxp.load(path).checkpoint[1].epoch == 1
    assert not np.array_equal(_params(net)[0], _params(nnxp.load(path))[0])


# -- arguments and data ----------------------------------------------------------------------

@case("arguments", "`nnxp.load('.')`, a missing file", "`DataError` naming the path")
def _load_dir(tmp):
    raises(nnxp.DataError, "directory", lambda: nnxp.load(tmp))
    raises(nnxp.DataError, "no network file|does not exist|not found",
           lambda: nnxp.load(tmp / "none.json"))


@case("arguments", "`shuffle=-1`, `Network({784, 30, 10})` (a set), `weight_init` returning "
      "NaN", "`ConfigError` saying what was expected and what was given")
def _arguments(tmp):
    raises(nnxp.ConfigError, "non-negative integer seed",
           lambda: nnxp.Network([6, 5, 3]).SGD((X, Y), 1, 10, 0.5, shuffle=-1))
    raises(nnxp.ConfigError, "ordered sequence", lambda: nnxp.Network({784, 30, 10}))
    raises(nnxp.ConfigError, "NaN or infinite",
           lambda: nnxp.Network([6, 3], weight_init=lambda rng, s: np.full(s, np.nan)))


@case("arguments", "an `eta` function returning -1, NaN, a string, or raising",
      "checked every epoch: `ConfigError` naming the epoch")
def _eta_function(tmp):
    net = nnxp.Network([6, 5, 3])
    for eta, pattern in ((lambda e: -1, r"eta\(0\) must be > 0"),
                         (lambda e: float("nan"), "finite"), (lambda e: "x", "number"),
                         (lambda e: 1 / 0, "raised ZeroDivisionError")):
        raises(nnxp.ConfigError, pattern, lambda: net.SGD((X, Y), 1, 10, eta))


@case("arguments", "network.py's `SGD(training_data, 30, 10, 3.0, test_data)` on network2's "
      "signature", "`ConfigError` that explains the fifth argument, without the data's repr "
      "(messages show at most ~200 characters of a value)")
def _test_data(tmp):
    test_data = [(np.zeros((6, 1)), 1)] * 5000
    with pytest.raises(nnxp.ConfigError) as info:
        nnxp.Network([6, 5, 3]).SGD((X, Y), 1, 10, 3.0, test_data)
    assert "fifth argument" in str(info.value) and len(str(info.value)) < 400


@case("data", "one `1e39` in float64 input to a float32 network (or in a float32 file)",
      "`DataError`: values are checked in the compute dtype, where 1e39 is infinite")
def _overflow(tmp):
    x = X.copy()
    x[0, 0] = 1e39
    raises(nnxp.DataError, r"NaN or infinite values \(in float32",
           lambda: nnxp.Network([6, 5, 3]).SGD((x, Y), 1, 10, 0.5))


@case("data", "labels of 1e20", "`DataError` showing the labels as given (1e+20)")
def _labels(tmp):
    raises(nnxp.DataError, r"1e\+20",
           lambda: nnxp.Network([6, 5, 3]).SGD((X, np.where(Y > 1, 1e20, Y)), 1, 10, 0.5))


@case("data", "a `Dataset` prepared by one network given to another (dtype or width)",
      "`DataError` saying what it holds and what the network needs")
def _dataset(tmp):
    data = nnxp.Network([6, 5, 3]).prepare((X, Y))
    raises(nnxp.DataError, "float64",
           lambda: nnxp.Network([6, 5, 3], dtype="float64").SGD(data, 1, 10, 0.5))
    raises(nnxp.DataError, "needs", lambda: nnxp.Network([6, 5, 2]).SGD(data, 1, 10, 0.5))


@case("backends", "PyTorch's `meta` device; `JAX_PLATFORMS=cuda` without a GPU",
      "`BackendError` at selection, not a failure after training")
def _devices(tmp):
    raises(nnxp.BackendError, "holds no data", lambda: nnxp.use_backend("torch", "meta")
           .__enter__())
    code = "import nnxp; nnxp.set_backend('jax')"
    env = dict(os.environ, JAX_PLATFORMS="cuda", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[-1].startswith("nnxp.errors.BackendError")


@case("backends", "loading a network2 file (no dtype) on JAX",
      "float32; `jax_enable_x64` stays off for the rest of the process")
def _x64(tmp):
    path = tmp / "n2.json"
    path.write_text(json.dumps({"sizes": [2, 1], "weights": [[[0.5, 1.0]]],
                                "biases": [[[0.0]]], "cost": "QuadraticCost"}))
    code = ("import jax, nnxp; nnxp.set_backend('jax'); n = nnxp.load(%r); "
            "print(n.dtype, jax.config.jax_enable_x64)" % str(path))
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["float32", "False"], out.stderr


# -- populations -----------------------------------------------------------------------------

def _stopped(verdict):
    pop = nnxp.Population([6, 5, 3], seeds=range(3))
    hs = pop.SGD((X, Y), 2, 10, 0.5, shuffle=1,
                 callbacks=[lambda records, p: verdict if records[0] is not None else None])
    return [i for i, h in enumerate(hs) if h.stop_reason]


@case("populations", "a callback naming members by index 99, -1, 2.0, a string, a bare int, "
      "or by a boolean mask",
      "`ConfigError` naming the callback and the epoch, saying what is expected (None/False, "
      "True, a list of member indices in [0, K), or a boolean mask of K values) and what it "
      "returned; a mask stops the members where it is True (it used to be read as indices 1 "
      "and 0); indices never wrap")
def _population_callbacks(tmp):
    for verdict, why in ((99, "a list is needed"), ([-1], r"in \[0, 3\)"), ([2.0], "integers"),
                         ("a", "not a collection"), (1, "a list is needed")):
        raises(nnxp.ConfigError, rf"callback .* \(after epoch 0\) must return None .*{why}",
               lambda: _stopped(verdict))
    assert _stopped([True, False, False]) == [0] and _stopped(np.array([0, 2])) == [0, 2]


@case("populations", "`eta`, `lmbda`, `l1` or `momentum` given as a set or a dict",
      "`ConfigError`: one number or an ordered list of K (the dict's keys are no longer used "
      "as etas)")
def _population_sets(tmp):
    pop = nnxp.Population([6, 5, 3], seeds=[0, 1])
    raises(nnxp.ConfigError, "eta must be one number or a list of 2 .* got a dict",
           lambda: pop.SGD((X, Y), 1, 10, {0.1: "a", 0.2: "b"}))
    raises(nnxp.ConfigError, "momentum must be one number .* got a set",
           lambda: pop.SGD((X, Y), 1, 10, 0.5, momentum={0.1, 0.5}))


@case("populations", "`Population` with a huge K (`seeds=range(10**12)`, an endless iterator "
      "of seeds)",
      "`ConfigError` with the estimated memory, before any seed list or weight is made (it "
      "used to build members one by one into a `MemoryError`); `max_memory=` or "
      "`NNXP_MAX_MEMORY` raise the bound on purpose")
def _population_memory(tmp):
    import itertools
    for seeds in (range(10 ** 12), itertools.count()):
        raises(nnxp.ConfigError, r"would need about [0-9,.]+ [GTP]iB .*max_memory=",
               lambda: nnxp.Population([784, 100, 10], seeds=seeds))
    raises(nnxp.ConfigError, "of max_memory",
           lambda: nnxp.Population([6, 5, 3], seeds=range(4), max_memory=1000))


# -- the scikit-learn estimator --------------------------------------------------------------

@case("estimator", "`NNXPClassifier` fitted on text in X; strings as the labels y",
      "`DataError` \"X must hold numbers\" with scikit-learn's message (a `ValueError`); "
      "string labels are classes, as scikit-learn expects")
def _estimator_strings(tmp):
    from nnxp.sklearn import NNXPClassifier
    text = np.array([["a", "b"], ["c", "d"], ["e", "f"]])
    raises(nnxp.DataError, "X must hold numbers .*could not convert string",
           lambda: NNXPClassifier(epochs=1).fit(text, [0, 1, 0]))
    clf = NNXPClassifier(epochs=1, random_state=0).fit(X, np.array(["a", "b", "c"])[Y])
    assert list(clf.classes_) == ["a", "b", "c"] and clf.predict(X[:2]).dtype.kind == "U"


@case("estimator", "`NNXPClassifier(epochs=0)`",
      "`ConfigError` at `fit` (\"epochs must be > 0\"), as scikit-learn's parameter validation "
      "refuses an out-of-range parameter; `__init__` only stores it")
def _estimator_epochs(tmp):
    from nnxp.sklearn import NNXPClassifier
    clf = NNXPClassifier(epochs=0)
    raises(nnxp.ConfigError, "epochs must be > 0, got 0", lambda: clf.fit(X, Y))


@case("estimator", "`NNXPClassifier(hidden=(1000000,))` beyond the memory bound",
      "`ConfigError` naming `hidden`, the data's widths and the estimated memory, before "
      "anything is allocated (`Network` likewise)")
def _estimator_memory(tmp):
    from nnxp.sklearn import NNXPClassifier
    old = os.environ.get("NNXP_MAX_MEMORY")
    os.environ["NNXP_MAX_MEMORY"] = "64M"
    try:
        raises(nnxp.ConfigError, r"NNXPClassifier\(hidden=\(1000000,\)\) on 6 features and 3 "
               r"classes would need about 190.7 MiB", lambda: NNXPClassifier(
                   hidden=(1000000,)).fit(X, Y))
    finally:
        os.environ.pop("NNXP_MAX_MEMORY")
        if old is not None:
            os.environ["NNXP_MAX_MEMORY"] = old


# -- resuming checkpoints --------------------------------------------------------------------

def _checkpoint64(tmp, epochs=2):
    path = tmp / "run64.json"
    nnxp.Network([6, 5, 3], seed=7, dtype="float64").SGD(
        (X, Y), epochs, 10, 0.5, momentum=0.5, evaluation_data=(X[:20], Y[:20]),
        monitor_evaluation_accuracy=True, checkpoint=path)
    return path


def _edit(path, change):
    d = json.loads(path.read_text())
    change(d["checkpoint"])
    path.write_text(json.dumps(d))


@case("checkpoints", "a checkpoint resumed on other data of the same size (another order, "
      "subset or scaling of the examples)",
      "`DataError` naming both data fingerprints (a hash of the shapes, every label and up to "
      "1,024 rows of the data as trained on: docs in nnxp/checkpoint.py); "
      "`resume(other_data=True)` continues on them on purpose; checkpoints without a "
      "fingerprint (older nnxp) resume as before")
def _other_data(tmp):
    path = _checkpoint64(tmp)
    raises(nnxp.DataError, r"fingerprint blake2b-128:\w+ \(60 examples\), the data given have "
           r"blake2b-128:\w+ \(60 examples\)", lambda: nnxp.load(path).resume(
               (X * 2, Y), (X[:20], Y[:20]), epochs=3))
    nnxp.load(path).resume((X * 2, Y), (X[:20], Y[:20]), epochs=3, other_data=True)
    _edit(path, lambda c: c["state"].pop("data"))
    nnxp.load(path).resume((X, Y), (X[:20], Y[:20]), epochs=4)


@case("checkpoints", "`resume(epochs=1)` of a checkpoint already at epoch 3",
      "`ConfigError`: 3 epochs are done, and `epochs` is the run's total, not a number of "
      "further epochs (`epochs=4` trains one more); `epochs=3` has nothing left to do")
def _resume_epochs(tmp):
    path = _checkpoint64(tmp, epochs=3)
    raises(nnxp.ConfigError, r"already done 3 epochs: epochs is the run's total",
           lambda: nnxp.load(path).resume((X, Y), (X[:20], Y[:20]), epochs=1))
    assert len(nnxp.load(path).resume((X, Y), (X[:20], Y[:20]), epochs=3).records) == 3


@case("checkpoints", "a tracker's `best_accuracy` of 1e308 (or 2.5), its eta, start eta or "
      "counters edited",
      "`DataError` naming the field: accuracies are whole counts, at most the evaluation "
      "examples (checked at resume); eta is the plan's, halved `halvings` times; counters are "
      "at most the epochs done")
def _tracker(tmp):
    for field, value, pattern in (("best_accuracy", 1e308, "evaluation data hold 20"),
                                  ("best_accuracy", 2.5, "whole number"),
                                  ("eta", 9.0, "the schedule gives"),
                                  ("since_best", 50, "at most 2")):
        path = _checkpoint64(tmp)
        _edit(path, lambda c: c["state"]["trackers"][0].update({field: value}))
        raises(nnxp.DataError, rf"state.trackers\[0\].{field}: .*{pattern}",
               lambda: nnxp.load(path).resume((X, Y), (X[:20], Y[:20]), epochs=3))


@case("checkpoints", "a velocity edited to true, text, null or ragged lists; an RNG state of "
      "another generator or with text for numbers",
      "`DataError` naming the field (`optimizer_state[i]`, `state.rng_state`)")
def _velocity_rng(tmp):
    for value in (True, "x", None, [[1.0], [1.0, 2.0]]):
        path = _checkpoint64(tmp)
        _edit(path, lambda c: c["optimizer_state"].__setitem__(-1, value))
        raises(nnxp.DataError, r"optimizer_state\[6\]", lambda: nnxp.load(path))
    for value in ({"bit_generator": "MT19937", "state": {"key": [0], "pos": 0}},
                  {"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}}):
        path = _checkpoint64(tmp)
        _edit(path, lambda c: c["state"].update(rng_state=value))
        raises(nnxp.DataError, "state.rng_state", lambda: nnxp.load(path))


@case("checkpoints", "a read-only checkpoint (0444) resumed by a Python without `unittest`",
      "it resumes and keeps its mode (`ModuleNotFoundError: unittest` before: NumPy's namespace "
      "went through array-api-compat's NumPy wrapper, which imports `numpy.testing`)")
def _readonly_without_unittest(tmp):
    path = _checkpoint64(tmp)
    os.chmod(path, 0o444)
    np.savez(tmp / "d.npz", x=X, y=Y)
    code = ("import sys; sys.modules['unittest'] = None\n"
            "import numpy as np, nnxp\n"
            f"d = np.load({str(tmp / 'd.npz')!r})\n"
            f"nnxp.load({str(path)!r}).resume((d['x'], d['y']), (d['x'][:20], d['y'][:20]), "
            "epochs=3)\n"
            f"print(nnxp.load({str(path)!r}).checkpoint[1].epoch)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT), NNXP_BACKEND="numpy"),
                         timeout=300)
    assert out.stdout.split() == ["3"], out.stderr[-2000:]
    assert os.stat(path).st_mode & 0o777 == 0o444


# -- training under signals ------------------------------------------------------------------

CHILD = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
import numpy as np, nnxp, nnxp.loop as loop
d = np.load(sys.argv[2])
data, evaluation = (d["x"], d["y"]), (d["x"][:20], d["y"][:20])
net = nnxp.load(sys.argv[1])
measure, fired = loop._measure, []

def interrupted(*args, **kwargs):  # a real SIGINT, delivered while epoch 3 is evaluated
    if args[5] == 3 and not fired:
        fired.append(1)
        os.kill(os.getpid(), signal.SIGINT)
    return measure(*args, **kwargs)

loop._measure = interrupted
try:
    net.resume(data, evaluation, epochs=6)
except KeyboardInterrupt:
    print("interrupted at", net.checkpoint[1].epoch)
net.resume(data, evaluation, epochs=6)   # again, in the same process (a notebook's Ctrl-C)
np.savez(sys.argv[3], *[np.asarray(a) for layer in net.params for a in layer])
"""


def _straight64(epochs):
    net = nnxp.Network([6, 5, 3], seed=7, dtype="float64")
    net.SGD((X, Y), epochs, 10, 0.5, momentum=0.5, evaluation_data=(X[:20], Y[:20]),
            monitor_evaluation_accuracy=True)
    return _params(net)


@case("signals", "SIGINT while a resumed run evaluates an epoch, then `resume()` again in the "
      "same process (a notebook's Ctrl-C)",
      "the network and its checkpoint go back to the file's last epoch, and the run ends bit "
      "for bit where an uninterrupted one does (it used to count the interrupted epoch as done "
      "and keep the loaded velocity: silently another run)")
def _interrupted_resume(tmp):
    path = _checkpoint64(tmp)
    np.savez(tmp / "data.npz", x=X, y=Y)
    (tmp / "child.py").write_text(CHILD)
    out = subprocess.run([sys.executable, str(tmp / "child.py"), str(path), str(tmp / "data.npz"),
                          str(tmp / "out.npz")], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(ROOT), NNXP_BACKEND="numpy"))
    assert out.returncode == 0 and out.stdout.split() == ["interrupted", "at", "3"], out.stderr
    got = np.load(tmp / "out.npz")
    for i, want in enumerate(_straight64(6)):
        np.testing.assert_array_equal(got[f"arr_{i}"], want)


@case("signals", "the disk fails at the end of an epoch of a resumed run",
      "`FileError` carrying `.history`; the network keeps its trained epochs and resumes again "
      "(to another path) bit for bit as one run")
def _failed_resume_write(tmp):
    import nnxp.train as module  # where training writes checkpoints
    path = _checkpoint64(tmp)
    real, calls = module.atomic_write_text, []

    def full_disk(p, text, what="file"):
        calls.append(p)
        if len(calls) == 2:
            raise nnxp.FileError(f"cannot write the {what} {p!r}: No space left on device",
                                 filename=str(p), errno=28)
        return real(p, text, what=what)

    net = nnxp.load(path)
    module.atomic_write_text = full_disk
    try:
        with pytest.raises(nnxp.FileError) as info:
            net.resume((X, Y), (X[:20], Y[:20]), epochs=6)
    finally:
        module.atomic_write_text = real
    assert len(info.value.history.records) == 4 and net.checkpoint[1].epoch == 4
    net.resume((X, Y), (X[:20], Y[:20]), epochs=6, checkpoint=tmp / "other.json")
    for a, b in zip(_params(net), _straight64(6)):
        np.testing.assert_array_equal(a, b)


def _params(net):
    return [np.asarray(net.backend.to_numpy(a)) for layer in net.params for a in layer]


# -- the tests -------------------------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[3].__name__.strip("_")
                                                           for c in CASES])
def test_case(index, tmp_path):
    needs = {"_devices": ("torch", "jax"), "_x64": ("jax",)}.get(CASES[index][3].__name__, ())
    for library in needs:
        pytest.importorskip(library)
    with nnxp.use_backend("numpy"):
        CASES[index][3](tmp_path)


def table() -> str:
    lines = ["| area | bad input or fault | what nnxp does |", "| --- | --- | --- |"]
    lines += [f"| {area} | {what} | {outcome} |" for area, what, outcome, _ in CASES]
    return "\n".join(lines)


def test_the_documented_table_is_current():
    text = PAGE.read_text()
    body = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert body == table(), "run: python tests/test_reliability.py --write"


def test_every_test_the_page_names_exists():
    names = set(re.findall(r"`(test_[a-z0-9_]+)", PAGE.read_text()))
    source = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    defined = set(re.findall(r"def (test_[a-z0-9_]+)", source))
    prefixes = {n.rstrip("_") for n in names if n.endswith("_")}
    missing = {n for n in names - defined if n not in prefixes
               and not any(d.startswith(n) for d in defined)}
    assert not missing, f"docs/reliability.md names tests that do not exist: {sorted(missing)}"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    text = PAGE.read_text()
    head, rest = text.split(BEGIN, 1)
    PAGE.write_text(head + BEGIN + "\n" + table() + "\n" + END + rest.split(END, 1)[1])
    print(f"wrote {len(CASES)} cases to {PAGE}")
