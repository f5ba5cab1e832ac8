"""The competitors in nnxp's speed benchmark: one training epoch, written the ways a user would.

Every contender does the same work: network2's mini-batch SGD on a fully connected sigmoid
network with the cross-entropy cost (output delta a - y) and network2's update rule,

    w <- (1 - eta*lmbda/n) w - (eta/m) sum_x grad_w,     b <- b - (eta/m) sum_x grad_b,

n the number of training images, m the size of the mini-batch at hand (the last, smaller batch
of an epoch uses its own size, as network2 does).  One epoch visits the training set in the
order of a permutation drawn on the host with numpy.random.Generator and cut into consecutive
mini-batches.  (scikit-learn is the exception on two counts, see SklearnMLP; Keras shuffles its
own way unless told otherwise, see KerasJax.)

Interface (what the benchmark runner calls):

    CONTENDERS                                   {name: class}, in the order of the table
    make(name, sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None,
         **options)            options: jax_scan's gather="epoch"|"batch", torch_eager's
                               num_threads=None|int, keras_jax's shuffle="keras"|"perm" and
                               steps_per_execution=1
    make_network2_loop(...), make_numpy_vectorized(...), make_jax_scan(...),
    make_jax_scan_rows(...), make_torch_eager(...), make_sklearn_mlp(...),
    make_keras_jax(...)                                   the same, one per contender
        -> Contender with
           .prepare(X, Y)        X (n, n_in) float, Y (n, n_out) one-hot, host NumPy; moves or
                                 converts the data where the contender needs it (not timed)
           .run_epoch(perm)      one full epoch in the order perm (int array (n,)); returns when
                                 the work is done (JAX: block_until_ready), returns nothing
           .compile_seconds      None, or the one-off compile time spent in the first run_epoch
           .weights()            [(W (n_out, n_in), b (n_out,)), ...] as host NumPy arrays
    initial_parameters(sizes, seed, dtype) -> [(W, b), ...]   W ~ N(0,1)/sqrt(n_in), b ~ N(0,1)
    time_contender(contender, X, Y, epochs=4, seed=0) -> dict  (calls prepare, then times)
    matmul_flops(dtype="float32", n=2048, repeats=5) -> GFLOP/s of one NumPy n x n matmul
    epoch_flops(sizes, n_train, m, input_delta=False) -> flops of one epoch's matmuls

``params`` (a list of host (W, b) pairs) starts a contender from given weights, e.g. the ones an
nnxp Network drew, instead of drawing its own from ``seed``.  Packages other than NumPy are
imported when a contender is made, so this module imports without them.

    python -m benchmarks.baselines --quick      one canonical-row epoch per contender on MNIST
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
import warnings

import numpy as np

__all__ = ["CONTENDERS", "Contender", "make", "make_network2_loop", "make_numpy_vectorized",
           "make_jax_scan", "make_jax_scan_rows", "make_torch_eager", "make_sklearn_mlp",
           "make_keras_jax", "initial_parameters",
           "time_contender", "matmul_flops", "epoch_flops"]

FLOAT_DTYPES = ("float32", "float64")


def initial_parameters(sizes, seed=0, dtype="float64"):
    """[(W (n_out, n_in), b (n_out,)), ...]: network2's default initializer, drawn on the host.

    One numpy.random.Generator(seed) draws, layer by layer, W ~ N(0, 1)/sqrt(n_in) then
    b ~ N(0, 1), in float64, cast to ``dtype`` at the end.  That is nnxp's Network's order, but
    not its stream (it seeds a spawned SeedSequence): to start a contender from the very weights
    of an nnxp network, pass them as ``params``.
    """
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)
        b = rng.standard_normal(n_out)
        params.append((W.astype(dtype), b.astype(dtype)))
    return params


class Contender:
    """What the contenders share: the hyper-parameters, the starting weights, checks."""

    name = "contender"
    compile_seconds = None

    def __init__(self, sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None):
        if str(np.dtype(dtype)) not in FLOAT_DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
        self.sizes = [int(s) for s in sizes]
        self.eta, self.lmbda = float(eta), float(lmbda)
        self.mini_batch_size = int(mini_batch_size)
        self.dtype = np.dtype(dtype)
        self.seed = seed
        start = initial_parameters(self.sizes, seed) if params is None else params
        self.initial = [(np.array(W, dtype=self.dtype), np.array(b, dtype=self.dtype).reshape(-1))
                        for W, b in start]
        self.n = None

    def _host_data(self, X, Y):
        """X, Y as C-contiguous arrays of the contender's dtype; records n."""
        X = np.ascontiguousarray(X, dtype=self.dtype)
        Y = np.ascontiguousarray(Y, dtype=self.dtype)
        if X.ndim != 2 or Y.shape != (X.shape[0], self.sizes[-1]) or X.shape[1] != self.sizes[0]:
            raise ValueError(f"expected X (n, {self.sizes[0]}) and one-hot Y (n, "
                             f"{self.sizes[-1]}), got {X.shape} and {Y.shape}")
        self.n = X.shape[0]
        return X, Y

    def _check_perm(self, perm):
        if self.n is None:
            raise RuntimeError(f"{self.name}: call prepare(X, Y) before run_epoch")
        perm = np.asarray(perm)
        if perm.shape != (self.n,):
            raise ValueError(f"perm must have shape ({self.n},), got {perm.shape}")
        return perm

    def prepare(self, X, Y):
        raise NotImplementedError

    def run_epoch(self, perm):
        raise NotImplementedError

    def weights(self):
        raise NotImplementedError

    def __repr__(self):
        return (f"{type(self).__name__}(sizes={self.sizes}, eta={self.eta}, lmbda={self.lmbda}, "
                f"mini_batch_size={self.mini_batch_size}, dtype={self.dtype})")


# -- 1. network2's per-example loop ----------------------------------------------------------

def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_prime(z):
    return _sigmoid(z) * (1 - _sigmoid(z))


class Network2Loop(Contender):
    """network2.py's algorithm as people first meet it: backprop one column vector at a time.

    update_mini_batch and backprop below follow network2 line by line (CrossEntropyCost's
    delta is a - y).  The only change: the gradient accumulators are zeros of the weights'
    dtype, so a float32 run stays float32 (network2's np.zeros would promote it to float64).
    The shuffle is the given permutation instead of random.shuffle, and network2's
    ``self.weights`` is ``self.weights_`` here (``weights()`` is the contenders' interface).
    """

    name = "network2_loop"

    def prepare(self, X, Y):
        X, Y = self._host_data(X, Y)
        # column vectors (n_in, 1) and (n_out, 1), as network2's mnist_loader makes them
        self.training_data = [(x.reshape(-1, 1), y.reshape(-1, 1)) for x, y in zip(X, Y)]
        self.num_layers = len(self.sizes)
        self.biases = [b.reshape(-1, 1).copy() for _, b in self.initial]
        self.weights_ = [W.copy() for W, _ in self.initial]

    def run_epoch(self, perm):
        perm = self._check_perm(perm)
        training_data = [self.training_data[i] for i in perm]
        n, m = self.n, self.mini_batch_size
        mini_batches = [training_data[k:k + m] for k in range(0, n, m)]
        with np.errstate(over="ignore"):  # exp(-z) overflows to inf for very negative z: fine
            for mini_batch in mini_batches:
                self.update_mini_batch(mini_batch, self.eta, self.lmbda, n)

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        nabla_b = [np.zeros(b.shape, b.dtype) for b in self.biases]
        nabla_w = [np.zeros(w.shape, w.dtype) for w in self.weights_]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights_ = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
                         for w, nw in zip(self.weights_, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights_]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights_):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = _sigmoid(z)
            activations.append(activation)
        delta = activations[-1] - y  # CrossEntropyCost.delta(z, a, y)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = _sigmoid_prime(z)
            delta = np.dot(self.weights_[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w

    def weights(self):
        return [(w.copy(), b.reshape(-1).copy()) for w, b in zip(self.weights_, self.biases)]


# -- 2. hand-vectorized NumPy: the floor for NumPy -------------------------------------------

class NumpyVectorized(Contender):
    """Matrix-form backprop over a whole mini-batch, rows = examples, as fast as plain NumPy goes.

    Per epoch the shuffled data are gathered once into preallocated buffers (np.take with out=
    and mode="clip": no 160 MB allocation, no page faults, no bounds-check copy); a mini-batch is
    a slice of them (a view).  Weights are kept transposed, (n_in, n_out), so x @ W^T is a plain
    C-order GEMM.  Every intermediate has a preallocated buffer written with out=, the delta is
    scaled by eta/m once (a small array) so the gradient GEMMs produce the update directly, and
    the weights are decayed and updated in place.  Sigmoid is the naive 1/(1+exp(-z)), whose
    exp overflows harmlessly to inf (errstate silences the warning).
    """

    name = "numpy_vectorized"

    def prepare(self, X, Y):
        self._X, self._Y = self._host_data(X, Y)
        self._Xs, self._Ys = np.empty_like(self._X), np.empty_like(self._Y)
        self._WT = [np.ascontiguousarray(W.T) for W, _ in self.initial]  # (n_in, n_out)
        self._W = [wt.T for wt in self._WT]                               # (n_out, n_in) views
        self._b = [b.copy() for _, b in self.initial]
        self._g = [np.empty_like(wt) for wt in self._WT]                  # eta/m * grad_w
        self._sb = [np.empty_like(b) for b in self._b]                    # eta/m * grad_b
        m, dt = self.mini_batch_size, self.dtype
        acts = [None] + [np.empty((m, s), dt) for s in self.sizes[1:]]    # acts[0]: the batch
        deltas = [np.empty((m, s), dt) for s in self.sizes[1:-1]]         # hidden layers
        tmps = [np.empty((m, s), dt) for s in self.sizes[1:-1]]           # a * (1 - a)
        self._buffers = {m: (acts, deltas, tmps)}
        r = self.n % m
        if r:  # the last, smaller batch: leading rows of the same buffers (still C-contiguous)
            self._buffers[r] = ([None] + [a[:r] for a in acts[1:]],
                                [d[:r] for d in deltas], [t[:r] for t in tmps])

    def run_epoch(self, perm):
        perm = self._check_perm(perm)
        Xs, Ys = self._Xs, self._Ys
        np.take(self._X, perm, axis=0, out=Xs, mode="clip")
        np.take(self._Y, perm, axis=0, out=Ys, mode="clip")
        n, m, L = self.n, self.mini_batch_size, len(self._WT)
        WT, W, b, g, sb, buffers = self._WT, self._W, self._b, self._g, self._sb, self._buffers
        eta, decay = self.eta, 1.0 - self.eta * self.lmbda / n
        dot, add, sub, mul = np.dot, np.add, np.subtract, np.multiply
        neg, exp, recip, reduce = np.negative, np.exp, np.reciprocal, np.add.reduce
        with np.errstate(over="ignore"):
            for k in range(0, n, m):
                xb, yb = Xs[k:k + m], Ys[k:k + m]
                size = xb.shape[0]
                acts, deltas, tmps = buffers[size]
                acts[0] = a = xb
                for l in range(L):  # forward: a <- sigmoid(a W^T + b), in place
                    z = acts[l + 1]
                    dot(a, WT[l], out=z)
                    add(z, b[l], out=z)
                    neg(z, out=z)
                    exp(z, out=z)
                    z += 1
                    a = recip(z, out=z)
                d = a  # the output activations' buffer becomes (eta/m) * delta
                sub(d, yb, out=d)
                mul(d, eta / size, out=d)
                for l in range(L - 1, -1, -1):  # backward, updating each layer once it is used
                    a = acts[l]
                    if l:
                        d_prev, t = deltas[l - 1], tmps[l - 1]
                        dot(d, W[l], out=d_prev)  # with the weights before this step's update
                        sub(1, a, out=t)
                        mul(t, a, out=t)
                        mul(d_prev, t, out=d_prev)
                    dot(a.T, d, out=g[l])
                    mul(WT[l], decay, out=WT[l])
                    sub(WT[l], g[l], out=WT[l])
                    reduce(d, axis=0, out=sb[l])
                    sub(b[l], sb[l], out=b[l])
                    if l:
                        d = d_prev

    def weights(self):
        return [(wt.T.copy(), b.copy()) for wt, b in zip(self._WT, self._b)]


# -- 2b. the minimal vectorized NumPy loop a researcher writes first -------------------------

class NumpyMinimal(Contender):
    """The straightforward vectorized loop: matrix-form backprop over the mini-batch (rows =
    examples), X[perm] gathered once per epoch, slices as views, new arrays for every result,
    network2's update written as it reads.  No buffers, no out=, no transposed storage: what a
    researcher writes after reading chapter 2, and the floor the issue calls "minimal"."""

    name = "numpy_minimal"

    def prepare(self, X, Y):
        self._X, self._Y = self._host_data(X, Y)
        self._P = [(W.copy(), b.copy()) for W, b in self.initial]

    def run_epoch(self, perm):
        perm = self._check_perm(perm)
        X, Y = self._X[perm], self._Y[perm]
        n, m, eta, lmbda, P = self.n, self.mini_batch_size, self.eta, self.lmbda, self._P
        with np.errstate(over="ignore"):
            for k in range(0, n, m):
                x, y = X[k:k + m], Y[k:k + m]
                acts = [x]
                for W, b in P:
                    acts.append(1.0 / (1.0 + np.exp(-(acts[-1] @ W.T + b))))
                delta = acts[-1] - y
                grads = []
                for l in range(len(P) - 1, -1, -1):
                    grads.append((delta.T @ acts[l], delta.sum(axis=0)))
                    if l:
                        delta = (delta @ P[l][0]) * acts[l] * (1 - acts[l])
                grads.reverse()
                size = x.shape[0]
                P = [((1 - eta * lmbda / n) * W - (eta / size) * gw, b - (eta / size) * gb)
                     for (W, b), (gw, gb) in zip(P, grads)]
        self._P = P

    def weights(self):
        return [(W.copy(), b.copy()) for W, b in self._P]


# -- 3. a minimal JAX epoch: jit over lax.scan -----------------------------------------------

def _jax_epoch_fn(sizes, eta, lmbda, n, m, gather="epoch"):
    """The pure epoch (params, X, Y, perm) -> params, hyper-parameters baked in as constants.

    gather="epoch": take X[perm] once, then scan over (n // m, m, features) slices of it;
    gather="batch": scan over (n // m, m) slices of perm and take each mini-batch's rows inside
    the step (no epoch-sized copy; what nnxp's JAX engine does).  Which is faster depends on
    the machine and the mini-batch size: bench_mnist.py measures both.
    """
    import jax
    import jax.numpy as jnp

    decay = 1.0 - eta * lmbda / n
    n_full, r = divmod(n, m)

    def step(params, xb, yb):
        lr = eta / xb.shape[0]  # a Python constant: the batch size is static
        acts = [xb]
        for W, b in params:
            acts.append(1 / (1 + jnp.exp(-(acts[-1] @ W.T + b))))
        d = acts[-1] - yb
        new = [None] * len(params)
        for l in range(len(params) - 1, -1, -1):
            W, b = params[l]
            new[l] = (decay * W - lr * (d.T @ acts[l]), b - lr * d.sum(axis=0))
            if l:
                d = (d @ W) * acts[l] * (1 - acts[l])
        return tuple(new)

    def epoch(params, X, Y, perm):
        if gather == "batch":
            def body(p, idx):
                return step(p, jnp.take(X, idx, axis=0), jnp.take(Y, idx, axis=0)), None

            if n_full:
                params, _ = jax.lax.scan(body, params, perm[:n_full * m].reshape(n_full, m))
            if r:
                params, _ = body(params, perm[n_full * m:])
            return params
        Xs, Ys = jnp.take(X, perm, axis=0), jnp.take(Y, perm, axis=0)
        if n_full:
            batches = (Xs[:n_full * m].reshape(n_full, m, -1),
                       Ys[:n_full * m].reshape(n_full, m, -1))
            params, _ = jax.lax.scan(lambda p, xy: (step(p, *xy), None), params, batches)
        if r:
            params = step(params, Xs[n_full * m:], Ys[n_full * m:])
        return params

    return epoch


class JaxScan(Contender):
    """jax.jit of one epoch: gather by the permutation on the device, lax.scan of the pure step.

    Data and weights go to the device once, in prepare; run_epoch moves only the permutation
    (int32, 200 kB).  ``gather`` chooses where the permutation is applied (see _jax_epoch_fn):
    "batch" gathers each mini-batch inside the step, "epoch" (the default here) makes a shuffled
    copy of the whole training set first (nnxp's JAX engine, nnxp/engines/jax_scan.py, does
    neither: it gathers blocks of about 1024 rows).  JAX's floor in the benchmark is
    JaxScanRows; these two are kept for comparison.  The
    hyper-parameters are Python constants baked into the program (nnxp keeps them as device
    arrays so that a new eta never recompiles).  The program is compiled ahead of time
    on the first run_epoch, and that time is ``compile_seconds``.  The weights are donated, so
    XLA may update them in place.  float64 turns on jax_enable_x64 for the whole process (JAX
    has no other way to it).
    """

    name = "jax_scan"

    def __init__(self, *args, gather="epoch", **kwargs):
        super().__init__(*args, **kwargs)
        if gather not in ("epoch", "batch"):
            raise ValueError(f"gather must be 'epoch' or 'batch', got {gather!r}")
        self.gather = gather
        import jax
        if self.dtype == np.float64 and not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)
        self._jax = jax
        self._compiled = None

    def prepare(self, X, Y):
        jax = self._jax
        X, Y = self._host_data(X, Y)
        self._X, self._Y = jax.device_put(X), jax.device_put(Y)
        self._params = jax.device_put(tuple((W, b) for W, b in self.initial))
        jax.block_until_ready((self._X, self._Y, self._params))
        self._epoch = jax.jit(_jax_epoch_fn(self.sizes, self.eta, self.lmbda, self.n,
                                            self.mini_batch_size, self.gather),
                              donate_argnums=0)
        self._compiled = None

    def run_epoch(self, perm):
        jax = self._jax
        perm = jax.device_put(self._check_perm(perm).astype(np.int32))
        if self._compiled is None:
            start = time.perf_counter()
            self._compiled = self._epoch.lower(self._params, self._X, self._Y, perm).compile()
            self.compile_seconds = time.perf_counter() - start
        self._params = self._compiled(self._params, self._X, self._Y, perm)
        jax.block_until_ready(self._params)

    def weights(self):
        return [(np.asarray(W).copy(), np.asarray(b).copy()) for W, b in self._params]


# -- 3b. JAX's floor: the epoch gathered once, row layout, jax.nn.sigmoid ---------------------

def _jax_rows_epoch_fn(sizes, eta, lmbda, n, m):
    """The pure epoch (params, X, Y, perm) -> params with W stored (n_in, n_out) and used as
    ``x @ W``, ``jax.nn.sigmoid``, X[perm] gathered once and scanned over (n // m, m, features)
    slices of it; hyper-parameters baked in as Python constants."""
    import jax
    import jax.numpy as jnp

    del sizes
    decay = 1.0 - eta * lmbda / n
    n_full, r = divmod(n, m)

    def step(params, xb, yb):
        lr = eta / xb.shape[0]  # a Python constant: the batch size is static
        acts = [xb]
        for W, b in params:
            acts.append(jax.nn.sigmoid(acts[-1] @ W + b))
        d = acts[-1] - yb
        new = [None] * len(params)
        for l in range(len(params) - 1, -1, -1):
            W, b = params[l]
            new[l] = (decay * W - lr * (acts[l].T @ d), b - lr * d.sum(axis=0))
            if l:
                d = (d @ W.T) * acts[l] * (1 - acts[l])
        return tuple(new)

    def epoch(params, X, Y, perm):
        Xs, Ys = jnp.take(X, perm, axis=0), jnp.take(Y, perm, axis=0)
        if n_full:
            batches = (Xs[:n_full * m].reshape(n_full, m, -1),
                       Ys[:n_full * m].reshape(n_full, m, -1))
            params, _ = jax.lax.scan(lambda p, xy: (step(p, *xy), None), params, batches)
        if r:
            params = step(params, Xs[n_full * m:], Ys[n_full * m:])
        return params

    return epoch


class JaxScanRows(JaxScan):
    """JAX's floor as most JAX code is written: weights stored (n_in, n_out) so that a layer is
    ``x @ W + b`` (rows = examples, no transpose in the forward pass), ``jax.nn.sigmoid``, the
    shuffled epoch gathered once (``X[perm]``) and ``lax.scan`` over its mini-batches, the
    weights donated.  Otherwise as JaxScan (constants baked in, compiled ahead of time on the
    first run_epoch); ``weights()`` returns W transposed back to (n_out, n_in)."""

    name = "jax_scan_rows"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, gather="epoch", **kwargs)

    def prepare(self, X, Y):
        jax = self._jax
        X, Y = self._host_data(X, Y)
        self._X, self._Y = jax.device_put(X), jax.device_put(Y)
        self._params = jax.device_put(tuple((np.ascontiguousarray(W.T), b)
                                            for W, b in self.initial))
        jax.block_until_ready((self._X, self._Y, self._params))
        self._epoch = jax.jit(_jax_rows_epoch_fn(self.sizes, self.eta, self.lmbda, self.n,
                                                 self.mini_batch_size), donate_argnums=0)
        self._compiled = None

    def weights(self):
        return [(np.asarray(W).T.copy(), np.asarray(b).copy()) for W, b in self._params]


# -- 4. PyTorch eager with autograd ----------------------------------------------------------

class TorchEager(Contender):
    """What a PyTorch user writes: nn.Linear layers, autograd, torch.optim.SGD, on the CPU.

    The last layer gives logits and the loss is BCEWithLogits summed over the outputs and
    averaged over the batch, so d loss / d z = (sigmoid(z) - y)/m: network2's cross-entropy
    delta and (1/m) sum.  SGD(lr=eta) with weight_decay=lmbda/n on the weights (not the biases)
    is w <- w - eta*(grad + lmbda/n w) = (1 - eta*lmbda/n) w - eta*grad: network2's rule.
    Thread count, optimizer implementation and the rest are left at PyTorch's defaults;
    ``num_threads`` calls torch.set_num_threads (for the whole process) in prepare.  On a
    2-core machine with anything else running, the default 2 OpenMP threads can be several
    times slower than 1, from one epoch to the next: compare before believing a slow number.
    """

    name = "torch_eager"

    def __init__(self, *args, num_threads=None, **kwargs):
        super().__init__(*args, **kwargs)
        import torch
        self._torch = torch
        self.num_threads = num_threads
        self._tdtype = {np.dtype("float32"): torch.float32,
                        np.dtype("float64"): torch.float64}[self.dtype]

    def prepare(self, X, Y):
        torch, nn = self._torch, self._torch.nn
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        X, Y = self._host_data(X, Y)
        self._X, self._Y = torch.from_numpy(X.copy()), torch.from_numpy(Y.copy())
        layers = []
        for (W, b), n_in, n_out in zip(self.initial, self.sizes[:-1], self.sizes[1:]):
            linear = nn.Linear(n_in, n_out, dtype=self._tdtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, nn.Sigmoid()]
        self.linears = layers[::2]
        self.model = nn.Sequential(*layers[:-1])  # logits out: the loss applies the sigmoid
        self.optimizer = torch.optim.SGD(
            [{"params": [lin.weight for lin in self.linears], "weight_decay": self.lmbda / self.n},
             {"params": [lin.bias for lin in self.linears], "weight_decay": 0.0}],
            lr=self.eta)

    def run_epoch(self, perm):
        torch = self._torch
        loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
        index = torch.from_numpy(self._check_perm(perm).astype(np.int64))
        Xs, Ys = self._X[index], self._Y[index]
        model, optimizer, m = self.model, self.optimizer, self.mini_batch_size
        for k in range(0, self.n, m):
            xb, yb = Xs[k:k + m], Ys[k:k + m]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb, reduction="sum") / xb.shape[0]
            loss.backward()
            optimizer.step()

    def weights(self):
        return [(lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy())
                for lin in self.linears]


# -- 5. scikit-learn's MLPClassifier ---------------------------------------------------------

class SklearnMLP(Contender):
    """scikit-learn's MLPClassifier with plain SGD, one partial_fit per epoch.

    Same amount of work per epoch, not the same numbers, on two counts:
    * the output layer is softmax with log-loss (scikit-learn's choice for multiclass), not
      sigmoid with cross-entropy; its delta is also a - y, so the matmuls are the same;
    * it shuffles with its own RNG (a RandomState seeded with ``seed``, advancing from epoch to
      epoch), so ``perm`` only sets n: the order differs, the work does not.
    Scaling: scikit-learn's gradient is (sum_x grad + alpha W)/m, and the update W -= lr * grad.
    So learning_rate_init = eta gives network2's (eta/m) sum, and alpha = lmbda*m/n gives
    network2's decay eta*lmbda/n per step (for full batches).  Initial weights are
    scikit-learn's own (Glorot uniform); weights() returns them transposed to (n_out, n_in).
    scikit-learn also computes the loss and the L2 norm of the weights at every step.
    """

    name = "sklearn_mlp"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from sklearn.neural_network import MLPClassifier
        self._MLPClassifier = MLPClassifier
        self.model = None

    def prepare(self, X, Y):
        X, Y = self._host_data(X, Y)
        self._X, self._y = X, np.argmax(Y, axis=1)
        self._classes = np.arange(self.sizes[-1])
        self.model = self._MLPClassifier(
            hidden_layer_sizes=tuple(self.sizes[1:-1]), activation="logistic", solver="sgd",
            batch_size=self.mini_batch_size, learning_rate="constant",
            learning_rate_init=self.eta, alpha=self.lmbda * self.mini_batch_size / self.n,
            momentum=0.0, nesterovs_momentum=False, shuffle=True, max_iter=1, warm_start=True,
            early_stopping=False,
            # an instance, not an int: an int re-seeds every partial_fit, same order each epoch
            random_state=np.random.RandomState(self.seed))

    def run_epoch(self, perm):
        from sklearn.exceptions import ConvergenceWarning
        self._check_perm(perm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.partial_fit(self._X, self._y, classes=self._classes)

    @property
    def loss_curve(self):
        """scikit-learn's mean training loss of each epoch so far."""
        return list(self.model.loss_curve_)

    def weights(self):
        return [(c.T.copy(), b.copy()) for c, b in zip(self.model.coefs_, self.model.intercepts_)]


# -- 6. Keras 3 on its JAX backend -----------------------------------------------------------

class KerasJax(Contender):
    """Keras 3 as a Keras user writes it: ``keras.Sequential`` of Dense layers, ``model.fit``
    with ``keras.optimizers.SGD(learning_rate=eta)`` and ``jit_compile=True``, on Keras's JAX
    backend (``KERAS_BACKEND=jax`` is set here unless already set, before keras is imported;
    a keras already imported on another backend raises ImportError, so the benchmark skips it).

    The same network and arithmetic as network2, stated term by term:
    * the hidden layers are Dense(activation="sigmoid"); the last Dense gives logits and the loss
      is ``keras.ops.binary_crossentropy(y, z, from_logits=True)`` summed over the outputs, which
      Keras averages over the mini-batch: d loss / d z = (sigmoid(z) - y)/m, network2's
      cross-entropy delta and (1/m) sum (Keras's ``from_logits=False`` on sigmoid outputs would
      clip them to [1e-7, 1 - 1e-7] and zero the gradient of saturated outputs);
    * ``kernel_regularizer=L2(lmbda / (2 n))`` on every kernel (not the biases): Keras adds
      l2 sum(w^2) to the mini-batch's mean loss, whose gradient 2 l2 w = (lmbda/n) w gives
      network2's decay eta lmbda/n per step (the last, smaller mini-batch too);
    * kernels are stored (n_in, n_out), ``x @ W``; ``weights()`` returns them transposed.
    ``shuffle="keras"`` (the default, what ``fit`` does unless told otherwise): ``fit(X, Y,
    shuffle=True)`` on the host arrays, Keras drawing its own permutation each epoch (NumPy's
    global generator, seeded in prepare) and gathering each mini-batch from it on the host, so
    ``perm`` sets only n: the same work, another order.  ``shuffle="perm"``: ``fit(X[perm],
    Y[perm], shuffle=False)``, the given order, an epoch-sized host gather first (for checking
    the arithmetic against the others).  ``steps_per_execution`` is fit's (default 1: one
    compiled call per mini-batch, as most users run it).  Keras also tracks the mean loss of
    the epoch (its default metric).  ``compile_seconds`` is None: Keras compiles inside the
    first fit (the warm-up epoch).  float64 sets Keras's floatx and turns on jax_enable_x64 for
    the whole process.
    """

    name = "keras_jax"

    def __init__(self, *args, shuffle="keras", steps_per_execution=1, **kwargs):
        super().__init__(*args, **kwargs)
        if shuffle not in ("keras", "perm"):
            raise ValueError(f"shuffle must be 'keras' or 'perm', got {shuffle!r}")
        self.shuffle, self.steps_per_execution = shuffle, int(steps_per_execution)
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
        if keras.backend.backend() != "jax":
            raise ImportError(f"keras runs on {keras.backend.backend()!r} in this process; "
                              "keras_jax needs KERAS_BACKEND=jax set before keras is imported")
        import jax
        if self.dtype == np.float64:
            if not jax.config.jax_enable_x64:
                jax.config.update("jax_enable_x64", True)
            keras.config.set_floatx("float64")
        self._keras, self._jax = keras, jax

    def prepare(self, X, Y):
        keras = self._keras
        self._X, self._Y = self._host_data(X, Y)
        keras.utils.set_random_seed(self.seed)
        dtype = str(self.dtype)
        l2 = keras.regularizers.L2(self.lmbda / (2 * self.n))
        last = len(self.sizes) - 2
        self.model = keras.Sequential(
            [keras.Input((self.sizes[0],), dtype=dtype)] +
            [keras.layers.Dense(n_out, activation=None if l == last else "sigmoid",
                                kernel_regularizer=l2, dtype=dtype)
             for l, n_out in enumerate(self.sizes[1:])])
        for layer, (W, b) in zip(self.model.layers, self.initial):
            layer.set_weights([W.T, b])

        def loss(y_true, logits):  # per example, summed over the outputs
            ops = keras.ops
            return ops.sum(ops.binary_crossentropy(y_true, logits, from_logits=True), axis=-1)

        self.model.compile(optimizer=keras.optimizers.SGD(learning_rate=self.eta), loss=loss,
                           jit_compile=True, steps_per_execution=self.steps_per_execution)

    def run_epoch(self, perm):
        perm = self._check_perm(perm)
        if self.shuffle == "perm":
            X, Y, shuffle = self._X[perm], self._Y[perm], False
        else:
            X, Y, shuffle = self._X, self._Y, True
        self.model.fit(X, Y, batch_size=self.mini_batch_size, epochs=1, shuffle=shuffle,
                       verbose=0)
        self._jax.block_until_ready([v.value for v in self.model.trainable_variables])

    def weights(self):
        return [(np.array(layer.kernel.value).T.copy(), np.array(layer.bias.value))
                for layer in self.model.layers]


CONTENDERS = {cls.name: cls for cls in
              (Network2Loop, NumpyMinimal, NumpyVectorized, JaxScan, JaxScanRows, TorchEager,
               SklearnMLP, KerasJax)}


def make(name, sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None,
         **options):
    """The contender called ``name`` (a key of CONTENDERS), ready for prepare(X, Y).

    ``options`` go to the contender's class: jax_scan takes gather="epoch"|"batch",
    torch_eager takes num_threads (None: PyTorch's default), keras_jax takes shuffle and
    steps_per_execution.
    """
    try:
        cls = CONTENDERS[name]
    except KeyError:
        raise ValueError(f"unknown contender {name!r}; known: {', '.join(CONTENDERS)}") from None
    return cls(sizes, eta, lmbda, mini_batch_size, dtype=dtype, seed=seed, params=params,
               **options)


def make_network2_loop(sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None):
    return Network2Loop(sizes, eta, lmbda, mini_batch_size, dtype, seed, params)


def make_numpy_vectorized(sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0,
                          params=None):
    return NumpyVectorized(sizes, eta, lmbda, mini_batch_size, dtype, seed, params)


def make_jax_scan(sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None,
                  gather="epoch"):
    return JaxScan(sizes, eta, lmbda, mini_batch_size, dtype, seed, params, gather=gather)


def make_jax_scan_rows(sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None):
    return JaxScanRows(sizes, eta, lmbda, mini_batch_size, dtype, seed, params)


def make_torch_eager(sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None,
                     num_threads=None):
    return TorchEager(sizes, eta, lmbda, mini_batch_size, dtype, seed, params,
                      num_threads=num_threads)


def make_sklearn_mlp(sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None):
    return SklearnMLP(sizes, eta, lmbda, mini_batch_size, dtype, seed, params)


def make_keras_jax(sizes, eta, lmbda, mini_batch_size, dtype="float32", seed=0, params=None,
                   shuffle="keras", steps_per_execution=1):
    return KerasJax(sizes, eta, lmbda, mini_batch_size, dtype, seed, params, shuffle=shuffle,
                    steps_per_execution=steps_per_execution)


# -- timing and flop counts ------------------------------------------------------------------

def time_contender(contender, X, Y, epochs=4, seed=0):
    """prepare(X, Y) untimed, one warm-up epoch, then ``epochs`` timed epochs.

    Y may be one-hot (n, classes) or integer labels (n,).  Every epoch, the warm-up included,
    gets a fresh permutation from one numpy.random.Generator(seed), drawn before its clock
    starts.  Returns a dict: name, warmup_seconds (includes JAX's compile), compile_seconds,
    epoch_seconds (list), median_seconds, images_per_second (n / median).
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = np.eye(contender.sizes[-1], dtype=X.dtype)[Y]
    contender.prepare(X, Y)
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    start = time.perf_counter()
    contender.run_epoch(perm)
    warmup = time.perf_counter() - start
    seconds = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        start = time.perf_counter()
        contender.run_epoch(perm)
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds) if seconds else float("nan")
    return {"name": contender.name, "warmup_seconds": warmup,
            "compile_seconds": contender.compile_seconds, "epoch_seconds": seconds,
            "median_seconds": median, "images_per_second": n / median}


def matmul_flops(dtype="float32", n=2048, repeats=5, seed=0):
    """This machine's NumPy matmul rate in GFLOP/s: median over ``repeats`` of an n x n @ n x n
    product counted as 2 n^3 flops (after one untimed warm-up product)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    C = np.empty_like(A)
    np.matmul(A, B, out=C)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(A, B, out=C)
        seconds.append(time.perf_counter() - start)
    return 2.0 * n ** 3 / statistics.median(seconds) / 1e9


def epoch_flops(sizes, n_train, m=None, input_delta=False):
    """Flops (2 per multiply-add) of the matmuls of one training epoch over n_train examples.

    Per example and layer of n_in x n_out weights: forward 2 n_in n_out, weight gradient
    2 n_in n_out, and the delta sent back to the layer below 2 n_in n_out, except at the first
    layer, where nobody computes it (``input_delta=True`` counts it, giving the rule of thumb
    6 n sum(n_in n_out)).  The matmul count does not depend on the mini-batch size ``m``; it is
    accepted so a benchmark row can be passed unchanged.  Element-wise work (sigmoids, the
    updates: about 3 flops per weight per mini-batch) is left out.
    """
    del m
    per_layer = [n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    back = sum(per_layer) if input_delta else sum(per_layer[1:])
    return 2 * n_train * (2 * sum(per_layer) + back)


# -- python -m benchmarks.baselines --quick --------------------------------------------------

def _available(name):
    package = {"jax_scan": "jax", "jax_scan_rows": "jax", "torch_eager": "torch",
               "sklearn_mlp": "sklearn", "keras_jax": "keras"}.get(name)
    if package is None:
        return True
    if package == "keras":  # keras picks its backend once, when first imported
        os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        __import__(package)
    except ImportError:
        return False
    return True


def main(argv=None):
    try:
        from . import _cli
        from ._mnist import load_training, one_hot
    except ImportError:  # run as a file, python benchmarks/baselines.py: not as a package
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from benchmarks import _cli
        from benchmarks._mnist import load_training, one_hot
    parser = _cli.ArgumentParser(
        prog="python -m benchmarks.baselines",
        description="Time one training epoch of each baseline contender on MNIST.")
    parser.add_argument("--quick", action="store_true",
                        help="one timed epoch per contender (after the warm-up)")
    parser.add_argument("--epochs", type=_cli.positive_int, default=None,
                        help="timed epochs (default 3)")
    parser.add_argument("--sizes", type=_cli.comma_separated(_cli.positive_int),
                        default="784,30,10")
    parser.add_argument("--eta", type=float, default=0.5)
    parser.add_argument("--lmbda", type=float, default=5.0)
    parser.add_argument("--mini-batch-size", "-m", type=_cli.positive_int, default=10)
    parser.add_argument("--dtype", default="float32", choices=FLOAT_DTYPES)
    parser.add_argument("--only", default=None, help="comma-separated contender names")
    parser.add_argument("--seed", type=_cli.nonnegative_int, default=0)
    parser.add_argument("--jax-gather", default="epoch", choices=("epoch", "batch"),
                        help="jax_scan: gather the shuffled data once per epoch or per batch")
    parser.add_argument("--torch-threads", type=_cli.positive_int, default=None,
                        help="torch_eager: torch.set_num_threads (default: PyTorch's own)")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 3)
    sizes = args.sizes
    if len(sizes) < 2 or sizes[0] != 784 or sizes[-1] != 10:
        parser.error(f"argument --sizes: layer widths from 784 (MNIST's pixels) to 10 (its "
                     f"classes), got {','.join(map(str, sizes))}")
    names = args.only.split(",") if args.only else list(CONTENDERS)
    unknown = [name for name in names if name not in CONTENDERS]
    if unknown:
        parser.error(f"argument --only: unknown contenders {', '.join(unknown)}; known: "
                     f"{', '.join(CONTENDERS)}")

    X, y = load_training(args.dtype)
    Y = one_hot(y, sizes[-1], args.dtype)
    n = X.shape[0]
    peak = matmul_flops(args.dtype)
    flops = epoch_flops(sizes, n, args.mini_batch_size)
    print(f"sizes {sizes}  eta {args.eta}  lmbda {args.lmbda}  m {args.mini_batch_size}  "
          f"{args.dtype}  n {n}  {epochs} timed epoch(s)")
    print(f"NumPy matmul peak {peak:.1f} GFLOP/s; one epoch's matmuls {flops / 1e9:.2f} GFLOP")
    print(f"{'contender':18s} {'warm-up s':>10s} {'compile s':>10s} {'epoch s':>9s} "
          f"{'images/s':>10s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for name in names:
        if not _available(name):
            print(f"{name:18s} (not installed)")
            continue
        options = ({"gather": args.jax_gather} if name == "jax_scan" else
                   {"num_threads": args.torch_threads} if name == "torch_eager" else {})
        contender = make(name, sizes, args.eta, args.lmbda, args.mini_batch_size,
                         args.dtype, args.seed, **options)
        r = time_contender(contender, X, Y, epochs=epochs, seed=args.seed)
        rate = flops / r["median_seconds"] / 1e9
        compile_s = "-" if r["compile_seconds"] is None else f"{r['compile_seconds']:.2f}"
        print(f"{name:18s} {r['warmup_seconds']:10.3f} {compile_s:>10s} "
              f"{r['median_seconds']:9.3f} {r['images_per_second']:10.0f} {rate:8.2f} "
              f"{rate / peak:8.1%}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
