"""Optimizers and regularization against the book's rules written out in NumPy (reference.py)."""

import numpy as np
import pytest

import nnxp
from nnxp.optimizers import Hyper, optimizer_from_name
from conftest import params_numpy
from reference import reference_sgd

CASES = [
    dict(lmbda=2.0),                                  # L2 only (network2)
    dict(l1=3.0),                                     # L1 only
    dict(lmbda=1.0, l1=0.5),                          # both
    dict(lmbda=1.0, momentum=0.9),                    # the book's momentum
    dict(lmbda=1.0, momentum=0.9, nesterov=True),     # Nesterov
    dict(l1=1.0, momentum=0.5),
]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_update_rules_match_the_book(backend, kw):
    rng = np.random.default_rng(7)
    n, m = 53, 8
    x, labels = rng.random((n, 6)), rng.integers(0, 3, n)
    net = nnxp.Network([6, 5, 3], seed=3, dtype="float64")
    p0 = params_numpy(net)
    net.SGD((x, labels), 1, m, 0.4, shuffle=False, **kw)
    w, b = reference_sgd(p0[0::2], p0[1::2], x, np.eye(3)[labels], m, 0.4,
                         lmbda=kw.get("lmbda", 0.0), l1=kw.get("l1", 0.0),
                         mu=kw.get("momentum", 0.0), nesterov=kw.get("nesterov", False))
    for g, e in zip(params_numpy(net), [a for pair in zip(w, b) for a in pair]):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-13)


def test_momentum_zero_is_plain_sgd(backend):
    rng = np.random.default_rng(8)
    x, labels = rng.random((40, 4)), rng.integers(0, 2, 40)
    out = []
    for opt in ("sgd", "momentum", "nesterov"):
        net = nnxp.Network([4, 3, 2], seed=1, dtype="float64")
        net.SGD((x, labels), 2, 5, 0.5, lmbda=1.0, optimizer=opt, shuffle=3)
        out.append(params_numpy(net))
    for other in out[1:]:
        for a, b in zip(out[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_optimizers_are_pure(backend):
    """update returns new arrays and leaves its inputs untouched (JAX-compatible contract)."""
    xp = backend.xp
    net = nnxp.Network([3, 2], seed=0, dtype="float64")
    params = net.params
    before = params_numpy(net)
    grads = tuple((xp.ones_like(w), xp.ones_like(b)) for w, b in params)
    for name in ("sgd", "momentum", "nesterov"):
        opt = optimizer_from_name(name)
        state = opt.init(params)
        new, state = opt.update(params, grads, state, Hyper(eta=0.1, lmbda=1.0, n=10, mu=0.5))
        assert all(a is not b for pa, pb in zip(new, params) for a, b in zip(pa, pb))
    assert all(np.array_equal(a, b) for a, b in zip(before, params_numpy(net)))


def test_unknown_optimizer_is_refused():
    with pytest.raises(nnxp.ConfigError, match="known: sgd, momentum, nesterov"):
        optimizer_from_name("adam")
