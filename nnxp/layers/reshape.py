"""``Flatten(ndim=3)`` and ``Reshape(shape, ndim=1)``: per-example reshapes between
convolutional and dense layers (network3 reshapes every layer's input).

    Flatten(ndim=3)        x (..., m, *s) with len(s) = ndim  ->  (..., m, prod(s))
    Reshape(shape, ndim=1) x (..., m, *s) with len(s) = ndim  ->  (..., m, *shape)
                           (e.g. Reshape((1, 28, 28)) for MNIST rows before a conv layer)
    params ()              backward reshapes delta back to x's example shape

``ndim`` says how many trailing axes each example has on input: the layer cannot tell a member
axis from an example axis by looking at x, and holds no state (``init`` checks it against the
input shape).
"""

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..namespace import namespace
from ..checks import show
from .base import Layer, check_shape, positive_int, register

__all__ = ["Flatten", "Reshape"]


@register
@dataclass(frozen=True)
class Reshape(Layer):
    shape: Any
    ndim: int = 1

    def __post_init__(self):
        try:
            if not isinstance(self.shape, (tuple, list)):  # a set or dict has no order
                raise TypeError
            shape = tuple(positive_int(n, "a size") for n in self.shape)
        except (TypeError, ConfigError):
            shape = ()
        if not shape:
            raise ConfigError(f"Reshape's shape must be a tuple of positive ints, got "
                              f"{show(self.shape)}")
        self._set(shape=shape)
        self._set(ndim=positive_int(self.ndim, "Reshape's ndim"))

    def output_shape(self, input_shape):
        shape = check_shape(self, input_shape, self.ndim, f"of {self.ndim} axes")
        if math.prod(shape) != math.prod(self.shape):
            raise ConfigError(f"cannot reshape examples of shape {shape} to {self.shape}")
        return self.shape

    def forward(self, params, x, *, mask=None):
        self._no_mask(mask)
        lead = tuple(x.shape[:x.ndim - self.ndim])
        return namespace(x).reshape(x, lead + self.shape), x

    def backward(self, params, cache, delta, *, need_input_grad=True):
        if not need_input_grad:
            return (), None
        return (), _back(delta, len(self.shape), cache, self.ndim)


@register
@dataclass(frozen=True)
class Flatten(Layer):
    ndim: int = 3

    def __post_init__(self):
        self._set(ndim=positive_int(self.ndim, "Flatten's ndim"))

    def output_shape(self, input_shape):
        return (math.prod(check_shape(self, input_shape, self.ndim, f"of {self.ndim} axes")),)

    def forward(self, params, x, *, mask=None):
        self._no_mask(mask)
        lead = tuple(x.shape[:x.ndim - self.ndim])
        return namespace(x).reshape(x, lead + (math.prod(x.shape[len(lead):]),)), x

    def backward(self, params, cache, delta, *, need_input_grad=True):
        if not need_input_grad:
            return (), None
        return (), _back(delta, 1, cache, self.ndim)


def _back(delta, out_ndim, x, in_ndim):
    """delta (..., m, *out) reshaped to (..., m, *in): the example's axes of the input ``x``
    (the cache: an array, not a shape, so a cache is a pytree of arrays for jax.jit)."""
    lead = tuple(delta.shape[:delta.ndim - out_ndim])
    return namespace(delta).reshape(delta, lead + tuple(x.shape[x.ndim - in_ndim:]))
