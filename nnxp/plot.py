"""Training curves as the book draws them: cost and accuracy against epoch.

    plot_history(history, path=None, *, labels=None, title=None) -> matplotlib Figure
        history   a History, a dict (``History.to_dict()``, optionally with the top-level keys
                  ``n_training`` and ``n_evaluation``), the path of such a JSON file, or a list
                  of these to overlay (one colour each; ``labels`` names them in the legend)
        path      where to write the PNG (or any format matplotlib knows by its suffix)
    load_history(source) -> dict   a History, dict or JSON file as a dict; every field the
                  plot reads is checked first (records' epoch and metrics, n_training,
                  n_evaluation, config.mini_batch_size, intervals): an edited or foreign file
                  is a DataError naming the field, never a traceback from the drawing

    save_figure(fig, path, dpi=100)   a figure written atomically (files.atomic_write_bytes): a
                  plot already at ``path`` is replaced whole or kept, never half-written; a
                  place that cannot be written is a FileError, a suffix matplotlib does not
                  know a ConfigError

    python -m nnxp.plot history.json -o curves.png
    python -m nnxp.plot default.json large.json --labels default large -o cmp.png

Two panels, cost (left) and accuracy (right), against epochs of training: evaluation data as
solid lines, training data as dashed lines, and the every-k-mini-batches accuracy measurements
(``monitor_every``) as thin dotted lines when the history says how many mini-batches an epoch
has (``n_training`` and ``config["mini_batch_size"]``).  Accuracy is drawn in percent when the
size of the data is known (``n_training`` / ``n_evaluation``, which ``examples/train.py``
writes), else as a count of correct examples, as network2 reports it.  An epoch's record is
drawn at x = epoch + 1: after one epoch of training.

matplotlib is optional (``pip install -r backends/plot.txt`` in the nnxp checkout), imported
only when a figure is drawn, and used through its object-oriented API with the Agg canvas, so
plotting never changes the pyplot backend of the caller's session.
"""

from __future__ import annotations

import argparse
import numbers
import math
import os
import sys

from .checks import show
from .errors import ConfigError, DataError, InputTypeError, NNXPError
from .files import as_path, atomic_write_bytes, check_writable, read_json
from .history import entries_problem

MAX_HISTORY_BYTES = 512 * 2 ** 20  # a history is one small record per epoch

__all__ = ["plot_history", "load_history", "require_matplotlib", "check_plot_path",
           "MissingMatplotlib",
           "save_figure", "main"]

INSTALL = "pip install -r backends/plot.txt"


class MissingMatplotlib(NNXPError, ImportError):
    """Plotting was asked for, but matplotlib is not installed."""


def require_matplotlib():
    """The matplotlib package, or MissingMatplotlib saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise MissingMatplotlib(f"plotting needs matplotlib, which is not installed here; "
                                f"install it from the nnxp checkout with: {INSTALL}") from None
    return matplotlib


def load_history(source) -> dict:
    """A history as a dict, from a History, a dict or the path of a JSON file, with every
    field the plot reads checked (``_check_history``): a DataError naming the field."""
    if isinstance(source, dict):
        return _check_history(source, "the history")
    if hasattr(source, "to_dict"):
        return source.to_dict()
    d = read_json(source, max_bytes=MAX_HISTORY_BYTES, what="history file")
    where = repr(os.fspath(source))
    if not isinstance(d, dict) or not isinstance(d.get("records"), list):
        raise DataError(f"{where} has no list of 'records'; write it with "
                        "History.save or examples/train.py --history")
    return _check_history(d, where)


def _count(value, low) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        and value >= low


def _check_history(d, where) -> dict:
    """``d`` if every field the plot reads has its type (History.to_dict's, plus the optional
    ``n_training``/``n_evaluation`` and ``config``), else a DataError naming the field."""
    def refuse(field, expected, value):
        raise DataError(f"{where}: field {field} must be {expected}, got {show(value)}; "
                        "write histories with History.save or examples/train.py --history")

    problem = entries_problem(d.get("records"), d.get("intervals") or [])
    if problem:
        refuse(*problem)
    for key in ("n_training", "n_evaluation"):
        if d.get(key) is not None and not _count(d[key], 0):
            refuse(repr(key), "a non-negative integer or null", d[key])
    config = d.get("config")
    if config is not None and not isinstance(config, dict):
        refuse("'config'", "an object or null", config)
    size = (config or {}).get("mini_batch_size")
    if size is not None and not _count(size, 1):
        refuse("config.mini_batch_size", "a positive integer or null", size)
    return d


def _series(d, key, n):
    """(x, y) of one metric over the epochs; y in percent when n is given."""
    points = [(r["epoch"] + 1, r[key]) for r in d["records"] if r.get(key) is not None]
    return [x for x, _ in points], [100.0 * y / n if n else y for _, y in points]


def _interval_series(d, key, percent):
    """(x, y) of the every-k-mini-batches measurements, or None when x cannot be placed."""
    config = d.get("config") or {}
    n, size = d.get("n_training"), config.get("mini_batch_size")
    if not d.get("intervals") or not n or not size:
        return None
    per_epoch = math.ceil(n / size)
    xs = [e["epoch"] + e["mini_batches"] / per_epoch for e in d["intervals"]]
    ys = [100.0 * e[key] / e["n"] if percent else e[key] for e in d["intervals"]]
    return xs, ys


def plot_history(history, path=None, *, labels=None, title=None):
    """Draw cost and accuracy against epoch for one history or several overlaid (see the module
    docstring); save to ``path`` when given; return the matplotlib Figure.

    >>> plot_history("history.json", "curves.png")                  # doctest: +SKIP
    >>> plot_history([h_default, h_large], "cmp.png", labels=["default", "large"])  # +SKIP
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    many = isinstance(history, (list, tuple)) and not hasattr(history, "to_dict")
    sources = list(history) if many else [history]
    if not sources:
        raise DataError("plot_history got an empty list of histories; give at least one")
    if path is not None:
        path = as_path(path, "plot")
    if labels is not None and not isinstance(labels, (list, tuple)):
        raise InputTypeError(f"labels must be a list of legend labels, one per history, got "
                             f"{show(labels)}")
    runs = [load_history(h) for h in sources]
    if labels is None:
        labels = [_default_label(h, i) for i, h in enumerate(sources)] if many else [None]
    labels = list(labels)
    if len(labels) != len(runs):
        raise DataError(f"{len(labels)} labels for {len(runs)} histories")
    percent = all(d.get("n_evaluation") for d in runs if _has(d, "evaluation_accuracy")) and \
        all(d.get("n_training") for d in runs if _has(d, "training_accuracy"))

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    cost_ax, acc_ax = fig.subplots(1, 2)
    colours = [f"C{i % 10}" for i in range(len(runs))]
    for d, label, colour in zip(runs, labels, colours):
        prefix = f"{label}: " if label else ""
        for data, style in (("evaluation", "-"), ("training", "--")):
            n = d.get(f"n_{data}") if percent else None
            acc_key = f"{data}_accuracy"
            if data == "evaluation" and not _has(d, acc_key):
                acc_key = "validation_accuracy"   # measured only for early stopping/schedule
            for ax, key, scale in ((cost_ax, f"{data}_cost", None), (acc_ax, acc_key, n)):
                xs, ys = _series(d, key, scale)
                if xs:
                    ax.plot(xs, ys, style, color=colour, marker="." if len(xs) < 40 else None,
                            label=f"{prefix}{data} data")
        fine = _interval_series(d, "evaluation_accuracy", percent)
        if fine:  # accuracy only: a subset's cost has another L2 term (lmbda / 2n, n smaller)
            acc_ax.plot(*fine, ":", color=colour, linewidth=0.8,
                        label=f"{prefix}evaluation subset, every "
                              f"{(d.get('config') or {}).get('monitor_every', 'k')} mini-batches")
    cost_ax.set(title="Cost", xlabel="epochs of training", ylabel="cost")
    acc_ax.set(title="Accuracy", xlabel="epochs of training",
               ylabel="accuracy (%)" if percent else "correct examples")
    for ax in (cost_ax, acc_ax):
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def _check_format(path, known) -> str:
    """The format ``path``'s suffix names (png without one), or a ConfigError naming those
    matplotlib writes."""
    suffix = os.path.splitext(path)[1][1:].lower()
    if suffix and suffix not in known:
        raise ConfigError(f"cannot draw a plot as {suffix!r} ({path!r}); matplotlib writes "
                          f"{', '.join(sorted(known))}")
    return suffix or "png"


def check_plot_path(path, what="plot") -> str:
    """Before a run whose end draws a plot at ``path``: matplotlib is there
    (MissingMatplotlib), the suffix is a format it writes (ConfigError) and the place can be
    written (files.check_writable); returns the path."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    path = as_path(path, what)
    _check_format(path, FigureCanvasAgg(Figure()).get_supported_filetypes())
    check_writable(path, what)
    return path


def save_figure(fig, path, dpi=100) -> None:
    """Write ``fig`` at ``path`` in the format its suffix names (PNG without one), rendered in
    memory first and then written atomically.  An unknown suffix is a ConfigError; anything
    else matplotlib cannot draw (values too large to place ticks for) a DataError with its
    reason."""
    import io
    path = os.fspath(path)
    fmt = _check_format(path, fig.canvas.get_supported_filetypes())
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=fmt, dpi=dpi)
    except (ValueError, OverflowError, ArithmeticError) as exc:
        raise DataError(f"matplotlib could not draw the plot for {path!r} "
                        f"({type(exc).__name__}: {exc}); are some values drawn too large "
                        f"(such as a cost near 1e308)?") from exc
    atomic_write_bytes(path, buffer.getvalue(), what="plot")


def _default_label(source, i) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.path.splitext(os.path.basename(os.fspath(source)))[0]
    return f"run {i + 1}"


def _has(d, key) -> bool:
    return any(r.get(key) is not None for r in d.get("records", ()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnxp.plot",
        description="Draw cost and accuracy against epoch from history JSON files "
                    "(History.save, examples/train.py --history); several files are overlaid.")
    parser.add_argument("histories", nargs="+", metavar="HISTORY.json")
    parser.add_argument("-o", "--output", default="curves.png", help="image to write "
                        "(default: curves.png; the suffix chooses the format)")
    parser.add_argument("--labels", nargs="+", help="one legend label per history file")
    parser.add_argument("--title", help="a title above the panels")
    parser.error = lambda message: parser.exit(  # bad input: one line, not the whole usage
        2, f"{parser.prog}: {message} (see --help)\n")
    args = parser.parse_args(argv)
    try:
        output = as_path(args.output, "plot")
        for h in args.histories:
            if os.path.exists(h) and os.path.exists(output) and os.path.samefile(h, output):
                raise ConfigError(f"-o {output} is the history {h} given to draw: the picture "
                                  f"would replace it; give the image another name")
        plot_history(args.histories, output, labels=args.labels, title=args.title)
    except NNXPError as exc:
        print(f"nnxp.plot: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
