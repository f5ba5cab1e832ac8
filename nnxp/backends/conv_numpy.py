"""NumPy's convolution primitives: im2col as a strided view (``sliding_window_view``, no Python
loop over the kernel offsets), one BLAS matmul, and dx scattered back by in-place adds over the
kh*kw offsets (col2im) instead of a second, padded convolution.  Max-pooling and both of its
backward rules (the first maximum, every maximum) are pool_strided.py's with ``numpy``: maxima
of strided slices and a compare per window offset, instead of the generic code's reductions
over short window axes.  Same signatures and, to rounding, the same numbers as
nnxp/layers/primitives.py.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import pool_strided

__all__ = ["conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward",
           "max_pool2d_backward_all", "PRIMITIVES"]


def _patches(x, kh, kw):
    """x (..., m, C, H, W) -> (..., m Ho Wo, kh kw C), the generic code's column order."""
    view = sliding_window_view(np.moveaxis(x, -3, -1), (kh, kw), axis=(-3, -2))
    view = np.moveaxis(view, -3, -1)  # (..., m, Ho, Wo, kh, kw, C)
    return view.reshape(view.shape[:-6] + (-1, kh * kw * x.shape[-3]))


def _filters(w):
    """w (..., F, C, kh, kw) -> (..., kh kw C, F)."""
    wl = np.moveaxis(w, -3, -1)
    return np.swapaxes(wl.reshape(wl.shape[:-3] + (-1,)), -1, -2)


def conv2d(x, w):
    m, (f, _, kh, kw) = x.shape[-4], w.shape[-4:]
    ho, wo = x.shape[-2] - kh + 1, x.shape[-1] - kw + 1
    y = _patches(x, kh, kw) @ _filters(w)
    return np.moveaxis(y.reshape(y.shape[:-2] + (m, ho, wo, f)), -1, -3)


def conv2d_backward(x, w, dy, need_input_grad=True):
    f, c, kh, kw = w.shape[-4:]
    rows = np.moveaxis(dy, -3, -1)
    rows = rows.reshape(rows.shape[:-4] + (-1, f))  # (..., R, F)
    dw = np.swapaxes(rows, -1, -2) @ _patches(x, kh, kw)
    dw = np.moveaxis(dw.reshape(dw.shape[:-1] + (kh, kw, c)), -1, -3)
    if not need_input_grad:
        return dw, None
    ho, wo = dy.shape[-2:]
    cols = rows @ np.swapaxes(_filters(w), -1, -2)  # (..., R, kh kw C)
    cols = cols.reshape(cols.shape[:-2] + (dy.shape[-4], ho, wo, kh, kw, c))
    dx = np.zeros(cols.shape[:-5] + (ho + kh - 1, wo + kw - 1, c), dtype=dy.dtype)
    for p in range(kh):
        for q in range(kw):
            dx[..., p:p + ho, q:q + wo, :] += cols[..., p, q, :]
    dx = np.moveaxis(dx, -1, -3)
    extra = dx.ndim - x.ndim
    return dw, (dx.sum(axis=tuple(range(extra))) if extra else dx)


def max_pool2d(x, pool):
    return pool_strided.max_pool2d(np, x, pool)


def max_pool2d_backward(x, pool, dy):
    return pool_strided.max_pool2d_backward(np, x, pool, dy, first=True)


def max_pool2d_backward_all(x, pool, dy):
    return pool_strided.max_pool2d_backward(np, x, pool, dy, first=False)


PRIMITIVES = {"conv2d": conv2d, "conv2d_backward": conv2d_backward, "max_pool2d": max_pool2d,
              "max_pool2d_backward": max_pool2d_backward,
              "max_pool2d_backward_all": max_pool2d_backward_all}
