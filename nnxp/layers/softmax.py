"""``Softmax(n_out, p_dropout=0.0)``: network3's SoftmaxLayer, the output layer for the
log-likelihood cost.

A dense layer (dense.py's Affine: the same shapes, dropout and formulas) whose activation is
the softmax over the units and whose weights and biases start at zero, as network3's do
(``weight_init`` / ``bias_init`` can be passed all the same).

With nnxp.LogLikelihoodCost the output error is ``cost.delta(z, a, y) = a - y``, dC/dz
directly: pass it to ``backward_z`` (``sequential.backward(..., at_z=True)``), never dC/da =
-y / a through ``backward``, which divides by outputs that can round to 0.
"""

from dataclasses import dataclass
from typing import Callable

from ..activations import Softmax as SoftmaxActivation
from .base import register, zeros
from .dense import Affine

__all__ = ["Softmax"]


@register
@dataclass(frozen=True)
class Softmax(Affine):
    n_out: int
    p_dropout: float = 0.0
    weight_init: Callable = zeros
    bias_init: Callable = zeros

    activation = SoftmaxActivation()  # not a field: always the softmax
