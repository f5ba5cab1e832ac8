"""The epoch loop (nnxp/loop.py): eta as a function, monitoring every k mini-batches, callbacks, progress, divergence."""

import warnings

import numpy as np
import pytest

import nnxp
from conftest import params_numpy

RNG = np.random.default_rng(0)
X, Y = RNG.random((100, 6)), RNG.integers(0, 3, 100)
XV, YV = RNG.random((40, 6)), RNG.integers(0, 3, 40)


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


def _linear_net(dtype="float32"):
    # quadratic cost on identity units: a large eta blows the weights up geometrically
    return nnxp.Network([6, 5, 3], cost=nnxp.QuadraticCost, activation=nnxp.Identity, seed=0,
                        dtype=dtype)


def test_divergence_stops_and_keeps_the_last_finite_weights(backend, tmp_path):
    net = _linear_net()
    h = net.SGD((X, Y), 2, 10, 0.01, shuffle=1)  # healthy first
    finite = params_numpy(net)
    path = tmp_path / "run.json"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # nnxp reports it, not NumPy's warnings
        h = net.SGD((X, Y), 5, 10, 50.0, shuffle=1, checkpoint=path,
                    evaluation_data=(XV, YV), monitor_evaluation_accuracy=True)
    assert h.stop_reason.startswith("diverged in epoch ") and "eta / 10" in h.stop_reason
    assert h.records[-1]["diverged"] and len(h.records) < 5
    if len(h.records) == 1:  # diverged in its first epoch: the weights from before SGD
        for a, b in zip(params_numpy(net), finite):
            np.testing.assert_array_equal(a, b)
    assert all(np.isfinite(a).all() for a in params_numpy(net))
    if path.exists():  # a checkpoint, if any, holds finite weights and loads
        saved = nnxp.load(path)
        assert all(np.isfinite(a).all() for a in params_numpy(saved))


def test_divergence_in_the_first_epoch_restores_the_initial_weights(backend):
    net = _linear_net("float64")
    start = params_numpy(net)
    h = net.SGD((X, Y), 3, 10, 1e3, shuffle=1)
    assert h.stop_reason.startswith("diverged in epoch 0") and len(h.records) == 1
    for a, b in zip(params_numpy(net), start):
        np.testing.assert_array_equal(a, b)


def test_on_divergence_continue_keeps_training(backend):
    net = _linear_net()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h = net.SGD((X, Y), 3, 10, 1e3, shuffle=1, on_divergence="continue")
    assert h.stop_reason is None and len(h.records) == 3
    assert not all(np.isfinite(a).all() for a in params_numpy(net))


@pytest.mark.parametrize("eta,match", [
    (lambda epoch: -1.0, r"eta\(0\) must be > 0"),
    (lambda epoch: float("nan"), r"eta\(0\) must be a finite number"),
    (lambda epoch: "fast", r"eta\(0\) must be a number"),
    (lambda epoch: 1 / 0, "the eta function raised ZeroDivisionError at epoch 0"),
    (lambda epoch: [0.1, 0.2], r"must return one number or 1 \(one per member\)"),
])
def test_an_eta_function_is_checked_every_epoch(backend, eta, match):
    net = nnxp.Network([6, 5, 3], seed=0)
    with pytest.raises(nnxp.ConfigError, match=match):
        net.SGD((X, Y), 2, 10, eta)


def test_progress_prints_the_interval_measurements(backend, capsys):
    net = nnxp.Network([6, 5, 3], seed=0)
    h = net.SGD((X, Y), 1, 10, 0.5, evaluation_data=(XV, YV), monitor_every=4, progress=True)
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[:2] == [nnxp.history.interval_line(e) for e in h.intervals]
    assert lines[0].startswith("  epoch 0, mini-batch 4: accuracy ") and " / 40, cost " in lines[0]
    assert len(lines) == 3 and lines[2].startswith("Epoch 0 training complete")


@pytest.mark.parametrize("make", ["network", "population"])
def test_monitor_subset_without_monitor_every_is_refused(backend, make):
    """monitor_subset only sizes the every-k-mini-batches measurement: alone it was ignored
    without a word (the run measured nothing every k mini-batches, whatever subset was asked)."""
    shell = (nnxp.Network([6, 5, 3], seed=0) if make == "network"
             else nnxp.Population([6, 5, 3], seeds=[0, 1]))
    with pytest.raises(nnxp.ConfigError, match="without monitor_every it would be ignored"):
        shell.SGD((X, Y), 1, 10, 0.5, evaluation_data=(XV, YV), monitor_subset=5,
                  monitor_evaluation_accuracy=True)


@pytest.mark.parametrize("make", ["network", "population"])
@pytest.mark.parametrize("every,size", [(10, 10), (11, 10), (1, 100), (4, 30)])
def test_monitor_every_of_an_epoch_or_more_is_refused(backend, make, every, size):
    """Measurements happen within an epoch, after every k mini-batches but the last: with k at
    least the epoch's mini-batches (100 examples / size) nothing was ever measured, silently."""
    shell = (nnxp.Network([6, 5, 3], seed=0) if make == "network"
             else nnxp.Population([6, 5, 3], seeds=[0, 1]))
    batches = -(-100 // size)
    with pytest.raises(nnxp.ConfigError, match=f"monitor_every={every} .* has {batches}: "
                                               "nothing would be measured"):
        shell.SGD((X, Y), 1, size, 0.5, evaluation_data=(XV, YV), monitor_every=every)
    h = nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 1, size, 0.5, evaluation_data=(XV, YV),
                                            monitor_every=batches - 1) if batches > 1 else None
    assert h is None or len(h.intervals) >= 1   # one below the count measures


def test_resume_on_other_data_checks_monitor_every(tmp_path):
    """resume(other_data=True) on a training set whose epoch has no more mini-batches than the
    run's monitor_every is refused, as SGD refuses it (it measured nothing, silently), and
    leaves the checkpoint as it was."""
    path = tmp_path / "run.json"
    nnxp.Network([6, 5, 3], seed=0).SGD((X, Y), 1, 10, 0.5, evaluation_data=(XV, YV),
                                        monitor_every=5, checkpoint=path)
    before = path.read_bytes()
    with pytest.raises(nnxp.ConfigError, match="monitor_every=5 .* has 3: nothing would be "
                                               "measured"):
        nnxp.load(path).resume((X[:30], Y[:30]), (XV, YV), epochs=2, other_data=True)
    assert path.read_bytes() == before
    h = nnxp.load(path).resume((X[:60], Y[:60]), (XV, YV), epochs=2, other_data=True)
    assert len(h.intervals) >= 2
