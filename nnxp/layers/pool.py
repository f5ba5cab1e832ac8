"""``MaxPool2D(pool=(2, 2), ties="first")``: max-pooling over non-overlapping windows
(ignore_border=True: rows and columns that fill no window are dropped, as network3's
``max_pool_2d`` does).

    params   ()
    x        (..., C, H, W)  ->  y (..., C, H // ph, W // pw)
    backward each window's gradient goes to its first maximum in row-major order (PyTorch's and
             XLA's choice), the rest of the window and the dropped border get 0; with
             ``ties="all"`` to every element equal to the maximum (Theano's, so network3's
             numbers where a window holds equal values, e.g. a blank patch)

The primitives come from ``primitives.lookup``: a backend's fast version where it has one.
"""

from dataclasses import dataclass
from typing import Any

from ..namespace import namespace
from ..errors import ConfigError
from ..checks import show
from .base import Layer, check_shape, positive_pair, register
from .primitives import lookup

__all__ = ["MaxPool2D", "pooled_shape", "check_ties", "pool_backward"]

TIES = {"first": "max_pool2d_backward", "all": "max_pool2d_backward_all"}


def check_ties(layer, ties):
    if not isinstance(ties, str) or ties not in TIES:
        raise ConfigError(f"{type(layer).__name__}'s ties must be 'first' or 'all', got "
                          f"{show(ties)}")


def pool_backward(xp, x, pool, ties, dy):
    """dC/dx of max_pool2d(x, pool) from dy, by the ``ties`` rule."""
    return lookup(xp)[TIES[ties]](x, pool, dy)


def pooled_shape(layer, input_shape, pool):
    c, h, w = check_shape(layer, input_shape, 3, "(channels, height, width)")
    if pool[0] > h or pool[1] > w:
        raise ConfigError(f"{type(layer).__name__}'s pool {pool} is larger than its input "
                          f"images ({h}, {w})")
    return (c, h // pool[0], w // pool[1])


@register
@dataclass(frozen=True)
class MaxPool2D(Layer):
    pool: Any = (2, 2)
    ties: str = "first"

    def __post_init__(self):
        self._set(pool=positive_pair(self.pool, "MaxPool2D's pool"))
        check_ties(self, self.ties)

    def output_shape(self, input_shape):
        return pooled_shape(self, input_shape, self.pool)

    def forward(self, params, x, *, mask=None):
        self._no_mask(mask)
        return lookup(namespace(x))["max_pool2d"](x, self.pool), x

    def backward(self, params, cache, delta, *, need_input_grad=True):
        if not need_input_grad:
            return (), None
        return (), pool_backward(namespace(delta), cache, self.pool, self.ties, delta)
