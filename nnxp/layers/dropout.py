"""Dropout masks, drawn on the host (network3's dropout: a mask on a layer's input).

    draw_mask(rng, p_dropout, shape) -> host float64 array of 0s and 1s, each 1 (the input
        kept) with probability 1 - p_dropout; ``shape`` is the input's, e.g. (m, n_in) for one
        network or (K, m, n_in) for K members (each member gets its own mask)

The mask is not rescaled by 1 / (1 - p_dropout): network3 instead multiplies the evaluation
path's weighted input by 1 - p_dropout (dense.py).  Drawing on the host from the run's
Generator keeps nnxp's rule that one seed gives the same numbers on every backend; the caller
moves the masks to the device.  Training runs draw theirs through nnxp/masks.py (the same
draws, kept as bool and moved a chunk of mini-batches at a time).
"""

from .base import host_namespace

__all__ = ["draw_mask"]


def draw_mask(rng, p_dropout, shape):
    """0/1 with P(1) = 1 - p_dropout, from ``rng.random(shape)`` (one uniform per unit)."""
    xp = host_namespace(rng)
    return xp.astype(rng.random(shape) >= p_dropout, xp.float64)
