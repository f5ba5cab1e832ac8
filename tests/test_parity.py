"""Parity: one seed, one network, the same numbers on every backend (NumPy is the reference)."""

import numpy as np
import pytest

import nnxp
from conftest import params_numpy

_reference = {}


def _numpy_run(key, fn):
    """Run ``fn`` once on NumPy per session and cache the result (the reference)."""
    if key not in _reference:
        with nnxp.use_backend("numpy"):
            _reference[key] = fn()
    return _reference[key]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("init", ["default", "large"])
def test_same_seed_gives_identical_initial_weights(backend, dtype, init):
    def build():
        net = nnxp.Network([784, 30, 10], seed=42, dtype=dtype)
        getattr(net, f"{init}_weight_initializer")()
        return net
    expected = _numpy_run(("init", dtype, init), lambda: params_numpy(build()))
    got = params_numpy(build())
    assert [a.dtype for a in got] == [np.dtype(dtype)] * 4
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


def test_different_seeds_give_different_weights(backend):
    a = params_numpy(nnxp.Network([10, 5, 2], seed=1))
    b = params_numpy(nnxp.Network([10, 5, 2], seed=2))
    assert not np.array_equal(a[0], b[0])


def _train_slice(mnist, dtype, n_train=3000, n_eval=1000, epochs=2):
    (x, y), (xv, yv), _ = mnist
    net = nnxp.Network([784, 30, 10], seed=0, dtype=dtype)
    history = net.SGD((x[:n_train], y[:n_train]), epochs, 10, 0.5, lmbda=5.0,
                      evaluation_data=(xv[:n_eval], yv[:n_eval]),
                      monitor_evaluation_accuracy=True, monitor_evaluation_cost=True,
                      monitor_training_accuracy=True)
    return params_numpy(net), history


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_two_epochs_on_mnist_match_numpy(backend, mnist, dtype, rtol):
    ref_params, ref_hist = _numpy_run(("mnist", dtype), lambda: _train_slice(mnist, dtype))
    params, hist = _train_slice(mnist, dtype)
    for p, r in zip(params, ref_params):
        assert p.dtype == np.dtype(dtype)
        scale = np.max(np.abs(r))
        assert np.max(np.abs(p - r)) <= rtol * scale
    if dtype == "float64":
        assert hist.evaluation_accuracy == ref_hist.evaluation_accuracy
        assert hist.training_accuracy == ref_hist.training_accuracy
    else:  # other kernels round otherwise: an image on the boundary may tip (any x86-64 CPU)
        assert all(abs(a - b) <= 2 for a, b in zip(hist.evaluation_accuracy,
                                                    ref_hist.evaluation_accuracy))
        assert all(abs(a - b) <= 6 for a, b in zip(hist.training_accuracy,
                                                    ref_hist.training_accuracy))
    np.testing.assert_allclose(hist.evaluation_cost, ref_hist.evaluation_cost, rtol=10 * rtol)
    assert hist.evaluation_accuracy[-1] > 800  # it learned: 1000 validation images


def test_book_network_first_5000_images_same_validation_count(backend, mnist):
    """[784, 30, 10], cross-entropy, eta 0.5, lmbda 5.0, mini-batch 10, 2 epochs, float64."""
    def run():
        (x, y), validation, _ = mnist
        net = nnxp.Network([784, 30, 10], cost=nnxp.CrossEntropyCost, seed=0, dtype="float64")
        h = net.SGD((x[:5000], y[:5000]), 2, 10, 0.5, lmbda=5.0, evaluation_data=validation,
                    monitor_evaluation_accuracy=True)
        return h.evaluation_accuracy
    expected = _numpy_run("book5000", run)
    assert run() == expected
    assert expected[-1] > 8500
