"""The floating dtypes nnxp computes in, by name: a leaf module (it imports no nnxp module), so
that checks.py, the backends and the file formats share one definition without an import cycle.

    FLOAT_DTYPES = ("float32", "float64")
    dtype_name(dtype) -> str    "float64" for "float64", np.float64, jnp.float64, torch.float64,
                                array-api-strict's float64 (a str is returned as it is)
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLOAT_DTYPES", "dtype_name"]

FLOAT_DTYPES = ("float32", "float64")


def dtype_name(dtype) -> str:
    """The name of ``dtype``: NumPy's for what NumPy understands, else the last part of its
    ``str`` ("torch.float64" -> "float64")."""
    if isinstance(dtype, str):
        return dtype
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype).rsplit(".", 1)[-1]
