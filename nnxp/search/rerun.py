"""One trial of a search trained again, alone, with the same bits.

    rerun(result, trial=None, training_data, evaluation_data, *, initializer=None)
        -> (Network, History)

``trial`` is a trial number or a record (None: ``result.best``).  The network is
``Network(sizes, seed=record["seed"], ...)`` trained by ``SGD`` with the search's options, its
subsets of the data and ``shuffle=result.shuffle_seed``, for the epochs the search gave it
(successive halving: those of the last round it reached; a trial Optuna's pruner stopped:
those it trained).  On NumPy its history and weights
equal the search's bit for bit (the search trained it as a member of a population); this is
how to reproduce a record from scratch (``result.network(trial)`` gives a kept trial's trained
network without training).  The network is built by build.build_network: with the objects the
search built the trial with, never parsed back from the record's labels.

A record given as a dict must be one of the search's: its hyper-parameters and seed are checked
against the trial the search itself ran (``result.config``), and the network's size against
``max_parameters`` (space.MAX_PARAMETERS unless given), before anything is built: an edited
record is a ConfigError, never a network of the sizes it claims.
"""

from __future__ import annotations

from .. import checks
from ..errors import ConfigError
from .build import build_network, find_record

__all__ = ["rerun"]


def rerun(result, trial=None, training_data=None, evaluation_data=None, *, initializer=None,
          max_parameters=None):
    """Train one trial alone (see the module docstring); returns (network, history)."""
    record = find_record(result, trial)
    if training_data is None or evaluation_data is None:
        raise ConfigError("rerun needs the search's training_data and evaluation_data")
    config = result.config
    net = build_network(result, record, initializer, max_parameters)
    subsets = config.get("subsets") or {}
    if subsets.get("training"):
        training_data = _head(training_data, subsets["training"])
    if subsets.get("validation"):
        evaluation_data = _head(evaluation_data, subsets["validation"])
    epochs = config["epochs"]
    if result.kind == "halving":
        plan = config["halving"]["schedule"]
        round_ = record.get("round")
        if isinstance(round_, bool) or not isinstance(round_, int) or \
                not 0 <= round_ < len(plan):
            raise ConfigError(f"the record of trial {record['trial']} gives round "
                              f"{checks.show(round_)}; this search has rounds 0 to "
                              f"{len(plan) - 1}")
        epochs = plan[round_][1]
    elif record.get("status") == "pruned":  # nnxp.search.optuna: frozen where it was pruned
        epochs = record.get("epochs")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or \
                not 0 < epochs <= config["epochs"]:
            raise ConfigError(f"the record of trial {record['trial']} gives epochs "
                              f"{checks.show(epochs)}; this search trains 1 to "
                              f"{config['epochs']}")
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
