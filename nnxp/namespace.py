"""``namespace(x)``: the array API namespace of an array, resolved once per array type.

The math modules call this instead of ``array_api_compat.array_namespace`` directly: the answer
depends only on the array's type, so it is cached, which keeps the per-mini-batch overhead of
generic code at a dictionary lookup.  NumPy >= 2 is its own array API namespace and is returned
as such (its functions are faster than the compatibility wrappers); every other library gets
``array_api_compat``'s namespace (``jax.numpy``, ``array_api_compat.torch``, ...).

A backend whose library's namespace needs a fix hands its own with ``register(array_type,
xp)`` (nnxp/backends/strict_backend.py does, for a bug of array-api-strict): ``namespace``
then answers it for arrays of that type.

This module imports no array library.
"""

import array_api_compat

__all__ = ["namespace", "register", "device_of"]

_by_type: dict = {}


def namespace(x):
    """The array API namespace of ``x`` (an array of any supported library)."""
    try:
        return _by_type[type(x)]
    except KeyError:
        pass
    if array_api_compat.is_numpy_array(x) and hasattr(x, "__array_namespace__"):
        # NumPy >= 2, asked for directly: array_api_compat.numpy (the NumPy 1.x wrapper) is
        # never imported, and with it numpy.testing and unittest, which a training run must
        # not need (minimal Python installs may lack unittest)
        xp = array_api_compat.array_namespace(x, use_compat=False)
    else:
        xp = array_api_compat.array_namespace(x)
    _by_type[type(x)] = xp
    return xp


def register(array_type, xp) -> None:
    """Answer ``xp`` for arrays of ``array_type`` from now on (a backend's fixed namespace)."""
    _by_type[array_type] = xp


def device_of(x):
    """The device array ``x`` lives on (the standard's ``x.device``, through array-api-compat
    for libraries that spell it otherwise)."""
    return array_api_compat.device(x)
