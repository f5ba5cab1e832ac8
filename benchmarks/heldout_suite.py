"""The held-out scenarios of the diagnostics benchmark: data and failures no threshold was tuned on.

    SCENARIOS                  every Scenario (diagnose_suite.Scenario, with config["data"])
    load(data_dir=None) -> {"digits": (train, evaluation), "moons": ..., "mnist": ...}
    run_cases(scenario, seed, data, config=None) -> [case dict, ...]   train, diagnose, label
    resolve(scenario, seed, data) -> Scenario   config["eta"] == "find": the finder's
                                                recommendation for that seed, filled in
    finder(scenario, data, seed=0) -> function  the finder's threshold, computed once
    try_advice(scenario, seed, data, case) -> dict   the remedy named first, applied, rerun

The thresholds of nnxp.diagnostics were set on benchmarks/diagnose_suite.py (MNIST subsets).
These scenarios are kept apart from that tuning and only measured (bench_diagnose.py --suite
heldout); they are what a researcher would try first:

    healthy   scikit-learn's load_digits (scaled to [0, 1], [64, 30, 10], 30 epochs; 1,297
              training and 500 evaluation rows) and make_moons(1500, noise=0.2) ([2, 16, 2],
              50 epochs; 1,000 and 500), each with sigmoid + cross-entropy, tanh + softmax /
              log-likelihood (Glorot weights, zero biases) and ReLU + softmax / log-likelihood
              (He weights, zero biases), two working etas each and the finder's recommendation;
              other widths and depths.  Diagnosed after training with the history, and watched
              during training by a HealthMonitor: one warning from either is a false alarm.
    failing   the seed threads as their authors ran them (ReLU outputs dying on 10,000 MNIST
              images at mini-batch 1; full-batch training from U(-0.01, 0.01); chapter 1's
              network broken by eta 300 and diagnosed after a good retraining, with both runs'
              history), too-high etas on digits and moons, broken initializations and weight
              decay on the small data sets.  Each is labelled with the kind to name first; the
              remedy of the problem named first is applied and the run repeated.

MNIST comes from NNXP_DATA_DIR (training and evaluation subsets).  On NumPy with one BLAS
thread the whole suite with its advice step took about ten minutes on the shared, loaded 2-core
machine (docs/diagnostics.md); ``--no-advice`` skips the retraining, ``--seeds 0`` and
``--only`` cut it further.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

import nnxp
from benchmarks import diagnose_suite as suite
from benchmarks.diagnose_suite import LR, DEAD, SAT, COLLAPSE, Scenario
from nnxp.diagnostics.advice import scale_inputs
from nnxp.initializers import (default_weight, glorot_weight, he_weight, large_weight,
                               normal_bias, zero_bias)


def small_uniform(rng, shape):
    """U(-0.01, 0.01): the seed thread's full-batch start (symmetric about zero)."""
    return rng.uniform(-0.01, 0.01, shape)


KINDS = {
    "sigmoid": dict(activation="sigmoid", cost="CrossEntropyCost", weight_init=default_weight,
                    bias_init=normal_bias),
    "tanh": dict(activation="tanh", cost="LogLikelihoodCost", weight_init=glorot_weight,
                 bias_init=zero_bias),
    "relu": dict(activation="relu", cost="LogLikelihoodCost", weight_init=he_weight,
                 bias_init=zero_bias),
}
SIZES = {"digits": (64, 30, 10), "moons": (2, 16, 2), "wine": (13, 20, 3),
         "cancer": (30, 20, 2), "noisy": (784, 30, 10)}
EPOCHS = {"digits": 30, "moons": 50, "wine": 100, "cancer": 30, "noisy": 10}
ETAS = {("digits", "sigmoid"): (0.5, 1.0), ("digits", "tanh"): (0.05, 0.1),
        ("digits", "relu"): (0.05, 0.1), ("moons", "sigmoid"): (0.5, 1.0),
        ("moons", "tanh"): (0.1, 0.3), ("moons", "relu"): (0.1, 0.3)}


def _cfg(data, kind="sigmoid", sizes=None, **kw) -> dict:
    base = dict(data=data, sizes=list(sizes or SIZES.get(data, (784, 30, 10))),
                output_activation=None, eta=0.5, lmbda=0.0, mb=10,
                epochs=EPOCHS.get(data, 10), n=None, evaluation_cost=False, **KINDS[kind])
    base.update(kw)
    return base


def _healthy() -> list:
    out = []
    for (data, kind), etas in ETAS.items():
        for eta in etas + ("find",):
            out.append(Scenario(f"{data}-{kind}-{eta}", f"{data}, {kind}, eta {eta}",
                                _cfg(data, kind, eta=eta), stage="trained", monitor=True,
                                bar=0.9))
    out += [
        Scenario("digits-wide", "digits [64, 100, 10] sigmoid, cross-entropy, eta 0.5",
                 _cfg("digits", "sigmoid", (64, 100, 10)), stage="trained", monitor=True,
                 bar=0.9),
        Scenario("digits-deep-relu", "digits [64, 30, 30, 30, 10] ReLU, softmax, eta 0.05",
                 _cfg("digits", "relu", (64, 30, 30, 30, 10), eta=0.05), stage="trained",
                 monitor=True, bar=0.9),
        Scenario("moons-deep-tanh", "moons [2, 32, 32, 2] tanh, softmax, eta 0.1",
                 _cfg("moons", "tanh", (2, 32, 32, 2), eta=0.1), stage="trained",
                 monitor=True, bar=0.9),
    ]
    # added before any threshold was changed, and left unseen until the final measurement
    out += [
        Scenario("wine-sigmoid", "wine [13, 20, 3] (scaled to [0, 1]) sigmoid, cross-entropy, "
                 "eta 0.5, 100 epochs", _cfg("wine", "sigmoid"), stage="trained",
                 monitor=True, bar=0.85),
        Scenario("cancer-relu", "breast_cancer [30, 20, 2] (scaled to [0, 1]) ReLU, softmax, "
                 "eta 0.05", _cfg("cancer", "relu", eta=0.05), stage="trained", monitor=True,
                 bar=0.9),
        Scenario("noisy-sigmoid", "MNIST with Gaussian pixel noise (std 0.2, clipped to [0, 1]"
                 "), 5,000 images, [784, 30, 10] sigmoid, cross-entropy, eta 0.5",
                 _cfg("noisy", "sigmoid", n=5000),
                 stage="trained", monitor=True, bar=0.85),
    ]
    return out


SCENARIOS = _healthy() + [
    Scenario("relu-outputs-dying", "seed thread: [784, 100, 10] ReLU hidden and outputs, "
             "quadratic, mini-batch 1, N(0, 0.01^2) weights and biases, eta 0.1, 10,000 MNIST "
             "images, 3 epochs: output units die",
             _cfg("mnist", "relu", (784, 100, 10), output_activation="relu",
                  cost="QuadraticCost", weight_init=suite.small_normal,
                  bias_init=suite.small_normal, eta=0.1, mb=1, epochs=3, n=10000),
             stage="trained", expect=(LR, DEAD), primary=LR, allow=(COLLAPSE,), bar=0.8),
    Scenario("full-batch-small", "seed thread: chapter 1's [784, 30, 10] (sigmoid, quadratic, "
             "eta 3) from U(-0.01, 0.01) weights and biases, mini-batch = the 5,000 training "
             "images, 10 epochs: 10 updates",
             _cfg("mnist", "sigmoid", cost="QuadraticCost", weight_init=small_uniform,
                  bias_init=small_uniform, eta=3.0, mb=5000, epochs=10, n=5000),
             stage="trained", expect=("too_few_updates",), primary="too_few_updates",
             allow=(COLLAPSE, SAT), bar=0.8),
    Scenario("chapter1-eta300", "seed thread: chapter 1's network ([784, 30, 10], quadratic, "
             "N(0, 1)) trained 2 epochs at eta 300, then retrained 5 epochs at eta 3, "
             "diagnosed with both runs' history",
             _cfg("mnist", "sigmoid", cost="QuadraticCost", weight_init=large_weight,
                  eta=3.0, epochs=5, n=5000, before={"eta": 300.0, "epochs": 2}),
             stage="trained", expect=(LR,), primary=LR, allow=(SAT, COLLAPSE, DEAD), bar=0.8),
    Scenario("digits-sigmoid-eta10", "digits, sigmoid, cross-entropy, eta 10",
             _cfg("digits", "sigmoid", eta=10.0), stage="trained", expect=(LR,), primary=LR,
             allow=(SAT, COLLAPSE), bar=0.9),
    Scenario("digits-tanh-eta3", "digits, tanh, softmax, eta 3",
             _cfg("digits", "tanh", eta=3.0), stage="trained", expect=(LR,), primary=LR,
             allow=(SAT, COLLAPSE), bar=0.9),
    Scenario("digits-relu-eta3", "digits, ReLU, softmax, eta 3",
             _cfg("digits", "relu", eta=3.0), stage="trained", expect=(LR,), primary=LR,
             allow=(DEAD, COLLAPSE), bar=0.9),
    Scenario("moons-relu-eta3", "moons, ReLU, softmax, eta 3",
             _cfg("moons", "relu", eta=3.0), stage="trained", expect=(LR,), primary=LR,
             allow=(DEAD, COLLAPSE), bar=0.9),
    Scenario("digits-dead-init", "digits [64, 30, 10] ReLU, He weights, biases -2",
             _cfg("digits", "relu", bias_init=suite.minus_two), stage="fresh", expect=(DEAD,),
             primary=DEAD, allow=(COLLAPSE,), bar=0.9),
    Scenario("moons-zero-init", "moons [2, 16, 2] sigmoid, every weight and bias 0",
             _cfg("moons", "sigmoid", weight_init=suite.zeros, bias_init=suite.zeros),
             stage="fresh", expect=("identical_units",), primary="identical_units",
             allow=(COLLAPSE,), bar=0.9),
    Scenario("digits-weight-decay", "digits, sigmoid, eta 0.5, lmbda 500 (eta lmbda / n = "
             "0.19)", _cfg("digits", "sigmoid", lmbda=500.0, epochs=10), stage="trained",
             expect=("weight_decay_too_strong",), primary="weight_decay_too_strong",
             allow=("tiny_weights", COLLAPSE, SAT, LR), bar=0.9),
]


def by_name(name) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def load(data_dir=None) -> dict:
    """{"digits", "moons", "mnist"}: ((x, labels) training, (x, labels) evaluation), host."""
    from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_moons
    d = load_digits()
    order = np.random.default_rng(0).permutation(len(d.target))
    x, y = (d.data / 16.0)[order], d.target[order]
    xm, ym = make_moons(1500, noise=0.2, random_state=0)
    train, validation = suite.load(10000, 1000, data_dir)
    return {"wine": _split(load_wine(), 118), "cancer": _split(load_breast_cancer(), 369),
            "noisy": (_noisy(train), _noisy(validation)),
            "digits": ((x[:1297], y[:1297]), (x[1297:], y[1297:])),
            "moons": ((xm[:1000], ym[:1000]), (xm[1000:], ym[1000:])),
            "mnist": (train, validation)}


def _split(bunch, n_train):
    """Features scaled to [0, 1] per column, rows shuffled (seed 0), the first ``n_train``
    for training and the rest for evaluation."""
    x, y = bunch.data, bunch.target
    x = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def _noisy(pair):
    """MNIST images with N(0, 0.2^2) pixel noise (seed 0), clipped to [0, 1]: a shift in the
    input distribution that the tuned suite never saw."""
    x, y = pair
    noise = np.random.default_rng(0).normal(0.0, 0.2, x.shape).astype(x.dtype)
    return np.clip(x + noise, 0.0, 1.0), y


def _data(data, config):
    """The config's training rows and evaluation data, with a remedy's ``scale_inputs``
    (advice.scale_inputs) applied to both."""
    (x, y), (xe, ye) = data[config["data"]]
    n = config.get("n") or len(y)
    remedy = {"scale_inputs": config["scale_inputs"]} if "scale_inputs" in config else {}
    return ((scale_inputs(remedy, x[:n]), y[:n]), (scale_inputs(remedy, xe), ye))


def resolve(scenario, seed, data) -> Scenario:
    """The scenario with eta "find" replaced by the finder's recommendation for ``seed``."""
    if scenario.config["eta"] != "find":
        return scenario
    xy, _ = _data(data, scenario.config)
    found = nnxp.find_learning_rate(lambda: suite.build(scenario.config, seed), xy,
                                    mini_batch_size=scenario.config["mb"],
                                    lmbda=scenario.config["lmbda"], seed=seed)
    return dataclasses.replace(scenario, config={**scenario.config,
                                                 "eta": found.recommended})


def run_cases(scenario, seed, data, config=None, finder=None) -> list:
    """Train and diagnose one scenario for one seed: its labelled cases (diagnose_suite's;
    ``finder`` as diagnose_suite.with_finder uses it)."""
    config = config or scenario.config
    xy, evaluation = _data(data, config)
    began = time.perf_counter()
    net = suite.build(config, seed)
    train_set = net.prepare(xy)
    fresh = suite.diagnose(net, train_set, config)
    records = []
    if config.get("before"):
        first = {**config, **config["before"], "evaluation_cost": False}
        records += suite.train(net, first, train_set, evaluation).records
    monitor = nnxp.HealthMonitor(warn=False) if scenario.monitor else None
    history = suite.train(net, config, train_set, evaluation, monitor)
    records += history.records
    accuracy = history.evaluation_accuracy[-1] / len(evaluation[1])
    after = suite.with_finder(suite.diagnose(net, train_set, config, records), net,
                              train_set, config, records, finder)
    seconds = time.perf_counter() - began
    stages = {"both": [("fresh", fresh), ("trained", after)], "fresh": [("fresh", fresh)],
              "trained": [("trained", after)]}[scenario.stage]
    cases = [suite._case(scenario, seed, stage, report, accuracy, seconds)
             for stage, report in stages]
    if monitor is not None:
        warned = {p.kind for r in monitor.reports for p in r.problems if p.severity != "info"}
        cases.append(suite._case(scenario, seed, "monitor", None, accuracy, seconds, warned))
    for c in cases:
        c["eta"] = config["eta"]
    return cases


def finder(scenario, data, seed=0):
    """A function returning find_learning_rate's threshold for the scenario's network,
    mini-batch and lmbda (computed at the first call, then kept)."""
    kept = []

    def threshold():
        if not kept:
            xy, _ = _data(data, scenario.config)
            kept.append(suite.finder_threshold(scenario.config, xy, seed))
        return kept[0]
    return threshold


def try_advice(scenario, seed, data, case, found_eta=None) -> dict:
    """diagnose_suite.try_advice on these scenarios: apply the remedy of the problem named
    first to a fresh network, rerun the same budget, diagnose again at the same stage; fixed
    when that problem is gone and the evaluation accuracy reaches the scenario's bar."""
    remedy = case["remedy"] or {}
    out = {"scenario": scenario.name, "seed": seed, "named_first": case["named_first"],
           "remedy": remedy, "before": case["accuracy"]}
    if not remedy:
        return {**out, "after": None, "fixed": False, "left": None}
    config = suite.apply({k: v for k, v in scenario.config.items() if k != "before"},
                         remedy, found_eta)
    again = next(c for c in run_cases(scenario, seed, data, config)
                 if c["stage"] == case["stage"])
    gone = case["named_first"] not in again["reported"]
    return {**out, "after": again["accuracy"], "left": again["reported"],
            "fixed": gone and again["accuracy"] >= scenario.bar}
