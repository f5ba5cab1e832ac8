"""The benchmark's contenders do the same math: same weights after the same epochs.

On a small synthetic problem (200 samples of 20 features, sizes [20, 8, 3], float64), two epochs
with the same permutations must leave network2's per-example loop, the vectorized NumPy loop,
the JAX scans (float64; jax_scan_rows, JAX's floor, too), PyTorch eager (float64) and Keras on
JAX (float64, in the given order) with the same weights, within 1e-9 of the
largest entry (they differ only in rounding).  Both m = 10 (divides n) and m = 7 (a last,
smaller mini-batch) are checked.  scikit-learn has another loss, so it is only checked to run
and to lower its loss.  JAX, PyTorch, Keras and scikit-learn parts are skipped when not installed.
"""

import os
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the repo's benchmarks/

from benchmarks import baselines  # noqa: E402
from conftest import optional  # noqa: E402

SIZES = [20, 8, 3]
ETA, LMBDA = 0.5, 5.0
RTOL = 1e-9


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.random((200, 20))
    labels = np.argmax(X @ rng.standard_normal((20, 3)), axis=1)  # learnable labels
    Y = np.eye(3)[labels]
    perms = [np.random.default_rng(s).permutation(200) for s in (1, 2)]
    return X, Y, perms


def _trained(name, X, Y, perms, m, **options):
    contender = baselines.make(name, SIZES, ETA, LMBDA, m, dtype="float64", seed=3, **options)
    contender.prepare(X, Y)
    for perm in perms:
        assert contender.run_epoch(perm) is None
    return contender.weights()


@pytest.fixture(scope="module", params=[10, 7], ids=["m10", "m7"])
def reference(request, problem):
    X, Y, perms = problem
    m = request.param
    return m, _trained("network2_loop", X, Y, perms, m)


def _assert_same(weights, ref):
    assert len(weights) == len(ref)
    for (W, b), (W_ref, b_ref) in zip(weights, ref):
        for a, a_ref in ((W, W_ref), (b, b_ref)):
            assert a.shape == a_ref.shape and a.dtype == np.float64
            assert np.max(np.abs(a - a_ref)) <= RTOL * np.max(np.abs(a_ref))


def test_reference_trains(problem, reference):
    m, ref = reference
    start = baselines.initial_parameters(SIZES, seed=3)
    assert all(not np.allclose(W, W0) for (W, _), (W0, _) in zip(ref, start))


@pytest.mark.parametrize("name", ["numpy_minimal", "numpy_vectorized", "torch_eager"])
def test_same_weights_as_network2_loop(name, problem, reference):
    if name == "torch_eager":
        pytest.importorskip("torch")
    X, Y, perms = problem
    m, ref = reference
    _assert_same(_trained(name, X, Y, perms, m), ref)


@pytest.mark.parametrize("gather", ["epoch", "batch"])
def test_jax_scan_same_weights_as_network2_loop(gather, problem, reference):
    jax = pytest.importorskip("jax")
    X, Y, perms = problem
    m, ref = reference
    x64 = jax.config.jax_enable_x64
    try:
        weights = _trained("jax_scan", X, Y, perms, m, gather=gather)
    finally:
        jax.config.update("jax_enable_x64", x64)  # leave the process as we found it
    _assert_same(weights, ref)


@pytest.fixture
def x64():
    """float64 for JAX (and Keras's floatx), the process left as it was found afterwards."""
    jax = pytest.importorskip("jax")
    before = jax.config.jax_enable_x64
    keras = sys.modules.get("keras")
    floatx = keras.config.floatx() if keras else None
    yield
    jax.config.update("jax_enable_x64", before)
    keras = sys.modules.get("keras")
    if keras:
        keras.config.set_floatx(floatx or "float32")


def test_jax_scan_rows_same_weights_as_network2_loop(x64, problem, reference):
    X, Y, perms = problem
    m, ref = reference
    _assert_same(_trained("jax_scan_rows", X, Y, perms, m), ref)


def test_jax_scan_rows_is_the_row_layout(x64, problem):
    """The floor the JAX engine is held to stores W as (n_in, n_out) and calls
    jax.nn.sigmoid: its program shows no transposed weights in the forward product."""
    jax = pytest.importorskip("jax")
    X, Y, perms = problem
    contender = baselines.make("jax_scan_rows", SIZES, ETA, LMBDA, 10, dtype="float32")
    contender.prepare(X, Y)
    assert [W.shape for W, _ in contender._params] == [(20, 8), (8, 3)]
    jaxpr = str(jax.make_jaxpr(contender._epoch)(contender._params, contender._X, contender._Y,
                                                  perms[0].astype(np.int32)))
    assert "logistic" in jaxpr and "tanh" not in jaxpr and "exp" not in jaxpr
    contender.run_epoch(perms[0])
    assert [W.shape for W, _ in contender.weights()] == [(8, 20), (3, 8)]


def _keras():
    """Keras on its JAX backend, or a skip (KERAS_BACKEND is set first, as the contender does:
    importing keras without it would look for TensorFlow)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return optional("keras")


def test_keras_same_weights_as_network2_loop(x64, problem, reference):
    _keras()
    X, Y, perms = problem
    m, ref = reference
    _assert_same(_trained("keras_jax", X, Y, perms, m, shuffle="perm"), ref)


def test_keras_own_shuffle_float32(problem):
    _keras()
    X, Y, perms = problem
    contender = baselines.make("keras_jax", SIZES, ETA, LMBDA, 10, dtype="float32")
    contender.prepare(X, Y)
    start = contender.weights()
    contender.run_epoch(perms[0])
    weights = contender.weights()
    assert all(W.dtype == np.float32 and b.dtype == np.float32 for W, b in weights)
    assert [W.shape for W, _ in weights] == [(8, 20), (3, 8)]
    assert all(not np.allclose(W, W0) for (W, _), (W0, _) in zip(weights, start))
    with pytest.raises(ValueError, match="shuffle"):
        baselines.make("keras_jax", SIZES, ETA, LMBDA, 10, shuffle="no")


def test_jax_scan_float32_stays_float32(problem):
    pytest.importorskip("jax")
    X, Y, perms = problem
    contender = baselines.make("jax_scan", SIZES, ETA, LMBDA, 10, dtype="float32")
    contender.prepare(X, Y)
    contender.run_epoch(perms[0])
    assert contender.compile_seconds is not None and contender.compile_seconds > 0
    assert all(W.dtype == np.float32 and b.dtype == np.float32 for W, b in contender.weights())


def test_sklearn_runs_and_lowers_its_loss(problem):
    pytest.importorskip("sklearn")
    X, Y, perms = problem
    contender = baselines.make("sklearn_mlp", SIZES, ETA, LMBDA, 10, dtype="float64")
    contender.prepare(X, Y)
    for _ in range(5):
        contender.run_epoch(perms[0])
    losses = contender.loss_curve
    assert len(losses) == 5 and losses[-1] < losses[0]
    assert [W.shape for W, _ in contender.weights()] == [(8, 20), (3, 8)]


def test_time_contender(problem):
    X, Y, _ = problem
    contender = baselines.make("numpy_vectorized", SIZES, ETA, LMBDA, 10, dtype="float32")
    result = baselines.time_contender(contender, X, np.argmax(Y, axis=1), epochs=2)
    assert len(result["epoch_seconds"]) == 2 and result["compile_seconds"] is None
    assert result["median_seconds"] > 0 and result["warmup_seconds"] > 0
    assert result["images_per_second"] == pytest.approx(200 / result["median_seconds"])


def test_flop_counts():
    assert baselines.epoch_flops([784, 30, 10], 50_000, 10) == 2 * 50_000 * (
        2 * (784 * 30 + 30 * 10) + 30 * 10)
    assert baselines.epoch_flops([784, 30, 10], 100, 10, input_delta=True) == 6 * 100 * (
        784 * 30 + 30 * 10)
    assert baselines.matmul_flops("float64", n=64, repeats=2) > 0


def test_jax_floor_variants_compute_the_same_epoch():
    """benchmarks/jax_floor_variants.py: each variant of the floor (nnxp's layout, sigmoid,
    device hyper-parameters, block gathering, all four) trains the same weights as the floor
    from the same start and order (float32: equal to rounding), blocks and leftover included."""
    pytest.importorskip("jax")
    from benchmarks import jax_floor_variants

    rng = np.random.default_rng(0)
    X = rng.random((2500, 784), dtype=np.float32)
    y = rng.integers(0, 10, 2500)
    variants = [v for v in jax_floor_variants.variants(X, y, 10)
                if isinstance(v, jax_floor_variants.Variant)]
    assert [v.name for v in variants] == ["floor", "floor + layout", "floor + sigmoid",
                                          "floor + hyper", "floor + gather", "floor + all four"]
    perm = rng.permutation(2500)
    start = variants[0].weights()
    for v in variants:
        v.run_epoch(perm)
    ref = variants[0].weights()
    assert all(np.max(np.abs(W - W0)) > 1e-2 for (W, _), (W0, _) in zip(ref, start))
    for v in variants[1:]:
        for (W, b), (W_ref, b_ref) in zip(v.weights(), ref):
            assert W.shape == W_ref.shape
            assert np.max(np.abs(W - W_ref)) <= 1e-4 and np.max(np.abs(b - b_ref)) <= 1e-4, v.name
