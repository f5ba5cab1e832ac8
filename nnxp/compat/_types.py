"""The book's TypeErrors, kept: an argument of the wrong Python type is an InputTypeError (an
NNXPError and a TypeError), where the book's code raised TypeError on it.

    number(name, value, integer=False)  value unchanged, or InputTypeError: not a real number
                                        (an integer for epochs, mini_batch_size and layer
                                        sizes, which the book gives to range() and
                                        np.random); bools are left to nnxp's range checks
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

from .. import checks
from ..errors import InputTypeError

__all__ = ["number", "sizes"]


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
