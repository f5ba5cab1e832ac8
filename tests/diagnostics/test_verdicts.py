"""The verdicts that must hold on data they were not tuned on: changes of the cost judged
against the cost of knowing nothing, the finder's threshold as the one notion of "too high",
too few updates, dead ReLU outputs and the run that broke the weights named, states that do
not stop learning left as "info", and remedies that Network and SGD accept as they are."""

import math

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import Thresholds, diagnose
from nnxp.diagnostics.advice import split_remedy
from nnxp.diagnostics.history_checks import history_problems, swing
from nnxp.initializers import he_weight, zero_bias

from ._helpers import N_IN, N_OUT, host_params, problem_data, records, set_params, uniform_data
from .test_causes import dead_relu_net

TH = Thresholds()
LOG2 = math.log(2)  # the cost of knowing nothing for two balanced classes under softmax

# last 30 epochs of make_moons, tanh + softmax at eta 0.3 (96% accuracy): a floor near the
# data's noise with spikes of 10-60% relative to it
NEAR_FLOOR = [0.1094, 0.1035, 0.1134, 0.1055, 0.1079, 0.0946, 0.0944, 0.0957, 0.0952, 0.0936,
              0.0935, 0.1028, 0.1019, 0.1354, 0.0919, 0.0938, 0.095, 0.0947, 0.0917, 0.1084,
              0.0995, 0.0961, 0.0929, 0.1052, 0.1015, 0.1221, 0.0918, 0.0938, 0.1001, 0.0929]
# the same data at eta 3 (ReLU, 70% accuracy): bouncing between levels far apart
BOUNCING = [0.3268, 0.2662, 0.4945, 0.3167, 1.0251, 0.3594, 0.3178, 0.3117, 0.3859, 0.2709,
            0.3519, 0.2939, 0.3533, 0.4063, 0.2682, 0.3424, 0.39, 0.3583, 0.3593, 0.322,
            0.2945, 0.2842, 0.3169, 0.2787, 0.2901, 0.4331, 0.2954, 0.3075, 0.2907, 0.3511]


def test_noise_near_the_floor_is_not_a_learning_rate_verdict():
    near = records(eta=0.3, training_cost=NEAR_FLOOR)
    assert history_problems(near, TH)  # relative to itself, the floor's noise looks unstable
    assert history_problems(near, TH, scale=LOG2) == []  # against knowing nothing: noise
    (p,) = history_problems(records(eta=3.0, training_cost=BOUNCING), TH, scale=LOG2)
    assert p.kind == "learning_rate_too_high" and p.evidence["swing"] > TH.swing * LOG2
    assert p.evidence["eta_factor"] == 0.5


def test_swing_ignores_spikes_and_trends_but_not_bouncing():
    assert swing([1.0, 0.9, 0.81, 0.729, 0.6561]) == pytest.approx(0.0, abs=1e-12)
    spiky = [0.1] * 9 + [0.3] + [0.1] * 10
    assert swing(spiky) == pytest.approx(0.0, abs=1e-12)
    assert swing([0.3, 0.6] * 10) > 0.1


def oscillating_net():
    """A small sigmoid network with a cost history that bounces (eta 2) on problem_data."""
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    history = records(eta=2.0, training_cost=[1.2, 0.6, 1.1, 0.55, 1.0, 0.6, 1.05, 0.5])
    return net, history


def test_the_finders_threshold_decides_whether_eta_is_too_high(backend):
    data = problem_data()
    net, history = oscillating_net()
    alone = diagnose(net, data, eta=2.0, history=history)
    assert alone.find("learning_rate_too_high"), str(alone)
    assert alone.primary.remedy == {"eta": 1.0}  # halved: the finder was not run
    below = diagnose(net, data, eta=2.0, history=history, threshold=4.0)
    assert not below.find("learning_rate_too_high"), str(below)
    above = diagnose(net, data, eta=2.0, history=history, threshold=1.0)
    (p,) = above.find("learning_rate_too_high")
    assert p.remedy == {"eta": 0.5} and p.evidence["finder_threshold"] == 1.0
    calm = records(eta=2.0, training_cost=[1.0, 0.8, 0.7, 0.65, 0.62, 0.6])
    (q,) = diagnose(net, data, eta=2.0, history=calm, threshold=1.0).find(
        "learning_rate_too_high")
    assert "above the threshold the finder measured" in q.message and q.remedy == {"eta": 0.5}


def test_an_lr_result_is_taken_as_the_threshold(backend):
    data = problem_data()
    net, history = oscillating_net()
    result = nnxp.lr_finder.LRResult(threshold=4.0, recommended=2.0)
    assert not diagnose(net, data, eta=2.0, history=history,
                        threshold=result).find("learning_rate_too_high")
    with pytest.raises(nnxp.ConfigError):
        diagnose(net, data, threshold=-1.0)


def small_uniform(rng, shape):
    return rng.uniform(-0.01, 0.01, shape)


def test_a_full_batch_run_that_barely_learned_names_too_few_updates(backend):
    """Chapter 1's network from U(-0.01, 0.01) weights, full batch: a few steps leave it on
    the plateau of the class frequencies, with the output weights all of one sign (every
    output weight moves with the sign of its unit's error, on positive hidden activations).
    More steps, not other weights, fix it."""
    x, y = uniform_data(n=600)
    def fresh():
        return nnxp.Network([N_IN, 10, N_OUT], cost=nnxp.QuadraticCost, seed=0,
                            weight_init=small_uniform, bias_init=small_uniform)
    net = fresh()
    history = net.SGD((x, y), 5, 600, 3.0, monitor_training_cost=True)
    report = diagnose(net, (x, y), eta=3.0, history=history, mini_batch_size=600)
    first = report.primary
    assert first.kind == "too_few_updates" and first.remedy == {"mini_batch_size": 10}, \
        str(report)
    assert not any(p.kind == "same_sign_weights" and p.severity != "info"
                   for p in report.problems)
    without = diagnose(net, (x, y), eta=3.0, history=history)  # mini-batch unknown
    assert not without.find("too_few_updates")
    _, sgd_args = split_remedy(first.remedy)
    again = fresh()
    after = again.SGD((x, y), 5, eta=3.0, monitor_training_accuracy=True, **sgd_args)
    assert after.training_accuracy[-1] > 1.3 * history_accuracy(net, x, y)


def history_accuracy(net, x, y):
    return int(np.sum(np.argmax(net.backend.to_numpy(net.feedforward(x)), axis=1) == y))


def test_dead_relu_outputs_after_training_name_eta(backend):
    """Output units 0 on every input after training, in a network that has not learned:
    eta is named first (an error), the dead outputs are an error it explains, the dead
    hidden units a minority.  Without a history they are only "info" (they may revive)."""
    data = uniform_data()
    net = nnxp.Network([N_IN, 8, N_OUT], activation="relu", output_activation="relu",
                       cost=nnxp.QuadraticCost, seed=0, weight_init=he_weight,
                       bias_init=zero_bias)
    (w1, b1), (w2, b2) = host_params(net)
    b2[[0, 1]] = -100.0
    set_params(net, [None, (w2, b2)])
    fresh = diagnose(net, data, eta=0.1)
    assert all(p.severity == "info" for p in fresh.find("dead_units", layer=1)), str(fresh)
    trained = diagnose(net, data, eta=0.1,
                       history=records(eta=0.1, training_cost=[0.45, 0.44, 0.44, 0.44]))
    first = trained.primary
    assert first.kind == "learning_rate_too_high" and first.severity == "error", str(trained)
    assert first.evidence["dead_outputs"] == [0, 1] and first.remedy == {"eta": 0.05}
    (dead,) = trained.find("dead_units", layer=1)
    assert dead.severity == "error" and dead.evidence["explained_by"] == "learning_rate_too_high"


def test_the_run_that_broke_the_weights_is_named_not_the_last_one(backend):
    """A history of two runs (eta 300, then eta 3): the cost stalled during the first, so
    that run's eta is named, and the remedy keeps the last run's eta from a fresh network."""
    data = uniform_data()
    net = dead_relu_net()
    both = (records(eta=300.0, training_cost=[2.31, 2.30])
            + records(eta=3.0, training_cost=[2.31, 2.30, 2.31, 2.30]))
    first = diagnose(net, data, eta=3.0, history=both).primary
    assert first.kind == "learning_rate_too_high" and "eta = 300" in first.message, first
    assert first.evidence["eta"] == 300.0 and first.remedy == {"eta": 3.0}
    one = diagnose(net, data, eta=3.0, history=records(eta=3.0, training_cost=[2.31] * 5))
    assert one.primary.remedy == {"eta": 0.3}  # a single run: its eta, an order smaller


def test_a_minority_of_dead_units_in_a_network_that_learns_is_info(backend):
    data = uniform_data()
    net = nnxp.Network([N_IN, 8, N_OUT], activation="relu", cost=nnxp.LogLikelihoodCost,
                       seed=0, weight_init=he_weight, bias_init=zero_bias)
    (w1, b1), _ = host_params(net)
    b1[[1, 3]] = -100.0
    set_params(net, [(w1, b1), None])
    assert diagnose(net, data).find("dead_units", layer=0)[0].severity == "warning"
    falling = records(eta=0.1, training_cost=[1.1, 0.9, 0.8, 0.7, 0.6])
    (p,) = diagnose(net, data, eta=0.1, history=falling).find("dead_units", layer=0)
    assert p.severity == "info" and "carry the learning" in p.message


def test_a_collapse_while_the_cost_still_falls_is_info(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    (w1, b1), (w2, b2) = host_params(net)
    b2[1] = 50.0
    set_params(net, [None, (w2, b2)])
    early = diagnose(net, data, history=records(training_cost=[2.0, 2.4, 1.9]))
    assert early.find("output_collapse")[0].severity == "info"
    stuck = diagnose(net, data, history=records(training_cost=[2.0, 2.0, 2.0, 2.0, 2.0]))
    assert stuck.find("output_collapse")[0].severity == "error"


def test_overfitting_must_exceed_the_accuracys_own_noise():
    noisy = records(eta=0.5, training_cost=[1.9, 1.6, 1.4, 1.2, 1.0, 0.9, 0.8, 0.7],
                    evaluation_accuracy=[20, 35, 48, 59, 52, 57, 54, 55])
    assert not [p for p in history_problems(noisy, TH, n=118) if p.kind == "overfitting"]
    steady = records(eta=0.5, training_cost=[1.9, 1.6, 1.4, 1.2, 1.0, 0.9, 0.8, 0.7],
                     evaluation_accuracy=[800, 850, 880, 900, 890, 870, 850, 830])
    assert [p for p in history_problems(steady, TH, n=1000) if p.kind == "overfitting"]


@pytest.mark.parametrize("make", ["zero", "positive", "dead", "decay", "oscillating"])
def test_every_remedy_is_accepted_by_the_api_it_names(backend, make):
    """Remedies of broken networks, applied as they are: Network(...) and SGD(...) take them."""
    x, y = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    layers = host_params(net)
    kw = {}
    if make == "zero":
        set_params(net, [(w * 0.0, b * 0.0) for w, b in layers])
    elif make == "positive":
        set_params(net, [(np.abs(w) * 5, b) for w, b in layers])
    elif make == "dead":
        net = dead_relu_net()
    elif make == "decay":
        kw = {"eta": 0.5, "lmbda": 500.0}
    else:
        net, history = oscillating_net()
        kw = {"eta": 2.0, "history": history}
    report = diagnose(net, (x, y), **kw)
    remedies = [p.remedy for p in report.problems if p.remedy]
    assert remedies, str(report)
    for remedy in remedies:
        net_args, sgd_args = split_remedy(remedy)
        fixed = nnxp.Network([N_IN, 10, N_OUT], seed=1, **net_args)
        sgd_args = {"mini_batch_size": 10, "eta": 0.5, **sgd_args}
        fixed.SGD((x, y), 1, **sgd_args)


def test_each_diagnosis_has_its_own_remedies(backend):
    """A remedy resolved for one diagnosis never leaks into the next (shared constants)."""
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    first = diagnose(net, data, eta=5000.0).find("learning_rate_too_high")
    second = diagnose(net, data, eta=20000.0).find("learning_rate_too_high")
    assert first and second
    assert {p.remedy["eta"] for p in first} == {500.0}
    assert {p.remedy["eta"] for p in second} == {2000.0}


def test_a_diverged_run_is_not_also_above_the_finders_threshold(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
    diverged = records(eta=5.0, training_cost=[1.0, 3.0, float("nan")])
    report = diagnose(net, data, eta=5.0, history=diverged, threshold=0.4)
    assert report.primary.kind == "divergence" and report.primary.remedy == {"eta": 0.2}
    assert not report.find("learning_rate_too_high"), str(report)
