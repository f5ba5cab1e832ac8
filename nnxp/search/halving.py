"""Successive halving (scikit-learn's schedule), with promoted trials continuing where they
stopped instead of starting again.

    halving(space, training_data, evaluation_data, *, epochs, mini_batch_size,
            n_candidates=None, factor=3, min_epochs=1, seed=0, **options) -> SearchResult
    schedule(n_candidates, factor, min_epochs, max_epochs) -> [(candidates, epochs)] per round

Round i trains its candidates until ``min_epochs * factor**i`` epochs in all; the best
``ceil(candidates / factor)`` (by best validation accuracy, as the records are sorted; only
trials still training: not diverged, not stopped early, not failed) go on to the next round.
The number of rounds is scikit-learn's: as many as both the epochs (min_epochs * factor**i <=
epochs) and the candidates (factor**i <= n_candidates) allow.  With 27 candidates and factor
3 on 1..27 epochs: 27, 9, 3, 1 candidates at 1, 3, 9, 27 epochs.

A promoted trial continues from its state at the end of the round (its parameters, optimizer
state, stopping tracker, history and place in the shuffling stream: worker.MemberState), so it
is exactly the trial trained straight through (bit for bit on NumPy), and the search trains
27*1 + 9*2 + 3*6 + 1*18 = 81 epochs where restarting each round (scikit-learn) trains 108 and
the full grid at 27 epochs 729.  ``result.budget`` reports the three.

``n_candidates``: None uses every point of the space as a grid; a number draws that many points
at random (as nnxp.search.random); either is bounded by ``max_trials`` before any point is
made (space.py).  With ``path``, each trial's state after each round is also an nnxp
checkpoint file beside the results (checkpoints.py: ``nnxp.load`` reads it; their folder is
checked before any trial trains), which is what a resumed search continues from; ``result.checkpoints`` maps trial numbers to the newest.  The
results file records each checkpoint's digest, and a resumed search continues only from a
checkpoint whose bytes match it (saved.py): an edited or swapped checkpoint is refused.
"""

from __future__ import annotations

import math
import os

from .. import checks
from ..errors import ConfigError
from ..files import check_writable
from . import saved as saved_file
from .checkpoints import checkpoint_path, write_trial
from .results import SearchResult, sort_records
from .run import Search, best_of, limits, unknown_options
from .space import check_count, check_space, check_widths, grid_points, grid_size, random_points
from .trials import check_seed, draw_rng, make_trials

__all__ = ["halving", "schedule"]


def schedule(n_candidates, factor, min_epochs, max_epochs) -> list:
    """[(candidates, epochs)] for each round (see the module docstring)."""
    n_candidates = checks.number("n_candidates", n_candidates, integer=True)
    factor = checks.number("factor", factor, low=1, integer=True)
    min_epochs = checks.number("min_epochs", min_epochs, integer=True)
    max_epochs = checks.number("max_epochs", max_epochs, integer=True)
    rounds = 0
    while min_epochs * factor ** rounds <= max_epochs and factor ** rounds <= n_candidates:
        rounds += 1
    out, n = [], n_candidates
    for i in range(rounds):
        out.append((n, min_epochs * factor ** i))
        n = math.ceil(n / factor)
    return out


def _promotable(record) -> bool:
    return record["status"] == "ok" and record["stop_reason"] is None


def halving(space, training_data, evaluation_data, *, epochs, mini_batch_size,
            n_candidates=None, factor=3, min_epochs=1, seed=0, **options) -> SearchResult:
    """Successive halving over epochs (see the module docstring).

    >>> result = nnxp.search.halving({"sizes": [784, 30, 10], "eta": (0.01, 10.0),
    ...                               "lmbda": (0.01, 10.0)}, train, validation,
    ...                              n_candidates=27, epochs=27, mini_batch_size=10)  # +SKIP
    >>> result.rounds[-1], result.budget                                     # doctest: +SKIP
    """
    check_space(space, "halving")
    max_trials, max_parameters = limits(options)
    unknown_options(options)
    seed = check_seed(seed)
    factor = checks.number("factor", factor, low=1, integer=True)
    min_epochs = checks.number("min_epochs", min_epochs, integer=True)
    epochs = checks.number("epochs", epochs, integer=True)
    if epochs < min_epochs:
        raise ConfigError(f"halving needs epochs >= min_epochs, got epochs={epochs}, "
                          f"min_epochs={min_epochs}")
    if n_candidates is None:
        check_count("halving", grid_size(space), epochs, max_trials)
        points = grid_points(space)
    else:
        n_candidates = checks.number("n_candidates", n_candidates, integer=True)
        check_count("halving", n_candidates, epochs, max_trials)
        points = random_points(space, n_candidates, draw_rng(seed))
    trials = make_trials(points, seed, mini_batch_size)
    check_widths(trials, max_parameters)
    plan = schedule(len(trials), factor, min_epochs, epochs)
    extra = {"halving": {"factor": factor, "min_epochs": min_epochs,
                         "n_candidates": n_candidates, "schedule": plan}}
    search = Search("halving", trials, training_data, evaluation_data, epochs=epochs,
                    seed=seed, extra=extra, **options)
    try:
        if search.store.path is not None and plan:  # the checkpoints' folder, before any work
            check_writable(checkpoint_path(search.store.path, trials[0].number, plan[0][1]),
                           "trial checkpoint")
        return _rounds(search, plan)
    finally:
        search.close()


def _rounds(search, plan) -> SearchResult:
    saved = search.store.load()
    if saved is None:
        rounds, histories, digests = [{} for _ in plan], {}, {}
    else:
        rounds, histories, digests = saved_file.rounds(saved, search, plan)
    states, newest = {}, {}
    results_path = search.store.path
    alive = list(search.trials)
    for i, (n_i, epochs_i) in enumerate(plan):
        if i > 0:
            ranked = [r for r in sort_records(rounds[i - 1].values()) if _promotable(r)]
            chosen = {r["trial"] for r in ranked[:n_i]}
            alive = [t for t in alive if t.number in chosen]
            states = {k: v for k, v in states.items() if k in chosen}  # only these go on
        done = rounds[i]
        saved_file.members(done, alive, search, i)
        todo = [t for t in alive if t.number not in done]
        if results_path is not None:
            newest.update({t.number: checkpoint_path(results_path, t.number, epochs_i)
                           for t in alive if t.number in done})
        if not todo:
            continue
        starts = None
        if i > 0:
            starts = {t.number: states.get(t.number) or _read(search, t, plan[i - 1][1],
                                                               digests)
                      for t in todo}
        written = []

        def on_outcome(outcome, i=i, epochs_i=epochs_i, written=written):
            record = search.record(outcome, round=i)
            rounds[i][record["trial"]] = record
            if outcome["history"] is not None:
                histories[record["trial"]] = outcome["history"]
            state = outcome["state"]
            states[record["trial"]] = state
            if state is not None:
                current = {n: r for j in range(i + 1) for n, r in rounds[j].items()}
                search.keep_trained(record["trial"], state.params, current)
            if state is not None and results_path is not None:
                trial = search.trials[record["trial"]]
                path = checkpoint_path(results_path, trial.number, epochs_i)
                digest = write_trial(path, trial, state, shuffle_seed=search.shuffle_seed,
                                     n_train=int(search.data[0][0].shape[0]),
                                     options=search.options)
                written.append((trial.number, path, digest))

        def save(i=i, written=written):
            for number, path, digest in written:
                digests[os.path.basename(path)] = digest
            search.store.save({"rounds": [
                {"round": j, "epochs": plan[j][1], "records": list(rounds[j].values())}
                for j in range(len(plan)) if rounds[j]],
                "histories": {str(k): v for k, v in histories.items()},
                "checkpoints": dict(sorted(digests.items()))})
            for number, path, _ in written:  # saved: the previous round's file is not needed
                old, newest[number] = newest.get(number), path
                if old and old != path:
                    digests.pop(os.path.basename(old), None)
                    if os.path.exists(old):
                        os.remove(old)
            written.clear()

        tasks = search.tasks(todo, epochs_i, starts=starts, keep_state=True, tag=(i,))
        search.run(tasks, on_outcome, save, len(todo), best=lambda i=i: best_of(rounds[i]))
    return _result(search, plan, rounds, histories, newest)


def _read(search, trial, epochs, digests):
    if search.store.path is None:
        raise ConfigError("internal: a promoted trial has no state")  # pragma: no cover
    path = checkpoint_path(search.store.path, trial.number, epochs)
    if not os.path.exists(path):
        raise ConfigError(f"resuming {search.store.path!r}: trial {trial.number} was promoted, "
                          f"but its state after {epochs} epochs ({path}) is missing; start the "
                          "search again with another path")
    return saved_file.check_checkpoint(path, digests.get(os.path.basename(path)), search,
                                       trial, epochs)


def _result(search, plan, rounds, histories, newest) -> SearchResult:
    last = {}
    for i, records in enumerate(rounds):
        for number, record in records.items():
            last[number] = record
    trained = sum(r["epochs"] for r in last.values())
    budget = {"epochs_trained": trained,
              "epochs_if_restarted": sum(n * e for n, e in plan),
              "epochs_full_grid": len(search.trials) * plan[-1][1] if plan else 0}
    summary = [{"round": i, "epochs": e, "candidates": n,
                "trials": [r["trial"] for r in sort_records(rounds[i].values())]}
               for i, (n, e) in enumerate(plan)]
    result = SearchResult("halving", list(last.values()), histories, search.config,
                          rounds=summary, budget=budget, trials=search.trials,
                          trained=search.trained)
    result.records.sort(key=lambda r: -r["round"])  # stable: sorted within each round
    result.checkpoints = newest
    result.path, result.device = search.store.path, search.device
    return result
