"""Hyper-parameter search (chapter 3's grid and random search, and successive halving), on any
``concurrent.futures.Executor``: local processes by default, a Dask cluster, threads.

    import nnxp.search
    result = nnxp.search.grid(space, training_data, evaluation_data, *, epochs,
                              mini_batch_size, executor=None, seed=0, **options)
    result = nnxp.search.random(space, ..., n_trials=16, epochs=..., mini_batch_size=...)
    result = nnxp.search.halving(space, ..., epochs=27, mini_batch_size=..., n_candidates=27,
                                 factor=3, min_epochs=1)
    result = nnxp.search.optuna(space, ..., n_trials=64, batch=16, epochs=..., mini_batch_size=...,
                                study=None, path=None)    Optuna's samplers and pruners, each
                        batch of asked trials trained as populations (optuna_search.py)
    result.records      one dict per trial, the best first: hyper-parameters as keys, trial,
                        seed, status, best/final validation accuracy and cost, epochs, seconds,
                        stop_reason, error (results.py)
    result.best;  result.to_csv(path);  result.to_json(path);  result.plot(path);  print(result)
    result.best_network(), result.network(trial_or_record)   the trained network of one of
                        the best ``keep`` trials, without training again (results.py)

    space = {"sizes": [784, 30, 10], "eta": [0.1, 0.5, 2.5], "lmbda": [0.0, 1.0, 5.0]}
    space = {"sizes": [[784, 30, 10], [784, 100, 10]], "eta": loguniform(0.01, 10),
             "lmbda": (0.01, 10.0), "momentum": [0.0, 0.9]}          # for random / halving

``space`` names any of sizes, activation, cost, dtype, mini_batch_size, initializer, momentum,
nesterov, eta, lmbda, l1 (space.py: lists are choices, (low, high) ranges are log-uniform for
eta, lmbda and l1; ``eta_range(nnxp.find_learning_rate(...))`` gives eta a range below the
book's threshold).  ``sizes`` is one architecture (a list of ints, e.g. [784, 30, 10]) or a
list of them (the choices); an entry that is not a positive int or a layer object (3.0, True,
-8) is refused before anything runs, naming it.  ``sizes`` may hold layer objects as
nnxp.Network takes them (every search): the records name such an architecture by its label,
the trials keep the layers (architectures.py).  ``activation`` and ``initializer`` reach only
the int entries: a space that varies either over an architecture made only of layer objects,
or ``activation`` over one whose only int entry is the output and takes the cost's
activation (its trials would be one network under several labels), or gives either where no
architecture has an int entry (as nnxp.Network refuses), is refused before anything trains,
naming the architecture (space.py).

Options (every search):
    executor           None: local processes, one per core, BLAS threads pinned to one,
                       ending with the searching process (a script calls the search under
                       ``if __name__ == "__main__":``, or is refused: executors.py);
                       a ``distributed.Client`` (or its ``get_executor()``); any Executor
    seed               everything random (initial weights, shuffling, random draws): trials.py
    path               the results file, written after every group, atomically; a search
                       given an existing file resumes it: finished trials are not run again,
                       and the table is that of an uninterrupted search (all but ``seconds``).
                       A search owns its file while it runs (lock.py: a second search on the
                       path is refused, naming the first's process), and what the file holds
                       is checked against the search before it is used (saved.py)
    max_trials         at most this many trials (space.MAX_TRIALS unless given), checked
                       before any point is made
    max_parameters     at most this many weights and biases in any trial's network
                       (space.MAX_PARAMETERS unless given), checked before any is built
    keep=1             the best this many trials' trained parameters are held by the result
                       (0: none); a worker sends back those of its group's best ``keep``
                       members only, and the search holds no more than ``keep`` beyond the
                       group that just finished
    max_members        trials of one shape train as one Population of at most this many
                       members (None: split evenly over the workers; 1: every trial alone)
    retries=3          a group whose worker is lost is run again up to this many times
    progress=False     a progress bar (tqdm if installed, else a line per group)
    training_subset, validation_subset   the first n examples only (the book's fast feedback)
    early_stopping, schedule, monitor_every, monitor_subset   as in Network.SGD, for every trial
    backend, engine    the backend (name) and engine the workers train with (default: the
                       backend selected where the search is called, a ``use_backend`` block
                       around the call included; every task names it, so threads, processes
                       and Dask workers train on it whatever is selected where they run)

Failures never stop a search: a trial that diverges is stopped by its population (status
"diverged", its last finite parameters measured), one that raises is recorded with its error
(status "error"), a group whose worker dies is retried, then recorded as "lost" (and run again
when the search is resumed).  A pool of the caller's that a dead worker broke cannot be
restarted: the search stops with a ConfigError, and resumes with a new executor (dispatch.py).

Reproducible: the same seed gives the same table, bit for bit on NumPy, whatever the executor
(threads, processes, Dask), the grouping (``max_members``) or an interruption, provided each
worker computes with one BLAS thread (the default processes pin it; Dask's workers set it;
threads share the caller's setting: ``threadpoolctl.threadpool_limits(1)``).  A trial's record
gives everything to train it alone with the same bits:
``nnxp.Network(r["sizes"], seed=r["seed"], ...).SGD(..., shuffle=result.shuffle_seed)``
(trials.py explains the seeds; ``rerun`` does it, for any record; ``result.network`` gives a
kept trial's network as the search trained it, the same bits).
"""

from .halving import halving, schedule
from .optuna_search import optuna
from .plot import plot_search
from .rerun import rerun
from .results import SearchResult
from .run import grid, random
from .space import choice, eta_range, loguniform, uniform
from .executors import pin_threads

__all__ = ["grid", "random", "halving", "optuna", "schedule", "SearchResult", "rerun", "plot_search",
           "loguniform", "uniform", "choice", "eta_range", "pin_threads"]
