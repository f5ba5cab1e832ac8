"""A search drawn: validation accuracy against each hyper-parameter that varied, and for
successive halving every trial's accuracy across the rounds.

    plot_search(result, path=None) -> matplotlib Figure      (``result.plot(path)``)

One panel per varied hyper-parameter: each trial's best validation accuracy (percent) against
its value, on a log axis for eta, lmbda and l1 when they are positive, as categories for sizes,
activation, cost and the like; diverged trials as red crosses at their last finite accuracy.
Successive halving adds a panel of every trial's validation accuracy against epochs, one line
per trial, coloured by the last round it reached, with the rounds' epochs marked.

matplotlib is optional (``pip install 'nnxp[plot]'``), imported only here, through its
object-oriented API on the Agg canvas (the caller's pyplot backend is never changed).
"""

from __future__ import annotations

import json
import math

from .. import checks
from .build import check_result
from .session import check_not_kept

__all__ = ["plot_search"]

LOG_AXES = ("eta", "lmbda", "l1")


def plot_search(result, path=None):
    """Draw ``result`` (a SearchResult); save to ``path`` when given; return the Figure."""
    from ..plot import require_matplotlib, save_figure  # here: `python -m nnxp.plot` runs
    check_result(result)                                # nnxp.plot as a script, unimported
    if path is not None:
        path = checks.path("path", path)
        check_not_kept(path, getattr(result, "kept_files", list)(), "a plot")
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    varied = list(result.config.get("varied") or ["eta"])
    panels = len(varied) + (1 if result.kind == "halving" else 0)
    columns = min(3, panels)
    rows = math.ceil(panels / columns)
    fig = Figure(figsize=(4.2 * columns, 3.4 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    measured = [r for r in result.records if r.get("best_accuracy") is not None]
    for ax, name in zip(axes, varied):
        _parameter_panel(ax, name, measured)
    if result.kind == "halving":
        _rounds_panel(axes[len(varied)], result)
    for ax in axes[panels:]:
        ax.set_visible(False)
    best = result.best
    title = f"{result.kind} search, {len(result.records)} trials"
    if best is not None:
        title += f"; best validation accuracy {best['best_accuracy']:.2%} (trial {best['trial']})"
    fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def _parameter_panel(ax, name, records):
    values = [r[name] for r in records]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric:
        xs = values
        if name in LOG_AXES and values and min(values) > 0:
            ax.set_xscale("log")
    else:
        labels = []
        for v in values:
            text = json.dumps(v) if isinstance(v, (list, dict)) else str(v)
            if text not in labels:
                labels.append(text)
        xs = [labels.index(json.dumps(v) if isinstance(v, (list, dict)) else str(v))
              for v in values]
        ax.set_xticks(range(len(labels)), labels, rotation=20, fontsize="small")
    for x, r in zip(xs, records):
        diverged = r["status"] == "diverged"
        ax.plot(x, 100 * r["best_accuracy"], "x" if diverged else "o",
                color="C3" if diverged else "C0", alpha=0.8)
    ax.set(xlabel=name, ylabel="best validation accuracy (%)")
    ax.grid(True, alpha=0.3)


def _rounds_panel(ax, result):
    n = result.config["data"]["n_evaluation"]
    last_round = {r["trial"]: r.get("round", 0) for r in result.records}
    for trial, history in sorted(result.histories.items()):
        points = [(rec["epoch"] + 1, 100 * rec["evaluation_accuracy"] / n)
                  for rec in history.get("records", []) if "evaluation_accuracy" in rec
                  and not rec.get("diverged")]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, "-", color=f"C{last_round.get(trial, 0) % 10}", linewidth=0.9,
                    alpha=0.8, marker="." if len(xs) < 30 else None)
    for summary in result.rounds or []:
        ax.axvline(summary["epochs"], color="grey", linestyle=":", linewidth=0.8)
    ax.set(xlabel="epochs", ylabel="validation accuracy (%)",
           title="rounds (colour: last round reached)")
    ax.grid(True, alpha=0.3)
