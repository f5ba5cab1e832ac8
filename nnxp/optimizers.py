"""Optimizers: (init, update) pairs of pure functions, with L2 / L1 regularization.

    Hyper(eta, lmbda=0.0, n=1, l1=None, mu=0.0)     the hyper-parameters of one step
    Optimizer(name, init, update)
        init(params)                                 -> state (a NamedTuple, or () for SGD)
        update(params, grads, state, hyper)          -> (params, state)

``grads`` are eta times the mean gradient of the unregularized cost C0 over a mini-batch of m
examples, (eta / m) sum_x nabla C_x, as backprop returns them with scale = eta / m (scaling the
small output error is cheaper than scaling every weight-shaped gradient).  ``n`` is the size of
the whole training set, as in network2.  The regularized cost is

    C = C0 + (lmbda / 2n) sum w^2 + (l1 / n) sum |w|        (biases are not regularized)

    sgd()        network2's rule exactly:  w <- (1 - eta lmbda / n) w - (eta / m) sum nabla_w
                                           b <- b - (eta / m) sum nabla_b
                 (and, with L1:  w <- w - (eta l1 / n) sgn(w) - ...,  chapter 3)
    momentum()   the book's momentum:      v <- mu v - eta grad C,  w <- w + v
    nesterov()   Nesterov's momentum:      v <- mu v - eta grad C,  w <- w + mu v - eta grad C
                 (the look-ahead form of Sutskever et al. 2013, as PyTorch and optax write it)

With mu = 0 the momentum rules reduce to sgd.  ``l1=None`` (not 0.0) leaves the L1 term out of
the computation altogether, so the structure of a step is fixed before any compilation.
"""

from typing import Any, Callable, NamedTuple

from .errors import ConfigError
from .namespace import namespace

__all__ = ["Hyper", "Optimizer", "MomentumState", "sgd", "momentum", "nesterov",
           "optimizer_from_name"]


class Hyper(NamedTuple):
    """Hyper-parameters of one step: numbers, or device scalars inside compiled code."""

    eta: Any
    lmbda: Any = 0.0
    n: Any = 1
    l1: Any = None
    mu: Any = 0.0


class Optimizer(NamedTuple):
    name: str
    init: Callable
    update: Callable


class MomentumState(NamedTuple):
    velocity: tuple  # ((v_w, v_b), ...) per layer, shaped like params


def _step_w(w, eta_grad_w, hyper):
    """eta grad_w C: the scaled mean mini-batch gradient plus the regularization terms."""
    g = eta_grad_w + (hyper.eta * hyper.lmbda / hyper.n) * w
    if hyper.l1 is not None:
        g = g + (hyper.eta * hyper.l1 / hyper.n) * namespace(w).sign(w)
    return g


def sgd() -> Optimizer:
    """Plain mini-batch SGD with network2's weight-decay form of the L2 update."""

    def init(params):
        del params
        return ()

    def update(params, grads, state, hyper):
        decay = 1.0 - hyper.eta * (hyper.lmbda / hyper.n)
        new = []
        for (w, b), (g_w, g_b) in zip(params, grads):
            w_new = decay * w - g_w
            if hyper.l1 is not None:
                w_new = w_new - (hyper.eta * hyper.l1 / hyper.n) * namespace(w).sign(w)
            new.append((w_new, b - g_b))
        return tuple(new), state

    return Optimizer("sgd", init, update)


def _momentum(name: str, look_ahead: bool) -> Optimizer:
    def init(params):
        xp = namespace(params[0][0])
        return MomentumState(tuple((xp.zeros_like(w), xp.zeros_like(b)) for w, b in params))

    def update(params, grads, state, hyper):
        new, velocity = [], []
        for (w, b), (g_w, g_b), (v_w, v_b) in zip(params, grads, state.velocity):
            g_w = _step_w(w, g_w, hyper)  # eta grad_w C, regularization included
            v_w, v_b = hyper.mu * v_w - g_w, hyper.mu * v_b - g_b
            if look_ahead:
                new.append((w + hyper.mu * v_w - g_w, b + hyper.mu * v_b - g_b))
            else:
                new.append((w + v_w, b + v_b))
            velocity.append((v_w, v_b))
        return tuple(new), MomentumState(tuple(velocity))

    return Optimizer(name, init, update)


def momentum() -> Optimizer:
    """Momentum-based gradient descent (chapter 3); the coefficient mu is in ``Hyper``."""
    return _momentum("momentum", look_ahead=False)


def nesterov() -> Optimizer:
    """Nesterov's accelerated gradient, in look-ahead form; mu is in ``Hyper``."""
    return _momentum("nesterov", look_ahead=True)


_TABLE = {"sgd": sgd, "momentum": momentum, "nesterov": nesterov}


def optimizer_from_name(name) -> Optimizer:
    """An Optimizer from an Optimizer or one of the names "sgd", "momentum", "nesterov"."""
    if isinstance(name, Optimizer):
        return name
    factory = _TABLE.get(str(name).lower()) if isinstance(name, str) else None
    if factory is None:
        raise ConfigError(f"unknown optimizer {name!r}; known: {', '.join(_TABLE)}")
    return factory()
