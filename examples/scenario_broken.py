"""Scenario (b): a network broken by one bad start, which good hyper-parameters cannot repair.

    python examples/scenario_broken.py                   # the full scenario (below)
    NNXP_BACKEND=jax python examples/scenario_broken.py  # the same, much faster
    python examples/scenario_broken.py --n-train 10000 --epochs 3   # a quick look

The full scenario (issue 10's seed thread): [784, 20, 10] sigmoid network, quadratic cost,
N(0, 1) weights and biases (network2's large_weight_initializer), trained 30 epochs with
eta = 300 at mini-batch 5,000, then 30 epochs with eta = 3.0 at mini-batch 10 (chapter 1's good
setting) on MNIST's 50,000 training images.  A fresh network of the same seed trained only the
30 good epochs is the comparison.

The broken network stays near chance while the fresh one learns.  The diagnosis, given
eta = 300 and the history of the run that broke it, names eta first: the training cost froze at
0.5 (every output 0) after the first epoch.  Then what the huge steps left: output units
saturated on the wrong side, whose error signal under the quadratic cost, delta^L = (a - y)
sigma'(z), is ~0, so they cannot learn back (chapter 3's learning slowdown).  The hidden
weights' scale is said next to network2's N(0, 1), which a fresh network has too and which
learns: it is not the cause.  The advice: restart from a fresh network with a smaller eta.

``run(train, validation, bad_epochs=30, epochs=30, seed=0) -> (broken, fresh, histories,
report)`` is what the test calls; ``histories`` is (bad run, good run after it, fresh run).
"""

import argparse
import sys

import nnxp


def build(seed):
    net = nnxp.Network([784, 20, 10], cost=nnxp.QuadraticCost, seed=seed)
    net.large_weight_initializer()
    return net


def run(train, validation, bad_epochs=30, epochs=30, seed=0, progress=False):
    """Break a network (and diagnose it with the run that broke it), train it and a fresh
    twin well."""
    broken = build(seed)
    train_set = broken.prepare(train)
    bad = broken.SGD(train_set, bad_epochs, 5000, 300.0, monitor_training_cost=True,
                     progress=progress)
    report = nnxp.diagnose(broken, train_set, eta=300.0, history=bad)
    after = broken.SGD(train_set, epochs, 10, 3.0, evaluation_data=validation,
                       monitor_evaluation_accuracy=True, monitor_training_cost=True,
                       progress=progress)
    fresh = build(seed)
    fresh_history = fresh.SGD(train_set, epochs, 10, 3.0, evaluation_data=validation,
                              monitor_evaluation_accuracy=True)
    return broken, fresh, (bad, after, fresh_history), report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bad-epochs", type=int, default=30)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--n-train", type=int, default=None, help="training images (default 50,000)")
    p.add_argument("--seed", type=int, default=0)
    p.error = lambda message: p.exit(  # bad input: one line, not the whole usage
        2, f"{p.prog}: {message} (see --help)\n")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.bad_epochs < 0:  # before the bad epochs train, not after
        p.error(f"--epochs must be at least 1 and --bad-epochs at least 0, got {args.epochs} "
                f"and {args.bad_epochs}")
    train, validation, _ = nnxp.datasets.load_mnist(n_train=args.n_train)
    _, _, (bad, after, fresh), report = run(train, validation, args.bad_epochs, args.epochs,
                                            args.seed, progress=True)
    n_val = len(validation[1])
    print(f"\nvalidation accuracy after {args.epochs} good epochs: broken network "
          f"{after.evaluation_accuracy[-1] / n_val:.1%}, fresh network "
          f"{fresh.evaluation_accuracy[-1] / n_val:.1%}\n")
    print(f"the diagnosis of the run that broke it (eta 300, mini-batch 5,000, "
          f"{args.bad_epochs} epochs):\n{report}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except nnxp.NNXPError as exc:  # bad input (a flag, NNXP_BACKEND, the data): one line
        print(f"scenario_broken.py: {exc}", file=sys.stderr)
        sys.exit(2)
