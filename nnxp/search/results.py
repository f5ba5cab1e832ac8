"""A search's results: one record per trial, sorted best first.

    make_record(trial, outcome, n_evaluation, **extra) -> dict
    sort_records(records) -> list
    rank_outcomes(outcomes, n_evaluation) -> [index]   a group's outcomes (worker.py), the
                                           best first, as their records would be sorted
    keep_best(trained, records, keep)      drops from ``trained`` ({trial: params}) all but
                                           the ``keep`` trials ranked first (``records``:
                                           {trial: its current record})
    SearchResult(kind, records, histories, config, rounds=None, budget=None, trials=None,
                 trained=None)
        .records        one dict per trial (below), the best first
        .best           the best record (highest best_accuracy)
        .histories      {trial number: History as a dict} (every epoch's measurements)
        .rounds         successive halving: [{"round", "epochs", "trials"}] per round
        .budget         successive halving: epochs trained, against restarting and a full grid
        .checkpoints    successive halving with a path: {trial: its newest checkpoint file}
        .path           the results file (Optuna: the journal) the search kept, or None;
                        to_csv, to_json and plot refuse it and the checkpoints as their path
                        (a resume reads them)
        .config         what was searched (seed, epochs, options, data sizes)
        .shuffle_seed   the shuffling seed every trial used (see trials.py)
        .trials         the search's trials.Trial objects (the activation, cost and
                        initializer each was built with: rerun builds from them)
        .device         the device the search trained on, by name (None: the backend's
                        default), where ``network`` and ``rerun`` build the trial's network
        .trained        {trial: its trained (w, b) per layer, host NumPy arrays}: the best
                        ``keep`` trials this search trained (not those a resumed search
                        read from its file)
        .network(trial=None) -> Network    a kept trial's trained network (None: the best),
                        on the search's backend, device and dtype, without training again; a trial
                        not kept is a ConfigError (``rerun`` trains it again)
        .best_network() -> Network         network(None)
        .to_csv(path), .to_json(path), .plot(path=None), str(result) (a table)

A record holds the trial's hyper-parameters as top-level keys (space.HYPER's names), then

    trial, seed          its number in the search and its network's seed
    status               "ok"; "diverged" (stopped when its parameters became NaN or infinite;
                         the metrics are those of its last finite epoch); "error" (training
                         raised: see error); "lost" (its worker was lost more often than retries)
    best_accuracy        the highest validation accuracy of any epoch, as a fraction
    best_epoch           that epoch (0-based, as History's records)
    final_accuracy       at the last epoch
    best_cost, final_cost   validation cost (with the L2 / L1 terms, as network2's total_cost)
    epochs               epochs trained
    round                successive halving: the last round the trial reached (0-based)
    seconds              wall time of training the trial's group (trials trained together
                         share it); the one field that differs between identical searches
    stop_reason, error   why it stopped early; the exception, for status "error" and "lost"

Sorted by best_accuracy (highest first), then best_cost (lowest), then trial number; trials
without a measurement last (diverged in their first epoch, then error, then lost).  Costs that are not finite are written as None.
"""

from __future__ import annotations

import csv
import io
import json
import math

from .. import checks, core
from ..errors import ConfigError
from ..files import atomic_write_text
from .build import build_network, find_record
from .session import check_not_kept

__all__ = ["SearchResult", "make_record", "sort_records", "rank_outcomes", "keep_best"]


def _finite(value):
    return float(value) if value is not None and math.isfinite(value) else None


def make_record(trial, outcome, n_evaluation, **extra) -> dict:
    record = {"trial": trial.number, **trial.params, "seed": trial.seed}
    history = outcome.get("history")
    error = outcome.get("error")
    epochs = [r for r in (history or {}).get("records", []) if not r.get("diverged")]
    accuracy = [r["evaluation_accuracy"] / n_evaluation for r in epochs]
    costs = [_finite(r.get("evaluation_cost")) for r in epochs]
    reason = outcome.get("stop_reason")
    if error is not None:
        status = "lost" if outcome.get("lost") else "error"
    elif reason and reason.startswith("diverged"):
        status = "diverged"
    else:
        status = "ok"
    best = max(range(len(accuracy)), key=lambda i: (accuracy[i], -i)) if accuracy else None
    finite_costs = [c for c in costs if c is not None]
    record.update({
        "status": status,
        "best_accuracy": None if best is None else accuracy[best],
        "best_epoch": None if best is None else epochs[best]["epoch"],
        "final_accuracy": accuracy[-1] if accuracy else None,
        "best_cost": min(finite_costs) if finite_costs else None,
        "final_cost": costs[-1] if costs else None,
        "epochs": len((history or {}).get("records", [])),
        **extra,
        "seconds": float(outcome.get("seconds") or 0.0),
        "stop_reason": reason,
        "error": error,
    })
    return record


STATUSES = ("ok", "diverged", "error", "lost")


def _rank(record):
    acc, cost = record.get("best_accuracy"), record.get("best_cost")
    unmeasured = STATUSES.index(record["status"]) if acc is None else 0
    return (acc is None, unmeasured, -(acc or 0.0), math.inf if cost is None else cost,
            record["trial"])


def sort_records(records) -> list:
    return sorted(records, key=_rank)


def rank_outcomes(outcomes, n_evaluation) -> list:
    ranks = [_rank(make_record(_Unnamed(o["trial"]), o, n_evaluation)) for o in outcomes]
    return sorted(range(len(outcomes)), key=ranks.__getitem__)


class _Unnamed:
    """What make_record needs of a trial to rank it: its number."""

    def __init__(self, number):
        self.number, self.params, self.seed = number, {}, None


def _final_rank(record):
    """The order of a result's records: successive halving's last round first."""
    return (-record.get("round", 0), *_rank(record))


def keep_best(trained, records, keep) -> None:
    ranked = sorted((records[t] for t in trained), key=_final_rank)
    for record in ranked[keep:]:
        del trained[record["trial"]]


class SearchResult:
    """What a search found (see the module docstring)."""

    def __init__(self, kind, records, histories, config, rounds=None, budget=None,
                 trials=None, trained=None):
        self.kind, self.config = kind, config
        self.records = sort_records(records)
        self.histories, self.rounds, self.budget = histories, rounds, budget
        self.checkpoints = {}   # successive halving with a path: trial -> newest checkpoint
        self.path = None        # the results file or Optuna journal the search kept
        self.device = None      # the search's device, by name (None: the backend's default)
        self.trials = trials    # the search's trials.Trial objects (what to build them with)
        self.trained = dict(trained or {})

    def network(self, trial=None):
        """The trained network of a kept trial (see the module docstring).

        >>> net = result.network(result.records[0])                       # doctest: +SKIP"""
        record = find_record(self, trial)
        params = self.trained.get(record.get("trial"))
        if params is None:
            kept = sorted(self.trained)
            raise ConfigError(
                f"trial {checks.show(record.get('trial'))}'s trained network was not kept "
                f"(kept: {checks.show(kept)}; the search's keep= sets how many of the best "
                "are); nnxp.search.rerun(result, trial, ...) trains it again")
        net = build_network(self, record)
        net.params = core.to_device(net.backend, params, net.dtype)
        return net

    def best_network(self):
        """The best trial's trained network (``network(None)``)."""
        return self.network(None)

    @property
    def best(self) -> dict | None:
        """The best trial's record (None when no trial was measured)."""
        return self.records[0] if self.records and \
            self.records[0].get("best_accuracy") is not None else None

    @property
    def shuffle_seed(self) -> int:
        return self.config["shuffle_seed"]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "config": self.config, "records": self.records,
                "rounds": self.rounds, "budget": self.budget,
                "histories": {str(k): v for k, v in sorted(self.histories.items())}}

    def kept_files(self) -> list:
        """The files the search keeps for a resume (its results file or journal, halving's
        trial checkpoints): no table or plot is written over them."""
        return [self.path, *self.checkpoints.values()]

    def to_json(self, path) -> None:
        """Records, histories, rounds and config as one JSON file (atomic write)."""
        check_not_kept(path, self.kept_files(), "the table as JSON")
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1), what="search results")

    def to_csv(self, path) -> None:
        """One row per trial, the best first; lists (sizes) as JSON text."""
        check_not_kept(path, self.kept_files(), "the table as CSV")
        atomic_write_text(path, self.csv(), what="search results")

    def csv(self) -> str:
        columns = []
        for record in self.records:
            columns.extend(k for k in record if k not in columns)
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        for record in self.records:
            writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                             for k, v in record.items()})
        return out.getvalue()

    def plot(self, path=None):
        """Accuracy against each hyper-parameter that varies (and, for successive halving,
        every trial's accuracy across the rounds); see nnxp.search.plot."""
        from .plot import plot_search
        return plot_search(self, path)

    def __str__(self) -> str:
        varied = [k for k in self.records[0] if k in self.config.get("varied", ())] \
            if self.records else []
        head = ["trial", *varied, "status", "best_accuracy", "epochs"]
        rows = [[_cell(r.get(k)) for k in head] for r in self.records[:20]]
        widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
                  for i, h in enumerate(head)]
        lines = [f"{self.kind} search: {len(self.records)} trials"
                 + (f", best accuracy {self.best['best_accuracy']:.2%} (trial "
                    f"{self.best['trial']})" if self.best else "")]
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)
        if len(self.records) > 20:
            lines.append(f"... {len(self.records) - 20} more")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"SearchResult({self.kind!r}, {len(self.records)} trials)"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)
