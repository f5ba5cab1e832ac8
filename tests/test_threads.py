"""The thread policy (nnxp/backends/threads.py): chosen by product size, overridable, applied
inside nnxp's calls only.

Checked: the default rule (one thread for small products, the libraries' own count for large
ones); NNXP_NUM_THREADS and set_thread_policy (an int, 0, a function) and their errors;
NumPy's and SciPy's BLAS run at the chosen count inside Backend.limit_threads and inside a
training epoch, and the process's counts are the same before and after; PyTorch's count is
restored; the count depends on one member's product, never on a population's size.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import nnxp
from nnxp.backends import load, threads
from nnxp.backends.numpy_backend import NumpyBackend
from nnxp.errors import ConfigError


@pytest.fixture(autouse=True)
def default_policy(monkeypatch):
    monkeypatch.delenv("NNXP_NUM_THREADS", raising=False)
    before = threads.get_thread_policy()
    threads.set_thread_policy(None)
    yield
    threads.set_thread_policy(before)


def _blas_counts():
    import scipy.linalg.blas  # noqa: F401  (listed by threadpoolctl once loaded)
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_default_rule_one_thread_for_small_products_library_for_large():
    assert threads.threads_for(10 * 784 * 30) == 1          # the book's network
    assert threads.threads_for(threads.SMALL - 1) == 1
    assert threads.threads_for(threads.SMALL) is None       # large: the libraries decide
    assert threads.threads_for(None) is None


def test_environment_variable(monkeypatch):
    monkeypatch.setenv("NNXP_NUM_THREADS", "3")
    assert threads.threads_for(10) == 3 and threads.threads_for(10 ** 12) == 3
    monkeypatch.setenv("NNXP_NUM_THREADS", "0")
    assert threads.threads_for(10) is None
    monkeypatch.setenv("NNXP_NUM_THREADS", "many")
    with pytest.raises(ConfigError, match="NNXP_NUM_THREADS must be an integer"):
        threads.threads_for(10)


def test_set_thread_policy_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("NNXP_NUM_THREADS", "3")
    threads.set_thread_policy(2)
    assert threads.threads_for(10) == 2
    threads.set_thread_policy(lambda work: 1 if work < 100 else 4)
    assert threads.threads_for(10) == 1 and threads.threads_for(1000) == 4
    threads.set_thread_policy(lambda work: None)
    assert threads.threads_for(10) is None
    threads.set_thread_policy(None)
    assert threads.threads_for(10) == 3  # back to the environment


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_policies_are_refused(bad):
    with pytest.raises(ConfigError, match="thread count must be an integer"):
        threads.set_thread_policy(bad)


def test_a_policy_function_returning_nonsense_is_refused():
    threads.set_thread_policy(lambda work: -2)
    with pytest.raises(ConfigError, match="thread policy's result"):
        threads.threads_for(10)


def test_numpy_limit_threads_inside_only():
    backend = load("numpy")
    before = _blas_counts()
    with backend.limit_threads(100):
        assert set(_blas_counts()) == {1}
    assert _blas_counts() == before
    asked = []
    threads.set_thread_policy(lambda work: asked.append(work) or 1)
    with backend.limit_threads(12345):
        assert set(_blas_counts()) == {1}
    assert asked == [12345] and _blas_counts() == before
    threads.set_thread_policy(None)
    with backend.limit_threads(10 ** 12):  # large, by the default rule: nothing changes
        assert _blas_counts() == before


def test_training_runs_at_the_policy_count_and_leaves_the_process_alone(monkeypatch):
    seen = []
    original = NumpyBackend.make_step

    def recording(self, spec, transform):
        step = original(self, spec, transform)

        def wrapped(params, state, x, y):
            seen.append(tuple(_blas_counts()))
            return step(params, state, x, y)
        return wrapped

    monkeypatch.setattr(NumpyBackend, "make_step", recording)
    nnxp.engines.clear()  # engines keep their steps: make new ones
    before = _blas_counts()
    rng = np.random.default_rng(0)
    x, labels = rng.random((40, 12)), rng.integers(0, 3, 40)
    net = nnxp.Network([12, 7, 3], seed=0, backend="numpy")
    net.SGD((x, labels), 1, 10, 0.5)
    assert seen and all(set(counts) == {1} for counts in seen)
    assert _blas_counts() == before
    nnxp.engines.clear()


def test_torch_threads_restored():
    torch = pytest.importorskip("torch")
    backend = load("torch")
    before = torch.get_num_threads()
    threads.set_thread_policy(1)
    with backend.limit_threads(100):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_the_count_depends_on_one_members_product_not_on_the_population():
    net = nnxp.Network([784, 30, 10], backend="numpy")
    pop = nnxp.Population([784, 30, 10], seeds=range(8), backend="numpy")
    assert net.engine().work(10) == pop.engine().work(10) == 10 * 784 * 30


def test_threads_training_at_once_leave_the_process_blas_as_it_was():
    """Two threads training NumPy networks at once: each epoch's limit saved the count it
    found and put it back, and threadpoolctl (3.6 and later) lets only one thread set
    OpenBLAS's shared pool, so the process was left at 1 thread for good (5 of 5 runs, the
    sixth sweep).  The counts from before are back after, whatever the interleaving."""
    import threading
    import scipy.linalg.blas  # noqa: F401  (loaded first: the controller lists it too)
    import threadpoolctl
    controller = threadpoolctl.ThreadpoolController()
    release = getattr(threadpoolctl.OpenBLASController, "clear_controlling_thread",
                      lambda: None)  # threadpoolctl 3.6+: the thread that set it owns it
    original = controller.limit(limits=3, user_api="blas")  # the process's own setting: 3
    release()
    try:
        before = _blas_counts()
        assert set(before) == {3}
        rng = np.random.default_rng(0)
        x, labels = rng.random((300, 20)), rng.integers(0, 3, 300)

        def train(seed):
            net = nnxp.Network([20, 10, 3], seed=seed, dtype="float64", backend="numpy")
            net.SGD((x, labels), 30, 5, 0.5, evaluation_data=(x, labels),
                    monitor_evaluation_accuracy=True)
        workers = [threading.Thread(target=train, args=(s,)) for s in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert _blas_counts() == before
    finally:
        release()
        original.restore_original_limits()
        release()
