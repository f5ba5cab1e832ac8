"""A results file's owner: one search at a time writes it.

    Owner(results_path, fingerprint) -> Owner     the lock is held from here ...
        .release()                                 ... to here (the search's end)

The lock is an OS lock (``fcntl.flock``; ``msvcrt.locking`` on Windows) on the file
``<results>.lock`` beside the results, held for the whole search.  A second search on the same
path is refused at once with a ``ConfigError`` naming the process that owns it (its pid and
host, written into the lock file), and saying whether it runs the same search (the same
fingerprint of the search's configuration) or another one.  The OS drops the lock when its
process ends, however it ends (a SIGKILL included), so a lock left by a killed search never
blocks a later resume: the lock file stays (removing it could let two processes lock two
different files of the same name) and holds the last owner's details.

A process forked while it holds the lock (the search's own workers, where they fork:
executors.py) closes its copy of the descriptor at once (``os.register_at_fork``): the lock
stays its parent's, and ends with it, instead of living on in a child that outlives it.  The
release unlocks before it closes, so no copy anywhere keeps the file locked.

On a network file system the lock is as good as the file system's ``flock``: NFS v4 and most
cluster file systems honour it.  A file system that refuses locks altogether is a
``FileError`` (rather than a search that might share its file).  The lock file follows the
results file's symlinks (it sits beside the file they point to).
"""

from __future__ import annotations

import errno
import json
import os
import socket

from ..errors import ConfigError, FileError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
    import msvcrt

__all__ = ["Owner", "lock_path"]

_held = set()  # the descriptors of the locks this process holds


def _close_inherited() -> None:
    """In a forked child: close the lock descriptors copied from the parent (the module
    docstring)."""
    for fd in _held:
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited)


def lock_path(results_path) -> str:
    return f"{results_path}.lock"


def _try_lock(fd, path) -> bool:
    """True when locked, False when another process holds the lock; FileError when the file
    system cannot lock at all."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except (BlockingIOError, PermissionError):
        return False
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EDEADLK):
            return False
        os.close(fd)
        raise FileError(f"cannot lock {path!r} ({exc.strerror}): this file system does not "
                        "support locks, so two searches could write one results file; put "
                        "the results on a local disk", filename=path, errno=exc.errno) from None
    return True


def _owner_of(fd) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        d = json.loads(os.read(fd, 4096).decode("utf-8"))
        return d if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


class Owner:
    """The lock on one results file (see the module docstring)."""

    def __init__(self, results_path, fingerprint):
        self.path = lock_path(results_path)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise FileError(f"cannot open the lock file {self.path!r} of the search results "
                            f"{results_path!r}: {exc.strerror}", filename=self.path,
                            errno=exc.errno) from None
        if not _try_lock(self.fd, self.path):
            other = _owner_of(self.fd)
            os.close(self.fd)
            self.fd = None
            pid, host = other.get("pid", "unknown"), other.get("host", "unknown host")
            what = ("the same search (same space, data, seed and options) is already running"
                    if other.get("search") == fingerprint else "another search is writing it")
            raise ConfigError(f"the search results {results_path!r} are in use: {what}, in "
                              f"process {pid} on {host} (lock file {self.path!r}); wait for "
                              "it to finish (a search resumes from its file), or give another "
                              "path")
        mine = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "search": fingerprint}).encode("utf-8")
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.write(self.fd, mine)
        _held.add(self.fd)

    def release(self) -> None:
        """Unlock and close (in a forked child, whose copy was closed at the fork: nothing)."""
        if self.fd is not None and self.fd in _held:
            _held.discard(self.fd)
            if fcntl is not None:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)  # for every copy of the descriptor
                except OSError:
                    pass
            os.close(self.fd)  # (closing the last copy drops it too)
        self.fd = None
