"""The search tried as a hostile reviewer and a careless user would: results files edited by hand
or by accident, two searches on one file, trial checkpoints swapped, absurd sizes, the searching
process killed, scripts without ``if __name__ == "__main__":``, executors that fail.

Each case is a small scenario with its own assertions; the "Search" section at the end of
``docs/reliability.md`` is generated from this list (``python tests/test_search_hostile.py
--write``), and ``test_the_documented_search_table_is_current`` fails when the two differ.
Cases with real processes start them with ``subprocess`` and end them with ``os.kill``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pytest

import nnxp
import nnxp.search as search
from conftest import Interrupting, blobs

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- search cases: begin -->", "<!-- search cases: end -->"
TRAIN, VALID = blobs(), blobs(60, seed=1)
SIZES = [6, 9, 3]
SPACE = {"sizes": SIZES, "eta": [0.1, 0.5, 2.0], "lmbda": [0.0, 1.0]}
HSPACE = {"sizes": SIZES, "eta": (0.02, 5.0), "lmbda": (0.01, 3.0)}
CASES = []


def case(area, what, outcome):
    def register(fn):
        CASES.append((area, what, outcome, fn))
        return fn
    return register


def _without_seconds(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


class Counting(ThreadPoolExecutor):
    """Threads that count the groups sent to them."""

    def __init__(self):
        super().__init__(1)
        self.calls = 0

    def submit(self, fn, *args, **kwargs):
        self.calls += 1
        return super().submit(fn, *args, **kwargs)


def _grid(path=None, executor=None, **options):
    with nnxp.use_backend("numpy"):
        return search.grid(SPACE, TRAIN, VALID, epochs=2, mini_batch_size=10, seed=5,
                           executor=executor or ThreadPoolExecutor(1), path=path,
                           max_members=1, **options)


def _halving(path=None, executor=None, **options):
    with nnxp.use_backend("numpy"):
        return search.halving(HSPACE, TRAIN, VALID, epochs=9, n_candidates=9,
                              mini_batch_size=10, seed=2, max_members=1,
                              executor=executor or ThreadPoolExecutor(1), path=path, **options)


_cache = {}


def grid_file(tmp):
    """A finished grid search's results file in ``tmp`` (made once, copied)."""
    if "grid" not in _cache:
        path = tmp / "base-grid.json"
        result = _grid(path)
        _cache["grid"] = (path.read_bytes(), _without_seconds(result.records))
    path = tmp / "grid.json"
    path.write_bytes(_cache["grid"][0])
    return path


def grid_table():
    return _cache["grid"][1]




def halving_file(tmp):
    """A successive-halving search interrupted at the start of round 1 (9 candidates, max
    one per group): its results file and round-0 checkpoints, in ``tmp``."""
    if "halving" not in _cache:
        base = tmp / "base"
        base.mkdir()
        path = base / "h.json"
        with pytest.raises(KeyboardInterrupt):
            _halving(path, Interrupting(at=10, workers=1))
        whole = _halving()
        _cache["halving"] = (base, _without_seconds(whole.records))
    base, _ = _cache["halving"]
    target = tmp / "run"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base, target)
    return target / "h.json"


def promoted(path):
    """The trials promoted to round 1 of the interrupted halving search, best first."""
    d = json.loads(Path(path).read_text())
    ranked = sorted(d["rounds"][0]["records"], key=lambda r: (-r["best_accuracy"],
                                                              r["best_cost"], r["trial"]))
    return [r["trial"] for r in ranked[:3]]


def checkpoint(path, trial, epoch=1):
    return Path(f"{path}.trials") / f"trial-{trial:04d}-epoch-{epoch:04d}.json"


def refused(path, kind, pattern, call, files=()):
    """``call()`` raises ``kind`` matching ``pattern``; the results file (and ``files``) are
    left byte for byte."""
    paths = [Path(path), *map(Path, files)]
    before = [p.read_bytes() for p in paths]
    with pytest.raises(kind, match=pattern):
        call()
    assert [p.read_bytes() for p in paths] == before


# -- two searches on one results file ---------------------------------------------------------

SLOW_SCRIPT = """
import sys, time, json, os
from concurrent.futures import ThreadPoolExecutor
sys.path[:0] = [{root!r}, {tests!r}]
import nnxp, nnxp.search as search
from conftest import blobs

class Held(ThreadPoolExecutor):
    # threads; the first submission waits until the test creates the file "go"
    def submit(self, fn, *args, **kwargs):
        open({ready!r}, "w").close()
        deadline = time.monotonic() + 120
        while not os.path.exists({go!r}) and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().submit(fn, *args, **kwargs)

if __name__ == "__main__":
    eta = json.loads(sys.argv[1])
    try:
        search.grid({{"sizes": [6, 9, 3], "eta": eta}}, blobs(), blobs(60, seed=1), epochs=2,
                    mini_batch_size=10, seed=5, executor=Held(1), path={path!r}, max_members=1)
    except nnxp.NNXPError as exc:
        print("NNXPError:", exc)
        sys.exit(3)
"""


def _script(tmp, name, text, **fields):
    path = tmp / name
    path.write_text(textwrap.dedent(text).format(root=str(ROOT), tests=str(ROOT / "tests"),
                                                 **fields))
    return path


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH")])))
    env.pop("NNXP_BACKEND", None)
    return env


def _wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


@case("results file", "two different searches started on the same `path=` while the first runs "
      "(real processes)", "the second is refused at once with a `ConfigError` naming the first's "
      "process id (an OS lock on `<path>.lock`, held for the whole search); the first finishes "
      "and its file holds its own records")
def _two_searches(tmp):
    path, ready, go = tmp / "shared.json", tmp / "ready", tmp / "go"
    script = _script(tmp, "slow.py", SLOW_SCRIPT, path=str(path), ready=str(ready), go=str(go))
    first = subprocess.Popen([sys.executable, str(script), "[0.1, 0.5, 2.0]"], env=_env())
    try:
        _wait_for(ready.exists, 120, "the first search to start")
        second = subprocess.run([sys.executable, str(script), "[0.3]"], env=_env(),
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 3, second.stdout + second.stderr
        assert f"in process {first.pid}" in second.stdout and "another search" in \
            second.stdout
        same = subprocess.run([sys.executable, str(script), "[0.1, 0.5, 2.0]"], env=_env(),
                              capture_output=True, text=True, timeout=120)
        assert same.returncode == 3 and "the same search" in same.stdout
        assert first.poll() is None  # still waiting for "go", holding the lock
        go.touch()
        assert first.wait(120) == 0
    finally:
        first.kill()
    records = json.loads(path.read_text())["records"]
    assert sorted(r["eta"] for r in records) == [0.1, 0.5, 2.0]


@case("results file", "the searching process SIGKILLed while it holds the lock, then resumed",
      "the lock died with its process: the resume runs, and finishes the table")
def _killed_owner(tmp):
    path, ready = tmp / "shared.json", tmp / "ready"
    script = _script(tmp, "slow.py", SLOW_SCRIPT, path=str(path), ready=str(ready),
                     go=str(tmp / "never"))
    first = subprocess.Popen([sys.executable, str(script), "[0.1, 0.5, 2.0]"], env=_env())
    try:
        _wait_for(ready.exists, 120, "the search to start")
    finally:
        first.kill()
        first.wait(60)
    assert Path(f"{path}.lock").exists()
    with nnxp.use_backend("numpy"):
        result = search.grid({"sizes": [6, 9, 3], "eta": [0.1, 0.5, 2.0]}, TRAIN, VALID,
                             epochs=2, mini_batch_size=10, seed=5, path=path, max_members=1,
                             executor=ThreadPoolExecutor(1))
    assert len(result.records) == 3


@case("results file", "a second search on the same path in the same process (another thread)",
      "refused the same way; the lock is released when a search ends, even by an exception")
def _same_process(tmp):
    path = tmp / "r.json"
    inner = {}

    class Nested(ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            if not inner:
                try:
                    _grid(path)
                except nnxp.ConfigError as exc:
                    inner["error"] = str(exc)
            return super().submit(fn, *args, **kwargs)

    _grid(path, Nested(1))
    assert f"in process {os.getpid()}" in inner["error"] and "same search" in inner["error"]
    other = tmp / "other.json"
    with pytest.raises(nnxp.ConfigError, match="refused a task"):
        _grid(other, Refusing(at=1))
    assert len(_grid(other).records) == 6  # the lock was released by the failed search


# -- records of a results file, edited --------------------------------------------------------

def _edit_record(field, value, index=0):
    def edit(d):
        d["records"][index][field] = value
    return edit


EDITS = {
    "trial 999": (_edit_record("trial", 999), r"records\[0\]\.trial"),
    "trial -1": (_edit_record("trial", -1), r"records\[0\]\.trial"),
    "trial recorded twice": (lambda d: d["records"].append(dict(d["records"][0])),
                             "recorded twice"),
    "best_accuracy NaN": (_edit_record("best_accuracy", math.nan), r"\.best_accuracy"),
    "best_accuracy 5.0": (_edit_record("best_accuracy", 5.0), r"\.best_accuracy"),
    "best_accuracy -3": (_edit_record("best_accuracy", -3), r"\.best_accuracy"),
    "best_accuracy 1e308": (_edit_record("best_accuracy", 1e308), r"\.best_accuracy"),
    "best_accuracy Infinity": (_edit_record("best_accuracy", math.inf), r"\.best_accuracy"),
    "eta changed": (_edit_record("eta", 0.7), r"\.eta.*trial \d has 0\.\d"),
    "sizes changed": (_edit_record("sizes", [6, 200000, 200000, 3]), r"\.sizes"),
    "seed changed": (_edit_record("seed", 1), r"\.seed"),
    "epochs -5": (_edit_record("epochs", -5), r"\.epochs"),
    "status changed": (_edit_record("status", "diverged"), r"\.status"),
    "status unknown": (_edit_record("status", "great"), r"\.status"),
    "final_accuracy edited": (_edit_record("final_accuracy", 1.0), r"\.final_accuracy"),
    "record is a list": (lambda d: d["records"].__setitem__(0, [1, 2]), "expected an object"),
    "records is a dict": (lambda d: d.__setitem__("records", {"0": {}}), "expected a list"),
    "key missing": (lambda d: d["records"][0].pop("best_cost"), "missing 'best_cost'"),
    "unknown key": (_edit_record("extra", 1), "unknown"),
    "trial as text": (_edit_record("trial", "0"), r"\.trial"),
    "history shortened": (lambda d: d["histories"]["0"]["records"].pop(), "epochs|history"),
    "history accuracy 10**6": (lambda d: d["histories"]["0"]["records"][0].__setitem__(
        "evaluation_accuracy", 10 ** 6), "evaluation_accuracy"),
    "history of an unknown trial": (lambda d: d["histories"].__setitem__("999", {
        "records": []}), r"histories\['999'\]"),
    "histories a list": (lambda d: d.__setitem__("histories", [1]), "expected an object"),
    "config a list": (lambda d: d.__setitem__("config", [1]), "config"),
    "error on an ok trial": (_edit_record("error", "boom"), r"\.status|\.error"),
    "seconds -1": (_edit_record("seconds", -1), r"\.seconds"),
}


@case("results file", "resuming from edited records: a trial not in the search (999, -1), a "
      "trial recorded twice, `best_accuracy` NaN / 5.0 / -3 / 1e308 / Infinity, an edited eta, "
      "sizes, seed, final accuracy, `epochs=-5`, status or seconds, an error on an ok trial, a "
      "shortened or impossible history, a history of a trial without a record",
      "`DataError` naming the file, the record and the field, before anything runs; the file "
      "is left byte for byte (each record is recomputed from its trial and its history, as "
      "the search made it)")
def _edited_records(tmp):
    for name, (edit, pattern) in EDITS.items():
        if name in ("records is a dict", "record is a list", "key missing", "unknown key",
                    "trial as text", "histories a list", "config a list"):
            continue
        _refuse_edit(tmp, name, edit, pattern)


@case("results file", "structurally wrong results: a record that is a list, records as a dict, a "
      "missing or unknown key, a trial number as text, histories as a list, config as a list",
      "`DataError` naming the place (no raw `TypeError` / `KeyError` / `AttributeError`); the "
      "file is left as it is")
def _structure(tmp):
    for name in ("records is a dict", "record is a list", "key missing", "unknown key",
                 "trial as text", "histories a list", "config a list"):
        edit, pattern = EDITS[name]
        _refuse_edit(tmp, name, edit, pattern)


def _refuse_edit(tmp, name, edit, pattern):
    path = grid_file(tmp)
    d = json.loads(path.read_text())
    edit(d)
    path.write_text(json.dumps(d))
    counting = Counting()
    try:
        refused(path, nnxp.DataError, pattern, lambda: _grid(path, counting))
    except AssertionError as exc:
        raise AssertionError(f"edit {name!r}: {exc}") from None
    assert counting.calls == 0, name


@case("results file", "a results file without edits, or with only `seconds` changed, resumed",
      "the table of the uninterrupted search (all but `seconds`); nothing is run again")
def _unedited(tmp):
    path = grid_file(tmp)
    d = json.loads(path.read_text())
    d["records"][0]["seconds"] = 12.5
    path.write_text(json.dumps(d))
    counting = Counting()
    result = _grid(path, counting)
    assert counting.calls == 0 and _without_seconds(result.records) == grid_table()


# -- successive halving's trial checkpoints --------------------------------------------------

@case("trial checkpoints", "successive halving resumed after two promoted trials' checkpoint "
      "files were swapped",
      "`DataError`: the checkpoint is not the one the results file recorded (its BLAKE2b "
      "digest is recorded there); nothing is continued, the files are left as they are")
def _swapped(tmp):
    path = halving_file(tmp)
    a, b = (checkpoint(path, t) for t in promoted(path)[:2])
    ta, tb = a.read_bytes(), b.read_bytes()
    a.write_bytes(tb)
    b.write_bytes(ta)
    refused(path, nnxp.DataError, "checksum differs", lambda: _halving(path), [a, b])


@case("trial checkpoints", "a promoted trial's checkpoint with edited weights, or replaced by a "
      "valid checkpoint of another width ([6, 5, 3] for [6, 9, 3])",
      "`DataError` naming the checkpoint; never continued from")
def _edited_checkpoint(tmp):
    path = halving_file(tmp)
    target = checkpoint(path, promoted(path)[0])
    d = json.loads(target.read_text())
    d["weights"][0][0][0] += 0.25
    target.write_text(json.dumps(d))
    refused(path, nnxp.DataError, "checksum differs", lambda: _halving(path), [target])
    other = tmp / "other.json"
    nnxp.Network([6, 5, 3], seed=0).SGD(TRAIN, 1, 10, 0.5, checkpoint=other)
    shutil.copy(other, target)
    refused(path, nnxp.DataError, "checksum differs", lambda: _halving(path), [target])


@case("trial checkpoints", "halving resumed with its checkpoints as they were written",
      "the table of the uninterrupted search")
def _halving_resumes(tmp):
    path = halving_file(tmp)
    result = _halving(path)
    assert _without_seconds(result.records) == _cache["halving"][1]


@case("trial checkpoints", "a halving results file whose round 1 records a trial that round 0 "
      "did not promote", "`DataError`: not promoted to that round")
def _not_promoted(tmp):
    path = halving_file(tmp)
    whole = tmp / "whole.json"
    _halving(whole)
    d = json.loads(whole.read_text())
    keep = set(promoted(path))
    loser = next(r for r in d["rounds"][0]["records"] if r["trial"] not in keep)
    intruder = dict(next(r for r in d["rounds"][1]["records"]), trial=loser["trial"])
    mine = json.loads(path.read_text())
    mine["rounds"].append({"round": 1, "epochs": 3, "records": [intruder]})
    path.write_text(json.dumps(mine))
    refused(path, nnxp.DataError, "trial", lambda: _halving(path))
    # the loser's own consistent record of round 0, claimed for round 1
    mine = json.loads(halving_file(tmp).read_text())
    own = dict(next(r for r in mine["rounds"][0]["records"] if r["trial"] == loser["trial"]),
               round=1)
    mine["rounds"].append({"round": 1, "epochs": 3, "records": [own]})
    path.write_text(json.dumps(mine))
    refused(path, nnxp.DataError, "did not promote", lambda: _halving(path))


# -- rerun and functions ----------------------------------------------------------------------

@case("rerun", "`rerun()` of a record whose sizes were edited to [6, 200000, 200000, 3] (or "
      "whose eta, seed, trial or halving round differ from the search's)",
      "`ConfigError`: the record is not the search's trial; nothing is built (a 4e10-parameter "
      "network would be refused by `max_parameters` anyway)")
def _rerun_edited(tmp):
    result = _grid()
    record = dict(result.records[0], sizes=[6, 200000, 200000, 3])
    began = time.perf_counter()
    with pytest.raises(nnxp.ConfigError, match="sizes"):
        search.rerun(result, record, TRAIN, VALID)
    assert time.perf_counter() - began < 1
    for key, value in (("eta", 9.0), ("seed", 3), ("trial", 999)):
        with pytest.raises(nnxp.ConfigError, match="trial"):
            search.rerun(result, dict(result.records[0], **{key: value}), TRAIN, VALID)
    halving = _halving()
    with pytest.raises(nnxp.ConfigError, match="round 99"):
        search.rerun(halving, dict(halving.records[0], round=99), TRAIN, VALID)
    huge = dict(result.config, trials=[dict(t, sizes=[6, 200000, 200000, 3])
                                       for t in result.config["trials"]])
    result.config = huge
    with pytest.raises(nnxp.ConfigError, match="max_parameters"):
        search.rerun(result, dict(result.records[0], sizes=[6, 200000, 200000, 3]), TRAIN,
                     VALID)


def module_initializer(rng, shape):
    return rng.standard_normal(shape) / math.sqrt(shape[-1])


@case("functions", "initializers given as `lambda`s or local functions (two such functions "
      "share a name, so two searches could share a results file)",
      "`ConfigError` asking for a function defined at module level; a module-level function "
      "is recorded as `module.qualname`, and `rerun` checks the one it is given")
def _lambdas(tmp):
    def local(rng, shape):
        return rng.standard_normal(shape)
    for fn in (lambda rng, shape: rng.standard_normal(shape), local):
        with pytest.raises(nnxp.ConfigError, match="module's top level"):
            search.grid({"sizes": SIZES, "eta": [0.1], "initializer": [fn]}, TRAIN, VALID,
                        epochs=1, mini_batch_size=10, path=tmp / "f.json")
    assert not (tmp / "f.json").exists()
    with nnxp.use_backend("numpy"):
        result = search.grid({"sizes": SIZES, "eta": [0.1], "initializer": [module_initializer]},
                             TRAIN, VALID, epochs=1, mini_batch_size=10,
                             executor=ThreadPoolExecutor(1))
    assert result.records[0]["initializer"] == f"{__name__}.module_initializer"
    with pytest.raises(nnxp.ConfigError, match="module_initializer"):
        search.rerun(result, 0, TRAIN, VALID, initializer=nnxp.initializers.he_weight)
    search.rerun(result, 0, TRAIN, VALID, initializer=module_initializer)


# -- sizes bounded before work -----------------------------------------------------------------

@case("sizes", "a grid of 1000 x 1000 x 1000 points, `random(n_trials=10**8)`, "
      "`halving(n_candidates=10**8)`",
      "`ConfigError` at once (the grid's size is a product, nothing is enumerated) with the "
      "count and the memory it would take; `max_trials=` raises the bound for a user who "
      "means it")
def _huge_counts(tmp):
    values = [float(i + 1) for i in range(1000)]
    space = {"sizes": SIZES, "eta": values, "lmbda": values, "l1": values}
    began = time.perf_counter()
    with pytest.raises(nnxp.ConfigError, match=r"1,000,000,000 trials.*TiB.*max_trials="):
        search.grid(space, TRAIN, VALID, epochs=1, mini_batch_size=10)
    with pytest.raises(nnxp.ConfigError, match=r"100,000,000 trials"):
        search.random(HSPACE, TRAIN, VALID, n_trials=10 ** 8, epochs=1, mini_batch_size=10)
    with pytest.raises(nnxp.ConfigError, match=r"100,000,000 trials"):
        search.halving(HSPACE, TRAIN, VALID, n_candidates=10 ** 8, epochs=1, mini_batch_size=10)
    assert time.perf_counter() - began < 2
    with pytest.raises(nnxp.ConfigError, match="max_trials=5"):
        _grid(max_trials=5)
    assert len(_grid(max_trials=6).records) == 6


@case("sizes", "a space with widths of 200,000 ([6, 200000, 200000, 3])",
      "`ConfigError` with the parameter count and its memory before any network is built "
      "(`max_parameters=`, 10**8 by default, overrides)")
def _huge_widths(tmp):
    with pytest.raises(nnxp.ConfigError, match=r"40,002,200,003 weights and biases.*GiB"):
        search.grid({"sizes": [[6, 9, 3], [6, 200000, 200000, 3]], "eta": [0.1]}, TRAIN, VALID,
                    epochs=1, mini_batch_size=10)
    with pytest.raises(nnxp.ConfigError, match="max_parameters=10"):
        _grid(max_parameters=10)


# -- spaces and options -----------------------------------------------------------------------

class ArrayDistribution:
    def rvs(self, random_state=None):
        return np.array([0.1, 0.2])

    def __repr__(self):
        return "ArrayDistribution()"


@case("spaces", "`eta` given as a set or a dict; a distribution whose `rvs` returns an array; "
      "an unknown `engine=`",
      "`ConfigError` up front saying what is expected (a list; one number per draw; the "
      "backend's engines), before any trial runs")
def _bad_spaces(tmp):
    for etas in ({0.1, 0.5}, {0.1: "a", 0.5: "b"}):
        for run in (lambda: search.grid({"sizes": SIZES, "eta": etas}, TRAIN, VALID, epochs=1,
                                        mini_batch_size=10),
                    lambda: search.random({"sizes": SIZES, "eta": etas}, TRAIN, VALID,
                                          n_trials=2, epochs=1, mini_batch_size=10)):
            with pytest.raises(nnxp.ConfigError, match="give a list"):
                run()
    with pytest.raises(nnxp.ConfigError, match="one number per draw"):
        search.random({"sizes": SIZES, "eta": ArrayDistribution()}, TRAIN, VALID, n_trials=2,
                      epochs=1, mini_batch_size=10)
    counting = Counting()
    with pytest.raises(nnxp.ConfigError, match="engine 'warp'"):
        _grid(executor=counting, engine="warp")
    assert counting.calls == 0


class Refusing(ThreadPoolExecutor):
    """Threads whose ``at``-th submit raises (an executor that is shut down, full, broken)."""

    def __init__(self, at):
        super().__init__(1)
        self.at, self.calls, self.futures = at, 0, []

    def submit(self, fn, *args, **kwargs):
        self.calls += 1
        if self.calls == self.at:
            wait(self.futures)
            raise RuntimeError("cannot schedule new futures after shutdown")
        self.futures.append(super().submit(fn, *args, **kwargs))
        return self.futures[-1]

    def __repr__(self):
        return "Refusing()"


@case("executors", "an executor whose `submit` raises (shut down, refusing work) in the middle "
      "of a search", "`ConfigError` naming the executor and its error; the results file keeps "
      "the groups finished before, and a resume completes the same table")
def _submit_raises(tmp):
    path = tmp / "r.json"
    with pytest.raises(nnxp.ConfigError, match=r"executor Refusing\(\).*RuntimeError"):
        _grid(path, Refusing(at=4))
    saved = json.loads(path.read_text())
    assert len(saved["records"]) == 3
    counting = Counting()
    assert _without_seconds(_grid(path, counting).records) == _without_seconds(
        _grid().records)
    assert counting.calls == 3


# -- processes ---------------------------------------------------------------------------------

def _children(pid):
    """Live (not zombie) processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry))
    return out


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


POOL_SCRIPT = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
import nnxp.search as search
from conftest import blobs

if __name__ == "__main__":
    search.grid({{"sizes": [6, 30, 3], "eta": [0.1, 0.5, 1.0, 2.0]}}, blobs(2000),
                blobs(60, seed=1), epochs=100000, mini_batch_size=10)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_the_searching_process(tmp_path, sig):
    """The default pool's workers and multiprocessing's resource tracker end when the
    searching process is killed (they used to stay, holding the data).  The script's NumPy
    search forks its workers where executors.start_method allows it (no tracker then: no
    shared buffer), else spawns them."""
    script = _script(tmp_path, "pool.py", POOL_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script)], env=_env())
    forked = sys.platform == "linux" and sys.version_info < (3, 12)
    family_size = (os.cpu_count() or 1) + (0 if forked else 1)
    try:
        # the workers, and the resource tracker (which is started first) when spawned
        _wait_for(lambda: len(_children(parent.pid)) >= family_size or
                  parent.poll() is not None, 120, "the workers to start")
        assert parent.poll() is None
        time.sleep(1.0)
        family = _children(parent.pid)
        os.kill(parent.pid, sig)
        parent.wait(30)
        _wait_for(lambda: not any(_alive(p) for p in family), 20,
                  f"the workers and the tracker {family} to end")
    finally:
        if parent.poll() is None:
            parent.kill()


case("processes", "a search holding its results file's lock forks its workers (NumPy, Linux, "
     "Python before 3.12); it releases the lock, or is SIGKILLed, while a forked child still "
     "runs",
     "the next search on the file takes the lock at once: a forked child closes its copy of "
     "the lock's descriptor, and the release unlocks every copy (else a child would keep the "
     "lock, and a resume right after a killed search would be refused) "
     "(test_a_forked_child_does_not_keep_a_search_results_lock)")(None)


case("processes", "the searching process killed with SIGKILL or SIGTERM (what `timeout` and job "
     "schedulers send) while the default pool trains",
     "its 2 workers exit within a second (each watches its parent's pid), then "
     "multiprocessing's resource tracker when they were spawned: nothing is left holding "
     "the data "
     "(test_workers_die_with_the_searching_process)")(None)


NO_GUARD = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
import nnxp.search as search
from conftest import blobs

{head}search.grid({{"sizes": [6, 9, 3], "eta": [0.1, 1.0]}}, blobs(), blobs(60, seed=1),
{indent}epochs=1, mini_batch_size=10)
{indent}print("done")
"""


@case("processes", "the README's search example pasted into a script without "
      "`if __name__ == \"__main__\":` (the default executor spawns processes, which import the "
      "script again)",
      "`ConfigError` in the parent before any process starts, naming the line and the fix; the "
      "script exits at once instead of hanging; with the guard it runs")
def _no_guard(tmp):
    bare = _script(tmp, "bare.py", NO_GUARD, head="", indent="")
    out = subprocess.run([sys.executable, str(bare)], env=_env(), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1 and "ConfigError" in out.stderr
    assert 'if __name__ == "__main__":' in out.stderr and "line 7" in out.stderr
    assert "where they start with" in out.stderr  # (it said they did, also where they fork)
    guarded = _script(tmp, "guarded.py", NO_GUARD, head='if __name__ == "__main__":\n    ',
                      indent="    ")
    out = subprocess.run([sys.executable, str(guarded)], env=_env(), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr[-2000:]


EDITED = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
import nnxp.search as search
from conftest import blobs

if __name__ == "__main__":
    search.grid({{"sizes": [6, 9, 3], "eta": [0.1, 1.0]}}, blobs(), blobs(60, seed=1),
                epochs=1, mini_batch_size=10)
    with open(__file__) as f:
        source = f.read()
    with open(__file__, "w") as f:  # edited while it runs: its lines move down
        f.write("x = 0\\n" * 40 + source)
    search.grid({{"sizes": [6, 9, 3], "eta": [0.1, 1.0]}}, blobs(), blobs(60, seed=1),
                epochs=1, mini_batch_size=10)
    print("done")
"""


@case("processes", "a guarded script edited while it runs (40 lines inserted at its top), "
      "which then starts a second search",
      "the search runs: a script whose file no longer holds the code that runs is not judged "
      "by the guard check (its line 14 was read as the unguarded `x = 0`, and a long tuning "
      "job was refused in its second search)")
def _edited_script(tmp):
    script = _script(tmp, "edited.py", EDITED)
    out = subprocess.run([sys.executable, str(script)], env=_env(), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr[-2000:]


IN_A_POOL = """
import multiprocessing, sys
sys.path[:0] = [{root!r}, {tests!r}]


def job(i):
    import nnxp.search as search
    from conftest import blobs
    try:
        search.grid({{"sizes": [6, 9, 3], "eta": [0.1, 1.0]}}, blobs(), blobs(60, seed=1),
                    epochs=1, mini_batch_size=10)
        return "ran"
    except BaseException as exc:
        return f"{{type(exc).__name__}}: {{exc}}"


if __name__ == "__main__":
    with multiprocessing.get_context(sys.argv[1]).Pool(1) as pool:
        print(pool.map(job, [0])[0])
"""


@case("processes", "a search on the default executor called in a `multiprocessing.Pool` worker "
      "(a daemonic process, which may not start processes), the pool forked or spawned",
      "`ConfigError` before anything starts, saying why and naming executors that work there "
      "(it was a bare `AssertionError` from multiprocessing with forked local workers, and a "
      "`ConfigError` about a refused task plus leaked semaphores with spawned ones)")
def _in_a_pool(tmp):
    script = _script(tmp, "pool_job.py", IN_A_POOL)
    for method in ("fork", "spawn"):
        out = subprocess.run([sys.executable, str(script), method], env=_env(),
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip().startswith("ConfigError: nnxp.search.grid starts worker "
                                             "processes, but it was called in a daemonic"), \
            out.stdout
        assert "leaked" not in out.stderr, out.stderr[-2000:]


KILL_SCRIPT = """
import sys
from concurrent.futures import ThreadPoolExecutor
sys.path[:0] = [{root!r}, {tests!r}]
import nnxp, nnxp.search as search
from conftest import blobs

if __name__ == "__main__":
    kind = sys.argv[1]
    open({ready!r}, "w").close()
    with nnxp.use_backend("numpy"):
        if kind == "grid":
            search.grid({space!r}, blobs(), blobs(60, seed=1), epochs=2, mini_batch_size=10,
                        seed=5, executor=ThreadPoolExecutor(1), path={path!r}, max_members=1)
        else:
            search.halving({hspace!r}, blobs(), blobs(60, seed=1), epochs=9, n_candidates=9,
                           mini_batch_size=10, seed=2, max_members=1,
                           executor=ThreadPoolExecutor(1), path={path!r})
"""


@case("processes", "the searching process SIGKILLed at random moments (grid and successive "
      "halving, 2 kills each), then resumed",
      "the table of the uninterrupted search; the resume runs only the trials the file does "
      "not hold (nothing lost, nothing run twice)")
def _random_kills(tmp):
    rng = np.random.default_rng(0)
    grid_file(tmp)
    halving_file(tmp)
    for kind in ("grid", "halving"):
        for k in range(2):
            path, ready = tmp / f"{kind}-{k}.json", tmp / f"ready-{kind}-{k}"
            script = _script(tmp, f"kill-{kind}-{k}.py", KILL_SCRIPT, ready=str(ready),
                             path=str(path), space=SPACE, hspace=HSPACE)
            proc = subprocess.Popen([sys.executable, str(script), kind], env=_env())
            try:
                _wait_for(ready.exists, 120, "the search to start")
                time.sleep(float(rng.uniform(0.0, 1.5)))
            finally:
                proc.kill()
                proc.wait(60)
            counting = Counting()
            if kind == "grid":
                held = len(json.loads(path.read_text())["records"]) if path.exists() else 0
                result = _grid(path, counting)
                assert counting.calls == 6 - held
                assert _without_seconds(result.records) == grid_table()
            else:
                held = sum(len(r["records"]) for r in json.loads(path.read_text())["rounds"]) \
                    if path.exists() else 0
                result = _halving(path, counting)
                assert counting.calls == 9 + 3 + 1 - held
                assert _without_seconds(result.records) == _cache["halving"][1]


# -- the generated table and the hostile-file fuzz ----------------------------------------------

@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c[3] is not None],
                         ids=[c[3].__name__.strip("_") for c in CASES if c[3] is not None])
def test_case(index, tmp_path):
    CASES[index][3](tmp_path)


def _mutations():
    from hypothesis import strategies as st
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
    value = st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
        max_leaves=6)
    return st.lists(st.tuples(st.integers(0, 10 ** 6), st.sampled_from(
        ["replace", "delete", "duplicate"]), value), min_size=1, max_size=3)


def _paths(d, prefix=()):
    """Every place in a JSON document (config excluded: another search, tested elsewhere)."""
    out = []
    items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else ()
    for key, value in items:
        if prefix == () and key in ("config", "format", "version"):
            continue
        out.append(prefix + (key,))
        out.extend(_paths(value, prefix + (key,)))
    return out


def _apply(d, edits):
    for pick, how, value in edits:
        places = _paths(d)
        if not places:
            return
        *parent_path, key = places[pick % len(places)]
        parent = d
        for step in parent_path:
            parent = parent[step]
        if how == "replace":
            parent[key] = value
        elif how == "delete":
            del parent[key]
        elif isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[key])))
        else:
            parent[f"{key}-copy"] = value


def test_edited_results_files_meet_only_nnxp_errors(tmp_path):
    """Hypothesis edits a finished search's results file anywhere (values replaced by any JSON,
    keys deleted, entries duplicated): resuming raises only NNXPErrors and leaves the file
    untouched, or gives the uninterrupted table without running anything (seconds aside)."""
    from hypothesis import HealthCheck, given, settings

    path = grid_file(tmp_path)
    original = json.loads(path.read_text())

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(_mutations())
    def check(edits):
        d = json.loads(json.dumps(original))
        _apply(d, edits)
        path.write_text(json.dumps(d))
        before = path.read_bytes()
        counting = Counting()
        try:
            result = _grid(path, counting)
        except nnxp.NNXPError:
            assert path.read_bytes() == before
            assert counting.calls == 0
            return
        assert counting.calls == 0 or all(r["status"] != "lost" for r in result.records)
        assert _without_seconds(result.records) == grid_table()

    check()


def test_edited_halving_files_meet_only_nnxp_errors(tmp_path):
    """The same for an interrupted successive-halving search's results file (its rounds,
    histories and checkpoint digests): only NNXPErrors, the file and the checkpoints
    untouched, or the uninterrupted table."""
    from hypothesis import HealthCheck, given, settings

    path = halving_file(tmp_path)
    original = json.loads(path.read_text())
    folder = Path(f"{path}.trials")
    files = {p.name: p.read_bytes() for p in folder.iterdir()}

    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(_mutations())
    def check(edits):
        d = json.loads(json.dumps(original))
        _apply(d, edits)
        path.write_text(json.dumps(d))
        for p in folder.iterdir():
            p.unlink()
        for name, raw in files.items():
            (folder / name).write_bytes(raw)
        before = path.read_bytes()
        try:
            result = _halving(path)
        except nnxp.NNXPError:
            assert path.read_bytes() == before
            assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
            return
        assert _without_seconds(result.records) == _cache["halving"][1]

    check()


def test_the_documented_search_table_is_current():
    text = PAGE.read_text()
    assert BEGIN in text and END in text, "run: python tests/test_search_hostile.py --write"
    body = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert body == table(), "run: python tests/test_search_hostile.py --write"


def table() -> str:
    lines = ["| area | bad input or fault | what nnxp does |", "| --- | --- | --- |"]
    lines += [f"| {area} | {what} | {outcome} |" for area, what, outcome, _ in CASES]
    return "\n".join(lines)


SECTION = """
## Search

Results files, trial checkpoints, sizes, processes and executors of `nnxp.search`, tried as a
hostile reviewer would. Generated from the cases of `tests/test_search_hostile.py` (`python
tests/test_search_hostile.py --write`; a test fails when this table and the cases differ).
Worker faults are also in `tests/test_search_executors.py` (a killed pool worker, a dead Dask
worker, a lost group retried, a Ctrl-C resumed).

"""


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    text = PAGE.read_text()
    if BEGIN not in text:
        text = text.rstrip("\n") + "\n" + SECTION + BEGIN + "\n" + END + "\n"
    head, rest = text.split(BEGIN, 1)
    PAGE.write_text(head + BEGIN + "\n" + table() + "\n" + END + rest.split(END, 1)[1])
    print(f"wrote {len(CASES)} search cases to {PAGE}")
