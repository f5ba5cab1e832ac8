"""``ConvPool(n_filters, filter_size, pool=(2, 2), activation=Sigmoid, ties="first")``:
network3's ConvPoolLayer, a convolution, max-pooling, then the bias and the activation.

    params   (w, b): w (n_filters, channels, kh, kw), b (n_filters,); a leading K for K members
    x        (m, C, H, W) or (K, m, C, H, W)
             ->  y (..., m, n_filters, (H - kh + 1) // ph, (W - kw + 1) // pw)
    forward  z = max_pool2d(conv2d(x, w)) + b,  y = activation(z)
    backward_z
             dC/db = delta summed over examples and positions; the pooling's backward routes
             delta to each window's first maximum (``ties="all"``: to every maximum, Theano's
             rule and so network3's numbers, see pool.py); the convolution's backward gives
             dC/dw, dC/dx

The activation is elementwise (Softmax is refused, as for Conv2D: conv.map_activation).
The bias comes after the pooling, as in network3 (one bias per feature map, so the maximum is
the same either way; adding it to the smaller map is cheaper).  conv2d is a cross-correlation
(see conv.py).

Initializers: ``weight_init(rng, (n_filters, C, kh, kw))``, default network3's: N(0, 1/n) with
n = n_filters kh kw / (ph pw) (``pooled_fan_out_weight``), and ``bias_init(rng, (n_filters,))``,
default N(0, 1); weights drawn first.
"""

import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Optional

from ..activations import Activation, Sigmoid
from ..initializers import normal_bias
from ..namespace import namespace
from .base import Layer, host_param, positive_int, positive_pair, register
from .conv import add_bias, bias_grad, conv_output_shape, map_activation
from .pool import check_ties, pool_backward, pooled_shape
from .primitives import lookup

__all__ = ["ConvPool", "ConvPoolCache"]


class ConvPoolCache(NamedTuple):
    x: Any
    conv: Any   # conv2d(x, w), before pooling
    z: Any
    a: Any


@register
@dataclass(frozen=True)
class ConvPool(Layer):
    n_filters: int
    filter_size: Any
    pool: Any = (2, 2)
    activation: Activation = Sigmoid()
    weight_init: Optional[Callable] = None
    bias_init: Callable = normal_bias
    ties: str = "first"

    def __post_init__(self):
        self._set(n_filters=positive_int(self.n_filters, "ConvPool's n_filters"))
        self._set(filter_size=positive_pair(self.filter_size, "ConvPool's filter_size"))
        self._set(pool=positive_pair(self.pool, "ConvPool's pool"))
        self._set(activation=map_activation(self, self.activation))
        check_ties(self, self.ties)
        self._check_initializers()

    def output_shape(self, input_shape):
        conv_out = conv_output_shape(self, input_shape, self.n_filters, self.filter_size)[1]
        return pooled_shape(self, conv_out, self.pool)

    def pooled_fan_out_weight(self, rng, shape):
        """network3's N(0, 1/n), n = n_filters kh kw / (ph pw)."""
        n = shape[0] * shape[2] * shape[3] / (self.pool[0] * self.pool[1])
        return rng.normal(0.0, math.sqrt(1.0 / n), size=shape)

    def init(self, rng, input_shape):
        out = self.output_shape(input_shape)
        shape = (self.n_filters, int(input_shape[0])) + self.filter_size
        w = host_param(rng, self.weight_init or self.pooled_fan_out_weight, shape, "weight")
        b = host_param(rng, self.bias_init, (self.n_filters,), "bias")
        return (w, b), out

    def param_shapes(self, input_shape):
        self.output_shape(input_shape)
        return ((self.n_filters, int(input_shape[0])) + self.filter_size, (self.n_filters,))

    def forward(self, params, x, *, mask=None):
        self._no_mask(mask)
        xp, (w, b), ops = namespace(x), params, lookup(namespace(x))
        conv = ops["conv2d"](x, w)
        z = add_bias(xp, ops["max_pool2d"](conv, self.pool), b)
        a = self.activation.fn(z)
        return a, ConvPoolCache(x, conv, z, a)

    def backward_z(self, params, cache, delta_z, *, need_input_grad=True):
        xp = namespace(delta_z)
        d_conv = pool_backward(xp, cache.conv, self.pool, self.ties, delta_z)
        dw, dx = lookup(xp)["conv2d_backward"](cache.x, params[0], d_conv, need_input_grad)
        return (dw, bias_grad(xp, delta_z)), dx
