"""Running a list of tasks on a Dispatcher: results as they come, lost workers retried, a
progress bar.

    run_tasks(dispatcher, tasks, on_result, *, retries=3, progress=None)
        on_result(task, outcomes) is called in the calling thread as each task finishes, in
        the order they finish.  A task whose future raises (its worker died, the pool broke, a
        Dask worker was killed: worker.run_group itself never raises for a trial's error) is
        submitted again, up to ``retries`` more times; after that its trials are recorded as
        lost, with the last error.  An executor whose ``submit`` itself raises is not one the
        search can use: nothing more is sent, the groups already sent finish and are recorded,
        then a ConfigError names the executor and its error (a resume runs the rest).  A task
        its executor cancelled (``shutdown(cancel_futures=True)`` while the search runs) is
        lost like one whose worker died: retried, or refused with the executor.  A broken
        pool (``concurrent.futures.BrokenExecutor``: a worker died) is that too when it is the
        caller's, which nnxp cannot restart (its lost groups stay out of the results, to run
        on resume; they are not recorded as lost); nnxp's own local pool is restarted instead
        (``Dispatcher.repair``) and its groups run again.  KeyboardInterrupt (or any BaseException)
        cancels what has not started and propagates: the results written so far let the
        search resume.
    Progress(total, enabled, desc)   tqdm when installed, else one line per update; update(n,
                                     best)
"""

from __future__ import annotations

import sys
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait

from .. import checks
from ..errors import ConfigError

__all__ = ["run_tasks", "Progress"]


def run_tasks(dispatcher, tasks, on_result, *, retries=3, progress=None) -> None:
    pending, attempts, order = {}, {}, {}
    refusal = []

    def refuse(exc, what):
        error = ConfigError(f"the executor {checks.show(dispatcher.executor)} "
                            + what.format(f"{type(exc).__name__}: {checks.clip(exc)}"))
        error.__cause__ = exc
        refusal.append(error)

    def submit(task):
        if refusal:
            return
        try:
            future = dispatcher.submit(task)
        except BrokenExecutor as exc:
            if dispatcher.own:  # our pool broke: the same as losing it (it is repaired)
                future = Future()
                future.generation = dispatcher.generation
                future.set_exception(exc)
            else:  # the caller's pool broke for good: nothing more can run on it
                refuse(exc, "is broken ({}): a worker died, and nnxp cannot restart an "
                            "executor it did not make; pass a new one (or None: nnxp's own "
                            "processes, restarted when one dies) to the same call to resume "
                            "the search")
                return
        except Exception as exc:  # not an executor the search can use: finish what was sent
            refuse(exc, "refused a task of the search: {}")
            return
        pending[future] = task
        order[future] = len(order)

    try:
        for task in tasks:
            submit(task)
        while pending:
            for future in sorted(_finished(pending), key=order.pop):  # in the order sent
                task = pending.pop(future)
                try:
                    outcomes = future.result()
                except Exception as exc:
                    attempts[task.key] = attempts.get(task.key, 0) + 1
                    if isinstance(exc, BrokenExecutor):
                        dispatcher.repair(future.generation)
                    if attempts[task.key] <= retries and not refusal:
                        submit(task)
                        if not refusal:
                            continue
                    if refusal:  # not run: it stays out of the results, to run on resume
                        continue
                    outcomes = [_lost(member["trial"], exc, attempts[task.key])
                                for member in task.members]
                on_result(task, outcomes)
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    if refusal:
        raise refusal[0]


POLL = 0.5  # seconds between looks for a future cancelled by its executor's shutdown


def _finished(futures) -> set:
    """The futures of ``futures`` that are done, waiting for one.  A future cancelled by its
    executor's ``shutdown(cancel_futures=True)`` is done but never wakes ``wait`` (it stays
    CANCELLED, never notified): the wait is cut into POLL-second slices that look for one."""
    futures = list(futures)
    while True:
        done, _ = wait(futures, timeout=POLL, return_when=FIRST_COMPLETED)
        done |= {f for f in futures if f.cancelled()}
        if done:
            return done


def _lost(trial, exc, attempts) -> dict:
    return {"trial": trial, "history": None, "stop_reason": None, "seconds": 0.0,
            "error": f"lost after {attempts} attempt(s): {type(exc).__name__}: {exc}"[:1000],
            "state": None, "params": None, "lost": True}


class Progress:
    """A progress bar over trials: tqdm if installed, else a line per finished group."""

    def __init__(self, total, enabled, desc):
        self.bar, self.enabled, self.done, self.total = None, bool(enabled), 0, total
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, desc=desc, unit="trial")

    def update(self, n, best=None) -> None:
        if not self.enabled:
            return
        self.done += n
        if self.bar is not None:
            if best is not None:
                self.bar.set_postfix(best=f"{best:.2%}", refresh=False)
            self.bar.update(n)
        else:
            tail = "" if best is None else f"; best accuracy so far {best:.2%}"
            print(f"{self.done} / {self.total} trials done{tail}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
