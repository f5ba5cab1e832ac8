"""A blind held-out group of the diagnostics benchmark: written before the changes it judges
were measured on it, and measured once.

    SCENARIOS                  every Scenario (diagnose_suite.Scenario, with config["data"])
    HEALTHY, FAILING           the two halves
    load(data_dir=None) -> {"rings": (train, evaluation), "quantiles": ..., ...}
    by_name(name) -> Scenario

Cases run with heldout_suite's machinery (heldout_suite.run_cases, try_advice, finder; the
labels and scores of diagnose_suite), selected by ``bench_diagnose.py --suite blind``; the
networks are heldout_suite's KINDS.

Why a third group: benchmarks/fresh_suite.py was built blind, but its failures were then used
to change the thresholds and verdicts, so it became a training score.  This group was written
in the same session, before those changes were run on it, and measured once
(docs/diagnostics.md, "A blind held-out group"; only its three helpers moved into
fresh_suite.Builder afterwards, the scenarios checked equal).  Its failures were then used to
change the diagnosis, so it is now a training score too; one label, found wrong at that first
measurement, was corrected (wine-std-full-batch, see HEALTHY).

    data      configurations no other suite uses: make_circles with little noise and a
              small inner ring ("rings"), make_blobs in 2-d with 3 tight centres ("blobs2"),
              make_gaussian_quantiles (3 features, 3 classes; a data set no suite uses),
              load_wine standardized (zero mean, unit variance: inputs outside [0, 1] that
              are nonetheless scaled), load_breast_cancer scaled to [0, 1] and left raw
              (features up to 4,254), MNIST subsets of 4,000 training and 1,000 evaluation
              images with a hidden layer of 60, at [0, 1] and left in 0-255.
    healthy   widths and depths [2, 32, 2], [2, 24, 24, 2], [2, 10, 3], [3, 30, 3],
              [13, 40, 3], [30, 10, 10, 2], [784, 60, 10]; sigmoid + cross-entropy, tanh +
              softmax, ReLU + softmax; mini-batches 5, 16, 20, 50; etas a researcher would
              take for the setting; and wine's full batch (labelled failing at first: a
              labelling error, see HEALTHY).
    failing   eta about 100 times a working one; inputs left unscaled (0-255 MNIST for a
              tanh and a ReLU network, raw breast_cancer for a sigmoid one): the kind to name
              first is ``inputs_not_scaled``; too few updates (MNIST full-batch); dead ReLU biases;
              every weight 0; N(0, 10^2) weights; eta lmbda / n of 0.3.
    bar       the accuracy that counts as "trains" when the remedy is applied: below the worst
              healthy run on the same data (checked with fresh_suite.train_only, which runs
              no diagnosis).
"""

from __future__ import annotations

import numpy as np

from benchmarks import diagnose_suite as suite
from benchmarks import heldout_suite as heldout
from benchmarks.diagnose_suite import COLLAPSE, DEAD, LR, SAT
from benchmarks.fresh_suite import DECAY, FEW, IDENT, Builder, _split, huge_weight

UNSCALED = "inputs_not_scaled"
KINDS = heldout.KINDS

SIZES = {"rings": (2, 32, 2), "blobs2": (2, 10, 3), "quantiles": (3, 30, 3),
         "wine_std": (13, 40, 3), "cancer01": (30, 10, 10, 2), "cancer_raw": (30, 10, 10, 2),
         "mnist60": (784, 60, 10), "mnist255": (784, 60, 10)}
EPOCHS = {"rings": 40, "blobs2": 20, "quantiles": 40, "wine_std": 60, "cancer01": 40,
          "cancer_raw": 40, "mnist60": 8, "mnist255": 8}
BARS = {"rings": 0.9, "blobs2": 0.9, "quantiles": 0.8, "wine_std": 0.85, "cancer01": 0.85,
        "cancer_raw": 0.85, "mnist60": 0.8, "mnist255": 0.8}


def minus_four(rng, shape):
    del rng
    return np.full(shape, -4.0)


_build = Builder(SIZES, EPOCHS, BARS)
_cfg, _ok, _bad = _build.cfg, _build.ok, _build.bad


HEALTHY = [
    _ok("rings-sigmoid-w32", "rings [2, 32, 2] sigmoid, cross-entropy, eta 1.0",
        _cfg("rings", "sigmoid", eta=1.0)),
    _ok("rings-tanh-deep-mb20", "rings [2, 24, 24, 2] tanh, softmax, mini-batch 20, eta 0.05",
        _cfg("rings", "tanh", (2, 24, 24, 2), eta=0.05, mb=20)),
    _ok("blobs2-relu-mb5", "blobs2 [2, 10, 3] ReLU, softmax, mini-batch 5, eta 0.05",
        _cfg("blobs2", "relu", eta=0.05, mb=5)),
    _ok("blobs2-sigmoid-mb16", "blobs2 [2, 10, 3] sigmoid, cross-entropy, mini-batch 16, "
        "eta 0.5", _cfg("blobs2", "sigmoid", mb=16)),
    _ok("quantiles-relu", "gaussian quantiles [3, 30, 3] ReLU, softmax, eta 0.05",
        _cfg("quantiles", "relu", eta=0.05)),
    _ok("quantiles-tanh-mb16", "gaussian quantiles [3, 30, 3] tanh, softmax, mini-batch 16, "
        "eta 0.1", _cfg("quantiles", "tanh", eta=0.1, mb=16)),
    _ok("wine-std-tanh-mb16", "wine standardized [13, 40, 3] tanh, softmax, mini-batch 16, "
        "eta 0.05", _cfg("wine_std", "tanh", eta=0.05, mb=16)),
    _ok("wine-std-relu", "wine standardized [13, 40, 3] ReLU, softmax, eta 0.02",
        _cfg("wine_std", "relu", eta=0.02)),
    _ok("cancer01-sigmoid-deep", "breast_cancer [0, 1] [30, 10, 10, 2] sigmoid, "
        "cross-entropy, mini-batch 20, eta 0.3", _cfg("cancer01", "sigmoid", eta=0.3, mb=20)),
    _ok("cancer01-tanh-deep", "breast_cancer [0, 1] [30, 10, 10, 2] tanh, softmax, eta 0.05",
        _cfg("cancer01", "tanh", eta=0.05)),
    _ok("mnist60-sigmoid-mb20", "MNIST 4,000 images [784, 60, 10] sigmoid, cross-entropy, "
        "mini-batch 20, eta 0.5", _cfg("mnist60", "sigmoid", mb=20)),
    _ok("mnist60-tanh", "MNIST [784, 60, 10] tanh, softmax, eta 0.05",
        _cfg("mnist60", "tanh", eta=0.05)),
    _ok("mnist60-relu-mb50", "MNIST [784, 60, 10] ReLU, softmax, mini-batch 50, eta 0.1",
        _cfg("mnist60", "relu", eta=0.1, mb=50)),
    # A labelling error found at the first measurement (090fd06): this run was labelled
    # failing (too_few_updates), but its 20 full-batch updates train it to 92-95% on both
    # seeds, above the bar; the diagnosis said nothing, which is right.  Relabelled healthy.
    _ok("wine-std-full-batch", "wine standardized [13, 40, 3] sigmoid, cross-entropy, eta "
        "0.5, mini-batch = the 118 rows, 20 epochs: 20 updates (trains: a healthy run)",
        _cfg("wine_std", "sigmoid", mb=118, epochs=20)),
]

FAILING = [
    # eta about 100 times a working one
    _bad("rings-tanh-eta5", "rings [2, 24, 24, 2] tanh, softmax, mini-batch 20, eta 5",
         _cfg("rings", "tanh", (2, 24, 24, 2), eta=5.0, mb=20), LR,
         (SAT, COLLAPSE, "divergence")),
    _bad("quantiles-relu-eta5", "gaussian quantiles [3, 30, 3] ReLU, softmax, eta 5",
         _cfg("quantiles", "relu", eta=5.0), LR, (DEAD, COLLAPSE, "divergence")),
    _bad("cancer01-sigmoid-eta30", "breast_cancer [0, 1] [30, 10, 10, 2] sigmoid, "
         "cross-entropy, mini-batch 20, eta 30", _cfg("cancer01", "sigmoid", eta=30.0, mb=20),
         LR, (SAT, COLLAPSE, "divergence")),
    _bad("mnist60-relu-eta10", "MNIST [784, 60, 10] ReLU, softmax, mini-batch 50, eta 10",
         _cfg("mnist60", "relu", eta=10.0, mb=50), LR, (DEAD, COLLAPSE, "divergence")),
    # inputs left unscaled
    _bad("mnist255-tanh", "MNIST pixels in 0-255, [784, 60, 10] tanh, softmax, eta 0.05: "
         "diagnosed fresh", _cfg("mnist255", "tanh", eta=0.05), UNSCALED, (SAT, COLLAPSE),
         stage="fresh"),
    _bad("mnist255-relu", "MNIST pixels in 0-255, [784, 60, 10] ReLU, softmax, mini-batch "
         "50, eta 0.1: diagnosed after training", _cfg("mnist255", "relu", eta=0.1, mb=50),
         UNSCALED, (DEAD, COLLAPSE, "divergence", LR, SAT, "exploding_gradients")),
    _bad("cancer-raw-sigmoid", "breast_cancer unscaled (features up to 4,254) [30, 10, 10, 2] "
         "sigmoid, cross-entropy, mini-batch 20, eta 0.3: diagnosed fresh",
         _cfg("cancer_raw", "sigmoid", eta=0.3, mb=20), UNSCALED, (SAT, COLLAPSE),
         stage="fresh"),
    # too few updates
    _bad("mnist60-full-batch", "MNIST [784, 60, 10] tanh, softmax, eta 0.05, mini-batch = "
         "the 4,000 images, 8 epochs: 8 updates", _cfg("mnist60", "tanh", eta=0.05, mb=4000),
         FEW, (COLLAPSE,)),
    # broken starts
    _bad("quantiles-dead-bias", "gaussian quantiles [3, 30, 3] ReLU, He weights, biases -4",
         _cfg("quantiles", "relu", eta=0.05, bias_init=minus_four), DEAD, (COLLAPSE,),
         stage="fresh"),
    _bad("wine-std-zero-init", "wine standardized [13, 40, 3] tanh, every weight and bias 0",
         _cfg("wine_std", "tanh", eta=0.05, weight_init=suite.zeros, bias_init=suite.zeros),
         IDENT, (COLLAPSE,), stage="fresh"),
    _bad("cancer01-huge-init", "breast_cancer [0, 1] [30, 10, 10, 2] sigmoid, N(0, 10^2) "
         "weights", _cfg("cancer01", "sigmoid", eta=0.3, mb=20, weight_init=huge_weight),
         SAT, (COLLAPSE,), stage="fresh"),
    # weight decay
    _bad("quantiles-weight-decay", "gaussian quantiles [3, 30, 3] sigmoid, eta 0.5, lmbda 600 "
         "on 1,000 rows (eta lmbda / n = 0.3)", _cfg("quantiles", "sigmoid", lmbda=600.0),
         DECAY, ("tiny_weights", COLLAPSE)),
]

SCENARIOS = HEALTHY + FAILING


def by_name(name) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def load(data_dir=None) -> dict:
    """Every data set of the group: name -> ((x, labels) training, (x, labels) evaluation),
    host NumPy; rows shuffled with seed 0 (fresh_suite._split)."""
    from sklearn.datasets import (load_breast_cancer, load_wine, make_blobs, make_circles,
                                  make_gaussian_quantiles)
    xw, yw = load_wine(return_X_y=True)
    xw = (xw - xw.mean(axis=0)) / xw.std(axis=0)
    xc, yc = load_breast_cancer(return_X_y=True)
    out = {
        "rings": _split(*make_circles(1500, noise=0.05, factor=0.3, random_state=7), 1000,
                        scale=False),
        "blobs2": _split(*make_blobs(1500, n_features=2, centers=3, cluster_std=1.0,
                                     random_state=7), 1000),
        "quantiles": _split(*make_gaussian_quantiles(n_samples=1500, n_features=3,
                                                     n_classes=3, random_state=7), 1000,
                            scale=False),
        "wine_std": _split(xw, yw, 118, scale=False),
        "cancer01": _split(xc, yc, 369),
        "cancer_raw": _split(xc, yc, 369, scale=False),
    }
    train, evaluation = suite.load(4000, 1000, data_dir)
    out["mnist60"] = (train, evaluation)
    out["mnist255"] = ((train[0] * 255.0, train[1]), (evaluation[0] * 255.0, evaluation[1]))
    return out
