"""Argument checks, in one place: every public entry point validates its arguments here and
raises a ConfigError / InputTypeError that says what was expected and what was given.

    show(value) -> str                      a value for an error message, never longer than
                                            ~200 characters (a data set shows as its type and
                                            length, not its repr)
    number(name, value, low=0, strict=True, integer=False, high=None) -> int | float
    optional_int(name, value) -> int | None                 None or a positive integer
    per_member(name, value, k, check) -> value or list      a number, or one per member
    sizes(value) -> list[int]               at least two positive layer widths, in order
    seed(value) -> int | None
    dtype(value) -> "float32" | "float64"
    shuffle(value) -> bool | int
    callables(name, value) -> list          a callable or a list of them
    path(name, value) -> str                a str or os.PathLike, as a string
    unknown(what, given, known)             an error for unknown keyword arguments
"""

from __future__ import annotations

import math
import numbers
import os

from .backends.base import FLOAT_DTYPES, dtype_name
from .errors import ConfigError, InputTypeError

__all__ = ["show", "number", "optional_int", "per_member", "sizes", "seed", "dtype", "shuffle",
           "callables", "path", "unknown"]

LIMIT = 200


def show(value) -> str:
    """``repr(value)`` capped at LIMIT characters; large containers and arrays described."""
    shape = getattr(value, "shape", None)
    if shape is not None and not isinstance(value, numbers.Number) and len(tuple(shape)) > 0:
        return f"a {type(value).__name__} of shape {tuple(shape)}"
    if isinstance(value, (list, tuple, dict, set, frozenset)) and len(value) > 20:
        return f"a {type(value).__name__} of {len(value)} items"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= LIMIT else text[:LIMIT - 20] + f"... ({len(text)} chars)"


def number(name, value, *, low=0, strict=True, integer=False, high=None):
    """A finite real (or integer) number with low < value (<= with strict=False) <= high."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{name} must be a{'n integer' if integer else ' number'}, got "
                          f"{show(value)}")
    if not integer and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if value < low or (strict and value == low):
        raise ConfigError(f"{name} must be {'>' if strict else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        raise ConfigError(f"{name} must be at most {high}, got {value!r}")
    return int(value) if integer else float(value)


def optional_int(name, value):
    """None, or a positive integer."""
    return None if value is None else number(name, value, integer=True)


def per_member(name, value, k, check):
    """``check(name, v)`` applied to a number or, for a population of ``k`` members (k not
    None), to each of a sequence of k values; returns the number or the list."""
    if isinstance(value, (list, tuple)) or (hasattr(value, "__len__")
                                            and not isinstance(value, str)):
        if k is None:
            raise ConfigError(f"{name} must be one number for a single network, got "
                              f"{show(value)}")
        values = list(value)
        if len(values) != k:
            raise ConfigError(f"{name} must be one number or {k} numbers (one per member), "
                              f"got {len(values)}")
        return [check(f"{name}[{i}]", v) for i, v in enumerate(values)]
    return check(name, value)


def sizes(value) -> list:
    """Layer widths [n_in, ..., n_out]: an ordered sequence of at least two positive ints."""
    if isinstance(value, (set, frozenset, dict)) or not isinstance(value, (list, tuple)) \
            and not hasattr(value, "tolist"):
        raise ConfigError(f"sizes must be a list of layer widths such as [784, 30, 10] (an "
                          f"ordered sequence), got {show(value)}")
    widths = value.tolist() if hasattr(value, "tolist") else list(value)
    if len(widths) < 2 or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                                  and 1 <= s for s in widths):
        raise ConfigError(f"sizes must list at least two positive integer layer widths "
                          f"(input first, output last), such as [784, 30, 10]; got "
                          f"{show(value)}")
    return [int(s) for s in widths]


def seed(value):
    """None or a non-negative integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"seed must be a non-negative integer or None, got {show(value)}")
    return int(value)


def dtype(value) -> str:
    name = dtype_name(value) if not isinstance(value, (int, float, list, dict)) else None
    if name not in FLOAT_DTYPES:
        raise ConfigError(f"dtype must be 'float32' or 'float64', got {show(value)}")
    return name


def shuffle(value):
    """True (the network's own stream), False (the given order) or a non-negative seed."""
    if value is True or value is False:
        return value
    if isinstance(value, numbers.Integral) and value >= 0:
        return int(value)
    raise ConfigError(f"shuffle must be True, False or a non-negative integer seed, got "
                      f"{show(value)}")


def callables(name, value) -> list:
    values = [] if value is None else list(value) if isinstance(value, (list, tuple)) \
        else [value]
    for v in values:
        if not callable(v):
            raise InputTypeError(f"{name} must be callables (or a list of them), got "
                                 f"{show(v)}")
    return values


def path(name, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        raise InputTypeError(f"{name} must be a file path (str or os.PathLike), got "
                             f"{show(value)}")
    text = os.fspath(value)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text:
        raise ConfigError(f"{name} must be a non-empty file path")
    return text


def unknown(what, given, known) -> None:
    extra = sorted(set(given) - set(known))
    if extra:
        raise ConfigError(f"{what} got unknown keyword arguments {show(extra)}; it takes "
                          f"{', '.join(sorted(known))}")
