"""A training run's plan: SGD's arguments checked once, for every shell (Network, Population,
nnxp.compat), and the optimizer update they imply.

    make_plan(epochs, mini_batch_size, eta, *, members=None, lmbda=0.0, l1=0.0, momentum=None,
              nesterov=False, optimizer=None, shuffle=True, engine=None, early_stopping=None,
              schedule=None, monitor_every=None, monitor_subset=None, on_divergence="stop",
              evaluation=False, checkpoint=False, **monitors) -> (Plan, optimizer)
    transform_for(plan, optimizer, n, members=None) -> optimizers.Transform
                                                the whole update of a step (training_chain)
    check_monitoring(monitor_every, monitor_subset)   monitor_subset only with monitor_every
    check_batches(plan, n)                      monitor_every below an epoch's mini-batches
    check_every(monitor_every, m, n)            the same for one mini-batch size (searches)
                                                (the shells, once the data's size is known)
    Plan                                                          see the dataclass

``members`` is None for one network (every hyper-parameter one number) and K for a population
(eta, lmbda, l1 and momentum may each be one number or K, one per member).  ``eta`` may also be
a function of the epoch (returning one number or K).  ``monitors`` are network2's four
``monitor_*`` flags.  ``checkpoint=True`` refuses an optimizer that cannot be saved (not
registered: optimizers.register_optimizer) before anything is trained.  Errors say what was
expected and what was given (checks.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import checks
from .errors import ConfigError
from .optimizers import optimizer_from, training_chain

__all__ = ["Plan", "make_plan", "transform_for", "check_monitoring", "check_batches",
           "check_every", "MONITORS"]

MONITORS = ("monitor_evaluation_cost", "monitor_evaluation_accuracy", "monitor_training_cost",
            "monitor_training_accuracy")


@dataclass
class Plan:
    """What a training run was asked to do (JSON-safe but for an eta function)."""

    epochs: int
    mini_batch_size: int
    eta: object                       # a number, one per member, or a function epoch -> eta
    lmbda: object = 0.0               # a number or one per member
    l1: object = 0.0
    optimizer: dict | None = field(default_factory=lambda: {"name": "sgd"})
    shuffle: object = True            # True, False or an integer seed
    engine: str | None = None
    early_stopping: int | None = None
    schedule: int | None = None
    monitor_every: int | None = None
    monitor_subset: int | None = None
    monitor_evaluation_cost: bool = False
    monitor_evaluation_accuracy: bool = False
    monitor_training_cost: bool = False
    monitor_training_accuracy: bool = False
    on_divergence: str = "stop"

    def needs_evaluation(self) -> bool:
        return bool(self.monitor_evaluation_cost or self.monitor_evaluation_accuracy
                    or self.early_stopping or self.schedule or self.monitor_every)


def _nonnegative(name, v):
    return checks.number(name, v, strict=False)


def _momentum(name, v):
    v = checks.number(name, v, strict=False)
    if v >= 1.0:
        raise ConfigError(f"{name} must be in [0, 1), got {v!r}")
    return v


def make_plan(epochs, mini_batch_size, eta, *, members=None, lmbda=0.0, l1=0.0, momentum=None,
              nesterov=False, optimizer=None, shuffle=True, engine=None, early_stopping=None,
              schedule=None, monitor_every=None, monitor_subset=None, on_divergence="stop",
              evaluation=False, checkpoint=False, **monitors):
    """Check SGD's arguments; return the Plan and the optimizer (see the module docstring)."""
    checks.unknown("SGD", monitors, MONITORS)
    epochs = checks.number("epochs", epochs, strict=False, integer=True)
    mini_batch_size = checks.number("mini_batch_size", mini_batch_size, integer=True)
    if not callable(eta):
        eta = checks.per_member("eta", eta, members, checks.number)
    if isinstance(lmbda, (list, tuple)) and lmbda and isinstance(lmbda[0], (list, tuple)):
        raise ConfigError(f"lmbda (SGD's fifth argument) must be a number, got data "
                          f"({checks.show(lmbda)}): network.py's SGD takes test_data there, "
                          "network2's takes lmbda; pass evaluation_data=... (or use "
                          "nnxp.compat.network for chapter 1's program)")
    lmbda = checks.per_member("lmbda", lmbda, members, _nonnegative)
    l1 = checks.per_member("l1", l1, members, _nonnegative)
    if momentum is not None:
        momentum = checks.per_member("momentum", momentum, members, _momentum)
    nesterov = checks.flag("nesterov", nesterov)  # np.True_ too, as every flag
    opt = optimizer_from(optimizer, momentum, nesterov)
    for name, value in opt.hyper.items():
        if isinstance(value, (list, tuple)) and len(value) != (members or 0):
            raise ConfigError(f"the optimizer's {name} lists {len(value)} values: one per "
                              f"member needs a Population of {len(value)}"
                              + ("" if members is None else f" (this one has {members})"))
    if checkpoint and opt.config is None:
        raise ConfigError("a checkpoint saves the optimizer by its registered name and "
                          "arguments; optimizer= is an unregistered transform: register its "
                          "factory (nnxp.register_optimizer(name, factory)) and pass "
                          "factory(...), or train without a checkpoint")
    counts = {name: checks.optional_int(name, value) for name, value in (
        ("early_stopping", early_stopping), ("schedule", schedule),
        ("monitor_every", monitor_every), ("monitor_subset", monitor_subset))}
    check_monitoring(counts["monitor_every"], counts["monitor_subset"])
    flags = {name: checks.flag(name, monitors.get(name, False)) for name in MONITORS}
    if not isinstance(on_divergence, str) or on_divergence not in ("stop", "continue"):
        raise ConfigError(f"on_divergence must be 'stop' or 'continue', got "
                          f"{checks.show(on_divergence)}")
    plan = Plan(epochs, mini_batch_size, eta, lmbda, l1, opt.config, checks.shuffle(shuffle),
                checks.engine(engine), **counts, **flags, on_divergence=on_divergence)
    if plan.needs_evaluation() and not evaluation:
        raise ConfigError("monitor_evaluation_cost / monitor_evaluation_accuracy, "
                          "early_stopping, schedule and monitor_every need evaluation_data")
    if callable(eta) and (schedule or checkpoint):
        raise ConfigError("a learning-rate function cannot be combined with schedule= (which "
                          "halves a number) or with a checkpoint (which cannot store it); give "
                          "eta as a number")
    return plan, opt


def check_monitoring(monitor_every, monitor_subset) -> None:
    """``monitor_subset`` only with ``monitor_every`` (checked ints or None): alone it would be
    ignored."""
    if monitor_subset is not None and monitor_every is None:
        raise ConfigError(f"monitor_subset={monitor_subset} is the number of evaluation "
                          "examples measured every k mini-batches (monitor_every=k); without "
                          "monitor_every it would be ignored (the epoch's end measures all of "
                          "evaluation_data): give monitor_every too, or leave monitor_subset out")


def check_batches(plan, n) -> None:
    """``plan.monitor_every`` against a training set of ``n`` examples: measurements happen
    within an epoch, after every k mini-batches but the last, so k must be below the epoch's
    number of mini-batches, or nothing would ever be measured."""
    check_every(plan.monitor_every, plan.mini_batch_size, n)


def check_every(every, m, n) -> None:
    """check_batches for ``monitor_every=every`` (or None), mini-batches of ``m``, ``n``
    training examples."""
    batches = -(-n // m)
    if every is not None and every >= batches:
        raise ConfigError(f"monitor_every={every} measures after every {every} mini-batches "
                          f"within an epoch (the count starts again each epoch; the epoch's "
                          f"end is measured by monitor_evaluation_*), but an epoch of {n} "
                          f"examples in mini-batches of {m} has {batches}: nothing would be "
                          f"measured; use monitor_every below {batches}"
                          + (" (or smaller mini-batches)" if batches == 1 else ""))


def transform_for(plan, optimizer, n, members=None):
    """The update of one step for a training set of ``n`` examples: decay lmbda/n, L1 l1/n
    (left out of the computation when l1 is 0 for every member), the optimizer and eta
    (optimizers.training_chain).  eta starts at the plan's (1.0 for a function of the
    epoch); the loop writes each epoch's into the state's dict."""
    k = members or 1
    decay = [lmbda / n for lmbda in checks.each(plan.lmbda, k)]
    l1 = [v / n for v in checks.each(plan.l1, k)]
    eta = [1.0] * k if callable(plan.eta) else checks.each(plan.eta, k)
    one = (lambda v: v[0]) if members is None else (lambda v: v)
    return training_chain(optimizer, one(eta), one(decay), one(l1) if any(l1) else None)
