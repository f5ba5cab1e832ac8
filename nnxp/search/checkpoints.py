"""A trial's state as an ordinary nnxp checkpoint file, so that successive halving can resume
from it and anyone can load the trial as a Network.

    checkpoint_path(results_path, trial, epoch) -> str
        "<results>.trials/trial-0007-epoch-0009.json"
    write_trial(path, trial, state, *, shuffle_seed, n_train, options) -> digest
                                  the file's BLAKE2b digest, which the results file records
    read_trial(path) -> (worker.MemberState, seed, spec)     spec: the file's core.Spec

The file is what ``Network(sizes, seed=trial.seed).SGD(..., shuffle=shuffle_seed,
checkpoint=path)`` of the trial alone would have written after ``state.epoch`` epochs (its
weights, optimizer state, stopping tracker, history and shuffling stream), so

    net = nnxp.load(path); net.resume(training_data, evaluation_data, epochs=27)

continues the trial on its own exactly as the search would have.  It is written as every
checkpoint is (checkpoint.run_file, atomically: files.atomic_write_text).
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from .. import backends
from ..checkpoint import run_file
from ..errors import DataError
from ..files import atomic_write_text
from ..history import History
from ..network import load as load_network
from ..plan import make_plan
from .architectures import trial_spec
from .worker import MemberState, run_state

__all__ = ["checkpoint_path", "write_trial", "read_trial"]


def checkpoint_path(results_path, trial, epoch) -> str:
    return os.path.join(f"{results_path}.trials", f"trial-{trial:04d}-epoch-{epoch:04d}.json")


def write_trial(path, trial, state, *, shuffle_seed, n_train, options) -> str:
    p = trial.params
    spec = trial_spec(trial)
    plan, _ = make_plan(
        state.epoch, p["mini_batch_size"], p["eta"], lmbda=p["lmbda"], l1=p["l1"],
        momentum=None if trial.optimizer == "sgd" else p["momentum"],
        nesterov=trial.optimizer == "nesterov", shuffle=shuffle_seed, evaluation=True,
        checkpoint=True, monitor_evaluation_accuracy=True, monitor_evaluation_cost=True,
        **options)
    state_now = run_state([state.tracker], state.epoch, shuffle_seed, n_train)
    text = json.dumps(run_file(spec, state.params, p["dtype"], trial.seed, plan, state_now,
                               state.leaves, [History.from_dict(state.history)]))
    atomic_write_text(path, text, what="trial checkpoint")
    return hashlib.blake2b(text.encode("utf-8"), digest_size=32).hexdigest()


def read_trial(path) -> tuple:
    with backends.use_backend("numpy"):
        net = load_network(path)
    if net.checkpoint is None:
        raise DataError(f"{path!r} is a network file without a checkpoint, not a trial's state")
    _, run_state, leaves, history = net.checkpoint
    params = [tuple(np.asarray(a) for a in layer) for layer in net.params]
    state = MemberState(params, leaves, run_state.trackers[0].to_dict(), history.to_dict(),
                        run_state.epoch)
    return state, net.seed, net.spec
