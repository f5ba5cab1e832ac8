"""Chapter 6's ensemble in nnxp's own API: five small convolutional networks with dropout,
trained as one program (``nnxp.Population``), then voting on MNIST's test images.

    NNXP_DATA_DIR=/path/to/mnist python examples/ensemble.py          # a minute or two on a CPU
    NNXP_BACKEND=jax python examples/ensemble.py --n-train 10000 --epochs 5

Each network: ConvPool(20 filters 5x5, 2x2 pool, ReLU), a 100-unit ReLU layer, softmax, with
dropout 0.5 on the inputs of the last two layers (network3's: units dropped while training,
the weighted input scaled by 1 - p when evaluating); eta 0.1, lmbda 0.1, mini-batches of 10.
Member k has seed ``--seed + k``: its own initial weights and its own dropout masks, and it is
exactly the network ``nnxp.Network(net, seed=...)`` would train alone.  The vote gives each
test image the class most members predict (a tie: the class of the lowest-numbered member
among the tied ones), the book's ``Counter(p).most_common(1)`` rule.  Prints each member's
test accuracy, then the vote's.  MNIST comes from nnxp's rule ($NNXP_DATA_DIR, else the user
cache folder, downloaded there): the first ``--n-train`` training images and ``--n-test`` test
images.
"""

import argparse
import sys

import numpy as np

import nnxp
from nnxp import layers
from nnxp.datasets import load_mnist


def network():
    return [784, layers.Reshape((1, 28, 28)),
            layers.ConvPool(20, (5, 5), activation="ReLU"), layers.Flatten(),
            layers.Dense(100, "ReLU", p_dropout=0.5), layers.Softmax(10, p_dropout=0.5)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=5000,
                        help="training images used, of 50,000 (default 5,000)")
    parser.add_argument("--n-test", type=int, default=10000,
                        help="test images used, of 10,000 (default all)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="member k has seed SEED + k")
    parser.error = lambda message: parser.exit(  # bad input: one line, not the whole usage
        2, f"{parser.prog}: {message} (see --help)\n")
    args = parser.parse_args()
    if not 1 <= args.n_train <= 50000:
        parser.error(f"--n-train must be between 1 and 50000, got {args.n_train}")
    if not 1 <= args.n_test <= 10000:
        parser.error(f"--n-test must be between 1 and 10000, got {args.n_test}")
    if args.members < 1 or args.epochs < 1:
        parser.error("--members and --epochs must be at least 1")
    (x, y), _, (x_test, y_test) = load_mnist(backend="numpy")
    x_test, y_test = x_test[:args.n_test], y_test[:args.n_test]
    seeds = range(args.seed, args.seed + args.members)  # a range: Population bounds its memory
    ensemble = nnxp.Population(network(), seeds=seeds, cost=nnxp.LogLikelihoodCost)
    print(f"training {args.members} networks as one program: {args.epochs} epochs of "
          f"{args.n_train} images")
    ensemble.SGD((x[:args.n_train], y[:args.n_train]), args.epochs, 10, 0.1, lmbda=0.1,
                 progress=True)
    for seed, right in zip(seeds, ensemble.accuracy((x_test, y_test))):
        print(f"network of seed {seed}: {right} / {len(y_test)} test images "
              f"({100 * right / len(y_test):.2f}%)")
    right = int(np.sum(ensemble.vote(x_test) == np.asarray(y_test)))
    print(f"the {args.members} networks voting: {right} / {len(y_test)} "
          f"({100 * right / len(y_test):.2f}%)")


if __name__ == "__main__":
    try:
        main()
    except nnxp.NNXPError as exc:  # bad input (NNXP_BACKEND, the data, seeds): one line
        print(f"ensemble.py: {exc}", file=sys.stderr)
        sys.exit(2)
