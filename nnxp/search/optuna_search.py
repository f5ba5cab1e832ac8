"""Optuna's samplers and pruners on nnxp's search driver: each round asks Optuna for a batch of
trials, trains those that share a shape as populations, reports every epoch, lets the
study's pruner freeze members, and tells the results.

    optuna(space, training_data, evaluation_data, *, n_trials, epochs, mini_batch_size,
           study=None, batch=16, executor=None, seed=0, path=None, sampler=None, pruner=None,
           prune_every=None, **options) -> SearchResult        (with ``.study``, ``.budget``)

``options`` are those of every search (nnxp.search's docstring: max_members, retries,
progress, training_subset, validation_subset, early_stopping, schedule, monitor_every,
monitor_subset, backend, engine, max_trials, max_parameters, keep).

Space.  nnxp's space dict (space.py), translated to ``trial.suggest_*`` in the dict's order:
a pair ``(low, high)`` or ``loguniform(low, high)`` is ``suggest_float(name, low, high,
log=True)`` for eta, lmbda and l1 (``uniform`` and momentum's pair: ``log=False``; another
tuple for these four is refused, as grid and random refuse it); a list
or ``choice`` is ``suggest_categorical`` over labels (numbers and strings as they are, a
network's sizes as "[784, 30, 10]", a layered architecture by its label (architectures.py:
never parsed back, the space's own objects are what run), a function or class as "module.qualname", another object
by its repr); a single value is fixed (not suggested).  A scipy distribution cannot be
translated (a ConfigError says so).  Or ``space`` is a define-by-run function
``space(trial) -> dict`` (at a module's top level: its name and its source identify the
search, space.source_digest: a function edited between a search and its resume is refused,
as its points would be read back through the new code; the functions it calls are not
followed) that calls ``trial.suggest_*`` and returns a point with the same names (each point
checked as a space of its own: space.check_space, so a point made only of layer objects names
no activation or initializer; the first point is made before anything trains).

Rounds.  A round asks ``min(batch, n_trials - trials the study has)`` trials (``study.ask``;
one trial after another, so the sampler sees the earlier ones of the round as running), makes
each an nnxp trial (trial number = Optuna's trial number; network seed from the search's
seed and that number: trials.py), and trains them in chunks of ``prune_every`` epochs:

  - every chunk sends the live trials, grouped by shape into populations, to the executor;
  - when every group of the chunk is back, the trials are taken in number order: each reports
    its new epochs' validation accuracy (``trial.report(accuracy, step=epoch)``, 0-based
    epochs, accuracy a fraction of the validation set), then asks ``trial.should_prune()``;
  - a pruned trial is frozen where it stands (its record's status is "pruned", its epochs
    those it trained) and told ``PRUNED``; the others continue, in the next chunk, from
    their exact state (worker.MemberState: parameters, optimizer state, trackers, history,
    place in the shuffling stream), so a trial is bit for bit the same network however many
    chunks it was trained in and whoever trained beside it;
  - after the last chunk (or an early stop, or a divergence) a trial is told ``COMPLETE``
    with its best validation accuracy (its record's ``best_accuracy``); an error or a lost
    group is told ``FAIL``.

A sampler that stops the study (``GridSampler`` once every point of its grid was tried:
``study.stop()``) ends the search after the round, as it ends ``study.optimize``, with fewer
than ``n_trials`` trials.

The study lives in the searching process; workers only train.  So the pruner decides between
chunks, on every executor alike: with ``prune_every=1`` (the default when the study has a
pruner other than ``NopPruner``) after every epoch; with ``NopPruner`` a trial trains all its
epochs in one task and its epochs are reported before it is told.  Because a chunk's results
are taken in trial order once all are back, the pruner's decisions do not depend on which
worker finished first.

Storage.  ``path`` keeps the study in Optuna's journal file there (JournalStorage with a
JournalFileBackend; a storage URL such as ``sqlite:///x.db`` is refused: it goes to a study
of the caller's, below), under the study name "nnxp" (an existing file there must be an Optuna
journal throughout, one known operation per line and the last line complete, else a DataError
names the line and the file is left as it is); ``study`` is any ``optuna.Study`` the caller
made (any storage: an RDB, a journal, Dask's; then ``path``, ``sampler`` and ``pruner`` are not
given).  Without either, an in-memory study with ``sampler`` (default: a seeded ``TPESampler``, below)
and ``pruner`` (default: Optuna's, ``MedianPruner()``), direction "maximize".  ``n_trials`` is
the study's total: the trials it already holds count (a resumed search, or another process on
the same storage), a failed trial (an error) counts, a trial abandoned by a killed search does
not, and neither does a waiting one (an enqueued point, or the re-enqueued point of an
abandoned trial): the search asks it, as it asks the sampler's.  The search's description (space, seed, epochs, options, data fingerprint, backend) is the
study's user attribute "nnxp"; a study describing another search is refused, naming what
differs, and so is one without that description that holds trials other than waiting ones
(``enqueue_trial``'s points are taken first): another use's trials.  Each finished trial
holds its history and outcome as its user attribute "nnxp"; the
table is read back from the study and checked (its points made again from the trial's Optuna
parameters through the space, its record recomputed from its history: saved.py's checks).

Resume.  Run the same call again: finished trials are read from the storage, never trained
again.  A search interrupted by an exception (Ctrl-C) tells its unfinished trials ``FAIL`` and
enqueues their parameters again.  A search killed outright leaves them ``RUNNING``; with
``path``, each search holds an OS lock on its own file in ``<path>.drivers/`` while it runs and
names each trial with that file's name the moment it asks it (user attribute "nnxp_driver"),
so the next search on the path finds the trials of a search whose lock is free (or that carry
no name a second after they were seen), tells them ``FAIL`` and enqueues their parameters
(they run again, under new trial numbers), and removes the lock files of searches that are
gone (one killed between asking a trial and naming it leaves a file no trial points at).  So a journal given to nnxp is for nnxp's searches.
With a storage of your own, a killed process's trials stay ``RUNNING`` (Optuna's rule
without heartbeats) and count towards ``n_trials``.  Two searches on one storage share the
work: each asks what is left of ``n_trials``; two rounds asked at the same moment can
overshoot it by up to one batch.

Reproducible: with one searching process and the default sampler, the same seed gives the
same table (every field but ``seconds``; bit for bit on NumPy), whatever the executor.  The
default sampler is ``TPESampler`` seeded by the seed when the study is empty, else by the seed
and the number of trials the study holds (a resumed search does not draw the first points
again); a search that finds another one alive on its journal (``<path>.drivers/``) seeds it
with its own name too, so that two searches started together do not draw the same points.
Not reproducible: a resumed search against the uninterrupted one (Optuna's samplers keep
their random state in memory, so the trials asked after the resume differ), and several
processes on one storage (which asks first depends on timing).

optuna is optional (``pip install -r backends/optuna.txt``, or the ``optuna`` extra), imported
only when a search starts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import numbers
import os
import time
import uuid

import numpy as np

from .. import checks
from ..errors import ConfigError, DataError, FileError, NNXPError
from ..files import check_writable
from ..network import has_layers
from ..plan import check_every
from .architectures import is_architecture, trial_spec
from .architectures import label as architecture_label
from . import saved as saved_file
from .dispatch import Progress, run_tasks
from .lock import _try_lock
from .results import SearchResult, make_record
from .run import Search, limits, unknown_options
from .session import is_url
from .space import (LOG_RANGES, architectures, check_count, check_range, check_space,
                    check_widths, choice, function_name, loguniform, normalize, source_digest,
                    uniform)
from .trials import Trial, check_seed, make_trials, trial_seed

__all__ = ["optuna", "MissingOptuna"]

STUDY_NAME = "nnxp"
INSTALL = "pip install -r backends/optuna.txt"


class MissingOptuna(NNXPError, ModuleNotFoundError):
    """``nnxp.search.optuna`` where optuna is not installed."""


def require_optuna():
    """The optuna package, or MissingOptuna saying what to install."""
    try:
        import optuna as library
    except ImportError as exc:
        raise MissingOptuna(f"nnxp.search.optuna needs optuna, which is not installed here "
                            f"({checks.clip(exc)}); install it from the nnxp checkout with: "
                            f"{INSTALL} (or pip install -e '.[optuna]')") from None
    return library


# -- the space, as suggest_* calls -------------------------------------------------------------

def _label(value):
    if value is None or isinstance(value, (str, bool, numbers.Real)):
        return value.item() if hasattr(value, "item") else value
    if isinstance(value, (list, tuple)) and all(isinstance(v, numbers.Integral) for v in value):
        return json.dumps([int(v) for v in value])
    if has_layers(value):  # a layered architecture: its label (architectures.py)
        return architecture_label(value)
    if hasattr(value, "__qualname__"):
        return function_name(value, f"the choice {checks.show(value)}")
    if type(value).__repr__ is object.__repr__:  # "<... object at 0x...>" differs per process:
        # named by its class (CrossEntropyCost() as network2 writes it), so a search resumes
        return function_name(type(value), f"the choice {checks.show(value)}") + "()"
    return repr(value)


def _categorical(name, values):
    values = list(values)
    if not values:
        raise ConfigError(f"optuna: {name} lists no values")
    labels = [_label(v) for v in values]
    table = {}
    for label, value in zip(labels, values):
        key = (type(label).__name__, label)
        if key in table:
            raise ConfigError(f"optuna: {name} lists {checks.show(label)} twice (Optuna names "
                              "a choice by its label)")
        table[key] = value

    def suggest(trial):
        label = trial.suggest_categorical(name, labels)
        return table[(type(label).__name__, label)]
    return suggest, ["categorical", labels], values


BUILT = ("activation", "cost", "initializer")  # what a layered probe's layers are checked with


def _suggester(name, values):
    """(suggest(trial) -> value, description, the values it can give or the range's ends)
    for one entry of a space dict."""
    if isinstance(values, (set, frozenset, dict)) or hasattr(values, "rvs"):
        what = "a distribution with rvs()" if hasattr(values, "rvs") else \
            f"a {type(values).__name__}"
        raise ConfigError(f"optuna: {name} is {what} ({checks.show(values)}); Optuna needs a "
                          f"list of choices, a pair (low, high), nnxp.search.loguniform / "
                          f"uniform, or a define-by-run function space(trial) -> dict")
    if name == "sizes" and is_architecture(values):
        return (lambda trial: list(values)), ["fixed", _label(values)], [list(values)]
    if isinstance(values, tuple) and len(values) == 2 and \
            all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        if name in LOG_RANGES:
            values = loguniform(*values)
        elif name == "momentum":
            values = uniform(*values)
        else:
            raise ConfigError(f"optuna: a range (low, high) is for eta, lmbda, l1 and "
                              f"momentum; give {name} as a list of choices")
    if isinstance(values, (loguniform, uniform)):
        check_range("optuna", name, values)
        low, high, log = float(values.low), float(values.high), isinstance(values, loguniform)
        if name == "momentum" and high >= 1:  # random draws below high; Optuna may draw it
            raise ConfigError(f"optuna: momentum's range {checks.show((values.low, values.high))}"
                              f" reaches 1, which Optuna can draw (its ranges include their "
                              f"upper end) and a momentum must stay below; give a range below "
                              f"1, e.g. (0.0, 0.99)")
        return (lambda trial: trial.suggest_float(name, low, high, log=log)), \
            ["float", low, high, log], [low, high]
    if isinstance(values, choice):
        return _categorical(name, values.values)
    if isinstance(values, tuple) and name in LOG_RANGES + ("momentum",):
        raise ConfigError(f"optuna: {name} is a tuple of {len(values)} values "
                          f"{checks.show(values)}; a range is a pair (low, high) of numbers, "
                          f"choices are a list (as nnxp.search.grid and random read them)")
    if isinstance(values, (list, tuple)):
        return _categorical(name, values)
    return (lambda trial: values), ["fixed", _label(values)], [values]


class Space:
    """A space dict or a define-by-run function, as ``point(trial) -> dict``."""

    def __init__(self, space):
        if callable(space) and not isinstance(space, dict):
            self.function = space
            self.description = {"function": function_name(space, "the space function"),
                                "source": source_digest(space)}
            self.entries = None
        else:
            check_space(space, "optuna")
            self.function = None
            self.entries = [(name, *_suggester(name, values)) for name, values in
                            space.items()]
            self.description = {name: d for name, _, d, _ in self.entries}
            self.space = space

    def point(self, trial) -> dict:
        if self.function is None:
            return {name: suggest(trial) for name, suggest, _, _ in self.entries}
        point = self.function(trial)
        if not isinstance(point, dict):
            raise ConfigError(f"optuna: the space function {self.description['function']} "
                              f"returned {checks.show(point)}; it must return a dict such as "
                              "{'sizes': [784, 30, 10], 'eta': trial.suggest_float('eta', "
                              "0.01, 10, log=True)}")
        check_space(point, f"optuna: the point of {self.description['function']}")
        return point

    def check(self, mini_batch_size) -> None:
        """Every value a space dict can give is one nnxp takes (space.normalize), before
        Optuna asks anything: each in turn, the other entries at their first value."""
        if self.function is not None:
            return
        first = {name: values[0] for name, _, _, values in self.entries}
        for name, _, _, values in self.entries:
            for value in values:
                normalize({**first, name: value}, mini_batch_size)

    def probes(self, library, training_data, evaluation_data, mini_batch_size) -> list:
        """Points that fix what the search's host data needs (input and output widths, the
        float type): a dict's every sizes and dtype; a function's first point, on the float
        type of the data given (float64 unless both sets are float32 NumPy arrays).  A layered
        architecture's probe takes the space's first activation, cost and initializer too
        (its layers are checked with them: a Softmax layer needs the log-likelihood cost)."""
        if self.function is None:
            sizes = architectures(self.space["sizes"], "optuna") or [self.space["sizes"]]
            dtypes = self.space.get("dtype", "float32")
            dtypes = list(dtypes.values) if isinstance(dtypes, choice) else \
                list(dtypes) if isinstance(dtypes, (list, tuple)) else [dtypes]
            batch = {} if "mini_batch_size" in self.space else {"mini_batch_size": mini_batch_size}
            first = {name: values[0] for name, _, _, values in self.entries if name in BUILT}
            return [{"sizes": s, "dtype": d, "eta": 1.0, **batch,
                     **(first if has_layers(s) else {})} for s in sizes for d in dtypes]
        scratch = library.create_study(sampler=library.samplers.RandomSampler(seed=0))
        point = self.point(scratch.ask())
        single = all(isinstance(d, tuple) and isinstance(d[0], np.ndarray) and
                     d[0].dtype == np.float32 for d in (training_data, evaluation_data))
        built = {k: v for k, v in point.items() if k in BUILT and has_layers(point["sizes"])}
        return [{"sizes": point["sizes"], "dtype": "float32" if single else "float64",
                 "eta": 1.0, "mini_batch_size": 1, **built}]


# -- the study -----------------------------------------------------------------------------------

def _study(library, study, path, sampler, pruner, seed):
    if study is not None:
        if not isinstance(study, library.Study):
            url = " (a storage URL goes to optuna.create_study(storage=...))" \
                if isinstance(study, str) else ""
            raise ConfigError(f"study must be an optuna.Study (optuna.create_study(direction="
                              f"'maximize', ...)), got {checks.show(study)}{url}")
        given = [n for n, v in (("path", path), ("sampler", sampler), ("pruner", pruner))
                 if v is not None]
        if given:
            raise ConfigError(f"give either study= or {', '.join(given)}=, not both: a study "
                              f"brings its own storage, sampler and pruner")
        if len(study.directions) != 1 or \
                study.direction != library.study.StudyDirection.MAXIMIZE:
            raise ConfigError(f"the study must maximize one value (the validation accuracy); "
                              f"it has directions {[d.name for d in study.directions]}")
        return study
    for name, value, kind in (("sampler", sampler, library.samplers.BaseSampler),
                              ("pruner", pruner, library.pruners.BasePruner)):
        if value is not None and not isinstance(value, kind):
            raise ConfigError(f"{name} must be an optuna {kind.__name__[4:].lower()} "
                              f"(optuna.{name}s.{kind.__name__}), got {checks.show(value)}")
    storage = None
    if path is not None:
        if os.path.isdir(path):
            raise ConfigError(f"path {path!r} is a folder; give the journal file's path")
        _check_journal(path)
        journal = library.storages.journal
        try:  # the folder is made here, as every save of nnxp makes it (files.py)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            storage = journal.JournalStorage(journal.JournalFileBackend(path))
        except OSError as exc:
            raise FileError(f"cannot open the optuna journal at {path!r}: "
                            f"{exc.strerror or exc}") from exc
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # Optuna replays every operation when it opens the file: an edited field
            raise DataError(f"{path!r} is not a journal of Optuna studies that nnxp can use: "
                            f"an operation in it does not replay ({type(exc).__name__}: "
                            f"{checks.clip(exc)}); give another path") from None
    try:
        study = library.create_study(
            storage=storage, sampler=sampler or library.samplers.RandomSampler(
                seed=_sampler_seed(seed, 0)),
            pruner=pruner, study_name=STUDY_NAME, direction="maximize", load_if_exists=True)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path!r} is not a journal of Optuna studies that nnxp can use "
                        f"({type(exc).__name__}: {checks.clip(exc)}); give another path") from None
    if sampler is None:  # seeded by the search's seed and the trials the study holds
        held = len(study.get_trials(deepcopy=False))
        study.sampler = library.samplers.TPESampler(seed=_sampler_seed(seed, held))
    return study


def _sampler_seed(seed, held) -> int:
    """The default sampler's seed: the search's seed for an empty study, else one drawn from
    the seed and the number of trials the study holds (a resumed search does not draw the
    first points again); drawn too for a seed Optuna refuses (2**32 and above)."""
    if held == 0 and seed < 2 ** 32:
        return seed
    return int(np.random.SeedSequence(seed, spawn_key=(3, held)).generate_state(1)[0])


def _journal_path(path):
    """``path`` unless it is a storage URL (``sqlite:///...``, ``postgresql://...``), which
    would otherwise name a journal in a folder "sqlite:" of the working directory."""
    if is_url(path):
        raise ConfigError(f"path is the search's journal file, not a storage URL; got "
                          f"{checks.show(path)}: for a database storage pass study=optuna."
                          f"create_study(storage={checks.show(path)}, study_name=..., "
                          f"direction='maximize')")
    return path


def _check_journal(path) -> None:
    """An existing file at ``path`` must be an Optuna journal: one JSON operation with a known
    ``op_code`` per line, the last line complete.  Optuna would append to any file (gluing its
    next operation to a line cut short, which spoils the journal for good) and fails deep
    inside on a line it cannot apply; this one may be something else, or edited."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    with open(path, "rb") as f:
        first = f.readline(1 << 16)
    if _operation(first) is None:
        raise DataError(f"{path!r} is not an Optuna journal (its first line is "
                        f"{checks.show(first[:80])}); nnxp leaves it as it is: give another "
                        "path for the search's journal")
    for attempt in range(2):
        with open(path, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        if lines[-1].endswith(b"\n"):
            break
        if attempt == 0:
            time.sleep(1.0)  # another search on the journal may be writing its last line
    else:
        raise DataError(f"{path!r}: its last line (line {len(lines)}) is cut short (a process "
                        f"killed while writing it?): {checks.show(lines[-1][:80])}; nnxp leaves "
                        "the journal as it is: remove that line to resume from it")
    for number, line in enumerate(lines, start=1):
        if _operation(line) is None:
            raise DataError(f"{path!r}: line {number} is not an Optuna journal operation "
                            f"({checks.show(line[:80])}); nnxp leaves the journal as it is: "
                            "give another path, or remove that line")


def _known_operations() -> set | None:
    try:
        from optuna.storages.journal._storage import JournalOperation
    except ImportError:  # another optuna: its operation codes are not known here
        return None
    return {op.value for op in JournalOperation}


def _operation(line):
    """The journal operation on ``line`` (bytes), or None when it is not one."""
    try:
        op = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(op, dict):
        return None
    code, known = op.get("op_code"), _known_operations()
    if isinstance(code, bool) or not isinstance(code, int) or \
            (known is not None and code not in known):
        return None
    return op


def _describe(search, space, mini_batch_size, prune_every) -> dict:
    config = {k: v for k, v in search.config.items() if k not in ("trials", "varied")}
    return json.loads(json.dumps({**config, "space": space.description,
                                  "mini_batch_size": mini_batch_size,
                                  "prune_every": prune_every}))


def _adopt(study, library, config) -> None:
    """The study describes this search, or nothing yet and holds no trial but those waiting
    (``study.enqueue_trial``: points to try first): else a ConfigError.  Another use's
    trials would count towards ``n_trials`` and feed the sampler, and are not in the table."""
    old = study.user_attrs.get("nnxp")
    if old is None:
        waiting = library.trial.TrialState.WAITING
        other = [t for t in study.get_trials(deepcopy=False) if t.state != waiting]
        if other:
            names = sorted({name for t in other for name in t.params})
            raise ConfigError(f"the study {study.study_name!r} holds {len(other)} trials of "
                              f"something other than an nnxp search (parameters "
                              f"{checks.show(names)}); they would count towards n_trials and "
                              f"guide the sampler: give a new study (optuna.create_study("
                              f"direction='maximize', ...)); study.enqueue_trial(...) points "
                              f"to try first are welcome")
        study.set_user_attr("nnxp", config)
    elif old != _older(old, config):
        if isinstance(old, dict) and old.get("space", {}) != config["space"] and \
                {**old, "space": None} == {**config, "space": None} and \
                isinstance(old["space"], dict) and "source" in old["space"] and \
                old["space"].get("function") == config["space"].get("function"):
            raise ConfigError(f"the study {study.study_name!r} holds a search whose space "
                              f"function {config['space']['function']} had other source code "
                              f"(its trials were drawn by the old code, and would be read back "
                              f"through the new one): resume with the function as it was, or "
                              f"give another path or study")
        differ = sorted(k for k in set(config) | set(old if isinstance(old, dict) else {})
                        if not isinstance(old, dict) or old.get(k) != config.get(k))
        raise ConfigError(f"the study {study.study_name!r} holds another search (it differs "
                          f"in {', '.join(differ)}); resume with the same space, data, seed "
                          "and options, or give another path or study")


def _older(old, config) -> dict:
    """``config`` as an nnxp older than the space function's source digest described it, when
    ``old`` is such a description (its search resumes; an edit goes unseen, as it did)."""
    space = old.get("space") if isinstance(old, dict) else None
    if isinstance(space, dict) and "function" in space and "source" not in space:
        return {**config, "space": {"function": config["space"].get("function")}}
    return config


def drivers_folder(path) -> str:
    """``<path>.drivers``, of the journal's real path: one folder whatever link names it (a
    search killed while using a link is found by a search given the file's own name)."""
    return f"{os.path.realpath(path)}.drivers"


class Drivers:
    """With a journal ``path``: this search's lock file in ``<path>.drivers/`` (held while it
    runs, named in its trials' "nnxp_driver"), and the trials of dead searches retried."""

    def __init__(self, path):
        self.folder = None if path is None else drivers_folder(path)
        self.token, self.fd = None, None
        if self.folder is not None:
            try:
                os.makedirs(self.folder, exist_ok=True)
            except OSError as exc:
                raise FileError(f"cannot make the folder of the searches' locks "
                                f"{self.folder!r}: {exc.strerror or exc}") from None
            self.token = uuid.uuid4().hex
            self.fd = os.open(self._file(self.token), os.O_RDWR | os.O_CREAT, 0o666)
            if not _try_lock(self.fd, self._file(self.token)):  # pragma: no cover - a new name
                raise ConfigError(f"cannot lock {self._file(self.token)!r}")

    def _file(self, token):
        return os.path.join(self.folder, f"{token}.lock")

    def retry_dead(self, library, study, grace=1.0) -> None:
        """Trials left RUNNING by a search whose lock is free, or without a search's name
        ``grace`` seconds after they were seen (a search names its trial the moment it asks
        it): told FAIL, asked again."""
        if self.folder is None:
            return
        running = library.trial.TrialState.RUNNING
        now = study.get_trials(deepcopy=False, states=(running,))
        tokens = {t.user_attrs.get("nnxp_driver") for t in now} - {self.token}
        if None in tokens:
            time.sleep(grace)
            unnamed = {t.number for t in now if "nnxp_driver" not in t.user_attrs}
            for t in study.get_trials(deepcopy=False, states=(running,)):
                if t.number in unnamed and "nnxp_driver" not in t.user_attrs:
                    _abandon(study, library, t.number, t.params)
        for token in sorted(tokens - {None}):
            if not (isinstance(token, str) and token.isalnum()):
                continue
            try:
                fd = os.open(self._file(token), os.O_RDWR)
            except OSError:
                continue  # gone: its trials were handled by the search that removed it
            try:
                if not _try_lock(fd, self._file(token)):
                    continue  # alive
                for t in study.get_trials(deepcopy=False, states=(running,)):
                    if t.user_attrs.get("nnxp_driver") == token:
                        _abandon(study, library, t.number, t.params)
                os.unlink(self._file(token))
            finally:
                os.close(fd)
        self._remove_orphans(grace)

    def _others(self):
        """The lock files of the other searches in the folder."""
        for name in sorted(os.listdir(self.folder)):
            token = name[:-len(".lock")] if name.endswith(".lock") else ""
            if token.isalnum() and token != self.token:
                yield self._file(token)

    def _remove_orphans(self, grace) -> None:
        """The files of searches that ended without removing theirs and hold no RUNNING trial
        (killed between asking a trial and naming it: that trial was retried above as
        unnamed): removed when free.  A file younger than ``grace`` seconds is left alone: its
        search may be starting (it locks its file at once)."""
        for path in self._others():
            try:
                if time.time() - os.stat(path).st_mtime < grace:
                    continue
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue
            try:
                if _try_lock(fd, path):
                    os.unlink(path)
            finally:
                os.close(fd)

    def others_alive(self, young=1.0) -> bool:
        """Whether another search on the journal runs now: a lock file of another that is
        held, or younger than ``young`` seconds (a search locks its file as it makes it)."""
        for path in self._others() if self.folder is not None else ():
            try:
                if time.time() - os.stat(path).st_mtime < young:
                    return True
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue
            try:
                if not _try_lock(fd, path):
                    return True
            finally:
                os.close(fd)  # (a lock taken on a dead search's file goes with its descriptor)
        return False

    def close(self) -> None:
        """The search's end: its file removed, then its lock dropped (no trial of it is
        RUNNING any more: each was told or abandoned)."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._file(self.token))
            os.close(self.fd)
            self.fd = None


def _tell(study, trial, *args, **kwargs) -> bool:
    """``study.tell``; True when the sampler asked the study to stop (GridSampler once its grid
    is done calls ``study.stop()``, which Optuna refuses outside ``optimize`` with a
    RuntimeError, after the trial's state is stored): the search then asks no more trials,
    as ``optimize`` would end."""
    try:
        study.tell(trial, *args, **kwargs)
    except RuntimeError as exc:
        if "Study.stop" not in str(exc):
            raise
        return True
    return False


def _abandon(study, library, number, params, again=True) -> None:
    """A trial that will not finish: told FAIL, its parameters enqueued to run again."""
    _tell(study, number, state=library.trial.TrialState.FAIL, skip_if_finished=True)
    if again and params:
        study.enqueue_trial(params, user_attrs={"nnxp_retry_of": number})


def _grid_started(study, library) -> bool:
    """True when the study's sampler is a GridSampler and every point of its grid is held by a
    trial, finished or running: another ask would draw a point again (Optuna's GridSampler
    repeats points asked while others run, as a round's asks are)."""
    sampler = study.sampler
    total = len(getattr(sampler, "_all_grids", ()))
    if not isinstance(sampler, library.samplers.GridSampler) or not total:
        return False
    State = library.trial.TrialState
    held = {t.system_attrs.get("grid_id") for t in study.get_trials(deepcopy=False)
            if t.state in (State.RUNNING, State.COMPLETE, State.PRUNED)}
    return len(held - {None}) >= total


def _counted(study, library) -> int:
    """Trials of the study that count towards n_trials (see the module docstring): not the
    waiting ones (``enqueue_trial``'s points, and the re-enqueued points of interrupted or
    abandoned trials), which the next asks take first."""
    State = library.trial.TrialState
    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.state != State.WAITING
               and (t.state != State.FAIL or "nnxp" in t.user_attrs))


# -- the rounds ----------------------------------------------------------------------------------

class Round:
    """One batch of asked trials, trained chunk by chunk (see the module docstring)."""

    def __init__(self, run, asked):
        self.run, self.asked = run, asked
        self.trials = {}
        self.finished = set()

    def make_trials(self) -> None:
        run = self.run
        for ot in self.asked:
            try:
                point = run.space.point(ot)
            except ValueError as exc:  # Optuna's, for a point enqueued outside the space
                if isinstance(exc, NNXPError):
                    raise
                given = next((t.system_attrs.get("fixed_params", t.params)  # enqueued
                              for t in run.study.get_trials(deepcopy=False)
                              if t.number == ot.number), ot.params)
                raise ConfigError(f"trial {ot.number} of the study ({checks.show(given)}, "
                                  f"an enqueued point?) is not a point of this space: "
                                  f"{checks.clip(exc)}; study.enqueue_trial takes each "
                                  f"choice by its label (a network's sizes as the text "
                                  f"'[784, 30, 10]') and values within the ranges") from None
            params, build = normalize(point, run.mini_batch_size)
            trial = Trial(ot.number, params, build, trial_seed(run.seed, ot.number))
            run.check_trial(trial)
            self.trials[ot.number] = trial
            run.search.trials[ot.number] = trial

    def train(self) -> None:
        run, live, states = self.run, sorted(self.trials), {}
        reported = dict.fromkeys(live, 0)
        seconds = dict.fromkeys(live, 0.0)
        ends = list(range(run.prune_every, run.epochs, run.prune_every)) + [run.epochs]
        for end in ends:
            last = end == run.epochs
            outcomes = run.train_chunk([self.trials[n] for n in live], end,
                                       states if states else None, keep_state=not last)
            still = []
            for number in live:
                outcome = outcomes[number]
                seconds[number] += float(outcome.get("seconds") or 0.0)
                outcome = dict(outcome, seconds=seconds[number])
                if outcome.get("error") is not None or outcome.get("history") is None:
                    self.finish(number, outcome)
                    continue
                records = outcome["history"]["records"]
                ot = self.by_number(number)
                for r in records[reported[number]:]:
                    if not r.get("diverged"):
                        ot.report(r["evaluation_accuracy"] / run.n_evaluation, r["epoch"])
                reported[number] = len(records)
                if last or outcome.get("stop_reason"):
                    self.finish(number, outcome)
                elif ot.should_prune():
                    reason = (f"pruned by {type(run.study.pruner).__name__} after epoch "
                              f"{records[-1]['epoch']}")
                    self.finish(number, outcome, pruned=reason)
                else:
                    states[number] = outcome["state"]
                    still.append(number)
            live = still
            states = {n: states[n] for n in live}
            if not live:
                break

    def by_number(self, number):
        return next(t for t in self.asked if t.number == number)

    def finish(self, number, outcome, pruned=None) -> None:
        run, library = self.run, self.run.library
        ot, trial = self.by_number(number), self.trials[number]
        stored = {"history": outcome.get("history"), "stop_reason": outcome.get("stop_reason"),
                  "error": outcome.get("error"), "seconds": float(outcome.get("seconds") or 0),
                  "lost": bool(outcome.get("lost")), "pruned": pruned,
                  "point": _point_digest(ot.params)}  # what was trained: an edit shows
        record = _record(trial, stored, run.n_evaluation)
        ot.set_user_attr("nnxp", stored)
        State = library.trial.TrialState
        if pruned is not None:
            told = _tell(run.study, ot, state=State.PRUNED)
        elif record["best_accuracy"] is None or record["status"] in ("error", "lost"):
            told = _tell(run.study, ot, state=State.FAIL)
        else:
            told = _tell(run.study, ot, record["best_accuracy"])
        run.stopped = run.stopped or told
        self.finished.add(number)
        run.records[number] = record
        params = outcome["state"].params if outcome.get("state") is not None else \
            outcome.get("params")
        run.search.keep_trained(number, params, run.records)
        run.progress.update(1, max((r["best_accuracy"] for r in run.records.values()
                                    if r["best_accuracy"] is not None), default=None))

    def abandon(self, again=True) -> None:
        """After an exception: the trials not told yet are told FAIL and (``again``)
        enqueued to run again."""
        for ot in self.asked:
            if ot.number not in self.finished:
                _abandon(self.run.study, self.run.library, ot.number, ot.params, again)


def _record(trial, stored, n_evaluation) -> dict:
    record = make_record(trial, stored, n_evaluation)
    if stored.get("pruned"):
        record["status"], record["stop_reason"] = "pruned", stored["pruned"]
    return record


class OptunaRun:
    """One call of ``optuna``: the study, the nnxp Search, and the rounds."""

    def __init__(self, library, study, search, space, *, seed, epochs, mini_batch_size,
                 prune_every, drivers, width, max_parameters):
        self.library, self.study, self.search, self.space = library, study, search, space
        self.seed, self.epochs, self.mini_batch_size = seed, epochs, mini_batch_size
        self.prune_every, self.drivers, self.width = prune_every, drivers, width
        self.max_parameters = max_parameters
        self.n_evaluation = search.n_evaluation
        self.records, self.rounds = {}, 0
        self.stopped = False  # the sampler stopped the study (_tell)
        self.labels = {}  # a layered architecture's label -> its entries
        self.progress = None

    def check_trial(self, trial) -> None:
        sizes, dtype = trial.params["sizes"], trial.params["dtype"]
        widths = trial_spec(trial).sizes
        if isinstance(sizes, str) and \
                self.labels.setdefault(sizes, trial.build["sizes"]) != trial.build["sizes"]:
            raise ConfigError(f"optuna: trial {trial.number}'s architecture has the label "
                              f"{checks.show(sizes)} of another (their layers differ only in "
                              "what the label leaves out, such as initializers)")
        if (widths[0], widths[-1]) != self.width[:2] or \
                (dtype == "float64" and self.width[2] != "float64"):
            raise ConfigError(
                f"optuna: trial {trial.number}'s point has sizes {sizes} and dtype {dtype}, but "
                f"the search's data is {self.width[0]} inputs, {self.width[1]} outputs, "
                f"{self.width[2]} (a define-by-run space must keep the data's widths, and "
                "float64 needs float64 data)")
        check_widths([trial], self.max_parameters)
        check_every(self.search.options.get("monitor_every"), trial.params["mini_batch_size"],
                    self.search.n_training)

    def train_chunk(self, trials, end, states, keep_state) -> dict:
        tasks = self.search.tasks(trials, end, starts=states, keep_state=keep_state,
                                  tag=(self.rounds, end))
        outcomes = {}

        def on_result(task, results):
            for outcome in results:
                outcomes[outcome["trial"]] = outcome
        run_tasks(self.search.dispatcher, tasks, on_result, retries=self.search.retries)
        return outcomes

    def round(self, n) -> int:
        asked = []
        batch = Round(self, asked)
        try:
            for _ in range(n):
                if _grid_started(self.study, self.library):
                    break  # a GridSampler would ask a point of its grid a second time
                asked.append(self.study.ask())
                if self.drivers.token is not None:  # named at once (Drivers.retry_dead)
                    asked[-1].set_user_attr("nnxp_driver", self.drivers.token)
        except BaseException:
            batch.abandon()
            raise
        if not asked:
            return 0
        try:
            batch.make_trials()
        except BaseException:  # a point the space cannot make is not asked again
            batch.abandon(again=False)
            raise
        try:
            batch.train()
        except BaseException:
            batch.abandon()
            raise
        self.rounds += 1
        return len(asked)

    def loop(self, n_trials, batch) -> None:
        left = n_trials - _counted(self.study, self.library)
        if left > 0:  # as many workers as a round can use start while the first is asked
            self.search.start(workers=min(batch, left))
        self.drivers.retry_dead(self.library, self.study)
        left = n_trials - _counted(self.study, self.library)
        self.progress = Progress(max(left, 0), self.search.progress_enabled,
                                 "nnxp.search.optuna")
        try:
            while True:
                left = n_trials - _counted(self.study, self.library)
                if left <= 0 or self.stopped:
                    return
                self.search.start()
                if not self.round(min(batch, left)):  # a GridSampler's grid is all asked
                    return
        finally:
            self.progress.close()


# -- the table, read back from the study ---------------------------------------------------------

def _read_back(run) -> tuple:
    """(records, histories, trials) of every finished trial that holds an nnxp outcome,
    each checked: its point made again from its Optuna parameters, its record recomputed."""
    library, study, search = run.library, run.study, run.search
    records, histories, trials = {}, {}, {}
    finished = (library.trial.TrialState.COMPLETE, library.trial.TrialState.PRUNED,
                library.trial.TrialState.FAIL)
    for t in study.get_trials(deepcopy=False, states=finished):
        stored = t.user_attrs.get("nnxp")
        if stored is None:
            continue
        where = f"the study {study.study_name!r}, trial {t.number}"
        trial = search.trials.get(t.number)
        try:
            if trial is None:
                fixed = library.trial.FixedTrial(dict(t.params), t.number)
                fixed.study = study  # a space function may read trial.study, as when asked
                params, build = normalize(run.space.point(fixed), run.mini_batch_size)
                trial = Trial(t.number, params, build, trial_seed(run.seed, t.number))
            record = _checked(stored, trial, run, where, dict(t.params))
        except (NNXPError, saved_file._Bad) as exc:
            raise DataError(f"{where} does not match this search: {exc}") from None
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise DataError(f"{where} does not match this search: malformed "
                            f"({type(exc).__name__}: {checks.clip(exc)})") from None
        expected = {library.trial.TrialState.PRUNED: ("pruned",),
                    library.trial.TrialState.FAIL: ("error", "lost", "ok", "diverged"),
                    library.trial.TrialState.COMPLETE: ("ok", "diverged")}[t.state]
        if record["status"] not in expected:
            raise DataError(f"{where} is {t.state.name} in the study, but its outcome says "
                            f"{record['status']}")
        records[t.number], trials[t.number] = record, trial
        if stored["history"] is not None:
            histories[t.number] = stored["history"]
    return records, histories, trials


def _point_digest(params) -> str:
    """A digest of a trial's Optuna parameters (labels and numbers), kept with its outcome."""
    text = json.dumps(params, sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _checked(stored, trial, run, where, params=None) -> dict:
    saved_file._keys(stored, where, ("history", "stop_reason", "error", "seconds", "lost",
                                     "pruned"), ("point",))
    if params is not None and "point" in stored and stored["point"] != _point_digest(params):
        raise DataError(f"its parameters {checks.show(params)} are not those it was trained "
                        f"with (the journal was edited)")
    if stored["history"] is not None:
        saved_file._history(stored["history"], f"{where}.history", run.n_evaluation,
                            run.epochs)
    for key in ("stop_reason", "error", "pruned"):
        saved_file._text(stored[key], f"{where}.{key}")
    seconds = stored["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or \
            not 0 <= seconds <= saved_file.MAX_SECONDS:
        raise DataError(f"{where}.seconds: expected a number of seconds, got "
                        f"{checks.show(seconds)}")
    return _record(trial, stored, run.n_evaluation)


def _result(run) -> SearchResult:
    records, histories, trials = _read_back(run)
    config = dict(run.search.config)
    numbers_ = sorted(trials)
    config["trials"] = [trials[n].params if n in trials else None
                        for n in range(numbers_[-1] + 1 if numbers_ else 0)]
    config["varied"] = [k for k in (trials[numbers_[0]].params if numbers_ else {})
                        if any(trials[n].params[k] != trials[numbers_[0]].params[k]
                               for n in numbers_)]
    config["prune_every"] = run.prune_every
    trained = {n: p for n, p in run.search.trained.items() if n in records}
    result = SearchResult("optuna", list(records.values()), histories, config, trials=trials,
                          trained=trained)
    result.study, result.device = run.study, run.search.device
    result.budget = {"epochs_trained": sum(r["epochs"] for r in records.values()),
                     "epochs_without_pruning": len(records) * run.epochs,
                     "pruned": sum(r["status"] == "pruned" for r in records.values())}
    return result


def optuna(space, training_data, evaluation_data, *, n_trials, epochs, mini_batch_size,
           study=None, batch=16, executor=None, seed=0, path=None, sampler=None, pruner=None,
           prune_every=None, **options) -> SearchResult:
    """Optuna's ask-and-tell over nnxp's populations (see the module docstring).

    >>> result = nnxp.search.optuna({"sizes": [784, 30, 10], "eta": (0.01, 10.0),
    ...                              "lmbda": (0.01, 10.0)}, train, validation, n_trials=64,
    ...                             epochs=3, mini_batch_size=10)          # doctest: +SKIP
    >>> result.best, result.study.best_trial.params                        # doctest: +SKIP
    """
    library = require_optuna()
    space = Space(space)
    max_trials, max_parameters = limits(options)
    unknown_options(options)
    seed = check_seed(seed)
    epochs = checks.number("epochs", epochs, integer=True)
    n_trials = checks.number("n_trials", n_trials, integer=True)
    batch = checks.number("batch", batch, integer=True)
    check_count("optuna", n_trials, epochs, max_trials)
    if prune_every is not None:
        prune_every = min(checks.number("prune_every", prune_every, integer=True), epochs)
    space.check(mini_batch_size)
    probes = make_trials(space.probes(library, training_data, evaluation_data,
                                      mini_batch_size), seed, mini_batch_size)
    check_widths(probes, max_parameters)
    if path is not None:
        path = check_writable(_journal_path(path), "optuna journal")
        folder = drivers_folder(path)
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise FileError(f"{folder!r} (where the searches on {path!r} keep their locks) "
                            f"is not a folder; move it away or give another path")
    search = Search("optuna", probes, training_data, evaluation_data, epochs=epochs, seed=seed,
                    executor=executor, **options)  # the data checked before any study is made
    search.trials = {}
    drivers = None
    given = study
    try:
        study = _study(library, study, path, sampler, pruner, seed)
        if prune_every is None:
            prune_every = epochs if isinstance(study.pruner, library.pruners.NopPruner) else 1
        _adopt(study, library, _describe(search, space, mini_batch_size, prune_every))
        sizes = trial_spec(probes[0]).sizes
        width = (sizes[0], sizes[-1], str(search.data[0][0].dtype))
        drivers = Drivers(path)
        if given is None and sampler is None and drivers.others_alive():
            # another search runs on this journal now: a sampler seeded as its own would draw
            # the same points (both held as many trials when they opened it)
            study.sampler = library.samplers.TPESampler(seed=int(np.random.SeedSequence(
                seed, spawn_key=(4, int(drivers.token[:15], 16))).generate_state(1)[0]))
        run = OptunaRun(library, study, search, space, seed=seed, epochs=epochs,
                        mini_batch_size=mini_batch_size, prune_every=prune_every,
                        drivers=drivers, width=width, max_parameters=max_parameters)
        run.loop(n_trials, batch)
        result = _result(run)
        result.path = path
        return result
    finally:
        try:
            search.close()
        finally:
            if drivers is not None:
                drivers.close()
