"""The labelled scenarios of the diagnostics benchmark (bench_diagnose.py) and how each is run.

    SCENARIOS                  every Scenario; QUICK: the names of the CI-reduced suite
    load(n_train, n_eval)      MNIST subsets as host NumPy float32: (train, evaluation)
    run_cases(scenario, seed, data) -> [case dict, ...]   train, diagnose, label
    score(cases) -> dict       per-kind precision / recall, primary-cause accuracy, healthy
                               networks with an error
    run_finder(scenario, data) -> dict    find_learning_rate on the scenario, then train at
                                          the recommended eta
    try_advice(scenario, seed, data, case, finder) -> dict   apply the primary problem's remedy,
                                                             retrain the same budget, diagnose

A Scenario is a network and a training run on MNIST subsets (5,000 training and 1,000
evaluation images unless it says otherwise), labelled with the problem kinds a diagnosis must
report (``expect``), the one it must name first (``primary``; None: a healthy network) and the
ones it may report without being wrong (``allow``: consequences of the cause, or what the book
itself says of such a network, such as the saturated hidden units of N(0, 1) weights).  A
healthy scenario gives two cases, diagnosed before training ("fresh") and after it with its
history ("trained"); a failing one is diagnosed where its evidence is: a broken initialization
before training, a broken run after it, with ``eta``, ``lmbda`` and the history.  A scenario
with ``monitor`` also runs a HealthMonitor during training and adds a "monitor" case: every
kind the monitor warned about at any epoch.

Only problems of severity "warning" or "error" count as reported ("info" is not a verdict).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

import nnxp
from nnxp.initializers import (default_weight, glorot_weight, he_weight, large_weight,
                               normal_bias, zero_bias)

N_TRAIN, N_EVAL = 5000, 1000


def small_normal(rng, shape):
    """N(0, 0.01^2): weights and biases that start every unit near z = 0."""
    return 0.01 * rng.standard_normal(shape)


def uniform01(rng, shape):
    """U[0, 1): every weight positive."""
    return rng.random(shape)


def zeros(rng, shape):
    del rng
    return np.zeros(shape)


def minus_two(rng, shape):
    """Biases of -2: "negative biases make ReLU units sparse" taken too far."""
    del rng
    return np.full(shape, -2.0)


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    config: dict
    stage: str = "both"          # "both" (healthy), "fresh" or "trained"
    expect: tuple = ()
    primary: str | None = None
    allow: tuple = ()
    fresh_allow: tuple = ()      # healthy: kinds the fresh network may show
    monitor: bool = False
    finder: dict | None = None   # {"works": eta, "fails": eta} (either may be absent)
    bar: float = 0.8             # evaluation accuracy that counts as "trains"

    @property
    def healthy(self) -> bool:
        return self.primary is None


def _cfg(sizes=(784, 30, 10), **kw) -> dict:
    base = dict(sizes=list(sizes), cost="CrossEntropyCost", activation="sigmoid",
                output_activation=None, weight_init=default_weight, bias_init=normal_bias,
                eta=0.5, lmbda=0.0, mb=10, epochs=10, n=N_TRAIN, evaluation_cost=False)
    base.update(kw)
    return base


LR, DEAD, SAT, COLLAPSE = ("learning_rate_too_high", "dead_units", "saturated_units",
                           "output_collapse")
BOOK_LMBDA = 0.5  # lmbda 5.0 scaled to 5,000 images: the book's decay per step, 5e-5 at eta 0.5

SCENARIOS = [
    # -- healthy: several kinds, diagnosed before and after training ------------------------
    Scenario("sigmoid-ce", "[784, 30, 10] sigmoid, cross-entropy, eta 0.5, lmbda (book)",
             _cfg(lmbda=BOOK_LMBDA)),
    Scenario("tanh-softmax", "[784, 30, 10] tanh, softmax + log-likelihood, Glorot init",
             _cfg(activation="tanh", cost="LogLikelihoodCost", weight_init=glorot_weight,
                  bias_init=zero_bias, eta=0.1)),
    Scenario("relu-softmax", "[784, 100, 10] ReLU, softmax + log-likelihood, He init",
             _cfg((784, 100, 10), activation="relu", cost="LogLikelihoodCost",
                  weight_init=he_weight, bias_init=zero_bias, eta=0.1),
             finder={"works": 0.1, "fails": 2.0}),
    Scenario("relu-outputs", "[784, 100, 10] ReLU hidden and outputs, quadratic, weights and "
             "biases N(0, 0.01^2), eta 0.05 (some outputs start at 0 on every input)",
             _cfg((784, 100, 10), activation="relu", output_activation="relu",
                  cost="QuadraticCost", weight_init=small_normal, bias_init=small_normal,
                  eta=0.05),
             finder={"works": 0.05, "fails": 1.0}),
    Scenario("chapter1", "[784, 30, 10] sigmoid, quadratic, N(0, 1) weights, eta 3.0 "
             "(chapter 1)", _cfg(cost="QuadraticCost", weight_init=large_weight, eta=3.0),
             fresh_allow=(SAT,), finder={"works": 3.0}),
    Scenario("large-init-ce", "[784, 30, 10] cross-entropy, N(0, 1) weights, eta 0.1 "
             "(chapter 3's comparison)", _cfg(weight_init=large_weight, eta=0.1,
                                               lmbda=BOOK_LMBDA),
             fresh_allow=(SAT,)),
    Scenario("mini-batch-1", "[784, 30, 10] cross-entropy, mini-batch 1, eta 0.05, 3 epochs",
             _cfg(mb=1, eta=0.05, epochs=3)),
    Scenario("full-batch", "[784, 30, 10] cross-entropy, full batch of 2,000, eta 2, "
             "200 steps", _cfg(n=2000, mb=2000, eta=2.0, epochs=200),
             finder={"works": 2.0}),
    Scenario("deep-sigmoid", "[784, 30, 30, 30, 10] sigmoid, cross-entropy, eta 0.5",
             _cfg((784, 30, 30, 30, 10), lmbda=BOOK_LMBDA),
             fresh_allow=("vanishing_gradients",), finder={"works": 0.5}),
    # -- failing, each with a known cause ---------------------------------------------------
    Scenario("eta-small-batch", "the book's eta 2.5 ([784, 30, 10], cross-entropy, lmbda): "
             "the training cost oscillates (30 epochs, as in the book)",
             _cfg(eta=2.5, lmbda=BOOK_LMBDA, epochs=30),
             stage="trained", expect=(LR,), primary=LR, finder={"works": 0.5, "fails": 2.5},
             bar=0.9),
    Scenario("eta-large-batch", "chapter 1's network at mini-batch 500, eta 300: frozen at "
             "cost 0.5", _cfg(cost="QuadraticCost", weight_init=large_weight, mb=500,
                              eta=300.0, epochs=30),
             stage="trained", expect=(LR, SAT), primary=LR, allow=(COLLAPSE,),
             finder={"works": 10.0, "fails": 50.0}, bar=0.6),
    Scenario("eta-instability", "eta 10 ([784, 30, 10], cross-entropy, lmbda): evaluation "
             "accuracy falls while the training cost falls, which is not overfitting",
             _cfg(eta=10.0, lmbda=BOOK_LMBDA, epochs=30, evaluation_cost=True),
             stage="trained", expect=(LR,), primary=LR, allow=(SAT, COLLAPSE), monitor=True),
    Scenario("deep-vanishing", "[784, 30 x 6, 10] sigmoid, cross-entropy, eta 0.1: the first "
             "layers learn 10^4 times more slowly than the last, and the network not at all",
             _cfg((784, 30, 30, 30, 30, 30, 30, 10), eta=0.1, epochs=5),
             stage="trained", expect=("vanishing_gradients", COLLAPSE),
             primary="vanishing_gradients"),
    Scenario("large-init", "[784, 100, 10] sigmoid, quadratic, N(0, 1) weights, eta 0.5, one "
             "epoch: saturated hidden units learn slowly",
             _cfg((784, 100, 10), cost="QuadraticCost", weight_init=large_weight, epochs=1),
             stage="fresh", expect=(SAT,), primary=SAT, bar=0.7),
    Scenario("positive-init", "[784, 30, 10], weights U[0, 1), full batch of 2,000, eta 2: "
             "one digit for everything", _cfg(weight_init=uniform01, n=2000, mb=2000, eta=2.0,
                                              epochs=100),
             stage="trained", expect=("same_sign_weights", SAT, COLLAPSE),
             primary="same_sign_weights", allow=(LR,)),
    Scenario("dead-init", "[784, 100, 10] ReLU, He weights, biases -2: most units dead at "
             "the start", _cfg((784, 100, 10), activation="relu", cost="LogLikelihoodCost",
                               weight_init=he_weight, bias_init=minus_two, eta=0.1, epochs=5),
             stage="fresh", expect=(DEAD,), primary=DEAD, allow=(COLLAPSE,)),
    Scenario("dead-by-eta", "[784, 100, 10] ReLU, softmax, eta 2: the first steps kill every "
             "hidden unit", _cfg((784, 100, 10), activation="relu", cost="LogLikelihoodCost",
                                 weight_init=he_weight, bias_init=zero_bias, eta=2.0,
                                 epochs=5),
             stage="trained", expect=(LR, DEAD, COLLAPSE), primary=LR),
    Scenario("relu-collapse", "the healthy relu-outputs network at eta 1: every output dies, "
             "cost frozen at 0.5", _cfg((784, 100, 10), activation="relu",
                                       output_activation="relu", cost="QuadraticCost",
                                       weight_init=small_normal, bias_init=small_normal,
                                       eta=1.0, epochs=5),
             stage="trained", expect=(LR, DEAD, COLLAPSE), primary=LR, bar=0.7),
    Scenario("weight-decay", "weight decay of the book's noise generator, eta lmbda / n = 0.2: "
             "eta 0.5, lmbda 2,000 on 5,000 images", _cfg(lmbda=2000.0, epochs=5),
             stage="trained", expect=("weight_decay_too_strong", "tiny_weights", COLLAPSE),
             primary="weight_decay_too_strong", allow=(SAT, LR)),
    Scenario("overfitting", "the book's overfitting: 1,000 images, N(0, 1) weights, 150 "
             "epochs, eta 0.5, no regularization",
             _cfg(n=1000, weight_init=large_weight, epochs=150, evaluation_cost=True),
             stage="trained", expect=("overfitting",), primary="overfitting"),
    Scenario("divergence", "sigmoid hidden, linear outputs, quadratic, eta 5: the weights "
             "overflow (SGD stops and keeps the last finite ones, which may predict one class)",
             _cfg(output_activation="identity", cost="QuadraticCost", eta=5.0, epochs=3),
             stage="trained", expect=("divergence",), primary="divergence",
             allow=(COLLAPSE,)),
    Scenario("zero-init", "every weight and bias 0: the hidden units are identical",
             _cfg(weight_init=zeros, bias_init=zeros, epochs=5),
             stage="fresh", expect=("identical_units",), primary="identical_units",
             allow=(COLLAPSE,)),
]

QUICK = ("deep-vanishing", "sigmoid-ce", "relu-outputs", "chapter1", "eta-small-batch",
         "eta-large-batch",
         "eta-instability", "positive-init", "dead-init", "relu-collapse", "weight-decay",
         "divergence", "zero-init")


def by_name(name) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def load(n_train=N_TRAIN, n_eval=N_EVAL, data_dir=None):
    """MNIST's first ``n_train`` training and ``n_eval`` validation images, host float32."""
    train, validation, _ = nnxp.datasets.load_mnist(data_dir, download=False, backend="numpy",
                                                    dtype="float32", n_train=n_train,
                                                    n_validation=n_eval)
    return train, validation


# -- one scenario -----------------------------------------------------------------------------

def build(config, seed) -> nnxp.Network:
    return nnxp.Network(config["sizes"], cost=getattr(nnxp, config["cost"]),
                        activation=config["activation"],
                        output_activation=config["output_activation"],
                        weight_init=config["weight_init"], bias_init=config["bias_init"],
                        seed=seed)


def train(net, config, train_set, evaluation, monitor=None):
    with warnings.catch_warnings():  # diverging runs overflow: that is what they show
        warnings.simplefilter("ignore", RuntimeWarning)
        return net.SGD(train_set, config["epochs"], config["mb"], config["eta"],
                       lmbda=config["lmbda"], evaluation_data=evaluation,
                       monitor_evaluation_accuracy=True, monitor_training_cost=True,
                       monitor_training_accuracy=True,
                       monitor_evaluation_cost=config["evaluation_cost"],
                       health=monitor or False,
                       **({"early_stopping": config["early_stopping"]}
                          if config.get("early_stopping") else {}))


def diagnose(net, train_set, config, history=None, threshold=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return nnxp.diagnose(net, train_set, eta=config["eta"], lmbda=config["lmbda"],
                             history=history, threshold=threshold,
                             mini_batch_size=config["mb"])


def with_finder(report, net, train_set, config, history, finder):
    """The documented workflow: when the problem named first says to lower eta, or a note
    says the curve cannot tell whether eta is too high ("ask_finder"), run the finder
    (``finder()``: its threshold) and diagnose again with it, so that the remedy holds the
    finder's recommendation."""
    first = report.primary
    asks = any(p.evidence.get("ask_finder") for p in report.problems)
    if finder is None or (first is None or "eta" not in first.remedy and not (
            first.kind == "learning_rate_too_high")) and not asks:
        return report
    threshold = finder()
    return report if threshold is None else diagnose(net, train_set, config, history,
                                                     threshold)


def finder_threshold(config, xy, seed=0):
    """find_learning_rate's threshold for a config's network, mini-batch and lmbda."""
    return nnxp.find_learning_rate(lambda: build(config, seed), xy,
                                   mini_batch_size=config["mb"], lmbda=config["lmbda"],
                                   seed=seed).threshold


def _subset(data, config):
    (x, y), evaluation = data
    return (x[:config["n"]], y[:config["n"]]), evaluation


def run_cases(scenario, seed, data, config=None, finder=None) -> list:
    """Train and diagnose one scenario for one seed: its labelled cases (``finder``: a
    function returning the finder's threshold, used as ``with_finder`` says)."""
    config = config or scenario.config
    (xy, evaluation) = _subset(data, config)
    began = time.perf_counter()
    net = build(config, seed)
    train_set = net.prepare(xy)
    fresh = diagnose(net, train_set, config)
    monitor = nnxp.HealthMonitor(warn=False) if scenario.monitor else None
    history = train(net, config, train_set, evaluation, monitor)
    accuracy = history.evaluation_accuracy[-1] / len(evaluation[1])
    after = with_finder(diagnose(net, train_set, config, history), net, train_set, config,
                        history, finder)
    seconds = time.perf_counter() - began
    stages = {"both": [("fresh", fresh), ("trained", after)], "fresh": [("fresh", fresh)],
              "trained": [("trained", after)]}[scenario.stage]
    cases = [_case(scenario, seed, stage, report, accuracy, seconds) for stage, report in stages]
    if monitor is not None:
        warned = {p.kind for r in monitor.reports for p in r.problems if p.severity != "info"}
        cases.append(_case(scenario, seed, "monitor", None, accuracy, seconds, warned))
    return cases


def _case(scenario, seed, stage, report, accuracy, seconds, warned=None) -> dict:
    healthy = scenario.healthy
    expect = set() if healthy else set(scenario.expect)
    allow = set(scenario.fresh_allow if healthy and stage == "fresh" else scenario.allow)
    if report is not None:
        reported = {p.kind for p in report.problems if p.severity != "info"}
        first = report.primary
        problems = [f"{p.kind}{'' if p.layer is None else '@' + str(p.layer)}[{p.severity}]"
                    for p in report.problems]
        errors = sum(p.severity == "error" for p in report.problems)
    else:
        reported, first, problems, errors = set(warned), None, sorted(warned), 0
    primary = scenario.primary if stage != "monitor" else None
    return {"scenario": scenario.name, "seed": seed, "stage": stage, "healthy": healthy,
            "expect": sorted(expect), "allow": sorted(allow), "reported": sorted(reported),
            "problems": problems, "errors": errors, "accuracy": accuracy,
            "seconds": seconds, "primary": primary,
            "named_first": None if first is None else first.kind,
            "primary_ok": None if primary is None else (first is not None
                                                        and first.kind == primary),
            "missed": sorted(expect - reported), "false": sorted(reported - expect - allow),
            "remedy": None if first is None else dict(first.remedy)}


def score(cases) -> dict:
    """Per kind: tp, fp, fn, precision, recall; primary-cause accuracy; healthy errors."""
    kinds = {}
    for c in cases:
        for k in set(c["reported"]) | set(c["expect"]):
            row = kinds.setdefault(k, {"tp": 0, "fp": 0, "fn": 0})
            if k in c["expect"] and k in c["reported"]:
                row["tp"] += 1
            elif k in c["reported"] and k not in c["allow"]:
                row["fp"] += 1
            elif k in c["expect"]:
                row["fn"] += 1
    for row in kinds.values():
        found, wanted = row["tp"] + row["fp"], row["tp"] + row["fn"]
        row["precision"] = row["tp"] / found if found else None
        row["recall"] = row["tp"] / wanted if wanted else None
    primaries = [c for c in cases if c["primary"] is not None]
    return {"kinds": dict(sorted(kinds.items())),
            "primary": {"right": sum(c["primary_ok"] for c in primaries),
                        "cases": len(primaries)},
            "healthy_errors": [f"{c['scenario']}/{c['stage']}/seed {c['seed']}"
                               for c in cases if c["healthy"] and c["errors"]]}


# -- the finder and the advice ------------------------------------------------------------------

def run_finder(scenario, data, seed=0) -> dict:
    """find_learning_rate with the scenario's network, mini-batch and lmbda (defaults
    otherwise), then the scenario trained at the recommended eta."""
    config = scenario.config
    xy, evaluation = _subset(data, config)
    began = time.perf_counter()
    result = nnxp.find_learning_rate(lambda: build(config, seed), xy,
                                     mini_batch_size=config["mb"], lmbda=config["lmbda"],
                                     seed=seed)
    seconds = time.perf_counter() - began
    out = {"scenario": scenario.name, "threshold": result.threshold,
           "recommended": result.recommended, "seconds": seconds,
           "trials": [(t.eta, t.verdict) for t in sorted(result.trials, key=lambda t: t.eta)]}
    if result.recommended is not None:
        net = build(config, seed)
        history = train(net, {**config, "eta": result.recommended}, net.prepare(xy),
                        evaluation)
        out["accuracy"] = history.evaluation_accuracy[-1] / len(evaluation[1])
        out["trains"] = out["accuracy"] >= scenario.bar
    else:
        out["accuracy"], out["trains"] = None, False
    spec = scenario.finder or {}
    t = result.threshold
    out["works"], out["fails"] = spec.get("works"), spec.get("fails")
    out["separates"] = (None if not spec else t is not None
                        and (spec.get("works") is None or t >= spec["works"])
                        and (spec.get("fails") is None or t < spec["fails"]))
    return out


def apply(config, remedy, found_eta=None) -> dict:
    """The scenario's config with a Problem's remedy applied as it is (Network and SGD
    arguments: advice.py's keys; ``mini_batch_size`` is the config's "mb"; the data key
    ``scale_inputs`` is kept for heldout_suite's data, which applies it)."""
    config = dict(config)
    for key, value in remedy.items():
        if key == "eta" and value == "find":
            config["eta"] = found_eta
        elif key == "mini_batch_size":
            config["mb"] = value
        elif key == "scale_inputs":  # a data transform (advice.scale_inputs): heldout_suite
            config["scale_inputs"] = value  # applies it to training and evaluation inputs
        elif key in ("eta", "weight_init", "bias_init", "cost", "activation",
                     "output_activation", "lmbda", "early_stopping"):
            config[key] = value
        else:
            raise ValueError(f"unknown remedy {key!r}")
    return config


def try_advice(scenario, seed, data, case, found_eta) -> dict:
    """Apply the remedy of the problem named first, retrain the same budget, diagnose again
    at the same stage: fixed when that problem is gone and the network trains (evaluation
    accuracy at least the scenario's bar; for overfitting, at least the unfixed run's)."""
    remedy = case["remedy"] or {}
    out = {"scenario": scenario.name, "seed": seed, "named_first": case["named_first"],
           "remedy": remedy, "before": case["accuracy"]}
    if not remedy or (remedy.get("eta") == "find" and found_eta is None):
        return {**out, "after": None, "fixed": False, "left": None}
    config = apply(scenario.config, remedy, found_eta)
    fixed_case = next(c for c in run_cases(scenario, seed, data, config)
                      if c["stage"] == case["stage"])
    bar = case["accuracy"] if scenario.primary == "overfitting" else scenario.bar
    gone = case["named_first"] not in fixed_case["reported"]
    return {**out, "config": {k: _name(v) for k, v in config.items()
                              if scenario.config.get(k) is not v},
            "after": fixed_case["accuracy"], "left": fixed_case["reported"],
            "fixed": gone and fixed_case["accuracy"] >= bar}


def _name(v):
    return getattr(v, "__name__", v)
