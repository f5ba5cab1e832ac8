"""No hidden transfers: data go to the device once per SGD call, never once per mini-batch;
a whole JAX epoch runs with host-to-device transfers disallowed; and on array-api-strict's
non-default devices nothing leaves the device or mixes devices."""

import numpy as np
import pytest

import nnxp
import nnxp.testing
from conftest import params_numpy


def _count_transfers(monkeypatch, backend, m, epochs=2):
    calls = []
    original = type(backend).asarray

    def spy(self, host, dtype=None):
        calls.append(np.shape(host))
        return original(self, host, dtype)

    monkeypatch.setattr(type(backend), "asarray", spy)
    rng = np.random.default_rng(0)
    x, labels = rng.random((120, 5)), rng.integers(0, 3, 120)
    net = nnxp.Network([5, 4, 3], seed=0)
    calls.clear()
    net.SGD((x, labels), epochs, m, 0.5, evaluation_data=(x[:30], labels[:30]),
            monitor_evaluation_accuracy=True, monitor_training_cost=True)
    return list(calls)


def test_data_move_once_per_sgd_call_not_per_mini_batch(backend, monkeypatch):
    small = _count_transfers(monkeypatch, backend, m=1)     # 120 mini-batches per epoch
    large = _count_transfers(monkeypatch, backend, m=60)    # 2 mini-batches per epoch
    assert small == large
    # X, y, labels of the training and evaluation data; per epoch one permutation and eta
    assert len(small) == 6 + 2 * 2
    assert small.count((120,)) == 1 + 2  # training labels, then one permutation per epoch
    assert small.count(()) == 2          # eta, a device scalar, once per epoch


def test_whole_jax_epoch_runs_without_host_to_device_transfers():
    jax = pytest.importorskip("jax")
    from nnxp.optimizers import set_hyper, training_chain
    rng = np.random.default_rng(0)
    x, labels = rng.random((205, 12)), rng.integers(0, 4, 205)
    with nnxp.use_backend("jax") as be:
        net = nnxp.Network([12, 8, 4], seed=0)
        data = net.prepare((x, labels))
        engine = net.engine("jax")
        transform = training_chain(nnxp.momentum(0.9), eta=0.5, decay=1 / 205, l1=0.1 / 205)
        order = be.asarray(np.random.default_rng(1).permutation(205), "index")
        params, state = net.params, transform.init(net.params)
        params, state = engine.run_epoch(transform, params, state, data, order, 10)  # compiles
        jax.block_until_ready(params)
        programs = nnxp.testing.programs(engine)
        etas = [be.asarray(eta, "float32") for eta in (0.25, 0.125)]
        with jax.transfer_guard_host_to_device("disallow"):
            for eta in etas:  # a new eta: no transfer, no recompilation
                state = set_hyper(state, eta=eta)
                params, state = engine.run_epoch(transform, params, state, data, order, 10)
            jax.block_until_ready(params)
        assert engine.compile_seconds > 0 and nnxp.testing.programs(engine) == programs
        # and the guard really bites: a Python float passed to a jitted function is refused
        with pytest.raises(Exception, match="[Dd]isallowed"):
            with jax.transfer_guard_host_to_device("disallow"):
                jax.jit(lambda a, s: a * s)(params[0][0], np.float32(2.0))


@pytest.mark.parametrize("device", ["device1", "no_x64"])
def test_strict_device_epoch_stays_on_device(device):
    """device1: arrays that leave the device or mix devices raise.  no_x64: float32 and int32
    only, like JAX's default (array-api-strict's own argmax returns int64 there, which that
    device refuses: the backend's namespace fixes it, backends/strict_backend.py), with
    accuracy and cost monitored, and predict and accuracy after training."""
    pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(2)
    x, labels = rng.random((95, 7)), rng.integers(0, 3, 95)
    with nnxp.use_backend("numpy"):
        ref = nnxp.Network([7, 6, 3], seed=4)
        ref_hist = ref.SGD((x, labels), 2, 10, 0.5, lmbda=1.0, momentum=0.5,
                           evaluation_data=(x, labels), monitor_evaluation_accuracy=True,
                           monitor_evaluation_cost=True)
    with nnxp.use_backend("array_api_strict", device) as be:
        net = nnxp.Network([7, 6, 3], seed=4)
        hist = net.SGD((x, labels), 2, 10, 0.5, lmbda=1.0, momentum=0.5,
                       evaluation_data=(x, labels), monitor_evaluation_accuracy=True,
                       monitor_evaluation_cost=True)
        for w, b in net.params:
            assert w.device == be.device and b.device == be.device
        assert net.feedforward(be.asarray(x, "float32")).device == be.device
        predicted = net.predict(be.asarray(x, "float32"))
        assert predicted.device == be.device and predicted.dtype == be.index_dtype()
        assert net.accuracy((x, labels)) == hist.evaluation_accuracy[-1]
        with pytest.raises(RuntimeError):  # strict refuses to hand a device array to NumPy
            np.asarray(net.params[0][0])
    # float32 through other kernels (NumPy's fused step, strict's generic one): within one
    assert all(abs(a - b) <= 1 for a, b in zip(hist.evaluation_accuracy,
                                                ref_hist.evaluation_accuracy))
    assert len(hist.evaluation_accuracy) == len(ref_hist.evaluation_accuracy)
    np.testing.assert_allclose(hist.evaluation_cost, ref_hist.evaluation_cost, rtol=1e-4)
    for a, b in zip(params_numpy(net), params_numpy(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("device", ["CPU_DEVICE", "device1", "no_x64"])
def test_strict_argmax_is_numpys_in_the_devices_index_dtype(device):
    """The backend's argmax (array-api-strict's own raises on no_x64): NumPy's answer (the
    first maximum; the first NaN where there is one), on the device, in its index dtype."""
    pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(0)
    arrays = [rng.random((5, 7)).astype(np.float32), rng.integers(0, 3, (4, 6)).astype(np.int32),
              np.array([[1, np.nan, 3, np.nan], [2, 2, 1, 0], [np.inf, 0, np.inf, 1]],
                       dtype=np.float32)]
    with nnxp.use_backend("array_api_strict", device) as be:
        for host in arrays:
            a = be.xp.asarray(host, device=be.device)
            for axis in (None, 0, 1, -1):
                for keepdims in (False, True):
                    got = be.xp.argmax(a, axis=axis, keepdims=keepdims)
                    assert got.device == be.device and got.dtype == be.index_dtype()
                    np.testing.assert_array_equal(
                        be.to_numpy(got), np.argmax(host, axis=axis, keepdims=keepdims))


def test_float64_on_a_device_without_it_is_refused_clearly():
    pytest.importorskip("array_api_strict")
    with nnxp.use_backend("array_api_strict", "no_x64"):
        with pytest.raises(nnxp.ConfigError, match="has no float64.*use dtype='float32'"):
            nnxp.Network([3, 2], dtype="float64")
