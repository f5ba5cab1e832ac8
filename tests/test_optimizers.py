"""Optimizers (nnxp/optimizers.py): the book's update rules written out in NumPy (reference.py),
optax's shape (updates, not parameters; hyper-parameters in the state), purity, per-member
hyper-parameters, and the one way to choose (conflicts refused, never dropped)."""

import numpy as np
import pytest

import nnxp
from nnxp import optimizers as O
from conftest import params_numpy, to_numpy
from reference import reference_sgd

CASES = [
    dict(lmbda=2.0),                                  # L2 only (network2)
    dict(l1=3.0),                                     # L1 only
    dict(lmbda=1.0, l1=0.5),                          # both
    dict(lmbda=1.0, momentum=0.9),                    # the book's momentum
    dict(lmbda=1.0, momentum=0.9, nesterov=True),     # Nesterov
    dict(l1=1.0, momentum=0.5),
    dict(lmbda=1.0, optimizer=nnxp.momentum(0.9)),    # the same, as an object
    dict(lmbda=1.0, optimizer=nnxp.nesterov(0.9)),
]
REFERENCE_MU = {"momentum": 0.9, "nesterov": 0.9}


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_update_rules_match_the_book(backend, kw):
    rng = np.random.default_rng(7)
    n, m = 53, 8
    x, labels = rng.random((n, 6)), rng.integers(0, 3, n)
    net = nnxp.Network([6, 5, 3], seed=3, dtype="float64")
    p0 = params_numpy(net)
    net.SGD((x, labels), 1, m, 0.4, shuffle=False, **kw)
    opt = kw.get("optimizer")
    mu = kw.get("momentum", opt.config.get("mu", 0.0) if opt else 0.0)
    nesterov = kw.get("nesterov", bool(opt) and opt.config["name"] == "nesterov")
    w, b = reference_sgd(p0[0::2], p0[1::2], x, np.eye(3)[labels], m, 0.4,
                         lmbda=kw.get("lmbda", 0.0), l1=kw.get("l1", 0.0), mu=mu,
                         nesterov=nesterov)
    for g, e in zip(params_numpy(net), [a for pair in zip(w, b) for a in pair]):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-13)


def test_momentum_zero_is_plain_sgd(backend):
    rng = np.random.default_rng(8)
    x, labels = rng.random((40, 4)), rng.integers(0, 2, 40)
    out = []
    for opt in (nnxp.sgd(), nnxp.momentum(0.0), nnxp.nesterov(0.0)):
        net = nnxp.Network([4, 3, 2], seed=1, dtype="float64")
        net.SGD((x, labels), 2, 5, 0.5, lmbda=1.0, optimizer=opt, shuffle=3)
        out.append(params_numpy(net))
    for other in out[1:]:
        for a, b in zip(out[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def _tree(backend, shapes, value):
    return tuple((backend.asarray(np.full(sw, value), "float64"),
                  backend.asarray(np.full(sb, value), "float64")) for sw, sb in shapes)


def test_transforms_return_updates_and_leave_their_inputs_alone(backend):
    """optax's contract: update(updates, state, params) -> (updates, state); pure."""
    shapes = [((2, 3), (2,)), ((1, 2), (1,))]
    params, grads = _tree(backend, shapes, 2.0), _tree(backend, shapes, 1.0)
    full = O.training_chain(nnxp.momentum(0.5), eta=0.1, decay=0.25, l1=0.5)
    state = full.init(params)
    updates, state = full.update(grads, state, params)
    # -eta (g + decay w + l1 sgn w) = -0.1 (1 + 0.5 + 0.5) for weights, -0.1 for biases
    assert np.allclose(to_numpy(updates[0][0]), -0.2) and np.allclose(to_numpy(updates[0][1]),
                                                                      -0.1)
    updates2, _ = full.update(grads, state, params)  # v <- 0.5 v + u: 1.5 u
    assert np.allclose(to_numpy(updates2[0][0]), -0.3)
    assert all(np.all(to_numpy(a) == 2.0) for layer in params for a in layer)
    assert all(np.all(to_numpy(a) == 1.0) for layer in grads for a in layer)
    new = O.apply_updates(params, updates)
    assert np.allclose(to_numpy(new[0][0]), 1.8)


def test_hyper_parameters_live_in_the_state(backend):
    shapes = [((2, 3), (2,))]
    params, grads = _tree(backend, shapes, 0.0), _tree(backend, shapes, 1.0)
    full = O.training_chain(nnxp.sgd(), eta=0.5)
    state = full.init(params)
    state = O.set_hyper(state, eta=backend.asarray(0.25, "float64"))
    updates, _ = full.update(grads, state, params)
    assert np.allclose(to_numpy(updates[0][0]), -0.25)
    assert full.key == O.training_chain(nnxp.sgd(), eta=3.0).key  # values never in the key
    assert full.key != O.training_chain(nnxp.sgd(), eta=0.5, l1=0.1).key


def test_per_member_hyper_parameters_broadcast_over_the_member_axis(backend):
    """A population's params carry a leading axis K; eta of shape (K,) scales each member."""
    shapes = [((3, 2, 4), (3, 2))]
    params, grads = _tree(backend, shapes, 1.0), _tree(backend, shapes, 1.0)
    full = O.training_chain(nnxp.momentum([0.0, 0.5, 0.9]), eta=[0.1, 0.2, 0.3],
                            decay=[0.0, 1.0, 0.0])
    updates, _ = full.update(grads, full.init(params), params)
    uw, ub = to_numpy(updates[0][0]), to_numpy(updates[0][1])
    np.testing.assert_allclose(uw[:, 0, 0], [-0.1, -0.4, -0.3])
    np.testing.assert_allclose(ub[:, 0], [-0.1, -0.2, -0.3])


@pytest.mark.parametrize("kw,match", [
    (dict(optimizer="sgd", momentum=0.9), "optimizer='sgd' has no momentum"),
    (dict(optimizer=nnxp.momentum(0.5), momentum=0.9), "already says how to use momentum"),
    (dict(optimizer="adagrad"), "unknown optimizer 'adagrad'"),
    (dict(optimizer="adam", momentum=0.9), "optimizer='adam' has no momentum"),
    (dict(momentum=1.5), r"momentum must be in \[0, 1\), got 1.5"),
    (dict(optimizer=nnxp.momentum), "got the factory of 'momentum', not an optimizer: call it"),
])
def test_conflicting_or_unknown_choices_are_refused(kw, match):
    net = nnxp.Network([3, 2], seed=0)
    with pytest.raises(nnxp.ConfigError, match=match):
        net.SGD((np.zeros((4, 3)), [0, 1, 0, 1]), 1, 2, 0.1, **kw)


def test_shorthands_equal_the_objects():
    assert O.optimizer_from(None, 0.9).config == nnxp.momentum(0.9).config
    assert O.optimizer_from(None, 0.9, True).config == nnxp.nesterov(0.9).config
    assert O.optimizer_from("momentum", 0.5).config == {"name": "momentum", "mu": 0.5}
    assert O.optimizer_from(None).config == {"name": "sgd"}
    with pytest.raises(nnxp.ConfigError, match=r"mu must be a number in \[0, 1\)"):
        nnxp.momentum(1.0)


@pytest.mark.parametrize("factory", [int, max, dict])
def test_register_optimizer_refuses_a_factory_whose_arguments_cannot_be_read(factory):
    """A builtin was inspect's bare ValueError ('no signature found')."""
    with pytest.raises(nnxp.ConfigError, match="factory whose arguments can be read"):
        O.register_optimizer("test_unreadable", factory)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Momentum"])
def test_register_optimizer_refuses_nnxps_names_in_any_case(name):
    """optimizer='SGD' is nnxp's sgd, so a user's 'SGD' could never be chosen by name."""
    with pytest.raises(nnxp.ConfigError, match="is nnxp's own optimizer"):
        O.register_optimizer(name, lambda: O.scale_by_eta(1.0))


def test_a_registered_name_given_as_text_says_how_to_use_it():
    made = O.register_optimizer("test_by_name", lambda scale=1.0: O.scale_by_eta(-scale))
    net, data = nnxp.Network([3, 2], seed=0), (np.zeros((4, 3)), [0, 1, 0, 1])
    with pytest.raises(nnxp.ConfigError, match="'test_by_name' is registered: pass the "
                                               "Optimizer its factory returns"):
        net.SGD(data, 1, 2, 0.1, optimizer="test_by_name")
    with pytest.raises(nnxp.ConfigError, match="got the factory of 'test_by_name'"):
        net.SGD(data, 1, 2, 0.1, optimizer=made)
    net.SGD(data, 1, 2, 0.1, optimizer=made(scale=0.5))   # the way that works


@pytest.mark.parametrize("kw", [dict(nesterov=True), dict(optimizer="momentum"),
                                dict(optimizer="nesterov"), dict(optimizer="Momentum")])
def test_a_momentum_of_zero_is_the_mu_asked_for(kw):
    """momentum=0 beside nesterov=True or optimizer='momentum' trained with mu = 0.9, the
    default, without a word (a sweep over momentum in [0, 0.5, 0.9] ran 0.9 twice)."""
    assert O.optimizer_from(kw.get("optimizer"), 0.0, kw.get("nesterov", False)).hyper == \
        {"mu": 0.0}
    assert O.optimizer_from(kw.get("optimizer"), None, kw.get("nesterov", False)).hyper == \
        {"mu": 0.9}   # the default when none is given
    net = nnxp.Network([3, 2], seed=0)
    net.SGD((np.zeros((4, 3)), [0, 1, 0, 1]), 1, 2, 0.1, momentum=0, **kw)
    assert hyper_mu(net) == 0.0


def hyper_mu(net):
    return float(np.asarray(net.backend.to_numpy(O.hyper_of(net.optimizer_state)["mu"])))


def _star_args(*args):
    return O.scale_by_adam(*args)


def _star_kwargs(b1=0.9, **kw):
    return O.scale_by_adam(b1, **kw)


@pytest.mark.parametrize("factory,loose", [(_star_args, r"\*args"),
                                           (_star_kwargs, r"\*\*kw")])
def test_register_optimizer_refuses_a_factory_of_unnamed_arguments(factory, loose):
    """The registered optimizer called factory(**bound.arguments): factory(args=(0.5,)) or
    factory(kw={...}), a bare TypeError from the user's factory at SGD (and a checkpoint
    would build it back from other arguments)."""
    with pytest.raises(nnxp.ConfigError, match=f"arguments are named .* taking {loose}"):
        O.register_optimizer("test_loose", factory)
    assert "test_loose" not in O.OPTIMIZERS


@pytest.mark.parametrize("make,kw", [(nnxp.adam, "b1"), (nnxp.adam, "b2"), (nnxp.adam, "eps"),
                                     (nnxp.rmsprop, "decay"), (nnxp.momentum, "mu"),
                                     (nnxp.nesterov, "mu")])
def test_one_hyper_parameter_per_member_may_be_an_array(make, kw):
    """As eta=np.array([...]) is: a 1-D array of K was refused 'must be a number in [0, 1) (or
    one per member)', though it gave one per member."""
    values = [0.5, 0.6, 0.7] if kw != "eps" else [1e-8, 1e-7, 1e-6]
    assert make(**{kw: np.array(values)}).config == make(**{kw: values}).config
    pop = nnxp.Population([3, 2], seeds=[0, 1, 2])
    pop.SGD((np.zeros((4, 3)), [0, 1, 0, 1]), 1, 2, 0.1, optimizer=make(**{kw: np.array(values)}))


def _scaled_a(scale=1.0):
    return O.scale_by_eta(-scale)


def _scaled_b(scale=1.0):
    return O.scale_by_eta(-2 * scale)


def test_register_optimizer_refuses_a_taken_name_unless_replace(monkeypatch):
    """A name registered with another function was replaced without a word: checkpoints saved
    under it then loaded with the other factory.  Now a ConfigError naming both, unless
    replace=True; the same function registered again (a notebook cell run twice) replaces
    it."""
    monkeypatch.setattr(O, "OPTIMIZERS", dict(O.OPTIMIZERS))   # this test's registrations only
    first = O.register_optimizer("test_taken", _scaled_a)
    with pytest.raises(nnxp.ConfigError, match=r"'test_taken' is taken by "
                                               r"test_optimizers\._scaled_a.*replace=True"):
        O.register_optimizer("test_taken", _scaled_b)
    assert O.OPTIMIZERS["test_taken"] is first
    again = O.register_optimizer("test_taken", _scaled_a)         # the same function again
    assert O.OPTIMIZERS["test_taken"] is again
    replaced = O.register_optimizer("test_taken", replace=True)(_scaled_b)
    assert O.OPTIMIZERS["test_taken"] is replaced and replaced.__wrapped__ is _scaled_b
