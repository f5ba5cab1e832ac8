"""How many BLAS / OpenMP threads nnxp's own calls use: chosen by the size of the products.

    threads_for(work) -> int or None     the thread count for calls whose largest matrix
                                         product is ``work`` multiply-adds; None: leave the
                                         libraries' own setting alone
    set_thread_policy(policy)            None: the default rule below; an int n >= 1: n threads
                                         for every call; 0: never change the libraries'
                                         setting; a function ``work -> int or None``
    get_thread_policy()                  what set_thread_policy was given (None: the default)
    NNXP_NUM_THREADS=n                   the same as set_thread_policy(n) (0: leave alone),
                                         read at every call; set_thread_policy wins over it
    blas_limits(n)                       a context: every BLAS library loaded in the process
                                         (NumPy's, SciPy's) limited to n threads inside it, the
                                         previous counts restored on exit (threadpoolctl)

The default rule: **one thread below SMALL multiply-adds per product, else the libraries'
own setting** (all cores).  Why: a product as small as those of Nielsen's networks ((10 x 784)
by (784 x 30) is 235,200 multiply-adds) gains nothing from a second thread even on an idle
machine, and on a busy one it collapses: a BLAS worker thread that the kernel has descheduled
makes every call wait for a time slice.  From SMALL on (2**28) a product is long enough that
threads pay off on an idle machine and the worst case on a busy one stays bounded (the
figures: docs/speed.md, "Threads").  Nothing here changes the process's setting outside nnxp's
calls: backends apply the count inside a context (Backend.limit_threads) around an epoch or an
evaluation.

The count never depends on the number of members of a population: ``work`` is the size of one
member's product, so a member and the same network alone run the same calls.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from numbers import Integral

from ..checks import show
from ..errors import ConfigError

__all__ = ["SMALL", "threads_for", "set_thread_policy", "get_thread_policy", "blas_limits"]

SMALL = 2 ** 28
_policy: list = [None]
_controller: list = []
_lock = threading.Lock()
_open: list = []    # (token, n) of the blas_limits contexts open now, in the order opened
_before: list = []  # the limiter whose restore gives the counts from before the first


def set_thread_policy(policy=None) -> None:
    """Choose the thread policy for the rest of the process (see the module docstring)."""
    if policy is not None and not callable(policy):
        policy = _count("set_thread_policy", policy)
    _policy[0] = policy


def get_thread_policy():
    return _policy[0]


def _count(where, value) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ConfigError(f"{where}: a thread count must be an integer >= 0 (0: leave the "
                          f"libraries' own setting), None, or a function of the work; got "
                          f"{show(value)}")
    return int(value)


@functools.lru_cache(maxsize=8)
def _from_env(raw):
    try:
        return _count("NNXP_NUM_THREADS", int(raw))
    except ValueError:
        raise ConfigError(f"NNXP_NUM_THREADS must be an integer >= 0 (0: leave the libraries' "
                          f"own setting); got {show(raw.strip())}") from None


def threads_for(work) -> int | None:
    """The thread count for calls whose largest product is ``work`` multiply-adds (None:
    leave the libraries' setting alone).  Called at every training step: keep it cheap."""
    policy = _policy[0]
    if policy is None:
        raw = os.environ.get("NNXP_NUM_THREADS")
        if raw and not raw.isspace():
            policy = _from_env(raw)
    if policy is None:
        return 1 if work is not None and work < SMALL else None
    if callable(policy):
        n = policy(work)
        return None if n is None else (_count("the thread policy's result", n) or None)
    return policy or None


def blas_limits(n):
    """A context in which every loaded BLAS library uses at most ``n`` threads (None: a
    no-op).  threadpoolctl's controller lists the libraries once, at the first call: the
    NumPy backend imports SciPy's BLAS before it.  The setting is the process's, so the
    contexts open at once (nested, or in several threads) are counted: the last opened one's
    count applies, and the counts from before the first are restored when the last one
    closes (each context restoring what it found would leave one thread's limit behind when
    two threads train at once)."""
    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    with _lock:
        if not _controller:
            _controller.append(ThreadpoolController())
    return _limited_blas(_controller[0], n)


@contextlib.contextmanager
def _limited_blas(controller, n):
    mine = object()
    with _lock:
        limiter = _as_owner(lambda: controller.limit(limits=n, user_api="blas"))
        if not _open:
            _before[:] = [limiter]  # restores the counts found before the first context
        _open.append((mine, n))
    try:
        yield
    finally:
        with _lock:
            _open[:] = [entry for entry in _open if entry[0] is not mine]
            if _open:
                _as_owner(lambda: controller.limit(limits=_open[-1][1], user_api="blas"))
            else:
                _as_owner(_before.pop().restore_original_limits)


def _as_owner(change):
    """``change()`` as the thread that sets OpenBLAS's shared pool: threadpoolctl (3.6 and
    later) lets only the first thread that set it change it, and ignores the others, so a
    count set in one thread could not be restored from another.  Called under _lock: nnxp's
    threads take turns."""
    try:
        from threadpoolctl import OpenBLASController
        clear = OpenBLASController.clear_controlling_thread
    except (ImportError, AttributeError):  # an older threadpoolctl: no owner
        return change()
    clear()
    try:
        return change()
    finally:
        clear()

