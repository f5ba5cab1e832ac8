"""The cost of health monitoring on MNIST's canonical run, per backend, side by side in one run.

    python benchmarks/bench_health.py                        numpy and jax, 30 timed epochs each
    python benchmarks/bench_health.py --backends numpy --epochs 30 --json /tmp/health.json

The book's run: [784, 30, 10], cross-entropy, mini-batch 10, eta 0.5, lmbda 5.0, the 50,000
MNIST training images (nnxp.datasets.load_mnist; NNXP_DATA_DIR names the folder).  For each
backend two networks of one seed train one epoch at a time, alternately (which one goes first
swaps every round, so that load from elsewhere falls on both): ``net.SGD(..., health=monitor)``
(what ``health=True`` does, with one monitor kept across the calls) and the same call without
it.  Reported: the median epoch with and without (wall time of the SGD call: training,
synchronization and, with health, the check), and the time spent inside the monitor's call,
measured where SGD calls it, as a share of the median epoch without health; "paired" is the
median over rounds of (epoch with - epoch without), over the median epoch without.  The epoch
times of a shared machine wander by 10% or more, so the time inside the monitor is the figure
that says what health monitoring costs; the epoch medians bound it from above, noisily.  One warm-up epoch
each comes first (JAX compiles the epoch and the check there); its check is reported apart.

Prints a table; ``--json PATH`` also writes the results there.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnxp  # noqa: E402
from benchmarks import _cli  # noqa: E402
from nnxp.datasets import load_mnist  # noqa: E402

SIZES, MINI_BATCH, ETA, LMBDA = [784, 30, 10], 10, 0.5, 5.0


class TimedMonitor(nnxp.HealthMonitor):
    """The HealthMonitor, with the seconds of each call kept in ``seconds``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds = []

    def __call__(self, record, net):
        start = time.perf_counter()
        super().__call__(record, net)
        self.seconds.append(time.perf_counter() - start)


def run_backend(name, train, epochs) -> dict:
    """Interleaved epochs with and without health on one backend: the timings."""
    with nnxp.use_backend(name) as be:
        plain = nnxp.Network(SIZES, seed=0)
        data = plain.prepare(train)                  # on the device once, used by both nets
        checked = plain.copy()
        monitor = TimedMonitor(warn=False)
        runs = {"without": (plain, {}), "with": (checked, {"health": monitor})}
        times = {"without": [], "with": []}
        for epoch in range(epochs + 1):              # epoch 0: warm-up (JAX compiles)
            order = ("without", "with") if epoch % 2 else ("with", "without")
            for key in order:
                net, extra = runs[key]
                start = time.perf_counter()
                net.SGD(data, 1, MINI_BATCH, ETA, lmbda=LMBDA, **extra)
                times[key].append(time.perf_counter() - start)
        report = monitor.reports[-1]
        return summarize(be.describe(), times, monitor.seconds, report.headline())


def summarize(backend, times, inside, headline) -> dict:
    without, with_, checks = times["without"][1:], times["with"][1:], inside[1:]
    base = statistics.median(without)
    return {
        "backend": backend,
        "epoch_without_s": without, "epoch_with_s": with_, "check_s": checks,
        "warmup_epoch_without_s": times["without"][0], "warmup_epoch_with_s": times["with"][0],
        "first_check_s": inside[0],
        "median_epoch_without_s": base, "median_epoch_with_s": statistics.median(with_),
        "median_with_vs_without": statistics.median(with_) / base - 1.0,
        "median_paired_difference": statistics.median(
            w - o for w, o in zip(with_, without)) / base,
        "median_check_s": statistics.median(checks), "mean_check_s": statistics.mean(checks),
        "median_check_share": statistics.median(checks) / base,
        "mean_check_share": statistics.mean(checks) / base,
        "last_report": headline,
    }


def table(rows) -> str:
    head = (f"{'backend':<8} {'epoch w/o':>9} {'epoch with':>10} {'with/w/o':>8} {'paired':>7} "
            f"{'check med':>9} {'check mean':>10} {'share med':>9} {'share mean':>10} "
            f"{'1st check':>9}  last report")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['backend'].split(' on ')[0]:<8} {r['median_epoch_without_s']:>8.3f}s "
            f"{r['median_epoch_with_s']:>9.3f}s {r['median_with_vs_without']:>+8.1%} "
            f"{r['median_paired_difference']:>+7.1%} "
            f"{r['median_check_s'] * 1e3:>7.2f}ms {r['mean_check_s'] * 1e3:>8.2f}ms "
            f"{r['median_check_share']:>9.2%} {r['mean_check_share']:>10.2%} "
            f"{r['first_check_s']:>8.3f}s  {r['last_report']}")
    return "\n".join(lines)


def main(argv=None):
    parser = _cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", type=_cli.backend_list, default="numpy,jax")
    parser.add_argument("--epochs", type=_cli.positive_int, default=30,
                        help="timed epochs per network")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if not args.backends:
        parser.error("argument --backends: give at least one backend, e.g. numpy")
    _cli.check_json(parser, args.json)
    (train, _, _) = load_mnist()
    rows = [run_backend(name, train, args.epochs) for name in args.backends]
    print(f"health monitoring on MNIST [784, 30, 10], mini-batch {MINI_BATCH}, eta {ETA}, "
          f"lmbda {LMBDA}, 50,000 images; {args.epochs} interleaved epochs per network "
          f"(medians; share = time inside the monitor / epoch without health)")
    print(table(rows))
    if not args.json:
        return
    out = Path(args.json)
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "python": sys.version,
            "load_average": os.getloadavg(), "epochs": args.epochs, "mini_batch": MINI_BATCH,
            "eta": ETA, "lmbda": LMBDA, "sizes": SIZES,
            "probe_size": nnxp.HealthMonitor.PROBE_SIZE}
    _cli.write_json(out, {"meta": meta, "results": rows})
    print(f"written: {out}")


if __name__ == "__main__":
    main()
