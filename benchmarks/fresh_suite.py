"""A fresh held-out group of the diagnostics benchmark: cases built without looking at how the
diagnosis treats them, measured once.

    SCENARIOS                  every Scenario (diagnose_suite.Scenario, with config["data"])
    load(data_dir=None) -> {"circles": (train, evaluation), "blobs": ..., ...}
    train_only(scenario, seed, data) -> float   evaluation accuracy of the run, no diagnosis
    by_name(name) -> Scenario
    Builder(sizes, epochs, bars)  a group's configs and scenarios from its tables

Cases run with heldout_suite's machinery (heldout_suite.run_cases, try_advice, finder; the
labels and scores of diagnose_suite), selected by ``bench_diagnose.py --suite fresh``.

How the cases were built (the contract of this group):

    data      none used before in the project's suites: scikit-learn's make_circles,
              make_blobs, make_classification (two settings), load_iris (features scaled to
              [0, 1] per column), and MNIST under a distribution shift, each image
              shifted by up to 3 pixels (seed 0; 3,000 training and 1,000 evaluation images).
              Inverted MNIST (1 - x) was tried and dropped before any diagnosis: at the etas
              a researcher would take it did not train reliably ([784, 30, 10] sigmoid at eta
              0.5: 11%), so it has no healthy run to stand as a working counterpart.
    healthy   sigmoid + cross-entropy (1/sqrt(n_in) weights), tanh + softmax / log-likelihood
              (Glorot) and ReLU + softmax / log-likelihood (He, zero biases); widths and
              depths [n, 8, k], [n, 16, k], [n, 50, 50, k], [784, 30, 10]; mini-batches 1, 10, 32, 100; the
              eta a researcher would take for that setting.  Each run's evaluation accuracy
              was checked (train_only, seeds 0 and 1) before any diagnosis was run on it.
    failing   each labelled from its construction with the kind to name first (``primary``)
              and the consequences it may also show (``allow``): eta 50-100 times a working
              one; every weight and bias 0 (sigmoid); N(0, 10^2) weights (sigmoid); ReLU
              biases of -3 or -5; mini-batch = the whole training set for a few epochs; eta
              lmbda / n = 0.5; MNIST pixels left in 0-255 for a sigmoid network.
    bar       the accuracy that counts as "trains" when the remedy is applied: set from the
              healthy runs' accuracy on the same data, below their worst.

No case was changed after the diagnosis was run on it (docs/diagnostics.md, "A fresh
held-out group"), except one label: raw255-sigmoid was labelled saturated_units, the only kind
there was; its label is now inputs_not_scaled (the kind added for it), with saturated_units
allowed.  The group's failures were then used to change the diagnosis: it is a training score
now, and benchmarks/blind_suite.py is the held-out one.
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks import diagnose_suite as suite
from benchmarks import heldout_suite as heldout
from benchmarks.diagnose_suite import COLLAPSE, DEAD, LR, SAT, Scenario

IDENT, FEW, DECAY = "identical_units", "too_few_updates", "weight_decay_too_strong"


def huge_weight(rng, shape):
    """N(0, 10^2): weights ten times network2's "large" N(0, 1)."""
    return 10.0 * rng.standard_normal(shape)


def minus_three(rng, shape):
    del rng
    return np.full(shape, -3.0)


def minus_five(rng, shape):
    del rng
    return np.full(shape, -5.0)


KINDS = heldout.KINDS   # the same three kinds of network as the held-out suite
SIZES = {"circles": (2, 16, 2), "blobs": (5, 8, 4), "clf3": (20, 50, 50, 3),
         "clf2": (10, 8, 2), "iris": (4, 8, 3), "shifted": (784, 30, 10),
         "raw255": (784, 30, 10)}
EPOCHS = {"circles": 50, "blobs": 20, "clf3": 40, "clf2": 20, "iris": 100, "shifted": 10,
          "raw255": 5}
BARS = {"circles": 0.9, "blobs": 0.9, "clf3": 0.7, "clf2": 0.7, "iris": 0.85, "shifted": 0.65,
        "raw255": 0.8}
N_TRAIN = {"circles": 1000, "blobs": 1000, "clf3": 1500, "clf2": 1500, "iris": 100,
           "shifted": 3000, "raw255": 3000}


class Builder:
    """A group's configs and scenarios from its tables (data name -> sizes, epochs, bar):
    ``cfg(data, kind, sizes=None, **changes)``, ``ok(name, what, config)`` (healthy, trained,
    watched by a HealthMonitor), ``bad(name, what, config, primary, allow, stage)``."""

    def __init__(self, sizes, epochs, bars):
        self.sizes, self.epochs, self.bars = sizes, epochs, bars

    def cfg(self, data, kind="sigmoid", sizes=None, **kw) -> dict:
        base = dict(data=data, sizes=list(sizes or self.sizes[data]), output_activation=None,
                    eta=0.5, lmbda=0.0, mb=10, epochs=self.epochs[data], n=None,
                    evaluation_cost=False, **KINDS[kind])
        base.update(kw)
        return base

    def ok(self, name, what, config):
        return Scenario(name, what, config, stage="trained", monitor=True,
                        bar=self.bars[config["data"]])

    def bad(self, name, what, config, primary, allow, stage="trained"):
        return Scenario(name, what, config, stage=stage, expect=(primary,), primary=primary,
                        allow=tuple(allow), bar=self.bars[config["data"]])


_build = Builder(SIZES, EPOCHS, BARS)
_cfg, _ok, _bad = _build.cfg, _build.ok, _build.bad


HEALTHY = [
    _ok("circles-sigmoid", "circles [2, 16, 2] sigmoid, cross-entropy, eta 0.5",
        _cfg("circles", "sigmoid")),
    _ok("circles-tanh", "circles [2, 16, 2] tanh, softmax, eta 0.1", _cfg("circles", "tanh",
                                                                          eta=0.1)),
    _ok("circles-relu", "circles [2, 16, 2] ReLU, softmax, eta 0.1", _cfg("circles", "relu",
                                                                          eta=0.1)),
    _ok("circles-relu-deep", "circles [2, 50, 50, 2] ReLU, softmax, eta 0.05",
        _cfg("circles", "relu", (2, 50, 50, 2), eta=0.05)),
    _ok("blobs-sigmoid", "blobs [5, 8, 4] sigmoid, cross-entropy, eta 0.5",
        _cfg("blobs", "sigmoid")),
    _ok("blobs-tanh", "blobs [5, 8, 4] tanh, softmax, eta 0.1", _cfg("blobs", "tanh",
                                                                     eta=0.1)),
    _ok("blobs-relu", "blobs [5, 8, 4] ReLU, softmax, eta 0.1", _cfg("blobs", "relu",
                                                                     eta=0.1)),
    _ok("blobs-sigmoid-mb1", "blobs [5, 8, 4] sigmoid, cross-entropy, mini-batch 1, eta 0.1, "
        "10 epochs", _cfg("blobs", "sigmoid", eta=0.1, mb=1, epochs=10)),
    _ok("clf3-sigmoid", "classification(20 features, 3 classes) [20, 50, 50, 3] sigmoid, "
        "cross-entropy, eta 0.5", _cfg("clf3", "sigmoid")),
    _ok("clf3-tanh", "classification(20, 3) [20, 50, 50, 3] tanh, softmax, eta 0.1",
        _cfg("clf3", "tanh", eta=0.1)),
    _ok("clf3-relu", "classification(20, 3) [20, 50, 50, 3] ReLU, softmax, eta 0.05",
        _cfg("clf3", "relu", eta=0.05)),
    _ok("clf2-sigmoid-mb32", "classification(10 features, 2 classes) [10, 8, 2] sigmoid, "
        "cross-entropy, mini-batch 32, eta 1.0, 60 epochs",
        _cfg("clf2", "sigmoid", eta=1.0, mb=32, epochs=60)),
    _ok("clf2-tanh-mb100", "classification(10, 2) [10, 8, 2] tanh, softmax, mini-batch 100, "
        "eta 0.3, 50 epochs", _cfg("clf2", "tanh", eta=0.3, mb=100, epochs=50)),
    _ok("clf2-relu-mb1", "classification(10, 2) [10, 8, 2] ReLU, softmax, mini-batch 1, "
        "eta 0.01, 10 epochs", _cfg("clf2", "relu", eta=0.01, mb=1, epochs=10)),
    _ok("iris-sigmoid", "iris [4, 8, 3] sigmoid, cross-entropy, eta 0.5, 100 epochs",
        _cfg("iris", "sigmoid")),
    _ok("iris-tanh", "iris [4, 8, 3] tanh, softmax, eta 0.1, 100 epochs",
        _cfg("iris", "tanh", eta=0.1)),
    _ok("iris-relu", "iris [4, 8, 3] ReLU, softmax, eta 0.05, 100 epochs",
        _cfg("iris", "relu", eta=0.05)),
    _ok("shifted-sigmoid", "shifted MNIST (up to 3 pixels), 3,000 images, [784, 30, 10] "
        "sigmoid, cross-entropy, eta 0.5, 10 epochs", _cfg("shifted", "sigmoid")),
    _ok("shifted-tanh", "shifted MNIST [784, 30, 10] tanh, softmax, eta 0.1, 10 epochs",
        _cfg("shifted", "tanh", eta=0.1)),
    _ok("shifted-relu-mb32", "shifted MNIST [784, 50, 50, 10] ReLU, softmax, mini-batch 32, "
        "eta 0.1, 10 epochs", _cfg("shifted", "relu", (784, 50, 50, 10), eta=0.1, mb=32)),
]

FAILING = [
    # eta 50-100 times a working one
    _bad("circles-sigmoid-eta50", "circles, sigmoid, cross-entropy, eta 50 (100 x 0.5)",
         _cfg("circles", "sigmoid", eta=50.0), LR, (SAT, COLLAPSE, "divergence")),
    _bad("blobs-tanh-eta10", "blobs, tanh, softmax, eta 10 (100 x 0.1)",
         _cfg("blobs", "tanh", eta=10.0), LR, (SAT, COLLAPSE, "divergence")),
    _bad("clf3-relu-eta2.5", "classification(20, 3) [20, 50, 50, 3] ReLU, softmax, eta 2.5 "
         "(50 x 0.05)", _cfg("clf3", "relu", eta=2.5), LR, (DEAD, COLLAPSE, "divergence")),
    _bad("iris-relu-eta2.5", "iris, ReLU, softmax, eta 2.5 (50 x 0.05)",
         _cfg("iris", "relu", eta=2.5), LR, (DEAD, COLLAPSE, "divergence")),
    _bad("shifted-sigmoid-eta25", "shifted MNIST [784, 30, 10] sigmoid, cross-entropy, eta "
         "25 (50 x 0.5)", _cfg("shifted", "sigmoid", eta=25.0), LR,
         (SAT, COLLAPSE, "divergence")),
    _bad("shifted-relu-eta5", "shifted MNIST [784, 50, 50, 10] ReLU, softmax, mini-batch 32, "
         "eta 5 (50 x 0.1)", _cfg("shifted", "relu", (784, 50, 50, 10), eta=5.0, mb=32), LR,
         (DEAD, COLLAPSE, "divergence")),
    # broken starts
    _bad("clf2-zero-init", "classification(10, 2) [10, 8, 2] sigmoid, every weight and bias 0",
         _cfg("clf2", "sigmoid", weight_init=suite.zeros, bias_init=suite.zeros), IDENT,
         (COLLAPSE,), stage="fresh"),
    _bad("blobs-zero-init", "blobs [5, 8, 4] sigmoid, every weight and bias 0",
         _cfg("blobs", "sigmoid", weight_init=suite.zeros, bias_init=suite.zeros), IDENT,
         (COLLAPSE,), stage="fresh"),
    _bad("clf3-huge-init", "classification(20, 3) [20, 50, 50, 3] sigmoid, cross-entropy, "
         "N(0, 10^2) weights", _cfg("clf3", "sigmoid", weight_init=huge_weight), SAT,
         (COLLAPSE,), stage="fresh"),
    _bad("shifted-huge-init", "shifted MNIST [784, 30, 10] sigmoid, cross-entropy, "
         "N(0, 10^2) weights", _cfg("shifted", "sigmoid", weight_init=huge_weight), SAT,
         (COLLAPSE,), stage="fresh"),
    _bad("blobs-dead-bias", "blobs [5, 8, 4] ReLU, He weights, biases -5",
         _cfg("blobs", "relu", bias_init=minus_five), DEAD, (COLLAPSE,), stage="fresh"),
    _bad("clf3-dead-bias", "classification(20, 3) [20, 50, 50, 3] ReLU, He weights, biases -3",
         _cfg("clf3", "relu", eta=0.05, bias_init=minus_three), DEAD, (COLLAPSE,),
         stage="fresh"),
    # too few updates
    _bad("clf3-full-batch", "classification(20, 3) [20, 50, 50, 3] sigmoid, cross-entropy, "
         "eta 0.5, mini-batch = the 1,500 rows, 40 epochs: 40 updates",
         _cfg("clf3", "sigmoid", mb=1500), FEW, (COLLAPSE,)),
    _bad("shifted-full-batch", "shifted MNIST [784, 30, 10] sigmoid, cross-entropy, eta 0.5, "
         "mini-batch = the 3,000 images, 10 epochs: 10 updates",
         _cfg("shifted", "sigmoid", mb=3000), FEW, (COLLAPSE,)),
    # weight decay
    _bad("blobs-weight-decay", "blobs, sigmoid, eta 0.5, lmbda 1,000 on 1,000 rows "
         "(eta lmbda / n = 0.5)", _cfg("blobs", "sigmoid", lmbda=1000.0), DECAY,
         ("tiny_weights", COLLAPSE)),
    _bad("clf2-weight-decay", "classification(10, 2) sigmoid, eta 0.5, lmbda 1,500 on 1,500 "
         "rows (eta lmbda / n = 0.5)", _cfg("clf2", "sigmoid", lmbda=1500.0), DECAY,
         ("tiny_weights", COLLAPSE)),
    # inputs left unscaled
    _bad("raw255-sigmoid", "MNIST pixels left in 0-255, 3,000 images, [784, 30, 10] sigmoid, "
         "cross-entropy, eta 0.5, 5 epochs: the hidden units saturate",
         _cfg("raw255", "sigmoid"), "inputs_not_scaled", (SAT, COLLAPSE), stage="fresh"),
]

SCENARIOS = HEALTHY + FAILING


def by_name(name) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def load(data_dir=None) -> dict:
    """Every data set of the group: name -> ((x, labels) training, (x, labels) evaluation),
    host NumPy; rows shuffled with seed 0 where the generator does not shuffle."""
    from sklearn.datasets import load_iris, make_blobs, make_circles, make_classification
    out = {
        "circles": _split(*make_circles(1500, noise=0.1, factor=0.5, random_state=1),
                          N_TRAIN["circles"], scale=False),
        "blobs": _split(*make_blobs(1500, n_features=5, centers=4, cluster_std=2.0,
                                    random_state=1), N_TRAIN["blobs"]),
        "clf3": _split(*make_classification(2000, n_features=20, n_informative=10,
                                             n_redundant=5, n_classes=3, random_state=1),
                       N_TRAIN["clf3"]),
        "clf2": _split(*make_classification(2000, n_features=10, n_informative=4,
                                             n_classes=2, class_sep=1.5, random_state=2),
                       N_TRAIN["clf2"]),
        "iris": _split(*load_iris(return_X_y=True), N_TRAIN["iris"]),
    }
    train, evaluation = suite.load(3000, 1000, data_dir)
    out["shifted"] = (_shift(train, 0), _shift(evaluation, 1))
    out["raw255"] = ((train[0] * 255.0, train[1]), (evaluation[0] * 255.0, evaluation[1]))
    return out


def _split(x, y, n_train, scale=True):
    """Rows shuffled (seed 0), features scaled to [0, 1] per column (``scale``), the first
    ``n_train`` for training and the rest for evaluation."""
    if scale:
        x = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def _shift(pair, seed):
    """Each 28 x 28 image moved by (dy, dx), each in -3..3 (drawn with ``seed``); MNIST's
    border is blank, so rolling equals shifting."""
    x, y = pair
    rng = np.random.default_rng(seed)
    images = x.reshape(-1, 28, 28)
    moved = np.empty_like(images)
    for i, (dy, dx) in enumerate(rng.integers(-3, 4, size=(len(images), 2))):
        moved[i] = np.roll(images[i], (dy, dx), axis=(0, 1))
    return moved.reshape(x.shape), y


def train_only(scenario, seed, data) -> float:
    """The scenario's run without any diagnosis or monitor: its last evaluation accuracy
    (how each healthy run was checked to learn before it was ever diagnosed)."""
    config = scenario.config
    (xy, evaluation) = heldout._data(data, config)
    net = suite.build(config, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = suite.train(net, config, net.prepare(xy), evaluation)
    return history.evaluation_accuracy[-1] / len(evaluation[1])
