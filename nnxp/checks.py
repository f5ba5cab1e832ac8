"""Argument checks, in one place: every public entry point validates its arguments here and
raises a ConfigError / InputTypeError that says what was expected and what was given.

    show(value) -> str                      a value for an error message, never longer than
                                            ~200 characters (a data set shows as its type and
                                            length, not its repr)
    clip(text) -> str                       a text (another error's message) capped the same
    nbytes(n) -> str                        a size: "512 bytes", "1.5 GiB"
    number(name, value, low=0, strict=True, integer=False, high=None) -> int | float
    optional_int(name, value) -> int | None                 None or a positive integer
    per_member(name, value, k, check) -> value or list      a number, or one per member
                                            (an ordered sequence: a set or dict is refused)
    each(value, k) -> list                  such a value as k values
    members(value, k, what) -> list[int]    the members a callback names (see below)
    sizes(value) -> list[int]               at least two positive layer widths, in order
    seed(value) -> int | None
    dtype(value) -> "float32" | "float64"
    shuffle(value) -> bool | int
    engine(value) -> str | None             an engine's name, not yet checked against a backend
    callables(name, value, signature=None) -> list    a callable or a list of them (each
                                            taking ``signature``'s arguments)
    path(name, value) -> str                a str or os.PathLike, as a string
    unknown(what, given, known)             an error for unknown keyword arguments
    network_bytes(sizes, members=1, dtype="float32", count=None) -> int   estimated memory
    memory_limit() -> (bytes | None, where)  the most this process may use, and what says so
    memory(what, need, max_memory=None)      a ConfigError when ``need`` bytes exceed the limit

Members a population's callback names (``members``): None or False (none), True (every member;
NumPy's ``bool_`` and 0-d boolean arrays count as True and False),
a list (tuple, set, range, 1-D integer array) of member indices in [0, k), or a boolean mask of
exactly k values (a list of bools or a 1-D boolean array).  Anything else -- one bare int, a
negative or out-of-range index, a float such as 2.0, a string, a mask of another length, bools
mixed with ints -- is a ConfigError naming what was returned.

Memory (``network_bytes``, ``memory``): before anything is allocated, networks are bounded by an
estimate of what building and training them takes: per parameter, 8 bytes of float64 draws on
the host plus ``COPIES`` copies in the compute dtype (parameters, gradients, an optimizer
buffer), times the members.  The limit is ``max_memory`` when given (bytes; ``math.inf`` turns
the bound off), else the environment variable ``NNXP_MAX_MEMORY`` (bytes, or with a suffix K, M,
G or T: "64G"; "inf" or "0" for none), else the smallest of the machine's physical memory, the
process's address-space limit (``ulimit -v``) and its cgroup's ``memory.max``.  It refuses what
cannot fit; it does not promise that what passes will (other memory is in use too).
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import re
from collections.abc import Mapping

from .dtypes import FLOAT_DTYPES, dtype_name
from .errors import ConfigError, InputTypeError

__all__ = ["show", "clip", "nbytes", "number", "optional_int", "per_member", "each", "members",
           "sizes", "seed", "dtype", "shuffle", "engine", "callables", "path", "unknown",
           "network_bytes", "memory_limit", "memory"]

LIMIT = 200
SEED_DIGITS = 200  # the longest seed nnxp's files read back (formats.py)


def show(value) -> str:
    """``repr(value)`` capped at LIMIT characters; large containers and arrays described."""
    shape = None if isinstance(value, type) else getattr(value, "shape", None)  # a class's
    # "shape" is a descriptor (np.float32.shape)
    if shape is not None and not isinstance(value, numbers.Number) and len(tuple(shape)) > 0:
        return f"a {type(value).__name__} of shape {tuple(shape)}"
    if isinstance(value, (list, tuple, dict, set, frozenset)) and len(value) > 20:
        return f"a {type(value).__name__} of {len(value)} items"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not hide the real error
        text = (f"an int of about {int(abs(value).bit_length() * 0.30103) + 1} digits"
                if isinstance(value, int) else f"<{type(value).__name__}>")  # past str's limit
    return clip(text)


def clip(text) -> str:
    """``text`` capped at LIMIT characters, saying how long it was."""
    text = str(text)
    return text if len(text) <= LIMIT else text[:LIMIT - 20] + f"... ({len(text)} chars)"


def number(name, value, *, low=0, strict=True, integer=False, high=None):
    """A finite real (or integer) number with low < value (<= with strict=False) <= high."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{name} must be a{'n integer' if integer else ' number'}, got "
                          f"{show(value)}")
    if not integer:
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int too large for a float (10**400)
            finite = False
        if not finite:
            raise ConfigError(f"{name} must be a finite number, got {show(value)}")
    if value < low or (strict and value == low):
        raise ConfigError(f"{name} must be {'>' if strict else '>='} {low}, got {show(value)}")
    if high is not None and value > high:
        raise ConfigError(f"{name} must be at most {high}, got {show(value)}")
    return int(value) if integer else float(value)


def flag(name, value) -> bool:
    """True or False (0 and 1 as such; an array library's boolean scalar, NumPy's ``np.True_``
    or a 0-d boolean array, as the bool it holds); anything else, a string such as "no"
    included, is a ConfigError rather than a truth value."""
    if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
        return bool(value)
    if getattr(value, "shape", None) == () and str(getattr(value, "dtype", "")) == "bool":
        return bool(value)
    raise ConfigError(f"{name} must be True or False, got {show(value)}")


def optional_int(name, value):
    """None, or a positive integer."""
    return None if value is None else number(name, value, integer=True)


def per_member(name, value, k, check):
    """``check(name, v)`` applied to a number or, for a population of ``k`` members (k not
    None), to each of a sequence of k values; returns the number or the list."""
    if isinstance(value, (set, frozenset, bytes, Mapping)):
        raise ConfigError(f"{name} must be one number{'' if k is None else f' or a list of {k}'}"
                          f"{'' if k is None else ' (one per member, in order)'}; got a "
                          f"{type(value).__name__}: {show(value)}")
    if getattr(value, "ndim", None) == 0:
        return check(name, value)
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


def each(value, k) -> list:
    """A value given once or one per member (``per_member``'s result) as a list of k."""
    return list(value) if isinstance(value, (list, tuple)) else [value] * k


def members(value, k, what="a callback") -> list:
    """The member indices ``value`` names, for a population of ``k`` (see the module
    docstring): sorted, without repeats."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item") \
            and isinstance(value.item(), bool):   # NumPy's bool_, a 0-d boolean array
        value = value.item()
    if value is None or value is False:
        return []
    if value is True:
        return list(range(k))

    def refuse(detail):
        raise ConfigError(f"{what} must return None or False (go on), True (stop every "
                          f"member), a list of member indices in [0, {k}) or a boolean mask of "
                          f"{k} values; {detail}, got {show(value)}")

    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        refuse("a list is needed even for one member ([i])"
               if isinstance(value, numbers.Integral) else "not a collection")
    if hasattr(value, "tolist"):  # an array of any library
        items = value.tolist()
        if not isinstance(items, list) or any(isinstance(i, list) for i in items):
            refuse("an array must be 1-D")
    else:
        items = list(value)
    items = [i.item() if hasattr(i, "item") and not isinstance(i, numbers.Number) else i
             for i in items]  # NumPy scalars as Python's
    flags = [isinstance(i, bool) for i in items]
    if items and all(flags):
        if isinstance(value, (set, frozenset)):
            refuse("a boolean mask must be ordered (a list or an array)")
        if len(items) != k:
            refuse(f"a boolean mask must have one value per member ({k})")
        return [i for i, stop in enumerate(items) if stop]
    if any(flags) or not all(isinstance(i, numbers.Integral) for i in items):
        refuse("indices must be integers (not bools, floats or strings)")
    if not all(0 <= i < k for i in items):
        refuse(f"indices must be in [0, {k})")
    return sorted({int(i) for i in items})


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
    """None or a non-negative integer of at most SEED_DIGITS digits (what nnxp's files read
    back: a longer seed was saved into files that could not be loaded)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0 \
            or value >= 10 ** SEED_DIGITS:
        raise ConfigError(f"seed must be a non-negative integer of at most {SEED_DIGITS} "
                          f"digits or None, got {show(value)}")
    return int(value)


def dtype(value) -> str:
    """"float32" or "float64", from a name or any library's dtype; None is refused (NumPy
    would read it as float64)."""
    if value is None or isinstance(value, (int, float, list, dict)):
        name = None
    else:
        name = dtype_name(value)
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


def engine(value):
    """None, or an engine's name (which names a backend offers: Backend.engine_path)."""
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"engine must be a name such as 'plain' or 'jax', or None; got "
                          f"{show(value)}")
    return value


def callables(name, value, signature=None) -> list:
    """A callable or a list of them; with ``signature`` (such as "callback(record, net)"),
    each must accept its arguments, positionally: refused before training, not after its
    first epoch (callables whose signature Python cannot read are taken as they are)."""
    values = [] if value is None else list(value) if isinstance(value, (list, tuple)) \
        else [value]
    for v in values:
        if not callable(v):
            raise InputTypeError(f"{name} must be callables (or a list of them), got "
                                 f"{show(v)}")
        if signature is not None:
            arguments = signature[signature.index("(") + 1:-1].split(", ")
            try:
                inspect.signature(v).bind(*arguments)
            except (ValueError, TypeError) as exc:
                if isinstance(exc, TypeError):  # ValueError: no signature to read
                    raise InputTypeError(f"{name}: each is called as {signature}, but "
                                         f"{show(v)} cannot take those arguments ({exc})"
                                         ) from None
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


COPIES = 3          # parameters, gradients, one optimizer buffer (in the compute dtype)
_UNITS = {"": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}


def network_bytes(sizes, members=1, dtype="float32", count=None) -> int:
    """Estimated bytes of building and training ``members`` networks of ``sizes`` (see the
    module docstring), or of ``count`` parameters each (a layered network's): exact integer
    arithmetic, nothing allocated."""
    n = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])) if count is None else count
    itemsize = 8 if dtype == "float64" else 4
    return members * n * (8 + COPIES * itemsize)


def _parse_bytes(text):
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if text.strip().lower() in ("inf", "none", "0"):
        return math.inf
    if not match:
        raise ConfigError(f"NNXP_MAX_MEMORY must be a number of bytes, with an optional K, M, "
                          f"G or T (e.g. 64G), or 'inf'; got {show(text)}")
    limit = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    return math.inf if limit == 0 else limit  # "0G", "0.0", "00": off, as "0" is


def _system_limits():
    limits = []
    try:
        limits.append((os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"),
                       "the machine's physical memory"))
    except (AttributeError, ValueError, OSError):  # not POSIX
        pass
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft not in (resource.RLIM_INFINITY, -1) and soft > 0:
            limits.append((soft, "this process's address-space limit (ulimit -v)"))
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            text = f.read(64).strip()
        if text.isdigit():
            limits.append((int(text), "this process's cgroup (memory.max)"))
    except OSError:
        pass
    return limits


def memory_limit():
    """(bytes, what says so): NNXP_MAX_MEMORY, else the system's smallest limit; (None, ...)
    when there is none."""
    text = os.environ.get("NNXP_MAX_MEMORY")
    if text is not None:
        limit = _parse_bytes(text)
        return (None if limit == math.inf else limit), "NNXP_MAX_MEMORY"
    limits = _system_limits()
    return min(limits) if limits else (None, "no known limit")


def nbytes(n) -> str:
    """A size in bytes for a message: "{n:,} bytes" below 1 MiB, else MiB, GiB or TiB."""
    for unit, scale in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{int(n):,} bytes"


def memory(what, need, max_memory=None) -> None:
    """Refuse ``need`` bytes beyond ``max_memory`` (bytes; None: ``memory_limit()``;
    ``math.inf``: no bound) with a ConfigError saying what, how much, and how to override."""
    if max_memory is None:
        limit, source = memory_limit()
    else:
        if isinstance(max_memory, bool) or not isinstance(max_memory, numbers.Real) \
                or not max_memory > 0:
            raise ConfigError(f"max_memory must be a positive number of bytes (math.inf for no "
                              f"bound) or None, got {show(max_memory)}")
        limit, source = (None if max_memory == math.inf else max_memory), "max_memory"
    if limit is not None and need > limit:
        raise ConfigError(f"{what} would need about {nbytes(need)} (estimated before anything "
                          f"is allocated), more than the {nbytes(int(limit))} of {source}; make "
                          f"it smaller, or if you mean it, raise the bound (max_memory=, or "
                          f"the environment variable NNXP_MAX_MEMORY, e.g. 64G or inf)")
