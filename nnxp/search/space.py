"""Search spaces: what a trial may vary, checked once, as grids or as random draws.

    HYPER                  the hyper-parameters a space may name, and their defaults
    grid_size(space) -> int                 the number of combinations, before making any
    grid_points(space) -> [dict]            every combination, the first key varying slowest
    random_points(space, n, rng) -> [dict]  n draws, keys drawn in the space's order
    check_count(what, n, epochs, max_trials) -> int    n within the bound (below)
    check_widths(trials, max_parameters)    every network within the bound (below)
    function_name(fn, what) -> str          a function's stable name: "module.qualname"
    source_digest(fn) -> str | None         a digest of its source as Python parses it (below)
    check_space(space, what) -> space       its names, and every architecture it lists (below)
    architectures(sizes, what) -> [entries] the architectures a space's ``sizes`` names
    check_dense_options(space, architectures, what)   activation and initializer reach a layer
    loguniform(low, high), uniform(low, high), choice(values)    distributions for random
    eta_range(lr_result, decades=1.0) -> loguniform              from nnxp.find_learning_rate

A space is a dict {name: values}.  For a grid, values is a list of choices (a single value is
fixed; for ``sizes`` a list of ints is one value, a list of lists the choices).  Every
strategy reads ``sizes`` alike: a list whose entries are not lists is one architecture, a
list of lists (or ``choice``) the choices, and each architecture is checked entry by entry
before anything is made: the input size (a positive int) first, then positive ints (dense
layers) and layer objects, at least two entries.  A float, a bool, a string, zero or a
negative width is a ConfigError naming the architecture, the entry, what it is and what was
expected (``[784, 3.0]``: "entry 1 is 3.0, a float; expected a positive int ...").  For random
search, a list is a choice drawn uniformly, a pair ``(low, high)`` a range (log-uniform for
eta, lmbda and l1; uniform for momentum), and a distribution is one of the above or any object
with scipy's ``rvs(random_state=...)``.  Names and defaults:

    sizes            required; e.g. [784, 30, 10] or [[784, 30, 10], [784, 100, 10]]
                     (or layered: [64, Reshape((1, 8, 8)), ConvPool(4, (3, 3)), ...])
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

A list, a tuple, a distribution (or a single value) are the only containers: a set (no
order) and a dict (whose keys would be read as the values) are refused.  A distribution's
``rvs(random_state=rng)`` must give one number per draw.  A range's ends (a pair,
``loguniform``, ``uniform``, never negative) lie within the values its name takes
(momentum: [0, 1]), so that no draw is refused (``check_range``): whether a search runs does
not depend on its seed.

Bounds, before anything is enumerated or allocated: a search has at most ``max_trials``
trials (``MAX_TRIALS`` unless the search is given ``max_trials=``; the grid's size is the
product of its lists' lengths, computed first), and each network at most ``max_parameters``
weights and biases (``MAX_PARAMETERS`` unless given).  The ConfigError gives the count and an
estimate of the memory it would take.

Functions (an initializer given as a function, an activation class not among nnxp's) are
named in the records by their module and qualified name, the one name that tells two
functions apart; a lambda or a function defined inside another function has no such name
(two of them may share it) and is refused: define it at module level.

``normalize(point)`` checks a point and gives every name (in HYPER's order) a JSON-safe value
(activation, cost and initializer by name) for the records, and the objects to build it with.
``sizes`` may also hold layer objects (nnxp.layers) as nnxp.Network takes them: the records
show such an architecture by its label, the build keeps its entries (architectures.py).

``activation`` and ``initializer`` reach the int entries of sizes only (the dense layers the
search builds); a layer object carries its own.  So, before anything is made
(``check_dense_options``, from ``check_space``): a space that gives either while none of its
architectures has an int entry after the input size is refused, as nnxp.Network refuses
``activation=`` / ``weight_init=`` there; and a space that varies either (more than one value
the records would tell apart, or a distribution) while one of its architectures has no int
entry is refused, naming that architecture: its trials would be one network under several
labels.  For ``activation``, an architecture whose only int entry is the output layer takes
it only where the output takes the hidden layers' activation (a cost without a default
output: QuadraticCost; core.dense_ignored), so for the space's every other cost it counts as
one without an int entry.  Put the activation in the layer objects (one architecture choice
per activation), or search such architectures in a space of their own.  Not given, they keep
their defaults, which no layer object takes.  A define-by-run point of nnxp.search.optuna is a space of one
architecture: it names neither for an architecture made only of layer objects.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import itertools
import math
import textwrap
import numbers
from collections.abc import Iterable

from .. import checks
from ..core import dense_ignored
from ..activations import as_activation, from_name
from ..costs import cost_from_name
from ..errors import ConfigError
from ..initializers import WEIGHT_INITIALIZERS
from .architectures import (architecture, check_entries, is_architecture, label,
                            shown, takes_dense_options)
from .architectures import parameters as count_parameters
from .architectures import spec as architecture_spec

__all__ = ["HYPER", "grid_size", "grid_points", "random_points", "normalize",
           "loguniform", "uniform", "choice", "eta_range", "check_space", "architectures",
           "check_dense_options", "check_count", "check_widths", "check_range", "function_name",
           "MAX_TRIALS", "MAX_PARAMETERS"]

HYPER = {"sizes": None, "activation": "Sigmoid", "cost": "CrossEntropyCost",
         "dtype": "float32", "mini_batch_size": None, "initializer": "default",
         "momentum": 0.0, "nesterov": False, "eta": None, "lmbda": 0.0, "l1": 0.0}
LOG_RANGES = ("eta", "lmbda", "l1")
MAX_TRIALS = 100_000          # a search's trials, unless max_trials= says otherwise
MAX_PARAMETERS = 100_000_000  # one network's weights and biases, unless max_parameters=
TRIAL_BYTES, EPOCH_BYTES = 4096, 256   # what a trial's point, record and history take, roughly


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
        _unordered("choice", "values", values)
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ConfigError(f"choice needs a list of values such as [0.1, 0.5] (a string "
                              f"would be split into its letters), got {checks.show(values)}")
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
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or \
            not math.isfinite(threshold) or threshold <= 0:
        raise ConfigError(f"eta_range needs a result of nnxp.find_learning_rate with a "
                          f"threshold (a positive learning rate), got {checks.show(lr_result)}"
                          + ("" if threshold is None else f" (threshold {checks.show(threshold)})"))
    decades = checks.number("decades", decades)
    low = float(threshold) * 10.0 ** -decades
    if low <= 0:
        raise ConfigError(f"eta_range: {decades!r} decades below the threshold {threshold!r} "
                          f"is below the smallest float; give fewer decades")
    return loguniform(low, threshold)


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
    check_dense_options(space, architectures(space["sizes"], what), what)
    return space


def _listed(value) -> bool:
    """A list of values: a list, a tuple or an array of one dimension or more."""
    return isinstance(value, (list, tuple)) or \
        hasattr(value, "tolist") and len(getattr(value, "shape", ())) >= 1


def architectures(values, what) -> list:
    """The architectures a space's ``sizes`` names, each checked entry by entry
    (architectures.check_entries): a list of ints and layer objects is one architecture, a
    list of such lists (or ``choice``) the choices; an array of one dimension is one
    architecture.  [] where none can be read before the search draws (a distribution, a
    single value: normalize checks each point)."""
    if isinstance(values, choice):
        values, listed = values.values, True
    elif isinstance(values, (list, tuple)):
        listed = any(_listed(v) for v in values)
    elif _listed(values) and len(values.shape) == 1:
        values, listed = values.tolist(), False
    else:
        return []
    if not listed:
        check_entries(values, f"{what}: the architecture sizes={shown(values)}")
        return [list(values)]
    out = []
    for i, v in enumerate(values):
        if not _listed(v):
            raise ConfigError(f"{what}: sizes lists architecture choices, but choice {i} is "
                              f"{checks.show(v)}; expected a list of ints and layer objects "
                              f"such as [784, 30, 10]")
        v = v.tolist() if hasattr(v, "tolist") else list(v)
        check_entries(v, f"{what}: sizes choice {i} {shown(v)}")
        out.append(v)
    return out


# the space's names that only int entries of sizes take (nnxp.Network's keyword), and how to
# give each to layer objects instead
DENSE_OPTIONS = {
    "activation": ("activation", "layers.Dense(100, 'ReLU'); one architecture choice per "
                   "activation"),
    "initializer": ("weight_init", "layers.Dense(100, weight_init=nnxp.initializers.he_weight); "
                    "one search per initializer, as labels leave initializers out")}


def _given_values(values) -> list | None:
    """The values a space's entry gives (a list, a tuple, ``choice``, a single value); None
    for a range or a distribution."""
    if isinstance(values, choice):
        return list(values.values)
    if isinstance(values, (loguniform, uniform)) or hasattr(values, "rvs"):
        return None
    return list(values) if isinstance(values, (list, tuple)) else [values]


def _recorded(name, value):
    """A dense option's value as the records name it (two values with one name are one), or
    its repr when it is none that nnxp takes (normalize refuses it later)."""
    try:
        return _activation_label(as_activation(value)) if name == "activation" else \
            _initializer(value)[0]
    except ConfigError:
        return checks.show(value)


def check_dense_options(space, choices, what) -> None:
    """ConfigError when the space gives ``activation`` or ``initializer`` and an architecture
    of ``choices`` has no int entry to take it (architectures.takes_dense_options), or, for
    ``activation``, when its only int entry is the output layer, whose activation is the
    cost's for every cost of the space (core.dense_ignored): given where no architecture
    takes it, nnxp.Network would refuse it (core.check_dense_options); varied where one does
    not, that architecture's trials would be one network under several labels."""
    costs = _costs(space)
    for name, (keyword, remedy) in DENSE_OPTIONS.items():
        if name not in space:
            continue
        ignoring = [(i, a) for i, a in enumerate(choices) if not takes_dense_options(a) or (
            name == "activation" and costs and all(dense_ignored(a, c, None) for c in costs))]
        if not ignoring:
            continue
        values = _given_values(space[name])
        names = None if values is None else \
            list(dict.fromkeys(_recorded(name, v) for v in values))
        varied = names is None or len(names) > 1
        copies = ", and the trials would be one network under several labels" if varied else ""
        given = checks.show(space[name] if names is None else names[0] if len(names) == 1
                            else names)
        where = "its architecture" if len(choices) == 1 else \
            f"architecture choice {ignoring[0][0]}" if len(ignoring) == 1 else \
            f"architecture choices {', '.join(str(i) for i, _ in ignoring)}"
        layered = checks.clip(label(ignoring[0][1]))
        plural = len(ignoring) > 1
        kind = (f"{'are' if plural else 'is'} made only of layer objects, which carry their "
                f"own" if not takes_dense_options(ignoring[0][1]) else
                f"{'have' if plural else 'has'} the output layer as {'their' if plural else 'its'}"
                f" only int entry, whose activation is the cost's")
        remedy = f"Put the {name} in the layer objects (e.g. {remedy})"
        if len(ignoring) == len(choices):
            raise ConfigError(
                f"{what}: the space gives {name} {given}, but {where} ({layered}) {kind}: "
                f"{name} would reach no layer{copies}. {remedy}, or leave {name} out of the "
                f"space (nnxp.Network refuses {keyword}= that would reach no layer)")
        if varied:
            raise ConfigError(
                f"{what}: the space varies {name} over {given}, but {where} ({layered}) {kind}: "
                f"{name} would reach no layer there, and those trials would be one network "
                f"under several labels. {remedy}, or search those architectures in a space of "
                f"their own, without {name}")


def _costs(space) -> list:
    """The cost classes a space's trials use (CrossEntropyCost when it gives none); [] when one
    cannot be read (check_space's other checks name it)."""
    values = _given_values(space.get("cost", "CrossEntropyCost"))
    try:
        return [cost_from_name(v) for v in values or []]
    except (ConfigError, TypeError):
        return []


def _unordered(what, name, values):
    if isinstance(values, (set, frozenset, dict)):
        kind = "a dict (its keys would be read as the values)" if isinstance(values, dict) \
            else "a set (it has no order, so the trials would not be repeatable)"
        raise ConfigError(f"{what}: {name} is {kind}: {checks.show(values)}; give a list of "
                          f"values such as [0.1, 0.5]")


def _choices(name, values):
    """A grid entry as a list of choices."""
    _unordered("grid", name, values)
    if name == "sizes" and is_architecture(values):
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


def grid_size(space) -> int:
    """The number of combinations (a product: nothing is enumerated)."""
    return math.prod(len(_choices(name, values)) for name, values in space.items())


def grid_points(space) -> list:
    """Every combination of the space's choices, the first key varying slowest (check its
    size with grid_size and check_count first)."""
    names = list(space)
    lists = [_choices(name, space[name]) for name in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*lists)]


def check_count(what, n, epochs, max_trials) -> int:
    """``n`` trials, refused when more than ``max_trials`` (None: MAX_TRIALS)."""
    limit = MAX_TRIALS if max_trials is None else \
        checks.number("max_trials", max_trials, integer=True)
    if n > limit:
        estimate = n * (TRIAL_BYTES + EPOCH_BYTES * max(1, int(epochs or 1)))
        raise ConfigError(f"{what} would run {n:,} trials, more than max_trials={limit:,}; "
                          f"their points, records and histories alone would take about "
                          f"{checks.nbytes(estimate)}; search a smaller space (or pass "
                          f"max_trials={n} if you really mean it)")
    return n


def parameters(sizes) -> int:
    """The numbers one network of ``sizes`` (dense sizes or layered entries) holds."""
    return count_parameters(sizes)


def check_widths(trials, max_parameters) -> None:
    """Every trial's network within ``max_parameters`` weights and biases (None:
    MAX_PARAMETERS), before any is built."""
    limit = MAX_PARAMETERS if max_parameters is None else \
        checks.number("max_parameters", max_parameters, integer=True)
    largest = max(trials, key=lambda t: parameters(t.build["sizes"]), default=None)
    if largest is None:
        return
    n = parameters(largest.build["sizes"])
    if n > limit:
        itemsize = 8 if largest.params["dtype"] == "float64" else 4
        raise ConfigError(f"trial {largest.number}'s network {checks.show(largest.params['sizes'])}"
                          f" has {n:,} weights and biases, more than max_parameters={limit:,}; "
                          f"they alone would take {checks.nbytes(n * itemsize)} (and training "
                          f"needs several times that); give smaller widths (or pass "
                          f"max_parameters={n} if you really mean it)")


def function_name(fn, what) -> str:
    """"module.qualname" of a function defined at a module's top level (or a class's)."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or \
            "<lambda>" in qualname or "<locals>" in qualname:
        raise ConfigError(f"{what} {checks.show(fn)} has no name of its own (a lambda, a "
                          f"function defined inside another, a partial): the search names "
                          f"it in its records, and two such functions could share a name; "
                          f"define it with def at a module's top level")
    return f"{module}.{qualname}"


def source_digest(fn) -> str | None:
    """A digest of ``fn``'s own source as Python parses it (its syntax tree: comments, blank
    lines, formatting and its docstring do not count; a changed range, name or statement
    does), or None where Python keeps no source (a function typed into ``python -``).  The
    functions it calls are not followed."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


RANGE_LIMITS = {"momentum": (0.0, 1.0)}   # loguniform and uniform are never negative


def check_range(what, name, dist):
    """``dist`` (a loguniform or uniform) within the values ``name`` takes, so that no draw
    is refused: whether a search ran would otherwise depend on its seed."""
    low, high = RANGE_LIMITS.get(name, (-math.inf, math.inf))
    if dist.low < low or dist.high > high:
        raise ConfigError(f"{what}: {name} ranges over {dist!r}, outside the values {name} takes "
                          f"([{low:g}, {high:g})): some draws "
                          f"would be refused, depending on the seed; give a range within it")
    return dist


def _sampler(name, values):
    _unordered("random", name, values)
    if name == "sizes" and is_architecture(values):
        return lambda rng: list(values)
    if isinstance(values, tuple) and len(values) == 2 and \
            all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        if name in LOG_RANGES:
            return check_range("random", name, loguniform(*values)).sample
        if name == "momentum":
            return check_range("random", name, uniform(*values)).sample
        raise ConfigError(f"random: a range (low, high) is for eta, lmbda, l1 and momentum; "
                          f"give {name} as a list of choices")
    if isinstance(values, (loguniform, uniform)):
        return check_range("random", name, values).sample
    if isinstance(values, choice):
        return values.sample
    if hasattr(values, "rvs"):
        return lambda rng: _scalar(name, values, values.rvs(random_state=rng))
    if isinstance(values, list):
        return choice(values).sample
    return lambda rng: values


def _scalar(name, dist, v):
    shape = getattr(v, "shape", None)
    if shape is not None and tuple(shape) != ():
        size = math.prod(tuple(shape))
        if size != 1:
            raise ConfigError(f"random: the distribution for {name} ({checks.show(dist)}) "
                              f"returned {checks.show(v)} from rvs(random_state=rng); "
                              f"expected one number per draw (a scipy.stats distribution "
                              f"without size=, e.g. scipy.stats.loguniform(0.01, 10))")
    return v.item() if hasattr(v, "item") else v


def random_points(space, n, rng) -> list:
    """``n`` points drawn with ``rng`` (a numpy Generator), one key after another in the
    space's order, so the same seed gives the same points."""
    samplers = [(name, _sampler(name, values)) for name, values in space.items()]
    return [{name: draw(rng) for name, draw in samplers} for _ in range(n)]


def _known_activation(activation) -> bool:
    """One of nnxp's own activation classes (not a subclass a user wrote)."""
    try:
        return type(from_name(activation.name)) is type(activation)
    except ConfigError:
        return False


def _activation_label(activation) -> str:
    """An activation object as the records name it."""
    name = activation.name if activation.to_dict() == {"name": activation.name} \
        else repr(activation)
    if not _known_activation(activation):
        name = f"{function_name(type(activation), 'the activation')}: {name}"
    return name


def _initializer(init) -> tuple:
    """(name for the records, function) of a space's initializer."""
    if isinstance(init, str) and init.lower() in WEIGHT_INITIALIZERS:
        return init.lower(), WEIGHT_INITIALIZERS[init.lower()]
    if callable(init):
        return function_name(init, "the initializer"), init
    raise ConfigError(f"initializer must be one of {', '.join(WEIGHT_INITIALIZERS)} "
                      f"or a function (rng, shape) -> array, got {checks.show(init)}")


def normalize(point, mini_batch_size) -> tuple:
    """(params, build): every hyper-parameter checked, ``params`` JSON-safe in HYPER's order,
    ``build`` the objects a worker builds the network with."""
    given = dict(HYPER, mini_batch_size=mini_batch_size)
    given.update(point)
    try:
        sizes, entries = architecture(given["sizes"])
        activation = as_activation(given["activation"])
        cost = cost_from_name(given["cost"])
        dtype = checks.dtype(given["dtype"])
        mbs = checks.number("mini_batch_size", given["mini_batch_size"], integer=True)
        init_name, init_fn = _initializer(given["initializer"])
        momentum = checks.number("momentum", given["momentum"], strict=False)
        if momentum >= 1:
            raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}")
        nesterov = given["nesterov"]
        if not isinstance(nesterov, bool):
            raise ConfigError(f"nesterov must be True or False, got {checks.show(nesterov)}")
        eta = checks.number("eta", given["eta"])
        lmbda = checks.number("lmbda", given["lmbda"], strict=False)
        l1 = checks.number("l1", given["l1"], strict=False)
        if isinstance(sizes, str):  # refused here, before any trial runs, as Network would
            architecture_spec(entries, activation, cost, init_fn)
    except ConfigError as exc:
        raise ConfigError(f"search space point {checks.show(point)}: {exc}") from None
    params = {"sizes": sizes, "activation": _activation_label(activation), "cost": cost.name,
              "dtype": dtype, "mini_batch_size": mbs, "initializer": init_name,
              "momentum": momentum, "nesterov": nesterov, "eta": eta, "lmbda": lmbda, "l1": l1}
    build = {"sizes": entries, "activation": activation, "cost": cost, "weight_init": init_fn}
    return params, build
