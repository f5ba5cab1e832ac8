"""The learning-rate threshold finder: the book's procedure for choosing eta (chapter 3).

    find_learning_rate(net, training_data, *, mini_batch_size=10, lmbda=0.0, n=None,
                       start=0.01, mode="book", budget_batches=5000, n_train=10000, checks=None,
                       refine_steps=3, tolerance=0.02, seed=0, optimizer="sgd", momentum=0.0,
                       eta_min=1e-4, eta_max=1e2, progress=False) -> LRResult
    LRResult(threshold, recommended, trials, mode, seconds, rule)
    Trial(eta, costs, decreases)     costs[0] is the cost before training

``net`` is a Network (every trial starts from a copy of its current parameters, so all trials
start from the same network) or a function of no arguments returning a fresh Network.

mode="book" is Nielsen's procedure.  A trial trains for ``budget_batches`` mini-batches (the
"first few epochs", on a training subset of ``n_train`` examples drawn with ``seed``) and
measures the training cost (mean cost plus the L2 term, on up to 2,000 examples of the subset)
before training and after each of ``checks`` (default 10) equal segments.  The defaults, 5,000
mini-batches on 10,000 examples, are five epochs of the subset and one epoch's worth of steps
of MNIST's 50,000.  The cost *decreases* when every
check is at most ``tolerance`` (relative) above the one before and the last is below the first;
otherwise it *oscillates or increases*.  Start at eta = ``start``; if the cost decreases, try
10x, 100x, ... until it does not; otherwise try 1/10, 1/100, ... until it does.  Then refine
between the last decreasing eta and the first that was not by ``refine_steps`` geometric
bisections.  The threshold is the largest eta found to decrease; the recommendation is half of it.
L2 weight decay per step is eta lmbda / n with ``n`` the size of the full training set
(default: the size of ``training_data``), as in training on all of it.

mode="sweep" is the fast mode: one pass of ``budget_batches`` mini-batches in which eta grows
exponentially from ``eta_min`` to ``eta_max`` in ``checks`` steps (default: 4 per decade, on
equal segments), the cost measured after each.  The threshold is the last eta before the first
segment whose cost rose (by more than ``tolerance``); the recommendation is half of it.  About
three times quicker, and coarser: each segment starts where the smaller etas left the network.

Training uses the network's own engine (on JAX, compiled once for all trials).  The subset and
the order of its mini-batches come from Python's ``random.Random(seed)`` on the host, so every
backend sees the same examples in the same order.
"""

from __future__ import annotations

import math
import random
import time
import warnings
from dataclasses import dataclass, field

from .backprop import feedforward
from .data import Dataset
from .errors import ConfigError
from .network import Network
from .optimizers import optimizer_from, set_hyper, training_chain

__all__ = ["find_learning_rate", "LRResult", "Trial"]

COST_PROBE = 2000


@dataclass
class Trial:
    """One eta tried: the training-cost curve (costs[0] before training) and the verdict."""

    eta: float
    costs: list
    decreases: bool


@dataclass
class LRResult:
    """What ``find_learning_rate`` found: the threshold eta, half of it, and every trial."""

    threshold: float | None
    recommended: float | None
    trials: list = field(default_factory=list)
    mode: str = "book"
    seconds: float = 0.0
    rule: str = ""

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "recommended": self.recommended, "mode": self.mode,
                "seconds": self.seconds, "rule": self.rule,
                "trials": [{"eta": t.eta, "costs": [c if math.isfinite(c) else str(c)
                                                    for c in t.costs],
                            "decreases": t.decreases} for t in self.trials]}

    def __str__(self) -> str:
        lines = [f"learning-rate threshold ({self.mode} mode, {len(self.trials)} trials, "
                 f"{self.seconds:.1f} s): "
                 + ("none found" if self.threshold is None else
                    f"eta = {self.threshold:.3g}; recommended eta = {self.recommended:.3g}")]
        for t in sorted(self.trials, key=lambda t: t.eta):
            curve = " ".join(f"{c:.3g}" for c in t.costs)
            lines.append(f"  eta {t.eta:<10.4g} {'decreases' if t.decreases else 'does not':>10}"
                         f"   cost: {curve}")
        return "\n".join(lines)


def find_learning_rate(net, training_data, *, mini_batch_size=10, lmbda=0.0, n=None,
                       start=0.01, mode="book", budget_batches=5000, n_train=10000, checks=None,
                       refine_steps=3, tolerance=0.02, seed=0, optimizer="sgd", momentum=0.0,
                       eta_min=1e-4, eta_max=1e2, progress=False) -> LRResult:
    """Find the threshold eta at which the training cost starts to decrease (module doc).

    >>> result = nnxp.find_learning_rate(net, (X, y), lmbda=5.0)     # doctest: +SKIP
    >>> result.threshold, result.recommended                          # doctest: +SKIP
    """
    began = time.perf_counter()
    if checks is None:
        checks = 10 if mode == "book" else 4 * round(math.log10(eta_max / eta_min)) + 1
    base = net() if callable(net) and not isinstance(net, Network) else net
    if not isinstance(base, Network):
        raise ConfigError(f"net must be a Network or a function returning one, got {base!r}")
    _check(mini_batch_size=mini_batch_size, budget_batches=budget_batches, n_train=n_train,
           checks=checks, integer=True)
    _check(start=start, eta_min=eta_min, eta_max=eta_max)
    _check(refine_steps=refine_steps, lmbda=lmbda, tolerance=tolerance, momentum=momentum,
           integer=False, positive=False)
    if mode not in ("book", "sweep"):
        raise ConfigError(f"mode must be 'book' or 'sweep', got {mode!r}")
    if checks > budget_batches or eta_min >= eta_max:
        raise ConfigError(f"need checks <= budget_batches and eta_min < eta_max; got checks="
                          f"{checks}, budget_batches={budget_batches}, eta_min={eta_min}, "
                          f"eta_max={eta_max}")
    runner = _Runner(base, training_data, mini_batch_size, lmbda, n, n_train, checks,
                     budget_batches, seed, optimizer, momentum)
    if mode == "book":
        threshold, trials = _book(runner, start, refine_steps, tolerance, eta_min, eta_max,
                                  progress)
        rule = (f"decreases: over {budget_batches} mini-batches of {mini_batch_size} the cost "
                f"never rose by more than {tolerance:g} (relative) from one of {checks} "
                "checks to the next, and ended below where it started")
    else:
        threshold, trials = _sweep(runner, eta_min, eta_max, tolerance)
        rule = (f"sweep: eta from {eta_min:g} to {eta_max:g} in {checks} exponential steps "
                f"over {budget_batches} mini-batches; threshold: the last eta before the cost "
                f"first rose by more than {tolerance:g}")
    return LRResult(threshold, None if threshold is None else threshold / 2, trials, mode,
                    time.perf_counter() - began, rule)


def _check(integer=False, positive=True, **values):
    for name, v in values.items():
        ok = (not isinstance(v, bool) and isinstance(v, int if integer else (int, float))
              and math.isfinite(v) and (v > 0 if positive else v >= 0))
        if not ok:
            raise ConfigError(f"{name} must be a {'positive' if positive else 'non-negative'} "
                              f"{'integer' if integer else 'number'}, got {v!r}")


class _Runner:
    """Runs segments of mini-batches from the initial parameters and measures the cost."""

    def __init__(self, net, training_data, m, lmbda, n, n_train, checks, budget, seed,
                 optimizer, momentum):
        be, xp = net.backend, net.backend.xp
        data = net.prepare(training_data, "training_data")
        rng = random.Random(seed)  # host randomness, the same on every backend
        n_sub = min(n_train, data.n)
        subset = rng.sample(range(data.n), n_sub)
        rows = be.asarray(subset, "index")
        self.data = Dataset(xp.take(data.x, rows, axis=0), xp.take(data.y, rows, axis=0),
                            xp.take(data.labels, rows, axis=0), n_sub)
        k = min(n_sub, COST_PROBE)
        self.probe_x, self.probe_y = self.data.x[:k, ...], self.data.y[:k, ...]
        per_segment = (budget // checks) * m
        stream = [i for _ in range(-(-per_segment * checks // n_sub))
                  for i in rng.sample(range(n_sub), n_sub)]
        self.segments = []  # each segment's examples, gathered on the device once
        for s in range(checks):
            order = be.asarray(stream[s * per_segment:(s + 1) * per_segment], "index")
            self.segments.append(Dataset(xp.take(self.data.x, order, axis=0),
                                         xp.take(self.data.y, order, axis=0),
                                         xp.take(self.data.labels, order, axis=0), per_segment))
        self.net, self.m = net, m
        self.lmbda, self.n = float(lmbda), float(n if n is not None else data.n)
        opt = optimizer_from(None if optimizer == "sgd" else optimizer, momentum or None)
        self.transform = training_chain(opt, 1.0, self.lmbda / self.n)
        self.engine = net.engine()

    def cost(self, params) -> float:
        xp = self.net.backend.xp
        a = feedforward(params, self.net.activations, self.probe_x)
        c = xp.mean(self.net.cost.fn(a, self.probe_y))
        if self.lmbda:
            c = c + 0.5 * (self.lmbda / self.n) * sum(xp.sum(w * w) for w, _ in params)
        return float(c)

    def run(self, etas) -> list:
        """Costs before training and after each segment, eta ``etas[s]`` in segment s.  Trials
        above the threshold may overflow: that is their verdict, not an error to report."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return self._run(etas)

    def _run(self, etas) -> list:
        params, be = self.net.params, self.net.backend
        state = self.transform.init(params)
        costs = [self.cost(params)]
        for eta, segment in zip(etas, self.segments):
            state = set_hyper(state, eta=be.asarray(float(eta), self.net.dtype))
            params, state = self.engine.run_epoch(self.transform, params, state, segment, None,
                                                  self.m)
            costs.append(self.cost(params))
            if not math.isfinite(costs[-1]):
                costs += [math.nan] * (len(self.segments) + 1 - len(costs))
                break
        return costs


def decreases(costs, tolerance=0.0) -> bool:
    """The book's test: the cost goes down from check to check (rising by at most
    ``tolerance``, relative) and ends below where it started."""
    if not all(math.isfinite(c) for c in costs):
        return False
    steady = all(b <= a + tolerance * abs(a) for a, b in zip(costs, costs[1:]))
    return steady and costs[-1] < costs[0]


def _book(runner, start, refine_steps, tolerance, eta_min, eta_max, progress):
    trials = {}

    def trial(eta):
        if eta not in trials:
            costs = runner.run([eta] * len(runner.segments))
            trials[eta] = Trial(eta, costs, decreases(costs, tolerance))
            if progress:
                print(f"eta {eta:.4g}: {'decreases' if trials[eta].decreases else 'does not'}"
                      f" ({' '.join(f'{c:.4g}' for c in costs)})", flush=True)
        return trials[eta].decreases

    eta = float(start)
    if trial(eta):
        lo, hi = eta, None
        while hi is None and lo * 10 <= eta_max:
            hi = None if trial(lo * 10) else lo * 10
            lo = lo if hi is not None else lo * 10
    else:
        lo, hi = None, eta
        while lo is None and hi / 10 >= eta_min:
            lo = hi / 10 if trial(hi / 10) else None
            hi = hi if lo is not None else hi / 10
    if lo is not None and hi is not None:
        for _ in range(int(refine_steps)):
            mid = float(f"{math.sqrt(lo * hi):.3g}")
            if not lo < mid < hi:
                break
            if trial(mid):
                lo = mid
            else:
                hi = mid
    return lo, list(trials.values())


def _sweep(runner, eta_min, eta_max, tolerance):
    k = len(runner.segments)
    etas = [eta_min * (eta_max / eta_min) ** (s / (k - 1 if k > 1 else 1)) for s in range(k)]
    costs = runner.run(etas)
    trials = [Trial(eta, [before, after], decreases([before, after], tolerance))
              for eta, before, after in zip(etas, costs, costs[1:])]
    for i, trial in enumerate(trials):
        if not trial.decreases:  # the first segment whose cost rose: the eta before it
            return (etas[i - 1] if i > 0 else None), trials
    return etas[-1], trials
