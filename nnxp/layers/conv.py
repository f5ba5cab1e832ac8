"""``Conv2D(n_filters, filter_size, activation=Identity)``: a 2-D convolutional layer, "valid",
stride 1, several input and output feature maps.

    params   (w, b): w (n_filters, channels, kh, kw), b (n_filters,); a population's have a
             leading K
    x        (m, C, H, W) or (K, m, C, H, W)  ->  y (..., m, n_filters, H - kh + 1, W - kw + 1)
    forward  z = conv2d(x, w) + b (one bias per feature map),  y = activation(z)
    backward_z
             dC/dw, dC/dx from primitives.conv2d_backward; dC/db = delta summed over the
             examples and the positions

The activation is elementwise (any but Softmax, which is refused: over a map's last axis it
would normalise each row of pixels, ``map_activation``).  ``conv2d`` is a cross-correlation,
as in PyTorch and JAX (Theano's conv2d, network3's, flips the filters: nnxp.compat.network3
flips them when it reads or writes the book's weights).  The primitives come from
``primitives.lookup``: a backend's fast version where it has one.

Initializers: ``weight_init(rng, (n_filters, C, kh, kw))`` (default: ``fan_in_weight``,
N(0, 1/(C kh kw)), nnxp's 1/sqrt(n_in) rule for a filter) and ``bias_init(rng, (n_filters,))``
(default N(0, 1)), weights drawn first.
"""

import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from ..activations import Activation, Identity, Softmax as SoftmaxActivation, as_activation
from ..errors import ConfigError
from ..initializers import normal_bias
from ..namespace import namespace
from .base import Layer, check_shape, positive_int, positive_pair, host_param, register
from .primitives import lookup

__all__ = ["Conv2D", "ConvCache", "fan_in_weight", "conv_output_shape", "map_activation",
           "add_bias", "bias_grad"]


class ConvCache(NamedTuple):
    x: Any
    z: Any
    a: Any


def fan_in_weight(rng, shape):
    """N(0, 1/fan_in) with fan_in = C kh kw, the inputs each filter sums over."""
    return rng.standard_normal(shape) / math.sqrt(math.prod(shape[1:]))


def conv_output_shape(layer, input_shape, n_filters, filter_size):
    c, h, w = check_shape(layer, input_shape, 3, "(channels, height, width)")
    kh, kw = filter_size
    if kh > h or kw > w:
        raise ConfigError(f"{type(layer).__name__}'s filters ({kh}, {kw}) are larger than its "
                          f"input images ({h}, {w})")
    return (c, h, w), (n_filters, h - kh + 1, w - kw + 1)


def map_activation(layer, activation):
    """``as_activation(activation)``, refusing the softmax: over a feature map's last axis it
    would normalise each row of pixels (network3's softmax takes a matrix: its conv layers
    cannot have one)."""
    activation = as_activation(activation)
    if isinstance(activation, SoftmaxActivation):
        raise ConfigError(f"{type(layer).__name__}'s activation cannot be Softmax: it would "
                          "normalise each row of each feature map (its last axis); the softmax "
                          "is for a dense layer's units (layers.Softmax(n), or "
                          "layers.Dense(n, 'Softmax'), after a Flatten())")
    return activation


def add_bias(xp, y, b):
    """y (..., m, F, H, W) + b (..., F), one bias per feature map."""
    lead = b.shape[:-1]
    return y + xp.reshape(b, lead + (1,) * len(lead) + (b.shape[-1], 1, 1))


def bias_grad(xp, delta):
    """dC/db: delta (..., m, F, H, W) summed over the examples and the positions."""
    return xp.sum(delta, axis=(-4, -2, -1))


@register
@dataclass(frozen=True)
class Conv2D(Layer):
    n_filters: int
    filter_size: Any
    activation: Activation = Identity()
    weight_init: Callable = fan_in_weight
    bias_init: Callable = normal_bias

    def __post_init__(self):
        self._set(n_filters=positive_int(self.n_filters, "Conv2D's n_filters"))
        self._set(filter_size=positive_pair(self.filter_size, "Conv2D's filter_size"))
        self._set(activation=map_activation(self, self.activation))
        self._check_initializers()

    def output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.n_filters, self.filter_size)[1]

    def init(self, rng, input_shape):
        (c, _, _), out = conv_output_shape(self, input_shape, self.n_filters, self.filter_size)
        w = host_param(rng, self.weight_init, (self.n_filters, c) + self.filter_size, "weight")
        b = host_param(rng, self.bias_init, (self.n_filters,), "bias")
        return (w, b), out

    def param_shapes(self, input_shape):
        (c, _, _), _ = conv_output_shape(self, input_shape, self.n_filters, self.filter_size)
        return ((self.n_filters, c) + self.filter_size, (self.n_filters,))

    def forward(self, params, x, *, mask=None):
        self._no_mask(mask)
        xp, (w, b) = namespace(x), params
        z = add_bias(xp, lookup(xp)["conv2d"](x, w), b)
        a = self.activation.fn(z)
        return a, ConvCache(x, z, a)

    def backward_z(self, params, cache, delta_z, *, need_input_grad=True):
        xp = namespace(delta_z)
        dw, dx = lookup(xp)["conv2d_backward"](cache.x, params[0], delta_z, need_input_grad)
        return (dw, bias_grad(xp, delta_z)), dx
