"""Faster versions of the layers' primitives (nnxp/layers/primitives.py), by array namespace.

    fast_primitives(xp) -> {name: function}    what the namespace's library does faster;
                                               {} where it has nothing (array-api-strict,
                                               CuPy: the generic code runs)

The table below maps a namespace's module name to the module that has them; that module is
imported on first use only, and imports its library inside its functions, so a NumPy-only
install never imports JAX or PyTorch.  Each module offers a subset of the generic names
(``conv2d``, ``conv2d_backward``, ``max_pool2d``, ``max_pool2d_backward``,
``max_pool2d_backward_all``) with the same signatures and the same numbers to rounding
(tests/test_layers_conv.py checks each against the generic one).  A new fast primitive is a
function in one of these modules plus its name in that module's ``PRIMITIVES``; pool_strided.py
holds the max-pooling that NumPy's and PyTorch's modules share (any library with NumPy's
elementwise functions and ``out=``).
"""

import importlib

__all__ = ["fast_primitives", "MODULES"]

MODULES = {"numpy": "conv_numpy", "jax.numpy": "conv_jax", "array_api_compat.torch": "conv_torch"}


def fast_primitives(xp) -> dict:
    """The faster primitives for namespace ``xp`` (an empty dict if it has none)."""
    module = MODULES.get(getattr(xp, "__name__", None))
    if module is None:
        return {}
    return dict(importlib.import_module(f".{module}", __package__).PRIMITIVES)
