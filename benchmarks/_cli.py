"""The benchmark scripts' command line: bad input refused at once, in one line, results saved
whole.  A benchmark runs for minutes; a mistake in its flags or in its ``--json`` path must
stop it before any work, not lose the results at the end.

    ArgumentParser(...)          argparse's parser whose errors are ONE line on stderr,
                                 ``<prog>: <message> (see --help)``, exit status 2 (as
                                 examples/train.py's)
    at_least(minimum, maximum=None) -> type
                                 an argparse ``type=`` for a whole number in
                                 [minimum, maximum]: anything else is refused by argparse
    positive_int, nonnegative_int
                                 at_least(1), at_least(0): counts (rounds, epochs, images ...)
                                 and seeds
    positive_float(text) -> float
                                 an argparse ``type=`` for a finite number > 0 (a timeout)
    backend_name(text) -> str    an argparse ``type=``: nnxp's canonical name of the backend
                                 (one of nnxp.BACKENDS, aliases such as "np" accepted), else
                                 refused, naming the valid ones.  Only the name is checked: a
                                 backend that is not installed fails when it is used.
    comma_separated(item) -> type
                                 an argparse ``type=`` for "a,b,c": [item("a"), item("b"),
                                 item("c")], empty items skipped (so "" is [])
    backend_list(text) -> list   comma_separated(backend_name): "numpy,jax" -> ["numpy", "jax"]
    check_json(parser, path, what="benchmark results") -> str | None
                                 right after parsing: None for no path; else the absolute path
                                 once nnxp.files.check_writable says the results can be saved
                                 there; otherwise (a folder, a folder that cannot be created,
                                 no permission, not a path ...) one line
                                 ``<prog>: <message>`` on stderr and exit status 2
                                 (SystemExit, also when ``main(argv)`` is called in-process)
    write_json(path, doc, what="benchmark results", default=None)
                                 ``json.dumps(doc, indent=1, default=default)`` plus a newline,
                                 saved with nnxp.files.atomic_write_text: a crash leaves the
                                 old file or the new one, never half of one; an error is an
                                 nnxp.FileError naming the path

nnxp is imported by the functions that need it, not by this module: ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math

__all__ = ["ArgumentParser", "at_least", "positive_int", "nonnegative_int", "positive_float",
           "comma_separated", "backend_name", "backend_list", "check_json", "write_json"]


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser; a bad flag is one line, ``<prog>: <message> (see --help)``, exit 2
    (argparse's own error prints the whole usage first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def at_least(minimum: int, maximum: int | None = None):
    """An argparse ``type=``: the text as an int in [minimum, maximum] (no maximum: None), or
    argparse's one-line error "argument --rounds: must be at least 1, got 0"."""

    def whole_number(text):
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") \
                from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
        return value

    whole_number.__name__ = (f"int_at_least_{minimum}" if maximum is None
                             else f"int_from_{minimum}_to_{maximum}")
    return whole_number


positive_int = at_least(1)
nonnegative_int = at_least(0)


def positive_float(text) -> float:
    """An argparse ``type=``: the text as a finite float > 0."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < math.inf:  # NaN refused too
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def backend_name(text) -> str:
    """An argparse ``type=``: the canonical name of one of nnxp.BACKENDS (aliases accepted)."""
    from nnxp.backends import BACKENDS, canonical
    from nnxp.errors import NNXPError
    try:
        return canonical(text)
    except NNXPError:
        raise argparse.ArgumentTypeError(
            f"unknown backend {text!r}; backends: {', '.join(BACKENDS)}") from None


def comma_separated(item):
    """An argparse ``type=`` for a comma-separated list, each item converted (and checked) by
    ``item``, another such type; blanks around items and empty items are dropped."""

    def items(text):
        return [item(part.strip()) for part in text.split(",") if part.strip()]

    items.__name__ = f"comma_separated_{getattr(item, '__name__', 'items')}"
    return items


backend_list = comma_separated(backend_name)


def check_json(parser: argparse.ArgumentParser, path, what: str = "benchmark results"):
    """None when ``path`` is None; else the absolute path, once a save there is known to work
    (nnxp.files.check_writable); otherwise ``<prog>: <message>`` and exit status 2."""
    if path is None:
        return None
    from nnxp.errors import NNXPError
    from nnxp.files import check_writable
    try:
        return check_writable(path, what)
    except NNXPError as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")


def write_json(path, doc, what: str = "benchmark results", default=None) -> None:
    """``doc`` as JSON (indent 1, a final newline) saved atomically at ``path``."""
    from nnxp.files import atomic_write_text
    atomic_write_text(path, json.dumps(doc, indent=1, default=default) + "\n", what=what)
