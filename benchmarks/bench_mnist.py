"""nnxp against hand-written floors and the libraries a user would pick, interleaved in one run.

    python benchmarks/bench_mnist.py                         the default rows and sections
    python benchmarks/bench_mnist.py --rows canonical --rounds 3 --no-threads --no-loop
    python benchmarks/bench_mnist.py --json /tmp/bench.json  also write every figure as JSON
    python benchmarks/bench_mnist.py --rows canonical,mb100 --backends jax \
        --baselines jax_scan_rows,keras_jax --no-threads --no-loop --no-memory --clock cpu
                                                             nnxp-JAX, its floor and Keras

The work: network2's SGD (sigmoid, cross-entropy, eta 0.5, lmbda 5.0) on MNIST's training
images, one epoch = one permutation drawn on the host.  Rows (``--rows``):

    canonical   [784, 30, 10],   mini-batch 10,   50,000 images (the book's network)
    mb100       [784, 30, 10],   mini-batch 100,  50,000 images
    mb1000      [784, 30, 10],   mini-batch 1000, 50,000 images
    wide        [784, 100, 10],  mini-batch 10,   50,000 images
    w1000       [784, 1000, 10], mini-batch 10,   the first 10,000 images (to keep it short)

Contenders (benchmarks/baselines.py): nnxp on NumPy (float32, float64), JAX and PyTorch
(float32); the hand-written floors ``numpy_vectorized`` (buffers, out=, in-place updates; float32
and float64, NumPy's floor) and ``jax_scan_rows`` (JAX's floor: jit + lax.scan over the shuffled
epoch gathered once, weights stored (n_in, n_out) and used as ``x @ W``, ``jax.nn.sigmoid``),
with two variants kept for comparison, ``jax_scan`` (network2's (n_out, n_in) layout, the
sigmoid written out, gathering each mini-batch inside the step) and ``jax_scan_epoch`` (the same,
gathering the whole epoch first); ``numpy_minimal``; network2's per-example loop (canonical row
only); PyTorch eager; scikit-learn's MLPClassifier; Keras 3 on its JAX backend (``keras_jax``:
``model.fit``, ``jit_compile=True``, SGD, Keras's own shuffle; skipped with a message when keras
is not installed).  Ratios: each nnxp contender against its floor (JAX: ``jax_scan_rows``; the
faster of the two variants when it is not run), PyTorch eager, scikit-learn and Keras, paired.
After the warm-up epoch (one epoch from the start) every contender's accuracy on the 10,000
validation images is recorded ("acc 1 ep"): the contenders do comparable work, not only as much.

How it is timed, so that the figures mean the same thing for every contender:

* **Interleaved epoch by epoch.**  After one warm-up epoch each (JAX compiles there; compile
  time is reported apart), each of ``--rounds`` rounds runs one epoch of every contender, the
  order rotated by one each round: load from elsewhere on a shared machine falls on all of them.
  Ratios are *paired*: the median over rounds of (contender's epoch / its reference's epoch in
  the same round), with the range over rounds; seconds are medians with their range.
  ``--clock cpu`` times the main rows' epochs in this process's CPU time (all its threads)
  instead of elapsed time: on a machine loaded by others it leaves out the waits for a core,
  which are most of the noise, but it does not see a contender that waits or works elsewhere.
* **Data prepared once, apart.**  Every contender gets the host arrays once, untimed in the
  epochs, and converts them its own way (nnxp: ``net.prepare``; the floors: their buffers and
  device copies); that time is reported apart ("prep s").  Each nnxp epoch is one call
  ``net.SGD(dataset, 1, m, 0.5, lmbda=5.0)`` on the prepared Dataset, its own shuffling
  included (a host permutation moved to the device), as for the floors.
* **The same threads.**  Every contender runs inside nnxp's thread policy for its products
  (nnxp.backends.threads: one BLAS / OpenMP thread below 2**28 multiply-adds per product), so
  that no one loses to oversubscription in the main table.  The threads section then runs the
  canonical rows with the machine idle and busy (one CPU-bound process per core, started here),
  with the policy and with the libraries' own thread counts.
* **The machine recorded with every result**: CPU model, cores, BLAS libraries and kernels
  (threadpoolctl), thread counts, library versions, and the load average before and after each
  row and section.

Also measured: a loop of one-epoch ``SGD`` calls on a held Dataset, on read-only host arrays
(prepared once, nnxp.data) and on writeable ones (checked and moved at every call); evaluating
10,000 validation images (accuracy and cost) as a fraction of an epoch; the peak memory of a
whole training run in a fresh process.  Nothing is written unless ``--json PATH`` says where.

GPU figures are not measured on these machines (no CUDA device).  On a GPU machine:

    python benchmarks/bench_mnist.py --backends cupy,numpy --no-threads
    python benchmarks/bench_mnist.py --backends jax --device gpu --no-threads
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
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
from benchmarks import _cli, baselines  # noqa: E402
from nnxp.backends import threads as nnxp_threads  # noqa: E402

ROWS = {
    "canonical": dict(sizes=[784, 30, 10], m=10, n=50000),
    "mb100": dict(sizes=[784, 30, 10], m=100, n=50000),
    "mb1000": dict(sizes=[784, 30, 10], m=1000, n=50000),
    "wide": dict(sizes=[784, 100, 10], m=10, n=50000),
    "w1000": dict(sizes=[784, 1000, 10], m=10, n=10000),
}
DEFAULT_ROWS = "canonical,mb100,w1000"
ETA, LMBDA = 0.5, 5.0
BASELINES = ["numpy_vectorized", "numpy_minimal", "network2_loop", "jax_scan_rows", "jax_scan",
             "jax_scan_epoch", "torch_eager", "sklearn_mlp", "keras_jax"]
JAX_FLOOR = "jax_scan_rows-float32"
# wall: elapsed time; cpu: this process's CPU time, every thread (what the epoch itself used,
# without the time it waited for a core: steadier on a loaded machine, but blind to waiting
# and to work done in other processes)
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
SYNTHETIC_MIN = 5  # --synthetic: a fifth of the images (at least one) is the validation set
SLOW = {"network2_loop": ("canonical",), "numpy_minimal": ("canonical", "mb100"),
        "torch_eager": ("canonical", "mb100", "mb1000", "wide"),
        "sklearn_mlp": ("canonical", "mb100", "mb1000", "wide"),
        "keras_jax": ("canonical", "mb100", "mb1000", "wide")}


def work(sizes, m):
    """Multiply-adds of the largest product of a step (what the thread policy looks at)."""
    return m * max(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _policy_context(library, sizes, m):
    """nnxp's thread policy for these products, applied to ``library``'s threads."""
    if library is None:
        return contextlib.nullcontext()
    return nnxp.backends.load(library).limit_threads(work(sizes, m))


@contextlib.contextmanager
def _library_threads():
    """nnxp leaves the libraries' own thread counts alone inside this block."""
    before = nnxp_threads.get_thread_policy()
    nnxp_threads.set_thread_policy(0)
    try:
        yield
    finally:
        nnxp_threads.set_thread_policy(before)


class NnxpContender:
    """nnxp through its public API: ``net.SGD(dataset, 1, m, eta, lmbda)`` per epoch, on a
    Dataset prepared once (``net.prepare``); nnxp shuffles with its own host permutation."""

    compile_seconds = None
    family = "nnxp"

    def __init__(self, backend, sizes, m, dtype, threads="policy", device=None, data="dataset"):
        self.backend, self.device, self.sizes, self.m = backend, device, sizes, m
        self.dtype, self.threads, self.data_kind = dtype, threads, data
        suffix = "" if threads == "policy" else " [library threads]"
        suffix += "" if data == "dataset" else f" [{data} arrays]"
        self.name = f"nnxp-{backend}-{dtype}{suffix}"
        self.library = backend

    def prepare(self, X, y):
        with nnxp.use_backend(self.backend, self.device):
            self.net = nnxp.Network(self.sizes, seed=0, dtype=self.dtype)
            if self.data_kind == "dataset":
                self.data = self.net.prepare((X, y))
            elif self.data_kind == "read-only":
                X, y = X.copy(), y.copy()
                X.flags.writeable = y.flags.writeable = False
                self.data = (X, y)
            else:
                self.data = (X, y)

    def run_epoch(self, perm):
        del perm  # nnxp draws its own permutation on the host: the same work
        context = _library_threads() if self.threads == "library" else contextlib.nullcontext()
        with context:
            history = self.net.SGD(self.data, 1, self.m, ETA, lmbda=LMBDA)
        if history.compile_seconds:
            self.compile_seconds = (self.compile_seconds or 0.0) + history.compile_seconds

    def accuracy(self, Xv, yv):
        """Fraction of ``Xv`` classified as ``yv``."""
        with nnxp.use_backend(self.backend, self.device):
            return self.net.accuracy((Xv, yv)) / Xv.shape[0]

    def evaluation_seconds(self, Xv, yv, repeats=5):
        """Accuracy and cost over the validation images, in one pass each (what SGD's
        monitoring calls), median of ``repeats`` after one untimed call."""
        data = self.net.prepare((Xv, yv))
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            self.net.measure(data, LMBDA)
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:])


class BaselineContender:
    """A contender of benchmarks/baselines.py, run inside the same thread policy as nnxp
    (``threads="policy"``) or with its libraries' own thread counts (``"library"``)."""

    family = "baseline"

    def __init__(self, name, sizes, m, dtype, threads="policy"):
        options = {}
        kind = name
        if name in ("jax_scan", "jax_scan_epoch"):
            options["gather"] = "epoch" if name == "jax_scan_epoch" else "batch"
            kind = "jax_scan"
        self.inner = baselines.make(kind, sizes, ETA, LMBDA, m, dtype=dtype, **options)
        self.sizes, self.m, self.dtype, self.threads = sizes, m, dtype, threads
        self.base = name
        suffix = "" if threads == "policy" else " [library threads]"
        self.name = f"{name}-{dtype}{suffix}"
        self.library = {"jax_scan": None, "jax_scan_rows": None, "keras_jax": None,
                        "torch_eager": "torch"}.get(kind, "numpy")

    @property
    def compile_seconds(self):
        return self.inner.compile_seconds

    def prepare(self, X, y):
        Y = np.eye(self.sizes[-1], dtype=self.dtype)[y]
        self.inner.prepare(X.astype(self.dtype), Y)

    def accuracy(self, Xv, yv):
        """Fraction of ``Xv`` classified as ``yv`` by the contender's weights (sigmoid layers,
        argmax of the last: the same argmax for scikit-learn's softmax and Keras's logits)."""
        a = Xv.astype(np.float64)
        for W, b in self.inner.weights():
            a = 1.0 / (1.0 + np.exp(-np.clip(a @ W.T.astype(np.float64) + b, -500, 500)))
        return float(np.mean(np.argmax(a, axis=1) == yv))

    def run_epoch(self, perm):
        if self.threads == "policy":
            with _policy_context(self.library, self.sizes, self.m):
                self.inner.run_epoch(perm)
        else:
            self.inner.run_epoch(perm)


# -- the machine -------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict:
    """What the figures were measured on (recorded with every result)."""
    import scipy.linalg.blas  # noqa: F401  (its BLAS is listed too)
    from threadpoolctl import threadpool_info
    info = {"cpu": cpu_model(), "cpus": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "platform": platform.platform(), "python": platform.python_version(),
            "threadpools": [{**{k: p.get(k) for k in ("user_api", "internal_api", "version",
                                                        "architecture", "num_threads",
                                                        "threading_layer")},
                             "library": Path(p["filepath"]).name,
                             "bundled_with": Path(p["filepath"]).parent.name}
                            for p in threadpool_info()],
            "env": {k: os.environ.get(k) for k in ("NNXP_NUM_THREADS", "OMP_NUM_THREADS",
                                                   "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
            "versions": {}, "loadavg_start": loadavg(),
            "thread_policy": f"1 thread below {nnxp_threads.SMALL} multiply-adds per product"}
    for name in ("numpy", "scipy", "jax", "torch", "sklearn", "threadpoolctl"):
        with contextlib.suppress(ImportError):
            info["versions"][name] = __import__(name).__version__
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        # not imported here: keras picks its backend once, at import (baselines.KerasJax)
        info["versions"]["keras"] = importlib.metadata.version("keras")
    with contextlib.suppress(ImportError):
        import torch
        info["torch_threads"] = torch.get_num_threads()
    return info


# -- running -------------------------------------------------------------------------------------

def installed_backends():
    out = []
    for name in ("numpy", "jax", "torch", "cupy"):
        try:
            with nnxp.use_backend(name):
                out.append(name)
        except nnxp.BackendError:
            pass
    return out


def row_contenders(row, args, backends):
    spec = ROWS[row]
    sizes, m = spec["sizes"], spec["m"]
    out = []
    for backend in backends:
        dtypes = ("float32", "float64") if backend == "numpy" else ("float32",)
        if row == "w1000" and backend not in ("numpy", "jax", "cupy"):
            continue
        for dtype in dtypes:
            out.append(NnxpContender(backend, sizes, m, dtype, device=args.device))
    for name in args.baselines:
        if name in SLOW and row not in SLOW[name]:
            continue
        dtypes = ("float32", "float64") if name == "numpy_vectorized" else ("float32",)
        for dtype in dtypes:
            try:
                out.append(BaselineContender(name, sizes, m, dtype))
            except ImportError as exc:
                print(f"  (skipping {name}: {exc})", file=sys.stderr)
    return out


def interleave(contenders, X, y, rounds, label="", validation=None, clock="wall"):
    """Prepare each contender (timed apart), one warm-up epoch each, then ``rounds`` rounds of
    one epoch per contender, the order rotated each round.  Returns {name: record}; with
    ``validation`` (Xv, yv) each record has the accuracy after the warm-up epoch.  ``clock``
    (a key of CLOCKS) times the epochs."""
    records = {}
    for c in contenders:
        start = time.perf_counter()
        c.prepare(X, y)
        records[c.name] = {"contender": c.name, "prep_seconds": time.perf_counter() - start,
                           "epoch_seconds": [], "dtype": c.dtype}
    rng = np.random.default_rng(0)
    for c in contenders:
        start = time.perf_counter()
        c.run_epoch(rng.permutation(X.shape[0]))
        records[c.name]["warmup_seconds"] = time.perf_counter() - start
        if validation is not None:
            records[c.name]["accuracy_after_one_epoch"] = c.accuracy(*validation)
    for r in range(rounds):
        perm = rng.permutation(X.shape[0])
        k = r % len(contenders)
        for c in contenders[k:] + contenders[:k]:
            start = CLOCKS[clock]()
            c.run_epoch(perm)
            records[c.name]["epoch_seconds"].append(CLOCKS[clock]() - start)
        print(f"  {label} round {r + 1}/{rounds} (load {loadavg()})", file=sys.stderr,
              flush=True)
    for c in contenders:
        rec = records[c.name]
        times = rec["epoch_seconds"]
        rec.update(median_seconds=statistics.median(times), min_seconds=min(times),
                   max_seconds=max(times), images_per_second=X.shape[0] / statistics.median(times),
                   compile_seconds=c.compile_seconds)
    return records


def paired(records, name, ref):
    """Median and range over rounds of records[name] / records[ref], epoch by epoch."""
    if name not in records or ref not in records:
        return None
    ratios = [a / b for a, b in zip(records[name]["epoch_seconds"],
                                    records[ref]["epoch_seconds"])]
    return {"vs": ref, "median": statistics.median(ratios), "min": min(ratios),
            "max": max(ratios)}


def add_ratios(records):
    """Each nnxp contender against its floor, PyTorch eager, scikit-learn and Keras (paired).
    JAX's floor is jax_scan_rows; without it, the faster of jax_scan and jax_scan_epoch."""
    jax_floors = [n for n in ("jax_scan-float32", "jax_scan_epoch-float32") if n in records]
    jax_floor = (JAX_FLOOR if JAX_FLOOR in records else
                 min(jax_floors, key=lambda n: records[n]["median_seconds"]) if jax_floors
                 else None)
    for name, rec in records.items():
        if not name.startswith("nnxp-"):
            continue
        backend, dtype = name.split("-")[1], rec["dtype"]
        floor = {"numpy": f"numpy_vectorized-{dtype}", "jax": jax_floor}.get(backend)
        rec["vs_floor"] = paired(records, name, floor) if floor else None
        rec["vs_torch_eager"] = paired(records, name, "torch_eager-float32")
        rec["vs_sklearn"] = paired(records, name, "sklearn_mlp-float32")
        rec["vs_keras"] = paired(records, name, "keras_jax-float32")


def run_rows(args, backends, data):
    out = []
    X_all, y_all = data["train"]
    for row in args.rows:
        spec = ROWS[row]
        n = min(spec["n"], args.n_train or spec["n"], X_all.shape[0])
        X, y = X_all[:n], y_all[:n]
        print(f"row {row} ({n} images) ...", file=sys.stderr, flush=True)
        before = loadavg()
        contenders = row_contenders(row, args, backends)
        records = interleave(contenders, X, y, args.rounds, row, validation=data["validation"],
                             clock=args.clock)
        add_ratios(records)
        result = {"row": row, "sizes": spec["sizes"], "mini_batch_size": spec["m"],
                  "n_train": n, "loadavg_before": before, "loadavg_after": loadavg(),
                  "contenders": list(records.values())}
        if args.evaluation and row == "canonical":
            result["evaluation"] = [
                {"contender": c.name, "seconds": c.evaluation_seconds(*data["validation"]),
                 "fraction_of_epoch": None} for c in contenders
                if isinstance(c, NnxpContender) and c.dtype == "float32"]
            for e in result["evaluation"]:
                e["fraction_of_epoch"] = e["seconds"] / records[e["contender"]]["median_seconds"]
        out.append(result)
    return out


@contextlib.contextmanager
def busy_machine(n):
    """``n`` CPU-bound processes (one per core) for the duration of the block."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(1.0)  # let the load settle in
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def run_threads(args, backends, data):
    """The canonical rows, idle and busy, with the policy and with the libraries' threads."""
    X_all, y_all = data["train"]
    out = []
    for row in args.thread_rows:
        spec = ROWS[row]
        n = min(spec["n"], args.n_train or spec["n"])
        X, y = X_all[:n], y_all[:n]
        sizes, m = spec["sizes"], spec["m"]
        for condition in ("idle", "busy"):
            contenders = [NnxpContender("numpy", sizes, m, "float32"),
                          NnxpContender("numpy", sizes, m, "float32", threads="library"),
                          BaselineContender("numpy_vectorized", sizes, m, "float32"),
                          BaselineContender("numpy_vectorized", sizes, m, "float32",
                                            threads="library")]
            if "torch" in backends:
                contenders += [NnxpContender("torch", sizes, m, "float32"),
                               NnxpContender("torch", sizes, m, "float32", threads="library"),
                               BaselineContender("torch_eager", sizes, m, "float32"),
                               BaselineContender("torch_eager", sizes, m, "float32",
                                                 threads="library")]
            if "jax" in backends:
                contenders.append(NnxpContender("jax", sizes, m, "float32"))
            print(f"threads: row {row}, machine {condition} ...", file=sys.stderr, flush=True)
            cm = busy_machine(os.cpu_count() or 1) if condition == "busy" \
                else contextlib.nullcontext()
            with cm:
                before = loadavg()
                records = interleave(contenders, X, y, args.thread_rounds, f"{row}/{condition}")
                after = loadavg()
            for name, rec in records.items():
                if name.endswith("[library threads]"):
                    rec["vs_policy"] = paired(records, name,
                                              name.replace(" [library threads]", ""))
            out.append({"row": row, "condition": condition, "n_train": n,
                        "busy_processes": os.cpu_count() if condition == "busy" else 0,
                        "loadavg_before": before, "loadavg_after": after,
                        "contenders": list(records.values())})
    return out


def run_loop(args, backends, data):
    """A loop of one-epoch SGD calls: held Dataset, read-only arrays, writeable arrays."""
    X, y = data["train"]
    if args.n_train:
        X, y = X[:args.n_train], y[:args.n_train]
    out = []
    for backend in [b for b in ("numpy", "jax") if b in backends]:
        contenders = [NnxpContender(backend, [784, 30, 10], 10, "float32", data=kind)
                      for kind in ("dataset", "read-only", "writeable")]
        print(f"SGD loop on {backend} ...", file=sys.stderr, flush=True)
        before = loadavg()
        records = interleave(contenders, X, y, args.rounds, f"loop/{backend}")
        ref = contenders[0].name
        for name, rec in records.items():
            rec["overhead_seconds"] = rec["median_seconds"] - records[ref]["median_seconds"]
            rec["vs_dataset"] = paired(records, name, ref)
        out.append({"backend": backend, "loadavg_before": before, "loadavg_after": loadavg(),
                    "contenders": list(records.values())})
    return out


def peak_memory(backend, dtype="float32"):
    """Peak RSS of a fresh process that loads MNIST and trains two epochs with nnxp (VmHWM),
    against the budget 2 x (MNIST arrays) + 200 MB."""
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
                         check=True, env={**os.environ, "NNXP_BACKEND": backend,
                                          "PYTHONPATH": str(ROOT)})
    size, peak = map(int, out.stdout.split())
    budget = 2 * size + 200 * 2**20
    return {"backend": backend, "dtype": dtype, "dataset_bytes": size, "peak_rss_bytes": peak,
            "budget_bytes": budget, "within_budget": peak < budget}


# -- printing ----------------------------------------------------------------------------------

def _ratio(r):
    if not r:
        return "-"
    return f"{r['median']:.2f} [{r['min']:.2f}-{r['max']:.2f}]"


def _secs(rec):
    return (f"{rec['median_seconds']:.3f} [{rec['min_seconds']:.3f}-"
            f"{rec['max_seconds']:.3f}]")


def print_report(report):
    m = report["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cpus']} CPUs; load average at start {m['loadavg_start']}")
    for p in m["threadpools"]:
        print(f"  {p['user_api']}: {p['internal_api']} {p['version'] or ''} "
              f"({p['architecture'] or '-'}), {p['num_threads']} threads, {p['library']} "
              f"({p['bundled_with']})")
    print(f"  versions: {', '.join(f'{k} {v}' for k, v in m['versions'].items())}; "
          f"torch threads {m.get('torch_threads', '-')}; thread policy: {m['thread_policy']}")
    for row in report["rows"]:
        print(f"\nrow {row['row']}: {row['sizes']}, mini-batch {row['mini_batch_size']}, "
              f"{row['n_train']} images, {report['settings']['rounds']} rounds, "
              f"{report['settings']['clock']} clock; load "
              f"{row['loadavg_before']} -> {row['loadavg_after']}")
        header = (f"  {'contender':34s} {'x floor [range]':>18s} {'x torch eager':>18s} "
                  f"{'x sklearn':>18s} {'x keras':>18s} {'s/epoch [range]':>24s} {'prep s':>7s} "
                  f"{'compile s':>9s} {'acc 1 ep':>8s}")
        print(header)
        for rec in row["contenders"]:
            comp = f"{rec['compile_seconds']:.2f}" if rec["compile_seconds"] else "-"
            acc = rec.get("accuracy_after_one_epoch")
            acc = f"{acc:.4f}" if acc is not None else "-"
            print(f"  {rec['contender']:34s} {_ratio(rec.get('vs_floor')):>18s} "
                  f"{_ratio(rec.get('vs_torch_eager')):>18s} {_ratio(rec.get('vs_sklearn')):>18s} "
                  f"{_ratio(rec.get('vs_keras')):>18s} {_secs(rec):>24s} "
                  f"{rec['prep_seconds']:7.3f} {comp:>9s} {acc:>8s}")
        for e in row.get("evaluation", []):
            print(f"  evaluation of the validation images, {e['contender']}: "
                  f"{e['seconds'] * 1e3:.1f} ms = {100 * e['fraction_of_epoch']:.1f}% of an epoch")
    if report["threads"]:
        print("\nthreads: nnxp's policy against the libraries' own thread counts, machine idle "
              "and busy (one CPU-bound process per core)")
        for sec in report["threads"]:
            print(f"  row {sec['row']}, {sec['condition']} (load {sec['loadavg_before']} -> "
                  f"{sec['loadavg_after']}):")
            for rec in sec["contenders"]:
                print(f"    {rec['contender']:46s} {_secs(rec):>24s}   library/policy "
                      f"{_ratio(rec.get('vs_policy'))}")
    for sec in report["loop"]:
        print(f"\nloop of one-epoch SGD calls on {sec['backend']} (load {sec['loadavg_before']}"
              f" -> {sec['loadavg_after']}):")
        for rec in sec["contenders"]:
            print(f"  {rec['contender']:50s} {_secs(rec):>24s}  x held Dataset "
                  f"{_ratio(rec['vs_dataset'])}  (+{rec['overhead_seconds'] * 1e3:.0f} ms/call)")
    for mem in report["memory"]:
        print(f"\npeak memory, nnxp-{mem['backend']}-{mem['dtype']} training run: "
              f"{mem['peak_rss_bytes'] / 2**20:.0f} MB (budget 2 x "
              f"{mem['dataset_bytes'] / 2**20:.0f} MB + 200 MB = "
              f"{mem['budget_bytes'] / 2**20:.0f} MB): "
              f"{'within' if mem['within_budget'] else 'OVER'} budget")


def load_data(args):
    if args.synthetic:
        rng = np.random.default_rng(0)
        n = args.synthetic
        X = rng.random((n, 784), dtype=np.float32)
        y = rng.integers(0, 10, n)
        return {"train": (X, y), "validation": (X[: n // 5], y[: n // 5])}
    from benchmarks._mnist import load_split
    return load_split("float32")


def main(argv=None):
    p = _cli.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default=DEFAULT_ROWS, help=f"comma-separated, of {', '.join(ROWS)}")
    p.add_argument("--rounds", type=_cli.positive_int, default=7,
                   help="interleaved rounds (one epoch each)")
    p.add_argument("--backends", type=_cli.backend_list, default=None,
                   help="nnxp backends, comma-separated (default: installed)")
    p.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated")
    p.add_argument("--thread-rows", default="canonical,mb100",
                   help="rows of the threads section")
    p.add_argument("--thread-rounds", type=_cli.positive_int, default=3)
    p.add_argument("--no-threads", dest="threads", action="store_false")
    p.add_argument("--no-loop", dest="loop", action="store_false")
    p.add_argument("--no-memory", dest="memory", action="store_false")
    p.add_argument("--no-evaluation", dest="evaluation", action="store_false")
    p.add_argument("--clock", default="wall", choices=sorted(CLOCKS),
                   help="epochs of the main rows timed in elapsed time (wall) or in this "
                        "process's CPU time (cpu: for a loaded machine)")
    p.add_argument("--n-train", type=_cli.positive_int, default=None,
                   help="use at most this many images")
    p.add_argument("--synthetic", type=_cli.at_least(SYNTHETIC_MIN), default=None, metavar="N",
                   help="N random images instead of MNIST (smoke tests)")
    p.add_argument("--device", default=None, help="device for nnxp's backends, e.g. gpu")
    p.add_argument("--json", default=None, metavar="PATH", help="write every figure here")
    args = p.parse_args(argv)
    args.rows = [r for r in args.rows.split(",") if r]
    args.thread_rows = [r for r in args.thread_rows.split(",") if r]
    args.baselines = [b for b in args.baselines.split(",") if b]
    unknown = [r for r in args.rows + args.thread_rows if r not in ROWS]
    if unknown:
        p.error(f"unknown rows {unknown}; known: {', '.join(ROWS)}")
    unknown = [b for b in args.baselines if b not in BASELINES]
    if unknown:
        p.error(f"unknown baselines {unknown}; known: {', '.join(BASELINES)}")
    _cli.check_json(p, args.json)
    backends = args.backends or installed_backends()
    data = load_data(args)
    machine = machine_info()
    report = {"machine": machine,
              "settings": {"eta": ETA, "lmbda": LMBDA, "rounds": args.rounds,
                           "clock": args.clock,
                           "thread_rounds": args.thread_rounds, "backends": backends,
                           "baselines": args.baselines,
                           "date": time.strftime("%Y-%m-%d %H:%M:%S")},
              "rows": run_rows(args, backends, data),
              "threads": run_threads(args, backends, data) if args.threads else [],
              "loop": run_loop(args, backends, data) if args.loop else [],
              "memory": ([peak_memory(b) for b in ("numpy", "jax") if b in backends]
                         if args.memory and not args.synthetic else [])}
    machine["loadavg_end"] = loadavg()
    print_report(report)
    if args.json:
        _cli.write_json(args.json, report)  # the folder made if missing
        print(f"\nwritten: {args.json}")
    return report


if __name__ == "__main__":
    main()
