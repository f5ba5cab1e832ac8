"""Fetch one file from a list of mirrors, verify its SHA-256, write it atomically.

    fetch(name, folder, mirrors, sha256, progress=None, size=None) -> path
        Tries ``mirror + name`` for each mirror in order and returns the path of the
        verified file ``folder/name``.  Raises DownloadFailed (with one reason per mirror)
        when no mirror gave bytes with the expected checksum.  ``size`` (the published size
        in bytes) bounds what is read: a mirror that announces or sends more is refused at
        once, not after writing all it sends.  The file gets 0666 less the umask, as every
        file nnxp writes (a shared data folder stays readable to its other users).

Why so careful: a half-written or tampered file in a cache folder would be read without a
checksum the next time (local files are trusted, see ``mnist.py``), so nothing reaches its
final name unless it is complete and verified.  Bytes go to a temporary file in the same
folder and are renamed with ``os.replace`` (atomic on POSIX and Windows); on any failure the
temporary file is removed.

Progress: ``progress=None`` shows a tqdm bar when tqdm is installed and stderr is a terminal,
``True`` always shows one (a plain line when tqdm is missing), ``False`` never does.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
import uuid

__all__ = ["DownloadFailed", "fetch"]

TIMEOUT = 30.0    # seconds without an answer before a mirror counts as down
CHUNK = 1 << 16   # bytes read at a time


class DownloadFailed(Exception):
    """No mirror gave a verified copy; ``reasons`` holds one line per mirror."""

    def __init__(self, name: str, reasons: list[str]):
        super().__init__(f"{name}: " + "; ".join(reasons))
        self.reasons = reasons


def fetch(name: str, folder: str, mirrors, sha256: str, progress=None, size=None) -> str:
    """Download ``name`` into ``folder`` from the first mirror that serves the right bytes."""
    os.makedirs(folder, exist_ok=True)
    reasons = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            return _fetch_one(url, os.path.join(folder, name), sha256, progress, size)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # URLError, HTTPError, timeouts and refused connections are OSErrors;
            # a connection cut mid-body is http.client.IncompleteRead.
            reasons.append(f"{url}: {_describe(exc)}")
    raise DownloadFailed(name, reasons or ["no mirrors configured"])


def _fetch_one(url: str, target: str, sha256: str, progress, size=None) -> str:
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                 0o666)  # the umask applies, as for every file nnxp writes
    try:
        digest, got = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            if size is not None and total is not None and total > size:
                raise ValueError(f"announces {total} bytes, more than the published {size}")
            bar = _bar(progress, total, name)
            try:
                while chunk := response.read(CHUNK):
                    got += len(chunk)
                    if size is not None and got > size:
                        raise ValueError(f"sent more than the published {size} bytes")
                    out.write(chunk)
                    digest.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256.lower():
            raise ValueError(f"SHA-256 mismatch (got {digest.hexdigest()}, "
                             f"expected {sha256.lower()})")
        os.replace(tmp, target)
        return target
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable ({exc.reason})"
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection closed after {len(exc.partial)} bytes"
    return str(exc) or type(exc).__name__


def _bar(progress, total, name):
    """A tqdm-like object with update(n) and close(), or None for quiet."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if progress is None:
        progress = tqdm is not None and sys.stderr.isatty()
    if not progress:
        return None
    if tqdm is not None:
        return tqdm(total=total, desc=name, unit="B", unit_scale=True, file=sys.stderr)
    return _Line(name)


class _Line:
    """The fallback when tqdm is missing: one line per file on stderr."""

    def __init__(self, name):
        self.name, self.n = name, 0
        print(f"downloading {name} ...", end="", file=sys.stderr, flush=True)

    def update(self, n):
        self.n += n

    def close(self):
        print(f" {self.n:,} bytes", file=sys.stderr, flush=True)
