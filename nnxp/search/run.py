"""Grid and random search, and the machinery every search shares (``Search``).

    grid(space, training_data, evaluation_data, *, epochs, mini_batch_size, **options)
    random(space, training_data, evaluation_data, *, n_trials, epochs, mini_batch_size,
           **options)
        -> SearchResult

Options (every search; nnxp.search's docstring says more):
    executor=None, seed=0, path=None, max_members=None, retries=3, progress=False,
    training_subset=None, validation_subset=None, early_stopping=None, schedule=None,
    monitor_every=None, monitor_subset=None, backend=None, engine=None,
    max_trials=None, max_parameters=None, keep=1

A search: checks its size before enumerating anything (space.py: the trial count, the largest
network), builds its trials (space.py, trials.py), puts the data on the host once
(session.py), takes its results file's lock (lock.py) and checks what the file holds against
its trials (saved.py), skips the trials the file already holds, groups the others by shape into
populations of at most ``max_members`` (None: the trials split evenly over the executor's
workers), runs the groups on the executor (executors.py, dispatch.py), writes the results file
after every group, and returns the sorted table (results.py) with the trained parameters of
its best ``keep`` trials (a worker sends back those of its group's best ``keep`` members
only, and the search holds no more than ``keep`` beyond the group that just finished).
"""

from __future__ import annotations

import math

from .. import backends, checks
from ..errors import ConfigError
from ..plan import check_every
from . import saved as saved_file
from .dispatch import Progress, run_tasks
from .executors import Dispatcher, check_main_guard
from .results import SearchResult, keep_best, make_record
from .session import Store, check_options, fingerprint, host_data
from .space import (check_count, check_space, check_widths, grid_points, grid_size,
                    random_points)
from .trials import check_seed, draw_rng, groups, make_trials, shuffle_seed
from .worker import Task

__all__ = ["grid", "random", "Search", "limits"]


class Search:
    """One search's trials, data, options, results file and executor."""

    def __init__(self, kind, trials, training_data, evaluation_data, *, epochs, seed=0,
                 executor=None, path=None, max_members=None, retries=3, progress=False,
                 training_subset=None, validation_subset=None, early_stopping=None,
                 schedule=None, monitor_every=None, monitor_subset=None, backend=None,
                 engine=None, keep=1, extra=None):
        self.kind, self.trials, self.epochs = kind, trials, epochs
        resolved = backends.resolve(backend)
        self.options = check_options(epochs, early_stopping, schedule, monitor_every,
                                     monitor_subset, engine, resolved)
        self.max_members = checks.optional_int("max_members", max_members)
        self.retries = checks.number("retries", retries, strict=False, integer=True)
        self.keep = checks.number("keep", keep, strict=False, integer=True)
        self.progress_enabled = checks.flag("progress", progress)
        self.trained = {}   # {trial: host parameters}: the best ``keep`` (results.keep_best)
        self.backend = resolved.name
        self.device = resolved.device_name  # by name, as the backend (worker.Task.device)
        if executor is None:
            check_main_guard(f"nnxp.search.{kind}")
        self.data = host_data(trials, training_data, evaluation_data, training_subset,
                              validation_subset)
        self.n_evaluation = int(self.data[1][0].shape[0])
        self.n_training = int(self.data[0][0].shape[0])
        for m in sorted({t.params["mini_batch_size"] for t in trials}):
            check_every(self.options.get("monitor_every"), m, self.n_training)
        self.shuffle_seed = shuffle_seed(seed)
        varied = [k for k in trials[0].params
                  if any(t.params[k] != trials[0].params[k] for t in trials)]
        self.config = {"kind": kind, "seed": seed, "shuffle_seed": self.shuffle_seed,
                       "epochs": epochs, "options": self.options, "backend": self.backend,
                       "subsets": {"training": training_subset,
                                   "validation": validation_subset},
                       "data": fingerprint(self.data), "varied": varied,
                       "trials": [t.params for t in trials], **(extra or {})}
        self.executor, self.dispatcher = executor, None
        self.store = Store(path, self.config)
        self.store.own()  # from here on, close() must run

    def tasks(self, trials, epochs, starts=None, keep_state=False, tag=()) -> list:
        """Tasks for ``trials`` (their groups), to train until ``epochs``; ``starts`` maps a
        trial number to the MemberState it continues from."""
        dispatcher = self.start()
        limit = self.max_members or max(1, math.ceil(len(trials) / dispatcher.workers))
        tasks = []
        for members in groups(trials, limit):
            first = members[0]
            shape = {"sizes": first.build["sizes"], "dtype": first.params["dtype"],
                     "mini_batch_size": first.params["mini_batch_size"],
                     "optimizer": first.optimizer, "l1": first.params["l1"] > 0,
                     "activation": first.build["activation"], "cost": first.build["cost"],
                     "weight_init": first.build["weight_init"]}
            tasks.append(Task(
                shape, [{"trial": t.number, "seed": t.seed, **{k: t.params[k] for k in (
                    "eta", "lmbda", "l1", "momentum")}} for t in members],
                None if starts is None else [starts[t.number] for t in members],
                epochs, self.shuffle_seed, dict(self.options), self.backend, keep_state,
                keep_params=0 if keep_state else self.keep, device=self.device,
                key=(*tag, *(t.number for t in members))))
        return tasks

    def start(self, workers=0) -> Dispatcher:
        """The dispatcher (made at the first call); local processes: ``workers`` of them start
        now, the others when groups are sent."""
        if self.dispatcher is None:
            self.dispatcher = Dispatcher(self.executor, self.data, start=workers,
                                         backend=self.backend)
        return self.dispatcher

    def run(self, tasks, on_outcome, after_group, total, best=lambda: None) -> None:
        """Run ``tasks``: ``on_outcome(outcome)`` for each member of a finished group, then
        ``after_group()`` (which saves the results file), then the progress bar moves."""
        if not tasks:
            return
        progress = Progress(total, self.progress_enabled, f"nnxp.search.{self.kind}")

        def on_result(task, outcomes):
            for outcome in outcomes:
                on_outcome(outcome)
            after_group()
            progress.update(len(outcomes), best())
        try:
            run_tasks(self.dispatcher, tasks, on_result, retries=self.retries)
        finally:
            progress.close()

    def close(self) -> None:
        try:
            if self.dispatcher is not None:
                self.dispatcher.close()
                self.dispatcher = None
        finally:
            self.store.release()

    def record(self, outcome, **extra) -> dict:
        trial = self.trials[outcome["trial"]]
        return make_record(trial, outcome, self.n_evaluation, **extra)

    def keep_trained(self, number, params, records) -> None:
        """Hold trial ``number``'s trained ``params`` if it is among the best ``keep``
        (``records``: {trial: its current record})."""
        if params is not None and self.keep > 0:
            self.trained[number] = params
            keep_best(self.trained, records, self.keep)


def _one_pass(search) -> SearchResult:
    """Every trial once, for ``search.epochs`` epochs (grid and random search)."""
    try:
        return _run_one_pass(search)
    finally:
        search.close()


def _run_one_pass(search) -> SearchResult:
    saved = search.store.load()
    records, histories = ({}, {}) if saved is None else saved_file.one_pass(saved, search)

    def on_outcome(outcome):
        record = search.record(outcome)
        records[record["trial"]] = record
        if outcome["history"] is not None:
            histories[record["trial"]] = outcome["history"]
        search.keep_trained(record["trial"], outcome.get("params"), records)

    def save():
        search.store.save({"records": list(records.values()),
                           "histories": {str(k): v for k, v in histories.items()}})

    todo = [t for t in search.trials if t.number not in records]
    if todo:
        tasks = search.tasks(todo, search.epochs)
        search.run(tasks, on_outcome, save, len(todo), best=lambda: best_of(records))
    result = SearchResult(search.kind, list(records.values()), histories, search.config,
                          trials=search.trials, trained=search.trained)
    result.path, result.device = search.store.path, search.device
    return result


def best_of(records):
    values = [r["best_accuracy"] for r in records.values() if r["best_accuracy"] is not None]
    return max(values, default=None)


def grid(space, training_data, evaluation_data, *, epochs, mini_batch_size, seed=0,
         **options) -> SearchResult:
    """Every combination of the space's values (nnxp.search's docstring).

    >>> result = nnxp.search.grid({"sizes": [784, 30, 10], "eta": [0.1, 0.5, 2.5],
    ...                            "lmbda": [0.0, 5.0]}, train, validation, epochs=5,
    ...                           mini_batch_size=10)                     # doctest: +SKIP
    >>> result.best["eta"], result.best["best_accuracy"]                  # doctest: +SKIP
    """
    check_space(space, "grid")
    max_trials, max_parameters = limits(options)
    unknown_options(options)
    seed = check_seed(seed)
    epochs = checks.number("epochs", epochs, integer=True)
    check_count("grid", grid_size(space), epochs, max_trials)
    trials = make_trials(grid_points(space), seed, mini_batch_size)
    check_widths(trials, max_parameters)
    return _one_pass(Search("grid", trials, training_data, evaluation_data, epochs=epochs,
                            seed=seed, **options))


def random(space, training_data, evaluation_data, *, n_trials, epochs, mini_batch_size,
           seed=0, **options) -> SearchResult:
    """``n_trials`` points drawn from the space (log-uniform ranges for eta, lmbda, l1).

    >>> result = nnxp.search.random({"sizes": [784, 30, 10], "eta": (0.01, 10.0),
    ...                              "lmbda": (0.01, 10.0)}, train, validation, n_trials=16,
    ...                             epochs=5, mini_batch_size=10)          # doctest: +SKIP
    """
    check_space(space, "random")
    max_trials, max_parameters = limits(options)
    unknown_options(options)
    seed = check_seed(seed)
    epochs = checks.number("epochs", epochs, integer=True)
    n_trials = checks.number("n_trials", n_trials, integer=True)
    check_count("random", n_trials, epochs, max_trials)
    points = random_points(space, n_trials, draw_rng(seed))
    trials = make_trials(points, seed, mini_batch_size)
    check_widths(trials, max_parameters)
    return _one_pass(Search("random", trials, training_data, evaluation_data, epochs=epochs,
                            seed=seed, **options))


def limits(options) -> tuple:
    """(max_trials, max_parameters), taken out of ``options`` (space.py's bounds)."""
    return options.pop("max_trials", None), options.pop("max_parameters", None)


def unknown_options(options):
    known = ("executor", "path", "max_members", "retries", "progress", "training_subset",
             "validation_subset", "early_stopping", "schedule", "monitor_every",
             "monitor_subset", "backend", "engine", "max_trials", "max_parameters", "keep")
    extra = sorted(set(options) - set(known))
    if extra:
        raise ConfigError(f"unknown search options {checks.show(extra)}; known: "
                          f"{', '.join(known)}")
