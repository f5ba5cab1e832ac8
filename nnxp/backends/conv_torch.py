"""PyTorch's convolution and pooling primitives: ``torch.nn.functional.conv2d`` (a member axis
K folded into the channels and run as K groups), ``torch.nn.grad.conv2d_input`` /
``conv2d_weight`` for its gradients, ``max_pool2d`` with the indices of each window's maximum
(the first one, as in the generic code) and a scatter of dy to them.  Same signatures and, to
rounding, the same numbers as nnxp/layers/primitives.py.  PyTorch is imported inside the
functions only.
"""

__all__ = ["conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward", "PRIMITIVES"]


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


def conv2d(x, w):
    import torch.nn.functional as F
    x2, w2, groups = _grouped(x, w)
    y = F.conv2d(x2, w2, groups=groups)
    return y if w.ndim == 4 else _members(y, w.shape[0])


def conv2d_backward(x, w, dy, need_input_grad=True):
    import torch.nn.grad as G
    x2, w2, groups = _grouped(x, w)
    dy2 = dy
    if w.ndim == 5:  # (K, m, F, Ho, Wo) -> (m, K F, Ho, Wo)
        dy2 = dy.transpose(0, 1).reshape((dy.shape[1], -1) + tuple(dy.shape[3:]))
    dw = G.conv2d_weight(x2, tuple(w2.shape), dy2, groups=groups).reshape(w.shape)
    if not need_input_grad:
        return dw, None
    dx2 = G.conv2d_input(tuple(x2.shape), w2, dy2, groups=groups)
    if x.ndim == 5:
        dx2 = dx2.reshape((x.shape[1], x.shape[0]) + tuple(x.shape[2:])).transpose(0, 1)
    return dw, dx2


def _planes(x):
    return x.reshape((-1,) + tuple(x.shape[-2:]))  # (N, H, W): one plane per leading index


def max_pool2d(x, pool):
    import torch.nn.functional as F
    y = F.max_pool2d(_planes(x), tuple(pool), tuple(pool))
    return y.reshape(tuple(x.shape[:-2]) + tuple(y.shape[-2:]))


def max_pool2d_backward(x, pool, dy):
    import torch
    import torch.nn.functional as F
    _, where = F.max_pool2d(_planes(x), tuple(pool), tuple(pool), return_indices=True)
    n, h, w = x.numel() // (x.shape[-2] * x.shape[-1]), x.shape[-2], x.shape[-1]
    dx = torch.zeros((n, h * w), dtype=dy.dtype, device=dy.device)
    dx.scatter_(1, where.reshape(n, -1), dy.reshape(n, -1))
    return dx.reshape(x.shape)


PRIMITIVES = {"conv2d": conv2d, "conv2d_backward": conv2d_backward, "max_pool2d": max_pool2d,
              "max_pool2d_backward": max_pool2d_backward}
