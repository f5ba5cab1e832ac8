"""The training toolkit: early stopping, the book's learning-rate schedule, eta as a function,
monitoring every k mini-batches, callbacks, history."""

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


def test_eta_as_a_function_of_the_epoch(backend):
    a = nnxp.Network([6, 5, 3], seed=0, dtype="float64")
    h = a.SGD((X, Y), 3, 10, lambda epoch: 0.5 / (1 + epoch), shuffle=4)
    assert [r["eta"] for r in h.records] == [0.5, 0.25, 0.5 / 3]
    b = nnxp.Network([6, 5, 3], seed=0, dtype="float64")
    # the same as three one-epoch calls over the same permutations
    rng = np.random.default_rng(4)
    for eta in [0.5, 0.25, 0.5 / 3]:
        order = rng.permutation(100)
        b.SGD((X[order], Y[order]), 1, 10, eta, shuffle=False)
    for p, q in zip(params_numpy(a), params_numpy(b)):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("engine", ["plain", "jax"])
def test_monitoring_every_k_mini_batches(engine):
    """Interval accuracy after k mini-batches equals the accuracy of a net trained on exactly
    those k mini-batches; the JAX engine's chunked epoch gives the plain engine's numbers."""
    name = "jax" if engine == "jax" else "numpy"
    if engine == "jax":
        pytest.importorskip("jax")
    with nnxp.use_backend(name):
        net = nnxp.Network([6, 5, 3], seed=0, dtype="float64")
        h = net.SGD((X, Y), 2, 10, 0.5, evaluation_data=(XV, YV), monitor_every=3,
                    monitor_subset=25, monitor_evaluation_accuracy=True, shuffle=False,
                    engine=engine)
        assert [(e["epoch"], e["mini_batches"]) for e in h.intervals] == [
            (0, 3), (0, 6), (0, 9), (1, 3), (1, 6), (1, 9)]
        assert all(e["n"] == 25 for e in h.intervals)
        ref = nnxp.Network([6, 5, 3], seed=0, dtype="float64")
        ref.SGD((X[:60], Y[:60]), 1, 10, 0.5, shuffle=False)  # lmbda = 0: n does not matter
        assert h.intervals[1]["evaluation_accuracy"] == ref.accuracy((XV[:25], YV[:25]))
        plain = nnxp.Network([6, 5, 3], seed=0, dtype="float64")
        plain.SGD((X, Y), 2, 10, 0.5, shuffle=False)
        for p, q in zip(params_numpy(net), params_numpy(plain)):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


def test_jax_chunked_epoch_with_shuffling_and_a_last_small_batch():
    pytest.importorskip("jax")
    out = {}
    for name in ("numpy", "jax"):
        with nnxp.use_backend(name):
            net = nnxp.Network([6, 5, 3], seed=1, dtype="float64")
            h = net.SGD((X[:97], Y[:97]), 2, 10, 0.5, lmbda=1.0, momentum=0.3,
                        evaluation_data=(XV, YV), monitor_every=4)
            out[name] = (params_numpy(net), [e["evaluation_accuracy"] for e in h.intervals])
    assert out["numpy"][1] == out["jax"][1] and len(out["jax"][1]) == 4
    for p, q in zip(out["numpy"][0], out["jax"][0]):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


def test_callbacks_see_every_epoch_and_can_stop(backend):
    seen = []

    def cb(record, net):
        seen.append((record["epoch"], record["evaluation_accuracy"], net.accuracy((XV, YV))))
        return record["epoch"] == 2

    net = nnxp.Network([6, 5, 3], seed=0)
    h = net.SGD((X, Y), 10, 10, 0.5, evaluation_data=(XV, YV),
                monitor_evaluation_accuracy=True, callbacks=[cb])
    assert [s[0] for s in seen] == [0, 1, 2] and len(h.records) == 3
    assert all(s[1] == s[2] for s in seen)  # the callback sees the trained network
    assert h.stop_reason.startswith("stopped by a callback")


def test_history_round_trips_and_unpacks_like_network2(tmp_path, backend):
    net = nnxp.Network([6, 5, 3], seed=0)
    h = net.SGD((X, Y), 2, 10, 0.5, evaluation_data=(XV, YV), monitor_evaluation_cost=True,
                monitor_evaluation_accuracy=True, monitor_training_cost=True,
                monitor_training_accuracy=True)
    ec, ea, tc, ta = h
    assert len(ec) == len(ea) == len(tc) == len(ta) == 2
    assert all(0 <= a <= 100 for a in ta) and all(0 <= a <= 40 for a in ea)
    h.save(tmp_path / "h.json")
    import json
    back = nnxp.History.from_dict(json.loads((tmp_path / "h.json").read_text()))
    assert tuple(back) == tuple(h) and back.records == h.records


def test_progress_prints_network2_lines(backend, capsys):
    net = nnxp.Network([6, 5, 3], seed=0)
    net.SGD((X, Y), 2, 10, 0.5, evaluation_data=(XV, YV), monitor_evaluation_accuracy=True,
            progress=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 0 training complete")
    assert "accuracy on evaluation data:" in lines[1] and "/ 40" in lines[1]


def test_unknown_option_is_refused(backend):
    net = nnxp.Network([6, 5, 3], seed=0)
    with pytest.raises(nnxp.ConfigError, match=r"unknown keyword arguments \['lamda'\]"):
        net.SGD((X, Y), 1, 10, 0.5, lamda=1.0)
    with pytest.raises(nnxp.ConfigError, match="need evaluation_data"):
        net.SGD((X, Y), 1, 10, 0.5, early_stopping=3)
