"""A search's network architectures: dense sizes (a list of ints) or layered entries (the input
size, then ints and layer objects, as nnxp.Network takes them).

    is_architecture(value) -> bool       one architecture (not a list of choices)
    check_entries(entries, where)        ConfigError naming the first entry sizes does not take
    shown(entries) -> str                the entries for a message, layers as ``describe``s
    takes_dense_options(entries) -> bool an int entry after the input size (a dense layer the
                                         search's activation and initializer build) is there
    architecture(sizes) -> (value, entries)
        ``value`` what the records show: the list of ints of a dense stack, or the label of a
        layered architecture; ``entries`` what is built: the list itself (the layer objects)
    label(entries) -> str                "64,Reshape(shape=(1, 8, 8), ndim=1),ConvPool(...),..."
    spec(entries, activation, cost, weight_init) -> core.Spec     what Network would build
                                         (a ConfigError for dropout layers: a search's trials
                                         do not carry their mask streams)
    trial_spec(trial) -> core.Spec       the Spec of a trial's build
    parameters(entries) -> int           how many numbers one network holds (core's count)
    check_labels(trials)                 one label, one architecture

A layered architecture is recorded (results files, CSV, JSON, grouping) by its label, made of
``layers.base.describe``: deterministic and readable, never parsed back into objects.  The
objects stay in the trial (``trial.build["sizes"]``): whatever builds a network, counts its
parameters, groups trials or checks a checkpoint reads them, and a saved record's label is
only compared with the labels of the space's own architectures (a file never decides what
runs).  Two architectures of one space with one label (layers differing only by their
initializers, which ``describe`` leaves out) are refused: the label must tell them apart.
Dense sizes stay a list of ints, as before.
"""

from __future__ import annotations

import numbers

from .. import checks, core
from ..activations import as_activation
from ..errors import ConfigError
from ..layers import Dense
from ..layers.base import Layer, describe
from ..masks import has_dropout
from ..network import has_layers, layer_activations

__all__ = ["is_architecture", "check_entries", "shown", "takes_dense_options", "architecture",
           "label", "spec", "trial_spec", "parameters", "check_labels"]


def _int(e) -> bool:
    return isinstance(e, numbers.Integral) and not isinstance(e, bool)


def is_architecture(value) -> bool:
    """A list of ints, or of ints and layer objects with at least one layer object."""
    return isinstance(value, (list, tuple)) and bool(value) and \
        all(_int(e) or isinstance(e, Layer) for e in value)


def _given(e) -> str:
    """What an entry of sizes is, for a message: its value and what makes it wrong."""
    if isinstance(e, bool):
        return f"{e!r}, a bool"
    if _int(e):
        return f"{int(e)}, not positive"
    kind = "float" if isinstance(e, numbers.Real) else type(e).__name__
    return f"{checks.show(e)}, a {kind}"


def shown(entries) -> str:
    """``entries`` for a message (capped): ints and other values by repr, layers described."""
    return checks.clip("[" + ", ".join(describe(e) if isinstance(e, Layer) else checks.show(e)
                                       for e in entries) + "]")


def check_entries(entries, where) -> None:
    """ConfigError naming the first entry of one architecture that sizes does not take: the
    input size (a positive int) first, then positive ints (dense layers) and layer objects;
    at least two entries.  ``where`` names the architecture in the message."""
    entries = list(entries)
    if len(entries) < 2:
        raise ConfigError(f"{where} has {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
                          f"; expected the input size, then at least one layer, such as "
                          f"[784, 30, 10]")
    for i, e in enumerate(entries):
        if _int(e) and e >= 1 or i > 0 and isinstance(e, Layer):
            continue
        expected = "the input size, a positive int" if i == 0 else \
            "a positive int (a dense layer's width) or a layer object (nnxp.layers)"
        raise ConfigError(f"{where}: entry {i} is {_given(e)}; expected {expected}")


def takes_dense_options(entries) -> bool:
    """Whether an entry after the input size is an int, the one kind the dense options
    (activation, initializer) reach: core.check_dense_options's rule, as nnxp.Network reads it."""
    return any(not isinstance(e, Layer) for e in list(entries)[1:])


def label(entries) -> str:
    return ",".join(str(int(e)) if _int(e) else describe(e) for e in entries)


def architecture(sizes) -> tuple:
    """(value for the records, entries to build) of one point's sizes."""
    if not has_layers(sizes):
        sizes = checks.sizes(sizes)
        return sizes, list(sizes)
    entries = list(sizes)
    if not is_architecture(entries) or not _int(entries[0]) or entries[0] < 1:
        raise ConfigError(f"sizes must be the input size (a positive int), then ints (dense "
                          f"layers) and layer objects (nnxp.layers), got {checks.show(sizes)}")
    return label(entries), entries


def spec(entries, activation, cost, weight_init=None) -> core.Spec:
    """The Spec nnxp.Network(entries, cost, activation=..., weight_init=...) builds."""
    if has_layers(entries):
        built = core.layered_spec(entries, activation, None, cost, weight_init)
        if has_dropout(built):
            raise ConfigError(f"the search does not train dropout layers (p_dropout > 0): its "
                              f"trials do not carry their mask streams; got {label(entries)}. "
                              f"Search without dropout, or train each network with "
                              f"nnxp.Network / nnxp.Population")
        return built
    return core.Spec(tuple(entries), layer_activations(activation, None, cost,
                                                       len(entries) - 1), cost)


def trial_spec(trial) -> core.Spec:
    """The Spec of a search's trial (its entries, activation, cost and initializer)."""
    b = trial.build
    return spec(b["sizes"], b["activation"], b["cost"], b["weight_init"])


def parameters(entries) -> int:
    """How many numbers one network of ``entries`` holds (core.parameter_count)."""
    if not has_layers(entries):
        return sum(a * b + b for a, b in zip(entries[:-1], entries[1:]))
    layers = tuple(e if isinstance(e, Layer) else Dense(int(e), as_activation("Sigmoid"))
                   for e in entries[1:])
    return core.parameter_count(core.Spec((int(entries[0]),), (), None, layers))


def check_labels(trials) -> None:
    """Every label of the trials names one architecture only."""
    seen: dict = {}
    for trial in trials:
        name, entries = trial.params["sizes"], trial.build["sizes"]
        if isinstance(name, str) and seen.setdefault(name, entries) != entries:
            raise ConfigError(f"two architectures of the space have the label "
                              f"{checks.show(name)} (their layers differ only in what the "
                              f"label leaves out, such as initializers); a search records "
                              f"architectures by label, so make them differ in a field")
