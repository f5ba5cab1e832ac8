"""Diagnoses a researcher can trust: the labelled scenario suite as a benchmark.

    python benchmarks/bench_diagnose.py                      # every scenario, seeds 0 1 2, NumPy
    python benchmarks/bench_diagnose.py --backend jax
    python benchmarks/bench_diagnose.py --quick              # the CI-reduced suite, one seed
    python benchmarks/bench_diagnose.py --only dead-init,zero-init --seeds 0
    python benchmarks/bench_diagnose.py --json results.json  # also write every number
    python benchmarks/bench_diagnose.py --suite fresh --seeds 0 1   # the fresh held-out group
    python benchmarks/bench_diagnose.py --suite blind --seeds 0 1   # the blind held-out group
    python benchmarks/bench_diagnose.py --suite blind2 --seeds 0 1  # the second blind group

The scenarios (benchmarks/diagnose_suite.py): healthy networks of several kinds, diagnosed
before and after training, and failing ones with a known cause, on MNIST subsets (5,000
training and 1,000 evaluation images; NNXP_DATA_DIR names the folder).  Printed:

    cases      per scenario and stage: the kind expected first and what was named first for
               each seed, kinds missed, kinds reported that the labels do not allow
    kinds      per problem kind over every case: precision and recall
    summary    primary-cause accuracy, healthy networks with an "error" (targets: all failing
               scenarios' primary cause named first, no error on a healthy network, precision
               and recall of every kind >= 0.9)
    finder     find_learning_rate with each scenario's network, mini-batch and lmbda (seed 0,
               defaults otherwise): threshold, recommended eta, whether the scenario trained at
               the recommended eta reaches its bar, whether the threshold separates the eta
               known to work from the one known to fail, and its time
    advice     for each failing scenario and seed: the remedy of the problem named first
               (Problem.remedy, the advice as arguments), applied, the same budget retrained,
               diagnosed again: fixed when that problem is gone and the accuracy reaches the
               bar
    memory     the finder's peak resident memory (getrusage maxrss, in a fresh subprocess) on
               MNIST's 50,000 images at mini-batch 10, 5,000 and 50,000, against the same
               process before the finder ran

NumPy runs with BLAS limited to one thread (threadpoolctl, when installed): on a shared 2-core
machine BLAS's worker threads made small matrix products 5-10x slower.  JSON only with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnxp  # noqa: E402
from benchmarks import _cli  # noqa: E402
from benchmarks import diagnose_suite as suite  # noqa: E402
from benchmarks import blind_suite as blind  # noqa: E402
from benchmarks import blind2_suite as blind2  # noqa: E402
from benchmarks import fresh_suite as fresh  # noqa: E402
from benchmarks import heldout_suite as heldout  # noqa: E402


def one_thread():
    try:
        import threadpoolctl
    except ImportError:
        return nullcontext()
    return threadpoolctl.threadpool_limits(1)


def run(backend="numpy", seeds=(0, 1, 2), only=None, finder=True, advice=True,
        progress=print, which="tuned") -> dict:
    """Every case, the scores, the finder and the advice outcomes, as one dict (``which``:
    "tuned", the scenarios the thresholds were set on, "heldout", "fresh", "blind" or
    "blind2")."""
    if which in ("heldout", "fresh", "blind", "blind2"):
        return run_heldout(backend, seeds, only, advice, progress,
                           {"fresh": fresh, "blind": blind, "blind2": blind2,
                            "heldout": heldout}[which])
    scenarios = [s for s in suite.SCENARIOS if only is None or s.name in only]
    began = time.perf_counter()
    with nnxp.use_backend(backend), (one_thread() if backend == "numpy" else nullcontext()):
        data = suite.load()
        cases = []
        for s in scenarios:
            finder = _kept(  # healthy runs too: a note may ask for the finder
                lambda s=s: suite.finder_threshold(s.config, suite._subset(data, s.config)[0]))
            for seed in seeds:
                cases += suite.run_cases(s, seed, data, finder=finder)
            named = [c["named_first"] or "-" for c in cases if c["scenario"] == s.name
                     and c["stage"] != "monitor"]
            progress(f"  {s.name}: {', '.join(named)}")
        finders = {}
        if finder:
            for s in scenarios:
                if s.finder is not None or (advice and _wants_eta(s, cases)):
                    finders[s.name] = suite.run_finder(s, data)
                    progress(f"  finder {s.name}: {finders[s.name]['recommended']}")
        advised = []
        if advice:
            for c in cases:
                s = suite.by_name(c["scenario"])
                if not s.healthy and c["stage"] != "monitor":
                    found = finders.get(s.name, {}).get("recommended")
                    advised.append(suite.try_advice(s, c["seed"], data, c, found))
    return {"backend": backend, "seeds": list(seeds), "cases": cases,
            "score": suite.score(cases), "finder": list(finders.values()),
            "advice": advised, "seconds": time.perf_counter() - began}


def _kept(fn):
    """``fn`` called once, at the first call; its value kept."""
    kept = []

    def once():
        if not kept:
            kept.append(fn())
        return kept[0]
    return once


def run_heldout(backend="numpy", seeds=(0, 1, 2), only=None, advice=True,
                progress=print, group=heldout) -> dict:
    """The held-out suite (heldout_suite.py; ``group``: fresh_suite.py, run by the same
    machinery): cases, scores, healthy runs with a warning (the diagnosis after training or
    the HealthMonitor), the advice outcomes."""
    scenarios = [s for s in group.SCENARIOS if only is None or s.name in only]
    began = time.perf_counter()
    with nnxp.use_backend(backend), (one_thread() if backend == "numpy" else nullcontext()):
        data = group.load()
        cases, advised = [], []
        for s in scenarios:
            finder = heldout.finder(s, data)  # computed only when a diagnosis asks for it
            for seed in seeds:
                run_s = heldout.resolve(s, seed, data)
                got = heldout.run_cases(run_s, seed, data, finder=finder)
                for c in got:
                    c["finder_eta"] = s.config["eta"] == "find"
                cases += got
                if advice and not s.healthy:
                    case = next(c for c in got if c["stage"] != "monitor")
                    advised.append(heldout.try_advice(s, seed, data, case))
            named = [f"{c['named_first'] or '-'}" for c in cases
                     if c["scenario"] == s.name and c["stage"] != "monitor"]
            progress(f"  {s.name}: {', '.join(named)}")
    return {"suite": group.__name__.rsplit(".", 1)[-1].replace("_suite", ""),
            "backend": backend,
            "seeds": list(seeds), "cases": cases,
            "score": suite.score(cases), "healthy": healthy_rates(cases), "finder": [],
            "advice": advised, "seconds": time.perf_counter() - began}


def healthy_rates(cases) -> dict:
    """Healthy runs (scenario and seed) with a warning or error: from the diagnosis after
    training, from the HealthMonitor, from either; and runs at the finder's recommendation
    whose eta was called too high."""
    runs = {}
    for c in cases:
        if c["healthy"]:
            runs.setdefault((c["scenario"], c["seed"]), []).append(c)
    def flagged(cs, stages):  # kinds the labels do not allow (a fresh N(0, 1) net may saturate)
        return any(c["false"] for c in cs if c["stage"] in stages)
    finder_runs = [cs for cs in runs.values() if cs[0].get("finder_eta")]
    return {"runs": len(runs),
            "diagnose": sum(flagged(cs, ("trained", "fresh")) for cs in runs.values()),
            "monitor": sum(flagged(cs, ("monitor",)) for cs in runs.values()),
            "either": sum(flagged(cs, ("trained", "fresh", "monitor"))
                          for cs in runs.values()),
            "finder_runs": len(finder_runs),
            "finder_too_high": sum(any("learning_rate_too_high" in c["reported"] for c in cs)
                                   for cs in finder_runs),
            "flagged": sorted({f"{k[0]}/seed {k[1]}: " + ",".join(
                                   sorted(set().union(*[c["false"] for c in cs])))
                               for k, cs in runs.items()
                               if flagged(cs, ("trained", "fresh", "monitor"))})}


def _wants_eta(scenario, cases) -> bool:
    return any(c["scenario"] == scenario.name and (c["remedy"] or {}).get("eta") == "find"
               for c in cases)


# -- the finder's memory, measured in a fresh process ------------------------------------------

def memory_child(mb) -> dict:
    """In this (fresh) process: MNIST's 50,000 images, a network, then the finder at
    mini-batch ``mb`` (budget 20 mini-batches, 4 checks, 3 trials): peak RSS before and after."""
    with one_thread():
        train, _, _ = nnxp.datasets.load_mnist(download=False, backend="numpy")
        net = nnxp.Network([784, 30, 10], seed=0)
        net.prepare(train)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        result = nnxp.find_learning_rate(net, train, mini_batch_size=mb, budget_batches=20,
                                         checks=4, start=0.1, eta_max=10.0, refine_steps=0)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"mini_batch_size": mb, "rss_before_mb": before / 1024, "rss_peak_mb": after / 1024,
            "trials": len(result.trials), "seconds": time.perf_counter() - began}


def memory(sizes=(10, 5000, 50000)) -> list:
    out = []
    for mb in sizes:
        done = subprocess.run([sys.executable, __file__, "--memory-child", str(mb)],
                              capture_output=True, text=True, env=os.environ.copy())
        if done.returncode:
            out.append({"mini_batch_size": mb, "error": done.stderr.strip()[-300:]})
        else:
            out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


# -- tables -----------------------------------------------------------------------------------

def _pct(x) -> str:
    return "-" if x is None else f"{x:.0%}"


def headline(result) -> dict:
    """The figures the two suites are compared by: precision and recall over every kind
    (pooled), healthy runs with a warning or error, primary cause named first, and failing
    cases whose primary cause was right and whose applied remedy fixed the run."""
    sc = result["score"]
    tp = sum(r["tp"] for r in sc["kinds"].values())
    fp = sum(r["fp"] for r in sc["kinds"].values())
    fn = sum(r["fn"] for r in sc["kinds"].values())
    healthy = result.get("healthy") or healthy_rates(result["cases"])
    fixed = {(a["scenario"], a["seed"]): a["fixed"] for a in result["advice"]}
    failing = [c for c in result["cases"] if c["primary"] is not None]
    both = sum(bool(c["primary_ok"] and fixed.get((c["scenario"], c["seed"])))
               for c in failing)
    return {"precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "healthy_runs": healthy["runs"], "false_alarms": healthy["either"],
            "primary_right": sc["primary"]["right"], "failing": sc["primary"]["cases"],
            "advice_fixed": sum(fixed.values()), "advised": len(fixed),
            "right_and_fixed": both,
            "finder_runs": healthy.get("finder_runs", 0),
            "finder_too_high": healthy.get("finder_too_high", 0)}


def headline_lines(result) -> list:
    h = headline(result)
    rate = (h["false_alarms"] / h["healthy_runs"]) if h["healthy_runs"] else None
    lines = [f"suite {result.get('suite', 'tuned')}: precision {_pct(h['precision'])}, recall "
             f"{_pct(h['recall'])} (pooled over kinds); healthy runs with a warning or error "
             f"{h['false_alarms']}/{h['healthy_runs']} ({_pct(rate)}); primary cause named "
             f"first {h['primary_right']}/{h['failing']}; advice applied fixes the run "
             f"{h['advice_fixed']}/{h['advised']}; both {h['right_and_fixed']}/{h['failing']}"]
    if h["finder_runs"]:
        lines.append(f"  runs at the finder's recommendation called learning_rate_too_high: "
                     f"{h['finder_too_high']}/{h['finder_runs']}")
    healthy = result.get("healthy")
    if healthy:
        lines.append(f"  healthy runs flagged: by diagnose {healthy['diagnose']}, by the "
                     f"HealthMonitor {healthy['monitor']}, by either {healthy['either']}")
        lines += [f"    {f}" for f in healthy["flagged"]]
    return lines


def tables(result) -> str:
    lines = [f"diagnostics benchmark ({result.get('suite', 'tuned')} suite) on "
             f"{result['backend']}, seeds {result['seeds']}, {result['seconds']:.0f} s", ""]
    rows = {}
    for c in result["cases"]:
        rows.setdefault((c["scenario"], c["stage"]), []).append(c)
    lines.append(f"{'scenario':17} {'stage':8} {'expected first':24} {'named first (per seed)':58}"
                 f" {'missed':14} false alarms")
    for (name, stage), cs in rows.items():
        want = cs[0]["primary"] or ("(healthy)" if cs[0]["healthy"] else "-")
        got = ", ".join((c["named_first"] or "-") + ("" if c["primary_ok"] in (None, True)
                                                     else " X") for c in cs)
        missed = sorted({k for c in cs for k in c["missed"]})
        false = sorted({k for c in cs for k in c["false"]})
        errors = sum(c["errors"] > 0 for c in cs) if cs[0]["healthy"] else 0
        lines.append(f"{name:17} {stage:8} {want:24} {got:58} {','.join(missed) or '-':14} "
                     f"{','.join(false) or '-'}" + (f"  ERRORS on {errors} seeds" if errors
                                                   else ""))
    sc = result["score"]
    lines += ["", f"{'kind':24} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>8}"]
    for kind, r in sc["kinds"].items():
        lines.append(f"{kind:24} {r['tp']:4} {r['fp']:4} {r['fn']:4} {_pct(r['precision']):>10} "
                     f"{_pct(r['recall']):>8}")
    p = sc["primary"]
    lines += ["", f"primary cause named first: {p['right']} / {p['cases']} failing cases; "
              f"healthy cases with an error: {len(sc['healthy_errors'])}"
              + (f" ({', '.join(sc['healthy_errors'])})" if sc["healthy_errors"] else "")]
    if result["advice"] or result.get("healthy"):
        lines += [""] + headline_lines(result)
    if result["finder"]:
        lines += ["", f"{'finder':17} {'mb':>5} {'threshold':>9} {'recommended':>11} "
                  f"{'accuracy':>8} {'trains':>6} {'works/fails':>11} {'separates':>9} "
                  f"{'seconds':>7}"]
        for f in result["finder"]:
            s = suite.by_name(f["scenario"])
            wf = f"{f['works'] or '-'}/{f['fails'] or '-'}"
            lines.append(f"{f['scenario']:17} {s.config['mb']:5} {_g(f['threshold']):>9} "
                         f"{_g(f['recommended']):>11} {_pct(f['accuracy']):>8} "
                         f"{_yes(f['trains']):>6} {wf:>11} {_yes(f['separates']):>9} "
                         f"{f['seconds']:7.1f}")
    if result["advice"]:
        lines += ["", f"{'advice':17} {'named first':24} {'remedy':44} {'before':>7} "
                  f"{'after':>6} fixed"]
        groups = {}
        for a in result["advice"]:
            groups.setdefault(a["scenario"], []).append(a)
        for name, group in groups.items():
            a = group[0]
            remedy = ", ".join(f"{k}={_show(v)}" for k, v in a["remedy"].items()) or "-"
            before = sum(g["before"] for g in group) / len(group)
            afters = [g["after"] for g in group if g["after"] is not None]
            after = sum(afters) / len(afters) if afters else None
            lines.append(f"{name:17} {a['named_first'] or '-':24} {remedy[:44]:44} "
                         f"{_pct(before):>7} {_pct(after):>6} "
                         f"{sum(g['fixed'] for g in group)}/{len(group)}")
    if result.get("memory"):
        lines += ["", "finder memory (MNIST 50,000 images, [784, 30, 10]; peak RSS of a fresh "
                  "process, MB; the finder with budget_batches=20, checks=4, start=0.1, "
                  "eta_max=10, refine_steps=0: 3 trials, not a default search)",
                  f"{'mini-batch':>10} {'before finder':>13} {'peak':>8} "
                  f"{'seconds':>8}"]
        for m in result["memory"]:
            if "error" in m:
                lines.append(f"{m['mini_batch_size']:>10} failed: {m['error']}")
            else:
                lines.append(f"{m['mini_batch_size']:>10} {m['rss_before_mb']:13.0f} "
                             f"{m['rss_peak_mb']:8.0f} {m['seconds']:8.1f}")
    return "\n".join(lines)


def _show(v) -> str:
    """A remedy's value: an initializer by its name, a number in 3 significant digits, a list
    of numbers (scale_inputs per column) by its length."""
    if callable(v):
        return getattr(v, "__name__", str(v))
    if isinstance(v, list):
        return f"[{len(v)} factors]"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _g(x) -> str:
    return "-" if x is None else f"{x:.3g}"


def _yes(x) -> str:
    return "-" if x is None else ("yes" if x else "NO")


def main(argv=None) -> int:
    p = _cli.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", type=_cli.backend_name, default="numpy")
    p.add_argument("--suite", choices=("tuned", "heldout", "fresh", "blind", "blind2"),
                   default="tuned",
                   help="the scenarios the thresholds were set on, the held-out ones, the "
                        "fresh group (fresh_suite.py), the blind group (blind_suite.py) or "
                        "the second blind group (blind2_suite.py)")
    p.add_argument("--seeds", type=_cli.nonnegative_int, nargs="+", default=[0, 1, 2])
    p.add_argument("--only", help="comma-separated scenario names")
    p.add_argument("--quick", action="store_true", help="the CI-reduced suite, seed 0")
    p.add_argument("--no-finder", action="store_true")
    p.add_argument("--no-advice", action="store_true")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--json", metavar="PATH", help="write every number here")
    p.add_argument("--memory-child", type=_cli.positive_int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child)))
        return 0
    only = set(args.only.split(",")) if args.only else None
    group = {"tuned": suite, "heldout": heldout, "fresh": fresh, "blind": blind,
             "blind2": blind2}[args.suite]
    unknown = sorted(only - {s.name for s in group.SCENARIOS}) if only else []
    if unknown:
        p.error(f"argument --only: no scenario {', '.join(unknown)} in the {args.suite} suite; "
                f"its scenarios: {', '.join(s.name for s in group.SCENARIOS)}")
    _cli.check_json(p, args.json)
    seeds = args.seeds
    if args.quick:
        only, seeds = set(suite.QUICK), [0]
    print(f"nnxp {nnxp.__file__}; Python {platform.python_version()}; {platform.machine()}")
    result = run(args.backend, seeds, only, finder=not args.no_finder,
                 advice=not args.no_advice, which=args.suite)
    if not args.no_memory and args.suite == "tuned":
        result["memory"] = memory()
    print(tables(result))
    if args.json:
        _cli.write_json(args.json, result, default=str)
        print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
