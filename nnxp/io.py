"""Files: networks as network2-compatible JSON, checkpoints, atomic writes.

    save(net, path)                 JSON that network2's own ``load`` reads (keys ``sizes``,
                                    ``weights`` as (n_out, n_in) nested lists, ``biases`` as
                                    (n_out, 1), ``cost`` by class name) plus nnxp's fields
                                    (``format``, ``version``, ``activations``, ``dtype``, ``seed``)
    load(path) -> Network           reads nnxp files, checkpoints and network2 files, onto the
                                    selected backend
    save_checkpoint(path, net, cfg, state, history)
                                    everything ``Network.resume`` needs: parameters, optimizer
                                    state, epoch, schedule state, shuffling RNG state, history
    atomic_write_text(path, text)   write a temporary file in the same folder, fsync, rename:
                                    a crash leaves the old file or the new one, never half of one

Why JSON and not pickle (as network2 says): readable, portable, and loading a file never runs
code.  Names in a file (costs, activations, optimizers) are looked up in fixed tables, never
with getattr on a module.  Numbers are written with Python's shortest round-trip repr of
float64, so float32 and float64 parameters come back bit for bit, which is what lets a resumed
run end with the same weights as one that never stopped.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .activations import from_name
from .costs import cost_from_name
from .errors import ConfigError, DataError

__all__ = ["save", "load", "save_checkpoint", "atomic_write_text", "FORMAT", "VERSION"]

FORMAT = "nnxp.network"
VERSION = 1


def atomic_write_text(path, text: str) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _network_dict(net) -> dict:
    be = net.backend
    return {
        "sizes": list(net.sizes),
        "weights": [be.to_numpy(w).astype(np.float64).tolist() for w in net.weights],
        "biases": [be.to_numpy(b).astype(np.float64).reshape(-1, 1).tolist()
                   for b in net.biases],
        "cost": net.cost.name,
        "format": FORMAT,
        "version": VERSION,
        "activations": [a.to_dict() for a in net.activations],
        "dtype": net.dtype,
        "seed": str(net.seed),
    }


def save(net, path) -> None:
    """Save ``net`` as JSON that both network2's ``load`` and ``nnxp.load`` read."""
    atomic_write_text(path, json.dumps(_network_dict(net)))


def _tree_to_lists(be, tree):
    if isinstance(tree, (tuple, list)):
        return [_tree_to_lists(be, t) for t in tree]
    return be.to_numpy(tree).astype(np.float64).tolist()


def save_checkpoint(path, net, cfg, state, history) -> None:
    """Save the network and its training run so that ``nnxp.load(path).resume(data)`` goes on
    exactly where this run is."""
    from dataclasses import asdict
    d = _network_dict(net)
    run = asdict(state)
    opt_state = run.pop("optimizer_state", None)
    d["checkpoint"] = {
        "config": asdict(cfg),
        "state": run,
        "optimizer_state": {"type": type(state.optimizer_state).__name__,
                            "values": _tree_to_lists(net.backend, tuple(state.optimizer_state))},
        "history": history.to_dict(),
    }
    del opt_state
    atomic_write_text(path, json.dumps(d))


def _read(path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataError(f"no network file at {os.fspath(path)!r}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{os.fspath(path)!r} is not a JSON network file ({exc})") from None


def load(path, *, dtype=None):
    """A Network from an nnxp file, an nnxp checkpoint, or a network2 file, on the selected
    backend.  ``dtype`` overrides the file's (network2 files: float64, their precision)."""
    from .network import Network
    from .training import History, RunConfig, RunState
    d = _read(path)
    where = os.fspath(path)
    if not isinstance(d, dict) or not {"sizes", "weights", "biases", "cost"} <= set(d):
        raise DataError(f"{where!r} lacks the keys of a network file (sizes, weights, biases, "
                        f"cost); found {sorted(d) if isinstance(d, dict) else type(d).__name__}")
    fmt = d.get("format")
    if fmt is not None and (fmt != FORMAT or not isinstance(d.get("version"), int)
                            or d["version"] > VERSION):
        raise DataError(f"{where!r} is format {fmt!r} version {d.get('version')!r}; this nnxp "
                        f"reads {FORMAT!r} up to version {VERSION}")
    try:
        cost = cost_from_name(d["cost"])
        acts = [from_name(a) for a in d.get("activations", [])] or None
    except ConfigError as exc:
        raise DataError(f"{where!r}: {exc}") from None
    net = Network(d["sizes"], cost=cost, activation=acts,
                  dtype=dtype or d.get("dtype", "float64"),
                  seed=int(d["seed"]) if str(d.get("seed", "")).isdigit() else None)
    net.params = tuple(_layer(net, where, i, w, b)
                       for i, (w, b) in enumerate(_pairs(d, where, len(net.sizes) - 1)))
    ck = d.get("checkpoint")
    if ck is not None:
        cfg = RunConfig(**ck["config"])
        state = RunState(**ck["state"])
        state.optimizer_state = _optimizer_state(net, ck["optimizer_state"])
        net.checkpoint = (cfg, state, History.from_dict(ck["history"]))
    return net


def _pairs(d, where, n_layers):
    if not (isinstance(d["weights"], list) and isinstance(d["biases"], list)
            and len(d["weights"]) == len(d["biases"]) == n_layers):
        raise DataError(f"{where!r}: sizes {d['sizes']} need {n_layers} weight matrices and "
                        f"bias vectors; found {len(d['weights'])} and {len(d['biases'])}")
    return zip(d["weights"], d["biases"])


def _layer(net, where, i, w, b):
    n_in, n_out = net.sizes[i], net.sizes[i + 1]
    try:
        w = np.asarray(w, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64).reshape(-1)
    except (ValueError, TypeError):
        raise DataError(f"{where!r}: layer {i} holds something other than numbers") from None
    if w.shape != (n_out, n_in) or b.shape != (n_out,):
        raise DataError(f"{where!r}: layer {i} should have weights {(n_out, n_in)} and biases "
                        f"({n_out}, 1); found {w.shape} and {b.shape}")
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise DataError(f"{where!r}: layer {i} contains NaN or infinite values")
    return net.backend.asarray(w, net.dtype), net.backend.asarray(b, net.dtype)


def _optimizer_state(net, saved):
    from .optimizers import MomentumState
    to_device = lambda pair: tuple(net.backend.asarray(np.asarray(a), net.dtype) for a in pair)
    if saved["type"] == "MomentumState":
        (velocity,) = saved["values"]
        return MomentumState(tuple(to_device(pair) for pair in velocity))
    if saved["type"] == "tuple" and not saved["values"]:
        return ()
    raise DataError(f"unknown optimizer state {saved['type']!r} in checkpoint")
