"""A network as a sequence of layers: the layers' protocol (base.py) composed.

    output_shapes(layers, input_shape) -> [shape after each layer]
    init(layers, rng, input_shape) -> params          a tuple with one params tuple per layer,
                                                      drawn in order from ``rng`` (host float64)
    stack_params([params_1, ..., params_K]) -> params every array with a leading member axis
    forward(layers, params, x, masks=None) -> (output, caches)
        masks: None, or one entry per layer (a bool or 0/1 array shaped like that layer's
        input, made the input's dtype here; or None); nnxp/masks.py draws them
    backward(layers, params, caches, delta_out, *, at_z=False) -> grads
        delta_out = dC/d(output), or with ``at_z=True`` dC/dz of the last layer's weighted
        input (what ``output_error`` gives); grads: one tuple per layer shaped like params,
        summed over the examples; no input gradient is computed below the first layer with
        parameters (a Reshape's or a shared input's is never needed)
    output_error(layers, caches, cost, y) -> dC/dz^L = cost.delta(z, a, y, activation) (BP1)
    apply(layers, params, x) -> output                the evaluation path (no caches, no masks)

x is (m, *input_shape) for one network and (K, m, *input_shape), or (m, *input_shape) shared,
for a population whose params carry a leading K.  Pure functions: nothing is mutated.
"""

from ..errors import ConfigError
from ..namespace import namespace

__all__ = ["output_shapes", "init", "stack_params", "forward", "backward", "output_error",
           "apply"]


def output_shapes(layers, input_shape) -> list:
    shapes, shape = [], tuple(input_shape)
    for layer in layers:
        _check_complete(layer)
        shape = tuple(layer.output_shape(shape))
        shapes.append(shape)
    return shapes


def _check_complete(layer) -> None:
    """A ConfigError naming what ``layer`` lacks of the protocol (base.py): output_shape and
    forward, and backward, or an activation and backward_z (the base class's backward)."""
    from .base import Layer
    missing = [m for m in ("output_shape", "forward") if not callable(getattr(layer, m, None))]
    if type(layer).backward is Layer.backward and not (
            hasattr(layer, "activation") and callable(getattr(layer, "backward_z", None))):
        missing.append("backward (or an activation and backward_z)")
    if missing:
        raise ConfigError(f"{type(layer).__name__} is not a complete layer: it has no "
                          f"{', '.join(missing)} (nnxp/layers/base.py says what a layer "
                          f"defines; Layer itself is the base class of the layers)")


def init(layers, rng, input_shape) -> tuple:
    params, shape = [], tuple(input_shape)
    for layer in layers:
        p, shape = layer.init(rng, shape)
        params.append(tuple(p))
    return tuple(params)


def stack_params(members) -> tuple:
    """K parameter tuples (host or device) -> one, each array stacked on a new first axis."""
    return tuple(tuple(namespace(arrays[0]).stack(list(arrays)) for arrays in zip(*layer))
                 for layer in zip(*members))


def forward(layers, params, x, masks=None):
    caches, a = [], x
    for l, (layer, p) in enumerate(zip(layers, params)):
        mask = None if masks is None else masks[l]
        if mask is not None:  # bool (masks.py) or 0/1: the input's dtype
            mask = namespace(a).astype(mask, a.dtype)
        a, cache = layer.forward(p, a, mask=mask)
        caches.append(cache)
    return a, tuple(caches)


def backward(layers, params, caches, delta_out, *, at_z=False):
    first = next((l for l, p in enumerate(params) if len(p)), len(layers))
    grads, delta = [()] * len(layers), delta_out
    for l in range(len(layers) - 1, first - 1, -1):
        step = layers[l].backward_z if at_z and l == len(layers) - 1 else layers[l].backward
        grads[l], delta = step(params[l], caches[l], delta, need_input_grad=l > first)
    return tuple(grads)


def output_error(layers, caches, cost, y):
    last, cache = layers[-1], caches[-1]
    if not hasattr(last, "backward_z"):
        raise ConfigError(f"the last layer ({type(last).__name__}) has no activation, so no "
                          "cost can give its error; end with Dense, Softmax or ConvPool")
    return cost.delta(cache.z, cache.a, y, last.activation)


def apply(layers, params, x):
    a = x
    for layer, p in zip(layers, params):
        a = layer.apply(p, a)
    return a


def output(layers, params, x):
    """``apply``'s output with the last layer's weighted input: (z, a) where the last layer
    is a Dense or Softmax one, else (None, a)."""
    a = x
    for layer, p in zip(layers[:-1], params[:-1]):
        a = layer.apply(p, a)
    last = layers[-1]
    if not hasattr(last, "weighted_input"):
        return None, last.apply(params[-1], a)
    z = last.weighted_input(params[-1], a)
    return z, last.activation.fn(z)
