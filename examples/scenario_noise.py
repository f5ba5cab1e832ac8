"""Scenario (a): the book's "random noise generator" (chapter 3, choosing hyper-parameters).

    python examples/scenario_noise.py                    # the full scenario (below)
    NNXP_BACKEND=jax python examples/scenario_noise.py   # the same, much faster
    python examples/scenario_noise.py --n-train 10000 --epochs 3   # a quick look

The full scenario: [784, 30, 10] sigmoid network, cross-entropy, default initialization,
mini-batch 10, eta = 10.0 and lmbda = 1000.0, 30 epochs on MNIST's 50,000 training images.  The
book: "classification accuracies are no better than chance: our network is acting as a random
noise generator".  The diagnosis says why: each step multiplies the weights by
1 - eta lmbda / n = 0.8, so within a few hundred steps they vanish, the hidden units sit in
saturation pushed by their biases alone, and the network predicts one digit for every image.

With --n-train smaller than 50,000, lmbda is scaled by n_train / 50,000 so that the weight decay
per step, eta lmbda / n, stays the book's 0.2 (the phenomenon depends on it).

``run(train, validation, epochs=30, seed=0) -> (net, history, report)`` is what the test calls.
"""

import argparse
import sys

import nnxp

ETA, LMBDA, N_BOOK = 10.0, 1000.0, 50_000


def run(train, validation, epochs=30, seed=0, progress=False):
    """Train the book's noise generator on ``train`` and diagnose it; see the module doc."""
    net = nnxp.Network([784, 30, 10], cost=nnxp.CrossEntropyCost, seed=seed)
    train_set = net.prepare(train)
    lmbda = LMBDA * train_set.n / N_BOOK
    history = net.SGD(train_set, epochs, 10, ETA, lmbda=lmbda, evaluation_data=validation,
                      monitor_evaluation_accuracy=True, monitor_training_cost=True,
                      progress=progress)
    report = nnxp.diagnose(net, train_set, eta=ETA, lmbda=lmbda, history=history)
    return net, history, report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--n-train", type=int, default=None, help="training images (default 50,000)")
    p.add_argument("--seed", type=int, default=0)
    p.error = lambda message: p.exit(  # bad input: one line, not the whole usage
        2, f"{p.prog}: {message} (see --help)\n")
    args = p.parse_args(argv)
    train, validation, _ = nnxp.datasets.load_mnist(n_train=args.n_train)
    net, history, report = run(train, validation, args.epochs, args.seed, progress=True)
    n_val = len(validation[1])
    print(f"\nvalidation accuracy per epoch: "
          f"{', '.join(f'{a / n_val:.1%}' for a in history.evaluation_accuracy)} "
          f"(chance: 10%)\n")
    print(report)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except nnxp.NNXPError as exc:  # bad input (a flag, NNXP_BACKEND, the data): one line
        print(f"scenario_noise.py: {exc}", file=sys.stderr)
        sys.exit(2)
