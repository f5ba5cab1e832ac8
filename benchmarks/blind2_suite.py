"""A second blind held-out group of the diagnostics benchmark: written without running the
diagnosis on it, to be measured once.

    SCENARIOS                  every Scenario (diagnose_suite.Scenario, with config["data"])
    HEALTHY, FAILING           the two halves
    load(data_dir=None) -> {"skewed": (train, evaluation), "clf4": ..., ...}
    by_name(name) -> Scenario
    REMEDIES                   failing case name -> the remedy a researcher would expect
    verify(seeds=(0, 1), data=None) -> {name: {"accuracy": [...], "remedied": [...]}}

Cases run with heldout_suite's machinery (heldout_suite.run_cases, try_advice, finder; the
labels and scores of diagnose_suite), selected by ``bench_diagnose.py --suite blind2``; the
networks are heldout_suite's KINDS (sigmoid + cross-entropy with 1/sqrt(n_in) weights and N(0, 1)
biases; tanh + softmax / log-likelihood with Glorot weights; ReLU + softmax / log-likelihood with
He weights; zero biases for both).

Why another group: blind_suite.py was measured once and its failures are known, so changes made
after it are judged on it with that knowledge.  This group was built without reading
nnxp/diagnostics' thresholds or verdict code (docs/diagnostics.md was read; no case was chosen
or tuned against the defaults it lists), and neither the diagnosis, a HealthMonitor, the
learning-rate finder nor bench_diagnose was run on it before its one measurement.  Only plain training was run
(nnxp.Network.SGD without health), to check that the labels are true: every healthy run learns,
every failing run really fails, and the remedy a researcher would expect, applied by hand,
really fixes it (docs/diagnostics.md, "A second blind group").

    data      none of the other suites' data: make_classification with 12 features (6
              informative, 3 redundant), 2 classes at 3:1 and 2% flipped labels, standardized
              ("skewed"); make_classification with 8 features, 4 classes, scaled to [0, 1]
              ("clf4"); the same kind of table in raw units, 6 features in the hundreds
              ("sensors", and "sensors01": divided by its largest magnitude, the remedy);
              make_moons with 400 points ("moons400"); make_circles with 3,000 points and a
              close inner ring ("circles3k"); iris standardized ("iris_std"); load_digits
              in another shuffle and split, at [0, 1] ("digits"); MNIST's test images (never
              used by another suite: 4,000 for training, 1,000 for evaluation) at [0, 1]
              ("mnist_test"), left in 0-255 ("mnist_test255") and inverted, 1 - x
              ("mnist_inv": dark digits on a light background, a shift of the inputs).
    healthy   widths and depths [12, 20, 2], [12, 32, 16, 2], [8, 32, 4], [8, 24, 24, 4],
              [6, 24, 3], [2, 8, 2], [2, 16, 2], [2, 20, 20, 2], [2, 64, 2], [4, 16, 16, 3],
              [64, 40, 40, 10], [64, 128, 10], [784, 100, 10], [784, 30, 30, 10]; mini-batches
              5 to 32; the eta a researcher would take for the setting.
    failing   each labelled with the kind to name first (``primary``) and the consequences it
              may also show (``allow``); stage "fresh" for broken starts (diagnosed before
              training, as the docs advise), "trained" for broken runs (with the history).
    bar       the accuracy that counts as "trains" when the remedy is applied: below the worst
              healthy run on the same data.

Left out on purpose: a learning rate too low (eta 1e-4 on the MNIST test images, 5 epochs:
9-15% where eta 0.1-0.5 gives 89-92%, a common report) has no kind in
nnxp.diagnostics.KINDS; labelling it with another kind would test nothing true.

Checked by ``verify()`` (plain training, NumPy, seeds 0 / 1: the evaluation accuracy; for a
failing case also with its REMEDIES entry applied by hand, and the bar):

    healthy                      seed 0  seed 1    bar
    skewed-sigmoid               0.948   0.938     0.85
    skewed-relu-deep-mb25        0.964   0.952     0.85
    clf4-tanh                    0.962   0.956     0.80
    clf4-relu-deep-mb32          0.964   0.954     0.80
    sensors01-sigmoid            0.980   0.990     0.80
    moons400-sigmoid-mb5         1.000   1.000     0.90
    moons400-relu                0.980   1.000     0.90
    circles3k-tanh-deep          0.975   0.988     0.85
    circles3k-relu-wide-mb20     0.988   0.988     0.85
    iris-std-tanh-deep-mb5       0.960   0.960     0.85
    digits-relu-deep             0.970   0.980     0.90
    digits-tanh-wide-mb16        0.970   0.980     0.90
    mnist-test-sigmoid-w100      0.907   0.915     0.80
    mnist-test-relu-deep-mb20    0.894   0.890     0.80
    mnist-inv-tanh               0.870   0.854     0.80

    failing                      primary                    as built      remedied      bar
    clf4-tanh-eta10              learning_rate_too_high     0.274 0.248   0.962 0.956   0.80
    circles3k-relu-eta10         learning_rate_too_high     0.507 0.493   0.988 0.988   0.85
    moons400-sigmoid-eta50       learning_rate_too_high     0.510 0.770   1.000 1.000   0.90
    mnist-test-relu-eta1         learning_rate_too_high     0.376 0.499   0.905 0.915   0.80
    sensors-raw-relu             inputs_not_scaled          0.324 0.324   0.984 0.992   0.80
    sensors-raw-tanh             inputs_not_scaled          0.324 0.386   0.984 0.992   0.80
    mnist-test-255-sigmoid       inputs_not_scaled          0.112 0.082   0.907 0.915   0.80
    skewed-full-batch            too_few_updates            0.754 0.754   0.962 0.956   0.85
    mnist-inv-mb500              too_few_updates            0.527 0.560   0.870 0.854   0.80
    circles3k-constant-init      identical_units            0.493 0.507   0.980 0.987   0.85
    digits-rand-init             same_sign_weights          0.108 0.103   0.977 0.977   0.90
    digits-dead-small-init       dead_units                 0.091 0.088   0.970 0.980   0.90
    clf4-dead-small-init         dead_units                 0.236 0.248   0.964 0.954   0.80
    mnist-test-tanh-large-init   saturated_units            0.688 0.703   0.885 0.877   0.80
    moons400-book-lmbda          weight_decay_too_strong    0.880 0.840   1.000 1.000   0.90
    clf4-weight-decay            weight_decay_too_strong    0.424 0.350   0.962 0.956   0.80

(seeds 0 and 1 in each pair; skewed's evaluation rows are 75.4% one class, so 0.754 is a
network that predicts the majority for everything.)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from benchmarks import diagnose_suite as suite
from benchmarks import heldout_suite as heldout
from benchmarks.diagnose_suite import COLLAPSE, DEAD, LR, SAT, Scenario
from benchmarks.fresh_suite import DECAY, FEW, IDENT, Builder, _split, train_only
from nnxp.initializers import default_weight, he_weight, large_weight, zero_bias

UNSCALED, SAME_SIGN = "inputs_not_scaled", "same_sign_weights"
KINDS = heldout.KINDS

SIZES = {"skewed": (12, 20, 2), "clf4": (8, 32, 4), "sensors": (6, 24, 3),
         "sensors01": (6, 24, 3), "moons400": (2, 8, 2), "circles3k": (2, 20, 20, 2),
         "iris_std": (4, 16, 16, 3), "digits": (64, 40, 40, 10),
         "mnist_test": (784, 100, 10), "mnist_test255": (784, 100, 10),
         "mnist_inv": (784, 100, 10)}
EPOCHS = {"skewed": 30, "clf4": 30, "sensors": 30, "sensors01": 30, "moons400": 100,
          "circles3k": 30, "iris_std": 150, "digits": 30, "mnist_test": 5, "mnist_test255": 5,
          "mnist_inv": 5}
BARS = {"skewed": 0.85, "clf4": 0.8, "sensors": 0.8, "sensors01": 0.8, "moons400": 0.9,
        "circles3k": 0.85, "iris_std": 0.85, "digits": 0.9, "mnist_test255": 0.8,
        "mnist_test": 0.8, "mnist_inv": 0.8}


def constant_half(rng, shape):
    """Every weight 0.5: a hand-written "start from a constant" initializer."""
    del rng
    return np.full(shape, 0.5)


def uniform_rand(rng, shape):
    """U[0, 1): ``np.random.rand`` where ``np.random.randn`` was meant."""
    return rng.random(shape)


def tiny_normal(rng, shape):
    """N(0, 0.01^2): weights too small to lift any unit over a negative bias."""
    return 0.01 * rng.standard_normal(shape)


def minus_half(rng, shape):
    """Biases of -0.5: "a small negative bias keeps ReLUs sparse"."""
    del rng
    return np.full(shape, -0.5)


def small_weight(rng, shape):
    """N(0, 0.1^2): the "0.1 * randn" of many tutorials."""
    return 0.1 * rng.standard_normal(shape)


def minus_one(rng, shape):
    del rng
    return np.full(shape, -1.0)


_build = Builder(SIZES, EPOCHS, BARS)
_cfg, _ok, _bad = _build.cfg, _build.ok, _build.bad


HEALTHY = [
    _ok("skewed-sigmoid", "make_classification(12 features, 3:1 classes) standardized, "
        "[12, 20, 2] sigmoid, cross-entropy, eta 0.5", _cfg("skewed", "sigmoid")),
    _ok("skewed-relu-deep-mb25", "skewed [12, 32, 16, 2] ReLU, softmax, mini-batch 25, "
        "eta 0.05", _cfg("skewed", "relu", (12, 32, 16, 2), eta=0.05, mb=25)),
    _ok("clf4-tanh", "make_classification(8 features, 4 classes) [0, 1], [8, 32, 4] tanh, "
        "softmax, eta 0.1", _cfg("clf4", "tanh", eta=0.1)),
    _ok("clf4-relu-deep-mb32", "clf4 [8, 24, 24, 4] ReLU, softmax, mini-batch 32, eta 0.05",
        _cfg("clf4", "relu", (8, 24, 24, 4), eta=0.05, mb=32)),
    _ok("sensors01-sigmoid", "sensor table divided by its largest reading, [6, 24, 3] "
        "sigmoid, cross-entropy, eta 0.5", _cfg("sensors01", "sigmoid")),
    _ok("moons400-sigmoid-mb5", "make_moons(400) [2, 8, 2] sigmoid, cross-entropy, "
        "mini-batch 5, eta 1.0", _cfg("moons400", "sigmoid", eta=1.0, mb=5)),
    _ok("moons400-relu", "moons400 [2, 16, 2] ReLU, softmax, eta 0.1",
        _cfg("moons400", "relu", (2, 16, 2), eta=0.1)),
    _ok("circles3k-tanh-deep", "make_circles(3,000, factor 0.6) [2, 20, 20, 2] tanh, softmax, "
        "eta 0.1", _cfg("circles3k", "tanh", eta=0.1)),
    _ok("circles3k-relu-wide-mb20", "circles3k [2, 64, 2] ReLU, softmax, mini-batch 20, "
        "eta 0.05", _cfg("circles3k", "relu", (2, 64, 2), eta=0.05, mb=20)),
    _ok("iris-std-tanh-deep-mb5", "iris standardized [4, 16, 16, 3] tanh, softmax, "
        "mini-batch 5, eta 0.05", _cfg("iris_std", "tanh", eta=0.05, mb=5)),
    _ok("digits-relu-deep", "digits [64, 40, 40, 10] ReLU, softmax, eta 0.05",
        _cfg("digits", "relu", eta=0.05)),
    _ok("digits-tanh-wide-mb16", "digits [64, 128, 10] tanh, softmax, mini-batch 16, "
        "eta 0.05", _cfg("digits", "tanh", (64, 128, 10), eta=0.05, mb=16)),
    _ok("mnist-test-sigmoid-w100", "MNIST test images [784, 100, 10] sigmoid, cross-entropy, "
        "eta 0.5, 5 epochs", _cfg("mnist_test", "sigmoid")),
    _ok("mnist-test-relu-deep-mb20", "MNIST test images [784, 30, 30, 10] ReLU, softmax, "
        "mini-batch 20, eta 0.1", _cfg("mnist_test", "relu", (784, 30, 30, 10), eta=0.1,
                                       mb=20)),
    _ok("mnist-inv-tanh", "inverted MNIST (1 - x) [784, 100, 10] tanh, softmax, eta 0.02",
        _cfg("mnist_inv", "tanh", eta=0.02)),
]

FAILING = [
    # eta far too high
    _bad("clf4-tanh-eta10", "clf4 [8, 32, 4] tanh, softmax, eta 10 (100 x 0.1)",
         _cfg("clf4", "tanh", eta=10.0), LR, (SAT, COLLAPSE, "divergence", SAME_SIGN)),
    _bad("circles3k-relu-eta10", "circles3k [2, 64, 2] ReLU, softmax, mini-batch 20, eta 10",
         _cfg("circles3k", "relu", (2, 64, 2), eta=10.0, mb=20), LR,
         (DEAD, COLLAPSE, "divergence", SAME_SIGN)),
    _bad("moons400-sigmoid-eta50", "moons400 [2, 8, 2] sigmoid, cross-entropy, mini-batch 5, "
         "eta 50", _cfg("moons400", "sigmoid", eta=50.0, mb=5), LR,
         (SAT, COLLAPSE, "divergence", SAME_SIGN)),
    _bad("mnist-test-relu-eta1", "as reported: MNIST test images [784, 100, 10] ReLU, softmax, "
         "eta 1.0 (\"0.5 works for the book's sigmoid net\"), 5 epochs",
         _cfg("mnist_test", "relu", eta=1.0), LR, (DEAD, COLLAPSE, "divergence", SAME_SIGN)),
    # inputs left unscaled
    _bad("sensors-raw-relu", "as reported: a table of sensor readings in the hundreds, [6, 24, "
         "3] ReLU, softmax, eta 0.1: stuck at chance",
         _cfg("sensors", "relu", eta=0.1), UNSCALED,
         (LR, DEAD, COLLAPSE, "divergence", SAT, "exploding_gradients")),
    _bad("sensors-raw-tanh", "the sensor table in raw units, [6, 24, 3] tanh, softmax, "
         "eta 0.1: diagnosed fresh", _cfg("sensors", "tanh", eta=0.1), UNSCALED,
         (SAT, COLLAPSE, "exploding_gradients"), stage="fresh"),
    _bad("mnist-test-255-sigmoid", "as reported: MNIST test images left in 0-255 (\"forgot to "
         "divide by 255\"), [784, 100, 10] sigmoid, cross-entropy, eta 0.5: diagnosed after "
         "training", _cfg("mnist_test255", "sigmoid"), UNSCALED,
         (SAT, COLLAPSE, LR, "divergence", SAME_SIGN, "exploding_gradients")),
    # too few updates
    _bad("skewed-full-batch", "as reported: skewed [12, 20, 2] sigmoid, eta 0.5, mini-batch "
         "= the 1,500 rows, 10 epochs (10 updates): predicts the majority class",
         _cfg("skewed", "sigmoid", mb=1500, epochs=10), FEW, (COLLAPSE,)),
    _bad("mnist-inv-mb500", "inverted MNIST [784, 100, 10] tanh, softmax, eta 0.02, mini-batch "
         "500, 5 epochs: 40 updates", _cfg("mnist_inv", "tanh", eta=0.02, mb=500), FEW,
         (COLLAPSE,)),
    # broken starts
    _bad("circles3k-constant-init", "circles3k [2, 20, 20, 2] tanh, every weight 0.5, biases 0",
         _cfg("circles3k", "tanh", weight_init=constant_half), IDENT,
         (SAME_SIGN, SAT, COLLAPSE),
         stage="fresh"),
    _bad("digits-rand-init", "as reported: digits [64, 40, 40, 10] sigmoid, weights from "
         "np.random.rand (U[0, 1)): one digit for everything",
         _cfg("digits", "sigmoid", weight_init=uniform_rand), SAME_SIGN, (SAT, COLLAPSE),
         stage="fresh"),
    _bad("digits-dead-small-init", "digits [64, 40, 40, 10] ReLU, N(0, 0.01^2) weights, "
         "biases -0.5, eta 0.05", _cfg("digits", "relu", eta=0.05, weight_init=tiny_normal,
                                  bias_init=minus_half),
         DEAD, (COLLAPSE,), stage="fresh"),
    _bad("clf4-dead-small-init", "clf4 [8, 24, 24, 4] ReLU, N(0, 0.1^2) weights, biases -1",
         _cfg("clf4", "relu", (8, 24, 24, 4), eta=0.05, mb=32, weight_init=small_weight,
              bias_init=minus_one), DEAD, (COLLAPSE,), stage="fresh"),
    _bad("mnist-test-tanh-large-init", "MNIST test images [784, 100, 10] tanh, softmax, "
         "N(0, 1) weights (randn, unscaled), eta 0.02",
         _cfg("mnist_test", "tanh", eta=0.02, weight_init=large_weight), SAT, (COLLAPSE,),
         stage="fresh"),
    # weight decay
    _bad("moons400-book-lmbda", "as reported: the book's lmbda 5.0 on 300 rows, moons400 "
         "[2, 8, 2] sigmoid, mini-batch 5, eta 1.0 (eta lmbda / n = 0.017)",
         _cfg("moons400", "sigmoid", eta=1.0, mb=5, lmbda=5.0), DECAY,
         ("tiny_weights", COLLAPSE)),
    _bad("clf4-weight-decay", "clf4 [8, 32, 4] tanh, eta 0.1, lmbda 200 on 2,000 rows "
         "(eta lmbda / n = 0.01)", _cfg("clf4", "tanh", eta=0.1, lmbda=200.0), DECAY,
         ("tiny_weights", COLLAPSE)),
]

SCENARIOS = HEALTHY + FAILING

# The remedy a researcher would expect for each failing case, in Problem.remedy's vocabulary
# (diagnose_suite.apply): checked by ``verify`` to train the case above its bar.  The
# benchmark applies the remedy the diagnosis names, not these.
REMEDIES = {
    "clf4-tanh-eta10": {"eta": 0.1},
    "circles3k-relu-eta10": {"eta": 0.05},
    "moons400-sigmoid-eta50": {"eta": 1.0},
    "mnist-test-relu-eta1": {"eta": 0.1},
    "sensors-raw-relu": {"scale_inputs": 1.0 / 964.25},     # 1 / max |x| of the training rows
    "sensors-raw-tanh": {"scale_inputs": 1.0 / 964.25},
    "mnist-test-255-sigmoid": {"scale_inputs": 1.0 / 255.0},
    "skewed-full-batch": {"mini_batch_size": 10},
    "mnist-inv-mb500": {"mini_batch_size": 10},
    "circles3k-constant-init": {"weight_init": default_weight},
    "digits-rand-init": {"weight_init": default_weight},
    "digits-dead-small-init": {"weight_init": he_weight, "bias_init": zero_bias},
    "clf4-dead-small-init": {"weight_init": he_weight, "bias_init": zero_bias},
    "mnist-test-tanh-large-init": {"weight_init": default_weight},
    "moons400-book-lmbda": {"lmbda": 5e-5 * 300 / 1.0},     # the book's 5e-5 decay per step
    "clf4-weight-decay": {"lmbda": 5e-5 * 2000 / 0.1},
}


def by_name(name) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def load(data_dir=None) -> dict:
    """Every data set of the group: name -> ((x, labels) training, (x, labels) evaluation),
    host NumPy; rows shuffled with seed 0 (fresh_suite._split) unless said otherwise."""
    import nnxp
    from sklearn.datasets import (load_digits, load_iris, make_circles, make_classification,
                                  make_moons)
    xs, ys = make_classification(2000, n_features=12, n_informative=6, n_redundant=3,
                                 n_classes=2, weights=[0.75], flip_y=0.02, random_state=11)
    xq, yq = make_classification(2000, n_features=6, n_informative=4, n_redundant=1,
                                 n_classes=3, n_clusters_per_class=1, class_sep=1.5,
                                 random_state=23)
    sensors = 80.0 * xq + 400.0   # readings in raw units, roughly -600 to 960
    xi, yi = load_iris(return_X_y=True)
    digits = load_digits()
    order = np.random.default_rng(3).permutation(len(digits.target))
    xd, yd = digits.data[order], digits.target[order]
    out = {
        "skewed": _split(_standardize(xs), ys, 1500, scale=False),
        "clf4": _split(*make_classification(2500, n_features=8, n_informative=5,
                                            n_redundant=2, n_classes=4,
                                            n_clusters_per_class=1, class_sep=1.5,
                                            random_state=5), 2000),
        "sensors": _split(sensors, yq, 1500, scale=False),
        "sensors01": _split(sensors / np.abs(sensors).max(), yq, 1500, scale=False),
        "moons400": _split(*make_moons(400, noise=0.15, random_state=3), 300, scale=False),
        "circles3k": _split(*make_circles(3000, noise=0.08, factor=0.6, random_state=4),
                            2400, scale=False),
        "iris_std": _split(_standardize(xi), yi, 100, scale=False),
        "digits": ((xd[:1400] / 16.0, yd[:1400]), (xd[1400:] / 16.0, yd[1400:])),
    }
    _, _, (xt, yt) = nnxp.datasets.load_mnist(data_dir, download=False, backend="numpy",
                                              dtype="float32", n_train=1, n_validation=1,
                                              n_test=5000)
    train, evaluation = (xt[:4000], yt[:4000]), (xt[4000:], yt[4000:])
    out["mnist_test"] = (train, evaluation)
    out["mnist_test255"] = ((255.0 * train[0], train[1]), (255.0 * evaluation[0], evaluation[1]))
    out["mnist_inv"] = ((1.0 - train[0], train[1]), (1.0 - evaluation[0], evaluation[1]))
    return out


def _standardize(x):
    """Zero mean and unit variance per column (scikit-learn's StandardScaler, by hand)."""
    return (x - x.mean(axis=0)) / x.std(axis=0)


def verify(seeds=(0, 1), data=None, progress=print) -> dict:
    """Plain training only (fresh_suite.train_only: no diagnosis, no monitor): every case's
    evaluation accuracy per seed, and for a failing case also with its REMEDIES entry applied
    by hand.  name -> {"accuracy": [...], "remedied": [...] or None}."""
    data = data or load()
    out = {}
    for s in SCENARIOS:
        row = {"accuracy": [train_only(s, seed, data) for seed in seeds], "remedied": None}
        if not s.healthy:
            fixed = dataclasses.replace(s, config=suite.apply(s.config, REMEDIES[s.name]))
            row["remedied"] = [train_only(fixed, seed, data) for seed in seeds]
        out[s.name] = row
        progress(f"{s.name:28} bar {s.bar:.2f}  " + " ".join(f"{a:.3f}" for a in row["accuracy"])
                 + ("" if row["remedied"] is None else "  remedied " + " ".join(
                     f"{a:.3f}" for a in row["remedied"])))
    return out
