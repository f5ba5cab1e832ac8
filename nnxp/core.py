"""The pure core: what a network is, its initial parameters, its output, its training step.
No Network object anywhere: the shells (``Network``, ``Population``, ``nnxp.compat``), the
engines, diagnostics and the learning-rate finder all call these functions.

    Spec(sizes, activations, cost, layers=None)
                                            what a network computes (hashable: engines and
                                            their compiled programs are cached by it)
    layer_activations(activation, output_activation, cost, n_layers) -> activations
                                            one per layer, the output checked against the cost
    check_dense_options(entries, activation=..., weight_init=..., bias_init=..., cost=None,
                        output_activation=None)
                                         ConfigError when no int entry would use them
    dense_options(entries, cost=None, **options)
                                         the same options, None where they would be refused
    dense_ignored(entries, cost, output_activation) -> bool
                                         no hidden int entry takes them (the rule of both)
    layered_spec(entries, activation, output_activation, cost, weight_init=None,
                 bias_init=None) -> Spec    a list of sizes that holds layer objects
    init_params(sizes, weight_init, bias_init, seed_sequence, layers=None, dtype=None) -> params
                                            host NumPy float64, drawn from
                                            numpy.random.Generator(seed_sequence)
    param_shapes(spec) -> one tuple of shapes per layer (one network's), drawing nothing
    parameter_count(spec) -> int
    stack_params([params_1, ..., params_K]) -> params with a leading member axis (host)
    to_device(backend, params, dtype)       -> the same tuples of arrays on the device
    to_host(backend, params)                -> the same tuples of arrays as NumPy arrays
    apply(spec, params, x)                  -> a^L: (m, n_out), or (K, m, n_out) for K members
    classes(spec, params, x)                -> each row's class (m,) or (K, m): backprop.classes
    gradient(spec, params, x, y, scale=None, stacked=False, masks=None) -> grads shaped like params
    make_step(spec, transform, stacked=False) -> step   step(params, state, x, y, masks=None)
                                                          -> (params, state)
    scores(spec, params, x, y, labels)      -> (..., 5) [hits, summed cost, sum w^2, sum |w|,
                                               finite] (backprop.scores' contract)
    all_finite(spec, params)                -> bool array, () or (K,)
    select(keep, new, old)                  per member: ``new`` where keep, else ``old``

Two kinds of spec, one contract.  A dense stack (``layers`` None): ``sizes`` the layer widths,
``activations`` one per layer, params ``((w, b), ...)`` with w (n_out, n_in), computed by
backprop.py (the dense stack's specialization, with the backends' fast paths).  A layered
spec: ``layers`` a tuple of layer objects (nnxp.layers), params one tuple per layer (``()``
for a layer without parameters), computed by layers/sequential.py; ``sizes`` is (n_in, then
each layer's output size, flattened), so that data checks read ``sizes[0]`` and
``sizes[-1]`` alike, and ``activations`` each layer's activation (None for a layer without
one).  Rows of data stay flat (n_in) in both: a Reshape layer makes images of them.  The
weights of a layer, for L2 and L1 regularization, are its first parameter (biases never).

``transform`` is an optimizers.Transform (usually ``training_chain``); the step computes the
mean gradient of the mini-batch (scale 1/m on the output error, m read from x's shape, so the
last smaller mini-batch needs nothing special), transforms it, and applies it.  Nothing is
mutated, so JAX compiles the step as it is.

Dropout (a layered spec whose Dense or Softmax layers have p_dropout > 0): ``masks`` is the
training path's, one entry per layer, None or a 0/1 (bool or float) array shaped like the
layer's input ((m, n_in), or (K, m, n_in) for K members), made the compute dtype by
layers/sequential.forward; masks.py draws them on the host.  ``masks=None`` is the evaluation
path's gradient (no mask, the weighted input scaled by 1 - p_dropout): what diagnostics
measure.  ``apply`` and ``scores`` are always the evaluation path.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import NamedTuple

import numpy as np

from . import backprop as dense
from .activations import as_activation
from .checks import callables, show
from .errors import ConfigError
from .layers import Dense, sequential
from .layers.base import Layer, describe
from .namespace import namespace
from .optimizers import apply_updates

__all__ = ["Spec", "layer_activations", "layered_spec", "check_dense_options", "dense_options",
           "dense_ignored", "init_params", "param_shapes",
           "parameter_count", "stack_params", "to_device", "to_host", "apply", "gradient",
           "make_step", "scores", "all_finite", "select"]


class Spec(NamedTuple):
    sizes: tuple
    activations: tuple
    cost: type
    layers: tuple | None = None   # layer objects (a layered spec), or None (a dense stack)


def layered_spec(entries, activation, output_activation, cost, weight_init=None,
                 bias_init=None) -> Spec:
    """The Spec of ``entries``: the input size (an int), then per layer an int (a Dense layer
    with ``activation``, the last with the output activation, as a list of sizes means) or a
    layer object.  ConfigError for what cannot train: a last layer without an activation or
    whose output is not flat, an output the cost cannot use."""
    entries = list(entries)
    n_in = entries[0] if entries else None
    if not isinstance(n_in, numbers.Integral) or isinstance(n_in, bool) or n_in < 1:
        raise ConfigError(f"the first entry of sizes is the input size, a positive int (rows of "
                          f"data stay flat; a Reshape layer makes images), got {show(n_in)}")
    if len(entries) < 2:
        raise ConfigError("sizes needs at least one layer after the input size")
    layers = _layers_of(entries[1:], activation, output_activation, cost,
                        {k: v for k, v in (("weight_init", weight_init),
                                           ("bias_init", bias_init)) if v is not None})
    shapes = sequential.output_shapes(layers, (int(n_in),))
    _check_trainable(layers, shapes[-1], cost)
    sizes = (int(n_in),) + tuple(math.prod(s) for s in shapes)
    return Spec(sizes, tuple(getattr(l, "activation", None) for l in layers), cost, layers)


def check_dense_options(entries, cost=None, output_activation=None, **given) -> None:
    """ConfigError when ``entries`` (sizes with layer objects) has no int entry after the input
    size and one of the dense options in ``given`` (activation=, weight_init=, bias_init=, as
    the user passed them: None is not given) is set: only int entries take them, and every
    layer object carries its own, so the option would be ignored without a word.  With
    ``cost`` (the network's cost), the same for ``activation`` alone when the only int entry
    is the output layer and its activation comes from ``output_activation`` or the cost's
    default output (``Network([64, Dense(10), 3], activation="ReLU")``)."""
    if not dense_ignored(entries, cost, output_activation):
        return
    inner = list(entries)[1:]
    if inner and not isinstance(inner[-1], Layer):
        if given.get("activation") is not None:
            output = output_activation if output_activation is not None else \
                as_activation(cost.default_output).name
            raise ConfigError(
                f"activation= applies to the int hidden entries of sizes; here the only int "
                f"entry is the output layer, whose activation is {output} (from "
                f"{'output_activation=' if output_activation is not None else cost.name}): "
                f"activation= would reach no layer. Give it to the layer objects instead, "
                f"e.g. layers.Dense(100, 'ReLU')"
                + ("" if output_activation is not None else
                   "; the output layer's is output_activation="))
        return
    named = [name for name, value in given.items() if value is not None]
    if named:
        raise ConfigError(f"{', '.join(n + '=' for n in named)} applies to the int entries of "
                          f"sizes (the dense layers it builds); here every layer is a layer "
                          f"object, which carries its own: give it to the layers instead, "
                          f"e.g. layers.Dense(100, 'ReLU')"
                          + ("; or re-draw every layer's weights of a network made with "
                             "net.default_weight_initializer() (N(0, 1/n_in)) or "
                             "net.large_weight_initializer() (N(0, 1))"
                             if "weight_init" in named or "bias_init" in named else ""))


def dense_ignored(entries, cost, output_activation) -> bool:
    """Whether no hidden int entry takes the dense options: every entry after the input size
    a layer object, or (with ``cost``) the only int entry the output, whose activation is not
    the hidden layers' (an ``output_activation``, or the cost's default output)."""
    inner = list(entries)[1:]
    if all(isinstance(e, Layer) for e in inner):
        return True
    if cost is None or any(not isinstance(e, Layer) for e in inner[:-1]):
        return False
    return output_activation is not None or cost.default_output is not None


def dense_options(entries, cost=None, **options) -> dict:
    """``options`` with None where check_dense_options would refuse them (for callers that
    always carry defaults: the search's trials, the estimator): all of them when no entry
    after the input size is an int; with ``cost``, ``activation`` when the only int entry is
    the output, whose activation is the cost's."""
    if not isinstance(entries, (list, tuple)) or not dense_ignored(entries, cost, None):
        return options
    inner = list(entries)[1:]
    if inner and not isinstance(inner[-1], Layer):
        return {**options, "activation": None} if "activation" in options else options
    return {name: None for name in options}


def _layers_of(entries, activation, output_activation, cost, dense_init) -> tuple:
    """The layer objects of the entries after the input size (ints become Dense layers)."""
    for i, e in enumerate(entries, 1):
        if not isinstance(e, Layer) and not (isinstance(e, numbers.Integral)
                                             and not isinstance(e, bool) and e >= 1):
            raise ConfigError(f"sizes[{i}] must be a positive int (a dense layer) or a layer "
                              f"object (nnxp.layers), got {show(e)}")
    if isinstance(activation, (list, tuple)):
        raise ConfigError("with layer objects, give activation= as one activation (the int "
                          "entries' dense layers); a layer object carries its own")
    if isinstance(entries[-1], Layer):
        if output_activation is not None:
            raise ConfigError(f"output_activation= is for an int last entry; the last layer "
                              f"{describe(entries[-1])} carries its own activation")
        acts = [as_activation(activation)] * len(entries)
    else:
        acts = layer_activations(activation, output_activation, cost, len(entries))
    return tuple(e if isinstance(e, Layer) else Dense(int(e), acts[i], **dense_init)
                 for i, e in enumerate(entries))


def _check_trainable(layers, out_shape, cost) -> None:
    """A last layer with an activation, flat outputs, one the cost can use."""
    last = layers[-1]
    if not hasattr(last, "backward_z") or len(out_shape) != 1:
        raise ConfigError(f"the last layer must end in an activation and give flat outputs "
                          f"(Dense or Softmax), got {describe(last)} with outputs {out_shape}")
    if cost.outputs is not None and not isinstance(last.activation, cost.outputs):
        names = " or ".join(c.name for c in cost.outputs)
        need = cost.outputs[0].name
        fix = "nnxp.layers.Softmax(n)" if need == "Softmax" else f"nnxp.layers.Dense(n, {need!r})"
        also = ("; a Softmax output goes with cost=nnxp.LogLikelihoodCost"
                if getattr(last.activation, "name", None) == "Softmax" else "")
        raise ConfigError(f"{cost.name} needs a {names} output layer, got {describe(last)}; "
                          f"end with {fix} or use another cost{also}")


@functools.lru_cache(maxsize=256)
def param_shapes(spec) -> tuple:
    """One tuple of parameter shapes per layer, for one network (nothing drawn)."""
    if spec.layers is None:
        return tuple(((n_out, n_in), (n_out,))
                     for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:]))
    shapes, shape = [], (spec.sizes[0],)
    for layer in spec.layers:
        shapes.append(tuple(tuple(s) for s in layer.param_shapes(shape)))
        shape = layer.output_shape(shape)
    return tuple(shapes)


def parameter_count(spec) -> int:
    """How many numbers one network of ``spec`` holds (exact: Python ints)."""
    return sum(math.prod(shape) for layer in param_shapes(spec) for shape in layer)


def init_params(sizes, weight_init, bias_init, seed_sequence, layers=None,
                dtype=None) -> tuple:
    """Every layer's weights then biases, drawn in order from one Generator on the host (a
    layered network: each layer's own initializers, sequential.init); with ``dtype``, a
    ConfigError when a value drawn is beyond that dtype's range (1e300 is infinite in
    float32: the network would start with infinite weights)."""
    rng = np.random.default_rng(seed_sequence)
    if layers is not None:
        return _within(sequential.init(layers, rng, (sizes[0],)), dtype)
    for name, fn in (("weight_init", weight_init), ("bias_init", bias_init)):
        callables(name, fn, f"{name}(rng, shape)")   # a TypeError of its call, said so
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w, b = weight_init(rng, (n_out, n_in)), bias_init(rng, (n_out,))
        try:
            if np.iscomplexobj(w) or np.iscomplexobj(b):  # float64 would drop their imaginary
                raise TypeError                           # parts, with a warning
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
        except (TypeError, ValueError):  # text, None, ragged lists ...
            raise ConfigError(f"initializers must return arrays of real numbers of shapes "
                              f"{(n_out, n_in)} and {(n_out,)}, got {show(w)} and {show(b)}"
                              ) from None
        if w.shape != (n_out, n_in) or b.shape != (n_out,):
            raise ConfigError(f"initializers must return shapes {(n_out, n_in)} and "
                              f"{(n_out,)}, got {w.shape} and {b.shape}")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ConfigError(f"the initializers returned NaN or infinite values for layer "
                              f"{len(params)} ({n_in} -> {n_out})")
        params.append((w, b))
    return _within(tuple(params), dtype)


def _within(params, dtype) -> tuple:
    """``params`` (host float64), or a ConfigError naming the first array whose values are
    infinite once cast to ``dtype`` (None: no check)."""
    for l, layer in enumerate(params if dtype is not None else ()):
        for i, a in enumerate(layer):
            with np.errstate(over="ignore", invalid="ignore"):
                if not np.isfinite(a.astype(dtype)).all():
                    raise ConfigError(
                        f"the initializers returned values beyond {dtype}'s range "
                        f"(+-{np.finfo(dtype).max:.4g}) for layer {l}'s parameters[{i}] "
                        f"(largest {float(np.max(np.abs(a))):.4g}): the network would start "
                        f"with infinite {'weights' if i == 0 else 'biases'}")
    return params


def stack_params(members) -> tuple:
    """K host parameter tuples -> one, each array with a leading member axis."""
    return tuple(tuple(np.stack([m[l][i] for m in members]) for i in range(len(members[0][l])))
                 for l in range(len(members[0])))


def to_device(backend, params, dtype) -> tuple:
    return tuple(tuple(backend.asarray(a, dtype) for a in layer) for layer in params)


def to_host(backend, params) -> tuple:
    return tuple(tuple(backend.to_numpy(a) for a in layer) for layer in params)


def apply(spec, params, x):
    """The output a^L of the network(s) for the rows of ``x``."""
    if spec.layers is not None:
        return sequential.apply(spec.layers, params, x)
    return dense.feedforward(params, spec.activations, x)


def _output(spec, params, x):
    """(z, a, the output activation) of the last layer; z None where it has none of its own
    (a layered network ending in ConvPool: its pooling comes after the activation)."""
    if spec.layers is None:
        z, a = dense.output(params, spec.activations, x)
        return z, a, spec.activations[-1]
    z, a = sequential.output(spec.layers, params, x)
    return z, a, getattr(spec.layers[-1], "activation", None)


def _classes(z, a, activation):
    """backprop.classes for any network: the argmax of z where the output activation keeps
    its order, else of a."""
    keeps = z is not None and activation is not None and activation.keeps_order
    return namespace(a).argmax(z if keeps else a, axis=-1)


def classes(spec, params, x):
    """Each row's class (per member): from z^L where the output layer's activation keeps z's
    order (backprop.classes: no ties of rounded saturated outputs), else the argmax of a^L."""
    return _classes(*_output(spec, params, x))


def gradient(spec, params, x, y, scale=None, stacked=False, masks=None):
    """``scale`` times the gradient of the cost summed over the rows of ``x``, shaped like
    params; ``stacked``: a dense population's first layer as one product (backprop.py);
    ``masks``: dropout's training path (see the module docstring)."""
    if spec.layers is None:
        return dense.backprop(params, tuple(spec.activations), spec.cost, x, y, scale=scale,
                              stacked=stacked)
    layers = spec.layers
    _, caches = sequential.forward(layers, params, x, masks)
    delta = sequential.output_error(layers, caches, spec.cost, y)
    if scale is not None:
        delta = delta * scale
    return sequential.backward(layers, params, caches, delta, at_z=True)


def make_step(spec, transform, stacked=False):
    """One mini-batch of backpropagation and one update (see the module docstring);
    ``stacked``: a population's first layer as one product (backprop.py)."""

    def step(params, state, x, y, masks=None):
        grads = gradient(spec, params, x, y, scale=1.0 / x.shape[0], stacked=stacked,
                         masks=masks)
        updates, state = transform.update(grads, state, params)
        return apply_updates(params, updates), state

    return step


def _weights(spec, params):
    """(weight, its number of per-network axes) of every layer with parameters."""
    shapes = param_shapes(spec)
    return [(p[0], len(s[0])) for p, s in zip(params, shapes) if len(p)]


def scores(spec, params, x, y, labels):
    """backprop.scores for either kind of spec: [hits, summed cost, sum w^2, sum |w|, finite]
    per member, from one pass."""
    if spec.layers is None:
        return dense.scores(params, spec.activations, spec.cost, x, y, labels)
    xp = namespace(x)
    z, a, activation = _output(spec, params, x)
    dtype = a.dtype
    hits = xp.sum(xp.astype(_classes(z, a, activation) == labels, dtype), axis=-1)
    cost = spec.cost.fn(a, y) if z is None else spec.cost.fn_z(z, a, y, activation)
    cost_sum = xp.sum(cost, axis=-1)
    own = lambda n: tuple(range(-n, 0))
    squares = sum(xp.sum(w * w, axis=own(n)) for w, n in _weights(spec, params))
    absolutes = sum(xp.sum(xp.abs(w), axis=own(n)) for w, n in _weights(spec, params))
    finite = xp.astype(all_finite(spec, params), dtype)
    return xp.stack([hits, cost_sum, squares, absolutes, finite], axis=-1)


def all_finite(spec, params):
    """Whether every parameter is finite: a 0-d bool array, or (K,) for a population."""
    if spec.layers is None:
        return dense.all_finite(params)
    finite = None
    for layer, shapes in zip(params, param_shapes(spec)):
        for a, shape in zip(layer, shapes):
            xp = namespace(a)
            ok = xp.all(xp.isfinite(a), axis=tuple(range(-len(shape), 0)))
            finite = ok if finite is None else finite & ok
    return finite


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
