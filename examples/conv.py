"""Chapter 6's convolutional networks on nnxp: the book's conv.py, with only its imports changed
(``import network3`` -> ``from nnxp.compat import network3``), trained on a slice of MNIST so
that a run takes about a minute on a CPU.

    NNXP_DATA_DIR=/path/to/mnist python examples/conv.py                 # basic_conv, NumPy
    NNXP_BACKEND=jax python examples/conv.py --net dbl_conv_relu --epochs 2
    NNXP_FLOATX=float64 python examples/conv.py --n-train 50000 --epochs 60   # the book's run

Networks (the book's, from src/conv.py): ``shallow`` (one hidden layer of 100 sigmoid units),
``basic_conv`` (a 20-filter 5x5 conv-pool layer, then 100 sigmoid units), ``dbl_conv_relu`` (two
conv-pool layers and 100 units, all ReLU, eta 0.03, lmbda 0.1).  Mini-batches of 10; float32
unless NNXP_FLOATX=float64.  MNIST comes from nnxp's rule ($NNXP_DATA_DIR, else the user cache
folder, downloaded there): the first ``--n-train`` training images, the whole validation and
test sets.  Prints the book's lines (docs/chapter6.md).
"""

import argparse
import sys

import numpy as np

from nnxp import NNXPError
from nnxp.compat import network3
from nnxp.compat.network3 import ReLU, Network
from nnxp.compat.network3 import ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer

mini_batch_size = 10


def shallow():
    return Network([
        FullyConnectedLayer(n_in=784, n_out=100),
        SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size), 0.1, 0.0


def basic_conv():
    return Network([
        ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                      filter_shape=(20, 1, 5, 5),
                      poolsize=(2, 2)),
        FullyConnectedLayer(n_in=20*12*12, n_out=100),
        SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size), 0.1, 0.0


def dbl_conv_relu():
    return Network([
        ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                      filter_shape=(20, 1, 5, 5),
                      poolsize=(2, 2),
                      activation_fn=ReLU),
        ConvPoolLayer(image_shape=(mini_batch_size, 20, 12, 12),
                      filter_shape=(40, 20, 5, 5),
                      poolsize=(2, 2),
                      activation_fn=ReLU),
        FullyConnectedLayer(n_in=40*4*4, n_out=100, activation_fn=ReLU),
        SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size), 0.03, 0.1


NETS = {"shallow": shallow, "basic_conv": basic_conv, "dbl_conv_relu": dbl_conv_relu}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--net", choices=sorted(NETS), default="basic_conv")
    parser.add_argument("--n-train", type=int, default=10000,
                        help="training images used, of 50,000 (default 10,000)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="np.random.seed before the layers")
    parser.error = lambda message: parser.exit(  # bad input: one line, not the whole usage
        2, f"{parser.prog}: {message} (see --help)\n")
    args = parser.parse_args()
    if not 1 <= args.n_train <= 50000:
        parser.error(f"--n-train must be between 1 and 50000, got {args.n_train}")
    if not 0 <= args.seed < 2**32:
        parser.error(f"--seed must be between 0 and 2**32 - 1, got {args.seed}")
    training_data, validation_data, test_data = network3.load_data_shared()
    x, y = training_data
    training_data = (x.get_value(borrow=True)[:args.n_train],
                     y.get_value(borrow=True)[:args.n_train])
    np.random.seed(args.seed)
    net, eta, lmbda = NETS[args.net]()
    net.SGD(training_data, args.epochs, mini_batch_size, eta, validation_data, test_data,
            lmbda=lmbda)


if __name__ == "__main__":
    try:
        main()
    except NNXPError as exc:  # bad input (NNXP_BACKEND, the data, epochs): one line
        print(f"conv.py: {exc}", file=sys.stderr)
        sys.exit(2)
