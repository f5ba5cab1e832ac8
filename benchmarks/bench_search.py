"""Hyper-parameter search on MNIST subsets: the same grid run five ways, side by side, and what
successive halving saves.

    python benchmarks/bench_search.py                      # the whole benchmark (minutes)
    python benchmarks/bench_search.py --quick              # smaller: a check that it runs
    python benchmarks/bench_search.py --json results.json  # also write the results
    python benchmarks/bench_search.py --parts 3 --n-train 10000   # Optuna (part 3)
    python benchmarks/bench_search.py --parts 3 --n-train 10000 --seeds 0 1 2 --no-sklearn

Part 1, a 16-trial grid (eta x lmbda, 4 x 4) of [784, 30, 10] networks, ``--epochs`` epochs
on the first ``--n-train`` training images, validated on the first ``--n-validation``
validation images, NumPy, float32, mini-batches of 10, wall time of each way:

    sequential        a loop of Network.SGD in this process, one trial after another, one
                      BLAS thread (nnxp.search.rerun: each trial exactly as the search trains it)
    processes         nnxp.search.grid on local processes (one per core), every trial alone
                      (max_members=1)
    populations       the same, trials of one shape trained as one Population per process
    dask              the same on a Dask LocalCluster of 2 worker processes (loopback; the
                      cluster's start-up is timed apart)
    scikit-learn      GridSearchCV over MLPClassifier on the same grid (solver "sgd", batch 10,
                      logistic hidden units, learning_rate_init = eta, alpha = lmbda * 10 / n
                      so that the L2 decay per step is the book's eta lmbda / n), n_jobs = cores,
                      scored on the same validation images (PredefinedSplit, refit=False).  The
                      alternative a user would pick; not the same network (softmax output,
                      Glorot initialization), so its accuracy is shown but not compared.

and whether the nnxp tables are identical (they should be, bit for bit: same seeds).  The first
three ways run interleaved, round by round; Dask and scikit-learn run after every other way of
the benchmark (parts 2 and 3 included), interleaved between themselves: each leaves a thread in
this process for good, and nnxp's local processes started after that would spawn instead of
forking (nnxp.search.executors.start_method), as they would not in a script without them.

Part 2, successive halving against the full grid: 27 candidates (eta x lmbda x hidden width,
3 x 3 x 3), factor 3, 1 to ``--halving-epochs`` epochs (27: rounds of 27, 9, 3, 1 candidates
at 1, 3, 9, 27 epochs), populations on local processes.  Reports the epochs trained (halving
continues promoted trials), what restarting each round would train (scikit-learn's halving),
the full grid's epochs, the wall times, and whether halving found the grid's winner (or one
within 0.5 percentage points of it).  Both searches use the same seed, so a trial is the same
network in both.

Part 3 (``--parts 3``), Optuna: the same budget of ``--optuna-trials`` trials (64) of
[784, 30, 10] networks, ``--epochs`` epochs on the first ``--n-train`` images, eta and lmbda
log-uniform in [0.01, 10], each way with Optuna's seeded TPESampler, with the pruner off
(NopPruner) and on (MedianPruner(n_startup_trials=5, n_warmup_steps=1)):

    optimize-nnxp     Optuna's own ``study.optimize``: an objective that trains one
                      nnxp.Network per trial in this process (one BLAS thread), reporting
                      every epoch through an SGD callback (and stopping when pruned)
    optimize-sklearn  the same objective with scikit-learn's MLPClassifier (solver "sgd", batch
                      10, logistic units, alpha = lmbda * 10 / n), one partial_fit per epoch:
                      what many users write today (another network: softmax output, Glorot)
    nnxp-optuna       nnxp.search.optuna, batches of ``--batch`` (16) trials as populations on
                      local processes (one per core)
    nnxp-optuna-dask  the same on a Dask LocalCluster of 2 worker processes (start-up apart)

Each way's wall time, its CPU time (this process and its ended child processes: the local
workers of nnxp-optuna; not Dask's, whose workers outlive the way), best accuracy, the time its
best-so-far first reached the lowest of the ways' best accuracies ("time to target"), and its
accuracy-versus-time curve (the best so far at each trial's end, from the study's own
completion times; in the JSON).  ``--seeds 0 1 2`` runs every way once per seed (the
ways' order rotated by one each seed, so that none always runs first or last; scikit-learn's
way at the first seed only: it takes minutes; the Dask ways after all the others: a Dask
client leaves a thread in this process, and the local processes of nnxp-optuna would then
spawn instead of forking, as they would not in a script without Dask; the table says how they
started) and ends with optimize-nnxp's time over
nnxp-optuna's for each seed and their median: over the whole budget, and to the target (where
a single seed's figure is mostly luck: which round first draws a good point).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks import _cli  # noqa: E402
from benchmarks._machine import machine  # noqa: E402

GRID = {"sizes": [784, 30, 10], "eta": [0.1, 0.4, 1.6, 6.4], "lmbda": [0.0, 1.0, 4.0, 16.0]}
HALVING = {"sizes": [[784, 20, 10], [784, 40, 10], [784, 80, 10]], "eta": [0.1, 0.5, 2.5],
           "lmbda": [0.5, 2.0, 8.0]}
MINI_BATCH = 10
MNIST_TRAIN, MNIST_VALIDATION = 50000, 10000  # images in load_mnist's splits


def strip(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time of this process and of its child processes that have ended (user + system)."""
    import resource
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def sequential(search, result, train, validation):
    """Every trial of ``result`` trained alone, one after another, in this process, with one
    BLAS thread (as each of the search's workers: OpenBLAS with two threads changes the last
    bits of the validation costs)."""
    from threadpoolctl import threadpool_limits
    records = []
    with threadpool_limits(1):
        for record in sorted(result.records, key=lambda r: r["trial"]):
            _, history = search.rerun(result, record, train, validation)
            records.append([history.evaluation_accuracy, history.evaluation_cost])
    return records


def curves(result):
    return [[[r["evaluation_accuracy"] for r in result.histories[t]["records"]],
             [r["evaluation_cost"] for r in result.histories[t]["records"]]]
            for t in sorted(result.histories)]


def sklearn_grid(args, train, validation):
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.neural_network import MLPClassifier

    (x, y), (xv, yv) = train, validation
    X, Y = np.concatenate([x, xv]), np.concatenate([y, yv])
    fold = np.r_[np.full(len(y), -1), np.zeros(len(yv), dtype=int)]
    grid = {"learning_rate_init": GRID["eta"],
            "alpha": [lmbda * MINI_BATCH / len(y) for lmbda in GRID["lmbda"]]}
    mlp = MLPClassifier(hidden_layer_sizes=(30,), activation="logistic", solver="sgd",
                        batch_size=MINI_BATCH, momentum=0.0, nesterovs_momentum=False,
                        max_iter=args.epochs, n_iter_no_change=args.epochs + 1,
                        learning_rate="constant", shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(mlp, grid, cv=PredefinedSplit(fold), refit=False,
                              n_jobs=os.cpu_count())
        search.fit(X, Y)
    return {"best_accuracy": float(search.best_score_),
            "best_params": {k: float(v) for k, v in search.best_params_.items()}}


def part1(args, search, train, validation) -> dict:
    """The ways on this machine's own processes, ``--repeats`` times, interleaved round by
    round (medians): part1_outside adds Dask and scikit-learn later (main)."""
    from nnxp.search.executors import start_method
    options = dict(epochs=args.epochs, mini_batch_size=MINI_BATCH, seed=args.seed)
    ways = {"sequential": None,
            "processes": lambda: search.grid(GRID, train, validation, max_members=1,
                                             **options),
            "populations": lambda: search.grid(GRID, train, validation, **options)}
    method = start_method("numpy")
    times, first = _interleaved(args, ways, search, train, validation, options)
    populations = first["populations"]
    same = {"processes": strip(first["processes"].records) == strip(populations.records),
            "sequential": first["sequential"] == curves(populations)}
    return {"wall_seconds": {k: statistics.median(v) for k, v in times.items()},
            "all_seconds": times, "identical_to_populations": same,
            "best": {k: v for k, v in populations.best.items()
                     if k in ("trial", "eta", "lmbda", "best_accuracy")},
            "trials": len(populations.records), "scikit_learn": None,
            "dask_startup_seconds": None, "repeats": args.repeats, "start_method": method,
            "_populations": populations}


def part1_outside(args, search, train, validation, p1) -> None:
    """Part 1's Dask and scikit-learn ways, interleaved among themselves, added to ``p1``.
    They run after every way on local processes (main's order): a Dask client leaves a thread
    in this process for good (distributed's "Dask-Offload"), and so does scikit-learn's
    process pool (loky's), so that local processes started after them would spawn instead
    of forking (executors.start_method), as they would not in a script without them."""
    options = dict(epochs=args.epochs, mini_batch_size=MINI_BATCH, seed=args.seed)
    populations = p1.pop("_populations")
    with contextlib.ExitStack() as stack:
        ways = {}
        if not args.no_dask:
            client, p1["dask_startup_seconds"] = _dask_client(stack)
            ways["dask"] = lambda: search.grid(GRID, train, validation, executor=client,
                                               **options)
        if not args.no_sklearn:
            ways["scikit-learn"] = lambda: sklearn_grid(args, train, validation)
        times, first = _interleaved(args, ways, search, train, validation, options)
    for name, every in times.items():
        p1["all_seconds"][name] = every
        p1["wall_seconds"][name] = statistics.median(every)
    if "dask" in first:
        p1["identical_to_populations"]["dask"] = \
            strip(first["dask"].records) == strip(populations.records)
    p1["scikit_learn"] = first.get("scikit-learn")


def _interleaved(args, ways, search, train, validation, options) -> tuple:
    """Every way ``--repeats`` times, round by round: (seconds per way, first outcome)."""
    times, first = {name: [] for name in ways}, {}
    for _ in range(args.repeats):
        for name, way in ways.items():
            if name == "sequential":  # needs the trials' records: after one search
                reference = first.get("populations") or search.grid(
                    GRID, train, validation, **options)
                way = lambda: sequential(search, reference, train, validation)
            out, seconds = timed(way)
            times[name].append(seconds)
            first.setdefault(name, out)
    return times, first


def part2(args, search, train, validation) -> dict:
    options = dict(mini_batch_size=MINI_BATCH, seed=args.seed)
    grid, grid_s = timed(lambda: search.grid(HALVING, train, validation,
                                             epochs=args.halving_epochs, **options))
    halving, halving_s = timed(lambda: search.halving(HALVING, train, validation,
                                                      epochs=args.halving_epochs, factor=3,
                                                      min_epochs=1, **options))
    grid_best = grid.best
    winner = halving.best
    in_grid = next(r for r in grid.records if r["trial"] == winner["trial"])
    gap = grid_best["best_accuracy"] - in_grid["best_accuracy"]
    return {"grid_seconds": grid_s, "halving_seconds": halving_s,
            "rounds": [(r["candidates"], r["epochs"]) for r in halving.rounds],
            "budget": halving.budget,
            "grid_epochs_trained": sum(r["epochs"] for r in grid.records),
            "grid_winner": {k: grid_best[k] for k in ("trial", "sizes", "eta", "lmbda",
                                                      "best_accuracy")},
            "halving_winner": {k: winner[k] for k in ("trial", "sizes", "eta", "lmbda",
                                                      "best_accuracy")},
            "found_the_grid_winner": winner["trial"] == grid_best["trial"],
            "points_behind_the_grid_winner": 100 * gap,
            "within_half_a_point": gap <= 0.005 + 1e-12,
            "winner_same_in_both": winner["best_accuracy"] == in_grid["best_accuracy"]}


OPTUNA_SPACE = {"sizes": [784, 30, 10], "eta": (0.01, 10.0), "lmbda": (0.01, 10.0)}


def _pruner(optuna, on):
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1) if on \
        else optuna.pruners.NopPruner()


def _study(optuna, seed, on):
    return optuna.create_study(direction="maximize", pruner=_pruner(optuna, on),
                               sampler=optuna.samplers.TPESampler(seed=seed))


def _nnxp_objective(nnxp, optuna, train, validation, epochs):
    n = len(validation[1])

    def objective(trial):
        eta = trial.suggest_float("eta", 0.01, 10.0, log=True)
        lmbda = trial.suggest_float("lmbda", 0.01, 10.0, log=True)
        net = nnxp.Network([784, 30, 10], seed=trial.number)
        best, pruned = [0.0], [False]

        def report(record, net):
            accuracy = record["evaluation_accuracy"] / n
            best[0] = max(best[0], accuracy)
            trial.report(accuracy, record["epoch"])
            pruned[0] = trial.should_prune()
            return pruned[0]
        net.SGD(train, epochs, MINI_BATCH, eta, lmbda=lmbda, evaluation_data=validation,
                monitor_evaluation_accuracy=True, callbacks=[report])
        if pruned[0]:
            raise optuna.TrialPruned()
        return best[0]
    return objective


def _sklearn_objective(optuna, train, validation, epochs):
    import numpy as np
    from sklearn.neural_network import MLPClassifier
    (x, y), (xv, yv) = train, validation
    classes = np.arange(10)

    def objective(trial):
        eta = trial.suggest_float("eta", 0.01, 10.0, log=True)
        lmbda = trial.suggest_float("lmbda", 0.01, 10.0, log=True)
        mlp = MLPClassifier(hidden_layer_sizes=(30,), activation="logistic", solver="sgd",
                            batch_size=MINI_BATCH, momentum=0.0, nesterovs_momentum=False,
                            learning_rate_init=eta, alpha=lmbda * MINI_BATCH / len(y),
                            learning_rate="constant", shuffle=True,
                            random_state=trial.number)
        best = 0.0
        for epoch in range(epochs):
            mlp.partial_fit(x, y, classes=classes)
            accuracy = float(mlp.score(xv, yv))
            best = max(best, accuracy)
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return best
    return objective


def _curve(study, start):
    """[(seconds since start, best accuracy so far)] at each finished trial's end."""
    done = sorted((t.datetime_complete.timestamp() - start, t.value if t.value is not None
                   else t.intermediate_values.get(t.last_step, 0.0))
                  for t in study.trials if t.datetime_complete is not None and
                  t.state.name == "COMPLETE")
    out, best = [], 0.0
    for seconds, value in done:
        best = max(best, value)
        out.append((seconds, best))
    return out


def part3(args, search, train, validation) -> dict:
    """Part 3 once per seed of ``--seeds`` (the ways' order rotated by one each seed), and the
    medians over the seeds of (a)'s time over (c)'s, in wall time and to the target."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds = args.seeds or [args.seed]
    ways, startup = [], None
    for i, seed in enumerate(seeds):
        ways.append(_part3_ways(args, search, train, validation, seed, rotate=i,
                                sklearn=not args.no_sklearn and i == 0))
    if not args.no_dask:  # after all the others, on one cluster (_part3_ways)
        with contextlib.ExitStack() as stack:
            client, startup = _dask_client(stack)
            for seed, done in zip(seeds, ways):
                done.update(_part3_ways(args, search, train, validation, seed, client=client))
    runs = [_part3_run(seed, done, args.batch) for seed, done in zip(seeds, ways)]
    summary = {}
    for tag in ("pruner off", "pruner on"):
        a, c = f"optimize-nnxp, {tag}", f"nnxp-optuna, {tag}"
        walls = [r["ways"][a]["wall_seconds"] / r["ways"][c]["wall_seconds"] for r in runs]
        to = [r["ways"][a]["seconds_to_target"] / r["ways"][c]["seconds_to_target"]
              for r in runs if r["ways"][c]["seconds_to_target"]]
        summary[tag] = {"wall_ratios": walls, "median_wall_ratio": statistics.median(walls),
                        "target_ratios": to,
                        "median_target_ratio": statistics.median(to) if to else None,
                        "best_a": [r["ways"][a]["best_accuracy"] for r in runs],
                        "best_c": [r["ways"][c]["best_accuracy"] for r in runs]}
    return {"runs": runs, "summary": summary, "seeds": seeds, "trials": args.optuna_trials,
            "batch": args.batch, "dask_startup_seconds": startup}


def _part3_ways(args, search, train, validation, seed, rotate=0, sklearn=False,
                client=None) -> dict:
    """One seed's ways of part 3: {name: (study, start, wall, cpu, start_method)}.  Without
    ``client``, the ways in this process and on local processes (their order rotated by
    ``rotate``); with a Dask ``client``, the Dask ways.  part3 runs the Dask ways after all
    the others: a Dask client leaves a thread running in this process for good
    (distributed's "Dask-Offload"), and nnxp-optuna's local processes must start as in a
    user's script without Dask (executors.start_method: forked where that is safe, which
    another thread rules out)."""
    import nnxp
    import optuna
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits
    from nnxp.search.executors import start_method

    def optimize(objective, on, quiet=False):
        study = _study(optuna, seed, on)
        start, cpu = time.time(), cpu_seconds()
        with threadpool_limits(1), warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore", ConvergenceWarning)
            study.optimize(objective, n_trials=args.optuna_trials)
        return study, start, time.time() - start, cpu_seconds() - cpu, None

    def nnxp_optuna(executor, on):
        method = start_method(nnxp.get_backend()) if executor is None else None
        start, cpu = time.time(), cpu_seconds()
        result = search.optuna(OPTUNA_SPACE, train, validation,
                               n_trials=args.optuna_trials, batch=args.batch,
                               epochs=args.epochs, mini_batch_size=MINI_BATCH,
                               seed=seed, executor=executor, pruner=_pruner(optuna, on))
        return (result.study, start, time.time() - start,
                None if executor else cpu_seconds() - cpu, method)

    ways = {}
    for on in (False, True):
        tag = "pruner on" if on else "pruner off"
        if client is not None:
            ways[f"nnxp-optuna-dask, {tag}"] = nnxp_optuna(client, on)
            continue
        todo = [(f"optimize-nnxp, {tag}", lambda on=on: optimize(
            _nnxp_objective(nnxp, optuna, train, validation, args.epochs), on))]
        if sklearn:
            todo.append((f"optimize-sklearn, {tag}", lambda on=on: optimize(
                _sklearn_objective(optuna, train, validation, args.epochs), on, quiet=True)))
        todo.append((f"nnxp-optuna, {tag}", lambda on=on: nnxp_optuna(None, on)))
        k = rotate % len(todo)
        for name, run in todo[k:] + todo[:k]:
            ways[name] = run()
    return ways


def _part3_run(seed, ways, batch) -> dict:
    """One seed's table: each way's figures and curve, and the time to the target."""
    out = {}
    for name, (study, start, wall, cpu, method) in sorted(ways.items(),
                                                          key=lambda kv: _ORDER(kv[0])):
        curve = _curve(study, start)
        out[name] = {"wall_seconds": wall, "cpu_seconds": cpu,
                     "best_accuracy": curve[-1][1] if curve else None,
                     "pruned": sum(t.state.name == "PRUNED" for t in study.trials),
                     "curve": curve}
        if name.startswith("nnxp-optuna"):
            out[name]["round_ends"] = _round_ends(study, start, batch)
        if method is not None:
            out[name]["start_method"] = method
    target = min(w["best_accuracy"] for w in out.values() if w["best_accuracy"] is not None)
    for w in out.values():
        w["seconds_to_target"] = next((s for s, best in w["curve"] if best >= target), None)
    return {"seed": seed, "ways": out, "target_accuracy": target}


def _round_ends(study, start, batch) -> list:
    """When each round of ``batch`` trials (by trial number) had its last trial finished,
    in seconds since the way started: where nnxp-optuna's time goes, round by round."""
    ends = {}
    for t in study.trials:
        if t.datetime_complete is not None:
            r = t.number // batch
            ends[r] = max(ends.get(r, 0.0), t.datetime_complete.timestamp() - start)
    return [round(ends[r], 3) for r in sorted(ends)]


def _ORDER(name):
    way, tag = name.split(", ")
    return (tag != "pruner off", ["optimize-nnxp", "optimize-sklearn", "nnxp-optuna",
                                  "nnxp-optuna-dask"].index(way))


def report3(results, lines):
    p3 = results["part3"]
    for run in p3["runs"]:
        lines.append("")
        lines.append(f"Part 3: Optuna, {p3['trials']} trials of [784, 30, 10], eta and lmbda "
                     f"log-uniform, {results['epochs']} epochs on {results['n_train']} images, "
                     f"seed {run['seed']}; target = the lowest best accuracy of the ways, "
                     f"{run['target_accuracy']:.2%}")
        lines.append(f"  {'way':<36}{'wall s':>9}{'CPU s':>8}{'best':>9}{'s to target':>13}"
                     f"{'pruned':>8}")
        for name, w in run["ways"].items():
            to = "-" if w["seconds_to_target"] is None else f"{w['seconds_to_target']:.1f}"
            best = "-" if w["best_accuracy"] is None else f"{w['best_accuracy']:.2%}"
            cpu = "-" if w.get("cpu_seconds") is None else f"{w['cpu_seconds']:.1f}"
            lines.append(f"  {name:<36}{w['wall_seconds']:>9.1f}{cpu:>8}{best:>9}{to:>13}"
                         f"{w['pruned']:>8}")
        for name, w in run["ways"].items():
            if w.get("round_ends"):
                how = f" (workers {w['start_method']}ed)" if w.get("start_method") else ""
                lines.append(f"  {name}: rounds end at "
                             + ", ".join(f"{e:.2f}" for e in w["round_ends"]) + f" s{how}")
    if p3.get("dask_startup_seconds") is not None:
        lines.append(f"  (Dask cluster start-up, not included: "
                     f"{p3['dask_startup_seconds']:.1f} s; the Dask ways ran after all the "
                     f"others)")
    lines.append("")
    lines.append(f"optimize-nnxp's time over nnxp-optuna's, seeds {p3['seeds']}:")
    for tag, s in p3["summary"].items():
        walls = ", ".join(f"{r:.2f}" for r in s["wall_ratios"])
        to = ", ".join(f"{r:.2f}" for r in s["target_ratios"]) or "-"
        median_to = "-" if s["median_target_ratio"] is None else \
            f"{s['median_target_ratio']:.2f}x"
        lines.append(f"  {tag}: whole budget {s['median_wall_ratio']:.2f}x (median; {walls}); "
                     f"to the target {median_to} ({to})")


def report(results) -> str:
    lines = []
    if results["part1"] is not None:
        report1(results, lines)
    if results["part2"] is not None:
        report2(results, lines)
    if results.get("part3") is not None:
        report3(results, lines)
    return "\n".join(lines)


def report1(results, lines):
    p1 = results["part1"]
    n, e = results["n_train"], results["epochs"]
    load = results["machine"]["load_average"][0]
    lines.append(f"Part 1: {p1['trials']} trials of [784, 30, 10], {e} epochs on {n} MNIST "
                 f"images, validated on {results['n_validation']} ({results['machine']['cpus']}"
                 f" cores, load average {load:.1f} at the start; NumPy float32)")
    lines.append(f"  {'way':<38}{'wall s':>9}{'range':>13}{'trials/s':>10}  identical table"
                 f"  (median of {p1['repeats']})")
    names = {"sequential": "sequential Network.SGD loop", "processes":
             "nnxp.search, processes, alone", "populations": "nnxp.search, processes, populations",
             "dask": "nnxp.search, Dask LocalCluster(2)", "scikit-learn":
             "GridSearchCV(MLPClassifier)"}
    for key, label in names.items():
        if key not in p1["wall_seconds"]:
            continue
        s, every = p1["wall_seconds"][key], p1["all_seconds"][key]
        spread = f"{min(every):.1f}-{max(every):.1f}"
        same = p1["identical_to_populations"].get(key)
        mark = "(reference)" if key == "populations" else "-" if same is None else \
            ("yes" if same else "NO")
        lines.append(f"  {label:<38}{s:>9.1f}{spread:>13}{p1['trials'] / s:>10.2f}  {mark}")
    if p1.get("start_method"):
        lines.append(f"  (nnxp.search's local processes {p1['start_method']}ed; Dask and "
                     f"scikit-learn ran after every other way of the benchmark)")
    if p1.get("dask_startup_seconds") is not None:
        lines.append(f"  (Dask cluster start-up, not included: "
                     f"{p1['dask_startup_seconds']:.1f} s)")
    best = p1["best"]
    lines.append(f"  nnxp best: eta {best['eta']}, lmbda {best['lmbda']}: "
                 f"{best['best_accuracy']:.2%}")
    if p1.get("scikit_learn"):
        sk = p1["scikit_learn"]
        lines.append(f"  scikit-learn best: {sk['best_params']}: {sk['best_accuracy']:.2%} "
                     "(another network: softmax output, Glorot init)")


def report2(results, lines):
    p2 = results["part2"]
    b = p2["budget"]
    lines.append("")
    lines.append(f"Part 2: successive halving, 27 candidates, rounds (candidates, epochs) "
                 f"{p2['rounds']}")
    lines.append(f"  {'':<38}{'epochs':>9}{'wall s':>9}")
    lines.append(f"  {'full grid':<38}{p2['grid_epochs_trained']:>9}{p2['grid_seconds']:>9.1f}")
    lines.append(f"  {'halving, promoted trials continue':<38}{b['epochs_trained']:>9}"
                 f"{p2['halving_seconds']:>9.1f}")
    lines.append(f"  {'halving restarting each round':<38}{b['epochs_if_restarted']:>9}"
                 f"{'-':>9}")
    g, h = p2["grid_winner"], p2["halving_winner"]
    lines.append(f"  grid winner:    trial {g['trial']} {g['sizes']} eta {g['eta']} lmbda "
                 f"{g['lmbda']}: {g['best_accuracy']:.2%}")
    lines.append(f"  halving winner: trial {h['trial']} {h['sizes']} eta {h['eta']} lmbda "
                 f"{h['lmbda']}: {h['best_accuracy']:.2%}")
    lines.append(f"  found the grid's winner: {'yes' if p2['found_the_grid_winner'] else 'no'}"
                 f"; {p2['points_behind_the_grid_winner']:.2f} points behind it "
                 f"({'within' if p2['within_half_a_point'] else 'NOT within'} 0.5)")


def main(argv=None) -> int:
    p = _cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-train", type=_cli.at_least(1, MNIST_TRAIN), default=5000)
    p.add_argument("--n-validation", type=_cli.at_least(1, MNIST_VALIDATION), default=1000)
    p.add_argument("--epochs", type=_cli.positive_int, default=3,
                   help="epochs per trial in part 1")
    p.add_argument("--halving-epochs", type=_cli.positive_int, default=27)
    p.add_argument("--seed", type=_cli.nonnegative_int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="1000 images, 1 epoch, halving to 3 epochs")
    p.add_argument("--parts", nargs="+", type=int, default=[1, 2], choices=[1, 2, 3],
                   help="3: Optuna (needs optuna: backends/optuna.txt)")
    p.add_argument("--optuna-trials", type=_cli.positive_int, default=64,
                   help="trials of part 3")
    p.add_argument("--batch", type=_cli.positive_int, default=16,
                   help="trials asked at once in part 3")
    p.add_argument("--seeds", nargs="+", type=_cli.nonnegative_int,
                   help="part 3: one run of every way per seed (default: --seed); "
                        "scikit-learn's way at the first seed only")
    p.add_argument("--repeats", type=_cli.positive_int, default=3,
                   help="rounds of part 1 (median shown)")
    p.add_argument("--no-dask", action="store_true")
    p.add_argument("--no-sklearn", action="store_true")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = p.parse_args(argv)
    _cli.check_json(p, args.json)
    if args.quick:
        args.n_train, args.n_validation, args.epochs, args.halving_epochs = 1000, 500, 1, 3
        args.repeats = 1
        if 3 in args.parts:  # pruning needs epochs to prune between
            args.epochs, args.optuna_trials, args.batch = 2, 8, 4
    import nnxp
    import nnxp.search as search
    from nnxp.datasets import load_mnist
    nnxp.set_backend("numpy")
    train, validation, _ = load_mnist(n_train=args.n_train, n_validation=args.n_validation,
                                      download=False, backend="numpy")
    results = {"machine": machine(), "command": " ".join(sys.argv), "n_train": args.n_train,
               "n_validation": args.n_validation, "epochs": args.epochs}
    # the ways on local processes first, those that leave threads behind last (part1_outside)
    results["part1"] = part1(args, search, train, validation) if 1 in args.parts else None
    results["part2"] = part2(args, search, train, validation) if 2 in args.parts else None
    results["part3"] = part3(args, search, train, validation) if 3 in args.parts else None
    if results["part1"] is not None:
        part1_outside(args, search, train, validation, results["part1"])
    print(report(results))
    if args.json:
        _cli.write_json(args.json, results)
    return 0


def _dask_client(stack):
    """A Dask LocalCluster of 2 worker processes on loopback, entered on ``stack``: (client,
    start-up seconds)."""
    import distributed
    start = time.perf_counter()
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [os.path.dirname(HERE),
                                                       os.environ.get("PYTHONPATH")]))}
    cluster = stack.enter_context(distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, env=env))
    client = stack.enter_context(distributed.Client(cluster))
    client.wait_for_workers(2)
    return client, time.perf_counter() - start

if __name__ == "__main__":
    raise SystemExit(main())
