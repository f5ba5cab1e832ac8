"""Train Nielsen's network on MNIST with nnxp, on any backend.

    python examples/train.py                   # [784, 30, 10], sigmoid, cross-entropy, eta 0.5,
                                               # lmbda 5.0, mini-batch 10, 30 epochs (network2)
    NNXP_BACKEND=jax python examples/train.py  # the same on JAX: each epoch one compiled scan
    python examples/train.py --sizes 784 100 10 --seed 1 --save net.json
    python examples/train.py --init large --eta 0.1 --history large.json --plot large.png
    python examples/train.py --sizes 784 100 10 --activation relu --init he \\
        --cost log_likelihood --eta 0.01 --momentum 0.9 --lmbda 10 --schedule 5 \\
        --epochs 60                            # 98.1% (docs/results.md, (d))
    python examples/train.py --digits 0 1 --n-train 2000 --epochs 3       # a quick look
    python examples/train.py --checkpoint run.json   # interrupted? continue where it was:
    python examples/train.py --resume run.json       # (give the same data flags again)

After every epoch: accuracy and cost on Nielsen's 10,000 validation images (network2's line),
and the seconds the epoch's training took; a progress bar when stdout is a terminal.  At the
end: the accuracy on the 10,000 test images and a summary.  MNIST is read from --data-dir, else
$NNXP_DATA_DIR, else the user cache folder (downloaded there unless --no-download).

Exit status 0; 2 with a one-line message when nnxp refuses (MNIST missing, a hyper-parameter
that makes no sense, a backend that is not installed).
"""

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import time
import warnings

import nnxp
import nnxp.checks
import nnxp.plot
from nnxp.initializers import WEIGHT_INITIALIZERS
from nnxp.files import atomic_write_text, check_writable

ACTIVATIONS = {"sigmoid": nnxp.Sigmoid, "tanh": nnxp.Tanh, "relu": nnxp.ReLU,
               "leaky_relu": nnxp.LeakyReLU, "softmax": nnxp.Softmax, "identity": nnxp.Identity}
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu"]
COSTS = {"quadratic": nnxp.QuadraticCost, "cross_entropy": nnxp.CrossEntropyCost,
         "log_likelihood": nnxp.LogLikelihoodCost}


# flags a resumed run takes from its checkpoint instead (the network and the hyper-parameters)
FROM_CHECKPOINT = ("sizes", "activation", "slope", "output_activation", "cost", "init", "seed",
                   "eta", "lmbda", "l1", "momentum", "nesterov", "mini_batch_size",
                   "early_stopping", "schedule", "engine", "monitor_every", "monitor_subset")


def parse_args(argv=None, given_only=False):
    """The flags as parsed; with ``given_only``, only those typed on the command line (every
    default left out), so that a flag given with its default value counts as given."""
    p = argparse.ArgumentParser(
        description="Train a network on MNIST with nnxp (defaults: network2's chapter 3 run).",
        epilog="Examples: see the top of examples/train.py.")
    net = p.add_argument_group("network")
    net.add_argument("--sizes", type=int, nargs="+", default=[784, 30, 10], metavar="N",
                     help="layer widths, input first (default: 784 30 10)")
    net.add_argument("--activation", choices=HIDDEN, default="sigmoid",
                     help="hidden units (default: sigmoid)")
    net.add_argument("--slope", type=float, default=0.01,
                     help="slope of leaky_relu for z < 0 (default: 0.01)")
    net.add_argument("--output-activation", choices=list(ACTIVATIONS), default=None,
                     help="output units (default: softmax for log_likelihood, else as hidden)")
    net.add_argument("--cost", choices=list(COSTS), default="cross_entropy",
                     help="(default: cross_entropy)")
    net.add_argument("--init", choices=list(WEIGHT_INITIALIZERS), default="default",
                     help="weights: default N(0, 1/n_in) (the default), large N(0, 1), "
                          "he, glorot")
    net.add_argument("--seed", type=int, default=0,
                     help="initial weights and shuffling (default: 0)")
    net.add_argument("--dtype", choices=["float32", "float64"], default=None,
                     help="default: float32 (with --resume: the checkpoint's)")
    sgd = p.add_argument_group("training (mini-batch SGD)")
    sgd.add_argument("--eta", type=float, default=0.5, help="learning rate (default: 0.5)")
    sgd.add_argument("--lmbda", type=float, default=5.0, help="L2 regularization (default: 5.0)")
    sgd.add_argument("--l1", type=float, default=0.0, help="L1 regularization (default: 0)")
    sgd.add_argument("--momentum", type=float, default=0.0,
                     help="momentum coefficient mu (default: 0)")
    sgd.add_argument("--nesterov", action="store_true", help="Nesterov's momentum")
    sgd.add_argument("--mini-batch-size", type=int, default=10, metavar="M",
                     help="examples per step (default: 10)")
    sgd.add_argument("--epochs", type=int, default=None,
                     help="default: 30 (with --resume: the checkpoint's; more extends the run)")
    sgd.add_argument("--early-stopping", type=int, default=None, metavar="N",
                     help="stop after N epochs without better validation accuracy")
    sgd.add_argument("--schedule", type=int, default=None, metavar="N",
                     help="halve eta after N epochs without improvement; stop at eta/128")
    sgd.add_argument("--engine", choices=["plain", "jax"], default=None,
                     help="how epochs run (default: the backend's fastest)")
    sgd.add_argument("--health", action="store_true",
                     help="diagnose the network every epoch (saturation, dead units, ...)")
    run = p.add_argument_group("backend and data")
    run.add_argument("--backend", choices=nnxp.BACKENDS, default=None,
                     help="array library (default: $NNXP_BACKEND, else numpy)")
    run.add_argument("--device", default=None,
                     help="cpu, gpu, gpu:1 ... (default: $NNXP_DEVICE for the backend "
                          "$NNXP_BACKEND names, else the backend's)")
    run.add_argument("--data-dir", default=None, metavar="DIR",
                     help="folder with the MNIST files (default: $NNXP_DATA_DIR, else the "
                          "user cache folder, downloading the files there)")
    run.add_argument("--no-download", action="store_true", help="never download MNIST")
    run.add_argument("--digits", type=int, nargs="+", default=None, metavar="D",
                     help="keep only these digits: --digits 0 1")
    run.add_argument("--n-train", type=int, default=None, metavar="N",
                     help="train on the first N training images (default: all 50,000)")
    run.add_argument("--monitor-every", type=int, default=None, metavar="K",
                     help="also measure validation accuracy and cost every K mini-batches ...")
    run.add_argument("--monitor-subset", type=int, default=1000, metavar="S",
                     help="... on the first S validation images (default: 1000)")
    out = p.add_argument_group("files")
    out.add_argument("--save", metavar="PATH", help="save the trained network (JSON) at the end")
    out.add_argument("--checkpoint", metavar="PATH", help="checkpoint after every epoch")
    out.add_argument("--resume", metavar="PATH", help="continue the run of a checkpoint (its "
                     "network and hyper-parameters, so flags for those are refused; give the "
                     "same data flags)")
    out.add_argument("--other-data", action="store_true",
                     help="with --resume: continue on other data on purpose (another --n-train, "
                          "--digits or --dtype than the checkpoint's run)")
    out.add_argument("--history", metavar="PATH", help="write the history as JSON")
    out.add_argument("--plot", metavar="PATH", help="draw the curves (PNG, needs matplotlib)")
    p.error = lambda message: p.exit(  # bad input: one line, not the whole usage
        2, f"{p.prog}: {message} (see --help)\n")
    if given_only:
        for action in p._actions:
            action.default = argparse.SUPPRESS
    return p.parse_args(argv)


def check_distinct_outputs(args):
    """Two of the files a run writes named by one path: the later write would replace the
    earlier (the network saved at the end replacing the checkpoint the run updates, the
    history replacing the saved network)."""
    written = {"--save": args.save, "--history": args.history, "--plot": args.plot,
               "--checkpoint" if args.checkpoint else "--resume": args.checkpoint or args.resume}
    seen = {}
    for flag, path in written.items():
        if not path:
            continue
        where = os.path.realpath(path)
        if where in seen:
            raise nnxp.ConfigError(
                f"{seen[where]} and {flag} name the same file ({path}): the run writes both, "
                "and the later would replace the earlier; give each its own path")
        seen[where] = flag


def check_new_checkpoint(args):
    """--checkpoint names a file that exists (a run interrupted before, the same command run
    again instead of --resume): refused, as the new run would replace it after its first
    epoch; --resume of that very file continues it in place."""
    path = args.checkpoint
    if not path or not os.path.lexists(path) or (
            args.resume and os.path.realpath(args.resume) == os.path.realpath(path)):
        return
    raise nnxp.ConfigError(f"--checkpoint {path} exists (an earlier run's checkpoint?): this "
                           f"run would replace it after its first epoch; continue it with "
                           f"--resume {path}, or give a new path (or delete the file)")


def build(args):
    """A new Network from the flags, or the checkpoint's with --resume."""
    if args.resume:
        net = nnxp.load(args.resume, dtype=args.dtype)
        if net.checkpoint is None:
            raise nnxp.ConfigError(f"{args.resume} is a network, not a checkpoint; write "
                                   "checkpoints with --checkpoint PATH")
        return net
    act = ACTIVATIONS[args.activation]
    out = ACTIVATIONS.get(args.output_activation)
    return nnxp.Network(
        args.sizes, cost=COSTS[args.cost], seed=args.seed, dtype=args.dtype or "float32",
        activation=act(args.slope) if act is nnxp.LeakyReLU else act,
        output_activation=out(args.slope) if out is nnxp.LeakyReLU else out,
        weight_init=WEIGHT_INITIALIZERS[args.init])


class BarLines:
    """stdout while a tqdm bar is showing: whole lines go through ``bar.write``."""

    def __init__(self, bar, out):
        self.bar, self.out, self.pending = bar, out, ""

    def write(self, text):
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.bar.write(line, file=self.out)
        return len(text)

    def flush(self):
        self.out.flush()


def progress_bar(done, total):
    """A tqdm bar over epochs when stdout is a terminal and tqdm is installed, else None."""
    if not sys.stdout.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=done, unit="epoch", file=sys.stdout, leave=False)


def percent(count, n):
    return f"{count} / {n} ({100.0 * count / n:.2f}%)"


def fit(net, args, training, validation):
    """Train (or resume) with network2's line per epoch, under a progress bar on a terminal."""
    n_val = int(validation[1].shape[0])
    done = net.checkpoint[1].epoch if args.resume else 0
    epochs = args.epochs if args.epochs is not None else (
        net.checkpoint[0].epochs if args.resume else 30)
    bar = progress_bar(done, epochs)

    def on_epoch(record, net):
        if bar is not None:
            bar.update(1)
            bar.set_postfix(accuracy=f"{100 * record['evaluation_accuracy'] / n_val:.2f}%")

    def show_warning(message, category, *where, **more):  # --health: one line, no source
        write = bar.write if bar is not None else print
        write(f"{category.__name__}: {message}", file=sys.stderr)

    options = dict(callbacks=[on_epoch], progress=True, health=args.health)
    redirect = (contextlib.redirect_stdout(BarLines(bar, sys.stdout)) if bar is not None
                else contextlib.nullcontext())
    with redirect, warnings.catch_warnings():
        warnings.showwarning = show_warning
        try:
            if args.resume:
                return net.resume(training, validation, epochs=args.epochs,
                                  checkpoint=args.checkpoint, other_data=args.other_data,
                                  **options)
            return net.SGD(
                training, epochs, args.mini_batch_size, args.eta, lmbda=args.lmbda,
                evaluation_data=validation, monitor_evaluation_accuracy=True,
                monitor_evaluation_cost=True, l1=args.l1, momentum=args.momentum,
                nesterov=args.nesterov, early_stopping=args.early_stopping,
                schedule=args.schedule, monitor_every=args.monitor_every,
                monitor_subset=args.monitor_subset if args.monitor_every else None,
                checkpoint=args.checkpoint, engine=args.engine, **options)
        finally:
            if bar is not None:
                bar.close()


def summary(history, n_val, test_accuracy, n_test, wall):
    records = history.records
    kept = [r for r in records if not r.get("diverged")]  # a diverged epoch's figure is of
    if kept:                                                 # parameters thrown away
        best = max(kept, key=lambda r: r.get("evaluation_accuracy", -1))  # first of the best
        print(f"best validation accuracy: {percent(best['evaluation_accuracy'], n_val)} "
              f"after {best['epoch'] + 1} epochs")
    if history.stop_reason:
        print(f"stopped: {history.stop_reason}")
    print(f"test accuracy: {percent(test_accuracy, n_test)}")
    if history.epoch_seconds:
        print(f"seconds per epoch: {statistics.mean(history.epoch_seconds):.3f} (mean of "
              f"{len(records)}, training only); compile seconds: "
              f"{history.compile_seconds:.2f}; wall seconds: {wall:.1f}")


def main(argv=None):
    args = parse_args(argv)
    for flag in ("save", "checkpoint", "resume", "history", "plot"):
        if getattr(args, flag) == "":  # "" would read as not given: nothing saved or resumed
            raise nnxp.ConfigError(f"--{flag} needs a file path, got an empty one")
    check_distinct_outputs(args)
    nnxp.checks.number("monitor_subset", args.monitor_subset, integer=True)  # used or not
    if args.resume is not None:  # these would be ignored without a word, whatever their value
        typed = vars(parse_args(argv, given_only=True))
        given = [f"--{k.replace('_', '-')}" for k in FROM_CHECKPOINT if k in typed]
        if given:
            raise nnxp.ConfigError(f"--resume continues the checkpoint's run with its network "
                                   f"and hyper-parameters; {', '.join(given)} would be "
                                   f"ignored: drop {'it' if len(given) == 1 else 'them'}")
    if args.other_data and not args.resume:
        raise nnxp.ConfigError("--other-data goes with --resume (a new run trains on the data "
                               "it is given)")
    check_new_checkpoint(args)
    if args.plot:
        nnxp.plot.check_plot_path(args.plot)  # matplotlib and the format: now, not after the run
    for path, what in ((args.save, "network"), (args.history, "history"), (args.plot, "plot")):
        if path:  # a place that cannot be written fails now, not after the run
            check_writable(path, what)
    if args.backend or args.device:
        # no --device: NNXP_DEVICE applies where nnxp applies it (to NNXP_BACKEND's backend)
        nnxp.set_backend(args.backend or nnxp.get_backend(), args.device)
    net = build(args)
    be = net.backend
    print(f"backend {be.name}, device {be.device}, dtype {net.dtype}, sizes {net.sizes}",
          flush=True)
    training, validation, test = nnxp.datasets.load_mnist(
        args.data_dir, download=not args.no_download, digits=args.digits,
        n_train=args.n_train, dtype=net.dtype)
    n_train, n_val, n_test = (int(y.shape[0]) for _, y in (training, validation, test))
    start = time.perf_counter()
    history = fit(net, args, training, validation)
    wall = time.perf_counter() - start
    test_accuracy = net.accuracy(test)

    if args.save:
        net.save(args.save)
    config = {**vars(args), "epochs": 30 if args.epochs is None else args.epochs,
              "backend": be.name, "device": str(be.device), "dtype": net.dtype,
              "sizes": net.sizes}
    if args.resume:  # the hyper-parameters are the checkpoint's, not the flags'
        config.update(vars(net.checkpoint[0]))
    doc = {**history.to_dict(), "n_training": n_train, "n_evaluation": n_val, "n_test": n_test,
           "test_accuracy": test_accuracy, "config": config}
    if args.history:
        atomic_write_text(args.history, json.dumps(doc, indent=1))
    if args.plot:
        nnxp.plot.plot_history(doc, args.plot)
    summary(history, n_val, test_accuracy, n_test, wall)
    for path, what in ((args.save, "network"), (args.history, "history"), (args.plot, "plot"),
                       (args.checkpoint, "checkpoint")):
        if path:
            print(f"{what}: {path}")
    return 0


def _terminated(signum, frame):
    """SIGTERM (what timeout and job schedulers send) as an exception: a save in progress
    removes its temporary file, and the last whole checkpoint stays."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    try:
        sys.exit(main())
    except nnxp.NNXPError as exc:
        message = str(exc).replace("pass other_data=True", "pass --other-data")
        print(f"train.py: {message}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("train.py: interrupted (a --checkpoint holds the last whole epoch: --resume it)",
              file=sys.stderr)
        sys.exit(130)
