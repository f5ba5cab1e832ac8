"""The learning-rate threshold finder: the book's procedure on MNIST lands near the book's 0.5,
the search goes the right way on synthetic data on every backend, and the decision rule is
the documented one.

Measured on MNIST ([784, 30, 10], cross-entropy, lmbda 5.0, mini-batch 10, defaults): book mode
0.56 (seed 0) and 0.42 (seed 1), about 8 s each on NumPy; sweep mode 0.56 and 1.0, about 3 s.
"""

import math

import numpy as np
import pytest

import nnxp
from nnxp.lr_finder import decreases, find_learning_rate


def test_book_procedure_on_mnist_finds_the_books_threshold(mnist):
    train, _, _ = mnist
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([784, 30, 10], cost=nnxp.CrossEntropyCost, seed=0)
        result = find_learning_rate(net, train, mini_batch_size=10, lmbda=5.0)
    assert 0.17 <= result.threshold <= 1.5, str(result)
    assert result.recommended == pytest.approx(result.threshold / 2)
    etas = [t.eta for t in result.trials]
    assert etas[0] == 0.01 and 0.1 in etas and 1.0 in etas  # the book's order of magnitude
    assert all(t.decreases for t in result.trials if t.eta <= result.threshold)
    above = [t for t in result.trials if t.eta > result.threshold]
    assert above and not any(t.decreases for t in above)
    assert len({t.costs[0] for t in result.trials}) == 1  # every trial starts from one network
    assert "decreases" in result.rule and result.seconds > 0


def test_sweep_mode_on_mnist(mnist):
    train, _, _ = mnist
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([784, 30, 10], seed=0)
        result = find_learning_rate(net, train, lmbda=5.0, mode="sweep")
    assert 0.17 <= result.threshold <= 1.5, str(result)
    etas = [t.eta for t in result.trials]
    assert etas == sorted(etas)
    assert etas[0] == pytest.approx(1e-4) and etas[-1] == pytest.approx(100)
    assert not result.trials[-1].decreases  # eta = 100 blows the cost up


def _synthetic(n=800, seed=2):
    rng = np.random.default_rng(seed)
    centres = rng.random((3, 6))
    labels = np.arange(n) % 3
    return centres[labels] + 0.2 * rng.standard_normal((n, 6)), labels


def test_search_goes_up_then_refines(backend):
    data = _synthetic()
    net = nnxp.Network([6, 8, 3], seed=0)
    result = find_learning_rate(net, data, budget_batches=200, n_train=800, checks=4)
    assert result.threshold is not None and result.threshold > 0.01
    ups = [t.eta for t in result.trials][:3]
    assert ups[:2] == [0.01, 0.1]
    best = max(t.eta for t in result.trials if t.decreases)
    assert result.threshold == best
    first = {t.costs[0] for t in result.trials}
    assert max(first) - min(first) <= 1e-6 * max(first)


def test_search_goes_down_when_start_is_too_high(backend):
    data = _synthetic()
    net = nnxp.Network([6, 8, 3], seed=0)
    result = find_learning_rate(net, data, start=1000.0, budget_batches=200, n_train=800,
                                checks=4, refine_steps=0)
    etas = [t.eta for t in result.trials]
    assert etas[0] == 1000.0 and not result.trials[0].decreases
    assert etas == sorted(etas, reverse=True)  # down by 10x until the cost decreases
    assert result.trials[-1].decreases and result.threshold == etas[-1]
    assert result.threshold < 1000.0


def test_factory_and_same_result_as_the_network_itself():
    data = _synthetic()
    with nnxp.use_backend("numpy"):
        kw = dict(budget_batches=100, n_train=400, checks=4, refine_steps=1)
        a = find_learning_rate(lambda: nnxp.Network([6, 8, 3], seed=3), data, **kw)
        b = find_learning_rate(nnxp.Network([6, 8, 3], seed=3), data, **kw)
    assert a.threshold == b.threshold
    assert [t.costs for t in a.trials] == [t.costs for t in b.trials]
    assert a.to_dict()["trials"][0]["eta"] == 0.01


def test_the_decision_rule():
    assert decreases([3.0, 2.0, 1.5, 1.2])
    assert not decreases([3.0, 2.0, 2.5, 1.2])                 # went up on the way
    assert decreases([3.0, 2.0, 2.02, 1.2], tolerance=0.02)   # within the tolerance
    assert not decreases([3.0, 3.0])                           # no progress
    assert not decreases([3.0, math.nan, 1.0])
    assert not decreases([3.0, math.inf])


def test_diverging_trials_stop_early_and_count_as_not_decreasing():
    data = _synthetic()
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([6, 8, 3], cost=nnxp.QuadraticCost, activation="relu",
                           output_activation="identity", seed=0)
        result = find_learning_rate(net, data, start=1e6, budget_batches=40, n_train=400,
                                    checks=4, refine_steps=0)
    assert not result.trials[0].decreases
    assert result.threshold is not None and result.threshold < 1e6


def test_configuration_errors():
    data = _synthetic()
    with nnxp.use_backend("numpy"):
        net = nnxp.Network([6, 8, 3], seed=0)
        for bad in (dict(mode="fast"), dict(budget_batches=0), dict(start=-1.0),
                    dict(checks=500, budget_batches=100), dict(eta_min=1.0, eta_max=0.1),
                    dict(mini_batch_size=2.5)):
            with pytest.raises(nnxp.ConfigError):
                find_learning_rate(net, data, **bad)
        with pytest.raises(nnxp.ConfigError, match="Network"):
            find_learning_rate("net", data)
