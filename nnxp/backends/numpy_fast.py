"""NumPy's fast training step: the generic step's arithmetic in fewer, fused calls.

    fast_step(spec, transform) -> step or None
        step(params, state, x, y) -> (params, state), the contract of core.make_step; None when
        the update is not covered (NumpyBackend.make_step then uses core.make_step)
    step.own(params) -> params                         copies, in the layouts the step writes
    step.overwriting() -> run                          a new overwriting step:
        run(params, state, x, y) -> (params, state)    the same step, writing its result over
        ``params`` (arrays from ``step.own``) and returning them: the plain engine's epoch
        (engines/plain.py) copies once, then runs this.  Each ``run`` owns work buffers (the
        weighted inputs, deltas, sums and gradients of one mini-batch size), made at its first
        call and reused while the same parameters and hyper-parameter arrays come back, so a
        step allocates nothing; one ``run`` serves one thread (an engine makes one per epoch).

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
    1) adding a^T delta into that member's w.  With OpenBLAS's Haswell kernels that is the
    same two roundings as gemm's own beta (which scales C first), and faster; its AVX-512
    kernels fold beta into the product: other bits (docs/speed.md).  Smaller layers take one
    batched NumPy update for all members (a matmul into a buffer, then the same two passes), where K
    calls of gemm would cost more than their arithmetic.  ``step`` runs it on a copy of the
    parameters with buffers of its own (the step stays pure); ``step.overwriting()``'s step
    on the parameters themselves, so that an epoch copies the weights once instead of once
    per mini-batch (as the hand-written floor, benchmarks/baselines.py, updates in place;
    here the caller's arrays are never written: the engine owns the copy).
    SciPy's gemm is for epochs that run BLAS on one thread (threads.py; every product of the
    book's networks): when the policy gives more, every layer takes the NumPy update, so that
    only NumPy's thread pool runs (SciPy ships a second OpenBLAS: with both multi-threaded,
    their pools spin against each other on a busy machine; docs/speed.md).  The thread count
    comes from NumpyBackend.limit_threads (BLAS_THREADS), else from the policy;
  * every product, activation and sum writes into a buffer (``out=``); the constants (-eta/m,
    beta, a row of ones) and each layer's paths (``_paths``) are computed once per set of
    buffers, not per mini-batch: what is left per mini-batch is one NumPy or BLAS call per
    operation, fewer calls than the hand-written floor makes;
  * the weights come out of that call in the layout that makes the products of the next step
    fastest (``WIDE``): (n_out, n_in) C order for narrow layers, Fortran order -- a
    contiguous W^T, so that a W^T is a plain GEMM -- for wide ones.  Only the memory order
    changes: shapes and values are those of the generic step;
  * in float32 (``COLUMNS``) a big narrow hidden layer's weighted input a w^T is computed as
    (w a^T)^T: the same sums, by another BLAS kernel, faster for the book's
    (10, 784) x (784, 30) on the CPUs measured (docs/speed.md); float64 keeps a w^T.  Its
    activations are then stored (n_out, m), and the next layer's delta w is computed as
    (w^T delta^T)^T into the same layout, so that sigma'(z) = a (1 - a) multiplies two
    arrays of one memory order (NumPy's fast loop; mixed orders cost it about 3 times more);
  * sigmoid is scipy.special.expit, in place on the weighted inputs (one call instead of
    Sigmoid.fn's four: 0.5 + 0.5 tanh(z/2); never overflows, equal to rounding), tanh runs
    in place, and so does the output error a - y of cross-entropy and log-likelihood;
    constants are 0-d arrays of the step's dtype (a Python float operand costs NumPy a
    conversion per call); the sums over the mini-batch's rows (BP3) are products with a row
    of ones (a BLAS gemv per member: cheaper than np.add.reduce over the middle axis of a
    population's (K, m, n) array, and than np.sum's Python-level wrapper).

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
    shape = _Shape(spec, expit, {np.dtype("float32"): blas.sgemm,
                                 np.dtype("float64"): blas.dgemm})

    def overwriting():
        """A new step that overwrites the parameters it is given (arrays from ``own``), with
        work buffers of its own: one per mini-batch size, made at its first call and reused
        while the same parameters and hyper-parameter arrays come back (an engine's epoch)."""
        works = {}  # m -> (params, eta, decay, run)

        def step(params, state, x, y):
            hyper = state.hyper
            eta, decay = hyper["eta"], hyper["decay"]
            work = works.get(x.shape[0])
            if work is None or work[0] is not params or work[1] is not eta \
                    or work[2] is not decay:
                work = works[x.shape[0]] = (params, eta, decay,
                                            _work(shape, params, eta, decay, x))
            work[3](x, y)
            return params, state

        return step

    def own(params):
        """Copies of ``params`` in the layouts the step writes (see ``WIDE``), for its
        ``overwriting`` variant: the caller's arrays are never written."""
        return tuple((_owned(w, t), np.array(b, order="C"))
                     for (w, b), t in zip(params, shape.transposed))

    def step(params, state, x, y):
        return overwriting()(own(params), state, x, y)

    step.overwriting, step.own = overwriting, own
    return step


class _Shape:
    """What the step decides from the spec alone: each layer's activation kind and layout."""

    def __init__(self, spec, expit, gemms):
        self.expit, self.gemms, self.cost = expit, gemms, spec.cost
        self.activations = tuple(spec.activations)
        self.kinds = tuple(_SIGMOID if type(act) is Sigmoid else _TANH if type(act) is Tanh
                           else None for act in self.activations)
        self.sizes = tuple(spec.sizes)
        self.transposed = tuple(n_out >= WIDE for n_out in self.sizes[1:])
        self.biggest = max(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))


_SIGMOID, _TANH = "sigmoid", "tanh"  # activations the step runs in place


def _paths(sizes, dtype, fused):
    """Each layer's (update, column): update "gemm" (per member, SciPy's BLAS: layers of at
    least BIG weights in a one-thread epoch) or "numpy" (one batched update); ``column`` for
    the product (w a^T)^T (float32, big narrow hidden layers).  Shapes and dtype decide,
    never the number of members."""
    out = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        big = n_in * n_out >= BIG
        column = big and n_out < WIDE and l < len(sizes) - 2 and dtype in COLUMNS
        out.append(("gemm" if big and fused else "numpy", column))
    return tuple(out)


def _work(shape, params, eta, decay, x):
    """run(x, y): one step over the mini-batch (x, y) of x's size, written over ``params``,
    with the hyper-parameters ``eta`` and ``decay``, through buffers made here once."""
    dtype, m = params[0][0].dtype, x.shape[0]  # the parameters' dtype: buffers, constants
    gemm, expit, cost, kinds = shape.gemms[dtype], shape.expit, shape.cost, shape.kinds
    lead = params[0][0].shape[:-2]  # (K,) for a population, () for one network
    one = np.asarray(1.0, dtype)    # a 0-d array: a Python float costs a conversion per call
    row = np.ones(m, dtype)
    scale = np.negative(eta) / m    # -eta/m in the parameters' dtype
    if scale.ndim:
        scale = scale.reshape(-1, 1, 1)
    beta = 1.0 - eta * decay        # 1 - eta lmbda/n
    if beta.ndim:
        beta = beta.reshape(-1, 1, 1)
    count = BLAS_THREADS.get()  # set by NumpyBackend.limit_threads around an epoch
    fused = (threads_for(m * shape.biggest) if count is None else count) == 1
    matmul, add, subtract, tanh = np.matmul, np.add, np.subtract, np.tanh
    last = len(params) - 1
    forward, backward, zs = [], [], [None] * len(params)
    as_ = [x]  # the activations: x, then each layer's buffer (or act.fn's new array)
    paths = _paths(shape.sizes, dtype, fused)
    products = []
    for l, ((w, b), (update, column), kind, act) in enumerate(zip(
            params, paths, kinds, shape.activations)):
        n_out, n_in = w.shape[-2:]
        transposed = shape.transposed[l]
        product = np.empty(lead + ((n_out, m) if column else (m, n_out)), dtype)
        products.append(product)
        z = product.swapaxes(-1, -2) if column else product
        bias = b[..., :, None] if column else b[..., None, :]  # added in the product's layout
        w_t = w.swapaxes(-1, -2)
        forward.append((l, w, w_t, bias, column, product, z, kind, act))
        as_.append(z if kind else None)
        gradient = None  # a buffer for delta^T a in w's memory order, for the numpy update
        targets = _targets(w, transposed) if update == "gemm" else None
        if update == "numpy":
            gradient = np.empty(lead + ((n_in, n_out) if transposed else (n_out, n_in)), dtype)
            gradient = gradient.swapaxes(-1, -2) if transposed else gradient
        g_store = g = g_column = below = None
        if l:  # g = delta w, stored in the layout of a^l (layer l - 1's product), so that
            # g a (1 - a) runs on two arrays of one memory order
            g_column = paths[l - 1][1]
            g_store = np.empty(lead + ((n_in, m) if g_column else (m, n_in)), dtype)
            g = g_store.swapaxes(-1, -2) if g_column else g_store
            below = products[l - 1] if kinds[l - 1] else None
        backward.append((l, w, w_t, b, g_store, g, g_column, below,
                         np.empty(lead + (n_out,), dtype), gradient, targets, transposed,
                         kinds[l - 1] if l else None, shape.activations[l - 1] if l else None))
    backward.reverse()
    delta_last = np.empty(lead + (m, params[-1][0].shape[-2]), dtype)
    simple = cost is not QuadraticCost  # delta = a - y (cross-entropy, log-likelihood)
    activation_last = shape.activations[-1]

    def run(x, y):
        a = as_[0] = x
        for l, w, w_t, bias, column, product, z, kind, act in forward:
            if column:  # (w a^T)^T: the same sums by another BLAS kernel (docs/speed.md)
                matmul(w, a.swapaxes(-1, -2), product)
            else:
                matmul(a, w_t, product)
            add(product, bias, product)
            a = z
            if kind is _SIGMOID:
                expit(product, product)
            elif kind is _TANH:
                tanh(product, product)
            else:  # keep z where the activation's derivative needs it
                zs[l] = z
                a = as_[l + 1] = act.fn(z)
        if simple:
            delta = subtract(a, y, delta_last)
        else:
            delta = cost.delta(zs[last], a, y, activation_last)
        delta *= scale
        for (l, w, w_t, b, g_store, g, g_column, below, summed, gradient, targets, transposed,
             kind, act) in backward:
            if g_column:  # with w before its update
                matmul(w_t, delta.swapaxes(-1, -2), g_store)  # g^T = w^T delta^T
            elif l:
                matmul(delta, w, g_store)
            b += matmul(row, delta, summed)  # the sum over the rows (BP3)
            a = as_[l]
            if gradient is None:
                _update_members(gemm, w, targets, a, delta, beta, transposed)
            else:  # w <- beta w + delta^T a, all members at once (two roundings, as gemm's)
                if transposed:
                    matmul(a.swapaxes(-1, -2), delta, gradient.swapaxes(-1, -2))
                else:
                    matmul(delta.swapaxes(-1, -2), a, gradient)
                w *= beta
                w += gradient
            if l:  # a^l: its last use (layer l's update is done), so overwritten
                if kind is _SIGMOID:
                    g_store *= below  # g a (1 - a), as Sigmoid.backward
                    g_store *= subtract(one, below, below)
                    delta = g
                elif kind is _TANH:
                    below *= below
                    g_store *= subtract(one, below, below)  # g (1 - a^2), as Tanh.backward
                    delta = g
                else:
                    delta = act.backward(zs[l - 1], a, g)

    return run


def _owned(w, transposed):
    """A copy of w (..., n_out, n_in): C order, or with ``transposed`` each W^T C-contiguous."""
    if transposed:
        return np.array(w.swapaxes(-1, -2), order="C").swapaxes(-1, -2)
    return np.array(w, order="C")


def _targets(w, transposed) -> list:
    """The Fortran-contiguous matrices gemm writes for each member of w (..., n_out, n_in):
    w^T for a C-order w, w itself for a ``transposed`` (Fortran-order) one.  Views of the
    parameters, which a step overwrites in place: made once per set of buffers."""
    c = w if transposed else w.swapaxes(-1, -2)
    return [c] if c.ndim == 2 else list(c)


def _update_members(gemm, w, targets, a, delta, beta, transposed):
    """w <- beta w + delta^T a, in place: ``w *= beta`` (all members at once), then one BLAS
    ``gemm`` per member adding its product into its w (gemm's beta 1: the same two roundings
    as the NumPy update).
    ``gemm(alpha, A, B, beta, C, trans_a, trans_b, overwrite_c)`` computes alpha op(A) op(B) +
    beta C into C itself where C is Fortran-contiguous: ``targets`` (_targets), w^T for a
    C-order w, w itself for a ``transposed`` (Fortran-order) one.  Every member's operands
    have the same layout, so the calls (and their flags) are those of a network alone; an
    operand without a member axis (the mini-batch's inputs) is every member's."""
    w *= beta
    if transposed:  # w = delta^T a + w
        p, q = delta.swapaxes(-1, -2), a
    else:           # w^T = a^T delta + w^T
        p, q = a.swapaxes(-1, -2), delta
    (p, trans_p), (q, trans_q) = _fortran(p), _fortran(q)
    ps = [p] * len(targets) if p.ndim == 2 else p
    qs = [q] * len(targets) if q.ndim == 2 else q
    for c, p, q in zip(targets, ps, qs):  # c <- op(p) op(q) + c, in place
        out = gemm(1.0, p, q, 1.0, c, trans_p, trans_q, 1)
        if out is not c:  # pragma: no cover - a layout SciPy had to copy: write it back
            c[...] = out


def _fortran(p):
    """(p, 0) if p's matrices are Fortran-contiguous, else (p^T, 1) where those are: gemm's
    op(A) is p's matrix either way, and SciPy never copies an operand."""
    matrix = p if p.ndim == 2 else p[0]
    if matrix.flags.f_contiguous or not matrix.T.flags.f_contiguous:
        return p, 0
    return p.swapaxes(-1, -2), 1
