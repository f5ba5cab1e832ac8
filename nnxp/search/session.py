"""What every search does around its trials: the data on the host, the options checked, the
results file written as it goes and read back to resume.

    host_data(trials, training_data, evaluation_data, training_subset, validation_subset)
        -> ((X, Y), (Xv, Yv))          NumPy, checked once (nnxp.data), Y one row per example;
                                        read-only, so that nnxp.data prepares them once per
                                        worker and backend (the caller's arrays stay writeable)
    check_options(...) -> dict          the fast-feedback and stopping options for every trial
                                        (an engine must be one of the backend's)
    fingerprint(data) -> dict           sizes and a hash of the data (a resumed search must
                                        see the same data)
    check_not_kept(path, kept, what)    ConfigError when ``path`` is one of the files a search
                                        keeps (``kept``: its results file or Optuna journal,
                                        successive halving's trial checkpoints): a table or a
                                        plot written there would replace what a resume reads
    is_url(path) -> bool                ``path`` is a URL (``sqlite:///x.db``, ``s3://...``):
                                        refused as a results file or journal, which it would
                                        name in a folder "sqlite:" of the working directory
    Store(path, config)                 the results file; path None writes nothing
        .own()                          take the file's lock (lock.py) for the whole search:
                                        a second search on the path is refused at once
        .load() -> dict | None          what a previous run with the same config completed
                                        (its records are checked by saved.py)
        .save(content)                  atomically (nnxp.files.atomic_write_text)
        .release()                      the search's end: the lock is dropped

The file is JSON: ``{"format": "nnxp.search", "version": 1, "config": {...}, "records":
[...], "histories": {...}, "rounds": [...]}``.  ``config`` holds everything the table depends
on: the kind of search, every trial's hyper-parameters, the seed, the epochs, the options,
the backend and the data's fingerprint; resuming with a different one is refused (naming what
differs) rather than mixing two searches.  A record is written after its group finished, so
a file always lists complete trials only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import numpy as np

from .. import backends, checks
from ..data import freeze, prepare
from ..errors import ConfigError, DataError
from ..files import atomic_write_text, check_writable, read_json
from ..plan import check_monitoring
from .architectures import trial_spec
from .lock import Owner

__all__ = ["host_data", "check_options", "fingerprint", "check_not_kept", "is_url", "Store"]

FORMAT, VERSION = "nnxp.search", 1
MAX_RESULTS_BYTES = 1 << 30


def host_data(trials, training_data, evaluation_data, training_subset=None,
              validation_subset=None):
    """The data as NumPy arrays for every trial (all trials must share input and output
    widths); the subsets are the first n examples (the book: ``training_data[:1000]``)."""
    widths = [trial_spec(t).sizes if isinstance(t.params["sizes"], str) else t.params["sizes"]
              for t in trials]
    ins = {w[0] for w in widths}
    outs = {w[-1] for w in widths}
    if len(ins) != 1 or len(outs) != 1:
        raise ConfigError(f"every trial must have the same input and output widths (the data "
                          f"decides them); the space gives inputs {sorted(ins)} and outputs "
                          f"{sorted(outs)}")
    if evaluation_data is None:
        raise ConfigError("a search compares trials on evaluation_data (validation data): "
                          "pass it, e.g. nnxp.datasets.load_mnist()'s validation split")
    dtype = "float64" if any(t.params["dtype"] == "float64" for t in trials) else "float32"
    host, n_in, n_out = backends.load("numpy"), ins.pop(), outs.pop()
    out = []
    for data, name, subset, option in (
            (training_data, "training_data", training_subset, "training_subset"),
            (evaluation_data, "evaluation_data", validation_subset, "validation_subset")):
        ds = prepare(data, host, dtype, n_in, n_out, name)
        x, y = np.asarray(ds.x), np.asarray(ds.y)
        if subset is not None:
            subset = checks.number(option, subset, integer=True)
            x, y = x[:subset], y[:subset]
        given = [a for a in data if isinstance(a, np.ndarray)] if isinstance(data, tuple) else []
        out.append(tuple(freeze(a.copy() if any(np.may_share_memory(a, g) for g in given)
                                else a) for a in (x, y)))
    return tuple(out)


def check_options(epochs, early_stopping, schedule, monitor_every, monitor_subset,
                  engine, backend=None) -> dict:
    checks.number("epochs", epochs, integer=True)
    options = {"early_stopping": checks.optional_int("early_stopping", early_stopping),
               "schedule": checks.optional_int("schedule", schedule),
               "monitor_every": checks.optional_int("monitor_every", monitor_every),
               "monitor_subset": checks.optional_int("monitor_subset", monitor_subset)}
    check_monitoring(options["monitor_every"], options["monitor_subset"])
    if checks.engine(engine) is not None:
        if backend is not None:
            backend.engine_path(engine)  # ConfigError naming the backend's engines
        options["engine"] = engine
    return {k: v for k, v in options.items() if v is not None}


def fingerprint(data) -> dict:
    (x, y), (xv, yv) = data
    return {"n_training": int(x.shape[0]), "n_evaluation": int(xv.shape[0]),
            "training": _digest(x, y), "evaluation": _digest(xv, yv)}


def _digest(*arrays) -> str:
    """BLAKE2b (12 bytes) of the arrays' bytes one after another, in C order: read in place,
    without the copies of ``tobytes`` (the digest is the same)."""
    h = hashlib.blake2b(digest_size=12)
    for a in arrays:
        if a.size:  # an empty array adds no bytes (and memoryview cannot cast its shape)
            h.update(memoryview(np.ascontiguousarray(a)).cast("B"))
    return h.hexdigest()


def check_not_kept(path, kept, what) -> None:
    if not isinstance(path, (str, os.PathLike)):
        return  # not a path: the writer says so
    target = os.path.realpath(os.fspath(path))
    for own in kept:
        if own is not None and os.path.realpath(own) == target:
            raise ConfigError(f"{os.fspath(path)!r} is a file this search keeps (its results "
                              f"file, Optuna journal or a trial's checkpoint: what a resume "
                              f"reads); writing {what} there would replace it: give another "
                              f"path")


def is_url(path) -> bool:
    return isinstance(path, str) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", path) is not None


class Store:
    """The results file (see the module docstring)."""

    def __init__(self, path, config):
        if is_url(path):
            raise ConfigError(f"path is the search's results file, a local JSON file; got the "
                              f"URL {checks.show(path)}: give a file path")
        self.path = None if path is None else check_writable(path, "search results")
        self.config = json.loads(json.dumps(config))  # as it will read back
        self.owner = None

    def own(self) -> None:
        if self.path is not None and self.owner is None:
            text = json.dumps(self.config, sort_keys=True).encode("utf-8")
            self.owner = Owner(os.path.realpath(self.path),  # one lock, whatever the link
                               hashlib.blake2b(text, digest_size=16).hexdigest())

    def release(self) -> None:
        if self.owner is not None:
            self.owner.release()
            self.owner = None

    def load(self):
        if self.path is None or not os.path.exists(self.path):
            return None
        d = read_json(self.path, max_bytes=MAX_RESULTS_BYTES, what="search results")
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise DataError(f"{self.path!r} is not an nnxp search results file (no "
                            f"\"format\": \"{FORMAT}\"); give another path to start a new "
                            "search")
        if d.get("version") != VERSION:
            raise DataError(f"{self.path!r}: results file version {checks.show(d.get('version'))}"
                            f", this nnxp reads version {VERSION}")
        old = d.get("config")
        if not isinstance(old, dict):
            raise DataError(f"{self.path!r}: its \"config\" is {checks.show(old)}, not the "
                            "description of a search; give another path to start a new search")
        if old != self.config:
            differ = sorted(k for k in set(self.config) | set(old or {})
                            if (old or {}).get(k) != self.config.get(k))
            raise ConfigError(f"{self.path!r} holds the results of another search (it differs "
                              f"in {', '.join(differ)}); resume with the same space, data, seed "
                              "and options, or give another path")
        return d

    def save(self, content) -> None:
        if self.path is None:
            return
        d = {"format": FORMAT, "version": VERSION, "config": self.config, **content}
        atomic_write_text(self.path, json.dumps(d), what="search results")
