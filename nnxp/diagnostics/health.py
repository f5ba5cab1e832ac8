"""HealthMonitor: diagnose the network during training, as an SGD callback.

    monitor = HealthMonitor(probe=None, every=1, thresholds=None, warn=True, *, lmbda=0.0,
                            n=None)
    monitor.bind(training_data, *, lmbda=None, n=None, net=None) -> monitor   (SGD calls it)
    monitor(record, net) -> None                                    (after each epoch)

Each check puts ``record["health"]`` (the compact report), keeps the Report in
``monitor.reports``, and announces each new problem (kind and layer) once with an
``NNXPHealthWarning`` that points at the caller's line outside nnxp (the user's ``net.SGD``),
after confirming it on diagnose's default probe (a check runs on a smaller one).
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import sys
import warnings
from pathlib import Path

from ..checks import flag, number, show
from ..data import Dataset
from ..errors import ConfigError, InputTypeError
from .diagnosis import diagnose, take_probe
from .thresholds import Thresholds

__all__ = ["HealthMonitor", "NNXPHealthWarning"]

_NNXP = os.path.realpath(Path(__file__).parent.parent) + os.sep  # the nnxp package folder


class NNXPHealthWarning(UserWarning):
    """Issued by HealthMonitor, once per new problem (kind and layer) during training."""


class HealthMonitor:
    """A training callback that diagnoses the network every ``every`` calls.

        monitor = HealthMonitor()                   # probe taken in bind(training_data)
        monitor = HealthMonitor(probe=(X[:2000], y[:2000]), every=5)
        history = net.SGD(..., callbacks=[monitor]) # or net.SGD(..., health=True)
        monitor.reports[-1]; history.records[-1]["health"]

    Each check puts ``record["health"] = report.to_dict(compact=True)`` and keeps the Report
    in ``reports``; each problem (kind and layer) not seen before is announced once with
    ``warnings.warn(..., NNXPHealthWarning)`` when ``warn``, as one line that names the epoch,
    the problem, the measurement and the advice.  The records it has seen are its history
    (learning_rate_too_high, overfitting, divergence of the cost).  ``lmbda`` and ``n``
    (training-set size), when known, add the weight decay per step to the report.  It never
    stops training (it returns None).

    The probe is ``PROBE_SIZE`` = 400 rows unless ``thresholds`` say otherwise (diagnose's
    default is 2,000): cheap (docs/diagnostics.md has the measured overhead).  A check that
    finds a problem not announced yet is repeated at once on diagnose's default probe
    (``Thresholds().probe_size`` rows, or the monitor's own when larger), and that report is
    the epoch's: a problem is announced only when diagnose itself, on the same history and
    thresholds, reports it (no weaker evidence during training than after it).  The check
    runs inside the backend's ``limit_threads()``, so that the probe's small matrix products
    do not wake BLAS's worker threads on a busy machine.
    """

    PROBE_SIZE = 400  # rows per check by default; see the class docstring

    def __init__(self, probe=None, every=1, thresholds=None, warn=True, *, lmbda=0.0, n=None):
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) \
                or every < 1:
            raise ConfigError(f"every must be a positive integer, got {every!r}")
        every = int(every)  # NumPy's ints too, as Thresholds takes them
        self.thresholds = (Thresholds(probe_size=self.PROBE_SIZE) if thresholds is None
                           else Thresholds.of(thresholds))
        warn = flag("warn", warn)   # a string such as "no" is not a truth value
        lmbda = number("lmbda", lmbda, strict=False)   # refused now, not mid-training
        n = None if n is None else number("n", n)
        if isinstance(probe, (str, bytes, numbers.Number)):
            raise InputTypeError(f"probe must be None or data (X, y) as SGD takes it, got "
                                 f"{show(probe)}")
        self.every, self.warn, self.lmbda, self.n = every, warn, lmbda, n
        self._given = {"probe": probe, "lmbda": lmbda, "n": n}  # what the caller chose
        self.reports, self.records, self.warned = [], [], set()
        self._source, self._probe, self._calls = probe, None, 0
        self._data = self._confirm = None

    def bind(self, training_data, *, lmbda=None, n=None, net=None) -> "HealthMonitor":
        """Use ``training_data`` (a prepared Dataset or raw data) for the probe unless one was
        given, and the run's ``lmbda`` and ``n`` unless given to the constructor; called by
        training before the first epoch, for every run (a monitor used again takes the new
        run's data and weight decay).  With ``net``, the probe is prepared for it now, so that
        a probe that does not fit the network is refused before anything trains."""
        given = self._given
        self._source = training_data if given["probe"] is None else given["probe"]
        self._probe = self._data = self._confirm = None  # prepared again, for this run's net
        if isinstance(training_data, Dataset) and n is None:
            n = training_data.n
        self.lmbda = given["lmbda"] or (0.0 if lmbda is None else lmbda)
        self.n = given["n"] if given["n"] is not None else n
        if net is not None:
            self._probe_for(net)
        return self

    def __call__(self, record, net):
        if not isinstance(record, dict):
            raise InputTypeError(f"a HealthMonitor is called as monitor(record, net) with the "
                                 f"epoch's record (a dict, as SGD passes it), got "
                                 f"{show(record)}")
        if not hasattr(net, "backend") or not hasattr(net, "prepare"):
            raise InputTypeError(f"a HealthMonitor is called as monitor(record, net) with the "
                                 f"network being trained, got {show(net)}")
        self._calls += 1
        self.records.append(record)
        if (self._calls - 1) % self.every:
            return None
        try:
            with net.backend.limit_threads():
                report = self._check(net, record, self._probe_for(net), self.thresholds)
                if self._new(report) and self._confirm_size() > self.thresholds.probe_size:
                    # as strong as diagnose's evidence before anything is announced
                    report = self._check(net, record, self._probe_for(net, confirm=True),
                                         dataclasses.replace(self.thresholds,
                                                             probe_size=self._confirm_size()))
        except BaseException:  # a record it refuses is not kept: the next calls would all
            self.records.pop()  # fail on it
            self._calls -= 1
            raise
        record["health"] = report.to_dict(compact=True)
        self.reports.append(report)
        for p in self._new(report):
            self.warned.add(p.key)
            if self.warn:
                _announce(p, record.get("epoch"))
        return None

    def _check(self, net, record, probe, thresholds):
        return diagnose(net, probe, eta=record.get("eta"), lmbda=self.lmbda or 0.0, n=self.n,
                        history=self.records, thresholds=thresholds)

    def _new(self, report) -> list:
        """The report's problems (warning or error) not announced yet."""
        return [p for p in report.problems if p.severity != "info" and p.key not in self.warned]

    def _confirm_size(self) -> int:
        """The probe a new problem is confirmed on: diagnose's default, or this monitor's own
        when larger."""
        return max(Thresholds().probe_size, self.thresholds.probe_size)

    def _probe_for(self, net, confirm=False):
        """The probe of a check (``thresholds.probe_size`` rows of the source), or of a
        confirmation (``_confirm_size`` rows); each taken once."""
        if self._probe is None:
            if self._source is None:
                raise ConfigError("HealthMonitor needs a probe: pass probe=(X, y) or call "
                                  "monitor.bind(training_data) before training")
            self._data = net.prepare(self._source, "probe")
            self._probe = take_probe(self._data, self.thresholds.probe_size, net.backend)
            self._confirm = None
        if not confirm:
            return self._probe
        if self._confirm is None:
            self._confirm = take_probe(self._data, self._confirm_size(), net.backend)
        return self._confirm


def _announce(problem, epoch) -> None:
    """One NNXPHealthWarning, one line, attributed to the first caller outside nnxp."""
    when = "" if epoch is None else f" (epoch {epoch})"
    text = (f"nnxp health{when}: {problem.kind} ({problem.where}, {problem.severity}): "
            f"{problem.message}. Advice: {problem.advice}")
    warnings.warn(" ".join(text.split()), NNXPHealthWarning, stacklevel=_outside_nnxp())


def _outside_nnxp() -> int:
    """The stacklevel, for a warnings.warn in the caller of this function, of the nearest
    frame outside the nnxp package (the user's SGD call, or their direct monitor call);
    1 (the warning's own line) when every frame is nnxp's."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.realpath(frame.f_code.co_filename).startswith(_NNXP):
        frame, level = frame.f_back, level + 1
    return level if frame is not None else 1
