"""A search's trial as an untrained Network, and a record checked against the search.

    find_record(result, trial) -> dict        the record of ``trial`` (a number or one of the
                                              records; None: the best, a ConfigError when no
                                              trial was measured; a dict naming no trial of
                                              the result is a ConfigError)
    check_result(result)                      a SearchResult, else an InputTypeError
    check_record(record, config, max_parameters)   the record is the search's own (below)
    build_network(result, record, initializer=None, max_parameters=None) -> Network
        the record checked, its network built untrained with the objects the search built it
        with (``result.trials``: its activation, cost, initializer), on the search's backend
        and device

A record given as a dict must be one of the search's: its hyper-parameters and seed are checked
against the trial the search itself ran (``result.config``), and the network's size against
``max_parameters`` (space.MAX_PARAMETERS unless given), before anything is built: an edited
record is a ConfigError, never a network of the sizes it claims.  Nothing is parsed back from
a record's labels: a result without its trials (made by hand) takes activations by their plain
name, and an initializer that was a function needs ``initializer=`` again (named by module and
qualified name, which must match; given, it is checked even when the search's own is at hand).
A layered architecture is built from the layer objects the search's trials hold
(``trial.build["sizes"]``, checked record first); its record's label is never parsed, so a
result without its trials cannot build it (ConfigError).
"""

from __future__ import annotations

import numbers

from .. import backends, checks, core
from ..costs import cost_from_name
from ..activations import from_name
from ..errors import ConfigError, InputTypeError
from ..initializers import WEIGHT_INITIALIZERS
from ..network import Network
from .space import MAX_PARAMETERS, HYPER, function_name, parameters
from .trials import trial_seed

__all__ = ["find_record", "check_result", "check_record", "build_network"]


def find_record(result, trial) -> dict:
    """The record of ``trial`` (a number or one of the records; None: the best)."""
    check_result(result)
    if trial is not None and not isinstance(trial, dict) and \
            (isinstance(trial, bool) or not isinstance(trial, numbers.Integral)):
        raise InputTypeError(f"trial must be a trial number, one of the result's records or "
                             f"None (the best), got {checks.show(trial)}")
    record = result.best if trial is None else trial if isinstance(trial, dict) else \
        next((r for r in result.records if r["trial"] == trial), None)
    if record is None and trial is None:
        statuses = {}
        for r in result.records:
            statuses[r.get("status")] = statuses.get(r.get("status"), 0) + 1
        counts = ", ".join(f"{n} {s}" for s, n in statuses.items()) or "none ran"
        raise ConfigError(f"this search has no best trial: none of its {len(result.records)} "
                          f"trials has a validation accuracy ({counts}); name a trial (its "
                          f"number, or one of result.records)")
    if record is None:
        raise ConfigError(f"no trial {checks.show(trial)} in this search (it has "
                          f"{len(result.records)} trials)")
    number = record.get("trial")
    if isinstance(number, bool) or not isinstance(number, numbers.Integral) or \
            not any(r.get("trial") == number for r in result.records):
        raise ConfigError(f"the record's trial {checks.show(number)} is not a trial of this "
                          f"search (it has {len(result.records)}); give one of "
                          f"result.records, or a trial number")
    return record


def check_result(result) -> None:
    """``result`` is a SearchResult (what grid, random, halving and optuna return): read by
    what it holds, as results.py imports this module."""
    if not (isinstance(getattr(result, "records", None), list)
            and isinstance(getattr(result, "config", None), dict)
            and isinstance(getattr(result, "kind", None), str)):
        raise InputTypeError(f"expected a SearchResult (what nnxp.search.grid, random, halving "
                             f"and optuna return), got {checks.show(result)}")


def check_record(record, config, max_parameters, entries=None) -> None:
    """The record is trial ``record["trial"]`` of this search, as the search ran it;
    ``entries`` its architecture as the search built it (``trial.build["sizes"]``), needed for a
    layered one (its record holds a label only)."""
    trials = config.get("trials") or []
    number = record.get("trial")
    if isinstance(number, bool) or not isinstance(number, int) or \
            not 0 <= number < len(trials):
        raise ConfigError(f"the record's trial {checks.show(number)} is not a trial of this "
                          f"search (it has {len(trials)})")
    if not isinstance(trials[number], dict):  # a number Optuna gave a trial of its own
        raise ConfigError(f"the record's trial {number} is not a trial of this search")
    known = dict(trials[number], seed=trial_seed(config["seed"], number))
    for key in (*HYPER, "seed"):
        if key not in record or record[key] != known[key] or \
                type(record[key]) is not type(known[key]):
            raise ConfigError(f"the record of trial {number} says {key}="
                              f"{checks.show(record.get(key))}, but the search ran it with "
                              f"{checks.show(known[key])}; rerun takes the search's own records")
    limit = MAX_PARAMETERS if max_parameters is None else \
        checks.number("max_parameters", max_parameters, integer=True)
    if entries is None:
        entries = _dense(record, number)
    if parameters(entries) > limit:
        raise ConfigError(f"trial {number}'s network {checks.show(record['sizes'])} has "
                          f"{parameters(entries):,} weights and biases, more than "
                          f"max_parameters={limit:,}")


def _dense(record, number) -> list:
    """A record's dense sizes; a layered architecture's label is never parsed back."""
    if isinstance(record["sizes"], str):
        raise ConfigError(f"trial {number}'s architecture {checks.show(record['sizes'])} has "
                          "layer objects, which a record names by label only; build it from "
                          "the search's own result (its trials hold the layers), or "
                          "nnxp.Network(those layers, seed=record['seed'], ...)")
    return record["sizes"]


def _trial_of(trials, number):
    """The search's Trial ``number`` (trials: a list, or Optuna's dict), or None."""
    if trials is None or isinstance(number, bool) or not isinstance(number, int) or number < 0:
        return None
    try:
        return trials[number]
    except (IndexError, KeyError):
        return None


def build_network(result, record, initializer=None, max_parameters=None):
    """The untrained network of the search's ``record`` (checked first), built with the objects
    the search built it with (its activation, cost and initializer), on the search's backend."""
    number = record.get("trial")
    trial = _trial_of(result.trials, number)
    build = None if trial is None else trial.build
    # the trial's own layer objects, when the record names its architecture
    same = trial is not None and type(record.get("sizes")) is type(trial.params["sizes"]) \
        and record.get("sizes") == trial.params["sizes"]
    check_record(record, result.config, max_parameters, build["sizes"] if same else None)
    init = build["weight_init"] if build is not None else \
        WEIGHT_INITIALIZERS.get(record["initializer"])
    if initializer is not None:
        if not callable(initializer):
            raise InputTypeError(f"initializer must be the function (rng, shape) -> array the "
                                 f"search was given (a named initializer needs none), got "
                                 f"{checks.show(initializer)}")
        name = function_name(initializer, "the initializer")
        if name != record["initializer"]:
            raise ConfigError(f"trial {number} used the initializer "
                              f"{record['initializer']!r}, not {name!r}")
        init = initializer
    if init is None:
        raise ConfigError(f"trial {number} used the initializer {record['initializer']!r}; "
                          "pass it again with initializer=")
    activation = build["activation"] if build is not None else from_name(record["activation"])
    sizes = build["sizes"] if same else _dense(record, number)
    return Network(sizes, cost=record["cost"], seed=record["seed"], dtype=record["dtype"],
                   **core.dense_options(sizes, cost_from_name(record["cost"]),
                                        activation=activation, weight_init=init),
                   backend=_backend(result))


def _backend(result):
    """The search's backend on the search's device (both by name; a result read back from a
    file knows no device: the backend's default)."""
    name = result.config.get("backend")
    return None if name is None else backends.load(name, getattr(result, "device", None))
