"""The layer protocol, and what every layer shares.

A layer is a small immutable object (a frozen dataclass) holding its configuration only:

    layer.output_shape(input_shape) -> output_shape     per example, e.g. (784,) -> (30,)
    layer.init(rng, input_shape) -> (params, output_shape)
        rng: numpy.random.Generator (host); params: tuple of host float64 arrays (() for a
        layer without parameters), drawn by the initializers given to the constructor
    layer.forward(params, x, *, mask=None) -> (y, cache)
        x (m, *input_shape) for one network, or (K, m, *input_shape) for K members (the
        params then carry a leading K axis; a first layer may get an x without it, shared by
        the members); mask: a 0/1 dropout mask shaped like x, or None; the cache holds
        arrays only (or None), so it can leave one jax.jit program and enter another
    layer.backward(params, cache, delta, *, need_input_grad=True) -> (grads, delta_in)
        delta = dC/dy shaped like y; grads shaped like params, summed over the m examples;
        delta_in = dC/dx shaped like x (summed over the members when x is shared), or None
        when need_input_grad is False
    layer.apply(params, x) -> y                        the evaluation path (no cache)

Layers ending in an activation (Dense, Softmax, Conv2D, ConvPool) also have

    layer.activation                                    an nnxp Activation
    layer.backward_z(params, cache, delta_z, *, need_input_grad=True) -> (grads, delta_in)
        from the book's error delta = dC/dz of the weighted input (a cost's ``delta``: BP1);
        ``backward`` is ``backward_z`` after ``activation.backward``
    cache.z, cache.a                                    the weighted input and the output

Rank polymorphism is broadcasting: every formula reads the example axis and the unit axes from
the end, so a leading member axis K passes through untouched.  Layers import no array library:
arrays come in, ``namespace(x)`` gives their library; host arrays for the initial parameters
are made in the namespace of the generator's own arrays (``host_namespace``).
"""

import math
import numbers

from ..checks import show
from ..errors import ConfigError
from ..namespace import namespace

__all__ = ["Layer", "host_namespace", "host_param", "zeros", "sum_to_shape", "check_shape",
           "positive_int", "positive_pair", "dropout_probability"]


class Layer:
    """Base class: ``apply`` is ``forward`` without its cache; no dropout, no parameters."""

    p_dropout = 0.0

    def apply(self, params, x):
        return self.forward(params, x)[0]

    def init(self, rng, input_shape):
        return (), self.output_shape(input_shape)

    def backward(self, params, cache, delta, *, need_input_grad=True):
        """dC/dz from dC/dy through the activation, then ``backward_z``."""
        delta_z = self.activation.backward(cache.z, cache.a, delta)
        return self.backward_z(params, cache, delta_z, need_input_grad=need_input_grad)

    def _set(self, **fields):
        """Store checked constructor arguments on the frozen dataclass."""
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def _no_mask(self, mask):
        if mask is not None:
            raise ConfigError(f"{type(self).__name__} takes no dropout mask (network3 drops "
                              "out only the inputs of dense and softmax layers)")


def host_namespace(rng):
    """The array namespace of the generator's own (host, NumPy) arrays; an empty draw
    consumes nothing from ``rng``."""
    return namespace(rng.random(0))


def host_param(rng, init, shape, what):
    """``init(rng, shape)`` as a finite float64 host array of ``shape``, or a ConfigError."""
    xp = host_namespace(rng)
    value = xp.asarray(init(rng, shape), dtype=xp.float64)
    if tuple(value.shape) != tuple(shape):
        raise ConfigError(f"the {what} initializer must return shape {tuple(shape)}, got "
                          f"{tuple(value.shape)}")
    if not bool(xp.all(xp.isfinite(value))):
        raise ConfigError(f"the {what} initializer returned NaN or infinite values")
    return value


def zeros(rng, shape):
    """All zeros (network3's softmax weights and biases); draws nothing from ``rng``."""
    return host_namespace(rng).zeros(shape)


def sum_to_shape(xp, g, shape):
    """``g`` summed over its extra leading axes down to ``shape`` (a shared input's gradient
    is the sum of the members')."""
    extra = g.ndim - len(shape)
    return xp.sum(g, axis=tuple(range(extra))) if extra > 0 else g


def check_shape(layer, input_shape, ndim, what):
    """``input_shape`` as a tuple of ``ndim`` positive ints, or a ConfigError naming the layer."""
    try:
        shape = tuple(_count(n) for n in input_shape)
    except TypeError:
        shape = None
    if shape is None or len(shape) != ndim or None in shape:
        raise ConfigError(f"{type(layer).__name__} takes examples of shape {what}, got input "
                          f"shape {show(input_shape)}")
    return shape


def _count(n):
    """``n`` as a positive Python int (NumPy's integers too), else None."""
    if isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1:
        return int(n)
    return None


def positive_pair(value, what):
    """(a, b) from a positive int a (a square) or a pair of positive ints, or a ConfigError."""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value) if isinstance(
        value, (tuple, list)) else ()
    pair = tuple(_count(n) for n in pair)
    if len(pair) != 2 or None in pair:
        raise ConfigError(f"{what} must be a positive int or a pair of them, got {show(value)}")
    return pair


def positive_int(value, what):
    if _count(value) is None:
        raise ConfigError(f"{what} must be a positive int, got {show(value)}")
    return int(value)


def dropout_probability(value):
    try:
        p = float(value)
    except (TypeError, ValueError):
        p = math.nan
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"p_dropout must be a number in [0, 1), got {show(value)}")
    return p

