"""One trial of a search trained again, alone, with the same bits.

    rerun(result, trial=None, training_data, evaluation_data, *, initializer=None)
        -> (Network, History)

``trial`` is a trial number or a record (None: ``result.best``).  The network is
``Network(sizes, seed=record["seed"], ...)`` trained by ``SGD`` with the search's options, its
subsets of the data and ``shuffle=result.shuffle_seed``, for the epochs the search gave it
(successive halving: those of the last round it reached).  On NumPy its history and weights
equal the search's bit for bit (the search trained it as a member of a population); this is
how to reproduce a record from scratch (``result.network(trial)`` gives a kept trial's trained
network without training).  The network is built with the objects the search built the trial
with (its activation, cost, initializer: ``result.trials``), never parsed back from the
record's labels; a result without them (made by hand) takes activations by their plain name,
and a trial whose initializer was a function needs ``initializer=`` that function again (the
record names it by module and qualified name, which must match; given, it is checked even
when the search's own is at hand).

    build_network(result, record, initializer=None, max_parameters=None) -> Network
        the record checked (below), its network built untrained

A record given as a dict must be one of the search's: its hyper-parameters and seed are checked
against the trial the search itself ran (``result.config``), and the network's size against
``max_parameters`` (space.MAX_PARAMETERS unless given), before anything is built: an edited
record is a ConfigError, never a network of the sizes it claims.
"""

from __future__ import annotations

from .. import checks
from ..activations import from_name
from ..errors import ConfigError
from ..initializers import WEIGHT_INITIALIZERS
from ..network import Network
from .results import find_record
from .space import MAX_PARAMETERS, HYPER, function_name, parameters
from .trials import trial_seed

__all__ = ["rerun", "build_network"]


def _check_record(record, config, max_parameters) -> None:
    """The record is trial ``record["trial"]`` of this search, as the search ran it."""
    trials = config.get("trials") or []
    number = record.get("trial")
    if isinstance(number, bool) or not isinstance(number, int) or \
            not 0 <= number < len(trials):
        raise ConfigError(f"the record's trial {checks.show(number)} is not a trial of this "
                          f"search (it has {len(trials)})")
    known = dict(trials[number], seed=trial_seed(config["seed"], number))
    for key in (*HYPER, "seed"):
        if key not in record or record[key] != known[key] or \
                type(record[key]) is not type(known[key]):
            raise ConfigError(f"the record of trial {number} says {key}="
                              f"{checks.show(record.get(key))}, but the search ran it with "
                              f"{checks.show(known[key])}; rerun takes the search's own records")
    limit = MAX_PARAMETERS if max_parameters is None else \
        checks.number("max_parameters", max_parameters, integer=True)
    if parameters(record["sizes"]) > limit:
        raise ConfigError(f"trial {number}'s network {record['sizes']} has "
                          f"{parameters(record['sizes']):,} weights and biases, more than "
                          f"max_parameters={limit:,}")


def build_network(result, record, initializer=None, max_parameters=None):
    """The untrained network of the search's ``record`` (checked first), built with the objects
    the search built it with (its activation, cost and initializer), on the search's backend."""
    _check_record(record, result.config, max_parameters)
    number = record["trial"]
    build = result.trials[number].build if result.trials is not None else None
    init = build["weight_init"] if build is not None else \
        WEIGHT_INITIALIZERS.get(record["initializer"])
    if initializer is not None:
        name = function_name(initializer, "the initializer")
        if name != record["initializer"]:
            raise ConfigError(f"trial {number} used the initializer "
                              f"{record['initializer']!r}, not {name!r}")
        init = initializer
    if init is None:
        raise ConfigError(f"trial {number} used the initializer {record['initializer']!r}; "
                          "pass it again with initializer=")
    activation = build["activation"] if build is not None else from_name(record["activation"])
    return Network(record["sizes"], cost=record["cost"], activation=activation,
                   weight_init=init, seed=record["seed"], dtype=record["dtype"],
                   backend=result.config.get("backend"))


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
