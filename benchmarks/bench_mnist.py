"""nnxp against the alternatives a user would pick, side by side in one run, on MNIST.

    python benchmarks/bench_mnist.py                      every row, every installed contender
    python benchmarks/bench_mnist.py --rows canonical --epochs 5
    python benchmarks/bench_mnist.py --out benchmarks/results/bench_mnist.json

Every contender does the same work: network2's SGD (sigmoid, cross-entropy, eta 0.5, lmbda 5.0)
on the 50,000 MNIST training images, one epoch = one permutation drawn on the host.  Rows:

    canonical   [784, 30, 10], mini-batch 10 (the book's network)
    mb100       [784, 30, 10], mini-batch 100
    mb1000      [784, 30, 10], mini-batch 1000
    wide        [784, 100, 10], mini-batch 10

Contenders: nnxp on every installed backend (float32, and float64 on the canonical row);
network2's per-example loop; the minimal vectorized NumPy loop; a tuned NumPy loop (buffers,
out=, in-place updates); a minimal jax.jit + lax.scan epoch; PyTorch eager; scikit-learn's
MLPClassifier (see benchmarks/baselines.py).  Each contender runs one warm-up epoch (JAX's
compile time is reported apart), then ``--epochs`` timed epochs; the table shows the median
seconds per epoch, images per second, and each contender's time divided by nnxp's on the same
row (nnxp-numpy-float32 and nnxp's fastest backend).  In each of ``--rounds`` rounds every contender
in turn runs a warm-up epoch and ``--epochs`` timed ones; the median is over all rounds, so
time-correlated load from elsewhere on a shared machine falls on every contender, and threads
another library leaves spinning (OpenMP, BLAS) settle during the warm-up.

The same run measures this machine's float32 matmul rate (GFLOP/s, the best of measurements
before and after every row) and reports the fraction of it each contender reaches; the time nnxp takes to evaluate accuracy
and cost on the 10,000 validation images, as a fraction of an epoch; and the peak memory (RSS)
of a whole nnxp training run in a fresh process, against the budget
2 x (size of the MNIST arrays) + 200 MB.

GPU figures are not measured on these machines (no CUDA device).  On a GPU machine:

    NNXP_BACKEND=cupy python -m nnxp.selfcheck
    python benchmarks/bench_mnist.py --backends cupy,numpy          # CuPy on the first GPU
    python benchmarks/bench_mnist.py --backends jax --device gpu     # JAX on the first GPU
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnxp  # noqa: E402
from benchmarks import baselines  # noqa: E402
from benchmarks._mnist import load_split  # noqa: E402

ROWS = {
    "canonical": dict(sizes=[784, 30, 10], m=10),
    "mb100": dict(sizes=[784, 30, 10], m=100),
    "mb1000": dict(sizes=[784, 30, 10], m=1000),
    "wide": dict(sizes=[784, 100, 10], m=10),
}
ETA, LMBDA = 0.5, 5.0
BASELINES = ["network2_loop", "numpy_minimal", "numpy_vectorized", "jax_scan", "torch_eager",
             "sklearn_mlp"]


class NnxpContender:
    """nnxp through its public API: Network(...).SGD(dataset, 1, m, eta, lmbda) per epoch, the
    data prepared on the device once (not timed), the permutation given as the shuffle."""

    compile_seconds = None

    def __init__(self, backend, sizes, m, dtype, device=None):
        self.backend, self.device, self.sizes, self.m, self.dtype = backend, device, sizes, m, dtype
        self.name = f"nnxp-{backend}-{dtype}"

    def prepare(self, X, y):
        with nnxp.use_backend(self.backend, self.device):
            self.net = nnxp.Network(self.sizes, seed=0, dtype=self.dtype)
            self.data = self.net.prepare((X, y))
            self.be = self.net.backend

    def run_epoch(self, perm):
        # shuffle=False over data gathered by perm would time a host gather; instead the
        # network's own shuffling runs (a host permutation moved to the device, gathered there)
        history = self.net.SGD(self.data, 1, self.m, ETA, lmbda=LMBDA)
        if history.compile_seconds:
            self.compile_seconds = (self.compile_seconds or 0.0) + history.compile_seconds

    def evaluation_seconds(self, Xv, yv, repeats=5):
        """Accuracy and cost over the validation images, on the device, in one pass each."""
        data = self.net.prepare((Xv, yv))
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            self.net.measure(data, LMBDA)  # what SGD's monitoring calls: accuracy and cost
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:])


def installed_backends():
    out = []
    for name in ("numpy", "jax", "torch", "array_api_strict", "cupy"):
        try:
            with nnxp.use_backend(name):
                out.append(name)
        except nnxp.BackendError:
            pass
    return out


def contenders_for(row, args, backends):
    sizes, m = ROWS[row]["sizes"], ROWS[row]["m"]
    out = []
    for backend in backends:
        if backend == "array_api_strict" and row != "canonical":
            continue  # the standard's reference implementation: correctness, not speed
        out.append(NnxpContender(backend, sizes, m, "float32", args.device))
        if row == "canonical" and backend != "array_api_strict":
            out.append(NnxpContender(backend, sizes, m, "float64", args.device))
    for name in args.baselines:
        try:
            out.append(baselines.make(name, sizes, ETA, LMBDA, m, dtype="float32"))
        except ImportError as exc:
            print(f"  (skipping {name}: {exc})", file=sys.stderr)
    return out


def run_row(row, args, backends, data):
    """Prepare every contender, then ``--rounds`` rounds in which each contender in turn runs
    a warm-up epoch and ``--epochs`` timed ones: time-correlated load from elsewhere falls on
    all of them, and threads another library leaves spinning settle during the warm-up."""
    X, y = data["train"]
    Y = np.eye(10, dtype=np.float32)[y]
    contenders = contenders_for(row, args, backends)
    for c in contenders:
        if isinstance(c, NnxpContender):
            c.prepare(X, y)
        else:
            c.prepare(X.astype(c.dtype), Y.astype(c.dtype))
    timed = {c.name: [] for c in contenders}
    warm = {c.name: [] for c in contenders}
    rng = np.random.default_rng(0)
    for _ in range(args.rounds):
        for c in contenders:
            for epoch in range(args.epochs + 1):
                perm = rng.permutation(X.shape[0])
                start = time.perf_counter()
                c.run_epoch(perm)
                seconds = time.perf_counter() - start  # wall time of the whole call
                (warm if epoch == 0 else timed)[c.name].append(seconds)
    results = []
    for c in contenders:
        med = statistics.median(timed[c.name])
        r = {"row": row, "contender": c.name, "dtype": str(getattr(c, "dtype", "float32")),
             "median_seconds": med, "epoch_seconds": timed[c.name],
             "warmup_seconds": warm[c.name][0], "compile_seconds": c.compile_seconds,
             "images_per_second": X.shape[0] / med}
        if args.evaluation and row == "canonical" and isinstance(c, NnxpContender) \
                and c.dtype == "float32":
            r["evaluation_seconds"] = c.evaluation_seconds(*data["validation"])
            r["evaluation_fraction_of_epoch"] = r["evaluation_seconds"] / med
        results.append(r)
        print(f"  {c.name:30s} {med:.3f} s/epoch", file=sys.stderr, flush=True)
    return results


def add_ratios(results):
    for row in {r["row"] for r in results}:
        rows = [r for r in results if r["row"] == row]
        ref = next((r for r in rows if r["contender"] == "nnxp-numpy-float32"), None)
        nnxp32 = [r for r in rows if r["contender"].startswith("nnxp-")
                  and r["dtype"] == "float32"]
        best = min(nnxp32, key=lambda r: r["median_seconds"]) if nnxp32 else None
        for r in rows:
            if ref:
                r["vs_nnxp_numpy"] = r["median_seconds"] / ref["median_seconds"]
            if best:
                r["vs_nnxp_best"] = r["median_seconds"] / best["median_seconds"]
                r["nnxp_best"] = best["contender"]


def add_flops(results, gflops):
    for r in results:
        sizes = ROWS[r["row"]]["sizes"]
        flops = baselines.epoch_flops(sizes, 50000, ROWS[r["row"]]["m"])
        r["gflops"] = flops / r["median_seconds"] / 1e9
        r["fraction_of_peak"] = r["gflops"] / gflops


def peak_memory(backend, dtype="float32"):
    """Peak RSS of a fresh process that loads MNIST and trains two epochs with nnxp (VmHWM:
    getrusage's ru_maxrss would report the forking parent's size on Linux)."""
    code = (
        "import nnxp\n"
        "from nnxp.datasets import load_mnist\n"
        f"with nnxp.use_backend({backend!r}):\n"
        f"    tr, va, te = load_mnist(dtype={dtype!r}, download=False)\n"
        "    size = sum(a.size * a.dtype.itemsize for d in (tr, va, te) for a in d)\n"
        f"    net = nnxp.Network([784, 30, 10], seed=0, dtype={dtype!r})\n"
        "    net.SGD(tr, 2, 10, 0.5, lmbda=5.0, evaluation_data=va,\n"
        "            monitor_evaluation_accuracy=True)\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(size, int(hwm.split()[1]) * 1024)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "NNXP_BACKEND": backend})
    size, peak = map(int, out.stdout.split())
    return {"backend": backend, "dtype": dtype, "dataset_bytes": size, "peak_rss_bytes": peak,
            "budget_bytes": 2 * size + 200 * 2**20, "within_budget": peak < 2 * size + 200 * 2**20}


def print_table(results, gflops, memory, peaks=()):
    spread = f" (measured {', '.join(f'{p:.0f}' for p in peaks)})" if peaks else ""
    print(f"\nmatmul peak (NumPy float32, 2048^3, best of the run): {gflops:.1f} GFLOP/s"
          f"{spread}\n")
    header = (f"{'row':10s} {'contender':28s} {'s/epoch':>8s} {'img/s':>9s} {'compile s':>9s} "
              f"{'x nnxp-np':>9s} {'x nnxp-best':>11s} {'%peak':>6s}")
    print(header)
    print("-" * len(header))
    for r in results:
        comp = f"{r['compile_seconds']:.2f}" if r["compile_seconds"] else "-"
        print(f"{r['row']:10s} {r['contender']:28s} {r['median_seconds']:8.3f} "
              f"{r['images_per_second']:9.0f} {comp:>9s} {r.get('vs_nnxp_numpy', 0):9.2f} "
              f"{r.get('vs_nnxp_best', 0):11.2f} {100 * r['fraction_of_peak']:6.1f}")
    evals = [r for r in results if "evaluation_seconds" in r]
    if evals:
        print("\nevaluation of 10,000 validation images (accuracy + cost, on the device):")
        for r in evals:
            print(f"  {r['contender']:28s} {r['evaluation_seconds'] * 1e3:7.1f} ms = "
                  f"{100 * r['evaluation_fraction_of_epoch']:.1f}% of an epoch")
    for m in memory:
        print(f"\npeak memory, nnxp-{m['backend']}-{m['dtype']} training run: "
              f"{m['peak_rss_bytes'] / 2**20:.0f} MB (budget 2 x {m['dataset_bytes'] / 2**20:.0f}"
              f" MB + 200 MB = {m['budget_bytes'] / 2**20:.0f} MB): "
              f"{'within' if m['within_budget'] else 'OVER'} budget")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per round (after one "
                   "warm-up epoch)")
    p.add_argument("--rounds", type=int, default=3, help="rounds over all contenders")
    p.add_argument("--backends", default=None, help="nnxp backends (default: installed)")
    p.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated")
    p.add_argument("--no-memory", dest="memory", action="store_false")
    p.add_argument("--no-evaluation", dest="evaluation", action="store_false")
    p.add_argument("--device", default=None, help="device for nnxp's backends, e.g. gpu")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_mnist.json"))
    args = p.parse_args(argv)
    args.baselines = [b for b in args.baselines.split(",") if b]
    backends = args.backends.split(",") if args.backends else installed_backends()
    data = load_split("float32")
    peaks = [baselines.matmul_flops("float32")]
    results = []
    for row in args.rows.split(","):
        print(f"row {row} ...", file=sys.stderr, flush=True)
        results += run_row(row, args, backends, data)
        peaks.append(baselines.matmul_flops("float32"))
    # the machine's matmul rate, measured before and after every row: the best of them is
    # what this machine can do; the spread says how much the shared machine varied
    gflops = max(peaks)
    add_ratios(results)
    add_flops(results, gflops)
    memory = [peak_memory(b) for b in ("numpy", "jax") if b in backends] if args.memory else []
    print_table(results, gflops, memory, peaks)
    report = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "python": platform.python_version(), "numpy": np.__version__,
                          "matmul_gflops_float32": gflops,
                          "matmul_gflops_float32_measurements": peaks},
              "settings": {"eta": ETA, "lmbda": LMBDA, "epochs_timed": args.epochs,
                           "rounds": args.rounds,
                           "n_train": 50000},
              "results": results, "memory": memory,
              "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    from nnxp.files import atomic_write_text
    atomic_write_text(args.out, json.dumps(report, indent=1))
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
