"""The convolution and max-pooling primitives, written once against the array API standard.

    conv2d(x, w) -> y
        x (..., m, C, H, W), w (..., F, C, kh, kw) -> y (..., m, F, H - kh + 1, W - kw + 1):
        "valid" cross-correlation with stride 1, as torch.nn.functional.conv2d and
        jax.lax.conv_general_dilated compute it:
        y[f, i, j] = sum over c, p, q of x[c, i + p, j + q] w[f, c, p, q]
    conv2d_backward(x, w, dy, need_input_grad=True) -> (dw, dx)
        dw shaped like w (summed over the m examples); dx shaped like x (summed over the
        members when x has no member axis but w has), or None
    max_pool2d(x, pool) -> y
        x (..., H, W) -> y (..., H // ph, W // pw): the maximum of each non-overlapping ph x pw
        window; rows and columns that do not fill a window are ignored (ignore_border=True)
    max_pool2d_backward(x, pool, dy) -> dx
        dx shaped like x: each window's gradient goes to ONE element, the first maximum of the
        window in row-major order (as PyTorch's max_pool2d and XLA's select-and-scatter do);
        the other elements of the window, and the ignored border, get 0
    max_pool2d_backward_all(x, pool, dy) -> dx
        Theano's rule (network3's ``max_pool_2d``): dy goes to EVERY element equal to its
        window's maximum; the same as above where a window has a single maximum

The leading axes (``...``) are a member axis K or nothing; x may lack the member axis that w
has (a first layer whose input all members share).

How: ``conv2d`` is im2col: the kh*kw shifted slices of the input (channels last) are stacked
into one patch matrix (m Ho Wo, kh kw C) and multiplied by the filters (kh kw C, F) in one
matmul; dw is one matmul with the same patches; dx is the "full" correlation of dy (padded by
kh-1, kw-1) with the flipped, transposed filters, i.e. conv2d again.  Max-pooling reshapes each
window onto its own axes.  Nothing is written in place, so JAX can trace every function.

``lookup(xp)`` returns these four functions for the namespace ``xp``, each replaced by a
faster one where the backend offers it (nnxp/backends/primitives.py: NumPy sliding windows,
JAX's lax convolutions, PyTorch's conv2d), giving the same numbers to rounding.
"""

import functools

from ..namespace import device_of, namespace

__all__ = ["conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward",
           "max_pool2d_backward_all", "lookup", "GENERIC"]


def _move(xp, a, source, dest):
    """``a`` with axis ``source`` moved to ``dest`` (both negative), the others in order."""
    axes = list(range(a.ndim))
    axes.insert(a.ndim + dest, axes.pop(a.ndim + source))
    return xp.permute_dims(a, tuple(axes))


def _patches(xp, x, kh, kw):
    """x (..., m, C, H, W) -> (..., m Ho Wo, kh kw C): one row per output position."""
    h, w = x.shape[-2], x.shape[-1]
    ho, wo = h - kh + 1, w - kw + 1
    xl = _move(xp, x, -3, -1)  # (..., m, H, W, C)
    cols = [xl[..., p:p + ho, q:q + wo, :] for p in range(kh) for q in range(kw)]
    patches = xp.stack(cols, axis=-2)  # (..., m, Ho, Wo, kh kw, C)
    return xp.reshape(patches, patches.shape[:-5] + (-1, kh * kw * x.shape[-3]))


def _filters(xp, w):
    """w (..., F, C, kh, kw) -> (..., kh kw C, F), the patch columns' order."""
    wl = _move(xp, w, -3, -1)  # (..., F, kh, kw, C)
    return xp.matrix_transpose(xp.reshape(wl, wl.shape[:-3] + (-1,)))


def conv2d(x, w):
    """"Valid" cross-correlation, stride 1 (see the module docstring)."""
    xp = namespace(x)
    m, kh, kw = x.shape[-4], w.shape[-2], w.shape[-1]
    ho, wo = x.shape[-2] - kh + 1, x.shape[-1] - kw + 1
    y = _patches(xp, x, kh, kw) @ _filters(xp, w)  # (..., m Ho Wo, F)
    y = xp.reshape(y, y.shape[:-2] + (m, ho, wo, w.shape[-4]))
    return _move(xp, y, -1, -3)


def _pad(xp, a, ph, pw):
    """``a`` (..., H, W) with ph zero rows above and below and pw zero columns either side."""
    dev = device_of(a)
    rows = xp.zeros(a.shape[:-2] + (ph, a.shape[-1]), dtype=a.dtype, device=dev)
    a = xp.concat([rows, a, rows], axis=-2)
    cols = xp.zeros(a.shape[:-1] + (pw,), dtype=a.dtype, device=dev)
    return xp.concat([cols, a, cols], axis=-1)


def conv2d_backward(x, w, dy, need_input_grad=True):
    """(dC/dw, dC/dx) from dy = dC/dy (see the module docstring)."""
    xp = namespace(dy)
    kh, kw = w.shape[-2], w.shape[-1]
    rows = xp.reshape(_move(xp, dy, -3, -1), dy.shape[:-4] + (-1, dy.shape[-3]))  # (.., R, F)
    dw = xp.matrix_transpose(rows) @ _patches(xp, x, kh, kw)  # (..., F, kh kw C)
    dw = xp.reshape(dw, dw.shape[:-1] + (kh, kw, x.shape[-3]))
    dw = _move(xp, dw, -1, -3)
    if not need_input_grad:
        return dw, None
    flipped = xp.flip(_move(xp, w, -4, -3), axis=(-2, -1))  # (..., C, F, kh, kw)
    dx = conv2d(_pad(xp, dy, kh - 1, kw - 1), flipped)
    extra = dx.ndim - x.ndim
    return dw, (xp.sum(dx, axis=tuple(range(extra))) if extra else dx)


def _windows(xp, x, ph, pw):
    """x (..., H, W) -> (..., Ho, Wo, ph pw), the border that fills no window dropped."""
    ho, wo = x.shape[-2] // ph, x.shape[-1] // pw
    r = xp.reshape(x[..., :ho * ph, :wo * pw], x.shape[:-2] + (ho, ph, wo, pw))
    r = _move(xp, r, -3, -2)  # (..., Ho, Wo, ph, pw)
    return xp.reshape(r, r.shape[:-2] + (ph * pw,))


def max_pool2d(x, pool):
    """The maximum of each non-overlapping window (see the module docstring)."""
    xp = namespace(x)
    (ph, pw), ho, wo = pool, x.shape[-2] // pool[0], x.shape[-1] // pool[1]
    r = xp.reshape(x[..., :ho * ph, :wo * pw], x.shape[:-2] + (ho, ph, wo, pw))
    return xp.max(r, axis=(-3, -1))


def max_pool2d_backward(x, pool, dy):
    """dy routed to the first maximum of each window (see the module docstring)."""
    xp = namespace(dy)
    (ph, pw), (h, w) = pool, x.shape[-2:]
    ho, wo = h // ph, w // pw
    first = xp.argmax(_windows(xp, x, ph, pw), axis=-1)  # the first maximum (the standard)
    hit = xp.arange(ph * pw, device=device_of(dy)) == first[..., None]
    g = xp.where(hit, dy[..., None], xp.zeros_like(dy)[..., None])  # (..., Ho, Wo, ph pw)
    g = _move(xp, xp.reshape(g, g.shape[:-1] + (ph, pw)), -2, -3)  # (..., Ho, ph, Wo, pw)
    return _pad_border(xp, xp.reshape(g, g.shape[:-4] + (ho * ph, wo * pw)), h, w)


def max_pool2d_backward_all(x, pool, dy):
    """dy routed to every maximum of each window (Theano's rule, see the module docstring)."""
    xp = namespace(dy)
    (ph, pw), (h, w) = pool, x.shape[-2:]
    ho, wo = h // ph, w // pw
    r = xp.reshape(x[..., :ho * ph, :wo * pw], x.shape[:-2] + (ho, ph, wo, pw))
    top = xp.max(r, axis=(-3, -1), keepdims=True)
    spread = xp.reshape(dy, dy.shape[:-2] + (ho, 1, wo, 1))
    g = xp.where(r == top, spread, xp.zeros_like(spread))
    return _pad_border(xp, xp.reshape(g, g.shape[:-4] + (ho * ph, wo * pw)), h, w)


def _pad_border(xp, g, h, w):
    """g (..., h', w') with zero rows and columns appended up to (..., h, w)."""
    if tuple(g.shape[-2:]) == (h, w):
        return g
    dev = device_of(g)
    g = xp.concat([g, xp.zeros(g.shape[:-2] + (h - g.shape[-2], g.shape[-1]), dtype=g.dtype,
                                device=dev)], axis=-2)
    return xp.concat([g, xp.zeros(g.shape[:-1] + (w - g.shape[-1],), dtype=g.dtype,
                                  device=dev)], axis=-1)


GENERIC = {"conv2d": conv2d, "conv2d_backward": conv2d_backward, "max_pool2d": max_pool2d,
           "max_pool2d_backward": max_pool2d_backward,
           "max_pool2d_backward_all": max_pool2d_backward_all}

@functools.cache
def lookup(xp) -> dict:
    """The primitives for namespace ``xp``: a backend's faster ones where it has them, the
    generic ones above otherwise (cached per namespace)."""
    from ..backends.primitives import fast_primitives  # not at the top: backends import core
    return {**GENERIC, **fast_primitives(xp)}
