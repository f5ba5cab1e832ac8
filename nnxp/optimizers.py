"""Optimizers in optax's shape: small gradient transformations, chained.

    Transform(init, update, key, config)
        init(params)                          -> state (NamedTuples holding arrays)
        update(updates, state, params)        -> (updates, state)
        key      what a compiled step depends on: names and flags, never values
        config   JSON-safe description, for checkpoints ({"name": "momentum", "mu": 0.9})
    apply_updates(params, updates)            -> params + updates, layer by layer

The transformations (hyper-parameters are numbers, or one per member of a population):

    add_decayed_weights(rate)   g + rate w          L2 weight decay, rate = lmbda / n (weights
                                                    only: the book does not regularize biases)
    add_l1(rate)                g + rate sgn(w)     L1, rate = l1 / n
    scale_by_eta(eta)           -eta g              the learning rate
    trace(mu, nesterov=False)   v <- mu v + g;  updates v (or g + mu v, Nesterov's look-ahead)
    chain(*transforms)          one after another

What users choose with ``optimizer=`` (the update after ``-eta grad C``):

    sgd()              nothing more: w <- w - eta grad C           network2's rule
    momentum(mu=0.9)   v <- mu v - eta grad C;  w <- w + v         the book's momentum (ch. 3)
    nesterov(mu=0.9)   v <- mu v - eta grad C;  w <- w + mu v - eta grad C
                       (the look-ahead form of Sutskever et al. 2013, as PyTorch and optax)

``training_chain(optimizer, eta, decay, l1)`` is the whole update SGD runs, with grad C the
mean gradient of the mini-batch plus the regularization terms:

    chain(add_decayed_weights(lmbda/n), [add_l1(l1/n)], scale_by_eta(eta), optimizer)

which is network2's w <- (1 - eta lmbda/n) w - (eta/m) sum nabla_w, rearranged (equal to
rounding).  Hyper-parameters live in the state as arrays of the parameters' dtype on their
device (as optax's ``inject_hyperparams`` does): a compiled step takes them as data, so a new
eta (the schedule halves it) never recompiles, and per-member values (shape (K,)) broadcast
over a population's leading axis.  ``set_hyper(state, eta=...)`` replaces them.  Pure
functions throughout; nothing is mutated.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, NamedTuple

from .errors import ConfigError
from .namespace import device_of, namespace

__all__ = ["Transform", "EtaState", "DecayState", "L1State", "TraceState", "add_decayed_weights",
           "add_l1", "scale_by_eta", "trace", "chain", "apply_updates", "sgd", "momentum",
           "nesterov", "training_chain", "set_hyper", "optimizer_from", "tree_leaves",
           "tree_unflatten", "OPTIMIZERS"]


class Transform(NamedTuple):
    init: Callable
    update: Callable
    key: tuple = ()
    config: Any = None

    def __repr__(self):
        return f"Transform({self.config or self.key})"


class EtaState(NamedTuple):
    eta: Any


class DecayState(NamedTuple):
    decay: Any  # lmbda / n


class L1State(NamedTuple):
    l1: Any     # l1 / n


class TraceState(NamedTuple):
    velocity: Any  # shaped like params
    mu: Any


def hyper_array(value, like):
    """``value`` (a number, or one per member) as an array of ``like``'s dtype and device."""
    return namespace(like).asarray(value, dtype=like.dtype, device=device_of(like))


def member(h, x):
    """Hyper-parameter ``h`` (0-d, or (K,) per member) shaped to broadcast against ``x``."""
    if h.ndim == 0:
        return h
    return namespace(h).reshape(h, h.shape + (1,) * (x.ndim - 1))


def _first(params):
    return params[0][0]


def add_decayed_weights(rate=0.0) -> Transform:
    """g + rate w for the weights (L2 regularization; rate = lmbda / n)."""
    def init(params):
        return DecayState(hyper_array(rate, _first(params)))

    def update(updates, state, params):
        return tuple((g_w + member(state.decay, w) * w, g_b)
                     for (g_w, g_b), (w, _) in zip(updates, params)), state

    return Transform(init, update, ("decay",))


def add_l1(rate=0.0) -> Transform:
    """g + rate sgn(w) for the weights (L1 regularization; rate = l1 / n)."""
    def init(params):
        return L1State(hyper_array(rate, _first(params)))

    def update(updates, state, params):
        xp = namespace(_first(params))
        return tuple((g_w + member(state.l1, w) * xp.sign(w), g_b)
                     for (g_w, g_b), (w, _) in zip(updates, params)), state

    return Transform(init, update, ("l1",))


def scale_by_eta(eta) -> Transform:
    """-eta g: a step down the gradient."""
    def init(params):
        return EtaState(hyper_array(eta, _first(params)))

    def update(updates, state, params):
        del params
        return tuple((-member(state.eta, g_w) * g_w, -member(state.eta, g_b) * g_b)
                     for g_w, g_b in updates), state

    return Transform(init, update, ("eta",))


def trace(mu, nesterov=False) -> Transform:
    """v <- mu v + g; the update is v, or g + mu v with ``nesterov``."""
    def init(params):
        xp = namespace(_first(params))
        return TraceState(tuple((xp.zeros_like(w), xp.zeros_like(b)) for w, b in params),
                          hyper_array(mu, _first(params)))

    def update(updates, state, params):
        del params
        new_updates, velocity = [], []
        for (g_w, g_b), (v_w, v_b) in zip(updates, state.velocity):
            v_w = member(state.mu, v_w) * v_w + g_w
            v_b = member(state.mu, v_b) * v_b + g_b
            velocity.append((v_w, v_b))
            if nesterov:
                new_updates.append((g_w + member(state.mu, v_w) * v_w,
                                    g_b + member(state.mu, v_b) * v_b))
            else:
                new_updates.append((v_w, v_b))
        return tuple(new_updates), TraceState(tuple(velocity), state.mu)

    return Transform(init, update, ("trace", bool(nesterov)))


def chain(*transforms) -> Transform:
    """The transforms one after another; the state is the tuple of their states."""
    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params):
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return Transform(init, update, tuple(t.key for t in transforms))


def apply_updates(params, updates):
    """params + updates, layer by layer."""
    return tuple((w + u_w, b + u_b) for (w, b), (u_w, u_b) in zip(params, updates))


# -- what users choose -------------------------------------------------------------------------

def _mu(mu):
    values = mu if isinstance(mu, (list, tuple)) else [mu]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 <= v < 1.0:
            raise ConfigError(f"momentum coefficient mu must be a number in [0, 1) (or one per "
                              f"member), got {v!r}")
    return [float(v) for v in mu] if isinstance(mu, (list, tuple)) else float(mu)


def sgd() -> Transform:
    """Plain stochastic gradient descent: the update is -eta grad C (network2)."""
    return Transform(lambda params: (), lambda u, s, p: (u, s), ("sgd",), {"name": "sgd"})


def momentum(mu=0.9) -> Transform:
    """The book's momentum: v <- mu v - eta grad C, w <- w + v (chapter 3)."""
    mu = _mu(mu)
    return trace(mu)._replace(config={"name": "momentum", "mu": mu})


def nesterov(mu=0.9) -> Transform:
    """Nesterov's accelerated gradient in look-ahead form: w <- w + mu v - eta grad C."""
    mu = _mu(mu)
    return trace(mu, nesterov=True)._replace(config={"name": "nesterov", "mu": mu})


OPTIMIZERS = {"sgd": sgd, "momentum": momentum, "nesterov": nesterov}


def optimizer_from(optimizer=None, momentum_=None, nesterov_=False) -> Transform:
    """The optimizer SGD was asked for: ``optimizer`` (a Transform, a name, or a saved config
    dict) and network2-style shorthands ``momentum=mu`` / ``nesterov=True``.  Conflicting
    choices are refused, never silently dropped."""
    mu_given = momentum_ is not None and momentum_ != 0
    if isinstance(optimizer, dict):
        name = optimizer.get("name")
        if name not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {str(name)[:100]!r}; known: "
                              f"{', '.join(OPTIMIZERS)}")
        return OPTIMIZERS[name]() if name == "sgd" else OPTIMIZERS[name](optimizer.get("mu"))
    if optimizer is None:
        if nesterov_:
            return nesterov(momentum_ if mu_given else 0.9)
        return momentum(momentum_) if mu_given else sgd()
    if isinstance(optimizer, Transform):
        if mu_given or nesterov_:
            raise ConfigError(f"optimizer={optimizer!r} already says how to use momentum; "
                              "leave momentum= and nesterov= out (or give only those)")
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        name = optimizer.lower()
        if name == "sgd":
            if mu_given or nesterov_:
                raise ConfigError("optimizer='sgd' has no momentum; use optimizer="
                                  "nnxp.momentum(mu) (or 'momentum' with momentum=mu)")
            return sgd()
        if nesterov_ and name == "momentum":
            name = "nesterov"
        return OPTIMIZERS[name](momentum_ if mu_given else 0.9)
    raise ConfigError(f"unknown optimizer {str(optimizer)[:100]!r}; use nnxp.sgd(), "
                      f"nnxp.momentum(mu), nnxp.nesterov(mu) or one of {', '.join(OPTIMIZERS)}")


def training_chain(optimizer, eta, decay=0.0, l1=None) -> Transform:
    """The whole update of SGD: decay (lmbda/n), L1 (l1/n; None leaves it out of the
    computation), -eta, then the optimizer.  ``config`` and ``key`` are the optimizer's plus
    the structure of the rest."""
    parts = [add_decayed_weights(decay)] + ([add_l1(l1)] if l1 is not None else [])
    full = chain(*parts, scale_by_eta(eta), optimizer)
    return full._replace(config=optimizer.config)


def set_hyper(state, **values):
    """``state`` with hyper-parameter arrays replaced: ``set_hyper(state, eta=array)`` swaps
    the array of every EtaState (the field names: eta, decay, l1, mu)."""
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        changes = {k: v for k, v in values.items() if k in state._fields}
        kept = {f: set_hyper(getattr(state, f), **values) for f in state._fields
                if f not in changes and isinstance(getattr(state, f), tuple)}
        return state._replace(**kept, **changes)
    if isinstance(state, tuple):
        return tuple(set_hyper(s, **values) for s in state)
    return state


def tree_leaves(tree) -> list:
    """The arrays of a state or params tree (tuples and NamedTuples), in order."""
    if isinstance(tree, tuple):
        return [leaf for t in tree for leaf in tree_leaves(t)]
    return [tree]


def tree_unflatten(like, leaves):
    """A tree shaped like ``like`` with its leaves taken in order from ``leaves``."""
    it = iter(leaves)

    def build(t):
        if isinstance(t, tuple) and hasattr(t, "_fields"):
            return type(t)(*(build(x) for x in t))
        if isinstance(t, tuple):
            return tuple(build(x) for x in t)
        return next(it)

    return build(like)
