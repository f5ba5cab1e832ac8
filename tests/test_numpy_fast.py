"""The NumPy backend's fused step (nnxp/backends/numpy_fast.py) against the generic step.

It must: cover plain SGD with weight decay and fall back for the rest; agree with
core.make_step to rounding (float64: 1e-12 of the largest entry after 40 steps, well inside the
parity suite's 1e-10; float32: 1e-4) for every activation and cost, narrow (C-order, one
batched NumPy update), big (updated member by member by gemm; in float32 the column product)
and wide (Fortran-order) layers, and a last, smaller mini-batch; leave the caller's arrays
untouched (the step is pure); and run a population member bit for bit as the same network
alone, in float32 and float64.
"""

import numpy as np
import pytest

import nnxp
from nnxp import core
from nnxp.backends import load, threads
from nnxp.backends import numpy_fast
from nnxp.backends.numpy_fast import BIG, BLAS_THREADS, WIDE, fast_step
from nnxp.optimizers import momentum, sgd, set_hyper, training_chain

N, N_IN, N_OUT = 130, 120, 4  # 130 = 13 mini-batches of 10, or 18 of 7 and a last one of 4
HIDDEN, KINDS = [5, 40, WIDE], ["narrow", "big", "wide"]  # 120 x 40 and 120 x WIDE are BIG
COMBOS = [(nnxp.Sigmoid, nnxp.CrossEntropyCost), (nnxp.Sigmoid, nnxp.QuadraticCost),
          (nnxp.Tanh, nnxp.QuadraticCost), (nnxp.ReLU, nnxp.LogLikelihoodCost),
          (nnxp.LeakyReLU(0.1), nnxp.CrossEntropyCost), (nnxp.Identity, nnxp.QuadraticCost)]


@pytest.fixture(params=["fused", "numpy"])
def path(request):
    """Both updates: SciPy's gemm with beta (one BLAS thread, the default for these sizes) and
    NumPy's own matmul (what a multi-threaded epoch uses, here forced by a policy of 2)."""
    before = threads.get_thread_policy()
    threads.set_thread_policy(None if request.param == "fused" else 2)
    yield request.param
    threads.set_thread_policy(before)


def _problem(dtype):
    rng = np.random.default_rng(0)
    x = rng.random((N, N_IN)).astype(dtype)
    y = np.eye(N_OUT, dtype=dtype)[rng.integers(0, N_OUT, N)]
    return x, y


def _setup(sizes, dtype, activation=nnxp.Sigmoid, cost=nnxp.CrossEntropyCost, seed=0,
           eta=0.3, lmbda=5.0):
    net = nnxp.Network(sizes, cost=cost, activation=activation, seed=seed, dtype=dtype,
                       backend="numpy")
    transform = training_chain(sgd(), 1.0, lmbda / N)
    state = set_hyper(transform.init(net.params), eta=np.asarray(eta, dtype))
    return net, transform, state


def _train(step, params, state, x, y, m, epochs=3):
    for _ in range(epochs):
        for k in range(0, N, m):
            params, state = step(params, state, x[k:k + m], y[k:k + m])
    return params


def _max_rel(a, b):
    return max(float(np.max(np.abs(p - q)) / np.max(np.abs(q)))
               for (w, v), (w2, v2) in zip(a, b) for p, q in ((w, w2), (v, v2)))


def test_covers_sgd_and_falls_back_for_the_rest():
    spec = nnxp.Network([4, 3, 2], backend="numpy").spec
    assert fast_step(spec, training_chain(sgd(), 0.5, 0.01)) is not None
    assert fast_step(spec, training_chain(momentum(0.9), 0.5, 0.01)) is None
    assert fast_step(spec, training_chain(sgd(), 0.5, 0.01, l1=0.01)) is None
    # and the backend hands out the generic step where the fast one does not apply
    backend = load("numpy")
    step = backend.make_step(spec, training_chain(momentum(0.9), 0.5, 0.01))
    assert step.__qualname__.startswith("make_step")


@pytest.mark.parametrize("activation,cost", COMBOS, ids=lambda v: getattr(v, "name", None)
                         or getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("hidden", HIDDEN, ids=KINDS)
@pytest.mark.parametrize("m", [10, 7])
def test_same_numbers_as_the_generic_step_float64(activation, cost, hidden, m, path):
    x, y = _problem("float64")
    eta = 0.002 if activation is nnxp.Identity else 0.3  # a linear network diverges sooner
    net, transform, state = _setup([N_IN, hidden, 6, N_OUT], "float64", activation, cost,
                                   eta=eta)
    fast = fast_step(net.spec, transform)
    generic = core.make_step(net.spec, transform)
    got = _train(fast, net.params, state, x, y, m)
    want = _train(generic, net.params, state, x, y, m)
    assert _max_rel(got, want) <= 1e-12
    assert _max_rel(want, net.params) > 1e-3  # it trained: the comparison means something
    for (w, b), (w0, b0) in zip(got, net.params):
        assert w.shape == w0.shape and b.shape == b0.shape and w.dtype == np.float64


def test_same_numbers_as_the_generic_step_float32(path):
    x, y = _problem("float32")
    net, transform, state = _setup([N_IN, 9, N_OUT], "float32")
    got = _train(fast_step(net.spec, transform), net.params, state, x, y, 10)
    want = _train(core.make_step(net.spec, transform), net.params, state, x, y, 10)
    assert all(w.dtype == np.float32 and b.dtype == np.float32 for w, b in got)
    assert _max_rel(got, want) <= 1e-4


def test_the_update_follows_the_thread_count_of_the_epoch():
    backend = load("numpy")
    with backend.limit_threads(100):
        assert BLAS_THREADS.get() == 1  # one thread: SciPy's fused gemm
    with backend.limit_threads(10 ** 12):
        assert BLAS_THREADS.get() == 0  # the libraries' threads: NumPy's pool only
    assert BLAS_THREADS.get() is None


def test_wide_layers_keep_w_transposed_contiguous_narrow_ones_c_order(path):
    x, y = _problem("float64")
    net, transform, state = _setup([N_IN, WIDE, N_OUT], "float64")
    params, _ = fast_step(net.spec, transform)(net.params, state, x[:10], y[:10])
    (w1, _), (w2, _) = params
    assert w1.shape == (WIDE, N_IN) and w1.flags.f_contiguous and not w1.flags.c_contiguous
    assert w2.shape == (N_OUT, WIDE) and w2.flags.c_contiguous


def test_the_step_is_pure(path):
    x, y = _problem("float64")
    net, transform, state = _setup([N_IN, WIDE, 5, N_OUT], "float64")
    before = [(w.copy(), b.copy()) for w, b in net.params]
    xb, yb = x[:10].copy(), y[:10].copy()
    params, new_state = fast_step(net.spec, transform)(net.params, state, xb, yb)
    for (w, b), (w0, b0), (nw, nb) in zip(net.params, before, params):
        np.testing.assert_array_equal(w, w0)
        np.testing.assert_array_equal(b, b0)
        assert not np.shares_memory(nw, w) and not np.shares_memory(nb, b)
    np.testing.assert_array_equal(xb, x[:10])
    np.testing.assert_array_equal(yb, y[:10])
    assert new_state is state  # plain SGD has no state of its own to change


def test_hyper_parameters_are_read_at_every_call():
    x, y = _problem("float64")
    net, transform, state = _setup([N_IN, 5, N_OUT], "float64")
    step = fast_step(net.spec, transform)
    frozen = set_hyper(set_hyper(state, eta=np.asarray(0.0)), decay=np.asarray(0.0))
    params, _ = step(net.params, frozen, x[:10], y[:10])
    for (w, b), (w0, b0) in zip(params, net.params):
        np.testing.assert_array_equal(w, w0)  # eta 0: beta 1, a zero update, exactly
        np.testing.assert_array_equal(b, b0)
    moved, _ = step(net.params, state, x[:10], y[:10])
    assert _max_rel(moved, net.params) > 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", HIDDEN, ids=KINDS)
def test_a_population_member_is_bit_identical_to_the_network_alone(hidden, dtype, path):
    x, y = _problem(dtype)
    etas, lmbdas, seeds = [0.3, 0.1, 0.5], [5.0, 0.0, 1.0], [4, 5, 6]
    alone = []
    for seed, eta, lmbda in zip(seeds, etas, lmbdas):
        net, transform, state = _setup([N_IN, hidden, N_OUT], dtype, seed=seed, eta=eta,
                                       lmbda=lmbda)
        alone.append(_train(fast_step(net.spec, transform), net.params, state, x, y, 7))
    nets = [nnxp.Network([N_IN, hidden, N_OUT], seed=s, dtype=dtype, backend="numpy")
            for s in seeds]
    params = core.stack_params([[(np.asarray(w), np.asarray(b)) for w, b in net.params]
                                for net in nets])
    transform = training_chain(sgd(), 1.0, [lmbda / N for lmbda in lmbdas])
    state = set_hyper(transform.init(params), eta=np.asarray(etas, dtype))
    together = _train(fast_step(nets[0].spec, transform), params, state, x, y, 7)
    for k in range(len(seeds)):
        for (w, b), (wk, bk) in zip(alone[k], together):
            np.testing.assert_array_equal(wk[k], w)
            np.testing.assert_array_equal(bk[k], b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_layer_takes_its_path(dtype, monkeypatch):
    """Big layers (at least BIG weights) are updated member by member by gemm in a one-thread
    epoch, the others by one batched NumPy update; in float32 a big narrow hidden layer is the
    column product."""
    assert N_IN * 5 < BIG <= N_IN * 40 and 40 < WIDE
    sizes, f32 = (N_IN, 40, WIDE, 5, N_OUT), dtype == "float32"
    assert numpy_fast._paths(sizes, np.dtype(dtype), True) == (
        ("gemm", f32), ("gemm", False), ("numpy", False), ("numpy", False))
    assert numpy_fast._paths(sizes, np.dtype(dtype), False) == (
        ("numpy", f32), ("numpy", False), ("numpy", False), ("numpy", False))
    calls = []
    real = numpy_fast._update_members
    monkeypatch.setattr(numpy_fast, "_update_members", lambda *args: calls.append(
        args[1].shape) or real(*args))  # (gemm, w, a, delta, beta, transposed)
    x, y = _problem(dtype)
    net, transform, state = _setup(list(sizes), dtype)
    with load("numpy").limit_threads(1):
        fast_step(net.spec, transform)(net.params, state, x[:10], y[:10])
    assert calls == [(WIDE, 40), (40, N_IN)]


def test_population_through_the_public_api_matches_networks_alone(path):
    x, y = _problem("float64")
    labels = np.argmax(y, axis=1)
    pop = nnxp.Population([N_IN, 6, N_OUT], seeds=[1, 2], dtype="float64", backend="numpy")
    pop.SGD((x, labels), 2, 10, [0.5, 0.2], lmbda=3.0, shuffle=11)
    for k, (seed, eta) in enumerate(((1, 0.5), (2, 0.2))):
        net = nnxp.Network([N_IN, 6, N_OUT], seed=seed, dtype="float64", backend="numpy")
        net.SGD((x, labels), 2, 10, eta, lmbda=3.0, shuffle=11)
        for (w, b), (wp, bp) in zip(net.params, pop.params):
            np.testing.assert_array_equal(wp[k], w)
            np.testing.assert_array_equal(bp[k], b)


def test_no_overflow_warning_for_huge_weighted_inputs():
    # the tests turn RuntimeWarning into errors: sigmoid must not compute an exp that overflows
    net, transform, state = _setup([N_IN, 5, N_OUT], "float32")
    params = tuple((w * 1e4, b) for w, b in net.params)
    x, y = _problem("float32")
    new, _ = fast_step(net.spec, transform)(params, state, x[:10] * 100, y[:10])
    assert all(np.isfinite(w).all() for w, _ in new)


def test_wide_network_saves_and_loads(tmp_path):
    x, y = _problem("float64")
    net = nnxp.Network([N_IN, WIDE, N_OUT], seed=0, dtype="float64", backend="numpy")
    net.SGD((x, np.argmax(y, axis=1)), 1, 10, 0.5, lmbda=1.0)
    assert net.params[0][0].flags.f_contiguous
    net.save(tmp_path / "net.json")
    back = nnxp.load(tmp_path / "net.json")
    for (w, b), (w2, b2) in zip(net.params, back.params):
        np.testing.assert_array_equal(np.asarray(w2), w)
        np.testing.assert_array_equal(np.asarray(b2), b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", HIDDEN, ids=KINDS)
@pytest.mark.parametrize("members", [None, 3], ids=["network", "population"])
def test_the_overwriting_step_gives_the_pure_steps_bits_on_its_own_copy(members, hidden,
                                                                        dtype, path):
    """What the plain engine runs: ``own`` copies the caller's parameters once, then
    ``overwriting`` updates that copy in place, step after step, to the pure step's bits."""
    x, y = _problem(dtype)
    net, transform, state = _setup([N_IN, hidden, 6, N_OUT], dtype)
    params = net.params
    if members is not None:
        nets = [nnxp.Network([N_IN, hidden, 6, N_OUT], seed=s, dtype=dtype, backend="numpy")
                for s in range(members)]
        params = core.stack_params([net.params for net in nets])
        etas = np.asarray([0.3, 0.1, 0.5], dtype)
        transform = training_chain(sgd(), 1.0, [5.0 / N, 0.0, 1.0 / N])
        state = set_hyper(transform.init(params), eta=etas)
    before = [(w.copy(), b.copy()) for w, b in params]
    step = fast_step(net.spec, transform)
    want = _train(step, params, state, x, y, 7)
    owned = step.own(params)
    for (w, b), (w0, b0) in zip(owned, params):
        assert not np.shares_memory(w, w0) and not np.shares_memory(b, b0)
    got = _train(step.overwriting(), owned, state, x, y, 7)
    for (w, b), (w_own, b_own), (w_want, b_want) in zip(got, owned, want):
        assert w is w_own and b is b_own  # written in place, no new arrays
        np.testing.assert_array_equal(w, w_want)
        np.testing.assert_array_equal(b, b_want)
    for (w, b), (w0, b0) in zip(params, before):  # the caller's arrays: never written
        np.testing.assert_array_equal(w, w0)
        np.testing.assert_array_equal(b, b0)
    assert _max_rel(want, before) > 1e-3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_overwriting_step_allocates_no_arrays_per_mini_batch(dtype, path):
    """After its first call (which makes the work buffers), a mini-batch writes into buffers
    only: no gradient array (30 x 120: 14-29 KB) or activation is allocated.  What is left is
    NumPy's own scratch for a broadcast add of the biases (about 1 KB + the (10, 30) output)
    and the Python objects of views."""
    import tracemalloc
    x, y = _problem(dtype)
    net, transform, state = _setup([N_IN, 30, N_OUT], dtype)
    step = fast_step(net.spec, transform)
    run, params = step.overwriting(), step.own(net.params)
    params, state = run(params, state, x[:10], y[:10])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for k in range(10, 110, 10):
            params, state = run(params, state, x[k:k + 10], y[k:k + 10])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - before < 8192


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_overwriting_steps_never_share_buffers(dtype, path):
    """Two overwriting steps of one fast step (two threads' epochs on networks of one shape)
    interleaved, mini-batch by mini-batch, give each network's bits alone: each has its own
    work buffers."""
    x, y = _problem(dtype)
    net, transform, state = _setup([N_IN, 40, N_OUT], dtype, seed=1)
    other = nnxp.Network([N_IN, 40, N_OUT], seed=2, dtype=dtype, backend="numpy")
    step = fast_step(net.spec, transform)
    alone = [_train(step, p, state, x, y, 10, epochs=1) for p in (net.params, other.params)]
    runs = [step.overwriting(), step.overwriting()]
    owned = [step.own(net.params), step.own(other.params)]
    for k in range(0, N, 10):
        for i in (0, 1):
            owned[i], _ = runs[i](owned[i], state, x[k:k + 10], y[k:k + 10])
    for got, want in zip(owned, alone):
        for (w, b), (w2, b2) in zip(got, want):
            np.testing.assert_array_equal(w, w2)
            np.testing.assert_array_equal(b, b2)


def test_threads_training_networks_of_one_shape_match_sequential_runs():
    """The search trains networks of one shape in threads: the engine (and its step) is shared,
    the work buffers are not."""
    from concurrent.futures import ThreadPoolExecutor
    x, y = _problem("float64")
    labels = np.argmax(y, axis=1)

    def train(seed):
        net = nnxp.Network([N_IN, 40, N_OUT], seed=seed, dtype="float64", backend="numpy")
        net.SGD((x, labels), 3, 10, 0.5, lmbda=1.0, shuffle=seed)
        return [(np.asarray(w).copy(), np.asarray(b).copy()) for w, b in net.params]
    seeds = list(range(6))
    alone = [train(s) for s in seeds]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(train, seeds))
    for got, want in zip(together, alone):
        for (w, b), (w2, b2) in zip(got, want):
            np.testing.assert_array_equal(w, w2)
            np.testing.assert_array_equal(b, b2)
