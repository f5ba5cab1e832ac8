"""Scenario (c): default versus large initial weights, diagnosed before training (chapter 3).

    python examples/scenario_init.py                     # diagnose both, train both 30 epochs
    NNXP_BACKEND=jax python examples/scenario_init.py    # the same, much faster
    python examples/scenario_init.py --epochs 0          # the diagnoses only

The full scenario: two [784, 30, 10] sigmoid networks of one seed, cross-entropy, mini-batch 10,
eta = 0.1, lmbda = 5.0 (the book's comparison in "Weight initialization"), one with the default
N(0, 1/n_in) weights and one with network2's large N(0, 1) weights, diagnosed at the start and
then trained 30 epochs on MNIST's 50,000 training images.  At the start the large one's hidden
units are saturated on about half of the (unit, input) pairs: weights 28x the 1/sqrt(n_in)
scale make z = w.x + b about 9 wide, where sigma'(z) ~ 0; the default one's are not.  Trained,
the large one starts slower and ends up at about the same accuracy, as in the book.

``run(train, validation, epochs=30, seed=0) -> {"default": (net, report, history), "large":
...}`` is what the test calls (with epochs=0: the diagnoses at the start only).
"""

import argparse
import sys

import nnxp

ETA, LMBDA = 0.1, 5.0


def run(train, validation, epochs=30, seed=0, progress=False):
    """Diagnose a default- and a large-initialized network at the start, then train both."""
    out = {}
    for init in ("default", "large"):
        net = nnxp.Network([784, 30, 10], cost=nnxp.CrossEntropyCost, seed=seed)
        getattr(net, f"{init}_weight_initializer")()
        train_set = net.prepare(train)
        report = nnxp.diagnose(net, train_set, eta=ETA, lmbda=LMBDA)
        history = None
        if epochs:
            history = net.SGD(train_set, epochs, 10, ETA, lmbda=LMBDA,
                              evaluation_data=validation, monitor_evaluation_accuracy=True,
                              progress=progress)
        out[init] = (net, report, history)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--n-train", type=int, default=None, help="training images (default 50,000)")
    p.add_argument("--seed", type=int, default=0)
    p.error = lambda message: p.exit(  # bad input: one line, not the whole usage
        2, f"{p.prog}: {message} (see --help)\n")
    args = p.parse_args(argv)
    train, validation, _ = nnxp.datasets.load_mnist(n_train=args.n_train)
    out = run(train, validation, args.epochs, args.seed, progress=False)
    n_val = len(validation[1])
    for init, (_, report, history) in out.items():
        print(f"--- {init} initialization, at the start ---\n{report}\n")
        if history is not None:
            acc = history.evaluation_accuracy
            print(f"validation accuracy, epochs 1, 2, 3 and {len(acc)}: "
                  f"{', '.join(f'{a / n_val:.1%}' for a in acc[:3])} ... "
                  f"{acc[-1] / n_val:.1%}\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except nnxp.NNXPError as exc:  # bad input (a flag, NNXP_BACKEND, the data): one line
        print(f"scenario_init.py: {exc}", file=sys.stderr)
        sys.exit(2)
