"""Feedforward and backpropagation in matrix form, over a whole mini-batch at once.

    params       tuple of (w, b) per layer: w of shape (n_out, n_in) as in network2, b (n_out,)
    activations  tuple of Activation objects, one per layer
    x            (m, n_in): one example per row;  y: (m, n_out) desired outputs

    feedforward(params, activations, x)             -> a^L, shape (m, n_out)
    scores(params, activations, cost, x, y, labels) -> [hits, summed cost, sum w^2, sum |w|]:
                                                       how many rows' argmax is the label, the
                                                       sum of cost.fn, and the weight norms the
                                                       regularization terms need, in one array
    forward(params, activations, x)                 -> (zs, as_): z^l for each layer, a^0 = x ...
    backward(params, activations, cost, zs, as_, y, scale=None)
                                                    -> the same gradients from a forward pass
                                                       already made
    backprop(params, activations, cost, x, y, scale=None)
                                                    -> tuple of (nabla_w, nabla_b) per layer:
                                                       scale times the gradient of the cost
                                                       summed over the m examples

Rows are examples, so the book's equations (BP1-BP4) read, with delta^l of shape (m, n_l):

    delta^L = cost.delta(z^L, a^L, y)                      (BP1)
    delta^l = (delta^(l+1) w^(l+1)) * sigma'(z^l)          (BP2, via activation.backward)
    dC/db^l = sum over rows of delta^l                      (BP3)
    dC/dw^l = delta^l.T a^(l-1)                             (BP4)

``scale`` multiplies the output error delta^L, a small (m, n_out) array, so every gradient comes
out scaled without touching the large weight-shaped arrays again: the training step passes
eta / m and receives eta times the mini-batch's mean gradient, ready for the update.

Pure functions of their arguments: nothing is mutated, so JAX can compile them and every backend
runs the same code.
"""

from .namespace import namespace

__all__ = ["feedforward", "forward", "backward", "backprop", "scores"]


def feedforward(params, activations, x):
    """The network's output a^L for the inputs ``x`` (m, n_in)."""
    a = x
    for (w, b), act in zip(params, activations):
        a = act.fn(a @ w.T + b)
    return a


def scores(params, activations, cost, x, y, labels):
    """[hits, summed cost, sum of w^2, sum of |w|] as one small array, from one feedforward
    pass: what accuracy, total_cost and their regularization terms need, in one transfer.
    The hit count is summed in the output's float dtype (exact below 2**24 rows), since some
    devices have no 64-bit integers."""
    xp = namespace(x)
    a = feedforward(params, activations, x)
    hits = xp.sum(xp.astype(xp.argmax(a, axis=1) == labels, a.dtype))
    squares = sum(xp.sum(w * w) for w, _ in params)
    absolutes = sum(xp.sum(xp.abs(w)) for w, _ in params)
    return xp.stack([hits, xp.sum(cost.fn(a, y)), squares, absolutes])


def forward(params, activations, x):
    """Weighted inputs ``zs`` (one per layer) and activations ``as_`` (x first, then a^1..a^L)."""
    zs, as_ = [], [x]
    for (w, b), act in zip(params, activations):
        z = as_[-1] @ w.T + b
        zs.append(z)
        as_.append(act.fn(z))
    return zs, as_


def backprop(params, activations, cost, x, y, scale=None):
    """``scale`` times the gradient of the summed cost over the mini-batch:
    ((nabla_w, nabla_b), ...) per layer."""
    zs, as_ = forward(params, activations, x)
    return backward(params, activations, cost, zs, as_, y, scale)


def backward(params, activations, cost, zs, as_, y, scale=None):
    """BP1-BP4 from a forward pass already made (``forward``'s zs and as_)."""
    xp = namespace(y)
    delta = cost.delta(zs[-1], as_[-1], y, activations[-1])
    if scale is not None:
        delta = delta * scale
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        grads[l] = (delta.T @ as_[l], xp.sum(delta, axis=0))
        if l > 0:
            delta = activations[l - 1].backward(zs[l - 1], as_[l], delta @ params[l][0])
    return tuple(grads)
