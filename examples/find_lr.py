"""Find the learning-rate threshold on MNIST with the book's procedure (chapter 3).

    python examples/find_lr.py                         # [784, 30, 10], cross-entropy, lmbda 5.0
    python examples/find_lr.py --mode sweep            # the fast single-pass sweep
    python examples/find_lr.py --plot find_lr.png      # and plot every trial's cost curve
    python examples/find_lr.py --sizes 784 100 10 --lmbda 5.0 --mini-batch-size 10

Prints every trial (eta, whether the training cost decreased, its curve), the threshold (the
largest eta at which the cost still decreases) and the recommended eta (half of it).  The book
found 0.5 for this network; the finder's rule is in ``nnxp/lr_finder.py``.
"""

import argparse
import sys

import nnxp


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[784, 30, 10])
    p.add_argument("--lmbda", type=float, default=5.0)
    p.add_argument("--mini-batch-size", type=int, default=10)
    p.add_argument("--mode", choices=("book", "sweep"), default="book")
    p.add_argument("--budget-batches", type=int, default=5000)
    p.add_argument("--n-train", type=int, default=10000, help="training subset for the trials")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", metavar="PNG", help="save the trials' cost curves here")
    p.error = lambda message: p.exit(  # bad input: one line, not the whole usage
        2, f"{p.prog}: {message} (see --help)\n")
    args = p.parse_args(argv)
    if args.plot == "":  # "" would read as not given: the trials run, no plot is saved
        raise nnxp.ConfigError("--plot needs a file path, got an empty one")
    if args.plot:  # fail now, not after the trials: matplotlib, the format, the place
        nnxp.plot.check_plot_path(args.plot)
    train, _, _ = nnxp.datasets.load_mnist()
    n = int(train[1].shape[0])
    if args.n_train > n:  # find_learning_rate would quietly take all n
        raise nnxp.ConfigError(f"--n-train {args.n_train}, but MNIST's training split has "
                               f"only {n} images")
    net = nnxp.Network(args.sizes, cost=nnxp.CrossEntropyCost, seed=args.seed)
    result = nnxp.find_learning_rate(net, train, mini_batch_size=args.mini_batch_size,
                                     lmbda=args.lmbda, mode=args.mode,
                                     budget_batches=args.budget_batches, n_train=args.n_train,
                                     seed=args.seed, progress=True)
    print(result)
    print(f"rule: {result.rule}")
    if args.plot:
        plot(result, args.plot)
        print(f"plot saved to {args.plot}")
    return 0


def plot(result, path):
    """Each trial's training-cost curve (book mode) or the cost against eta (sweep mode)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if result.mode == "book":
        for t in sorted(result.trials, key=lambda t: t.eta):
            ax.plot(range(1, len(t.costs)), t.costs[1:], marker="o", ms=3,
                    ls="-" if t.decreases else "--", label=f"eta {t.eta:.3g}")
        ax.set_xlabel("check (equal segments of the mini-batch budget; dashed: does not "
                      "decrease)")
        ax.set_yscale("log")
        ax.legend(fontsize=8, ncol=2)
    else:
        ax.semilogx([t.eta for t in result.trials], [t.costs[-1] for t in result.trials],
                    marker="o")
        ax.set_xlabel("eta (one exponential sweep)")
        ax.set_yscale("log")
    if result.threshold is not None:
        ax.set_title(f"threshold eta = {result.threshold:.3g}, recommended "
                     f"{result.recommended:.3g} ({result.mode} mode)")
    ax.set_ylabel("training cost")
    fig.tight_layout()
    nnxp.plot.save_figure(fig, path, dpi=110)  # atomic: an earlier plot is never half-written


if __name__ == "__main__":
    try:
        sys.exit(main())
    except nnxp.NNXPError as exc:  # bad input: one line saying what was expected
        print(f"find_lr.py: {exc}", file=sys.stderr)
        sys.exit(2)
