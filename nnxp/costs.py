"""Cost functions, as in network2.py: a small class with two static methods.

    fn(a, y)                       -> (m,)     the cost of each example (row) of a mini-batch
    fn_z(z, a, y, activation)      -> (m,)     the same from the output layer's z where the
                                               pairing has an exact form (below), else fn(a, y)
    delta(z, a, y, activation)     -> (m, k)   the output error dC/dz^L (the book's delta^L)

a, y and z have shape (m, k): m examples, k output units; y holds the desired outputs (one-hot
for classification).  Every cost has the same signature even when it ignores an argument
(cross-entropy's delta never looks at z or the activation: that is the point of pairing it with
sigmoid output units, chapter 3).  ``activation`` is the output layer's Activation; it defaults to
Sigmoid, network2's only neuron, so ``delta(z, a, y)`` is network2's call.

Pairings: QuadraticCost works with any output activation (its delta multiplies by the
activation's derivative, which is why a saturated sigmoid output learns slowly under it);
CrossEntropyCost needs sigmoid outputs in (0, 1); LogLikelihoodCost needs a softmax output layer.
``Network`` checks the pairing and says so when it does not hold.

Stability without ``nan_to_num``: a sigmoid or softmax output can round to exactly 0 or 1 in
floating point, where log(a) or log(1 - a) is -inf and 0 * -inf is NaN.  The logarithms are taken
of a clipped into the representable open interval (0, 1), so every cost is finite.  That
clipping caps a saturated unit's cost (a target-1 sigmoid unit at z = -800 costs 708, not 800;
in float32 it costs 104 from z = -20 down), so the reported costs (accuracy, total_cost,
monitoring: backprop.scores) use ``fn_z``: with sigmoid outputs, cross-entropy is
sum_j softplus(z_j) - y_j z_j; with softmax outputs, log-likelihood is
sum(y) logsumexp(z) - sum_j y_j z_j; both exact for any z, equal to ``fn`` to rounding where
the outputs are not saturated.
"""

from .activations import Sigmoid, Softmax
from .checks import show
from .errors import ConfigError
from .namespace import namespace

__all__ = ["QuadraticCost", "CrossEntropyCost", "LogLikelihoodCost", "cost_from_name"]

_SIGMOID = Sigmoid()


def _softplus(xp, z):
    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)."""
    return xp.where(z > 0, z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))


def _logsumexp(xp, z):
    """log(sum_j e^z_j) over the last axis, without overflow: m + log(sum_j e^(z_j - m))."""
    m = xp.max(z, axis=-1, keepdims=True)
    return m[..., 0] + xp.log(xp.sum(xp.exp(z - m), axis=-1))


def _log_clipped(xp, a):
    """log(a) and log(1 - a) with a clipped into (0, 1): finite for a = 0 or a = 1 exactly."""
    info = xp.finfo(a.dtype)
    log_a = xp.log(xp.clip(a, info.smallest_normal, 1.0))
    log_1ma = xp.log1p(-xp.clip(a, 0.0, 1.0 - info.eps / 2))
    return log_a, log_1ma


class QuadraticCost:
    """C = ||a - y||^2 / 2 per example; delta = (a - y) * sigma'(z) (any output activation)."""

    name = "QuadraticCost"
    default_output = None  # the hidden layers' activation
    outputs = None         # any

    @staticmethod
    def fn(a, y):
        d = a - y
        return 0.5 * namespace(d).sum(d * d, axis=-1)

    @staticmethod
    def delta(z, a, y, activation=_SIGMOID):
        return activation.backward(z, a, a - y)

    @classmethod
    def fn_z(cls, z, a, y, activation=_SIGMOID):
        del z, activation  # the outputs themselves are what it measures
        return cls.fn(a, y)


class CrossEntropyCost:
    """C = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)] per example; delta = a - y.

    ``z`` and ``activation`` are unused: with sigmoid outputs the sigma'(z) factor cancels,
    so learning does not slow down when an output saturates (chapter 3).
    """

    name = "CrossEntropyCost"
    default_output = Sigmoid
    outputs = (Sigmoid,)

    @staticmethod
    def fn(a, y):
        xp = namespace(a)
        log_a, log_1ma = _log_clipped(xp, a)
        return -xp.sum(y * log_a + (1.0 - y) * log_1ma, axis=-1)

    @classmethod
    def fn_z(cls, z, a, y, activation=_SIGMOID):
        if type(activation) is not Sigmoid:
            return cls.fn(a, y)
        xp = namespace(z)
        return xp.sum(_softplus(xp, z) - y * z, axis=-1)

    @staticmethod
    def delta(z, a, y, activation=_SIGMOID):
        del z, activation  # unused: see the class docstring
        return a - y


class LogLikelihoodCost:
    """C = -ln a_y (y one-hot) with a softmax output layer; delta = a - y.

    ``z`` and ``activation`` are unused: softmax and log-likelihood together give a - y,
    the same simple error as sigmoid with cross-entropy (chapter 3).
    """

    name = "LogLikelihoodCost"
    default_output = Softmax
    outputs = (Softmax,)

    @staticmethod
    def fn(a, y):
        xp = namespace(a)
        log_a, _ = _log_clipped(xp, a)
        return -xp.sum(y * log_a, axis=-1)

    @classmethod
    def fn_z(cls, z, a, y, activation=_SIGMOID):
        if type(activation) is not Softmax:
            return cls.fn(a, y)
        xp = namespace(z)
        return xp.sum(y, axis=-1) * _logsumexp(xp, z) - xp.sum(y * z, axis=-1)

    @staticmethod
    def delta(z, a, y, activation=_SIGMOID):
        del z, activation  # unused: see the class docstring
        return a - y


_TABLE = {c.name: c for c in (QuadraticCost, CrossEntropyCost, LogLikelihoodCost)}
_ALIASES = {"quadratic": QuadraticCost, "mse": QuadraticCost, "cross_entropy": CrossEntropyCost,
            "crossentropy": CrossEntropyCost, "log_likelihood": LogLikelihoodCost,
            "loglikelihood": LogLikelihoodCost, "nll": LogLikelihoodCost}


def cost_from_name(name):
    """A cost class from a class, an instance (network2 scripts write ``CrossEntropyCost()``),
    its name ("CrossEntropyCost") or a short name ("quadratic")."""
    if isinstance(name, type) and name in _TABLE.values():
        return name
    if type(name) in _TABLE.values():
        return type(name)
    if isinstance(name, str):
        key = name.strip()
        found = _TABLE.get(key) or _ALIASES.get(key.lower().replace("-", "_"))
        if found is not None:
            return found
    raise ConfigError(f"unknown cost {show(name)}; known: {', '.join(_TABLE)} "
                      f"(or {', '.join(sorted(_ALIASES))})")
