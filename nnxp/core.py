"""The pure core: what a network is, its initial parameters, its output, its training step.
No Network object anywhere: the shells (``Network``, ``Population``, ``nnxp.compat``), the
engines, diagnostics and the learning-rate finder all call these functions.

    Spec(sizes, activations, cost)          what a network computes (hashable: engines and
                                            their compiled programs are cached by it)
    layer_activations(activation, output_activation, cost, n_layers) -> activations
                                            one per layer, the output checked against the cost
    init_params(sizes, weight_init, bias_init, seed_sequence) -> ((w, b), ...)
                                            host NumPy float64: w (n_out, n_in), b (n_out,),
                                            drawn from numpy.random.Generator(seed_sequence)
    stack_params([params_1, ..., params_K]) -> params with a leading member axis (host)
    to_device(backend, params, dtype)       -> the same tuple of arrays on the device
    apply(spec, params, x)                  -> a^L: (m, n_out), or (K, m, n_out) for K members
    make_step(spec, transform, stacked=False) -> step   step(params, state, x, y) -> (params, state)
    select(keep, new, old)                  per member: ``new`` where keep, else ``old``

``transform`` is an optimizers.Transform (usually ``training_chain``); the step computes the
mean gradient of the mini-batch (backprop with scale 1/m, m read from x's shape, so the last
smaller mini-batch needs nothing special), transforms it, and applies it.  Nothing is mutated,
so JAX compiles the step as it is.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import as_activation
from .backprop import backprop, feedforward
from .errors import ConfigError
from .namespace import namespace
from .optimizers import apply_updates

__all__ = ["Spec", "layer_activations", "init_params", "stack_params", "to_device", "apply", "make_step", "select"]


class Spec(NamedTuple):
    sizes: tuple
    activations: tuple
    cost: type


def init_params(sizes, weight_init, bias_init, seed_sequence) -> tuple:
    """Every layer's weights then biases, drawn in order from one Generator on the host."""
    rng = np.random.default_rng(seed_sequence)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = np.asarray(weight_init(rng, (n_out, n_in)), dtype=np.float64)
        b = np.asarray(bias_init(rng, (n_out,)), dtype=np.float64)
        if w.shape != (n_out, n_in) or b.shape != (n_out,):
            raise ConfigError(f"initializers must return shapes {(n_out, n_in)} and "
                              f"{(n_out,)}, got {w.shape} and {b.shape}")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ConfigError(f"the initializers returned NaN or infinite values for layer "
                              f"{len(params)} ({n_in} -> {n_out})")
        params.append((w, b))
    return tuple(params)


def stack_params(members) -> tuple:
    """K host parameter tuples -> one, each array with a leading member axis."""
    return tuple((np.stack([m[l][0] for m in members]), np.stack([m[l][1] for m in members]))
                 for l in range(len(members[0])))


def to_device(backend, params, dtype) -> tuple:
    return tuple((backend.asarray(w, dtype), backend.asarray(b, dtype)) for w, b in params)


def apply(spec, params, x):
    """The output a^L of the network(s) for the rows of ``x``."""
    return feedforward(params, spec.activations, x)


def make_step(spec, transform, stacked=False):
    """One mini-batch of backpropagation and one update (see the module docstring);
    ``stacked``: a population's first layer as one product (backprop.py)."""
    activations, cost = tuple(spec.activations), spec.cost

    def step(params, state, x, y):
        grads = backprop(params, activations, cost, x, y, scale=1.0 / x.shape[0],
                         stacked=stacked)
        updates, state = transform.update(grads, state, params)
        return apply_updates(params, updates), state

    return step


def select(keep, new, old):
    """Per member: the leaves of ``new`` where ``keep`` (a (K,) boolean device array) is
    True, else those of ``old`` (trees of tuples and dicts; 0-d leaves are taken from
    ``new``)."""
    if isinstance(new, dict):
        return {k: select(keep, new[k], old[k]) for k in new}
    if isinstance(new, tuple):
        kind = type(new) if hasattr(new, "_fields") else tuple
        parts = [select(keep, n, o) for n, o in zip(new, old)]
        return kind(*parts) if kind is not tuple else tuple(parts)
    if new.ndim == 0:
        return new
    xp = namespace(new)
    mask = xp.reshape(keep, keep.shape + (1,) * (new.ndim - 1))
    return xp.where(mask, new, old)


def layer_activations(activation, output_activation, cost, n_layers) -> tuple:
    """One Activation per layer: ``activation`` for the hidden layers (or a list, one per
    hidden layer, or one per layer including the output), then the output layer's."""
    if isinstance(activation, (list, tuple)):
        acts = [as_activation(a) for a in activation]
        if len(acts) == n_layers and output_activation is None:
            hidden, output = acts[:-1], acts[-1]
        elif len(acts) == n_layers - 1:
            hidden, output = acts, None
        else:
            raise ConfigError(f"activation lists one activation per hidden layer "
                              f"({n_layers - 1}) or per layer ({n_layers}); got {len(acts)}")
    else:
        hidden, output = [as_activation(activation)] * (n_layers - 1), None
    if output is None:
        output = (output_activation if output_activation is not None
                  else cost.default_output if cost.default_output is not None
                  else (hidden[-1] if hidden else as_activation("Sigmoid")))
    output = as_activation(output)
    if cost.outputs is not None and not isinstance(output, cost.outputs):
        names = " or ".join(c.name for c in cost.outputs)
        raise ConfigError(f"{cost.name} needs a {names} output layer, got {output!r}; "
                          f"use output_activation={cost.outputs[0].name} or QuadraticCost")
    return tuple(hidden) + (output,)
