"""NumPy's fast training step: the generic step's arithmetic in fewer, fused calls.

    fast_step(spec, transform) -> step or None
        step(params, state, x, y) -> (params, state), the contract of core.make_step; None when
        the update is not covered (NumpyBackend.make_step then uses core.make_step)
    step.own(params) -> params                         copies, in the layouts the step writes
    step.overwriting(params, state, x, y) -> (params, state)
        the same step, writing its result over ``params`` (arrays from ``step.own``) and
        returning them: the plain engine's epoch (engines/plain.py) copies once, then runs this

Covered: every activation and cost of nnxp (activations.py, costs.py) and the update of plain
SGD with L2 weight decay, ``training_chain(sgd(), eta, decay)`` (no L1), for one network or a
population (a leading member axis K on the parameters, the hyper-parameters one per member or
shared).  The update is recognised by the optimizer's registry identity (optimizers.identify:
nnxp's "sgd" with the hyper-parameters eta and decay), and eta and decay are read by name from
the state's dict of hyper-parameters; every other optimizer (momentum, nesterov, adam,
rmsprop, a user's) and L1 fall back to the generic step.  What changes against the generic step
(backprop.py, optimizers.py):

  * the update, w' = beta w + a^T delta with beta = 1 - eta lmbda/n and delta already scaled
    by -eta/m (a small array), is two passes over w and no gradient array: ``w *= beta``,
    then, for a layer of at least ``BIG`` weights, one BLAS ``gemm`` per member (SciPy's, beta
    1) adding a^T delta into that member's w.  That is the same two roundings as gemm's own
    beta (OpenBLAS scales C by beta first), and faster.  Smaller layers take one batched
    NumPy update for all members (a matmul, then the same two passes), where K calls of gemm
    would cost more than their arithmetic.  ``step`` runs it on a copy of w (the step stays
    pure); ``step.overwriting`` on w itself, so that an epoch copies the weights once instead
    of once per mini-batch (as the hand-written floor, benchmarks/baselines.py, updates in
    place; here the caller's arrays are never written: the engine owns the copy).
    SciPy's gemm is for epochs that run BLAS on one thread (threads.py; every product of the
    book's networks): when the policy gives more, every layer takes the NumPy update, so that
    only NumPy's thread pool runs (SciPy ships a second OpenBLAS: with both multi-threaded,
    their pools spin against each other on a busy machine; docs/speed.md).  The thread count
    comes from NumpyBackend.limit_threads (BLAS_THREADS), else from the policy;
  * the weights come out of that call in the layout that makes the products of the next step
    fastest (``WIDE``): (n_out, n_in) C order for narrow layers, Fortran order -- a
    contiguous W^T, so that a W^T is a plain GEMM -- for wide ones.  Only the memory order
    changes: shapes and values are those of the generic step;
  * in float32 (``COLUMNS``) a big narrow hidden layer's weighted input a w^T is computed as
    (w a^T)^T (``_product``): the same sums, by another BLAS kernel, faster for the book's
    (10, 784) x (784, 30) on the CPUs measured (docs/speed.md); float64 keeps a w^T;
  * sigmoid is scipy.special.expit, in place on the fresh array of weighted inputs (one call
    instead of Sigmoid.fn's four: 0.5 + 0.5 tanh(z/2); never overflows, equal to rounding),
    tanh runs in place; constants are 0-d arrays of the step's dtype (a Python float operand
    costs NumPy a conversion per call); the sums over the mini-batch's rows (BP3) are
    products with a row of ones (a BLAS gemv per member: cheaper than np.add.reduce over the
    middle axis of a population's (K, m, n) array, and than np.sum's Python-level wrapper).

The arithmetic is the generic step's rearranged (the scale -eta/m applied to delta^L, decay
folded into beta), so the results agree with core.make_step to rounding (tests/test_numpy_fast.py;
the parity suite holds float64 to 1e-10).  Every member runs the same calls on the same shapes
and memory layouts as a network alone (every choice above depends on the layer's shape and the
dtype, never on K), so a population member is bit-identical to that network trained alone.
Stacking the members' products into one larger GEMM would be faster, but OpenBLAS sums a
larger product in another order (other kernels, other blocking): not the same bits.
"""

from __future__ import annotations

import contextvars

import numpy as np

from ..activations import Sigmoid, Tanh
from ..costs import CrossEntropyCost, LogLikelihoodCost, QuadraticCost
from ..optimizers import NETWORK2_RULE, identify
from .threads import threads_for

# The BLAS thread count NumpyBackend.limit_threads applied (0: the libraries' own), read by the
# step to choose its update: None outside such a context (the step then asks the policy).
BLAS_THREADS: contextvars.ContextVar = contextvars.ContextVar("nnxp_blas_threads", default=None)

__all__ = ["fast_step", "WIDE", "BIG", "COLUMNS", "BLAS_THREADS"]

_COSTS = (QuadraticCost, CrossEntropyCost, LogLikelihoodCost)
WIDE = 256  # layers with at least this many outputs keep W^T contiguous (Fortran-order W)
BIG = 4096  # layers with at least this many weights are updated member by member (gemm)
COLUMNS = (np.dtype("float32"),)  # dtypes in which big narrow hidden layers use (w a^T)^T


def fast_step(spec, transform):
    """The fused step for ``spec`` and ``transform``, or None if they are not covered."""
    if spec.layers is not None or identify(transform) != NETWORK2_RULE \
            or spec.cost not in _COSTS:  # a layered spec runs the generic step (core.py)
        return None
    try:
        from scipy.linalg import blas
        from scipy.special import expit
    except ImportError:  # pragma: no cover - scipy is a dependency; a broken install falls back
        return None
    gemms = {np.dtype("float32"): blas.sgemm, np.dtype("float64"): blas.dgemm}
    # 1 as a 0-d array of the step's dtype: a Python float costs NumPy a conversion per call
    ones = {dt: np.asarray(1.0, dt) for dt in gemms}
    rows = {}  # (dtype, m): a row of m ones
    activations = tuple(spec.activations)
    act_in_place = tuple(type(act) in (Sigmoid, Tanh) for act in activations)
    transposed = tuple(n_out >= WIDE for n_out in spec.sizes[1:])
    per_member = tuple(n_in * n_out >= BIG for n_in, n_out in zip(spec.sizes, spec.sizes[1:]))
    columns = tuple(big and not t for big, t in zip(per_member[:-1], transposed)) + (False,)
    cost = spec.cost
    biggest = max(a * b for a, b in zip(spec.sizes[:-1], spec.sizes[1:]))

    def make(overwrite):
        """The step; with ``overwrite`` the variant that overwrites the parameters it is given
        (arrays from ``own``), for an engine that owns them for the rest of an epoch."""

        def step(params, state, x, y):
            hyper = state.hyper
            eta, rate = hyper["eta"], hyper["decay"]
            gemm = gemms[x.dtype]
            one = ones[x.dtype]
            m = x.shape[0]
            row = rows.get((x.dtype, m))
            if row is None:
                row = rows[x.dtype, m] = np.ones(m, x.dtype)
            scale = np.negative(eta) / m                   # -eta/m in the parameters' dtype
            beta = 1.0 - eta * rate                        # 1 - eta lmbda/n
            # forward: keep z only where the activation's derivative needs it
            zs, as_ = [], [x]
            for l, ((w, b), act, inplace) in enumerate(zip(params, activations, act_in_place)):
                z = _product(as_[-1], w, x.dtype in COLUMNS and columns[l])
                z += b[..., None, :]
                if inplace:
                    zs.append(None)
                    as_.append(expit(z, out=z) if type(act) is Sigmoid else np.tanh(z, out=z))
                else:
                    zs.append(z)
                    as_.append(act.fn(z))
            delta = cost.delta(zs[-1], as_[-1], y, activations[-1])  # new: scaled in place
            delta *= scale if scale.ndim == 0 else scale.reshape(-1, 1, 1)
            if beta.ndim:
                beta = beta.reshape(-1, 1, 1)
            new = [None] * len(params)
            count = BLAS_THREADS.get()  # set by NumpyBackend.limit_threads around an epoch
            fused = (threads_for(m * biggest) if count is None else count) == 1
            for l in range(len(params) - 1, -1, -1):
                w, b = params[l]
                g = np.matmul(delta, w) if l else None  # with w before its update
                summed = np.matmul(row, delta)                 # sum over the rows (BP3)
                if overwrite:
                    b += summed
                else:
                    w, b = _owned(w, transposed[l]), b + summed
                if fused and per_member[l]:
                    _update_members(gemm, w, as_[l], delta, beta, transposed[l])
                else:
                    _update_numpy(w, as_[l], delta, beta, transposed[l])
                new[l] = (w, b)
                if l:
                    a = as_[l]  # a^l: its last use (layer l's update is done), so overwritten
                    if act_in_place[l - 1]:
                        if type(activations[l - 1]) is Sigmoid:
                            g *= a                     # g a (1 - a), as Sigmoid.backward
                            g *= np.subtract(one, a, out=a)
                        else:
                            a *= a
                            g *= np.subtract(one, a, out=a)  # g (1 - a^2), as Tanh.backward
                        delta = g
                    else:
                        delta = activations[l - 1].backward(zs[l - 1], a, g)
            return tuple(new), state

        return step

    def own(params):
        """Copies of ``params`` in the layouts the step writes (see ``WIDE``), for its
        ``overwriting`` variant: the caller's arrays are never written."""
        return tuple((_owned(w, t), np.array(b, order="C"))
                     for (w, b), t in zip(params, transposed))

    step = make(False)
    step.overwriting, step.own = make(True), own
    return step


def _product(a, w, column):
    """z = a w^T, (..., m, n_out): as (a w^T) or, with ``column``, as (w a^T)^T, a view of the
    (..., n_out, m) product (the same sums, but another BLAS kernel: faster for float32 at
    small m on some CPUs, docs/speed.md)."""
    if column:
        return np.matmul(w, a.swapaxes(-1, -2)).swapaxes(-1, -2)
    return np.matmul(a, w.swapaxes(-1, -2))


def _owned(w, transposed):
    """A copy of w (..., n_out, n_in): C order, or with ``transposed`` each W^T C-contiguous."""
    if transposed:
        return np.array(w.swapaxes(-1, -2), order="C").swapaxes(-1, -2)
    return np.array(w, order="C")


def _update_numpy(w, a, delta, beta, transposed):
    """w <- beta w + delta^T a for every member at once, in two passes over w (two roundings:
    beta w, then + the product), through NumPy's own BLAS."""
    g = _gradient(a, delta, transposed)
    w *= beta
    w += g


def _gradient(a, delta, transposed):
    """delta^T a (..., n_out, n_in), by the product whose result has w's memory order."""
    if transposed:
        return np.matmul(a.swapaxes(-1, -2), delta).swapaxes(-1, -2)
    return np.matmul(delta.swapaxes(-1, -2), a)


def _update_members(gemm, w, a, delta, beta, transposed):
    """w <- beta w + delta^T a, in place: ``w *= beta`` (all members at once), then one BLAS
    ``gemm`` per member adding its product into its w (gemm's beta 1: the same two roundings
    as gemm's own beta, which scales C first, and as ``_update_numpy``).
    ``gemm(alpha, A, B, beta, C, trans_a, trans_b, overwrite_c)`` computes alpha op(A) op(B) +
    beta C into C itself where C is Fortran-contiguous: w^T for a C-order w, w itself for a
    ``transposed`` (Fortran-order) one.  Every member's operands have the same layout, so the
    calls (and their flags) are those of a network alone."""
    w *= beta
    if transposed:  # w = delta^T a + w
        c, p, q = w, delta.swapaxes(-1, -2), a
    else:           # w^T = a^T delta + w^T
        c, p, q = w.swapaxes(-1, -2), a.swapaxes(-1, -2), delta
    (p, trans_p), (q, trans_q) = _fortran(p), _fortran(q)
    if c.ndim == 2:
        _gemm_into(gemm, c, p, q, trans_p, trans_q)
        return
    for k in range(c.shape[0]):
        _gemm_into(gemm, c[k], p if p.ndim == 2 else p[k], q if q.ndim == 2 else q[k],
                   trans_p, trans_q)


def _fortran(p):
    """(p, 0) if p's matrices are Fortran-contiguous, else (p^T, 1) where those are: gemm's
    op(A) is p's matrix either way, and SciPy never copies an operand."""
    matrix = p if p.ndim == 2 else p[0]
    if matrix.flags.f_contiguous or not matrix.T.flags.f_contiguous:
        return p, 0
    return p.swapaxes(-1, -2), 1


def _gemm_into(gemm, c, p, q, trans_p, trans_q):
    """c <- op(p) op(q) + c, in place (c Fortran-contiguous, so SciPy does not copy it)."""
    out = gemm(1.0, p, q, 1.0, c, trans_p, trans_q, 1)
    if out is not c:  # pragma: no cover - a layout SciPy had to copy: write the result back
        c[...] = out
