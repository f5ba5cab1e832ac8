"""Trials, their seeds, and how they are grouped into populations.

    Trial(number, params, build, seed)     one point of the space; ``number`` its place in
                                           the search (grid order, or order of the draws)
    make_trials(points, seed, mini_batch_size) -> [Trial]
    trial_seed(seed, number) -> int        the network seed of trial ``number``
    shuffle_seed(seed) -> int              the one shuffling seed of the whole search
    shape_key(trial) -> tuple              what must be equal to train in one population
    groups(trials, max_members) -> [[Trial]]

Seeds.  Everything random comes from the search's ``seed`` through numpy's SeedSequence, so a
trial's numbers depend on the seed and its number only, never on which trials it runs with or
where:

    network seed of trial i = SeedSequence(seed, spawn_key=(1, i)).generate_state(1)[0]
    shuffling seed          = SeedSequence(seed, spawn_key=(0,)).generate_state(1)[0]
    random-search draws     : numpy.random.default_rng(SeedSequence(seed, spawn_key=(2,)))

Trial i is exactly ``Network(sizes, seed=record["seed"], ...).SGD(..., shuffle=shuffle seed)``:
its own initial weights, and the same mini-batches in the same order as every other trial
(the book compares hyper-parameters that way: same data, same order).  Because every trial
shuffles with the same seed, trials of one shape can share their mini-batches and train as
one Population, whose member k is bit for bit that network trained alone (on NumPy).

Shape.  Members of a population share sizes (a layered architecture: its label, one per
architecture of the space), activation, cost, dtype, mini-batch size, weight
initializer and the structure of the update (plain SGD, momentum or Nesterov; L1 or not); eta,
lmbda, l1 and momentum may differ per member.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import checks
from ..errors import ConfigError
from .architectures import check_labels
from .space import normalize

__all__ = ["Trial", "check_seed", "make_trials", "trial_seed", "shuffle_seed", "shape_key",
           "groups"]


@dataclass
class Trial:
    number: int
    params: dict      # JSON-safe hyper-parameters (space.HYPER's names)
    build: dict       # sizes (the entries: ints and layer objects), activation, cost,
                      # weight_init objects
    seed: int         # the network's seed

    @property
    def optimizer(self) -> str:
        if self.params["momentum"] == 0:
            return "sgd"
        return "nesterov" if self.params["nesterov"] else "momentum"


def _int(seed, key) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])


def trial_seed(seed, number) -> int:
    return _int(seed, (1, number))


def shuffle_seed(seed) -> int:
    return _int(seed, (0,))


def draw_rng(seed):
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))


def check_seed(seed) -> int:
    """A search's seed: a non-negative integer (None would make it unrepeatable and
    unresumable)."""
    if checks.seed(seed) is None:
        raise ConfigError("a search needs an integer seed (None would draw a fresh one, and "
                          "the search could be neither repeated nor resumed)")
    return int(seed)


def make_trials(points, seed, mini_batch_size) -> list:
    trials = []
    for number, point in enumerate(points):
        params, build = normalize(point, mini_batch_size)
        trials.append(Trial(number, params, build, trial_seed(seed, number)))
    check_labels(trials)
    return trials


def shape_key(trial) -> tuple:
    p = trial.params
    sizes = p["sizes"] if isinstance(p["sizes"], str) else tuple(p["sizes"])  # a label: one
    return (sizes, p["activation"], p["cost"], p["dtype"], p["mini_batch_size"],
            p["initializer"], trial.optimizer, p["l1"] > 0)


def groups(trials, max_members=None) -> list:
    """Trials of one shape together (in order of first appearance), cut into pieces of at most
    ``max_members`` (None: no limit; 1: every trial alone)."""
    by_shape: dict = {}
    for trial in trials:
        by_shape.setdefault(shape_key(trial), []).append(trial)
    out = []
    for members in by_shape.values():
        size = len(members) if not max_members else max_members
        out.extend(members[i:i + size] for i in range(0, len(members), size))
    return out
