"""The book's ``open(filename)`` errors, kept where nnxp.compat reads a file.

    read_as_the_book(path, read) -> read(path)
    book_path(filename) -> str       checks.path, also for bytes (the book's open takes them)

network2's ``load`` and network3's ``load_data_shared`` open the file with ``open``, so a
missing file raised FileNotFoundError (an IOError), and programs written for the book catch it:

    try:
        net = network2.load("net.json")
    except IOError:
        net = network2.Network([784, 30, 10])

nnxp reads files with nnxp.files (a DataError naming the path and the reason).  Where ``read``
refuses a path that ``open`` would refuse too, the DataError raised here is also the OSError
``open`` raised (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError; an
OSError otherwise), with ``errno`` and ``filename`` set, so ``except IOError`` (``except
OSError``, ``except FileNotFoundError``) and ``except ValueError`` both still catch it.  A file
that opens but is not what it should be stays a plain DataError (the book raised ValueError,
KeyError, ... there).
"""

from __future__ import annotations

import errno
import os
import stat

from .. import checks
from ..errors import DataError

__all__ = ["read_as_the_book", "book_path", "MissingFileError", "DirectoryError", "NotAFolderError",
           "UnreadableFileError", "OpenError"]


class OpenError(DataError, OSError):
    """A file that ``open`` could not open: a DataError and an OSError."""

    def __str__(self) -> str:
        return self.args[0]  # nnxp's message, not OSError's "[Errno 2] ..."


class MissingFileError(OpenError, FileNotFoundError):
    """No file at the path (open: FileNotFoundError)."""


class DirectoryError(OpenError, IsADirectoryError):
    """The path is a folder (open: IsADirectoryError)."""


class NotAFolderError(OpenError, NotADirectoryError):
    """A folder on the path is a file (open: NotADirectoryError)."""


class UnreadableFileError(OpenError, PermissionError):
    """The file cannot be read (open: PermissionError)."""


_TWINS = {FileNotFoundError: (MissingFileError, errno.ENOENT),
          IsADirectoryError: (DirectoryError, errno.EISDIR),
          NotADirectoryError: (NotAFolderError, errno.ENOTDIR),
          PermissionError: (UnreadableFileError, errno.EACCES)}


def book_path(filename) -> str:
    """``filename`` checked as nnxp checks paths (checks.path), where bytes are a path too, as
    for the book's ``open(filename)`` (decoded with os.fsdecode)."""
    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    return checks.path("filename", filename)


def _open_error(path):
    """The OSError class ``open(path)`` raises (from the path as it is now), or None."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return type(exc)
    if stat.S_ISDIR(st.st_mode):
        return IsADirectoryError
    if stat.S_ISREG(st.st_mode) and not os.access(path, os.R_OK):
        return PermissionError
    return None


def read_as_the_book(path, read):
    """``read(path)``; a DataError for a path ``open`` refuses too comes back as that error's
    twin (see the module docstring)."""
    try:
        return read(path)
    except DataError as exc:
        kind = _open_error(path)
        if kind is None:
            raise
        cls, code = _TWINS.get(kind, (OpenError, None))
        err = cls(str(exc))
        err.errno, err.strerror, err.filename = code, os.strerror(code) if code else None, \
            os.fspath(path)
        raise err from None
