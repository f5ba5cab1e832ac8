"""The learning-rate threshold finder: the book's procedure for choosing eta (chapter 3).

    find_learning_rate(net, training_data, *, mini_batch_size=10, lmbda=0.0, n=None,
                       start=None, mode="book", budget_batches=None, n_train=10000,
                       checks=None, refine_steps=3, tolerance=0.02, seed=0, optimizer="sgd",
                       momentum=None, eta_min=1e-4, eta_max=1e2, progress=False) -> LRResult
    LRResult(threshold, recommended, trials, mode, seconds, rule)
    EtaTrial(eta, costs, decreases, verdict) costs[0] is the cost before training
    judge(costs, tolerance) -> verdict       "decreases", "slow", "flat", "oscillates",
                                             "rises" or "diverges" (book mode: also "worse")
    book_search(runner, start, ...) / sweep_search(runner, eta_min, ...) -> (threshold, trials)
                                             the two searches, for any runner with ``checks``
                                             and ``run(etas) -> costs`` (Runner: the network's)

``net`` is a Network (every trial starts from a copy of its current parameters, so all trials
start from the same network) or a function of no arguments returning a fresh Network.

mode="book" is Nielsen's procedure: find the threshold eta at which the training cost starts
to decrease during the first few epochs, instead of oscillating or increasing.  A trial trains
``budget_batches`` mini-batches on a training subset of ``n_train`` examples drawn with
``seed``; a mini-batch larger than the subset is the whole subset (full-batch gradient descent
on ``n_train`` examples: its stability threshold depends on the curvature of the mean cost,
which a subset of that size estimates, at a fraction of the cost of a full pass over a large
training set per step).  The default budget is five epochs of the subset and at least
200 mini-batches: 5,000 at mini-batch 10 on MNIST (one epoch's worth of steps of its 50,000),
200 at mini-batch 5,000 (large batches take few steps per epoch, and a cost that is going to
oscillate may need a hundred or more before it does).  The trial measures the training cost
(mean cost plus the L2 term, on up to 2,000 examples of the subset) before training and at
``checks`` (default 10; at least BOOK_CHECKS = 4) equal segments; each check is the mean of
SNAPSHOTS = 4 measurements spread over its segment, the cost smoothed over many mini-batches.
``judge`` reads the curve so that no single noisy check decides:

    diverges   a cost is NaN or infinite
    rises      the first check is above the cost before training, or two checks in a row are
               more than ``tolerance`` (relative) above the lowest check before them
    oscillates the cost rose by more than ``tolerance`` from one check to the next on at
               least two, and a quarter (OSCILLATION), of the steps
    flat       from its first three checks to its last three (medians) the cost fell by less
               than its noise (the median second difference between checks, relative) or by
               less than 0.1% (FLAT), or it ended less than 0.1% below the start: a plateau
               (saturated or dead outputs give one, exactly) is not a decrease; a slow, steady
               fall is
    slow       flat, and less than 5% (SLOW) below the start: eta is too small to move the
               network yet (deep sigmoid networks start on such a plateau)
    worse      (book mode) it decreases, but ends (median of the last three checks) more than
               10% (WORSE) above where a smaller eta's trial ended: below the threshold larger
               steps end lower, so a larger eta that ends higher is past it (a cost that falls
               onto a plateau, or oscillates at a high level)
    decreases  none of these

Start at eta = ``start`` (default 0.01, or the nearer of ``eta_min`` and ``eta_max`` when
0.01 lies outside them; a ``start`` given outside them is tried, then the search goes the
other way); unless its cost rises, oscillates, diverges or ends worse, try 10x,
100x, ... until one does (going past slow starts and plateaus, which larger steps may leave);
otherwise try 1/10, 1/100, ... until the cost decreases.  Then refine between the largest
decreasing eta and the next larger one tried by ``refine_steps`` geometric bisections.  The
threshold is the largest eta found to decrease; the recommendation is half of it.  L2 weight
decay per step is eta lmbda / n with ``n`` the size of the full training set (default: the
size of ``training_data``), as in training on all of it.

mode="sweep" is the fast mode: one pass of ``budget_batches`` mini-batches in which eta grows
exponentially from ``eta_min`` to ``eta_max`` in ``checks`` steps (default: 4 per decade, on
equal segments), the cost measured after each.  The threshold is the eta at which the smoothed
cost (running median of three) was lowest before it first climbed ``tolerance`` above that low
(or diverged); the recommendation is half of it.  Quicker, and coarser: each segment starts where
the smaller etas left the network.

Memory does not grow with the mini-batch size or the budget: the subset is taken on the device
once (no copy when it is the whole training set), and each segment is gathered from it a chunk
at a time (at most the subset's size; full batches of the whole subset are not gathered).
Training uses the network's own engine (on JAX, compiled once for all trials), through
``Runner.train_chunk`` alone.  The subset and the order of its mini-batches come from Python's
``random.Random(seed)`` on the host, so every backend sees the same examples in the same order.
A network with dropout trains each segment with masks from a fresh stream of ``seed``
(masks.stream_for): every eta sees the same masks.
"""

from __future__ import annotations

import math
import random
import statistics
import time
import warnings
from dataclasses import dataclass, field

from . import checks as _checks
from .core import apply
from .data import Dataset
from .masks import stream_for
from .errors import ConfigError, InputTypeError
from .network import Network
from .optimizers import set_hyper
from .plan import make_plan, transform_for

__all__ = ["find_learning_rate", "LRResult", "EtaTrial", "judge", "book_search",
           "sweep_search"]

DEFAULT_START = 0.01  # book mode's first eta, within [eta_min, eta_max]
COST_PROBE = 2000   # examples of the subset the cost is measured on
MIN_BATCHES = 200   # the default budget's floor, in mini-batches
FLAT = 1e-3         # a smoothed cost that moves less than this (relative), or less than its
                    # noise, is flat
SNAPSHOTS = 4       # cost measurements per segment, averaged: one check
SLOW = 0.05         # a flat cost less than this (relative) below the start: eta is too small
OSCILLATION = 0.25  # rises on this share of the steps between checks (and 2 or more)
BOOK_CHECKS = 4     # book mode's fewest checks: judge compares the first three with the
                    # last three
WORSE = 0.1         # a trial ending this much (relative) above a smaller eta's is past the
                    # threshold: below it, larger steps end lower


@dataclass
class EtaTrial:
    """One eta tried: the training-cost curve (costs[0] before training) and the verdict."""

    eta: float
    costs: list
    decreases: bool
    verdict: str = ""


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
                            "decreases": t.decreases, "verdict": t.verdict}
                           for t in self.trials]}

    def __str__(self) -> str:
        lines = [f"learning-rate threshold ({self.mode} mode, {len(self.trials)} trials, "
                 f"{self.seconds:.1f} s): "
                 + ("none found" if self.threshold is None else
                    f"eta = {self.threshold:.3g}; recommended eta = {self.recommended:.3g}")]
        for t in sorted(self.trials, key=lambda t: t.eta):
            curve = " ".join(f"{c:.3g}" for c in t.costs)
            verdict = t.verdict or ("decreases" if t.decreases else "does not")
            lines.append(f"  eta {t.eta:<10.4g} {verdict:>10}   cost: {curve}")
        return "\n".join(lines)


def find_learning_rate(net, training_data, *, mini_batch_size=10, lmbda=0.0, n=None,
                       start=None, mode="book", budget_batches=None, n_train=10000,
                       checks=None, refine_steps=3, tolerance=0.02, seed=0, optimizer="sgd",
                       momentum=None, eta_min=1e-4, eta_max=1e2, progress=False) -> LRResult:
    """Find the threshold eta at which the training cost starts to decrease (module doc).

    >>> result = nnxp.find_learning_rate(net, (X, y), lmbda=5.0)     # doctest: +SKIP
    >>> result.threshold, result.recommended                          # doctest: +SKIP
    """
    began = time.perf_counter()
    mini_batch_size, n_train = (_checks.number(name, v, integer=True) for name, v in (
        ("mini_batch_size", mini_batch_size), ("n_train", n_train)))
    eta_min, eta_max = (_checks.number(name, v) for name, v in (
        ("eta_min", eta_min), ("eta_max", eta_max)))
    start = min(max(DEFAULT_START, eta_min), eta_max) if start is None else \
        _checks.number("start", start)
    budget_batches = _checks.optional_int("budget_batches", budget_batches)
    refine_steps = _checks.number("refine_steps", refine_steps, strict=False, integer=True)
    lmbda, tolerance = (_checks.number(name, v, strict=False) for name, v in (
        ("lmbda", lmbda), ("tolerance", tolerance)))
    if momentum is not None:  # None: the optimizer's own (0.9 for "momentum"), as in SGD
        momentum = _checks.number("momentum", momentum, strict=False)
    if n is not None:  # the full training set's size: decay eta lmbda / n per step
        n = _checks.number("n", n)
    seed = _checks.seed(seed)
    _checks.flag("progress", progress)
    if not isinstance(mode, str) or mode not in ("book", "sweep"):
        raise ConfigError(f"mode must be 'book' or 'sweep', got {_checks.show(mode)}")
    if eta_min >= eta_max or not math.isfinite(eta_max / eta_min):
        raise ConfigError(f"need eta_min < eta_max, with a finite ratio eta_max / eta_min (the "
                          f"sweep's etas are geometric); got eta_min={eta_min}, "
                          f"eta_max={eta_max}")
    if checks is None:
        checks = 10 if mode == "book" else 4 * round(math.log10(eta_max / eta_min)) + 1
    _checks.number("checks", checks, integer=True)
    if mode == "book" and checks < BOOK_CHECKS:
        raise ConfigError(f"mode='book' needs checks >= {BOOK_CHECKS}: a trial's verdict compares "
                          f"the median of its first three checks with that of its last three, "
                          f"which are the same with fewer (no eta could ever decrease); got "
                          f"checks={checks}")
    if isinstance(net, type):
        raise ConfigError(f"net must be a Network or a function returning one, got the class "
                          f"{net.__name__} (make the network first: net=nnxp.Network(...))")
    base = _call(net) if callable(net) and not isinstance(net, Network) else net
    if not isinstance(base, Network):
        raise ConfigError(f"net must be a Network or a function returning one, got "
                          f"{_checks.show(base)}")
    base._check_parameters("find_learning_rate")  # NaN costs would be blamed on every eta
    runner = Runner(base, training_data, mini_batch_size, lmbda, n, n_train, checks,
                     budget_batches, seed, optimizer, momentum)
    budget = runner.budget
    if mode == "book":
        threshold, trials = book_search(runner, start, refine_steps, tolerance, eta_min,
                                        eta_max, progress)
        rule = (f"decreases: over {budget} mini-batches of {mini_batch_size} the cost, "
                f"measured at {checks} checks (each the mean of {SNAPSHOTS} snapshots), fell "
                f"at once, never stayed two checks more than {tolerance:g} (relative) above "
                f"its lowest value, rose by more than that on fewer than 2 or "
                f"{OSCILLATION:.0%} of the steps, fell by more than its noise, and ended at "
                f"most {WORSE:g} above the trials of smaller etas")
    else:
        threshold, trials = sweep_search(runner, eta_min, eta_max, tolerance)
        rule = (f"sweep: eta from {eta_min:g} to {eta_max:g} in {checks} exponential steps "
                f"over {budget} mini-batches; threshold: the eta of the lowest smoothed cost "
                f"before it first climbed more than {tolerance:g} above it")
    return LRResult(threshold, None if threshold is None else threshold / 2, trials, mode,
                    time.perf_counter() - began, rule)


def _call(factory):
    """The network a factory of no arguments makes; one that needs arguments is an
    InputTypeError (its TypeError otherwise came from deep inside)."""
    import inspect
    try:
        inspect.signature(factory).bind()
    except TypeError as exc:
        raise InputTypeError(f"net is called with no arguments to make a fresh Network, but "
                             f"{_checks.show(factory)} needs some ({exc}); pass a Network, or "
                             f"a function of no arguments (e.g. lambda: nnxp.Network(sizes))"
                             ) from None
    except ValueError:  # no signature to read (some builtins): call it and see
        pass
    return factory()


class Runner:
    """Runs segments of mini-batches from the network's parameters and measures the cost:
    what ``book_search`` and ``sweep_search`` ask of a runner (``checks``, ``run(etas)``), on
    the network's engine (its compiled programs are shared with training)."""

    def __init__(self, net, training_data, m, lmbda, n, n_train, checks, budget, seed,
                 optimizer, momentum):
        be, xp = net.backend, net.backend.xp
        data = net.prepare(training_data, "training_data")
        n_full = n if n is not None else data.n
        n_sub = min(data.n, n_train)
        self.m = min(m, n_sub)  # a mini-batch larger than the subset is the whole subset
        self.budget = budget if budget is not None else max(5 * n_sub // self.m, MIN_BATCHES)
        if checks > self.budget:
            raise ConfigError(f"need checks <= budget_batches; got checks={checks}, "
                              f"budget_batches={self.budget}")
        self.rng = random.Random(seed)  # host randomness, the same on every backend
        if n_sub == data.n:
            self.data = data  # the whole training set: no copy
        else:
            rows = be.asarray(sorted(self.rng.sample(range(data.n), n_sub)), "index")
            self.data = Dataset(xp.take(data.x, rows, axis=0), xp.take(data.y, rows, axis=0),
                                xp.take(data.labels, rows, axis=0), n_sub)
        k = min(n_sub, COST_PROBE)
        self.probe_x, self.probe_y = self.data.x[:k, ...], self.data.y[:k, ...]
        self.per_segment = (self.budget // checks) * self.m   # examples per segment
        self.chunk = max(self.m, (n_sub // self.m) * self.m)  # rows gathered at a time
        self.orders = [self._order(n_sub) for _ in range(checks)]
        self.net, self.checks = net, checks
        self.lmbda, self.n = float(lmbda), float(n_full)
        plan, opt = make_plan(1, self.m, 1.0, lmbda=self.lmbda, momentum=momentum,
                              optimizer=None if optimizer == "sgd" else optimizer,
                              shuffle=False)
        self.transform = transform_for(plan, opt, self.n)  # decay lmbda / n, as in training
        self.engine = net.engine()
        self.seed = seed

    def train_chunk(self, params, state, chunk, eta):
        """One pass over the Dataset ``chunk`` in its order, at ``eta``, from (params, state):
        the one place that touches the training engine."""
        state = set_hyper(state, eta=self.net.backend.asarray(float(eta), self.net.dtype))
        masks = stream_for(self.net.spec, [self.seed])
        return self.engine.run_epoch(self.transform, params, state, chunk, None, self.m,
                                     masks=masks)

    def _order(self, n_sub) -> list:
        """One segment's example indices: passes over the subset, each shuffled."""
        order = []
        while len(order) < self.per_segment:
            order += self.rng.sample(range(n_sub), n_sub)
        return order[:self.per_segment]

    def cost(self, params) -> float:
        xp = self.net.backend.xp
        a = apply(self.net.spec, params, self.probe_x)
        c = xp.mean(self.net.cost.fn(a, self.probe_y))
        if self.lmbda:  # every layer's weights (its first parameter), never the biases
            c = c + 0.5 * (self.lmbda / self.n) * sum(xp.sum(p[0] * p[0])
                                                      for p in params if len(p))
        return float(c)

    def run(self, etas) -> list:
        """Costs before training and after each segment, eta ``etas[s]`` in segment s.  Trials
        above the threshold may overflow: that is their verdict, not an error to report."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return self._run(etas)

    def _run(self, etas) -> list:
        params = self.net.params
        state = self.transform.init(params)
        costs = [self.cost(params)]
        for eta, order in zip(etas, self.orders):
            snapshots = []
            for piece in _pieces(order, self.m, SNAPSHOTS):
                params, state = self._train(params, state, piece, eta)
                snapshots.append(self.cost(params))
                if not math.isfinite(snapshots[-1]):
                    break
            costs.append(math.fsum(snapshots) / len(snapshots))
            if not math.isfinite(costs[-1]):
                costs += [math.nan] * (self.checks + 1 - len(costs))
                break
        return costs

    def _train(self, params, state, order, eta):
        """Train on the subset's rows ``order``, gathered a chunk at a time (full batches of
        the whole subset need no gathering: their order does not change the gradient)."""
        be, xp = self.net.backend, self.net.backend.xp
        if self.m == self.data.n:
            for _ in range(len(order) // self.m):
                params, state = self.train_chunk(params, state, self.data, eta)
            return params, state
        for i in range(0, len(order), self.chunk):
            rows = be.asarray(order[i:i + self.chunk], "index")
            chunk = Dataset(xp.take(self.data.x, rows, axis=0), xp.take(self.data.y, rows, axis=0),
                            xp.take(self.data.labels, rows, axis=0), int(rows.shape[0]))
            params, state = self.train_chunk(params, state, chunk, eta)
        return params, state


def _pieces(order, m, k) -> list:
    """``order`` cut at mini-batch boundaries into at most ``k`` nearly equal pieces."""
    batches = -(-len(order) // m)
    k = max(1, min(k, batches))
    cuts = [round(i * batches / k) * m for i in range(k + 1)]
    return [order[a:b] for a, b in zip(cuts, cuts[1:]) if a < b]


def smooth(values) -> list:
    """Running median of three; at the two ends, the median of the three nearest values (so
    that one noisy last check cannot decide either)."""
    if len(values) < 3:
        return list(values)
    k = len(values)
    return [statistics.median(values[min(max(i - 1, 0), k - 3):][:3]) for i in range(k)]


def _end(values) -> float:
    """The cost a trial ended at: the median of its last three checks."""
    return statistics.median(values[-3:])


def judge(costs, tolerance=0.02) -> str:
    """The verdict on a trial's costs (costs[0] before training, then at least one check):
    see the module doc."""
    if isinstance(costs, (str, bytes)) or not hasattr(costs, "__len__") or len(costs) < 2:
        raise ConfigError(f"costs must be a list of the cost before training and after each "
                          f"check (at least two numbers), got {_checks.show(costs)}")
    if not all(math.isfinite(c) for c in costs):
        return "diverges"
    start, c = costs[0], costs[1:]
    if c[0] > start or _climbs(c, tolerance):
        return "rises"
    ups = sum(1 for a, b in zip(c, c[1:]) if b > a * (1 + tolerance))
    if ups >= 2 and ups >= OSCILLATION * (len(c) - 1):
        return "oscillates"
    head, end = statistics.median(c[:3]), _end(c)
    fall = (head - end) / abs(head) if head else 0.0
    if fall <= max(FLAT, _noise(c)) or start - end <= FLAT * abs(start):
        return "slow" if start - end < SLOW * abs(start) else "flat"
    return "decreases"


def _climbs(values, tolerance) -> bool:
    """Two checks in a row more than ``tolerance`` above the lowest one before them (one noisy
    check is not a climb, wherever it falls)."""
    low = values[0]
    for a, b in zip(values[1:], values[2:]):
        if min(a, b) > low * (1 + tolerance):
            return True
        low = min(low, a)
    return False


def _noise(values) -> float:
    """How irregular the checks are: the median of their second differences, relative
    (0 for a steady fall, however slow, and small for a smoothly slowing one)."""
    bends = [abs(a - 2 * b + c) / abs(b) if b else 0.0
             for a, b, c in zip(values, values[1:], values[2:])]
    return statistics.median(bends) if bends else 0.0


_PAST = ("rises", "oscillates", "diverges", "worse")  # verdicts of an eta past the threshold


def book_search(runner, start=0.01, refine_steps=3, tolerance=0.02, eta_min=1e-4, eta_max=1e2,
                progress=False):
    """The book's procedure (module doc) with any ``runner``: an object with ``checks`` and
    ``run(etas) -> costs`` (the cost before training and after each of the ``checks``
    segments, eta ``etas[s]`` in segment s), such as ``Runner``.  Returns (threshold, trials)."""
    trials = {}

    def trial(eta):
        if eta not in trials:
            costs = runner.run([eta] * runner.checks)
            verdict = judge(costs, tolerance)
            if verdict == "decreases" and _worse(costs, trials, eta):
                verdict = "worse"
            trials[eta] = EtaTrial(eta, costs, verdict == "decreases", verdict)
            if progress:
                print(f"eta {eta:.4g}: {verdict} ({' '.join(f'{c:.4g}' for c in costs)})",
                      flush=True)
        return trials[eta].verdict

    eta = float(start)
    if trial(eta) not in _PAST:              # up, 10x at a time, past slow starts and plateaus
        while trials[eta].verdict not in _PAST and eta * 10 <= eta_max:
            eta *= 10
            trial(eta)
    else:                                    # down, 10x at a time, until it decreases
        while eta / 10 >= eta_min and trial(eta / 10) != "decreases":
            eta /= 10
    good = [e for e, t in trials.items() if t.decreases]
    lo = max(good) if good else None
    above = [e for e in trials if lo is not None and e > lo]
    hi = min(above) if above else None
    if lo is not None and hi is not None:
        for _ in range(int(refine_steps)):
            mid = float(f"{math.sqrt(lo * hi):.3g}")
            if not lo < mid < hi:
                break
            if trial(mid) == "decreases":
                lo = mid
            else:
                hi = mid
    return lo, list(trials.values())


def _worse(costs, trials, eta) -> bool:
    """True when the final cost (median of the last 3 checks) is WORSE above that of a
    smaller eta tried."""
    end = _end(costs[1:])
    ends = [_end(t.costs[1:]) for e, t in trials.items()
            if e < eta and all(math.isfinite(c) for c in t.costs)]
    return bool(ends) and end > (1 + WORSE) * min(ends)


def sweep_search(runner, eta_min=1e-4, eta_max=1e2, tolerance=0.02):
    """The fast mode with any ``runner`` (as ``book_search``): one pass with eta growing
    segment by segment.  Each EtaTrial is one segment (its cost
    before and after, its verdict read from those two); the threshold is the eta at which the
    smoothed cost was lowest before it first climbed ``tolerance`` above that low (or
    diverged)."""
    k = runner.checks
    etas = [eta_min * (eta_max / eta_min) ** (s / (k - 1 if k > 1 else 1)) for s in range(k)]
    costs = runner.run(etas)
    trials = []
    for eta, before, after in zip(etas, costs, costs[1:]):
        verdict = ("diverges" if not math.isfinite(after) else
                   "decreases" if after < before else "rises")
        trials.append(EtaTrial(eta, [before, after], verdict == "decreases", verdict))
    s = smooth([c if math.isfinite(c) else math.inf for c in costs[1:]])
    best = None
    for i, value in enumerate(s):
        if not math.isfinite(value) or (best is not None and value > s[best] * (1 + tolerance)):
            break
        if best is None or value < s[best]:
            best = i
    return (None if best is None else etas[best]), trials
