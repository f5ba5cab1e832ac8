"""Chapter 6's ensemble, native API: five row-7 networks (two ConvPools, two 1,000-unit ReLU
layers and the softmax, dropout 0.5: benchmarks/chapter6.py's row 7) trained as ONE
``nnxp.Population`` against five ``nnxp.Network``s trained one after another.

    python benchmarks/bench_ensemble.py --backend jax                 1 epoch of 2,000 images
    python benchmarks/bench_ensemble.py --backend jax --images 10000 --rounds 3 --json e.json

The work: float32 (``--dtype``), the first ``--images`` MNIST training images, one epoch, the
native path's network3 procedure (mini-batches of 10 in order, eta 0.03, no L2), no monitoring.
First one warm-up epoch of each contender (JAX compiles there; the five networks share one
engine, so one warm-up serves them), timed apart; then ``--rounds`` rounds, each timing the
population's epoch and the five networks' epochs, in alternating order.  Printed per round and
as the median: seconds of elapsed time and of the process's CPU time (every thread of it) per
network, and the population's share of the five networks' time (below 1: the population is
cheaper per network).  The machine (CPU, load average) is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnxp  # noqa: E402
from benchmarks import _cli, chapter6  # noqa: E402
from benchmarks._machine import machine  # noqa: E402
from nnxp.datasets import load_mnist  # noqa: E402

SEEDS = [0, 100, 200, 300, 400]


def timed(train):
    """(elapsed seconds, CPU seconds) of ``train()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    train()
    return time.perf_counter() - wall, time.process_time() - cpu


def contenders(data, dtype):
    row = chapter6.BY_NAME["dropout"]
    entries = chapter6.native_entries(row)
    pop = nnxp.Population(entries, seeds=SEEDS, cost=nnxp.LogLikelihoodCost, dtype=dtype)
    nets = [nnxp.Network(entries, cost=nnxp.LogLikelihoodCost, seed=s, dtype=dtype)
            for s in SEEDS]
    sgd = dict(epochs=1, mini_batch_size=chapter6.MINI_BATCH_SIZE, eta=row.eta, shuffle=False)
    train_pop = lambda: pop.SGD(data, **sgd)
    train_nets = lambda: [net.SGD(data, **sgd) for net in nets]
    return {"population": train_pop, "networks": train_nets}


def main(argv=None):
    p = _cli.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", type=_cli.backend_name, default=None)
    p.add_argument("--device", default=None)
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--images", type=_cli.at_least(chapter6.MINI_BATCH_SIZE), default=2000)
    p.add_argument("--rounds", type=_cli.positive_int, default=1)
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    _cli.check_json(p, args.json, what="ensemble timings")
    (x, y), _, _ = load_mnist(backend="numpy")
    n = args.images // chapter6.MINI_BATCH_SIZE * chapter6.MINI_BATCH_SIZE
    with nnxp.use_backend(args.backend or nnxp.backends.current().name, args.device) as be:
        data = nnxp.Network([784, 10], dtype=args.dtype).prepare((x[:n], y[:n]))
        runs = contenders(data, args.dtype)
        k = len(SEEDS)
        report = {"backend": be.name, "device": args.device, "dtype": args.dtype, "images": n,
                  "members": k, "machine": machine(), "warm_up": {}, "rounds": []}
        print(f"{k} row-7 networks, {be.name} {args.dtype}, 1 epoch of {n} images; load "
              f"average {os.getloadavg()}")
        for name, train in runs.items():
            report["warm_up"][name] = timed(train)
            print(f"  warm-up {name}: {report['warm_up'][name][0]:.2f} s")
        for r in range(args.rounds):
            order = list(runs) if r % 2 == 0 else list(reversed(runs))
            got = {name: timed(runs[name]) for name in order}
            report["rounds"].append(got)
            print(f"  round {r}: per network, population {got['population'][0] / k:.2f} s "
                  f"(CPU {got['population'][1] / k:.2f} s), networks one by one "
                  f"{got['networks'][0] / k:.2f} s (CPU {got['networks'][1] / k:.2f} s)")
        med = {name: [statistics.median(r[name][i] for r in report["rounds"]) / k
                      for i in (0, 1)] for name in runs}
        report["median_per_network"] = med
        report["population_share"] = [statistics.median(
            r["population"][i] / r["networks"][i] for r in report["rounds"]) for i in (0, 1)]
        print(f"median per network: population {med['population'][0]:.2f} s (CPU "
              f"{med['population'][1]:.2f} s), networks {med['networks'][0]:.2f} s (CPU "
              f"{med['networks'][1]:.2f} s); population / networks: elapsed "
              f"{report['population_share'][0]:.2f}, CPU {report['population_share'][1]:.2f}; "
              f"load average {os.getloadavg()}")
    if args.json:
        _cli.write_json(args.json, report, what="ensemble timings")
    return report


if __name__ == "__main__":
    main()
