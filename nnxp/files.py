"""Reading and writing user files safely: a crash never leaves half a file, and every fault
meets a clear nnxp error naming the path and the reason.

    atomic_write_text(path, text)        replace the file at ``path`` with ``text`` (UTF-8)
    atomic_write_bytes(path, data)       the same with bytes
    check_writable(path, what="file") -> str
                                         the absolute path, once a save there is known to work
    read_bytes(path, *, max_bytes, what="file") -> bytes
    parse_json(raw, where, what="file") -> object
    read_json(path, *, max_bytes, what="file") -> object   read_bytes, then parse_json
    as_path(path, what="file") -> str    the path as text, or InputTypeError / ConfigError
    remove_stale_temporaries(target) -> list   what a save removes first (see below)

Writing (``atomic_write_text``, ``atomic_write_bytes``): the text goes to a temporary file in
the target's folder, is fsynced, and is renamed over the target (an atomic step on POSIX), then
the folder is fsynced.  A crash or SIGKILL at any moment leaves either the old file or the new
one, complete.

- Symlinks are followed: the link's TARGET is replaced and the link stays a link.  (A hard
  link is not followed: the other names keep the old content, as with any atomic save.)
- An existing file keeps its permission mode; a new file gets 0666 less the user's umask, as
  ``open(path, "w")`` would give.  The owner becomes the user who saves.
- Temporary files are named ``.{name}.nnxp-tmp-{host}-{pid}-{random}`` beside the target
  ``name``, so that they can be recognised as belonging to it.  A save removes the stale ones
  of the same target: those written on this host by a process that no longer exists (a save
  that was SIGKILLed), and any not modified for ``STALE_SECONDS`` (one hour; a live save
  writes its file continuously and renames it within seconds).  A temporary file of a live
  process, or of another host sharing the folder, is left alone until then.  Removing one
  wrongly could only make that other save fail with a FileError, never damage a file.
- Any failure removes the temporary file and raises ``FileError`` (an NNXPError and an
  OSError with ``errno``): the target is a directory or not a regular file, a folder on the
  path is a file, permission denied, read-only file system, disk full (ENOSPC), ...  The old
  file is untouched.  KeyboardInterrupt and other BaseExceptions also remove the temporary
  file, then propagate unchanged.

Reading (``read_bytes``): a missing file, a directory, a device or FIFO, an unreadable file
and one larger than ``max_bytes`` are refused with a ``DataError`` before anything is read
(the size is checked first; a file that grows while it is read is refused too).
``parse_json`` refuses non-UTF-8 bytes, bad JSON and nesting too deep to parse.

Paths must be ``str`` or ``os.PathLike`` (``InputTypeError`` otherwise: ``checkpoint=42``
never becomes a file called ``42``); an empty path or one with a NUL byte is a ConfigError.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import socket
import stat
import time

from .checks import clip, nbytes, show
from .errors import ConfigError, DataError, FileError, InputTypeError

__all__ = ["atomic_write_text", "atomic_write_bytes", "check_writable", "read_bytes",
           "parse_json", "read_json", "as_path", "remove_stale_temporaries", "STALE_SECONDS"]

STALE_SECONDS = 3600.0
_HOST = hashlib.blake2s(socket.gethostname().encode(), digest_size=4).hexdigest()
_TEMP_TAIL = re.compile(r"([0-9a-f]{8})-([0-9]+)-[0-9a-f]{8}")


# -- paths -----------------------------------------------------------------------------------

def as_path(path, what="file") -> str:
    """``path`` as a str, refusing anything that is not a str or os.PathLike naming a file."""
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"the {what} path must be a str or os.PathLike (such as "
                             f"pathlib.Path), got {type(path).__name__} {show(path)}")
    try:
        path = os.fspath(path)
    except TypeError as exc:
        raise InputTypeError(f"the {what} path {show(path)} is not usable: {exc}") from None
    if not isinstance(path, str):
        raise InputTypeError(f"the {what} path must be text, got {show(path)}")
    if not path or "\0" in path:
        raise ConfigError(f"the {what} path must be a non-empty file name without NUL "
                          f"characters, got {show(path)}")
    try:
        os.fsencode(path)
    except UnicodeError:
        raise ConfigError(f"the {what} path {show(path)} cannot be encoded as a file name on "
                          f"this system") from None
    return path


def _resolve(path: str, what: str) -> str:
    """The file a write to ``path`` must replace: symlinks followed to their target.  A path
    ending in a separator names a folder (realpath would drop the separator, and the save
    would make a file of that name): a FileError, as Python's own open refuses it."""
    if path.endswith(tuple(filter(None, (os.sep, os.altsep)))):
        raise FileError(f"cannot save the {what} at {path!r}: a path ending in "
                        f"{path[-1]!r} names a folder; give a file name (such as "
                        f"{os.path.join(path, 'results.json')!r})", filename=path,
                        errno=errno.EISDIR)
    target = os.path.realpath(path)
    if os.path.islink(target):  # realpath gives up on a loop and returns a link
        raise FileError(f"cannot save the {what} at {path!r}: it is a symlink loop",
                        filename=path, errno=errno.ELOOP)
    return target


def _nearest_existing(folder: str) -> str:
    while not os.path.lexists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


_REASONS = {
    errno.ENOSPC: "the disk is full (no space left on the device)",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "it is a directory",
    errno.ENOTDIR: "a part of its folder path is a file, not a folder",
    errno.ENOENT: "its folder does not exist",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EIO: "input/output error (a failing disk or a lost network share)",
}


def _write_error(path: str, target: str, exc: OSError, what: str) -> FileError:
    reason = _REASONS.get(exc.errno) or exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM):
        reason += f": nnxp cannot write in the folder {os.path.dirname(target)!r}"
    elif exc.errno == errno.ENOTDIR:
        blocker = _nearest_existing(os.path.dirname(target))
        if not os.path.isdir(blocker):
            reason = f"{blocker!r} is a file, not a folder"
    elif exc.errno == errno.ENOENT:
        existing = _nearest_existing(os.path.dirname(target))
        if os.path.isdir(existing):  # the folder is there: it takes no new files or folders
            reason = (f"the folder {existing!r} takes no new files (a virtual file system, "
                      f"such as /proc?)")
    via = f" (the target of the symlink {path!r})" if target != os.path.abspath(path) else ""
    return FileError(f"cannot save the {what} at {target!r}{via}: {reason}; any previous file "
                     f"there is unchanged", filename=target, errno=exc.errno)


def _check_target(path: str, target: str, what: str) -> os.stat_result | None:
    """The target's stat if it exists; a FileError if it is not a regular file."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _write_error(path, target, exc, what) from None
    if stat.S_ISDIR(st.st_mode):
        raise _write_error(path, target, OSError(errno.EISDIR, "Is a directory"), what)
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"cannot save the {what} at {target!r}: it is not a regular file (a "
                        f"device, FIFO or socket)", filename=target, errno=errno.EINVAL)
    return st


def _make_folder(path: str, target: str, what: str) -> str:
    folder = os.path.dirname(target)
    try:
        os.makedirs(folder, exist_ok=True)
    except FileExistsError:  # a file where the folder should be
        raise _write_error(path, target, OSError(errno.ENOTDIR, "Not a directory"), what) \
            from None
    except OSError as exc:
        raise _write_error(path, target, exc, what) from None
    return folder


# -- temporary files -------------------------------------------------------------------------

def _temp_prefix(name: str) -> str:
    if len(os.fsencode(name)) > 150:  # keep the temporary name within NAME_MAX (255 bytes)
        name = name[:60] + "~" + hashlib.blake2s(os.fsencode(name), digest_size=4).hexdigest()
    return f".{name}.nnxp-tmp-"


def _temp_name(name: str) -> str:
    return f"{_temp_prefix(name)}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no safe probe: the age rule alone applies
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def _is_stale(folder: str, entry: str, prefix: str) -> bool:
    tail = _TEMP_TAIL.fullmatch(entry[len(prefix):])
    if tail is None:
        return False  # not one of ours
    host, pid = tail.group(1), int(tail.group(2))
    if host == _HOST and pid != os.getpid() and not _pid_alive(pid):
        return True
    try:
        return time.time() - os.lstat(os.path.join(folder, entry)).st_mtime > STALE_SECONDS
    except OSError:
        return False


def remove_stale_temporaries(target: str) -> list:
    """Remove the stale temporary files of ``target`` (see the module docstring); returns
    their names.  Best effort: a file that cannot be listed or removed is left."""
    folder, name = os.path.split(target)
    prefix = _temp_prefix(name)
    removed = []
    try:
        entries = [e for e in os.listdir(folder) if e.startswith(prefix)]
    except OSError:
        return removed
    for entry in entries:
        if _is_stale(folder, entry, prefix):
            try:
                os.unlink(os.path.join(folder, entry))
                removed.append(entry)
            except OSError:
                pass
    return removed


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_folder(folder: str) -> None:
    """Make the rename durable; best effort (some file systems cannot fsync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# -- writing ---------------------------------------------------------------------------------

def atomic_write_text(path, text: str, *, what: str = "file") -> None:
    """Replace the file at ``path`` (through a symlink: its target) with ``text`` in UTF-8,
    atomically; see the module docstring for modes, temporary files and errors.

    >>> atomic_write_text("net.json", "{}")   # doctest: +SKIP
    """
    path = as_path(path, what)
    atomic_write_bytes(path, text.encode("utf-8"), what=what)


def atomic_write_bytes(path, data: bytes, *, what: str = "file") -> None:
    """``atomic_write_text`` for bytes: replace the file at ``path`` with ``data``."""
    path = as_path(path, what)
    target = _resolve(path, what)
    folder = _make_folder(path, target, what)
    old = _check_target(path, target, what)
    remove_stale_temporaries(target)
    tmp = os.path.join(folder, _temp_name(os.path.basename(target)))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o666)  # the umask applies, as for open(path, "w")
    except OSError as exc:
        raise _write_error(path, target, exc, what) from None
    try:
        try:
            if old is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(old.st_mode))
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise _write_error(path, target, exc, what) from None
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_folder(folder)


def check_writable(path, what: str = "file") -> str:
    """Check, before any work is done, that ``atomic_write_text(path, ...)`` can succeed; returns
    the absolute path (symlinks kept: each save follows them again, so the file saved is the
    link's target at that time).  Refuses non-path values (InputTypeError), a directory or
    non-regular file, a folder path through a file, and a folder that cannot be created or
    written (FileError).  A one-byte probe file is written and removed, which also catches a
    read-only or full file system; where the folder does not exist yet, a probe folder of a
    name of its own is made and removed in the nearest folder that exists (os.access alone
    says yes to root where no folder can be made: /proc, /sys).

    >>> check_writable("runs/net.json", "checkpoint")   # doctest: +SKIP
    '/home/me/runs/net.json'
    """
    path = as_path(path, what)
    target = _resolve(path, what)
    _check_target(path, target, what)
    folder = os.path.dirname(target)
    existing = _nearest_existing(folder)
    if not os.path.isdir(existing):
        raise _write_error(path, target, OSError(errno.ENOTDIR, "Not a directory"), what)
    if existing != folder:  # the first save makes the folder: can one be made here?
        if not os.access(existing, os.W_OK | os.X_OK):  # (os.access alone says yes to root
            raise _write_error(path, target, OSError(errno.EACCES, "Permission denied"), what)
        probe = os.path.join(existing, _temp_name(os.path.basename(target)))  # where none can
        try:                                                                 # be: /proc, /sys)
            os.mkdir(probe)  # a name of its own: never a folder another process makes or uses
        except OSError as exc:
            raise _write_error(path, target, exc, what) from None
        try:
            os.rmdir(probe)
        except OSError:
            pass
        return os.path.abspath(path)
    _probe(path, target, folder, what)
    return os.path.abspath(path)


def _probe(path: str, target: str, folder: str, what: str) -> None:
    """A one-byte file written in ``folder`` and removed, or the FileError saying why not."""
    probe = os.path.join(folder, _temp_name(os.path.basename(target)))
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\n")
        finally:
            os.close(fd)
    except OSError as exc:
        _unlink_quietly(probe)
        raise _write_error(path, target, exc, what) from None
    _unlink_quietly(probe)


# -- reading ---------------------------------------------------------------------------------

def _too_large(path, size: int, max_bytes: int, what: str) -> str:
    """The refusal of a file larger than ``max_bytes``, in bytes where the rounded sizes
    would read the same ("3.7 MiB ... of at most 3.7 MiB")."""
    shown, limit = nbytes(size), nbytes(max_bytes)
    if shown == limit:
        shown, limit = f"{size:,} bytes", f"{max_bytes:,} bytes"
    article = "an" if what[:1].lower() in "aeiou" else "a"
    return (f"{path!r} is {shown}; nnxp reads {article} {what} of at most {limit} "
            f"(max_bytes={max_bytes})")


def read_bytes(path, *, max_bytes: int, what: str = "file") -> bytes:
    """The content of the regular file at ``path``, refused with a DataError (naming the path
    and the reason) if it is missing, a directory or device, unreadable, or larger than
    ``max_bytes`` (checked before reading)."""
    path = as_path(path, what)
    try:
        st = os.stat(path)  # before open: opening a FIFO would block
    except FileNotFoundError:
        raise DataError(f"no {what} at {path!r}") from None
    except NotADirectoryError:
        raise DataError(f"no {what} at {path!r}: a part of its folder path is a file") from None
    except OSError as exc:
        raise DataError(f"cannot read the {what} at {path!r}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{path!r} is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{path!r} is not a regular file (a device, FIFO or socket), so it "
                        f"cannot be a {what}")
    if st.st_size > max_bytes:
        raise DataError(_too_large(path, st.st_size, max_bytes, what))
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:  # replaced by a larger file since the stat above
                raise DataError(_too_large(path, size, max_bytes, what))
            raw = f.read(size + 1)  # read(n) allocates n bytes at once: never max_bytes
    except OSError as exc:
        raise DataError(f"cannot read the {what} at {path!r}: {exc.strerror or exc}") from None
    if len(raw) > size:
        raise DataError(f"{path!r} grew while it was read: it is being written; load it once "
                        f"the writer is done")
    return raw


def parse_json(raw: bytes, where: str, what: str = "file"):
    """``raw`` (UTF-8 JSON) as Python objects; DataError naming ``where`` otherwise.  NaN and
    Infinity are read as floats (network2 writes them so): formats refuse them later."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{where!r} is not a JSON {what}: it is not UTF-8 text (byte "
                        f"{raw[exc.start]:#04x} at position {exc.start})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise DataError(f"{where!r} is not a JSON {what}: it is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4300 digits
        raise DataError(f"{where!r} is not a JSON {what} ({clip(exc)})") from None


def read_json(path, *, max_bytes: int, what: str = "file"):
    """``parse_json(read_bytes(path, max_bytes=max_bytes))``: a JSON file's content."""
    return parse_json(read_bytes(path, max_bytes=max_bytes, what=what), os.fspath(path), what)
