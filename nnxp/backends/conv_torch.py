"""PyTorch's convolution and pooling primitives.  Same signatures and, to rounding, the same
numbers as nnxp/layers/primitives.py; PyTorch is imported inside the functions only.

    conv2d                   ``torch.nn.functional.conv2d`` (a member axis K folded into the
                             channels and run as K groups)
    conv2d_backward          one ``aten.convolution_backward`` call for dw and dx together (what
                             autograd calls), dx left out when it is not needed
    max_pool2d               pool_strided.py with ``torch``: maxima of strided slices
    max_pool2d_backward      each window's gradient to its first maximum in row-major order
    max_pool2d_backward_all  to every element equal to its window's maximum (Theano's rule)

Images of one channel (a first layer on MNIST) on the CPU, without groups, go to PyTorch's own
im2col + GEMM convolution (``aten.thnn_conv2d`` and ``aten._slow_conv2d_backward``, the kernels
PyTorch runs when oneDNN is switched off, called directly so that no global flag changes):
oneDNN, behind ``F.conv2d`` and ``convolution_backward`` on the CPU, is slow with a single
input channel, above all for dw and dx (docs/speed_conv.md).  The forward pass goes there only
for mini-batches of up to ``IM2COL_MAX_ROWS`` images: for larger ones (evaluating many images
at once) the two are about even.  Where those aten kernels are missing, the general path runs.

Max-pooling is pool_strided.py's (strided maxima, and both backward rules by a compare per
window offset written into one owned buffer), not ``F.max_pool2d``: on the CPU, for small maps
such as chapter 6's, that NCHW kernel is slower (docs/speed_conv.md), and its backward (a
scatter to one index per window) cannot give Theano's "every maximum" rule.
"""

import functools

from . import pool_strided

__all__ = ["conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward",
           "max_pool2d_backward_all", "PRIMITIVES", "IM2COL_MAX_ROWS"]

IM2COL_MAX_ROWS = 64


def _grouped(x, w):
    """(x as (m, K C, H, W) or (m, C, H, W) if shared, w as (K F, C, kh, kw), groups)."""
    if w.ndim == 4:
        return x, w, 1
    k = w.shape[0]
    w2 = w.reshape((-1,) + tuple(w.shape[2:]))
    if x.ndim == 4:  # shared input: every member's filters on the same channels
        return x, w2, 1
    m, c = x.shape[1], x.shape[2]
    x2 = x.transpose(0, 1).reshape((m, k * c) + tuple(x.shape[3:]))
    return x2, w2, k


def _members(y, k):
    """(m, K F, Ho, Wo) -> (K, m, F, Ho, Wo)."""
    return y.reshape((y.shape[0], k, -1) + tuple(y.shape[2:])).transpose(0, 1)


@functools.cache
def _im2col_kernels():
    """(forward, backward) of PyTorch's im2col + GEMM convolution, or None if it has none."""
    import torch
    try:
        return torch.ops.aten.thnn_conv2d.default, torch.ops.aten._slow_conv2d_backward.output_mask
    except (AttributeError, RuntimeError):
        return None


def _by_im2col(x2, w2, groups, backward):
    """Whether this convolution runs on the im2col kernels (see the module docstring)."""
    return (groups == 1 and w2.shape[1] == 1 and x2.device.type == "cpu"
            and (backward or x2.shape[0] <= IM2COL_MAX_ROWS) and _im2col_kernels() is not None)


def conv2d(x, w):
    import torch.nn.functional as F
    x2, w2, groups = _grouped(x, w)
    if _by_im2col(x2, w2, groups, backward=False):
        y = _im2col_kernels()[0](x2, w2, tuple(w2.shape[-2:]))
    else:
        y = F.conv2d(x2, w2, groups=groups)
    return y if w.ndim == 4 else _members(y, w.shape[0])


def conv2d_backward(x, w, dy, need_input_grad=True):
    import torch
    x2, w2, groups = _grouped(x, w)
    dy2 = dy
    if w.ndim == 5:  # (K, m, F, Ho, Wo) -> (m, K F, Ho, Wo)
        dy2 = dy.transpose(0, 1).reshape((dy.shape[1], -1) + tuple(dy.shape[3:]))
    mask = (bool(need_input_grad), True, False)
    if _by_im2col(x2, w2, groups, backward=True):
        dx2, dw, _ = _im2col_kernels()[1](dy2, x2, w2, tuple(w2.shape[-2:]), (1, 1), (0, 0),
                                          mask)
    else:
        dx2, dw, _ = torch.ops.aten.convolution_backward(
            dy2, x2, w2, None, (1, 1), (0, 0), (1, 1), False, (0, 0), groups, mask)
    dw = dw.reshape(w.shape)
    if not need_input_grad:
        return dw, None
    if x.ndim == 5:
        dx2 = dx2.reshape((x.shape[1], x.shape[0]) + tuple(x.shape[2:])).transpose(0, 1)
    return dw, dx2


def max_pool2d(x, pool):
    import torch
    return pool_strided.max_pool2d(torch, x, pool)


def max_pool2d_backward(x, pool, dy):
    import torch
    return pool_strided.max_pool2d_backward(torch, x, pool, dy, first=True)


def max_pool2d_backward_all(x, pool, dy):
    import torch
    return pool_strided.max_pool2d_backward(torch, x, pool, dy, first=False)


PRIMITIVES = {"conv2d": conv2d, "conv2d_backward": conv2d_backward, "max_pool2d": max_pool2d,
              "max_pool2d_backward": max_pool2d_backward,
              "max_pool2d_backward_all": max_pool2d_backward_all}
