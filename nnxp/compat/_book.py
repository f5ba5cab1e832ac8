"""The book's arithmetic in the book's order: bit for bit what network.py / network2.py compute
(on NumPy), with the examples of a mini-batch stacked instead of looped over where that keeps
every bit.  Array API code: it imports no array library.

    sigmoid(z)                         1 / (1 + e^-z), the book's formula and bits: 0 where
                                       e^-z overflows, without the overflow warning
    BookSigmoid                        an Activation computing ``sigmoid``: what nnxp.compat
                                       measures with (see below)
    forward(params, x) -> (zs, as_)    per example, as columns: z^l (m, n_l, 1); a^0 = x as
                                       (m, n_in, 1), then a^1 .. a^L
    deltas(params, cost, x, y, cost_derivative=None) -> (delta^l per layer (m, n_l, 1), as_)
    gradients(params, cost, x, y, cost_derivative=None) -> ((nabla_w, nabla_b), ...)
                                       per example: (m, n_out, n_in) and (m, n_out, 1)
    summed(terms) -> the terms added one after another, as the book's ``nw + dnw`` loop
    outer_summed(delta, a) -> summed outer products delta_i a_i^T, one at a time
    book_step(spec, transform) -> step(params, state, x, y) -> (params, state)
    scores(params, cost, x, y, labels) -> [hits, summed cost, sum w^2, sum |w|, finite]
                                       as backprop.scores, the outputs from ``forward``
    BookEngine(backend, spec)          the plain engine running book_step, scoring by ``scores``

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

Why compat measures with this sigmoid.  nnxp's Sigmoid computes 0.5 + 0.5 tanh(z/2): the same
function, but exactly 0 for z <= -38 where the book's formula still gives distinct tiny values
(2.6e-23 at z = -52), and the book's accuracy is argmax(feedforward(x)): at saturated outputs
the tanh form ties and argmax answers class 0 where the book's answers the largest z.  So
compat's accuracy and cost are measured with BookSigmoid in every layer (training keeps the
engines' sigmoid, to rounding the same, and their fast paths).  Its results are the book's
formula's bits, and the same ties: 1.0 above z = 36.7, 0 below z = -709.78 where e^-z
overflows.

This is as slow as the book's loop in the part that costs (m outer products of a layer's size
per mini-batch): nnxp.compat uses it for SGD only when asked (NNXP_COMPAT_EXACT=1), and always
for the per-example methods (feedforward, backprop, update_mini_batch).
"""

from __future__ import annotations

import math

from ..activations import Sigmoid
from ..costs import CrossEntropyCost, QuadraticCost
from ..engines.plain import PlainEngine
from ..errors import ConfigError
from ..namespace import namespace
from ..optimizers import NETWORK2_RULE, hyper_of, identify

__all__ = ["sigmoid", "BookSigmoid", "forward", "deltas", "gradients", "summed", "outer_summed",
           "book_step", "scores", "BookEngine"]


def sigmoid(z):
    """1 / (1 + e^-z) bit for bit; where e^-z would overflow (z below -log of the dtype's
    largest number) the book's result, 0, without computing the overflow."""
    xp = namespace(z)
    t = -z
    limit = math.log(xp.finfo(z.dtype).max)   # float64: e^limit is the largest finite double
    s = 1.0 / (1.0 + xp.exp(xp.clip(t, max=limit)))
    return xp.where(t > limit, xp.zeros_like(s), s)


class BookSigmoid(Sigmoid):
    """The sigmoid with the book's formula (``sigmoid``): nnxp.compat's measuring activation."""

    name = "BookSigmoid"

    def fn(self, z):
        return sigmoid(z)


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


def deltas(params, cost, x, y, cost_derivative=None):
    """Per example, the error delta^l of every layer (m, n_l, 1) and the activations.
    ``cost_derivative(a, y)`` (columns (n_out, 1), one example at a time), when given, is
    dC/da instead of the quadratic cost's a - y: delta^L = dC/da * sigmoid'(z), network.py's."""
    xp = namespace(x)
    zs, as_ = forward(params, x)
    a = as_[-1]
    y = xp.reshape(y, y.shape + (1,))
    diff = a - y
    if cost_derivative is not None:
        diff = xp.stack([xp.reshape(xp.asarray(cost_derivative(a[i, ...], y[i, ...]),
                                               dtype=a.dtype), a.shape[1:])
                         for i in range(a.shape[0])])
        delta = diff * (a * (1 - a))
    elif cost is QuadraticCost:
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


def gradients(params, cost, x, y, cost_derivative=None):
    """Per example, each layer's (nabla_w (m, n_out, n_in), nabla_b (m, n_out, 1))."""
    ds, as_ = deltas(params, cost, x, y, cost_derivative)
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
    if identify(transform) != NETWORK2_RULE:
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


def scores(params, cost, x, y, labels):
    """backprop.scores with the outputs computed by ``forward``: each example's a^L as the
    book's feedforward gives it, bit for bit (on NumPy), so argmax ties fall as in the book."""
    xp = namespace(x)
    a = forward(params, x)[1][-1]
    a = xp.reshape(a, a.shape[:-1])
    hits = xp.sum(xp.astype(xp.argmax(a, axis=-1) == labels, a.dtype))
    finite = xp.all(xp.stack([xp.all(xp.isfinite(w)) & xp.all(xp.isfinite(b))
                              for w, b in params]))
    return xp.stack([hits, xp.sum(cost.fn(a, y)), sum(xp.sum(w * w) for w, _ in params),
                     sum(xp.sum(xp.abs(w)) for w, _ in params), xp.astype(finite, a.dtype)])


class BookEngine(PlainEngine):
    """The plain engine with the book's step and outputs instead of the backend's."""

    name = "book"

    def step_for(self, transform):
        return book_step(self.spec, transform)

    def scores(self, params, data):
        cost = self.spec.cost
        fn = self.function("book scores", lambda: lambda p, x, y, labels: scores(
            p, cost, x, y, labels))
        with self.backend.device_scope():
            out = fn(params, data.x, data.y, data.labels)
        return self.backend.to_numpy(out).astype(float)
