"""Engines (nnxp/engines/): every engine runs the same step and gives the same numbers; an
engine is shared by every network of one spec on one backend, and owns its compiled programs."""

import numpy as np
import pytest

import nnxp
import nnxp.testing
from conftest import optional, params_numpy


def test_jax_engine_matches_plain_engine():
    pytest.importorskip("jax")
    rng = np.random.default_rng(0)
    x, y = rng.random((205, 12)), rng.integers(0, 4, 205)  # 205: a last, smaller batch
    out = {}
    with nnxp.use_backend("jax"):
        for engine in ("plain", "jax"):
            net = nnxp.Network([12, 9, 4], seed=3, dtype="float64")
            net.SGD((x, y), 2, 10, 0.7, lmbda=0.5, momentum=0.5, engine=engine)
            out[engine] = params_numpy(net)
    for a, b in zip(out["plain"], out["jax"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("every", [None, 7])
def test_jax_engine_gathers_blocks_of_mini_batches_in_order(monkeypatch, every):
    """Mini-batches gathered by blocks (here of 4, then one alone, then the smaller last one;
    with monitoring, chunks of 7 across block boundaries) train as the plain engine does."""
    pytest.importorskip("jax")
    from nnxp.engines import jax_scan
    monkeypatch.setattr(jax_scan, "BLOCK_ROWS", 40)
    nnxp.engines.clear()
    rng = np.random.default_rng(2)
    x, y = rng.random((253, 12)), rng.integers(0, 4, 253)  # 25 batches of 10, then 3 rows
    out, seen = {}, []
    with nnxp.use_backend("jax"):
        for engine in ("plain", "jax"):
            net = nnxp.Network([12, 9, 4], seed=5, dtype="float64")
            history = net.SGD((x, y), 2, 10, 0.7, lmbda=0.5, engine=engine,
                              monitor_every=every, evaluation_data=(x, y),
                              monitor_evaluation_accuracy=True, shuffle=1)
            out[engine] = params_numpy(net)
            seen.append(history.evaluation_accuracy)
    nnxp.engines.clear()
    assert seen[0] == seen[1]
    for a, b in zip(out["plain"], out["jax"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [["jax"], {}, 5])
def test_an_engine_name_that_is_not_a_string_is_a_config_error(backend, name):
    # was: TypeError "unhashable type: 'list'" from the lookup in the backend's engines
    net = nnxp.Network([4, 5, 3], seed=0)
    with pytest.raises(nnxp.ConfigError, match=r"engine .* does not run on the \w+ backend"):
        net.engine(name)


def test_networks_of_one_spec_share_an_engine(backend):
    a, b = nnxp.Network([5, 4, 3], seed=0), nnxp.Network([5, 4, 3], seed=1)
    assert a.engine() is b.engine()
    assert a.engine() is not nnxp.Network([5, 4, 2], seed=0).engine()
    c = nnxp.Network([5, 4, 3], seed=0)
    c.cost = nnxp.QuadraticCost  # another spec: another engine, from the next call on
    assert c.engine() is not a.engine() and c.engine().spec.cost is nnxp.QuadraticCost


def test_jax_programs_are_compiled_once_per_shape():
    pytest.importorskip("jax")
    rng = np.random.default_rng(1)
    x, y = rng.random((60, 5)), rng.integers(0, 3, 60)
    with nnxp.use_backend("jax"):
        net = nnxp.Network([5, 7, 3], seed=0)
        net.SGD((x, y), 1, 10, 0.5)
        engine = net.engine()
        programs = nnxp.testing.programs(engine)
        other = nnxp.Network([5, 7, 3], seed=1)  # a new network, same spec and shapes
        other.SGD((x, y), 2, 10, 0.1, lmbda=1.0)  # new eta, new lmbda: data, not structure
        assert other.engine() is engine and nnxp.testing.programs(engine) == programs
        other.SGD((x, y), 1, 10, 0.1, l1=1.0)    # L1 changes the step's structure
        assert nnxp.testing.programs(engine) == programs + 1


def test_training_never_writes_parameters_the_caller_holds(backend):
    """The plain engine on NumPy updates its own copy in place (engines/plain.py); the arrays
    a caller holds from before ``SGD`` keep their values, with monitoring inside the epoch."""
    rng = np.random.default_rng(4)
    x, y = rng.random((97, 12)), rng.integers(0, 4, 97)
    net = nnxp.Network([12, 9, 4], seed=3, dtype="float64")
    held, values = net.params, params_numpy(net)
    net.SGD((x, y), 2, 10, 0.5, lmbda=0.5, monitor_every=3, evaluation_data=(x, y),
            monitor_evaluation_accuracy=True)
    again = nnxp.Network([12, 9, 4], seed=3, dtype="float64")
    again.params = held
    for p, q in zip(params_numpy(again), values):
        np.testing.assert_array_equal(p, q)
    assert max(float(np.max(np.abs(p - q))) for p, q in zip(params_numpy(net), values)) > 1e-3


def test_jax_keeps_a_bounded_number_of_programs_whatever_the_sizes(monkeypatch):
    """On JAX every new evaluation-set size compiled and kept a program for good (2.7 MB each:
    a notebook scoring test[:k] grew without end), and every new mini-batch or training-set
    size a training program (2.5 MB each; engines.clear() did not give them back: JAX's caches
    held them) (the sixth sweep).  Scoring keeps at most MAX_SCORE_PROGRAMS programs (past
    it, they are compiled again); an engine keeps its MAX_PROGRAMS most recently used
    training programs."""
    optional("jax")
    from nnxp.engines import jax_scan
    monkeypatch.setattr(jax_scan, "MAX_PROGRAMS", 3)
    rng = np.random.default_rng(0)
    x, y = rng.random((1100, 6)), rng.integers(0, 3, 1100)
    with nnxp.use_backend("jax"):
        net = nnxp.Network([6, 5, 3], seed=0, dtype="float64")
        engine = net.engine()
        for n in range(1, 1100, 50):
            hits = net.accuracy((x[:n], y[:n]))
            z = x[:n] @ np.asarray(net.weights[0]).T + np.asarray(net.biases[0])
            a = 1 / (1 + np.exp(-z))
            out = a @ np.asarray(net.weights[1]).T + np.asarray(net.biases[1])
            assert hits == int((np.argmax(out, axis=1) == y[:n]).sum())
        assert engine._functions["scores"]._cache_size() <= getattr(
            nnxp.engines, "MAX_SCORE_PROGRAMS", 16)
        for m in (3, 4, 5, 6, 7):
            net.SGD((x[:60], y[:60]), 1, m, 0.1)
        assert len(engine._compiled) <= 3
        for n in range(1, 60, 3):  # predict and feedforward ran op by op: JAX kept 14-19 MB
            net.predict(x[:n])     # of per-operation programs for every new batch size
            net.feedforward(x[:n])
        for key in ("classes", "apply", "inputs_finite"):
            assert engine._functions[key]._cache_size() <= nnxp.engines.MAX_SCORE_PROGRAMS
