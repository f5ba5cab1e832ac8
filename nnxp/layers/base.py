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
    layer.param_shapes(input_shape) -> shapes          the shapes ``init`` gives its params,
                                                        computed without drawing anything

Layers ending in an activation (Dense, Softmax, Conv2D, ConvPool) also have

    layer.activation                                    an nnxp Activation
    layer.backward_z(params, cache, delta_z, *, need_input_grad=True) -> (grads, delta_in)
        from the book's error delta = dC/dz of the weighted input (a cost's ``delta``: BP1);
        ``backward`` is ``backward_z`` after ``activation.backward``
    cache.z, cache.a                                    the weighted input and the output

Files: every layer class registers itself under its class name (``@register``, in its own
file) in ``LAYERS``; ``layer_config(layer)`` is its JSON-safe configuration ({"type": name,
field: value, ...}: activations by ``to_dict``, pairs as lists; the initializers, named in
``Layer.initializers``, are functions and are not saved) and ``layer_from_config(d)`` builds it
back by looking the name up in ``LAYERS`` (never getattr on a module), with exactly the saved
fields, each checked by the layer's constructor (a ConfigError otherwise).

Rank polymorphism is broadcasting: every formula reads the example axis and the unit axes from
the end, so a leading member axis K passes through untouched.  Layers import no array library:
arrays come in, ``namespace(x)`` gives their library; host arrays for the initial parameters
are made in the namespace of the generator's own arrays (``host_namespace``).
"""

import dataclasses
import math
import numbers

from ..activations import from_name
from ..checks import callables, show
from ..errors import ConfigError, InputTypeError
from ..namespace import namespace

__all__ = ["Layer", "LAYERS", "register", "layer_config", "layer_from_config", "describe",
           "host_namespace", "host_param", "zeros", "sum_to_shape", "check_shape",
           "positive_int", "positive_pair", "dropout_probability"]


class Layer:
    """Base class: ``apply`` is ``forward`` without its cache; no dropout, no parameters."""

    p_dropout = 0.0
    initializers = ("weight_init", "bias_init")   # fields that are functions: never saved

    def apply(self, params, x):
        return self.forward(params, x)[0]

    def init(self, rng, input_shape):
        return (), self.output_shape(input_shape)

    def param_shapes(self, input_shape):
        """The shapes of ``init``'s params, drawing nothing: () for a layer without any."""
        if type(self).init is not Layer.init:
            raise ConfigError(f"{type(self).__name__} has parameters but no param_shapes: a "
                              "layer with parameters states their shapes (layers/base.py)")
        self.output_shape(input_shape)
        return ()

    def backward(self, params, cache, delta, *, need_input_grad=True):
        """dC/dz from dC/dy through the activation, then ``backward_z``."""
        delta_z = self.activation.backward(cache.z, cache.a, delta)
        return self.backward_z(params, cache, delta_z, need_input_grad=need_input_grad)

    def _set(self, **fields):
        """Store checked constructor arguments on the frozen dataclass."""
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def _check_initializers(self):
        """Every initializer field a function (None only where None is the default) taking
        (rng, shape), so a misplaced value or a function of another signature is refused when
        the layer is made, not when the network is built."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in self.initializers and not callable(value) and not (
                    value is None and f.default is None):
                raise InputTypeError(f"{type(self).__name__}'s {f.name} must be a function "
                                     f"(rng, shape) -> array, got {show(value)}")
            if f.name in self.initializers and value is not None:
                callables(f"{type(self).__name__}'s {f.name}", value, f"{f.name}(rng, shape)")

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
    drawn = init(rng, shape)
    try:
        if _complex(xp, drawn):   # float64 would drop the imaginary parts, with a warning
            raise TypeError
        value = xp.asarray(drawn, dtype=xp.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"the {what} initializer must return an array of real numbers of "
                          f"shape {tuple(shape)}, got {show(drawn)}") from None
    if tuple(value.shape) != tuple(shape):
        raise ConfigError(f"the {what} initializer must return shape {tuple(shape)}, got "
                          f"{tuple(value.shape)}")
    if not bool(xp.all(xp.isfinite(value))):
        raise ConfigError(f"the {what} initializer returned NaN or infinite values")
    return value


def _complex(xp, drawn) -> bool:
    try:
        return bool(xp.isdtype(xp.asarray(drawn).dtype, "complex floating"))
    except (TypeError, ValueError):
        return False


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
    """A number in [0, 1): a string ("0.5") or a bool is refused, not converted."""
    try:
        p = math.nan if isinstance(value, (str, bytes, bool)) else float(value)
    except (TypeError, ValueError):
        p = math.nan
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"p_dropout must be a number in [0, 1), got {show(value)}")
    return p



LAYERS: dict = {}   # a layer's name in files -> its class (filled by ``register``)


def register(cls):
    """Class decorator: files name ``cls`` by its class name (see the module docstring)."""
    LAYERS[cls.__name__] = cls
    return cls


def _saved_fields(cls) -> list:
    return [f.name for f in dataclasses.fields(cls) if f.name not in cls.initializers]


def layer_config(layer) -> dict:
    """The JSON-safe configuration of a registered layer (see the module docstring)."""
    name = type(layer).__name__
    if LAYERS.get(name) is not type(layer):
        raise ConfigError(f"layer {name} is not registered for files (decorate its class with "
                          "nnxp.layers.base.register)")
    config = {"type": name}
    for field in _saved_fields(type(layer)):
        value = getattr(layer, field)
        config[field] = (value.to_dict() if hasattr(value, "to_dict") else
                         list(value) if isinstance(value, tuple) else value)
    return config


def describe(layer) -> str:
    """A short repr of a layer: its saved fields (no initializer functions)."""
    fields = [f"{k}={getattr(layer, k)!r}" for k in _saved_fields(type(layer))]
    return f"{type(layer).__name__}({', '.join(fields)})"


def layer_from_config(d):
    """The layer a saved configuration describes, or a ConfigError saying what is wrong."""
    if not isinstance(d, dict):
        raise ConfigError(f"a layer must be an object with its type and fields, got {show(d)}")
    name = d.get("type")
    cls = LAYERS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ConfigError(f"unknown layer type {show(name)}; known: {', '.join(sorted(LAYERS))}")
    fields = {k: v for k, v in d.items() if k != "type"}
    expected = _saved_fields(cls)
    if sorted(fields) != sorted(expected):
        raise ConfigError(f"layer {name} has the fields {', '.join(expected)}; got "
                          f"{show(sorted(map(str, fields)))}")
    values = {}
    for field, value in fields.items():
        if isinstance(value, dict):
            try:
                value = from_name(value)
            except ConfigError as exc:
                raise ConfigError(f"layer {name}'s field {field}: {exc}") from None
        elif isinstance(value, list):
            value = tuple(value)
        elif not isinstance(value, (str, int, float)) or (
                isinstance(value, float) and not math.isfinite(value)):
            raise ConfigError(f"layer {name}'s field {field} must be a number, text, a list or "
                              f"an activation, got {show(value)}")
        values[field] = value
    try:
        return cls(**values)
    except ConfigError as exc:   # the constructor's own check says what is wrong
        raise ConfigError(f"layer {name}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"layer {name} cannot be built from {show(fields)}: "
                          f"{type(exc).__name__}") from None
