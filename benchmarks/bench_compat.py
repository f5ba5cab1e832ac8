"""nnxp.compat against the book's own per-example code, side by side in one process, on MNIST.

    python benchmarks/bench_compat.py --book-src PATH/TO/BOOK/src
    python benchmarks/bench_compat.py --book-src PATH --rows overfitting --epochs 3 \\
        --backends numpy,jax --json /tmp/bench_compat.json

``--book-src`` is the folder holding the book's ``network.py`` and ``network2.py`` in a Python 3
version (the book's repository is Python 2: use a port, or convert them mechanically with
2to3; they are not part of nnxp).  Without it only nnxp.compat runs.

Rows, figure-script configurations with fewer epochs (``--epochs``):

    overfitting  fig/overfitting.py: network2.Network([784, 30, 10], cost=CrossEntropyCost()),
                 large_weight_initializer(), SGD(training_data[:1000], E, 10, 0.5,
                 evaluation_data=test_data, lmbda=0.0, all four monitor_* flags)
    chapter1     chapter 1: network.Network([784, 30, 10]).SGD(training_data, E, 10, 3.0,
                 test_data=test_data) on all 50,000 training images

Each contender runs the script's calls from ``random.seed(12345678); np.random.seed(12345678)``
as a script does, in a fresh state (nnxp.compat's converted data forgotten; JAX's compilation,
done once per process, comes in the first round only: the median over ``--rounds`` leaves it
out), its prints captured.  Contenders alternate within each round so that load from elsewhere
on a shared machine falls on all of them.  The table shows the median seconds of the whole SGD
call, seconds per epoch, the book's time divided by the contender's, and whether the printed
accuracy lines equal the book's (``exact`` is nnxp.compat with NNXP_COMPAT_EXACT=1).
Results go to the terminal; ``--json PATH`` also writes them as JSON to PATH.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnxp  # noqa: E402
from benchmarks import _cli  # noqa: E402
from nnxp.compat import _shell, mnist_loader, network, network2  # noqa: E402

SEED = 12345678
ROWS = ("overfitting", "chapter1")


def load_book(src):
    """The book's network and network2 modules from ``src``, under names of their own."""
    modules = {}
    for name in ("network", "network2"):
        path = Path(src) / f"{name}.py"
        if not path.is_file():
            sys.exit(f"--book-src {src}: no {name}.py there")
        spec = importlib.util.spec_from_file_location(f"book_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[name] = module
    return modules


def script(row, modules, data, epochs):
    """The figure script's calls with ``modules``; returns its printed lines."""
    training, _, test = data
    random.seed(SEED)
    np.random.seed(SEED)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        start = time.perf_counter()
        if row == "overfitting":
            m = modules["network2"]
            net = m.Network([784, 30, 10], cost=m.CrossEntropyCost())
            net.large_weight_initializer()
            net.SGD(list(training[:1000]), epochs, 10, 0.5, evaluation_data=test, lmbda=0.0,
                    monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                    monitor_training_cost=True, monitor_training_accuracy=True)
        else:
            net = modules["network"].Network([784, 30, 10])
            net.SGD(list(training), epochs, 10, 3.0, test_data=test)
        seconds = time.perf_counter() - start
    return seconds, out.getvalue().splitlines()


class Contender:
    def __init__(self, name, modules, backend=None, exact=False):
        self.name, self.modules, self.backend, self.exact = name, modules, backend, exact
        self.times, self.lines = [], None

    def run(self, row, data, epochs):
        previous = os.environ.get("NNXP_COMPAT_EXACT")
        os.environ["NNXP_COMPAT_EXACT"] = "1" if self.exact else ""
        try:
            _shell.forget_data()
            context = nnxp.use_backend(self.backend) if self.backend else contextlib.nullcontext()
            with context:
                seconds, lines = script(row, self.modules, data, epochs)
        finally:
            if previous is None:
                os.environ.pop("NNXP_COMPAT_EXACT", None)
            else:
                os.environ["NNXP_COMPAT_EXACT"] = previous
        self.times.append(seconds)
        self.lines = lines


def accuracy_lines(lines):
    return [line for line in lines if " / " in line]


def main(argv=None):
    p = _cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--book-src", help="folder with the book's network.py and network2.py "
                                      "(Python 3)")
    p.add_argument("--rows", default="overfitting,chapter1", help=f"of {', '.join(ROWS)}")
    p.add_argument("--epochs", type=_cli.positive_int, default=3)
    p.add_argument("--rounds", type=_cli.positive_int, default=3)
    p.add_argument("--backends", type=_cli.backend_list, default="numpy",
                   help="nnxp.compat's backends, e.g. numpy,jax")
    p.add_argument("--exact", action="store_true", help="also nnxp.compat with "
                                                        "NNXP_COMPAT_EXACT=1 (NumPy)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = p.parse_args(argv)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    for r in rows:
        if r not in ROWS:
            p.error(f"unknown row {r!r}; rows: {', '.join(ROWS)}")
    _cli.check_json(p, args.json)

    book_modules = load_book(args.book_src) if args.book_src else None  # before the data
    data = mnist_loader.load_data_wrapper()
    compat = {"network": network, "network2": network2}
    contenders = []
    if args.book_src:
        contenders.append(Contender("book", book_modules))
    for backend in args.backends:
        contenders.append(Contender(f"nnxp.compat-{backend}", compat, backend))
    if args.exact:
        contenders.append(Contender("nnxp.compat-numpy-exact", compat, "numpy", exact=True))

    results = []
    for row in rows:
        for c in contenders:
            c.times, c.lines = [], None
        for _ in range(args.rounds):
            for c in contenders:
                c.run(row, data, args.epochs)
                print(f"  {row} {c.name}: {c.times[-1]:.2f} s", file=sys.stderr, flush=True)
        book = contenders[0] if args.book_src else None
        book_seconds = statistics.median(book.times) if book else None
        for c in contenders:
            seconds = statistics.median(c.times)
            same = (None if book is None or c is book
                    else accuracy_lines(c.lines) == accuracy_lines(book.lines))
            results.append({"row": row, "contender": c.name, "epochs": args.epochs,
                            "seconds": seconds, "seconds_per_epoch": seconds / args.epochs,
                            "rounds": c.times,
                            "speedup_vs_book": book_seconds / seconds if book else None,
                            "same_accuracy_lines_as_book": same,
                            "accuracy_lines": accuracy_lines(c.lines)})
    print(f"\n{'row':<12} {'contender':<26} {'s (median)':>10} {'s/epoch':>8} "
          f"{'x book':>7}  same lines")
    for r in results:
        speed = f"{r['speedup_vs_book']:.1f}" if r["speedup_vs_book"] else "-"
        same = {None: "-", True: "yes", False: "no"}[r["same_accuracy_lines_as_book"]]
        print(f"{r['row']:<12} {r['contender']:<26} {r['seconds']:>10.2f} "
              f"{r['seconds_per_epoch']:>8.2f} {speed:>7}  {same}")
    if args.json:
        meta = {"command": " ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])),
                "python": platform.python_version(), "numpy": np.__version__,
                "platform": platform.platform(), "cpu": platform.processor(),
                "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
                "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}
        _cli.write_json(args.json, {"meta": meta, "results": results})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
