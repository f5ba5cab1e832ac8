"""Optimizers in optax's shape: small gradient transformations, chained, with every
hyper-parameter in one dict of the optimizer state.

    Transform(init, update, key=None, config=None)
        init(params)                       -> state (tuples, NamedTuples and dicts of arrays)
        update(updates, state, params)     -> (updates, state)
        key      hashable: everything that decides the program besides the state's arrays
                 (names, flags, constants); None: the transform's own two functions
                 (step_key(transform) is what engines cache compiled steps by)
        config   a registered optimizer's {"name": ..., **arguments} (training_chain's), else None
    apply_updates(params, updates)         -> params + updates, layer by layer

``params`` (and gradients, updates) are one tuple of arrays per layer: (w, b) for a dense
layer, () for a layer without parameters, the weight first.  Every transform maps over the
arrays of each layer; L2 and L1 act on each layer's first array (its weights), never on the
others (biases).

The transformations (each hyper-parameter a number, or an array: 0-d, or (K,) one per member
of a population, broadcast over the parameters' leading member axis):

    add_decayed_weights(rate)    g + rate w           L2, rate = lmbda / n (weights only: the
                                                      book does not regularize biases)
    add_l1(rate)                 g + rate sgn(w)      L1, rate = l1 / n
    scale_by_eta(eta)            -eta g               the learning rate
    trace(mu, nesterov=False)    v <- mu v + g;  the update is v (Nesterov: g + mu v)
    scale_by_adam(b1, b2, eps)   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1;
                                 the update is (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    scale_by_rms(rho, eps)       v <- rho v + (1 - rho) g^2;  the update is g / (sqrt(v) + eps)
    chain(*transforms)           one after another
    inject(build, hyper, key)    optax's inject_hyperparams: the state is HyperState(hyper,
                                 inner), ``hyper`` a dict name -> array of the parameters' dtype
                                 on their device; ``update`` runs build(**state.hyper)

What users choose with ``optimizer=`` is an ``Optimizer``: a registry name and its arguments
(``config``, what a checkpoint saves and ``optimizer_from`` builds back), its hyper-parameters
(into the state's dict) and where the learning rate goes:

    sgd()                          w <- w - eta grad C                          network2's rule
    momentum(mu=0.9)               v <- mu v - eta grad C;  w <- w + v          the book's (ch. 3)
    nesterov(mu=0.9)               v <- mu v - eta grad C;  w <- w + mu v - eta grad C
                                   (the look-ahead form of Sutskever et al. 2013, as PyTorch)
    adam(b1=0.9, b2=0.999, eps=1e-8)   w <- w - eta adam(grad C)                 torch.optim.Adam
    rmsprop(decay=0.9, eps=1e-8)   w <- w - eta grad C / (sqrt(v) + eps)        torch's RMSprop
                                   (its decay is the state's "rho": "decay" is lmbda / n)

``training_chain(optimizer, eta, decay, l1)`` is the whole update SGD runs, grad C the mean
gradient of the mini-batch:

    inject(chain(add_decayed_weights(lmbda/n), [add_l1(l1/n)], optimizer, scale_by_eta(eta)))

the learning rate last, as optax does (``alias.sgd`` is ``chain(trace, scale_by_learning_rate)``),
so that it scales an adaptive optimizer's step (adam, rmsprop, any custom Transform) instead of
cancelling in it.  The book's momentum and Nesterov keep the book's order, -eta *before* the
trace (``Optimizer.eta_first``): the velocity carries eta, so when ``schedule=`` halves eta the
velocity already built keeps its size (the book's rule, and the numbers of earlier nnxp
versions, whose checkpoints resume to them).  With sgd the order makes no difference.

lmbda and l1 act on the gradient *before* the optimizer, so with adam or rmsprop they equal
torch's ``weight_decay=lmbda/n`` (coupled L2, not AdamW's decoupled decay) and an L1 term
l1/n sgn(w) added to the gradient: both are then normalised by the adaptive step like the
gradient itself.  Network2's w <- (1 - eta lmbda/n) w - (eta/m) sum
nabla_w is the sgd chain rearranged (equal to rounding).

Hyper-parameters live in the state's one dict (``hyper_of(state)``; ``set_hyper(state, eta=...)``
replaces entries): a compiled step takes them as data, so a new eta (the schedule halves it)
never recompiles, and per-member values broadcast over a population.  Names: eta, decay (lmbda
/ n), l1 (l1 / n, present only when some member uses L1), and the optimizer's own (mu; b1, b2,
eps; rho, eps).  Constants that are not in the dict are in the key, so that two transforms
that compute differently never share a cached step.  ``identify(transform)`` names one of
nnxp's own chains for the backends' fast paths (``NETWORK2_RULE``: sgd with decay, no L1).

A user's optimizer registers itself to be saved in checkpoints and loaded back:

    @register_optimizer("sign_sgd")       # or register_optimizer("sign_sgd", factory)
    def sign_sgd(scale=1.0):              # keyword arguments: JSON numbers, text, flags, lists
        return Transform(init, update)    # optax-shaped; the learning rate comes after it
    net.SGD(data, 30, 10, 0.01, optimizer=sign_sgd(scale=0.5), checkpoint="run.json")

Calling the registered factory gives an Optimizer whose config is {"name": "sign_sgd", "scale":
0.5}; its arguments are constants of the program (in its key).  A name is one factory: taken
by another function (module and qualified name), it is refused unless ``replace=True``; the
same function registered again replaces it.  A Transform passed directly
(unregistered) trains but cannot be checkpointed (refused before training starts).  Pure
functions throughout; nothing is mutated.
"""

from __future__ import annotations

import functools
import inspect
import json
import numbers
from typing import Any, Callable, NamedTuple

from .checks import show
from .dtypes import dtype_name
from .errors import ConfigError, NNXPError
from .namespace import device_of, namespace

__all__ = ["Transform", "Optimizer", "HyperState", "TraceState", "AdamState", "RmsState",
           "add_decayed_weights", "add_l1", "scale_by_eta", "trace", "scale_by_adam",
           "scale_by_rms", "chain", "inject", "apply_updates", "sgd", "momentum", "nesterov",
           "adam", "rmsprop", "register_optimizer", "training_chain", "set_hyper", "hyper_of",
           "identify", "NETWORK2_RULE", "step_key", "optimizer_from", "tree_leaves",
           "tree_unflatten", "OPTIMIZERS"]


class Transform(NamedTuple):
    init: Callable
    update: Callable
    key: Any = None
    config: Any = None

    def __repr__(self):
        return f"Transform({self.config or self.key or self.update})"


class HyperState(NamedTuple):
    hyper: dict   # name -> array (0-d, or (K,) one per member)
    inner: Any    # the state of the transforms built from them


class TraceState(NamedTuple):
    velocity: Any  # shaped like params


class AdamState(NamedTuple):
    count: Any     # t, a 0-d array of the parameters' dtype
    m: Any         # first moments, shaped like params
    v: Any         # second moments


class RmsState(NamedTuple):
    v: Any         # the running mean of g^2, shaped like params


def hyper_array(value, like):
    """``value`` (a number, or one per member) as an array of ``like``'s dtype and device."""
    return namespace(like).asarray(value, dtype=like.dtype, device=device_of(like))


# what each injected hyper-parameter is made of, for messages (plan.update_hyper)
_MADE_OF = {"decay": "lmbda / n", "l1": "l1 / n", "mu": "momentum"}


def check_fits(name, value, like) -> None:
    """A ConfigError when a hyper-parameter given as numbers (one, or one per member) is
    beyond the largest value of the parameters' dtype (float32: 3.4e38): cast, it would be
    infinite and the run would diverge at its first step; or, not 0, is so small that the
    dtype rounds it to 0 (float32: below 7e-46, half its smallest subnormal): it would train
    as 0 (an eta of 0 leaves the weights where they are) without a word."""
    values = value if isinstance(value, (list, tuple)) else [value]
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return  # an array: it has the parameters' dtype already
    info = namespace(like).finfo(like.dtype)
    largest = float(info.max)
    smallest = float(info.smallest_normal) * float(info.eps)  # the smallest subnormal
    made_of = f" ({_MADE_OF[name]})" if name in _MADE_OF else ""
    dtype = dtype_name(like.dtype)
    for v in values:
        if abs(float(v)) > largest:
            raise ConfigError(f"{name}{made_of} = {float(v):.4g} is beyond the network's "
                              f"{dtype} (largest {largest:.4g}): it would train as "
                              f"infinity; use a smaller value, or dtype='float64'")
        if 0 < abs(float(v)) <= smallest / 2:
            raise ConfigError(f"{name}{made_of} = {float(v):.4g} is below the smallest number "
                              f"the network's {dtype} holds ({smallest:.4g}): it would "
                              f"train as 0; use a larger value (or 0), or dtype='float64'")


def member(h, x):
    """Hyper-parameter ``h`` (a number, 0-d, or (K,) per member) shaped to broadcast against
    ``x``."""
    if not hasattr(h, "ndim") or h.ndim == 0:
        return h
    return namespace(h).reshape(h, h.shape + (1,) * (x.ndim - 1))


def _first(params):
    """The first array of a params tree (layers without parameters hold none)."""
    return next(a for layer in params for a in layer)


def _zeros(params):
    xp = namespace(_first(params))
    return tuple(tuple(xp.zeros_like(a) for a in layer) for layer in params)


def _on_weights(updates, params, fn):
    """Each layer's first update (its weights') replaced by fn(g_w, w); the others kept."""
    return tuple((fn(g[0], p[0]),) + tuple(g[1:]) if len(g) else ()
                 for g, p in zip(updates, params))


def _stateless(update, key) -> Transform:
    return Transform(lambda params: (), update, key)


def _key(name, *constants):
    """A transform's key: its name and its constants when they are numbers (part of the
    program); None when one is an array (a value from the state's dict, or an array a user
    closed over: the functions themselves then tell programs apart, step_key)."""
    def plain(v):
        return (isinstance(v, numbers.Real) or
                (isinstance(v, (list, tuple)) and all(isinstance(x, numbers.Real) for x in v)))
    if not all(plain(c) for c in constants):
        return None
    return (name,) + tuple(tuple(c) if isinstance(c, list) else c for c in constants)


# -- transformations ---------------------------------------------------------------------------

def add_decayed_weights(rate=0.0) -> Transform:
    """g + rate w for the weights (L2 regularization; rate = lmbda / n)."""
    def update(updates, state, params):
        return _on_weights(updates, params, lambda g_w, w: g_w + member(rate, w) * w), state

    return _stateless(update, _key("decay", rate))


def add_l1(rate=0.0) -> Transform:
    """g + rate sgn(w) for the weights (L1 regularization; rate = l1 / n)."""
    def update(updates, state, params):
        xp = namespace(_first(params))
        return _on_weights(updates, params,
                           lambda g_w, w: g_w + member(rate, w) * xp.sign(w)), state

    return _stateless(update, _key("l1", rate))


def scale_by_eta(eta) -> Transform:
    """-eta g: a step down the gradient."""
    def update(updates, state, params):
        del params
        return tuple(tuple(-member(eta, g) * g for g in layer) for layer in updates), state

    return _stateless(update, _key("eta", eta))


def trace(mu, nesterov=False) -> Transform:
    """v <- mu v + g; the update is v, or g + mu v with ``nesterov``."""
    def update(updates, state, params):
        del params
        new_updates, velocity = [], []
        for g_layer, v_layer in zip(updates, state.velocity):
            vs = tuple(member(mu, v) * v + g for g, v in zip(g_layer, v_layer))
            velocity.append(vs)
            if nesterov:
                new_updates.append(tuple(g + member(mu, v) * v for g, v in zip(g_layer, vs)))
            else:
                new_updates.append(vs)
        return tuple(new_updates), TraceState(tuple(velocity))

    return Transform(lambda params: TraceState(_zeros(params)), update,
                     _key("trace", mu, bool(nesterov)))


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8) -> Transform:
    """Adam's direction (Kingma and Ba 2015, as torch.optim.Adam and optax.scale_by_adam):
    bias-corrected first moment over the square root of the bias-corrected second, plus eps."""
    def init(params):
        like = _first(params)
        return AdamState(hyper_array(0.0, like), _zeros(params), _zeros(params))

    def update(updates, state, params):
        del params
        xp = namespace(state.count)
        t = state.count + 1.0
        ms, vs, out = [], [], []
        for g_layer, m_layer, v_layer in zip(updates, state.m, state.v):
            m_new, v_new, u_new = [], [], []
            for g, m, v in zip(g_layer, m_layer, v_layer):
                beta1, beta2 = member(b1, g), member(b2, g)
                m = beta1 * m + (1.0 - beta1) * g
                v = beta2 * v + (1.0 - beta2) * (g * g)
                m_hat = m / (1.0 - beta1 ** t)
                v_hat = v / (1.0 - beta2 ** t)
                m_new.append(m), v_new.append(v)
                u_new.append(m_hat / (xp.sqrt(v_hat) + member(eps, g)))
            ms.append(tuple(m_new)), vs.append(tuple(v_new)), out.append(tuple(u_new))
        return tuple(out), AdamState(t, tuple(ms), tuple(vs))

    return Transform(init, update, _key("adam", b1, b2, eps))


def scale_by_rms(rho=0.9, eps=1e-8) -> Transform:
    """RMSprop's direction (Hinton's lecture 6e, as torch.optim.RMSprop and optax's rmsprop
    with eps_in_sqrt=False): g over the root of a running mean of g^2, plus eps."""
    def update(updates, state, params):
        del params
        xp = namespace(_first(updates))
        vs, out = [], []
        for g_layer, v_layer in zip(updates, state.v):
            v_new, u_new = [], []
            for g, v in zip(g_layer, v_layer):
                r = member(rho, g)
                v = r * v + (1.0 - r) * (g * g)
                v_new.append(v)
                u_new.append(g / (xp.sqrt(v) + member(eps, g)))
            vs.append(tuple(v_new)), out.append(tuple(u_new))
        return tuple(out), RmsState(tuple(vs))

    return Transform(lambda params: RmsState(_zeros(params)), update,
                     _key("rms", rho, eps))


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

    keys = tuple(t.key for t in transforms)
    return Transform(init, update, None if None in keys else ("chain",) + keys)


def inject(build, hyper, key=None, config=None) -> Transform:
    """optax's inject_hyperparams: ``build(**values) -> Transform`` run with the arrays of the
    state's dict, whose initial values are ``hyper`` (name -> number or one per member).  A
    new value is new data, never a new program.  On eager backends the transform built from a
    dict is kept while the state carries that same dict (one build per set_hyper, not per
    step)."""
    names = tuple(sorted(hyper))
    last = [(None, None)]

    def built(values):
        seen, transform = last[0]
        if seen is not values:
            transform = build(**values)
            last[0] = (values, transform)
        return transform

    def init(params):
        like = _first(params)
        for name in names:
            check_fits(name, hyper[name], like)
        values = {name: hyper_array(hyper[name], like) for name in names}
        return HyperState(values, build(**values).init(params))

    def update(updates, state, params):
        updates, inner = built(state.hyper).update(updates, state.inner, params)
        return updates, HyperState(state.hyper, inner)

    return Transform(init, update, None if key is None else ("inject", names, key), config)


def apply_updates(params, updates):
    """params + updates, layer by layer."""
    return tuple(tuple(p + u for p, u in zip(layer, u_layer))
                 for layer, u_layer in zip(params, updates))


def step_key(transform):
    """What a compiled step of ``transform`` is cached by: its key, or (having none) its own
    two functions, so that two transforms that may compute differently never share a step."""
    if transform.key is not None:
        return transform.key
    return ("functions", transform.init, transform.update)


# -- what users choose -------------------------------------------------------------------------

class Optimizer(NamedTuple):
    """What ``optimizer=`` takes: see the module docstring."""

    config: Any            # {"name": registered name, **arguments} (JSON); None: unregistered
    build: Callable        # build(**hyper arrays) -> Transform
    hyper: dict            # name -> value: this optimizer's entries in the state's dict
    eta_first: bool        # -eta before build's transform (the book's momentum), else after
    key: Any               # what decides build's program besides the values of ``hyper``

    def __repr__(self):
        return f"Optimizer({self.config if self.config is not None else 'unregistered'})"


OPTIMIZERS: dict = {}   # registered name -> factory(**arguments) -> Optimizer
_BUILT_IN = ("sgd", "momentum", "nesterov", "adam", "rmsprop")


def _numbers(name, value, low, high, low_open=False):
    """``value`` (a number or one per member) checked to lie in [low, high) (or (low, high)
    with ``low_open``); floats back.  One per member may be a 1-D array, as SGD's eta is."""
    if getattr(value, "ndim", None) == 1 and hasattr(value, "tolist"):
        value = value.tolist()
    values = value if isinstance(value, (list, tuple)) else [value]
    span = f"{'(' if low_open else '['}{low:g}, {high:g})"
    for v in values:
        if (isinstance(v, bool) or not isinstance(v, numbers.Real) or not low <= v < high
                or (low_open and v == low)):
            raise ConfigError(f"{name} must be a number in {span} (or one per member), got "
                              f"{show(v)}")
    return [float(v) for v in value] if isinstance(value, (list, tuple)) else float(value)


def _mu(mu):
    return _numbers("momentum coefficient mu", mu, 0.0, 1.0)


def sgd() -> Optimizer:
    """Plain stochastic gradient descent: w <- w - eta grad C (network2)."""
    return Optimizer({"name": "sgd"}, lambda: chain(), {}, False, ("sgd",))


def momentum(mu=0.9) -> Optimizer:
    """The book's momentum: v <- mu v - eta grad C, w <- w + v (chapter 3)."""
    mu = _mu(mu)
    return Optimizer({"name": "momentum", "mu": mu}, lambda mu: trace(mu), {"mu": mu}, True,
                     ("momentum",))


def nesterov(mu=0.9) -> Optimizer:
    """Nesterov's accelerated gradient in look-ahead form: w <- w + mu v - eta grad C."""
    mu = _mu(mu)
    return Optimizer({"name": "nesterov", "mu": mu}, lambda mu: trace(mu, nesterov=True),
                     {"mu": mu}, True, ("nesterov",))


def adam(b1=0.9, b2=0.999, eps=1e-8) -> Optimizer:
    """Adam, eta the learning rate: one epoch equals torch.optim.Adam(lr=eta) (and optax.adam)
    to rounding.  >>> net.SGD(data, 10, 10, 0.001, optimizer=nnxp.adam())  # doctest: +SKIP"""
    b1, b2 = _numbers("adam's b1", b1, 0.0, 1.0), _numbers("adam's b2", b2, 0.0, 1.0)
    eps = _numbers("adam's eps", eps, 0.0, float("inf"), low_open=True)
    return Optimizer({"name": "adam", "b1": b1, "b2": b2, "eps": eps}, scale_by_adam,
                     {"b1": b1, "b2": b2, "eps": eps}, False, ("adam",))


def rmsprop(decay=0.9, eps=1e-8) -> Optimizer:
    """RMSprop, eta the learning rate: torch.optim.RMSprop(lr=eta, alpha=decay, eps=eps) (and
    optax.rmsprop(eta, decay, eps, eps_in_sqrt=False)) to rounding."""
    decay = _numbers("rmsprop's decay", decay, 0.0, 1.0)
    eps = _numbers("rmsprop's eps", eps, 0.0, float("inf"), low_open=True)
    return Optimizer({"name": "rmsprop", "decay": decay, "eps": eps}, scale_by_rms,
                     {"rho": decay, "eps": eps}, False, ("rmsprop",))


def _frozen(value):
    """A JSON value made hashable (lists -> tuples, dicts -> sorted item tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def register_optimizer(name, factory=None, *, replace=False):
    """Register a user's optimizer under ``name`` (see the module docstring); returns the
    registered factory (so it works as a decorator).  ``factory(**arguments)`` returns a
    Transform (optax-shaped, the learning rate applied after it) or an Optimizer; its
    arguments must be JSON values.  The names of nnxp's own optimizers cannot be taken.  A
    name registered with another function (another module or qualified name) is refused
    unless ``replace=True``: checkpoints saved under it would load with the other one.  The
    same function registered again (a notebook cell run twice, a module reloaded) replaces
    it."""
    if factory is None:
        return lambda f: register_optimizer(name, f, replace=replace)
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"an optimizer's name must be an identifier, got {show(name)}")
    if name.lower() in _BUILT_IN:   # optimizer="SGD" means nnxp's sgd: never a user's
        raise ConfigError(f"{name!r} is nnxp's own optimizer; register yours under another name")
    if not callable(factory):
        raise ConfigError(f"register_optimizer needs a factory (a function of the optimizer's "
                          f"arguments returning a Transform), got {show(factory)}")
    taken = getattr(OPTIMIZERS.get(name), "__wrapped__", None)
    if taken is not None and not replace and _where(taken) != _where(factory):
        raise ConfigError(f"the optimizer name {name!r} is taken by {_where(taken)}: "
                          f"checkpoints saved under it would load with that factory; register "
                          f"{_where(factory)} under another name, or pass replace=True to "
                          f"replace it")
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):   # a builtin or a class without a Python signature
        raise ConfigError(f"register_optimizer needs a factory whose arguments can be read "
                          f"(a Python function), got {show(factory)}") from None

    loose = [("*" if p.kind == p.VAR_POSITIONAL else "**") + p.name
             for p in signature.parameters.values()
             if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if loose:   # a checkpoint saves the arguments by name and calls factory(**them) back
        raise ConfigError(f"register_optimizer needs a factory whose arguments are named (a "
                          f"checkpoint saves them by name and builds the optimizer back from "
                          f"them), got {show(factory)} taking {loose[0]}: list its arguments, "
                          f"e.g. def {name}(b1=0.9, eps=1e-8)")

    @functools.wraps(factory)
    def registered(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ConfigError(f"optimizer {name!r}: {exc}") from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        try:
            json.dumps(arguments, allow_nan=False)
        except (TypeError, ValueError):
            raise ConfigError(f"optimizer {name!r}: arguments must be JSON numbers, text, flags "
                              f"or lists (a checkpoint saves them), got "
                              f"{show(arguments)}") from None
        made = factory(**arguments)
        config = {"name": name, **arguments}
        key = ("registered", name, factory, _frozen(arguments))
        if isinstance(made, Optimizer):
            return made._replace(config=config, key=key + (made.key,))
        if isinstance(made, Transform):
            return Optimizer(config, lambda: made, {}, False, key)
        raise ConfigError(f"optimizer {name!r}: its factory must return an nnxp Transform "
                          f"(init, update), got {show(made)}")

    OPTIMIZERS[name] = registered
    return registered


for _f in (sgd, momentum, nesterov, adam, rmsprop):
    OPTIMIZERS[_f.__name__] = _f


def _where(factory) -> str:
    """A factory's module and qualified name: what tells two registered factories apart."""
    return (f"{getattr(factory, '__module__', None)}."
            f"{getattr(factory, '__qualname__', type(factory).__name__)}")


def _from_config(d) -> Optimizer:
    """The optimizer a saved config names, with exactly its factory's arguments."""
    name = d.get("name")
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {show(name)}; known: "
                          f"{', '.join(OPTIMIZERS)} (a user's optimizer must be registered, "
                          "nnxp.register_optimizer, before loading)")
    factory = OPTIMIZERS[name]
    arguments = {k: v for k, v in d.items() if k != "name"}
    expected = set(inspect.signature(factory).parameters)
    if set(arguments) != expected:
        wanted = ", ".join(sorted(expected)) or "no arguments"
        raise ConfigError(f"optimizer {name!r} takes exactly {wanted}; got "
                          f"{', '.join(sorted(map(str, arguments))) or 'none'}")
    try:
        return factory(**arguments)
    except NNXPError:
        raise
    except Exception as exc:  # a user's factory meeting arguments it cannot take
        raise ConfigError(f"optimizer {name!r} cannot be built from {show(arguments)}: "
                          f"{type(exc).__name__}") from None


def as_optimizer(transform) -> Optimizer:
    """A Transform given as ``optimizer=``: unregistered (trains, cannot be saved), the
    learning rate applied after it."""
    return Optimizer(None, lambda: transform, {}, False, ("transform", step_key(transform)))


def optimizer_from(optimizer=None, momentum_=None, nesterov_=False) -> Optimizer:
    """The optimizer SGD was asked for: ``optimizer`` (an Optimizer, a Transform, a name, or a
    saved config dict) and network2-style shorthands ``momentum=mu`` / ``nesterov=True``.
    Conflicting choices are refused, never silently dropped."""
    mu_given = momentum_ is not None and momentum_ != 0
    # a momentum given as 0 is the mu asked for (nesterov=True, optimizer='momentum'): 0.9 is
    # the default only when none is given
    mu = 0.9 if momentum_ is None else momentum_
    if isinstance(optimizer, dict):
        return _from_config(optimizer)
    if optimizer is None:
        if nesterov_:
            return nesterov(mu)
        return momentum(momentum_) if mu_given else sgd()
    if isinstance(optimizer, (Optimizer, Transform)):
        if mu_given or nesterov_:
            raise ConfigError(f"optimizer={optimizer!r} already says how to use momentum; "
                              "leave momentum= and nesterov= out (or give only those)")
        return optimizer if isinstance(optimizer, Optimizer) else as_optimizer(optimizer)
    if isinstance(optimizer, str) and optimizer.lower() in _BUILT_IN:
        name = optimizer.lower()
        if name in ("sgd", "adam", "rmsprop"):
            if mu_given or nesterov_:
                raise ConfigError(f"optimizer='{name}' has no momentum; use optimizer="
                                  "nnxp.momentum(mu) (or 'momentum' with momentum=mu)")
            return OPTIMIZERS[name]()
        if nesterov_ and name == "momentum":
            name = "nesterov"
        return OPTIMIZERS[name](mu)
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        raise ConfigError(f"optimizer {optimizer!r} is registered: pass the Optimizer its "
                          f"factory returns (optimizer=factory(...)), or its config "
                          f"{{'name': {optimizer!r}, ...}} with every argument")
    factory = [k for k, f in OPTIMIZERS.items() if f is optimizer]
    if factory:   # nnxp.adam, or a registered factory, not called
        raise ConfigError(f"optimizer= got the factory of {factory[0]!r}, not an optimizer: "
                          f"call it (e.g. optimizer=nnxp.adam(), not nnxp.adam)")
    raise ConfigError(f"unknown optimizer {show(optimizer)}; use nnxp.sgd(), "
                      f"nnxp.momentum(mu), nnxp.nesterov(mu), nnxp.adam(), nnxp.rmsprop(), a "
                      f"registered optimizer or one of {', '.join(_BUILT_IN)}")


def training_chain(optimizer, eta, decay=0.0, l1=None) -> Transform:
    """The whole update of SGD: decay (lmbda/n), L1 (l1/n; None leaves it out of the
    computation), the optimizer and -eta in its order (see the module docstring), every
    hyper-parameter in the state's dict.  ``config`` is the optimizer's."""
    opt = optimizer if isinstance(optimizer, Optimizer) else optimizer_from(optimizer)
    rates = {"eta": eta, "decay": decay, **({"l1": l1} if l1 is not None else {})}
    clash = set(rates) & set(opt.hyper)
    if clash:
        raise ConfigError(f"optimizer {opt!r} names hyper-parameters {sorted(clash)} that "
                          "SGD's own use (eta, decay, l1)")

    def build(eta, decay, l1=None, **own):
        head = [add_decayed_weights(decay)] + ([add_l1(l1)] if l1 is not None else [])
        inner = opt.build(**own)
        lr = scale_by_eta(eta)
        return chain(*head, lr, inner) if opt.eta_first else chain(*head, inner, lr)

    return inject(build, {**rates, **opt.hyper},
                  ("training_chain", opt.key, opt.eta_first), opt.config)


def identify(transform):
    """(registered optimizer name, hyper-parameter names) of a ``training_chain`` of one of
    nnxp's own optimizers, else None: what a backend's fast path may recognise (it then reads
    the hyper-parameters by name, ``hyper_of``)."""
    key = transform.key
    if (not isinstance(key, tuple) or len(key) != 3 or key[0] != "inject"
            or not isinstance(key[2], tuple) or not key[2] or key[2][0] != "training_chain"):
        return None
    config = transform.config
    if not isinstance(config, dict) or config.get("name") not in _BUILT_IN:
        return None
    if key[2][1] != (config["name"],):
        return None
    return config["name"], key[1]


# identify(training_chain(sgd(), eta, decay)) without L1: network2's rule, what fast paths cover
NETWORK2_RULE = ("sgd", ("decay", "eta"))


def hyper_of(state) -> dict:
    """The dict of hyper-parameter arrays of a training_chain's (or any inject's) state."""
    if not isinstance(state, HyperState):
        raise ConfigError(f"not the state of an injected transform: {show(state)}")
    return dict(state.hyper)


def set_hyper(state, **values):
    """``state`` with entries of its hyper-parameter dict replaced (names it does not hold
    are ignored: ``l1`` when no member uses L1, ``mu`` for sgd)."""
    if not isinstance(state, HyperState):
        raise ConfigError(f"not the state of an injected transform: {show(state)}")
    hyper = {k: (values[k] if k in values else v) for k, v in state.hyper.items()}
    return state._replace(hyper=hyper)


def tree_leaves(tree) -> list:
    """The arrays of a state or params tree (tuples, NamedTuples and dicts by sorted key, as
    JAX orders them), in order."""
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in tree_leaves(tree[k])]
    if isinstance(tree, tuple):
        return [leaf for t in tree for leaf in tree_leaves(t)]
    return [tree]


def tree_unflatten(like, leaves):
    """A tree shaped like ``like`` with its leaves taken in order from ``leaves``."""
    it = iter(leaves)

    def build(t):
        if isinstance(t, dict):
            return {k: build(t[k]) for k in sorted(t)}
        if isinstance(t, tuple) and hasattr(t, "_fields"):
            return type(t)(*(build(x) for x in t))
        if isinstance(t, tuple):
            return tuple(build(x) for x in t)
        return next(it)

    return build(like)
