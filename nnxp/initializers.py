"""Initial weights and biases, drawn on the host.

An initializer is a plain function ``init(rng, shape) -> numpy.ndarray`` (float64) where ``rng``
is a ``numpy.random.Generator`` and ``shape`` is ``(n_out, n_in)`` for a weight matrix or
``(n_out,)`` for a bias vector.  The network draws every layer from one Generator(seed) on the
host and moves the result to the device once, in the requested dtype, so the same seed gives
bit-identical initial weights on every backend.

    default_weight(rng, (n_out, n_in))   N(0, 1/n_in): network2's default; hidden units start
                                         far from saturation (chapter 3)
    large_weight(rng, shape)             N(0, 1): network2's large_weight_initializer
    he_weight(rng, shape)                N(0, 2/n_in): for rectified-linear units
    glorot_weight(rng, shape)            U(-r, r), r = sqrt(6 / (n_in + n_out)): for tanh units
    normal_bias(rng, (n_out,))           N(0, 1): network2's biases
    zero_bias(rng, (n_out,))             zeros

This module imports no array library but NumPy's random Generator, which is host-side by design.
"""

import math

__all__ = ["default_weight", "large_weight", "he_weight", "glorot_weight", "normal_bias",
           "zero_bias", "WEIGHT_INITIALIZERS"]


def default_weight(rng, shape):
    """Gaussian with mean 0 and standard deviation 1/sqrt(n_in) (network2's default)."""
    return rng.standard_normal(shape) / math.sqrt(shape[-1])


def large_weight(rng, shape):
    """Gaussian with mean 0 and standard deviation 1 (network2's large_weight_initializer)."""
    return rng.standard_normal(shape)


def he_weight(rng, shape):
    """Gaussian with standard deviation sqrt(2/n_in) (He et al. 2015, for ReLU units)."""
    return rng.standard_normal(shape) * math.sqrt(2.0 / shape[-1])


def glorot_weight(rng, shape):
    """Uniform on (-r, r) with r = sqrt(6/(n_in + n_out)) (Glorot and Bengio 2010)."""
    r = math.sqrt(6.0 / (shape[0] + shape[-1]))
    return rng.uniform(-r, r, size=shape)


def normal_bias(rng, shape):
    """Gaussian with mean 0 and standard deviation 1 (network2's biases)."""
    return rng.standard_normal(shape)


def zero_bias(rng, shape):
    """All zeros, as a list the network turns into an array (draws nothing from rng)."""
    del rng
    (n_out,) = shape
    return [0.0] * n_out


WEIGHT_INITIALIZERS = {"default": default_weight, "large": large_weight, "he": he_weight,
                       "glorot": glorot_weight}
