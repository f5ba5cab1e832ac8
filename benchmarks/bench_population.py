"""Populations: K networks [784, 30, 10] trained as one program, against one network trained
alone, side by side in one process per backend, epochs interleaved round-robin.

    python benchmarks/bench_population.py                       # numpy and jax, K = 1 4 16 64
    python benchmarks/bench_population.py --backends jax --ks 1 16 --mini-batches 10
    python benchmarks/bench_population.py --json out.json       # also write the results

For each backend and mini-batch size: seconds per epoch of one ``Network`` and of
``Population`` of K members (same data, same order, lmbda 5, eta 0.5, float32), as seconds per
network-epoch and as the ratio to the single network (below 1: a member costs less than a run
of its own).  Every contender gets one warm-up epoch (compilation on JAX, kept apart), then
``--rounds`` epochs each, in turn; the table shows medians and the spread (max/min).  Peak
memory: the resident-set high-water mark (VmHWM) of a fresh process that trains one epoch of
that configuration only.  The machine (CPU, BLAS and its threads, load average) is recorded.
Each backend runs in its own process (``--worker`` is that process's entry point).
``--floor`` (NumPy) adds, for the largest K, the epoch of the BLAS work that every member must do
on its own to stay bit for bit the network alone: its first layer's product (w a^T, as the
fused step computes it in float32), its weight decay (w *= beta) and its update (one SciPy
``gemm`` adding a^T delta into w^T), on the same mini-batches, and nothing else; its time per
network over the single network's is the lowest ratio a population can reach with per-member
products (stacking the members' products into one larger GEMM would be faster, but OpenBLAS
sums a larger product in another order: numpy_fast.py).
``--clock cpu`` times each epoch (the whole ``SGD`` call) in the process's CPU time instead of
the epoch's elapsed time: on a machine loaded by others, waiting for a core is most of the noise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks import _cli  # noqa: E402
from benchmarks._machine import machine  # noqa: E402

SIZES = [784, 30, 10]
MNIST_TRAIN = 50000  # images in load_mnist's training split


def peak_memory_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(args) -> dict:
    """Runs in a fresh process: one backend, every K and mini-batch size, interleaved."""
    sys.path.insert(0, os.path.dirname(HERE))
    import nnxp
    from nnxp.datasets import load_mnist
    with nnxp.use_backend(args.backend) as be:
        (x, y), _, _ = load_mnist(n_train=args.n_train, download=False, backend="numpy")
        rows = []
        for m in args.mini_batches:
            contenders = {"network": nnxp.Network(SIZES, seed=0)}
            for k in args.ks:
                contenders[f"K={k}"] = nnxp.Population(SIZES, seeds=range(k))
            data = contenders["network"].prepare((x, y))
            if args.floor and be.name == "numpy":
                import numpy as np
                contenders[f"floor K={max(args.ks)}"] = FloorEpoch(
                    np.ascontiguousarray(x, np.float32), max(args.ks), m)
            times = {name: [] for name in contenders}
            compile_s = {}
            for name, model in contenders.items():  # warm-up: compiles on JAX
                h = model.SGD(data, 1, m, 0.5, lmbda=5.0, shuffle=1)
                compile_s[name] = 0.0 if h is None else (
                    h if isinstance(h, nnxp.History) else h[0]).compile_seconds
            for r in range(args.rounds):  # the order rotated by one every round
                names = list(contenders)
                for name in names[r % len(names):] + names[:r % len(names)]:
                    start, wall = time.process_time(), time.perf_counter()
                    h = contenders[name].SGD(data, 1, m, 0.5, lmbda=5.0, shuffle=1)
                    cpu, wall = time.process_time() - start, time.perf_counter() - wall
                    if h is None:  # the floor: timed here
                        times[name].append(cpu if args.clock == "cpu" else wall)
                        continue
                    h = h if isinstance(h, nnxp.History) else h[0]
                    times[name].append(cpu if args.clock == "cpu" else h.epoch_seconds[0])
            single = statistics.median(times["network"])
            for name, ts in times.items():
                k = 1 if name == "network" else int(name.split("=")[1])
                med = statistics.median(ts)
                rows.append({"backend": be.name, "mini_batch": m, "contender": name, "K": k,
                             "seconds_per_epoch": med, "spread": max(ts) / min(ts),
                             "per_network": med / k, "ratio_to_single": med / k / single,
                             "paired_ratio": statistics.median(
                                 t / k / s for t, s in zip(ts, times["network"])),
                             "compile_seconds": compile_s[name], "rounds": len(ts)})
        return {"backend": args.backend, "rows": rows, "machine": machine(),
                "n_train": args.n_train, "clock": args.clock}


class FloorEpoch:
    """One epoch of the first layer's per-member BLAS calls for K members (``--floor``)."""

    def __init__(self, x, k, m):
        import numpy as np
        from scipy.linalg import blas
        rng = np.random.default_rng(0)
        self.np, self.gemm, self.x, self.m = np, blas.sgemm, x, m
        self.w = rng.standard_normal((k, SIZES[1], SIZES[0])).astype(np.float32)
        self.product = np.empty((k, SIZES[1], m), np.float32)
        self.delta = rng.standard_normal((k, m, SIZES[1])).astype(np.float32) * 1e-3
        self.beta = np.full((k, 1, 1), 1 - 1e-5, np.float32)

    def SGD(self, *_, **__):
        np, gemm, w, m = self.np, self.gemm, self.w, self.m
        for start in range(0, self.x.shape[0] - m + 1, m):
            a = self.x[start:start + m]
            np.matmul(w, a.T, self.product)  # the weighted inputs, (w a^T)
            w *= self.beta                   # weight decay
            for j in range(w.shape[0]):      # w^T <- a^T delta + w^T, in place
                gemm(1.0, a.T, self.delta[j], 1.0, w[j].T, 0, 0, 1)
        return None


def memory_worker(args) -> dict:
    sys.path.insert(0, os.path.dirname(HERE))
    import nnxp
    from nnxp.datasets import load_mnist
    with nnxp.use_backend(args.backend):
        (x, y), _, _ = load_mnist(n_train=args.n_train, download=False, backend="numpy")
        k = args.ks[0]
        model = nnxp.Network(SIZES, seed=0) if k == 0 else nnxp.Population(SIZES, seeds=range(k))
        model.SGD((x, y), 1, args.mini_batches[0], 0.5, lmbda=5.0, shuffle=1)
    return {"peak_mb": peak_memory_mb()}


def run_worker(argv) -> dict:
    out = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"worker {argv} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = _cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", nargs="+", type=_cli.backend_name, default=["numpy", "jax"])
    # 0: a single Network (the memory worker's); refused below for a user's run
    p.add_argument("--ks", nargs="+", type=_cli.nonnegative_int, default=[1, 4, 16, 64])
    p.add_argument("--mini-batches", nargs="+", type=_cli.positive_int, default=[10, 100])
    p.add_argument("--n-train", type=_cli.at_least(1, MNIST_TRAIN), default=10000,
                   help="training images (default 10000)")
    p.add_argument("--rounds", type=_cli.positive_int, default=3)
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    p.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                   help="time epochs in elapsed time (wall) or this process's CPU time (cpu)")
    p.add_argument("--floor", action="store_true",
                   help="NumPy: also time the per-member BLAS floor for the largest K")
    p.add_argument("--worker", choices=["time", "memory"], help=argparse.SUPPRESS)
    p.add_argument("--backend", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        result = worker(args) if args.worker == "time" else memory_worker(args)
        print(json.dumps(result))
        return 0
    if min(args.ks) < 1:
        p.error(f"argument --ks: must be at least 1, got {min(args.ks)}")
    _cli.check_json(p, args.json)
    common = ["--n-train", str(args.n_train), "--rounds", str(args.rounds), "--clock", args.clock,
              *(["--floor"] if args.floor else [])]
    results = {"machine": machine(), "command": " ".join(sys.argv), "backends": []}
    for backend in args.backends:
        r = run_worker(["--worker", "time", "--backend", backend, "--ks",
                        *map(str, args.ks), "--mini-batches", *map(str, args.mini_batches),
                        *common])
        if not args.no_memory:
            m0 = args.mini_batches[0]
            for row in r["rows"]:
                if row["mini_batch"] == m0 and not row["contender"].startswith("floor"):
                    k = 0 if row["contender"] == "network" else row["K"]
                    row["peak_mb"] = run_worker(["--worker", "memory", "--backend", backend,
                                                 "--ks", str(k), "--mini-batches", str(m0),
                                                 *common])["peak_mb"]
        results["backends"].append(r)
    print(f"Populations of [784, 30, 10] vs one network; {args.n_train} MNIST images, float32,"
          f" medians of {args.rounds} interleaved epochs, {args.clock} clock; "
          f"{results['machine']['cpu']}, load {results['machine']['load_average'][0]:.1f} -> "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'backend':<8}{'m':>5}{'contender':>11}{'s/epoch':>10}{'s/net-epoch':>13}"
          f"{'vs single':>11}{'paired':>8}{'spread':>8}{'peak MB':>9}")
    for r in results["backends"]:
        for row in r["rows"]:
            peak = f"{row['peak_mb']:.0f}" if "peak_mb" in row else ""
            print(f"{row['backend']:<8}{row['mini_batch']:>5}{row['contender']:>11}"
                  f"{row['seconds_per_epoch']:>10.3f}{row['per_network']:>13.4f}"
                  f"{row['ratio_to_single']:>10.2f}x{row['paired_ratio']:>7.2f}x"
                  f"{row['spread']:>8.2f}{peak:>9}")
    if args.json:
        _cli.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
