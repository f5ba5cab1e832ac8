"""Make the reference that tests/test_compat_network3.py checks nnxp.compat.network3 against:
the book's own network3.py, on Theano, trained on small slices of MNIST.

    THEANO_FLAGS=blas.ldflags= NNXP_DATA_DIR=/path/to/mnist \\
        /path/to/theano38/bin/python tests/reference/make_network3_reference.py \\
        /path/to/neural-networks-and-deep-learning/src/network3.py

Runs on Python 3.8 with theano==0.8.2, numpy==1.23.5, scipy==1.10.1 (README.md next to the
output says how that environment was made).  The book's code is not part of this repository:
pass the path of the network3.py you fetched from github.com/mnielsen/neural-networks-and-deep-
learning.  It is patched in memory only, and only as much as Python 3 and float64 need:

  * Python 3.8's lib2to3 converts it from Python 2 (print statements, cPickle, xrange);
  * ``GPU = True`` becomes ``GPU = False`` (no GPU; theano.config.floatX stays float64);
  * ``/`` becomes ``//`` on the three ``num_*_batches`` lines (Python 3's ``/`` would make
    them floats, which ``xrange`` -> ``range`` refuses).

Each patch must apply exactly as many times as expected, or the script stops.  Data: the IDX
files in NNXP_DATA_DIR (or --data-dir), read here with gzip and NumPy (not with nnxp), split as
Nielsen's: training = the first 50,000 training images, validation = the last 10,000, test = the
10,000 test images; pixels / 255 as float64.  Slices: the first N_TRAIN, N_VALIDATION, N_TEST
images of each split.  Each configuration seeds ``np.random`` (the book draws its initial
weights from the global generator), builds the book's layers, and runs the book's ``SGD``;
the lines it prints and its final weights and biases are written to the output folder:

    reference.json     {"meta": versions, flags, data slices and their SHA-256,
                        "runs": {name: {"seed", "epochs", "mini_batch_size", "eta", "lmbda",
                                        "layers" (the constructor calls), "lines"}}}
    <name>.npz         w0, b0, w1, b1, ... in the book's shapes, float64 (compressed)
"""

import argparse
import contextlib
import gzip
import hashlib
import io
import json
import os
import platform
import sys
import types
from pathlib import Path

import numpy as np

N_TRAIN, N_VALIDATION, N_TEST = 1000, 500, 500
MINI_BATCH_SIZE = 10

# name: (seed, epochs, eta, lmbda, layers as (constructor, keyword arguments)); activation
# functions by their name in network3.  No dropout: Theano's random streams cannot be matched.
CONFIGS = {
    "shallow": (1, 2, 0.1, 0.0, [
        ("FullyConnectedLayer", {"n_in": 784, "n_out": 100}),
        ("SoftmaxLayer", {"n_in": 100, "n_out": 10})]),
    "basic_conv": (2, 4, 0.1, 0.0, [
        ("ConvPoolLayer", {"image_shape": (MINI_BATCH_SIZE, 1, 28, 28),
                           "filter_shape": (20, 1, 5, 5), "poolsize": (2, 2)}),
        ("FullyConnectedLayer", {"n_in": 20 * 12 * 12, "n_out": 100}),
        ("SoftmaxLayer", {"n_in": 100, "n_out": 10})]),
    "dbl_conv_relu": (3, 2, 0.03, 0.1, [
        ("ConvPoolLayer", {"image_shape": (MINI_BATCH_SIZE, 1, 28, 28),
                           "filter_shape": (20, 1, 5, 5), "poolsize": (2, 2),
                           "activation_fn": "ReLU"}),
        ("ConvPoolLayer", {"image_shape": (MINI_BATCH_SIZE, 20, 12, 12),
                           "filter_shape": (40, 20, 5, 5), "poolsize": (2, 2),
                           "activation_fn": "ReLU"}),
        ("FullyConnectedLayer", {"n_in": 40 * 4 * 4, "n_out": 100, "activation_fn": "ReLU"}),
        ("SoftmaxLayer", {"n_in": 100, "n_out": 10})]),
    "tanh_linear": (4, 2, 0.1, 1.0, [
        ("FullyConnectedLayer", {"n_in": 784, "n_out": 30, "activation_fn": "tanh"}),
        ("FullyConnectedLayer", {"n_in": 30, "n_out": 30, "activation_fn": "linear"}),
        ("SoftmaxLayer", {"n_in": 30, "n_out": 10})]),
}


def patched_source(path):
    """The book's network3.py, converted to Python 3 and patched as the module doc says."""
    from lib2to3 import refactor
    source = Path(path).read_text()
    fixers = refactor.get_fixers_from_package("lib2to3.fixes")
    source = str(refactor.RefactoringTool(fixers).refactor_string(source, "network3.py"))
    patches = [("GPU = True", "GPU = False", 1)]
    patches += [(f"num_{k}_batches = size({k}_data)/mini_batch_size",
                 f"num_{k}_batches = size({k}_data)//mini_batch_size", 1)
                for k in ("training", "validation", "test")]
    for old, new, count in patches:
        found = source.count(old)
        if found != count:
            sys.exit(f"{path}: expected {count} occurrence(s) of {old!r}, found {found}: "
                     "is this the book's network3.py?")
        source = source.replace(old, new)
    return source


def load_network3(path):
    module = types.ModuleType("network3")
    module.__file__ = str(path)
    with contextlib.redirect_stdout(io.StringIO()):  # its "Running with a CPU" banner
        exec(compile(patched_source(path), str(path), "exec"), module.__dict__)
    return module


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if int.from_bytes(raw[:4], "big") != magic:
        sys.exit(f"{path}: not an IDX file with magic {magic}")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def mnist_slices(folder):
    """Nielsen's split of the IDX files, each split's first n images: uint8 images (n, 784)
    and labels (n,)."""
    folder = Path(folder)
    train_x = read_idx(folder / "train-images-idx3-ubyte.gz", 2051).reshape(-1, 784)
    train_y = read_idx(folder / "train-labels-idx1-ubyte.gz", 2049)
    test_x = read_idx(folder / "t10k-images-idx3-ubyte.gz", 2051).reshape(-1, 784)
    test_y = read_idx(folder / "t10k-labels-idx1-ubyte.gz", 2049)
    return {"training": (train_x[:N_TRAIN], train_y[:N_TRAIN]),
            "validation": (train_x[50000:50000 + N_VALIDATION],
                           train_y[50000:50000 + N_VALIDATION]),
            "test": (test_x[:N_TEST], test_y[:N_TEST])}


def shared(network3, images, labels):
    """As the book's load_data_shared: pixels / 255 in float64, labels cast to int32."""
    theano, T = network3.theano, network3.T
    x = theano.shared(np.asarray(images / 255.0, dtype=theano.config.floatX), borrow=True)
    y = theano.shared(np.asarray(labels, dtype=theano.config.floatX), borrow=True)
    return x, T.cast(y, "int32")


def build(network3, layers):
    made = []
    for name, kwargs in layers:
        kwargs = dict(kwargs)
        if "activation_fn" in kwargs:
            kwargs["activation_fn"] = getattr(network3, kwargs["activation_fn"])
        made.append(getattr(network3, name)(**kwargs))
    return made


def run(network3, data, seed, epochs, eta, lmbda, layers):
    np.random.seed(seed)
    net = network3.Network(build(network3, layers), MINI_BATCH_SIZE)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        net.SGD(data["training"], epochs, MINI_BATCH_SIZE, eta, data["validation"],
                data["test"], lmbda=lmbda)
    params = {}
    for i, layer in enumerate(net.layers):
        params[f"w{i}"] = np.asarray(layer.w.get_value(), dtype=np.float64)
        params[f"b{i}"] = np.asarray(layer.b.get_value(), dtype=np.float64)
    return out.getvalue().splitlines(), params


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network3", help="path of the book's src/network3.py")
    parser.add_argument("--data-dir", default=os.environ.get("NNXP_DATA_DIR"),
                        help="folder of the four MNIST IDX files (default: $NNXP_DATA_DIR)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "network3"))
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), default=sorted(CONFIGS))
    args = parser.parse_args()
    if not args.data_dir:
        sys.exit("give --data-dir or set NNXP_DATA_DIR")
    network3 = load_network3(args.network3)
    theano = network3.theano
    if theano.config.floatX != "float64":
        sys.exit(f"theano.config.floatX is {theano.config.floatX}; this reference is float64")
    slices = mnist_slices(args.data_dir)
    data = {k: shared(network3, x, y) for k, (x, y) in slices.items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = out / "reference.json"
    runs = json.loads(report.read_text())["runs"] if report.exists() else {}
    for name in args.only:
        seed, epochs, eta, lmbda, layers = CONFIGS[name]
        lines, params = run(network3, data, seed, epochs, eta, lmbda, layers)
        np.savez_compressed(out / f"{name}.npz", **params)
        runs[name] = {"seed": seed, "epochs": epochs, "mini_batch_size": MINI_BATCH_SIZE,
                      "eta": eta, "lmbda": lmbda, "layers": layers, "lines": lines}
        print(f"{name}: " + " | ".join(lines))
    meta = {
        "python": platform.python_version(), "theano": theano.__version__,
        "numpy": np.__version__, "scipy": __import__("scipy").__version__,
        "THEANO_FLAGS": os.environ.get("THEANO_FLAGS", ""), "floatX": theano.config.floatX,
        "network3_sha256": hashlib.sha256(Path(args.network3).read_bytes()).hexdigest(),
        "data": {k: {"split_rows": [0, N_TRAIN] if k == "training" else
                     [50000, 50000 + N_VALIDATION] if k == "validation" else [0, N_TEST],
                     "images_sha256": hashlib.sha256(x.tobytes()).hexdigest(),
                     "labels_sha256": hashlib.sha256(y.astype(np.uint8).tobytes()).hexdigest()}
                 for k, (x, y) in slices.items()},
    }
    report.write_text(json.dumps({"meta": meta, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
