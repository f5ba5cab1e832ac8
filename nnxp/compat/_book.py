"""The book's arithmetic in the book's order: bit for bit what network.py / network2.py compute
(on NumPy), with the examples of a mini-batch stacked instead of looped over where that keeps
every bit.  Array API code: it imports no array library.

    sigmoid(z)                         1 / (1 + e^-z), the book's formula
    forward(params, x) -> (zs, as_)    per example, as columns: z^l (m, n_l, 1); a^0 = x as
                                       (m, n_in, 1), then a^1 .. a^L
    deltas(params, cost, x, y) -> (delta^l per layer (m, n_l, 1), as_)
    gradients(params, cost, x, y) -> ((nabla_w, nabla_b), ...)
                                       per example: (m, n_out, n_in) and (m, n_out, 1)
    summed(terms) -> the terms added one after another, as the book's ``nw + dnw`` loop
    outer_summed(delta, a) -> summed outer products delta_i a_i^T, one at a time
    book_step(spec, transform) -> step(params, state, x, y) -> (params, state)
    BookEngine(backend, spec)          the plain engine running book_step

params are the core's ((w (n_out, n_in), b (n_out,)), ...); cost is nnxp's QuadraticCost or
CrossEntropyCost; x (m, n_in), y (m, n_out) rows.

Why these are the same bits.  The book computes ``np.dot(w, a) + b`` for one column a:
NumPy's matrix-vector product (BLAS gemv); ``xp.matmul(w, a)`` with a stacked (m, n_in, 1) makes
the same gemv call for each example (a gemm over the m columns would sum in another order).
Outer products ``np.dot(delta, a.T)`` are single multiplications, the same elementwise.  The sums
over the mini-batch are done one example after another, as ``nabla_w = nw + dnw`` is.  Then
the update is network2's expression, ``(1 - eta (lmbda / n)) w - (eta / m) nabla_w`` (with
lmbda = 0 it is network.py's ``w - (eta / m) nabla_w``: 1.0 * w is w).  On other array
libraries the numbers agree to rounding.

This is as slow as the book's loop in the part that costs (m outer products of a layer's size
per mini-batch): nnxp.compat uses it for SGD only when asked (NNXP_COMPAT_EXACT=1), and always
for the per-example methods (feedforward, backprop, update_mini_batch).
"""

from __future__ import annotations

from ..costs import CrossEntropyCost, QuadraticCost
from ..engines.plain import PlainEngine
from ..errors import ConfigError
from ..namespace import namespace
from ..optimizers import hyper_of, identify

__all__ = ["sigmoid", "forward", "deltas", "gradients", "summed", "outer_summed", "book_step",
           "BookEngine", "KEY"]

KEY = ("sgd", ("decay", "eta"))   # identify(training_chain(sgd(), eta, decay)): network2's rule


def sigmoid(z):
    return 1.0 / (1.0 + namespace(z).exp(-z))


def forward(params, x):
    xp = namespace(x)
    a = xp.reshape(x, x.shape + (1,))
    zs, as_ = [], [a]
    for w, b in params:
        z = xp.matmul(w, a) + xp.reshape(b, (b.shape[0], 1))
        a = sigmoid(z)
        zs.append(z)
        as_.append(a)
    return zs, as_


def deltas(params, cost, x, y):
    """Per example, the error delta^l of every layer (m, n_l, 1) and the activations."""
    xp = namespace(x)
    zs, as_ = forward(params, x)
    a = as_[-1]
    diff = a - xp.reshape(y, y.shape + (1,))
    if cost is QuadraticCost:
        delta = diff * (a * (1 - a))          # (a - y) * sigmoid_prime(z)
    elif cost is CrossEntropyCost:
        delta = diff
    else:
        raise ConfigError(f"the book's step knows QuadraticCost and CrossEntropyCost, not "
                          f"{getattr(cost, 'name', cost)!r}")
    out = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        out[l] = delta
        if l > 0:
            a = as_[l]
            delta = xp.matmul(xp.matrix_transpose(params[l][0]), delta) * (a * (1 - a))
    return out, as_


def gradients(params, cost, x, y):
    """Per example, each layer's (nabla_w (m, n_out, n_in), nabla_b (m, n_out, 1))."""
    ds, as_ = deltas(params, cost, x, y)
    xp = namespace(x)
    return tuple((d * xp.matrix_transpose(a), d) for d, a in zip(ds, as_))


def summed(terms):
    """terms[0] + terms[1] + ... in that order (a reduction may pair them otherwise)."""
    total = terms[0, ...]
    for i in range(1, terms.shape[0]):
        total = total + terms[i, ...]
    return total


def outer_summed(delta, a):
    """sum over examples i, in order, of delta_i a_i^T: ``summed`` of the outer products,
    made one at a time (a layer's size each, not m of them at once)."""
    a_t = namespace(a).matrix_transpose(a)
    total = delta[0, ...] * a_t[0, ...]
    for i in range(1, delta.shape[0]):
        total = total + delta[i, ...] * a_t[i, ...]
    return total


def book_step(spec, transform):
    """network2's update_mini_batch for ``spec`` (eta and lmbda / n from the optimizer state
    of ``training_chain(sgd(), eta, lmbda / n)``)."""
    if identify(transform) != KEY:
        raise ConfigError(f"the book's step runs network2's rule only (plain SGD with weight "
                          f"decay), not {transform!r}")
    cost = spec.cost

    def step(params, state, x, y):
        hyper = hyper_of(state)
        eta, decay = hyper["eta"], hyper["decay"]
        m = x.shape[0]
        ds, as_ = deltas(params, cost, x, y)
        new = []
        for (w, b), delta, a in zip(params, ds, as_):
            nabla_w, nabla_b = outer_summed(delta, a), summed(delta)
            new.append(((1 - eta * decay) * w - (eta / m) * nabla_w,
                        b - (eta / m) * namespace(b).reshape(nabla_b, b.shape)))
        return tuple(new), state

    return step


class BookEngine(PlainEngine):
    """The plain engine with the book's step instead of the backend's."""

    name = "book"

    def step_for(self, transform):
        return book_step(self.spec, transform)
