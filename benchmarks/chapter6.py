"""The book's chapter-6 table, trained with nnxp.compat.network3 (the book's code, its import
changed), row by row, next to the book's figures.

    python benchmarks/chapter6.py                              every row, full length, seed 0
    python benchmarks/chapter6.py --rows shallow,conv --seeds 0,1,2
    python benchmarks/chapter6.py --rows 1-4 --epochs 5        shortened, and labelled so
    python benchmarks/chapter6.py --native --rows 7,8          nnxp.Network / nnxp.Population
    python benchmarks/chapter6.py --backend jax --device gpu --json chapter6.json

Rows (``--rows``: names or numbers, e.g. ``1,3`` or ``2-4``; mini-batch 10 everywhere):

    1 shallow   97.80%  FullyConnected(784 -> 100, sigmoid), Softmax; 60 epochs, eta 0.1
    2 conv      98.78%  + ConvPool(20 filters 5x5, 2x2 pool) in front (sigmoid)
    3 dbl_conv  99.06%  + a second ConvPool (40 filters 5x5), sigmoid, eta 0.1
    4 relu      99.23%  ReLU everywhere, eta 0.03, lmbda 0.1
    5 expanded  99.37%  row 4 on the expanded training set (nnxp.datasets.expand_mnist():
                        250,000 images)
    6 extra_fc  99.43%  row 5 plus a second FullyConnected(100 -> 100, ReLU)
    7 dropout   99.60%  FullyConnected(640 -> 1000) and (1000 -> 1000), ReLU, dropout 0.5 on
                        them and on the softmax layer; expanded data, 40 epochs, eta 0.03,
                        no L2 (the book's call has no lmbda)
    8 ensemble  99.67%  five row-7 networks voting: each test image gets the plurality of
                        their predictions (``Counter(p).most_common(1)``, the book's conv.py),
                        made with each network's final weights

For each row and seed, nnxp's figure is what the book reports: the test accuracy at the epoch
of the best validation accuracy (network3's "Corresponding test accuracy" line); the ensemble's
is the voted accuracy on the test set.  ``--seeds``: each seeds NumPy's global generator
(``np.random.seed``) just before a network is built, where network3 draws its initial weights;
the dropout masks come from network3's fixed seed, the same for every network, as in the book.
The ensemble for seed s is made of the networks of seeds s, s + 100, ..., s + 400 (the row-7
network of seed s, when row 7 ran with seed s in the same invocation, is reused).

Shortened runs are labelled so in the table and the JSON: ``--epochs N`` (every row N epochs
instead of the book's), ``--train-images N`` and ``--eval-images N`` (the first N images of
the training set, and of the validation and test sets).  Options: ``--backend`` and
``--device`` (nnxp's), ``--json PATH`` (every figure, rewritten atomically after each row, so a
long run interrupted keeps its finished rows).  Dtype: float32 (the book's ``GPU = True``),
``NNXP_FLOATX=float64`` for float64.  network3's own lines are printed as training goes.

``--native`` trains the same rows through nnxp's own API instead: ``nnxp.Network`` with layer
objects (``native_entries`` reads them from the row's network3 layers, so each row is defined
once) for rows 1-7, and row 8 as ONE ``nnxp.Population`` of five row-7 networks (seeds s,
s + 100, ..., s + 400, trained as one program; no row-7 network is reused), then ``pop.vote``
on the test set with the final weights.  The procedure is network3's: mini-batches in the
given order (``shuffle=False``), whole ones only (each split cut to a multiple of 10), the
mean log-likelihood, network3's L2 (its lmbda / number of mini-batches is nnxp's lmbda / n, so
nnxp gets lmbda x 10), Theano's max-pool gradient, network3's initial scales (Dense weights
N(0, 1/n_out), the softmax at zero), and the test accuracy at the epoch of the best validation
accuracy (network3's report, its lines printed).  What differs: the initial weights are drawn
from nnxp's seed (``Network(seed=s)``), not NumPy's global generator, and each network's dropout
masks from its own seed's stream (nnxp.masks), not network3's one fixed seed; so a seed's
numbers are not the network3 path's.  ``tests/test_ensemble.py`` checks that, given the same
initial weights and mask generator, the native row-4 and row-7 networks end an epoch on
network3's weights.  The JSON is the same, with ``"api": "native"`` (``"network3"`` otherwise),
and the ensemble's run also lists each member's network3-style result (``"members"``).

The whole table on a GPU (60 + 60 + 60 + 60 + 60 + 60 + 40 + 4 x 40 = 560 epochs: 9.2 million
mini-batches, 8 million of them on the expanded set's 25,000 per epoch):

    python benchmarks/chapter6.py --backend jax --device gpu --json chapter6.json
    python benchmarks/chapter6.py --native --backend jax --device gpu --json chapter6_native.json
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import io
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnxp  # noqa: E402
from benchmarks import _cli  # noqa: E402
from nnxp import layers  # noqa: E402
from nnxp.compat import network3 as n3  # noqa: E402

MINI_BATCH_SIZE = 10
ENSEMBLE_SIZE = 5
ENSEMBLE_STRIDE = 100      # member k of the ensemble of seed s has seed s + k * ENSEMBLE_STRIDE
GPU_COMMAND = "python benchmarks/chapter6.py --backend jax --device gpu --json chapter6.json"
NATIVE_GPU_COMMAND = ("python benchmarks/chapter6.py --native --backend jax --device gpu --json "
                      "chapter6_native.json")


def _conv1(m, fn):
    return n3.ConvPoolLayer(image_shape=(m, 1, 28, 28), filter_shape=(20, 1, 5, 5),
                            poolsize=(2, 2), activation_fn=fn)


def _conv2(m, fn):
    return n3.ConvPoolLayer(image_shape=(m, 20, 12, 12), filter_shape=(40, 20, 5, 5),
                            poolsize=(2, 2), activation_fn=fn)


def shallow(m):
    return [n3.FullyConnectedLayer(n_in=784, n_out=100), n3.SoftmaxLayer(n_in=100, n_out=10)]


def conv(m):
    return [_conv1(m, n3.sigmoid), n3.FullyConnectedLayer(n_in=20 * 12 * 12, n_out=100),
            n3.SoftmaxLayer(n_in=100, n_out=10)]


def dbl_conv(m):
    return [_conv1(m, n3.sigmoid), _conv2(m, n3.sigmoid),
            n3.FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100),
            n3.SoftmaxLayer(n_in=100, n_out=10)]


def relu(m):
    return [_conv1(m, n3.ReLU), _conv2(m, n3.ReLU),
            n3.FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=n3.ReLU),
            n3.SoftmaxLayer(n_in=100, n_out=10)]


def extra_fc(m):
    return [_conv1(m, n3.ReLU), _conv2(m, n3.ReLU),
            n3.FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=n3.ReLU),
            n3.FullyConnectedLayer(n_in=100, n_out=100, activation_fn=n3.ReLU),
            n3.SoftmaxLayer(n_in=100, n_out=10)]


def dropout(m):
    return [_conv1(m, n3.ReLU), _conv2(m, n3.ReLU),
            n3.FullyConnectedLayer(n_in=40 * 4 * 4, n_out=1000, activation_fn=n3.ReLU,
                                   p_dropout=0.5),
            n3.FullyConnectedLayer(n_in=1000, n_out=1000, activation_fn=n3.ReLU,
                                   p_dropout=0.5),
            n3.SoftmaxLayer(n_in=1000, n_out=10, p_dropout=0.5)]


@dataclass(frozen=True)
class Row:
    name: str
    book: float            # the book's test accuracy, percent
    layers: object         # mini_batch_size -> [network3 layers]
    epochs: int
    eta: float
    lmbda: float
    expanded: bool
    what: str


ROWS = [
    Row("shallow", 97.80, shallow, 60, 0.1, 0.0, False, "FC 100 sigmoid"),
    Row("conv", 98.78, conv, 60, 0.1, 0.0, False, "+ conv-pool 20"),
    Row("dbl_conv", 99.06, dbl_conv, 60, 0.1, 0.0, False, "+ conv-pool 40"),
    Row("relu", 99.23, relu, 60, 0.03, 0.1, False, "ReLU, eta 0.03, lmbda 0.1"),
    Row("expanded", 99.37, relu, 60, 0.03, 0.1, True, "expanded data"),
    Row("extra_fc", 99.43, extra_fc, 60, 0.03, 0.1, True, "+ FC 100 ReLU"),
    Row("dropout", 99.60, dropout, 40, 0.03, 0.0, True, "dropout 0.5, FC 1000 x 2"),
    Row("ensemble", 99.67, dropout, 40, 0.03, 0.0, True, "5 dropout nets voting"),
]
BY_NAME = {row.name: row for row in ROWS}

_BEST = re.compile(r"Best validation accuracy of ([0-9.]+)% obtained at iteration (\d+)")
_TEST = re.compile(r"Corresponding test accuracy of ([0-9.]+)%")


def parse_rows(spec):
    """"1,3", "2-4", "shallow,relu" or "all" -> [Row, ...] in the table's order."""
    if spec.strip() == "all":
        return list(ROWS)
    chosen = set()
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part in BY_NAME:
            chosen.add(part)
            continue
        lo, _, hi = part.partition("-")
        try:
            numbers = range(int(lo), int(hi or lo) + 1)
        except ValueError:
            raise ValueError(f"unknown row {part!r}; rows are 1-{len(ROWS)} or "
                             f"{', '.join(BY_NAME)}") from None
        if not numbers or numbers[0] < 1 or numbers[-1] > len(ROWS):
            raise ValueError(f"row numbers run from 1 to {len(ROWS)}, got {part!r}")
        chosen.update(ROWS[k - 1].name for k in numbers)
    return [row for row in ROWS if row.name in chosen]


# -- data ------------------------------------------------------------------------------------------

class Data:
    """The splits, loaded once each: MNIST (network3.load_data_shared) and, when a row needs
    it, the expanded training set; sliced to --train-images / --eval-images."""

    def __init__(self, train_images=None, eval_images=None):
        self.train_images, self.eval_images = train_images, eval_images
        self._mnist = self._expanded = None

    @staticmethod
    def _slice(pair, n):
        x, y = (v.get_value(borrow=True) if isinstance(v, n3.SharedValue) else v for v in pair)
        return (x, y) if n is None else (x[:n], y[:n])

    def splits(self, expanded):
        if self._mnist is None:
            training, validation, test = n3.load_data_shared()
            self._mnist = (self._slice(training, self.train_images),
                           self._slice(validation, self.eval_images),
                           self._slice(test, self.eval_images))
        training, validation, test = self._mnist
        if expanded:
            if self._expanded is None:
                from nnxp.datasets import expand_mnist
                x, y = expand_mnist(dtype=n3.floatX(), backend="numpy",
                                    n_train=self.train_images)[0]
                self._expanded = (x, np.asarray(y, dtype=np.int32))
            training = self._expanded
        return training, validation, test


# -- training ----------------------------------------------------------------------------------

class _Tee(io.TextIOBase):
    """Writes through to ``out`` and keeps a copy."""

    def __init__(self, out):
        self.out, self.kept = out, io.StringIO()

    def write(self, s):
        self.kept.write(s)
        self.out.write(s)
        return len(s)

    def flush(self):
        self.out.flush()


def train(row, seed, epochs, data, label=""):
    """One network of ``row`` trained from seed ``seed``: (net, result dict)."""
    training, validation, test = data.splits(row.expanded)
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        net = n3.Network(row.layers(MINI_BATCH_SIZE), MINI_BATCH_SIZE)
    finally:
        np.random.set_state(state)
    print(f"\n== {row.name}{label}, seed {seed}: {row.what}; {epochs} epochs, eta {row.eta}, "
          f"lmbda {row.lmbda}, {training[0].shape[0]} training images", flush=True)
    tee = _Tee(sys.stdout)
    start = time.perf_counter()
    with contextlib.redirect_stdout(tee):
        net.SGD(training, epochs, MINI_BATCH_SIZE, row.eta, validation, test, lmbda=row.lmbda)
    seconds = time.perf_counter() - start
    lines = tee.kept.getvalue()
    best, test_line = _BEST.search(lines), _TEST.search(lines)
    return net, {"seed": seed, "seconds": seconds,
                 "best_validation_accuracy": float(best.group(1)),
                 "best_iteration": int(best.group(2)),
                 "test_accuracy": float(test_line.group(1))}


# -- the native API (--native) -------------------------------------------------------------------

def network3_weight(rng, shape):
    """network3's FullyConnectedLayer weights, N(0, 1/n_out), in nnxp's (n_out, n_in)."""
    return rng.standard_normal(shape) * math.sqrt(1.0 / shape[0])


def book_layers(row):
    """The row's network3 layers, built without touching NumPy's global generator."""
    state = np.random.get_state()
    try:
        return row.layers(MINI_BATCH_SIZE)
    finally:
        np.random.set_state(state)


def native_entries(row):
    """``nnxp.Network`` sizes for ``row``, read from its network3 layers (one definition per
    row): the nnxp layer each book layer runs on (ConvPool with Theano's max-pool gradient,
    Dense and Softmax with their p_dropout), network3's initial scales (ConvPool's default is
    network3's; Dense gets ``network3_weight``; Softmax starts at zero), and a Reshape or
    Flatten wherever the book's layers change shape."""
    entries, shape = [784], (784,)
    for book in book_layers(row):
        wanted = tuple(book.input_shape)
        if wanted != shape:
            entries.append(layers.Flatten(len(shape)) if len(wanted) == 1
                           else layers.Reshape(wanted, len(shape)))
        layer = book.layer
        if isinstance(layer, layers.Dense):
            layer = dataclasses.replace(layer, weight_init=network3_weight)
        entries.append(layer)
        shape = tuple(book.output_shape)
    return entries


def whole(pair):
    """The whole mini-batches of a split only, as network3 uses."""
    x, y = pair
    n = x.shape[0] // MINI_BATCH_SIZE * MINI_BATCH_SIZE
    return x[:n], y[:n]


class BestValidation:
    """network3's report for K >= 1 members, from the native API's epoch records: after each
    epoch, each member whose validation accuracy is at least its best so far gets its test
    accuracy measured (``accuracy(test)``: one count per member) and remembered; prints
    network3's lines (one per member)."""

    def __init__(self, k, validation, test, batches):
        self.n_validation, self.test, self.batches = validation[0].shape[0], test, batches
        self.best = [(-1.0, None, None)] * k    # (validation %, iteration, test %)

    def update(self, records, accuracy):
        improved = [r is not None and 100.0 * r["evaluation_accuracy"] / self.n_validation
                    >= best[0] for r, best in zip(records, self.best)]
        counts = accuracy(self.test) if any(improved) else None
        for k, (r, up) in enumerate(zip(records, improved)):
            if r is None:
                continue
            value = 100.0 * r["evaluation_accuracy"] / self.n_validation
            who = f" (member {k + 1})" if len(self.best) > 1 else ""
            print(f"Epoch {r['epoch']}{who}: validation accuracy {value:.2f}%", flush=True)
            if up:
                test = 100.0 * counts[k] / self.test[0].shape[0]
                self.best[k] = (value, self.batches * (r["epoch"] + 1) - 1, test)
                print(f"This is the best validation accuracy to date.\nThe corresponding "
                      f"test accuracy is {test:.2f}%", flush=True)

    def result(self, k, seed, **more):
        value, iteration, test = self.best[k]
        return {"seed": seed, **more, "best_validation_accuracy": value,
                "best_iteration": iteration, "test_accuracy": test}


def native_sgd(model, row, epochs, data, tracker):
    """network3's SGD through the native API: mini-batches in order (``shuffle=False``), whole
    ones only (``whole``), lmbda per mini-batch as network3's (its L2 term is lmbda / number
    of mini-batches, nnxp's lmbda / n: so lmbda x mini_batch_size here)."""
    training, validation, _ = data
    model.SGD(training, epochs, MINI_BATCH_SIZE, row.eta, lmbda=row.lmbda * MINI_BATCH_SIZE,
              evaluation_data=validation, monitor_evaluation_accuracy=True, shuffle=False,
              callbacks=[tracker])


def native_splits(row, data):
    return tuple(whole(pair) for pair in data.splits(row.expanded))


def train_native(row, seed, epochs, data):
    """One network of ``row``, native API, seed ``seed``: the result dict (as ``train``)."""
    splits = native_splits(row, data)
    net = nnxp.Network(native_entries(row), cost=nnxp.LogLikelihoodCost, seed=seed,
                       dtype=n3.floatX())
    tracker = BestValidation(1, splits[1], splits[2], splits[0][0].shape[0] // MINI_BATCH_SIZE)
    print(f"\n== {row.name} (native), seed {seed}: {row.what}; {epochs} epochs, eta {row.eta}, "
          f"lmbda {row.lmbda}, {splits[0][0].shape[0]} training images", flush=True)
    start = time.perf_counter()
    native_sgd(net, row, epochs, splits,
               lambda record, net: tracker.update([record], lambda d: [net.accuracy(d)]))
    return tracker.result(0, seed, seconds=time.perf_counter() - start)


def ensemble_native(row, seed, epochs, data):
    """Row 8 as one ``nnxp.Population`` of five row-7 networks (seeds s, s + 100, ...), then
    ``pop.vote`` on the test set with the final weights (the book's conv.py votes with its
    networks' final weights): the result dict, with each member's network3-style report."""
    splits = native_splits(row, data)
    seeds = [seed + k * ENSEMBLE_STRIDE for k in range(ENSEMBLE_SIZE)]
    pop = nnxp.Population(native_entries(row), seeds=seeds, cost=nnxp.LogLikelihoodCost,
                          dtype=n3.floatX())
    tracker = BestValidation(len(seeds), splits[1], splits[2],
                             splits[0][0].shape[0] // MINI_BATCH_SIZE)
    print(f"\n== {row.name} (native), seeds {seeds} as one Population: {row.what}; {epochs} "
          f"epochs, eta {row.eta}, {splits[0][0].shape[0]} training images", flush=True)
    start = time.perf_counter()
    native_sgd(pop, row, epochs, splits,
               lambda records, pop: tracker.update(records, pop.accuracy))
    x, y = splits[2]
    accuracy = 100.0 * float(np.mean(pop.vote(x) == np.asarray(y)))
    print(f"Ensemble of {ENSEMBLE_SIZE} (seed {seed}): accuracy is {accuracy:.2f}%")
    return {"seed": seed, "seconds": time.perf_counter() - start, "test_accuracy": accuracy,
            "member_seeds": seeds,
            "members": [tracker.result(k, s) for k, s in enumerate(seeds)]}


def ensemble_accuracy(nets, test):
    """The book's vote: per test image the most common prediction of the nets (ties: the one
    met first, in the nets' order), over the whole mini-batches of the test set; percent."""
    x, y = test
    batches = x.shape[0] // MINI_BATCH_SIZE
    predictions = [np.concatenate([np.asarray(net.test_mb_predictions(i))
                                   for i in range(batches)]) for net in nets]
    votes = [collections.Counter(p).most_common(1)[0][0] for p in zip(*predictions)]
    return 100.0 * float(np.mean(np.asarray(votes) == np.asarray(y[:batches * MINI_BATCH_SIZE])))


def run_row(row, args, data, trained):
    """Every seed of ``row``; ``trained`` keeps ("dropout", seed) -> net for the ensemble."""
    epochs = args.epochs or row.epochs
    results = []
    for seed in args.seeds:
        if args.native:
            results.append(ensemble_native(row, seed, epochs, data) if row.name == "ensemble"
                           else train_native(row, seed, epochs, data))
            continue
        if row.name != "ensemble":
            net, result = train(row, seed, epochs, data)
            if row.name == "dropout":
                trained[(row.name, seed)] = net  # kept for the ensemble only
            results.append(result)
            continue
        members, start = [], time.perf_counter()
        for k in range(ENSEMBLE_SIZE):
            member_seed = seed + k * ENSEMBLE_STRIDE
            net = trained.get(("dropout", member_seed))
            if net is None:
                net, _ = train(row, member_seed, epochs, data, f" member {k + 1}")
                trained[("dropout", member_seed)] = net
            members.append(net)
        accuracy = ensemble_accuracy(members, data.splits(True)[2])
        print(f"Ensemble of {ENSEMBLE_SIZE} (seed {seed}): accuracy is {accuracy:.2f}%")
        results.append({"seed": seed, "seconds": time.perf_counter() - start,
                        "test_accuracy": accuracy,
                        "member_seeds": [seed + k * ENSEMBLE_STRIDE
                                         for k in range(ENSEMBLE_SIZE)]})
    accuracies = [r["test_accuracy"] for r in results]
    return {"row": row.name, "number": ROWS.index(row) + 1, "what": row.what,
            "book": row.book, "epochs": epochs, "book_epochs": row.epochs, "eta": row.eta,
            "lmbda": row.lmbda, "expanded": row.expanded,
            "shortened": shortened(args, epochs, row), "runs": results,
            "mean": float(np.mean(accuracies)), "best": float(np.max(accuracies))}


def shortened(args, epochs, row):
    """How this row differs from the book's run, or "" when it is full length."""
    notes = []
    if epochs != row.epochs:
        notes.append(f"{epochs} of {row.epochs} epochs")
    if args.train_images:
        notes.append(f"first {args.train_images} training images")
    if args.eval_images:
        notes.append(f"first {args.eval_images} validation and test images")
    return "; ".join(notes)


# -- report --------------------------------------------------------------------------------------

def print_table(report):
    api = ("nnxp.Network / nnxp.Population (native)" if report["api"] == "native"
           else "nnxp.compat.network3")
    print(f"\nchapter 6 with {api} on {report['backend']} "
          f"({report['dtype']}), seeds {report['seeds']}:")
    print(f"  {'#':>2s} {'row':9s} {'what':27s} {'book %':>7s} {'nnxp % (per seed)':>22s} "
          f"{'mean':>6s} {'h:mm:ss':>8s}  length")
    for r in report["rows"]:
        per_seed = " ".join(f"{run['test_accuracy']:.2f}" for run in r["runs"])
        seconds = round(sum(run["seconds"] for run in r["runs"]))
        clock = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        length = f"SHORTENED: {r['shortened']}" if r["shortened"] else "full (the book's)"
        print(f"  {r['number']:2d} {r['row']:9s} {r['what']:27s} {r['book']:7.2f} "
              f"{per_seed:>22s} {r['mean']:6.2f} {clock:>8s}  {length}")
    print("\n  nnxp %: the test accuracy at the best validation accuracy (the book's report); "
          "the ensemble's: its vote on the test set.")
    print(f"  The whole table on a GPU: {report['gpu_command']}")


def main(argv=None):
    p = _cli.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="all", help="names or numbers: 1,3 or 2-4 (default all)")
    p.add_argument("--epochs", type=_cli.positive_int, default=None,
                   help="train every row this many epochs (shortened runs are labelled)")
    p.add_argument("--seeds", type=_cli.comma_separated(_cli.nonnegative_int), default="0",
                   help="comma-separated (default 0)")
    p.add_argument("--backend", type=_cli.backend_name, default=None,
                   help="nnxp backend (default: nnxp's choice)")
    p.add_argument("--device", default=None, help="e.g. gpu")
    p.add_argument("--train-images", type=_cli.at_least(MINI_BATCH_SIZE), default=None,
                   help="the first N only (reduced)")
    p.add_argument("--eval-images", type=_cli.at_least(MINI_BATCH_SIZE), default=None,
                   help="the first N validation and test images only (reduced)")
    p.add_argument("--json", default=None, metavar="PATH", help="write every figure here")
    p.add_argument("--native", action="store_true",
                   help="train through nnxp.Network and nnxp.Population (row 8: one "
                        "Population of five) instead of nnxp.compat.network3")
    args = p.parse_args(argv)
    try:
        rows = parse_rows(args.rows)
    except ValueError as exc:
        p.error(str(exc))
    if not args.seeds or not rows:
        p.error("give at least one row and one seed")
    _cli.check_json(p, args.json, what="chapter-6 results")
    data = Data(args.train_images, args.eval_images)
    with nnxp.use_backend(args.backend or nnxp.backends.current().name, args.device) as be:
        report = {"api": "native" if args.native else "network3", "backend": be.name,
                  "device": args.device, "dtype": n3.floatX(),
                  "seeds": args.seeds,
                  "gpu_command": NATIVE_GPU_COMMAND if args.native else GPU_COMMAND,
                  "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": []}
        trained: dict = {}
        for row in rows:
            report["rows"].append(run_row(row, args, data, trained))
            if args.json:
                _cli.write_json(args.json, report, what="chapter-6 results")
    print_table(report)
    if args.json:
        print(f"\nwritten: {args.json}")
    return report


if __name__ == "__main__":
    main()
