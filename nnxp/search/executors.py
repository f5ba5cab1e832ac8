"""Where a search's groups run: any ``concurrent.futures.Executor``, local processes by default,
or a Dask cluster.

    Dispatcher(executor, data, start=0)
                                   submit(task) -> Future of worker.run_group's outcomes;
                                   workers (how many run at once); repair(); close()
    pin_threads()                  one BLAS / OpenMP thread in this process (use it as the
                                   ``initializer`` of your own ProcessPoolExecutor); returns
                                   threadpoolctl's limits (``restore_original_limits()``)
    check_main_guard(what)         ConfigError when the local processes would re-run the
                                   script that started the search (below), or cannot start
                                   (a daemonic process: a multiprocessing.Pool worker)

``executor``:
  None          local processes, one per core (``os.cpu_count()``), started with "spawn" (safe
                with JAX and PyTorch; a script needs the usual ``if __name__ == "__main__":``),
                or with "fork" where a forked worker is known to be safe (start_method below:
                it starts without importing Python, the script and nnxp again).
                Each process pins its BLAS and OpenMP threads to one (pin_threads: threadpoolctl
                when installed, and the environment variables OMP_NUM_THREADS, ... for
                libraries loaded later; for JAX, XLA's CPU threads) so that the processes do not
                oversubscribe the cores, and receives the data once, when it starts, from memory
                shared with the searching process (shared.py: the workers start together,
                instead of one after the other while each read its copy through a pipe).  A
                process starts when a group is sent and none is idle, up to ``workers``;
                ``start`` of them start when the dispatcher is made, without waiting for them,
                so that they start while the search prepares its first groups (forked: all of
                them, as concurrent.futures forks every worker at once; they inherit the data,
                and the shared buffer is not made).  A process that
                dies breaks the pool: the dispatcher starts a new one (``repair``).
                Workers die with the searching process: each watches its parent's pid
                (twice a second) and exits when the parent is gone, however it ended
                (SIGKILL, SIGTERM, a crash); multiprocessing's resource tracker then sees
                every user of its pipe gone and exits too.
                "spawn" starts each worker by importing the main script again (as
                ``__mp_main__``).  A script that calls the search at its top level, outside
                ``if __name__ == "__main__":``, would start the search again in every worker;
                the search refuses that before starting a process (``check_main_guard``
                reads the script's top-level statement that is running; a script edited
                since it started, whose lines on disk are no longer the ones running, is not
                judged), with a ConfigError naming the fix; and a search called while a
                worker is still importing its main module refuses at once
                (``multiprocessing``'s bootstrapping flag).
  a Dask ``distributed.Client``
                its ``get_executor()``; the data is scattered to every worker once (Dask's
                nanny starts workers with OMP_NUM_THREADS=1 and the like already).  A
                ``ClientExecutor`` (``client.get_executor()``) works the same way.  A client
                that is closed, or cannot reach its scheduler, is a ConfigError when the
                first group is sent.
  any other Executor (ThreadPoolExecutor, ProcessPoolExecutor, loky, mpi4py.futures ...)
                tasks go to it with their data (threads share it; processes receive a copy with
                every group).

``start_method(backend)`` is "fork" only where all of these hold, else "spawn":
  * Linux, and Python before 3.12: the standard library's own default there, silent; from 3.12
    ``os.fork`` warns in any process with another OS thread, which NumPy's OpenBLAS pool is;
  * the search trains on NumPy, and no JAX, PyTorch, CuPy, TensorFlow or mpi4py is imported
    in this process (their runtimes keep threads, device or MPI state that a fork copies
    half-made), and the program has not chosen "spawn" or "forkserver" for itself
    (``multiprocessing.set_start_method``);
  * this process runs no other Python thread (one holding a lock when the fork happens would
    leave that lock held forever in the worker).  The BLAS pools' own threads are safe:
    OpenBLAS resets its pool in a forked child.
A worker's numbers do not depend on how it started (tests/test_search_executors.py).

Every task names the backend it trains on and its device (worker.Task.backend, .device: the
search's, resolved where the search was called, by name), so a worker never reads the
selection of the thread or process it runs on: a
ThreadPoolExecutor's threads start from an empty context (a ``use_backend`` block of the caller
is not theirs; backends/selection.py), processes from NNXP_BACKEND.

Results do not depend on the executor: a group's numbers depend only on its task and the data
(worker.py), provided each worker computes with one BLAS thread (a multi-threaded BLAS may sum
in another order: the last bits of float results could then differ).
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor

from .. import checks
from ..backends.jax_backend import started as jax_started
from ..errors import ConfigError
from .shared import SharedData
from .worker import run_group, set_worker_data

__all__ = ["Dispatcher", "pin_threads", "check_main_guard", "start_method"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
FORK_UNSAFE = ("jax", "jaxlib", "torch", "cupy", "tensorflow", "mpi4py")
_limits = []


def start_method(backend) -> str:
    """"fork" where a worker forked from this process is known to be safe, else "spawn" (the
    module docstring)."""
    if sys.platform != "linux" or sys.version_info >= (3, 12) or backend != "numpy":
        return "spawn"
    if multiprocessing.get_start_method(allow_none=True) in ("spawn", "forkserver"):
        return "spawn"  # the program chose not to fork (multiprocessing.set_start_method)
    if any(name in sys.modules for name in FORK_UNSAFE) or threading.active_count() > 1:
        return "spawn"
    return "fork"


def check_fork_safe(executor) -> None:
    """A caller's ProcessPoolExecutor that forks its workers from a process where JAX has
    started: a ConfigError (a forked child of a started XLA runtime hangs for good; the
    search waited forever, its retries never firing)."""
    if not isinstance(executor, ProcessPoolExecutor):
        return
    context = getattr(executor, "_mp_context", None)
    method = context.get_start_method() if context is not None else \
        multiprocessing.get_start_method(allow_none=True) or "fork"
    if method != "fork" or not jax_started():
        return
    raise ConfigError("the executor forks its worker processes, but JAX has started in this "
                      "process, and a forked copy of a running JAX hangs; give it the spawn "
                      "start method (ProcessPoolExecutor(mp_context=multiprocessing."
                      "get_context('spawn'))), or pass executor=None (nnxp's own workers "
                      "spawn here)")


def pin_threads():
    """One BLAS / OpenMP thread in this process, for libraries loaded now and later; returns
    threadpoolctl's limits on the libraries loaded now (None without threadpoolctl)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    if "jax" not in sys.modules:  # read by XLA when JAX starts
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1").strip()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the variables above still reach libraries not loaded yet
        return None
    limits = threadpool_limits(limits=1)
    _limits.append(limits)  # kept for the life of the worker
    return limits


def _start_worker(shared, parent=None) -> None:
    if parent is not None:
        _watch_parent(parent)
    pin_threads()
    set_worker_data(shared.arrays())


class _Inherited:
    """The data of a forked worker: the searching process's own arrays, as the fork copied
    them (SharedData's interface)."""

    def __init__(self, data):
        self.data = data

    def arrays(self) -> tuple:
        return self.data


def _started() -> int:
    """A task that only makes the pool start a worker process."""
    return os.getpid()


def _watch_parent(parent, interval=0.5) -> None:
    """Exit this process when ``parent`` (a pid) is no longer its parent: the searching
    process ended (its children are then adopted by another process)."""
    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)
    if os.getppid() != parent:  # already gone
        os._exit(0)
    threading.Thread(target=watch, name="nnxp-parent-watch", daemon=True).start()


_GUARD_FIX = ("put the search under `if __name__ == \"__main__\":` (Python's \"safe importing "
              "of main module\" rule for the spawn start method), or pass executor= a "
              "ThreadPoolExecutor or a Dask client")


def _guarded(node) -> bool:
    """``if __name__ == "__main__":`` (either order, any comparison of the two)."""
    if not isinstance(node, ast.If):
        return False
    names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
    strings = {n.value for n in ast.walk(node.test) if isinstance(n, ast.Constant)}
    return "__name__" in names and "__main__" in strings


def check_main_guard(what) -> None:
    """Refuse a search that the local worker processes would start again (module docstring):
    called from a worker still importing the main module, or from a top-level statement of
    the main script that is not under ``if __name__ == "__main__":``; and one called in a
    daemonic process (a ``multiprocessing.Pool`` worker), which may not start processes."""
    if multiprocessing.current_process().daemon:
        raise ConfigError(f"{what} starts worker processes, but it was called in a daemonic "
                          f"process (a multiprocessing.Pool worker), which Python does not "
                          f"allow to have children; pass executor= a ThreadPoolExecutor or a "
                          f"Dask client, or run the searches in a concurrent.futures."
                          f"ProcessPoolExecutor, whose workers may start processes")
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise ConfigError(f"{what} was called while a worker process was importing the main "
                          f"script: the script starts a search when it is imported; "
                          f"{_GUARD_FIX}")
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py") or not os.path.isfile(path):
        return  # interactive, python -c, a notebook: spawn does not run them again
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_globals is vars(main)
                                     and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return  # not below the main script's top level (a thread, a callback)
    line = frame.f_lineno
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
        code = compile(tree, path, "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError, TypeError):
        return
    if not _same_code(code, frame.f_code):
        return  # edited since the script started: its lines are not the ones running
    for node in tree.body:
        if node.lineno <= line <= (node.end_lineno or node.lineno):
            if _guarded(node) and any(n.lineno <= line <= (n.end_lineno or n.lineno)
                                      for n in node.body):
                return
            raise ConfigError(f"{what} starts worker processes; where they start with "
                              f"\"spawn\" (macOS, Windows, Python 3.12 and later, JAX or "
                              f"PyTorch, another thread running) each imports {path} again, "
                              f"and line {line} runs the search at the script's top level, "
                              f"so every such worker would start it again (and hang or fail; "
                              f"refused wherever the script runs, so that it runs the same "
                              f"everywhere); {_GUARD_FIX}")


def _same_code(a, b) -> bool:
    """Whether two module code objects have the same instructions on the same lines."""
    return a.co_code == b.co_code and list(a.co_lines()) == list(b.co_lines())


def _dask_client(executor):
    """The Dask client behind ``executor`` (a Client or its ClientExecutor), else None."""
    if type(executor).__module__.split(".")[0] != "distributed":
        return None
    if hasattr(executor, "get_executor") and hasattr(executor, "scatter"):
        return executor
    client = getattr(executor, "_client", None)
    return client if hasattr(client, "scatter") else None


def _scatter(client, data) -> tuple:
    """(the cluster's worker threads, the data scattered to every worker), or a ConfigError
    for a client that cannot take work (closed, or its scheduler gone)."""
    status = getattr(client, "status", None)
    fix = "pass a running distributed.Client (or its get_executor())"
    if status in ("closing", "closed"):
        raise ConfigError(f"the Dask client {checks.show(client)} is {status}: it cannot run "
                          f"the search; {fix}")
    try:
        workers = max(1, sum(client.nthreads().values()))
        [handle] = client.scatter([data], broadcast=True, hash=False)
    except Exception as exc:  # Dask's own errors: a closed comm, a timeout, a lost scheduler
        raise ConfigError(f"the Dask client {checks.show(client)} cannot take the search's "
                          f"data ({type(exc).__name__}: {checks.clip(exc)}); {fix}") from exc
    return workers, handle


class Dispatcher:
    """Sends worker.run_group tasks to an executor (see the module docstring)."""

    def __init__(self, executor, data, start=0, backend="numpy"):
        self.data, self.own, self.handle, self.generation = data, executor is None, None, 0
        client = _dask_client(executor)
        if executor is None:
            self.workers, self.backend, self.shared = os.cpu_count() or 1, backend, None
            self.start = min(start, self.workers)
            self.executor = self._start()
        elif client is not None:
            self.executor = (executor.get_executor(pure=False) if executor is client
                             else executor)
            self.workers, self.handle = _scatter(client, data)
        elif isinstance(executor, Executor):
            check_fork_safe(executor)
            self.executor = executor
            self.workers = max(1, int(getattr(executor, "_max_workers", 1) or 1))
        else:
            raise ConfigError(f"executor must be a concurrent.futures.Executor (e.g. "
                              f"ProcessPoolExecutor, ThreadPoolExecutor, a Dask client's "
                              f"get_executor()), a distributed.Client, or None for local "
                              f"processes; got {checks.show(executor)}")

    def _start(self):
        """A local pool, ``start`` of its workers starting now: the pool starts a process for
        each task sent while none is idle, so one small task each starts them (forked: every
        worker, at the first task, now, while no other thread runs)."""
        self.method = start_method(self.backend)
        if self.method == "fork":
            data = _Inherited(self.data)
        else:
            if self.shared is None:
                self.shared = SharedData(self.data, multiprocessing.get_context("spawn"))
            data = self.shared
        pool = ProcessPoolExecutor(max_workers=self.workers,
                                   mp_context=multiprocessing.get_context(self.method),
                                   initializer=_start_worker, initargs=(data, os.getpid()))
        for _ in range(1 if self.method == "fork" else self.start):
            pool.submit(_started)
        return pool

    def submit(self, task):
        """A Future of run_group(task); its ``generation`` says which pool it went to."""
        if self.own:
            future = self.executor.submit(run_group, task)
        elif self.handle is not None:
            future = self.executor.submit(run_group, task, self.handle)
        else:
            future = self.executor.submit(run_group, task, self.data)
        future.generation = self.generation
        return future

    def repair(self, generation) -> None:
        """After a worker was lost from the pool of ``generation``: start a new local pool
        (once per broken pool); other executors repair themselves (Dask) or stay broken."""
        if self.own and generation == self.generation:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._start()
            self.generation += 1

    def close(self) -> None:
        if self.own:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.shared = None
        self.handle = None
