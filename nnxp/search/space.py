"""Search spaces: what a trial may vary, checked once, as grids or as random draws.

    HYPER                  the hyper-parameters a space may name, and their defaults
    grid_points(space) -> [dict]            every combination, the first key varying slowest
    random_points(space, n, rng) -> [dict]  n draws, keys drawn in the space's order
    loguniform(low, high), uniform(low, high), choice(values)    distributions for random
    eta_range(lr_result, decades=1.0) -> loguniform              from nnxp.find_learning_rate

A space is a dict {name: values}.  For a grid, values is a list of choices (a single value is
fixed; for ``sizes`` a list of ints is one value, a list of lists the choices).  For random
search, a list is a choice drawn uniformly, a pair ``(low, high)`` a range (log-uniform for
eta, lmbda and l1; uniform for momentum), and a distribution is one of the above or any object
with scipy's ``rvs(random_state=...)``.  Names and defaults:

    sizes            required; e.g. [784, 30, 10] or [[784, 30, 10], [784, 100, 10]]
    activation       "Sigmoid"      hidden layers (a name, class or instance: LeakyReLU(0.01))
    cost             "CrossEntropyCost"
    dtype            "float32"
    mini_batch_size  the search's ``mini_batch_size`` argument
    initializer      "default"      weights: default, large, he, glorot (or a function (rng, shape))
    momentum         0.0            0 is plain SGD
    nesterov         False
    eta              required
    lmbda            0.0
    l1               0.0

``normalize(point)`` checks a point and gives every name (in HYPER's order) a JSON-safe value
(activation, cost and initializer by name) for the records, and the objects to build it with.
"""

from __future__ import annotations

import itertools
import math
import numbers

from .. import checks
from ..activations import as_activation
from ..costs import cost_from_name
from ..errors import ConfigError
from ..initializers import WEIGHT_INITIALIZERS

__all__ = ["HYPER", "PER_MEMBER", "grid_points", "random_points", "normalize", "loguniform",
           "uniform", "choice", "eta_range", "check_space"]

HYPER = {"sizes": None, "activation": "Sigmoid", "cost": "CrossEntropyCost",
         "dtype": "float32", "mini_batch_size": None, "initializer": "default",
         "momentum": 0.0, "nesterov": False, "eta": None, "lmbda": 0.0, "l1": 0.0}
PER_MEMBER = ("eta", "lmbda", "l1", "momentum")   # may differ inside one population
LOG_RANGES = ("eta", "lmbda", "l1")


class loguniform:
    """exp(U(log low, log high)): every decade between low and high equally likely."""

    def __init__(self, low, high):
        self.low = checks.number("loguniform low", low)
        self.high = checks.number("loguniform high", high)
        if self.high <= self.low:
            raise ConfigError(f"loguniform needs low < high, got ({low!r}, {high!r})")

    def sample(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def __repr__(self):
        return f"loguniform({self.low!r}, {self.high!r})"


class uniform:
    """U(low, high)."""

    def __init__(self, low, high):
        self.low = checks.number("uniform low", low, strict=False)
        self.high = checks.number("uniform high", high, strict=False)
        if self.high <= self.low:
            raise ConfigError(f"uniform needs low < high, got ({low!r}, {high!r})")

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def __repr__(self):
        return f"uniform({self.low!r}, {self.high!r})"


class choice:
    """One of ``values``, each equally likely."""

    def __init__(self, values):
        self.values = list(values)
        if not self.values:
            raise ConfigError("choice needs at least one value")

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def __repr__(self):
        return f"choice({self.values!r})"


def eta_range(lr_result, decades=1.0) -> loguniform:
    """Log-uniform etas from ``decades`` decades below the threshold of
    ``nnxp.find_learning_rate`` up to it (the book: the threshold is where the cost starts to
    oscillate; good values lie somewhat below it).

    >>> lr = nnxp.find_learning_rate(nnxp.Network([784, 30, 10]), train)  # doctest: +SKIP
    >>> space = {"sizes": [784, 30, 10], "eta": eta_range(lr)}               # doctest: +SKIP
    """
    threshold = getattr(lr_result, "threshold", None)
    if threshold is None:
        raise ConfigError(f"eta_range needs a result of nnxp.find_learning_rate with a "
                          f"threshold, got {checks.show(lr_result)}")
    decades = checks.number("decades", decades)
    return loguniform(threshold / 10 ** decades, threshold)


def check_space(space, what) -> dict:
    if not isinstance(space, dict) or not space:
        raise ConfigError(f"{what}: space must be a dict of hyper-parameters such as "
                          f"{{'sizes': [784, 30, 10], 'eta': [0.1, 1.0]}}; got "
                          f"{checks.show(space)}")
    unknown = [k for k in space if k not in HYPER]
    if unknown:
        raise ConfigError(f"{what}: unknown hyper-parameters {checks.show(unknown)}; a space "
                          f"names some of {', '.join(HYPER)}")
    if "sizes" not in space or "eta" not in space:
        raise ConfigError(f"{what}: the space must give 'sizes' and 'eta' (got "
                          f"{', '.join(space)})")
    return space


def _choices(name, values):
    """A grid entry as a list of choices."""
    if name == "sizes" and isinstance(values, (list, tuple)) and values and \
            all(isinstance(v, numbers.Integral) for v in values):
        return [list(values)]
    if isinstance(values, tuple) and name in LOG_RANGES + ("momentum",):
        raise ConfigError(f"grid: {name} is a range {checks.show(values)}; a grid needs a "
                          "list of values (ranges are for nnxp.search.random and halving)")
    if isinstance(values, (list, tuple)):
        if not values:
            raise ConfigError(f"grid: {name} lists no values")
        return list(values)
    if isinstance(values, (loguniform, uniform)) or hasattr(values, "rvs"):
        raise ConfigError(f"grid: {name} is a distribution ({checks.show(values)}); a grid "
                          "needs a list of values (use nnxp.search.random for distributions)")
    if isinstance(values, choice):
        return list(values.values)
    return [values]


def grid_points(space) -> list:
    """Every combination of the space's choices, the first key varying slowest."""
    names = list(space)
    lists = [_choices(name, space[name]) for name in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*lists)]


def _sampler(name, values):
    if name == "sizes" and isinstance(values, (list, tuple)) and values and \
            all(isinstance(v, numbers.Integral) for v in values):
        return lambda rng: list(values)
    if isinstance(values, tuple) and len(values) == 2 and \
            all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        if name in LOG_RANGES:
            return loguniform(*values).sample
        if name == "momentum":
            return uniform(*values).sample
        raise ConfigError(f"random: a range (low, high) is for eta, lmbda, l1 and momentum; "
                          f"give {name} as a list of choices")
    if isinstance(values, (loguniform, uniform, choice)):
        return values.sample
    if hasattr(values, "rvs"):
        return lambda rng: _scalar(values.rvs(random_state=rng))
    if isinstance(values, list):
        return choice(values).sample
    return lambda rng: values


def _scalar(v):
    return v.item() if hasattr(v, "item") else v


def random_points(space, n, rng) -> list:
    """``n`` points drawn with ``rng`` (a numpy Generator), one key after another in the
    space's order, so the same seed gives the same points."""
    samplers = [(name, _sampler(name, values)) for name, values in space.items()]
    return [{name: draw(rng) for name, draw in samplers} for _ in range(n)]


def normalize(point, mini_batch_size) -> tuple:
    """(params, build): every hyper-parameter checked, ``params`` JSON-safe in HYPER's order,
    ``build`` the objects a worker builds the network with."""
    given = dict(HYPER, mini_batch_size=mini_batch_size)
    given.update(point)
    try:
        sizes = checks.sizes(given["sizes"])
        activation = as_activation(given["activation"])
        cost = cost_from_name(given["cost"])
        dtype = checks.dtype(given["dtype"])
        mbs = checks.number("mini_batch_size", given["mini_batch_size"], integer=True)
        init = given["initializer"]
        if isinstance(init, str) and init.lower() in WEIGHT_INITIALIZERS:
            init_name, init_fn = init.lower(), WEIGHT_INITIALIZERS[init.lower()]
        elif callable(init):
            init_name, init_fn = getattr(init, "__name__", repr(init)), init
        else:
            raise ConfigError(f"initializer must be one of {', '.join(WEIGHT_INITIALIZERS)} "
                              f"or a function (rng, shape) -> array, got {checks.show(init)}")
        momentum = checks.number("momentum", given["momentum"], strict=False)
        if momentum >= 1:
            raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}")
        nesterov = given["nesterov"]
        if not isinstance(nesterov, bool):
            raise ConfigError(f"nesterov must be True or False, got {checks.show(nesterov)}")
        eta = checks.number("eta", given["eta"])
        lmbda = checks.number("lmbda", given["lmbda"], strict=False)
        l1 = checks.number("l1", given["l1"], strict=False)
    except ConfigError as exc:
        raise ConfigError(f"search space point {checks.show(point)}: {exc}") from None
    label = activation.name if activation.to_dict() == {"name": activation.name} \
        else repr(activation)
    params = {"sizes": sizes, "activation": label, "cost": cost.name, "dtype": dtype,
              "mini_batch_size": mbs, "initializer": init_name, "momentum": momentum,
              "nesterov": nesterov, "eta": eta, "lmbda": lmbda, "l1": l1}
    build = {"activation": activation, "cost": cost, "weight_init": init_fn}
    return params, build
