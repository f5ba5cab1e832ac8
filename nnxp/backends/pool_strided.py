"""Max-pooling by strided slices, for array libraries with NumPy's elementwise functions and
``out=`` (NumPy, PyTorch; CuPy has the same): the fast pooling primitives of conv_numpy.py and
conv_torch.py, written once.  Same numbers as nnxp/layers/primitives.py (exactly: only
comparisons, maxima and products by 0 or 1).

    max_pool2d(lib, x, pool) -> y                  x (..., H, W) -> y (..., H // ph, W // pw)
    max_pool2d_backward(lib, x, pool, dy, first) -> dx
        dx shaped like x, in dy's dtype: each window's dy to every element equal to the
        window's maximum (Theano's rule), or with ``first`` to the first of them in row-major
        order (PyTorch's and XLA's); the border that fills no window gets 0

``lib`` is the library's module (``numpy``, ``torch``): its ``maximum``, ``multiply(a, b,
out=)``, ``empty_like`` and ``zeros_like`` are all that is used.

How: the maximum is ``lib.maximum`` of strided slices, rows first (ph - 1 calls on arrays of
H/ph rows), then columns (pw - 1): no window axes, no reduction over a short strided axis, which
the generic reshape-and-max pays for.  The backward visits the ph*pw offsets (p, q) of the
windows: the slice ``x[..., p::ph, q::pw]`` (the cells at that offset of every window, shaped
like y) is compared with y, and ``hit * dy`` is written straight into the same slice of dx: 2
elementwise calls per offset (4 with ``first``, which keeps a "taken" mask), each on arrays
the size of y, into one buffer the function owns.  A window holding a NaN gets no gradient from
either rule (NaN equals nothing), where the generic first-maximum code (an argmax) sends it to
the NaN.
"""

__all__ = ["max_pool2d", "max_pool2d_backward"]


def _cells(a, pool, ho, wo, p, q):
    """The cells at offset (p, q) of every window: a (..., ho, wo) view of ``a``."""
    ph, pw = pool
    return a[..., p:ho * ph:ph, q:wo * pw:pw]


def max_pool2d(lib, x, pool):
    (ph, pw), ho, wo = pool, x.shape[-2] // pool[0], x.shape[-1] // pool[1]
    if ph * pw == 1:  # a copy, never a view of x
        y = lib.empty_like(x[..., :ho, :wo])
        y[...] = x[..., :ho, :wo]
        return y
    rows = x[..., 0:ho * ph:ph, :wo * pw]
    for p in range(1, ph):
        rows = lib.maximum(rows, x[..., p:ho * ph:ph, :wo * pw])
    y = rows[..., 0::pw]
    for q in range(1, pw):
        y = lib.maximum(y, rows[..., q::pw])
    return y


def max_pool2d_backward(lib, x, pool, dy, first):
    (ph, pw), (h, w) = pool, x.shape[-2:]
    ho, wo = h // ph, w // pw
    y = max_pool2d(lib, x, pool)
    blank = lib.empty_like if (ho * ph, wo * pw) == (h, w) else lib.zeros_like
    dx = blank(x, dtype=dy.dtype)
    taken = None
    for p in range(ph):
        for q in range(pw):
            hit = _cells(x, pool, ho, wo, p, q) == y
            if first:
                # on booleans, hit > taken is "hit and not taken": only the first maximum
                hit, taken = (hit, hit) if taken is None else (hit > taken, taken | hit)
            lib.multiply(hit, dy, out=_cells(dx, pool, ho, wo, p, q))
    return dx
