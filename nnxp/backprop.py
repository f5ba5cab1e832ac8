"""Feedforward and backpropagation in matrix form, over a whole mini-batch at once, for one
network or a population of K networks with the same code.

    params       tuple of (w, b) per layer: w (n_out, n_in) as in network2, b (n_out,); for a
                 population every array has a leading member axis: w (K, n_out, n_in), b (K, n_out)
    activations  tuple of Activation objects, one per layer
    x            (m, n_in): one example per row, shared by every member (never copied per member)
    y            (m, n_out): desired outputs

    feedforward(params, activations, x)          -> a^L, (m, n_out) or (K, m, n_out)
    forward(params, activations, x, stacked=False)
                                                 -> (zs, as_): z^l per layer; a^0 = x, a^1 ...
    backward(params, activations, cost, zs, as_, y, scale=None, stacked=False)
                                                 -> ((nabla_w, nabla_b), ...) per layer, shaped
                                                    like params: ``scale`` times the gradient of
                                                    the cost summed over the m examples
    backprop(params, activations, cost, x, y, scale=None, stacked=False)   forward, then backward
    scores(params, activations, cost, x, y, labels)
                                                 -> (..., 5): [hits, summed cost, sum w^2,
                                                    sum |w|, all parameters finite (1/0)], per
                                                    member for a population
    all_finite(params)                           -> bool array, () or (K,): no NaN or inf

Rows are examples, so the book's equations (BP1-BP4) read, with delta^l of shape (..., m, n_l):

    delta^L = cost.delta(z^L, a^L, y)                   (BP1)
    delta^l = (delta^(l+1) w^(l+1)) * sigma'(z^l)       (BP2, via activation.backward)
    dC/db^l = sum over rows of delta^l                  (BP3)
    dC/dw^l = delta^l^T a^(l-1)                         (BP4)

Rank polymorphism is plain broadcasting: ``x @ matrix_transpose(w)`` is (m, n_out) for one
network and (K, m, n_out) for K; every reduction runs over the example axis (-2) or the unit
axis (-1), never over the member axis.  ``scale`` multiplies the small output error delta^L
(the step passes 1/m and receives the mean gradient).  Pure functions: nothing is mutated, so
JAX compiles them and every backend runs the same code.

``stacked=True`` computes the first layer of a population, whose input x is shared, as one
product for all members instead of K: w (K, n_out, n_in) viewed as (K n_out, n_in), so that
z = x w^T is one (m, n_in) x (n_in, K n_out) product and dC/dw one (K n_out, m) x (m, n_in)
product, then reshaped (members stay in their own rows: the same sums, possibly blocked
differently, so equal to rounding, not bit for bit).  A backend chooses it where it measures
faster (JAX, whose CPU programs run K small products more slowly than one large one:
docs/populations.md); the default
keeps K products, each the single network's, so that NumPy's members equal a network alone
bit for bit.
"""

from .namespace import namespace

__all__ = ["feedforward", "forward", "backward", "backprop", "scores", "all_finite"]


def _affine(xp, a, w, b, stacked=False):
    """z = a w^T + b: (..., m, n_in) -> (..., m, n_out), b broadcast over the rows."""
    if stacked and a.ndim == 2 and w.ndim == 3:  # shared input: one product for all members
        k, n_out, n_in = w.shape
        z = a @ xp.matrix_transpose(xp.reshape(w, (k * n_out, n_in)))
        z = xp.permute_dims(xp.reshape(z, (a.shape[0], k, n_out)), (1, 0, 2))
    else:
        z = a @ xp.matrix_transpose(w)
    return z + xp.expand_dims(b, axis=-2)


def _weight_gradient(xp, delta, a, stacked=False):
    """dC/dw = delta^T a: (..., n_out, n_in), summed over the m rows."""
    if stacked and a.ndim == 2 and delta.ndim == 3:  # shared input: one product for all members
        k, m, n_out = delta.shape
        rows = xp.reshape(xp.permute_dims(delta, (1, 0, 2)), (m, k * n_out))
        return xp.reshape(xp.matrix_transpose(rows) @ a, (k, n_out, a.shape[1]))
    return xp.matrix_transpose(delta) @ a


def feedforward(params, activations, x):
    """The network's output a^L for the inputs ``x`` (m, n_in)."""
    xp, a = namespace(x), x
    for (w, b), act in zip(params, activations):
        a = act.fn(_affine(xp, a, w, b))
    return a


def output(params, activations, x):
    """The output layer's weighted input z^L and output a^L for the inputs ``x``."""
    xp, a, z = namespace(x), x, None
    for (w, b), act in zip(params, activations):
        z = _affine(xp, a, w, b)
        a = act.fn(z)
    return z, a


def classes(activations, z, a):
    """Each row's class: the argmax of z^L where the output activation keeps z's order (the
    argmax of a^L as the exact sigmoid or softmax would give it, without the ties rounding
    makes among saturated outputs), else of a^L."""
    xp = namespace(a)
    return xp.argmax(z if activations[-1].keeps_order else a, axis=-1)


def forward(params, activations, x, stacked=False):
    """Weighted inputs ``zs`` (one per layer) and activations ``as_`` (x first, then a^1..a^L)."""
    xp, zs, as_ = namespace(x), [], [x]
    for (w, b), act in zip(params, activations):
        z = _affine(xp, as_[-1], w, b, stacked)
        zs.append(z)
        as_.append(act.fn(z))
    return zs, as_


def backprop(params, activations, cost, x, y, scale=None, stacked=False):
    """``scale`` times the gradient of the summed cost over the mini-batch, per layer."""
    zs, as_ = forward(params, activations, x, stacked)
    return backward(params, activations, cost, zs, as_, y, scale, stacked)


def backward(params, activations, cost, zs, as_, y, scale=None, stacked=False):
    """BP1-BP4 from a forward pass already made (``forward``'s zs and as_)."""
    xp = namespace(y)
    delta = cost.delta(zs[-1], as_[-1], y, activations[-1])
    if scale is not None:
        delta = delta * scale
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        grads[l] = (_weight_gradient(xp, delta, as_[l], stacked), xp.sum(delta, axis=-2))
        if l > 0:
            delta = activations[l - 1].backward(zs[l - 1], as_[l], delta @ params[l][0])
    return tuple(grads)


def scores(params, activations, cost, x, y, labels):
    """[hits, summed cost, sum of w^2, sum of |w|, finite] from one feedforward pass: what
    accuracy, total_cost, their regularization terms and the divergence check need, in one
    small array (one transfer).  Counts are summed in the output's float dtype (exact below
    2**24 rows), since some devices have no 64-bit integers."""
    xp = namespace(x)
    z, a = output(params, activations, x)
    dtype = a.dtype
    hits = xp.sum(xp.astype(classes(activations, z, a) == labels, dtype), axis=-1)
    cost_sum = xp.sum(cost.fn_z(z, a, y, activations[-1]), axis=-1)  # exact when saturated
    squares = sum(xp.sum(w * w, axis=(-2, -1)) for w, _ in params)
    absolutes = sum(xp.sum(xp.abs(w), axis=(-2, -1)) for w, _ in params)
    finite = xp.astype(all_finite(params), dtype)
    return xp.stack([hits, cost_sum, squares, absolutes, finite], axis=-1)


def all_finite(params):
    """Whether every weight and bias is finite: a 0-d bool array, or (K,) for a population."""
    xp = namespace(params[0][0])
    finite = None
    for w, b in params:
        ok = xp.all(xp.isfinite(w), axis=(-2, -1)) & xp.all(xp.isfinite(b), axis=-1)
        finite = ok if finite is None else finite & ok
    return finite
