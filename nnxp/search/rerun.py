"""One trial of a search trained again, alone, with the same bits.

    rerun(result, trial=None, training_data, evaluation_data, *, initializer=None)
        -> (Network, History)

``trial`` is a trial number or a record (None: ``result.best``).  The network is
``Network(sizes, seed=record["seed"], ...)`` trained by ``SGD`` with the search's options, its
subsets of the data and ``shuffle=result.shuffle_seed``, for the epochs the search gave it
(successive halving: those of the last round it reached).  On NumPy its history and weights
equal the search's bit for bit (the search trained it as a member of a population); this is
how to get the best trial's network from a grid or random search.  A trial whose initializer
was a function (not a name) needs ``initializer=`` that function again.
"""

from __future__ import annotations

import re

from ..activations import from_name
from ..errors import ConfigError
from ..initializers import WEIGHT_INITIALIZERS
from ..network import Network

__all__ = ["rerun"]

_CALL = re.compile(r"^(\w+)\((.*)\)$")


def _activation(label):
    match = _CALL.match(label)
    if not match:
        return from_name(label)
    params = {}
    for part in filter(None, (p.strip() for p in match.group(2).split(","))):
        key, _, value = part.partition("=")
        params[key.strip()] = float(value)
    return from_name(match.group(1), **params)


def rerun(result, trial=None, training_data=None, evaluation_data=None, *, initializer=None):
    """Train one trial alone (see the module docstring); returns (network, history)."""
    record = result.best if trial is None else trial if isinstance(trial, dict) else \
        next((r for r in result.records if r["trial"] == trial), None)
    if record is None:
        raise ConfigError(f"no trial {trial!r} in this search (it has "
                          f"{len(result.records)} trials)")
    if training_data is None or evaluation_data is None:
        raise ConfigError("rerun needs the search's training_data and evaluation_data")
    config = result.config
    init = initializer or WEIGHT_INITIALIZERS.get(record["initializer"])
    if init is None:
        raise ConfigError(f"trial {record['trial']} used the initializer "
                          f"{record['initializer']!r}; pass it again with initializer=")
    subsets = config.get("subsets") or {}
    if subsets.get("training"):
        training_data = _head(training_data, subsets["training"])
    if subsets.get("validation"):
        evaluation_data = _head(evaluation_data, subsets["validation"])
    epochs = config["epochs"]
    if result.kind == "halving":
        epochs = config["halving"]["schedule"][record["round"]][1]
    net = Network(record["sizes"], cost=record["cost"],
                  activation=_activation(record["activation"]), weight_init=init,
                  seed=record["seed"], dtype=record["dtype"])
    momentum = {} if record["momentum"] == 0 else {"momentum": record["momentum"],
                                                   "nesterov": record["nesterov"]}
    history = net.SGD(training_data, epochs, record["mini_batch_size"], record["eta"],
                      lmbda=record["lmbda"], evaluation_data=evaluation_data,
                      monitor_evaluation_accuracy=True, monitor_evaluation_cost=True,
                      l1=record["l1"], shuffle=config["shuffle_seed"], **momentum,
                      **config["options"])
    return net, history


def _head(data, n):
    if isinstance(data, tuple) and len(data) == 2 and hasattr(data[0], "shape"):
        return data[0][:n], data[1][:n]
    return data[:n]
