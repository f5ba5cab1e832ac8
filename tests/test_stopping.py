"""Early stopping and the book's learning-rate schedule (nnxp/stopping.py), through SGD."""

import numpy as np
import pytest

import nnxp
from conftest import params_numpy

RNG = np.random.default_rng(0)
X, Y = RNG.random((100, 6)), RNG.integers(0, 3, 100)
XV, YV = RNG.random((40, 6)), RNG.integers(0, 3, 40)


def test_early_stopping_after_n_epochs_without_improvement(backend):
    net = nnxp.Network([6, 5, 3], seed=0)
    # eta so small that validation accuracy cannot change: epoch 0 sets the best, then 3 flat
    h = net.SGD((X, Y), 50, 10, 1e-12, evaluation_data=(XV, YV),
                monitor_evaluation_accuracy=True, early_stopping=3)
    assert len(h.records) == 4
    assert len(set(h.evaluation_accuracy)) == 1
    assert "no improvement in evaluation accuracy for 3 epochs" in h.stop_reason


def test_schedule_halves_eta_and_stops_at_one_128th(backend):
    net = nnxp.Network([6, 5, 3], seed=0)
    eta = 1e-12
    h = net.SGD((X, Y), 50, 10, eta, evaluation_data=(XV, YV), schedule=1)
    etas = [r["eta"] for r in h.records]
    assert etas == [eta, eta] + [eta / 2 ** k for k in range(1, 7)]
    assert "fell to 1/128" in h.stop_reason
    assert all("validation_accuracy" in r for r in h.records)  # measured, not in network2 lists
    assert h.evaluation_accuracy == []


def test_schedule_waits_n_epochs(backend):
    net = nnxp.Network([6, 5, 3], seed=0)
    h = net.SGD((X, Y), 9, 10, 1e-12, evaluation_data=(XV, YV), schedule=3)
    assert [r["eta"] for r in h.records] == [1e-12] * 4 + [5e-13] * 3 + [2.5e-13] * 2


def test_tracker_rules_one_epoch_at_a_time():
    from nnxp.stopping import Tracker
    t = Tracker(1.0)
    assert not t.observe(5, 0, early_stopping=None, schedule=2)  # improvement: best 5
    assert not t.observe(5, 1, schedule=2)
    assert t.observe(4, 2, schedule=2) and t.eta == 0.5          # 2 epochs without: halve
    assert t.observe(9, 3, schedule=2) is False and t.since_change == 0
    t = Tracker(1.0)
    for epoch in range(4):
        t.observe(3, epoch, early_stopping=3)
    assert t.stop_reason.startswith("no improvement in evaluation accuracy for 3 epochs")
    t.diverged(7, 2.5)  # the first reason stays
    assert t.stop_reason.startswith("no improvement")
    assert Tracker.from_dict(t.to_dict()) == t
    u = Tracker(0.3)
    u.observe(None, 0, early_stopping=1)  # nothing measured: nothing decided
    assert u.stop_reason is None and u.best_accuracy == -1.0
