"""The selection across threads and asyncio tasks: a ``use_backend`` block selects for the
context that entered it only, ``set_backend`` for the whole process, and nnxp's own thread pools
(the search's executor) train on the backend selected where they were started.

Blocks overlap deterministically: threads meet at a ``threading.Barrier`` inside their blocks,
and look at the selection before either block ends."""

import asyncio
import contextlib
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import nnxp
import nnxp.search as search
import nnxp.search.worker as worker
from nnxp.backends import selection
from conftest import blobs, optional

TIMEOUT = 300  # seconds a thread waits for the others at a barrier (a search may compile)


@pytest.fixture(autouse=True)
def _default(monkeypatch):
    """numpy by default (no NNXP_BACKEND / NNXP_DEVICE), and no set_backend left behind."""
    optional("array_api_strict")
    monkeypatch.delenv("NNXP_BACKEND", raising=False)
    monkeypatch.delenv("NNXP_DEVICE", raising=False)
    yield
    nnxp.set_backend(None)


def run_threads(barrier, *targets) -> list:
    """Run each target in a thread of its own; their results in order, or the first error
    (which breaks the barrier, so that the other threads stop waiting)."""
    results, errors = [None] * len(targets), []

    def run(i, target):
        try:
            results[i] = target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(2 * TIMEOUT)
    if errors:
        raise errors[0]
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_threads_inside_their_own_blocks_each_compute_on_their_own_backend(monkeypatch):
    """Both blocks open at once, and a third thread outside any block: each sees its own
    selection inside, and the process default after (was: one stack for every thread, so
    the block entered last selected for both, and for the thread outside too)."""
    optional("jax")
    monkeypatch.setenv("NNXP_BACKEND", "jax")  # the process default: neither block's
    meet = threading.Barrier(3, timeout=TIMEOUT)

    def inside(name):
        def run():
            with nnxp.use_backend(name) as be:
                meet.wait()  # both blocks are open
                seen = (be.name, nnxp.get_backend(), nnxp.Network([2, 2]).backend.name)
                meet.wait()  # both looked before either block ends
            return seen, nnxp.get_backend()
        return run

    def outside():
        meet.wait()
        seen = nnxp.get_backend()
        meet.wait()
        return seen

    strict, numpy, other = run_threads(meet, inside("array_api_strict"), inside("numpy"),
                                       outside)
    assert strict == (("array_api_strict",) * 3, "jax")
    assert numpy == (("numpy",) * 3, "jax")
    assert other == "jax"


def test_set_backend_in_one_thread_selects_for_every_thread_but_inside_their_blocks():
    """set_backend is process-wide: a thread outside any block sees it at once, a thread
    inside its own block when the block ends (was: set_backend ended every thread's block)."""
    step = threading.Barrier(3, timeout=TIMEOUT)

    def in_block():
        with nnxp.use_backend("numpy"):
            step.wait()  # the block is open
            step.wait()  # set_backend is done
            inside = nnxp.get_backend()
        return inside, nnxp.get_backend()

    def setter():
        step.wait()
        nnxp.set_backend("array_api_strict")
        step.wait()
        return nnxp.get_backend()

    def plain():
        step.wait()
        step.wait()
        return nnxp.get_backend(), nnxp.Network([2, 2]).backend.name

    (inside, after), own, other = run_threads(step, in_block, setter, plain)
    assert inside == "numpy"
    assert after == own == "array_api_strict"
    assert other == ("array_api_strict", "array_api_strict")
    assert nnxp.get_backend() == "array_api_strict"  # and in the thread that started them


def test_a_thread_started_inside_a_block_sees_the_process_selection_unless_handed_over():
    """A new thread starts from an empty context (the process-wide selection); the caller's
    context, copied inside the block, hands the block over (was: every thread saw the block)."""
    with nnxp.use_backend("array_api_strict"):
        with ThreadPoolExecutor(1) as pool:
            plain = pool.submit(nnxp.get_backend).result(TIMEOUT)
            handed = pool.submit(contextvars.copy_context().run, nnxp.get_backend).result(TIMEOUT)
        assert nnxp.get_backend() == "array_api_strict"
    assert plain == "numpy"
    assert handed == "array_api_strict"


def test_asyncio_tasks_inside_their_own_blocks_each_see_their_own_backend():
    """Two tasks with their blocks open at once each see their own; a task created inside a
    block starts with it (asyncio copies the creating context)."""
    async def inside(name, meet):
        with nnxp.use_backend(name):
            await meet.wait()  # both blocks are open
            seen = nnxp.get_backend()
            await meet.wait()  # both looked before either block ends
        return seen

    async def main():
        meet = asyncio.Barrier(2)
        both = await asyncio.gather(inside("array_api_strict", meet), inside("numpy", meet))
        with nnxp.use_backend("array_api_strict"):
            inherited = await asyncio.create_task(_get_backend())
        return both, inherited, nnxp.get_backend()

    both, inherited, after = asyncio.run(main())
    assert both == ["array_api_strict", "numpy"]
    assert inherited == "array_api_strict"
    assert after == "numpy"


async def _get_backend():
    return nnxp.get_backend()


@contextlib.contextmanager
def thread_pool(kind):
    """Two worker threads in this process: a ThreadPoolExecutor, or a Dask cluster of
    threads (``processes=False``)."""
    if kind == "threads":
        with ThreadPoolExecutor(2) as pool:
            yield pool
        return
    distributed = optional("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        yield client


@pytest.mark.parametrize("kind", ["threads", "dask"])
def test_a_search_on_threads_trains_on_the_backend_of_the_block_it_started_in(
        backend, kind, monkeypatch):
    """A search started inside ``use_backend(name)`` with a ThreadPoolExecutor or Dask's
    threads trains every group on that backend, in the pool's threads (which start from an
    empty context), while another thread is inside a block of another backend, the process
    default (was: the search took the other thread's backend, entered last).  The search
    hands its backend to the workers by name, in every task: they never read the selection."""
    name = backend.name
    other = "array_api_strict" if name == "numpy" else "numpy"
    monkeypatch.setenv("NNXP_BACKEND", other)  # what the pool's threads see as selected
    trained, asked, ours = [], [], {threading.get_ident()}
    real_fit, real_chosen = worker.fit, selection._chosen

    def spy(*args, **kwargs):
        trained.append((threading.get_ident(), kwargs["backend"].name))
        return real_fit(*args, **kwargs)

    def chosen():  # who reads the selection
        asked.append(threading.get_ident())
        return real_chosen()

    monkeypatch.setattr(worker, "fit", spy)
    monkeypatch.setattr(selection, "_chosen", chosen)
    step = threading.Barrier(2, timeout=TIMEOUT)
    space = {"sizes": [6, 5, 3], "eta": [0.5, 1.0], "lmbda": [0.0, 1.0]}

    def searcher():
        ours.add(threading.get_ident())
        with nnxp.use_backend(name):
            step.wait()  # this block is open
            step.wait()  # and the other thread's, entered after it
            with thread_pool(kind) as pool:
                result = search.grid(space, blobs(60), blobs(30, seed=1), epochs=1,
                                     mini_batch_size=10, executor=pool, max_members=2)
            step.wait()  # the other block stays open until the search is done
        return result

    def elsewhere():
        ours.add(threading.get_ident())
        step.wait()
        with nnxp.use_backend(other):
            step.wait()
            step.wait()
        return nnxp.get_backend()

    result, after = run_threads(step, searcher, elsewhere)
    assert result.config["backend"] == name
    assert all(r["status"] == "ok" for r in result.records), result.records
    assert len(trained) >= 2 and all(thread not in ours and used == name
                                     for thread, used in trained), trained
    assert after == other
    assert set(asked) <= ours  # the pool's threads are told the backend, never ask


def test_threads_loading_a_backend_at_once_share_one(monkeypatch):
    """Two threads loading a backend at the same time get the same Backend, loaded once
    (was: each its own, the library imported and checked twice)."""
    import nnxp.backends.strict_backend as strict
    real, calls, second = strict.load, [], threading.Event()

    def slow(device=None):
        calls.append(device)
        if len(calls) == 2:
            second.set()
        second.wait(1.0)  # the other thread loads meanwhile, unless loading is one at a time
        return real(device)

    monkeypatch.setattr(strict, "load", slow)
    monkeypatch.setattr(selection, "_cache", {})
    meet = threading.Barrier(2, timeout=TIMEOUT)

    def load():
        meet.wait()
        return selection.load("array_api_strict")

    a, b = run_threads(meet, load, load)
    assert a is b
    assert calls == [None]
