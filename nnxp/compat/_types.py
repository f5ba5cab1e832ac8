"""The book's TypeErrors, kept: an argument of the wrong Python type is an InputTypeError (an
NNXPError and a TypeError), where the book's code raised TypeError on it.

    number(name, value, integer=False)  value unchanged, or InputTypeError: not a real number
                                        (an integer for epochs, mini_batch_size and layer
                                        sizes, which the book gives to range() and
                                        np.random); bools are left to nnxp's range checks
    array(name, z, kinds="biuf")        np.asarray(z), or InputTypeError: not numbers of those
                                        dtype kinds (None, text, ragged lists: the book's
                                        ``np.exp`` raised TypeError on them)
    sizes(value) -> list[int]           checks.sizes, with InputTypeError where the book's
                                        ``len(sizes)`` / ``np.random.randn(y, x)`` raise
                                        TypeError (None, an int, a set, text, a float width)

The book raises TypeError deep in its arithmetic (``range(2.0)``, ``'0.5' * w``); nnxp refuses
these at the boundary, with a message saying what was expected, as the same kind of exception,
so that code catching ``TypeError`` around the book's calls still catches them.  Values of the
right type but out of range (``mini_batch_size=0``, negative sizes) stay ConfigErrors (the
book's ValueError, or nothing the book checks).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import checks
from ..errors import InputTypeError

__all__ = ["number", "array", "sizes"]


def number(name, value, integer=False):
    """``value`` if it is a real number (an integer with ``integer``) or a bool; else an
    InputTypeError."""
    kind = numbers.Integral if integer else numbers.Real
    if not isinstance(value, (kind, bool)):
        raise InputTypeError(f"{name} must be a{'n integer' if integer else ' number'}, got "
                             f"{checks.show(value)}")
    return value


def sizes(value) -> list:
    """checks.sizes(value); an InputTypeError where the book's constructor raises TypeError."""
    listed = value.tolist() if hasattr(value, "tolist") else value
    if not isinstance(listed, (list, tuple)) or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in listed):
        raise InputTypeError(f"sizes must be a list of integer layer widths (input first, "
                             f"output last), such as [784, 30, 10]; got {checks.show(value)}")
    return checks.sizes(value)


def array(name, z, kinds="biuf"):
    """``np.asarray(z)`` if its dtype kind is one of ``kinds``; else an InputTypeError."""
    try:
        a = np.asarray(z)
    except (TypeError, ValueError):  # ragged lists
        a = None
    if a is None or a.dtype.kind not in kinds:
        raise InputTypeError(f"{name} takes a number or an array of numbers, got "
                             f"{checks.show(z)}")
    return a
