"""``Dense(n_out, activation, p_dropout=0.0)``: a fully connected layer (network2's layers,
network3's FullyConnectedLayer).

    params   (w, b): w (n_out, n_in) as network2 stores it, b (n_out,); a population's have a
             leading K: w (K, n_out, n_in), b (K, n_out)
    x        (m, n_in) or (K, m, n_in)  ->  y = activation(z), (m, n_out) or (K, m, n_out)

    training path  (forward with a mask):  z = (x * mask) w^T + b
    evaluation     (apply, or forward without a mask):
                   z = (1 - p_dropout) x w^T + b
    backward_z     dC/dw = delta^T x_in (BP4), dC/db = sum of delta over the examples (BP3),
                   dC/dx = (delta w) * mask, or (1 - p_dropout) delta w (BP2, before the
                   previous layer's activation)

The formulas and the order of every operation are nnxp/backprop.py's, so a stack of Dense
layers gives backprop's bits for the same parameters.  Dropout is network3's: the mask keeps
each input with probability 1 - p_dropout and is not rescaled; evaluation scales the weighted
input by 1 - p_dropout instead.  The mask comes from the caller (nnxp/masks.py draws it on
the host); p_dropout = 0 multiplies by nothing.

Initializers: ``weight_init(rng, (n_out, n_in))`` (default: nnxp.initializers.default_weight,
N(0, 1/n_in)) and ``bias_init(rng, (n_out,))`` (default: normal_bias, N(0, 1)), weights drawn
first.
"""

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from ..activations import Activation, Sigmoid, as_activation
from ..initializers import default_weight, normal_bias
from ..namespace import namespace
from .base import (Layer, check_shape, dropout_probability, host_param, positive_int,
                   register, sum_to_shape)

__all__ = ["Dense", "DenseCache", "Affine"]


class DenseCache(NamedTuple):
    """Arrays only (and None), so a cache can pass through jax.jit as a pytree."""
    x: Any      # the layer's input, before the mask
    z: Any      # weighted input
    a: Any      # output
    mask: Any   # the dropout mask, or None


class Affine(Layer):
    """What Dense and Softmax share: everything but their fields (see the module docstring)."""

    def __post_init__(self):
        self._set(n_out=positive_int(self.n_out, f"{type(self).__name__}'s n_out"))
        self._set(p_dropout=dropout_probability(self.p_dropout))
        self._check_initializers()

    def output_shape(self, input_shape):
        check_shape(self, input_shape, 1, "(n_in,) (put a Flatten() before it)")
        return (self.n_out,)

    def init(self, rng, input_shape):
        (n_in,) = check_shape(self, input_shape, 1, "(n_in,) (put a Flatten() before it)")
        w = host_param(rng, self.weight_init, (self.n_out, n_in), "weight")
        b = host_param(rng, self.bias_init, (self.n_out,), "bias")
        return (w, b), (self.n_out,)

    def param_shapes(self, input_shape):
        (n_in,) = check_shape(self, input_shape, 1, "(n_in,) (put a Flatten() before it)")
        return ((self.n_out, n_in), (self.n_out,))

    def _scale(self, mask):
        return 1.0 if mask is not None or self.p_dropout == 0.0 else 1.0 - self.p_dropout

    def _z(self, params, x, scale):
        xp, (w, b) = namespace(x), params
        z = x @ xp.matrix_transpose(w)
        if scale != 1.0:
            z = scale * z
        return z + xp.expand_dims(b, axis=-2)

    def forward(self, params, x, *, mask=None):
        z = self._z(params, x if mask is None else x * mask, self._scale(mask))
        a = self.activation.fn(z)
        return a, DenseCache(x, z, a, mask)

    def apply(self, params, x):
        return self.activation.fn(self._z(params, x, self._scale(None)))

    def weighted_input(self, params, x):
        """z of ``apply`` (inference: no mask, the dropout scale applied)."""
        return self._z(params, x, self._scale(None))

    def backward_z(self, params, cache, delta_z, *, need_input_grad=True):
        xp, (w, _), mask = namespace(delta_z), params, cache.mask
        scale = self._scale(mask)
        x = cache.x if mask is None else cache.x * mask
        dw = xp.matrix_transpose(delta_z) @ x
        if scale != 1.0:
            dw = scale * dw
        grads = (dw, xp.sum(delta_z, axis=-2))
        if not need_input_grad:
            return grads, None
        dx = delta_z @ w
        if scale != 1.0:
            dx = scale * dx
        if mask is not None:
            dx = dx * mask
        return grads, sum_to_shape(xp, dx, cache.x.shape)


@register
@dataclass(frozen=True)
class Dense(Affine):
    n_out: int
    activation: Activation = Sigmoid()
    p_dropout: float = 0.0
    weight_init: Callable = default_weight
    bias_init: Callable = normal_bias

    def __post_init__(self):
        super().__post_init__()
        self._set(activation=as_activation(self.activation))
