"""JAX's convolution and pooling primitives: ``lax.conv_general_dilated`` and
``lax.reduce_window`` (``jax.vmap`` over a member axis), their gradients by ``jax.vjp``, which
XLA turns into transposed convolutions and select-and-scatter (the gradient of a window goes to
its first maximum, as in the generic code).  Same signatures and, to rounding, the same numbers
as nnxp/layers/primitives.py.  JAX is imported inside the functions only.
"""

__all__ = ["conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward", "PRIMITIVES"]


def _conv_one(x, w):
    from jax import lax
    return lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                    dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                    precision=lax.Precision.HIGHEST)


def conv2d(x, w):
    """x (m, C, H, W) or (K, m, C, H, W), w (F, C, kh, kw) or (K, F, C, kh, kw)."""
    import jax
    if w.ndim == 4 and x.ndim == 4:
        return _conv_one(x, w)
    return jax.vmap(_conv_one, in_axes=(0 if x.ndim == 5 else None,
                                        0 if w.ndim == 5 else None))(x, w)


def conv2d_backward(x, w, dy, need_input_grad=True):
    import jax
    if not need_input_grad:
        _, pullback = jax.vjp(lambda w: conv2d(x, w), w)
        return pullback(dy)[0], None
    _, pullback = jax.vjp(conv2d, x, w)
    dx, dw = pullback(dy)
    return dw, dx


def max_pool2d(x, pool):
    import numpy as np
    from jax import lax
    window = (1,) * (x.ndim - 2) + tuple(pool)
    # a concrete (NumPy) -inf, also under jit: lax then recognises the max monoid, whose
    # reduce_window has a gradient (a traced initial value would make a generic, underivable one)
    return lax.reduce_window(x, np.array(-np.inf, dtype=x.dtype), lax.max, window, window,
                             "VALID")


def max_pool2d_backward(x, pool, dy):
    import jax
    _, pullback = jax.vjp(lambda x: max_pool2d(x, pool), x)
    return pullback(dy)[0]


PRIMITIVES = {"conv2d": conv2d, "conv2d_backward": conv2d_backward, "max_pool2d": max_pool2d,
              "max_pool2d_backward": max_pool2d_backward}
