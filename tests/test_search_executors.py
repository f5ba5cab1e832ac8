"""Where a search runs: the same table on threads, local processes (the default) and a Dask
cluster (a LocalCluster on the loopback, started here); a lost worker retried; an interrupted
search resumed from its results file.  NumPy, one BLAS thread per worker: bit for bit."""

import json
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

import nnxp
import nnxp.search as search
from nnxp.search import executors
from nnxp.search.executors import THREAD_VARIABLES, Dispatcher, pin_threads, start_method
from conftest import Interrupting, blobs, dask_client

TRAIN, VALID = blobs(), blobs(60, seed=1)
SPACE = {"sizes": [6, 9, 3], "eta": [0.1, 0.5, 2.0], "lmbda": [0.0, 1.0],
         "momentum": [0.0, 0.5]}


def _grid(executor, **options):
    with nnxp.use_backend("numpy"):
        return search.grid(SPACE, TRAIN, VALID, epochs=2, mini_batch_size=10, seed=7,
                           executor=executor, **options)


def _without_seconds(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


@pytest.fixture(scope="module")
def threads_table():
    with ThreadPoolExecutor(2) as executor:
        return _without_seconds(_grid(executor).records)


def test_processes_give_the_threads_table_even_when_a_worker_dies(threads_table,
                                                                  monkeypatch):
    """The default executor (local processes, spawned, BLAS pinned): the same bits as threads,
    although the first group kills its worker process (the pool is replaced and the groups
    that were lost with it run again)."""
    real, sent = Dispatcher.submit, []

    def submit(self, task):
        sent.append(task.key)
        if len(sent) == 1:  # a worker process dies: os._exit, as a crash or the OOM killer
            future = self.executor.submit(os._exit, 3)
            future.generation = self.generation
            return future
        return real(self, task)

    monkeypatch.setattr(Dispatcher, "submit", submit)
    result = _grid(None)
    assert _without_seconds(result.records) == threads_table
    assert len(sent) > len(set(sent))  # resubmitted
    assert all(r["status"] == "ok" for r in result.records)


def test_grouping_does_not_change_the_table(threads_table):
    with ThreadPoolExecutor(2) as executor:
        alone = _grid(executor, max_members=1)
        together = _grid(executor, max_members=12)
    assert _without_seconds(alone.records) == threads_table
    assert _without_seconds(together.records) == threads_table


def test_dask_local_cluster_gives_the_same_table(threads_table):
    distributed = pytest.importorskip("distributed")
    with dask_client() as client:
        with distributed.get_task_stream(client) as tasks:
            on_client = _grid(client)
            on_executor = _grid(client.get_executor())
        workers = set(client.scheduler_info()["workers"])
        threads = client.run(lambda: os.environ.get("OMP_NUM_THREADS"))
    assert _without_seconds(on_client.records) == threads_table
    assert _without_seconds(on_executor.records) == threads_table
    ran_on = {t["worker"] for t in tasks.data if "run_group" in t["key"]}
    assert ran_on == workers and len(workers) == 2  # both workers trained groups
    assert set(threads.values()) == {"1"}  # Dask's nanny pins BLAS threads


class Flaky(ThreadPoolExecutor):
    """Threads, but the first ``lose`` submissions fail as if their worker process died."""

    def __init__(self, lose):
        super().__init__(2)
        self.lose, self.calls = lose, 0

    def submit(self, fn, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.lose:
            future = Future()
            future.set_exception(BrokenProcessPool("a worker died"))
            return future
        return super().submit(fn, *args, **kwargs)


def test_a_lost_group_is_retried_then_recorded_as_lost(threads_table, tmp_path):
    retried = _grid(Flaky(lose=2), retries=2, max_members=3)
    assert _without_seconds(retried.records) == threads_table
    path = tmp_path / "search.json"
    lost = _grid(Flaky(lose=1), retries=0, max_members=3, path=path)
    statuses = [r["status"] for r in lost.records]
    assert statuses.count("lost") == 3 and statuses[-3:] == ["lost"] * 3
    assert all("BrokenProcessPool: a worker died" in r["error"]
               for r in lost.records if r["status"] == "lost")
    executor = Flaky(lose=0)
    resumed = _grid(executor, max_members=3, path=path)  # lost trials run again
    assert executor.calls == 1 and _without_seconds(resumed.records) == threads_table




def test_an_interrupted_grid_resumes_from_its_file(threads_table, tmp_path):
    path = tmp_path / "search.json"
    with pytest.raises(KeyboardInterrupt):
        _grid(Interrupting(at=3), max_members=2, path=path)
    saved = json.loads(path.read_text())
    assert saved["format"] == "nnxp.search" and len(saved["records"]) == 4
    executor = Interrupting()
    resumed = _grid(executor, max_members=2, path=path)
    assert executor.calls == 4  # 12 trials in pairs: 2 pairs were done
    assert _without_seconds(resumed.records) == threads_table
    again = Interrupting()
    _grid(again, max_members=2, path=path)
    assert again.calls == 0
    with pytest.raises(nnxp.ConfigError, match="another search.*epochs"):
        with nnxp.use_backend("numpy"):
            search.grid(SPACE, TRAIN, VALID, epochs=3, mini_batch_size=10, seed=7, path=path,
                        executor=ThreadPoolExecutor(1))
    other = tmp_path / "other.json"
    other.write_text('{"sizes": [1, 2]}')
    with pytest.raises(nnxp.DataError, match="not an nnxp search results file"):
        _grid(ThreadPoolExecutor(1), path=other)


def test_pin_threads_leaves_one_blas_thread(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    for name in THREAD_VARIABLES + ("XLA_FLAGS",):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    limits = pin_threads()
    try:
        assert all(os.environ[name] == "1" for name in THREAD_VARIABLES)
        pools = threadpoolctl.threadpool_info()
        assert pools and all(p["num_threads"] == 1 for p in pools)
    finally:
        limits.restore_original_limits()


def test_a_dead_dask_worker_does_not_change_the_table(threads_table, monkeypatch):
    """A Dask worker process SIGKILLed while the search's groups are queued and running (its
    nanny starts a new one; the scattered data lives on in the other worker): the search
    finishes with the same table, every trial ok."""
    pytest.importorskip("distributed")
    real, killed = Dispatcher.submit, []

    def submit(self, task):
        future = real(self, task)
        if not killed:
            victim = next(iter(self.executor._client.run(os.getpid).values()))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
        return future

    monkeypatch.setattr(Dispatcher, "submit", submit)
    with dask_client() as client:
        result = _grid(client, max_members=3)
        alive = set(client.run(os.getpid).values())
    assert killed and killed[0] not in alive
    assert _without_seconds(result.records) == threads_table
    assert all(r["status"] == "ok" for r in result.records)


def test_a_closed_dask_client_is_a_clear_error():
    """A Client closed before the search (and its get_executor()): a ConfigError saying so
    (it was an AttributeError from deep inside distributed).  An in-process cluster without
    workers: nothing is ever run on it."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=False,
                                  dashboard_address=None) as cluster:
        client = distributed.Client(cluster)
        client.close()
    for executor in (client, client.get_executor()):
        with pytest.raises(nnxp.ConfigError, match="Dask client .* is closed"):
            _grid(executor)


class Raising(ThreadPoolExecutor):
    """Threads whose third submit raises, as an executor that was shut down would."""

    def __init__(self):
        super().__init__(1)
        self.calls = 0

    def submit(self, fn, *args, **kwargs):
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("cannot schedule new futures after shutdown")
        return super().submit(fn, *args, **kwargs)


def test_an_executor_that_raises_is_a_clear_error_and_the_search_resumes(threads_table,
                                                                        tmp_path):
    path = tmp_path / "search.json"
    with pytest.raises(nnxp.ConfigError, match="refused a task.*RuntimeError"):
        _grid(Raising(), max_members=3, path=path)
    saved = json.loads(path.read_text())
    assert len(saved["records"]) == 6  # the two groups sent before were recorded
    resumed = _grid(ThreadPoolExecutor(2), max_members=3, path=path)
    assert _without_seconds(resumed.records) == threads_table


class Killing(ProcessPoolExecutor):
    """The caller's own process pool (one spawned worker), whose worker dies in the second
    group it is sent (once the first is done): the pool is broken for good, as
    concurrent.futures leaves it."""

    def __init__(self):
        super().__init__(1, mp_context=multiprocessing.get_context("spawn"))
        self.calls, self.futures = 0, []

    def submit(self, fn, *args, **kwargs):
        self.calls += 1
        if self.calls == 2:
            self.futures[0].result()
            fn, args = os._exit, (3,)
        self.futures.append(super().submit(fn, *args, **kwargs))
        return self.futures[-1]


def test_a_callers_pool_broken_by_a_dead_worker_stops_the_search_and_it_resumes(
        threads_table, tmp_path):
    """A pool nnxp did not make cannot be restarted: the search stops with a ConfigError
    naming it (every later trial was recorded "lost after 4 attempts" at once, though none
    was tried again), the file keeps the group finished before, and a resume with a new
    executor completes the table."""
    path = tmp_path / "search.json"
    with Killing() as executor:
        with pytest.raises(nnxp.ConfigError, match="is broken .BrokenProcessPool.*new one"):
            _grid(executor, max_members=3, path=path)
    saved = json.loads(path.read_text())
    assert [r["status"] for r in saved["records"]] == ["ok"] * 3
    resumed = _grid(ThreadPoolExecutor(2), max_members=3, path=path)
    assert _without_seconds(resumed.records) == threads_table


class Cancelling(ThreadPoolExecutor):
    """One thread, shut down with cancel_futures=True while the search runs (as a `with`
    block ended in another thread, or a signal handler, would): its first task is held until
    the second is queued and cancelled, so that the cancellation is certain."""

    def __init__(self):
        super().__init__(1)
        self.calls, self.gate = 0, threading.Event()

    def submit(self, fn, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            def held(*a, **k):
                self.gate.wait()
                return fn(*a, **k)
            return super().submit(held, *args, **kwargs)
        future = super().submit(fn, *args, **kwargs)
        self.shutdown(wait=False, cancel_futures=True)
        self.gate.set()
        return future


def test_an_executor_shut_down_with_cancel_futures_mid_search_is_a_clear_error(threads_table,
                                                                              tmp_path):
    """The cancelled task is lost (Python's wait() never returns a future its executor
    cancelled: the search hung for good), the shut-down executor refuses the retry: a
    ConfigError naming it, the first group recorded, and a resume completes the table."""
    path = tmp_path / "search.json"
    outcome = []

    def run():
        try:
            _grid(Cancelling(), max_members=3, path=path)
        except nnxp.ConfigError as exc:
            outcome.append(exc)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(300)  # a guard against the hang, far beyond the search's second
    assert not thread.is_alive(), "the search hung on a cancelled future"
    assert outcome and "refused a task" in str(outcome[0])
    assert len(json.loads(path.read_text())["records"]) == 3
    resumed = _grid(ThreadPoolExecutor(2), max_members=3, path=path)
    assert _without_seconds(resumed.records) == threads_table


def test_workers_prepare_the_data_once_through_nnxp_data_and_the_callers_stay_writeable():
    """The search's host copy is read-only, so nnxp.data's one cache prepares it once per
    worker and backend: groups after the first skip the scans; the caller's arrays are not
    made read-only, nor shared."""
    from nnxp.data import clear_cache, frozen
    from nnxp.search.session import host_data
    from nnxp.search.trials import make_trials
    from nnxp.search.space import grid_points
    from nnxp.testing import data_cache_info
    trials = make_trials(grid_points(SPACE), 7, 10)
    (x, y), (xv, yv) = host_data(trials, TRAIN, VALID)
    assert all(frozen(a) for a in (x, y, xv, yv))
    assert TRAIN[0].flags.writeable and not np.may_share_memory(x, TRAIN[0])
    clear_cache()
    with ThreadPoolExecutor(1) as executor:
        result = _grid(executor, max_members=1)       # 12 groups of one trial
    assert len(result.records) == 12
    info = data_cache_info()   # host_data's scans of the caller's data, then the worker's once
    assert (info.scanned, info.unscanned) == (4, 22)


def _worker_data():
    """In a pool worker: the data it received, whether it owns it read-only, its fingerprint."""
    from nnxp.data import frozen
    from nnxp.search.session import fingerprint
    from nnxp.search.worker import _worker_data as held
    data = held["data"]
    return os.getpid(), all(frozen(a) for pair in data for a in pair), fingerprint(data)


@pytest.mark.parametrize("start", [1, 2])
def test_local_workers_start_together_from_shared_memory(start, monkeypatch):
    """Spawned (start_method gives "spawn" wherever forking is not known to be safe), the
    default pool starts ``start`` workers when it is made, before a task is sent,
    without waiting for them (the others start when groups are sent): the arrays do not go
    through the pipe that starts a worker (writing them blocked the search until that worker
    had started Python and imported nnxp, so the workers started one after the other).  Each
    worker copies the data from memory shared with the search into arrays of its own,
    read-only (nnxp.data prepares them once), bit for bit the search's."""
    import multiprocessing
    import time
    from nnxp.search.session import fingerprint, host_data
    from nnxp.search.space import grid_points
    from nnxp.search.trials import make_trials
    trials = make_trials(grid_points(SPACE), 7, 10)
    data = host_data(trials, blobs(20000), VALID)     # about a megabyte of training data
    monkeypatch.setattr(executors, "start_method", lambda backend: "spawn")
    before = set(multiprocessing.active_children())
    began = time.perf_counter()
    dispatcher = Dispatcher(None, data, start=start)
    made = time.perf_counter() - began
    try:
        started = set(multiprocessing.active_children()) - before
        assert len(started) == min(start, dispatcher.workers)    # no task sent yet
        first = dispatcher.executor.submit(_worker_data).result(120)
        ready = time.perf_counter() - began
        assert made < ready / 2   # a worker's start-up (Python, nnxp) was not waited for
        answers = [first] + [dispatcher.executor.submit(_worker_data).result(120)
                             for _ in range(2 * dispatcher.workers)]
        assert all(owned for _, owned, _ in answers)
        assert all(digest == fingerprint(data) for _, _, digest in answers)
    finally:
        dispatcher.close()


@pytest.mark.parametrize("how", ["use_backend", "NNXP_DEVICE"])
def test_the_workers_train_on_the_device_the_search_was_called_on(how, monkeypatch):
    """The device chosen where the search is called (use_backend / set_backend's device=, or
    NNXP_DEVICE) goes to the workers by name with the backend's: they trained on the library's
    default device; the kept network is built on it too (array-api-strict's "device1")."""
    from conftest import optional
    strict = optional("array_api_strict")
    from nnxp import backends
    from nnxp.search import worker
    device = strict.Device("device1")
    real, loaded = backends.load, []

    def load(name, device=None):
        loaded.append((name, device))
        return real(name, device)

    space = {"sizes": [6, 5, 3], "eta": [0.5, 2.0]}
    with ThreadPoolExecutor(1) as executor:
        monkeypatch.setattr(worker.backends, "load", load)
        if how == "NNXP_DEVICE":
            monkeypatch.setenv("NNXP_BACKEND", "array_api_strict")
            monkeypatch.setenv("NNXP_DEVICE", "device1")
            result = search.grid(space, TRAIN, VALID, epochs=1, mini_batch_size=10,
                                 executor=executor)
        else:
            with nnxp.use_backend("array_api_strict", "device1"):
                result = search.grid(space, TRAIN, VALID, epochs=1, mini_batch_size=10,
                                     executor=executor)
    assert ("array_api_strict", "device1") in loaded           # the workers' loads
    assert ("array_api_strict", None) not in loaded
    assert all(r["status"] == "ok" for r in result.records), result.records
    assert result.device == "device1"
    net = result.best_network()
    assert all(a.device == device for layer in net.params for a in layer)


def test_start_method_forks_only_where_a_forked_worker_is_known_to_be_safe(monkeypatch):
    """"fork" on Linux before Python 3.12, for a NumPy search, in a process with no other
    Python thread, none of JAX, PyTorch, CuPy, TensorFlow, mpi4py imported, and no start
    method of its own chosen but "fork"; "spawn" as soon as one of these does not hold."""
    for name in executors.FORK_UNSAFE:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(sys, "version_info", (3, 11, 7))
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(multiprocessing, "get_start_method", lambda allow_none=False: None)
    assert start_method("numpy") == "fork"
    for chosen in ("spawn", "forkserver", "fork"):   # the program's own choice
        with monkeypatch.context() as m:
            m.setattr(multiprocessing, "get_start_method", lambda allow_none=False: chosen)
            assert start_method("numpy") == ("fork" if chosen == "fork" else "spawn")
    for backend in ("jax", "torch", "array_api_strict", "cupy"):
        assert start_method(backend) == "spawn"
    with monkeypatch.context() as m:
        m.setattr(sys, "version_info", (3, 12, 0))
        assert start_method("numpy") == "spawn"
    with monkeypatch.context() as m:
        m.setattr(sys, "platform", "darwin")
        assert start_method("numpy") == "spawn"
    with monkeypatch.context() as m:
        m.setattr(threading, "active_count", lambda: 2)
        assert start_method("numpy") == "spawn"
    for name in executors.FORK_UNSAFE:
        with monkeypatch.context() as m:
            m.setitem(sys.modules, name, object())
            assert start_method("numpy") == "spawn"


FORKED = r"""
import json, multiprocessing, os, sys, threading
sys.path.insert(0, sys.argv[1])
import nnxp, nnxp.search as search
from nnxp.search import executors
from nnxp.search.session import fingerprint, host_data
from nnxp.search.space import grid_points
from nnxp.search.trials import make_trials
from test_search_executors import SPACE, TRAIN, VALID, _grid, _worker_data, _without_seconds
if __name__ == "__main__":
    method = executors.start_method("numpy")
    data = host_data(make_trials(grid_points(SPACE), 7, 10), TRAIN, VALID)
    dispatcher = executors.Dispatcher(None, data, start=1)
    started = len(multiprocessing.active_children())
    answers = [dispatcher.executor.submit(_worker_data).result(120) for _ in range(4)]
    dispatcher.close()
    made = []
    real = executors.Dispatcher.__init__
    def record(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(getattr(self, "method", None))
    executors.Dispatcher.__init__ = record
    records = _without_seconds(_grid(None).records)
    submit, sent, pools = executors.Dispatcher.submit, [], []
    def dying(self, task):  # the first group's worker dies (os._exit, as a crash)
        sent.append(task.key)
        pools.append(self.method)
        if len(sent) == 1:
            future = self.executor.submit(os._exit, 3)
            future.generation = self.generation
            return future
        return submit(self, task)
    executors.Dispatcher.submit = dying
    repaired = _without_seconds(_grid(None).records)
    print(json.dumps({"method": method, "started": started, "workers": dispatcher.workers,
                      "dispatcher": dispatcher.method, "search": made,
                      "owned": all(owned for _, owned, _ in answers),
                      "same": all(d == fingerprint(data) for _, _, d in answers),
                      "records": records, "repaired": repaired, "pools": sorted(set(pools)),
                      "resent": len(sent) > len(set(sent))}))
"""


@pytest.mark.skipif(sys.platform != "linux" or sys.version_info >= (3, 12),
                    reason="forked workers are used on Linux before Python 3.12 only")
def test_forked_workers_give_the_threads_table(threads_table, tmp_path):
    """In a fresh NumPy process (no other thread, no JAX), the default pool forks: every
    worker starts when the pool is made, holds the search's data (read-only, bit for bit) and
    the grid gives the threads' table bit for bit; when a forked worker dies, the pool made
    again (forked, or spawned if the broken pool's threads still run then) gives the same
    table."""
    import subprocess
    script = tmp_path / "forked.py"
    script.write_text(FORKED)
    env = {k: v for k, v in os.environ.items() if k not in ("NNXP_BACKEND", "NNXP_DEVICE")}
    done = subprocess.run([sys.executable, str(script), os.path.dirname(__file__)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["method"] == out["dispatcher"] == "fork" and out["search"] == ["fork", "fork"]
    assert out["started"] == out["workers"]
    assert out["owned"] and out["same"]
    assert out["records"] == json.loads(json.dumps(threads_table))
    assert out["repaired"] == out["records"] and out["resent"]
    assert "fork" in out["pools"] and set(out["pools"]) <= {"fork", "spawn"}


FORKED_LOCK = r"""
import json, multiprocessing, os, sys, time
from nnxp.search.lock import Owner
from nnxp.errors import ConfigError
path, case = sys.argv[1], sys.argv[2]


def rest():  # without the test's pipes, which would keep it waiting
    os.close(1), os.close(2)
    time.sleep(60)


owner = Owner(path, "first")
child = multiprocessing.get_context("fork").Process(target=rest)
child.start()
if case == "released":
    owner.release()
    try:
        Owner(path, "second").release()
        taken = True
    except ConfigError:
        taken = False
    child.kill()
    print(json.dumps({"taken": taken}))
else:  # the parent ends without releasing, its child lives on
    print(json.dumps({"child": child.pid}), flush=True)
    os._exit(0)
"""


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="no fork on this platform")
@pytest.mark.parametrize("case", ["released", "parent ended"])
def test_a_forked_child_does_not_keep_a_search_results_lock(tmp_path, case):
    """A process forked while a search holds its results file's lock (the search's forked
    workers) does not keep the lock: once the search releases it, or ends without releasing
    it (a SIGKILL), the next search on the file takes it at once, while the child still
    runs (it kept the lock, so a resume right after a killed search was refused)."""
    import subprocess
    from nnxp.search.lock import Owner
    script, path = tmp_path / "lock.py", str(tmp_path / "results.json")
    script.write_text(FORKED_LOCK)
    done = subprocess.run([sys.executable, str(script), path, case], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if case == "released":
        assert out["taken"]
        return
    child = out["child"]
    try:
        assert os.path.exists(f"/proc/{child}") or sys.platform != "linux"
        Owner(path, "second").release()     # the lock is free though the child runs
    finally:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_forking_pool_after_jax_started_is_refused_before_it_hangs():
    """A caller's ProcessPoolExecutor that forks, given to a search after JAX started in this
    process: the forked workers hung for good and the search with them (2 of 2, the sixth
    sweep).  Refused before any task is sent; a spawning pool is taken."""
    pytest.importorskip("jax")
    import jax.numpy as jnp
    jnp.zeros(1).block_until_ready()  # JAX has started here
    class Forking(ProcessPoolExecutor):
        def submit(self, *args, **kwargs):  # would fork: hang without the refusal
            raise AssertionError("a task was sent to a forking pool after JAX started")
    pool = Forking(1, mp_context=multiprocessing.get_context("fork"))
    try:
        with pytest.raises(nnxp.ConfigError, match="JAX has started in this process"):
            _grid(pool)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    from nnxp.search.executors import check_fork_safe
    spawning = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    check_fork_safe(spawning)  # taken: nothing started
    spawning.shutdown()
