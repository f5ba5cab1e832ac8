"""Activation functions, each with its derivative next to it.

Every activation is a small stateless object with

    fn(z)              -> a         the activation, elementwise (Softmax: over the last axis)
    prime(z)           -> a'(z)     the elementwise derivative (not defined for Softmax)
    backward(z, a, g)  -> g * da/dz the vector-Jacobian product backpropagation needs, given the
                                    pre-activation z, the activation a = fn(z) and dC/da = g

z, a and g have shape (m, units): one row per example of the mini-batch.  ``backward`` may use
``a`` instead of recomputing from ``z`` (sigmoid: a(1-a)), which is why it takes both.

Numerical stability: for any finite z (|z| up to 1e4 and beyond) no activation overflows or
returns NaN.  ``xp.where`` evaluates both branches, so it cannot guard an ``exp``: the sigmoid is
computed as (1 + tanh(z/2)) / 2, which has no exponential to overflow, and softmax subtracts the
row maximum before exponentiating.

Parameterless activations may be passed as the class (``Sigmoid``) or an instance (``Sigmoid()``);
``LeakyReLU(slope)`` takes its slope.  ``name`` and ``to_dict()`` identify an activation in saved
files; ``from_name`` turns them back into objects through a fixed table (never getattr).
"""

from .checks import show
from .errors import ConfigError
from .namespace import namespace

__all__ = ["Activation", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity",
           "as_activation", "from_name"]


class Activation:
    """Base class: ``backward`` is ``g * prime(z)`` unless an activation knows better."""

    name = "Activation"
    saturating = False  # sigmoid-like units whose derivative vanishes for large |z|
    rectified = False   # ReLU-like units that can "die" (output 0 for every input)
    # fn never reverses the order of a row's z (non-decreasing, or softmax): the class is then
    # the argmax of z, free of the ties rounding makes among saturated outputs (a sigmoid's
    # outputs below e^-17 in float32 are all 0, its outputs above e^17 all 1)
    keeps_order = False

    def fn(self, z):
        raise NotImplementedError

    def prime(self, z):
        raise NotImplementedError

    def backward(self, z, a, g):
        return g * self.prime(z)

    def to_dict(self) -> dict:
        return {"name": self.name}

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(tuple(sorted(self.to_dict().items())))

    def __repr__(self):
        params = {k: v for k, v in self.to_dict().items() if k != "name"}
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


class Sigmoid(Activation):
    """sigma(z) = 1 / (1 + exp(-z));  sigma'(z) = sigma(z) (1 - sigma(z))."""

    name = "Sigmoid"
    keeps_order = True
    saturating = True

    def fn(self, z):
        # The same function as 1/(1 + exp(-z)), but tanh never overflows, so no warning and
        # no inf for any finite z; absolute error within an ulp of 1 (XLA computes it so too).
        return 0.5 + 0.5 * namespace(z).tanh(0.5 * z)

    def prime(self, z):
        s = self.fn(z)
        return s * (1.0 - s)

    def backward(self, z, a, g):
        return g * a * (1.0 - a)


class Tanh(Activation):
    """tanh(z);  tanh'(z) = 1 - tanh(z)^2.  Outputs in (-1, 1), centred on zero (book ch. 3)."""

    name = "Tanh"
    keeps_order = True
    saturating = True

    def fn(self, z):
        return namespace(z).tanh(z)

    def prime(self, z):
        t = namespace(z).tanh(z)
        return 1.0 - t * t

    def backward(self, z, a, g):
        return g * (1.0 - a * a)


class ReLU(Activation):
    """max(0, z);  derivative 1 where z > 0, else 0 (the book's rectified linear unit)."""

    name = "ReLU"
    keeps_order = True
    rectified = True

    def fn(self, z):
        return namespace(z).maximum(z, 0.0)

    def prime(self, z):
        xp = namespace(z)
        return xp.astype(z > 0, z.dtype)

    def backward(self, z, a, g):
        return namespace(z).where(z > 0, g, 0.0)


class LeakyReLU(Activation):
    """z for z > 0, slope * z otherwise; keeps a gradient where a ReLU would be dead."""

    name = "LeakyReLU"
    keeps_order = True
    rectified = True

    def __init__(self, slope: float = 0.01):
        try:
            slope = float(slope)
        except (TypeError, ValueError):
            raise ConfigError(f"LeakyReLU slope must be a number, got {show(slope)}") from None
        if not 0.0 <= slope < 1.0:
            raise ConfigError(f"LeakyReLU slope must be in [0, 1), got {slope}")
        self.slope = slope

    def fn(self, z):
        return namespace(z).where(z > 0, z, self.slope * z)

    def prime(self, z):
        xp = namespace(z)
        return xp.where(z > 0, 1.0, xp.full_like(z, self.slope))

    def backward(self, z, a, g):
        return namespace(z).where(z > 0, g, self.slope * g)

    def to_dict(self) -> dict:
        return {"name": self.name, "slope": self.slope}


class Softmax(Activation):
    """exp(z_j) / sum_k exp(z_k) over each row; pairs with the log-likelihood cost (ch. 3)."""

    name = "Softmax"
    keeps_order = True

    def fn(self, z):
        xp = namespace(z)
        e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))  # largest exponent is 0
        return e / xp.sum(e, axis=-1, keepdims=True)

    def prime(self, z):
        raise ConfigError("Softmax has no elementwise derivative; use backward(z, a, g)")

    def backward(self, z, a, g):
        # Jacobian-vector product: da_j/dz_k = a_j (delta_jk - a_k)
        xp = namespace(z)
        return a * (g - xp.sum(g * a, axis=-1, keepdims=True))


class Identity(Activation):
    """a = z (linear output units, e.g. for regression with the quadratic cost)."""

    name = "Identity"
    keeps_order = True

    def fn(self, z):
        return z

    def prime(self, z):
        return namespace(z).ones_like(z)

    def backward(self, z, a, g):
        return g


_TABLE = {cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Identity)}


def as_activation(obj) -> Activation:
    """An Activation instance from an instance, a class, or a name such as "relu"; one that
    does not define ``fn`` (the base class Activation itself) is refused here, not met as a
    NotImplementedError in the first forward pass."""
    if isinstance(obj, type) and issubclass(obj, Activation) and obj is not Activation:
        obj = obj()
    if isinstance(obj, Activation):
        if type(obj).fn is Activation.fn:
            raise ConfigError(f"activation {show(obj)} defines no fn(z) (Activation is the "
                              f"base class); use one of {', '.join(_TABLE)}, or a subclass "
                              "with fn, prime and backward")
        return obj
    if isinstance(obj, str):
        return from_name(obj)
    raise ConfigError(f"activation must be one of {', '.join(_TABLE)} (class, instance or "
                      f"name), got {show(obj)}")


def from_name(name, **params) -> Activation:
    """Look a saved activation up in the fixed table: ``from_name("LeakyReLU", slope=0.1)``."""
    if isinstance(name, dict):
        params = {k: v for k, v in name.items() if k != "name"}
        name = name.get("name")
    lookup = {k.lower(): cls for k, cls in _TABLE.items()}
    cls = lookup.get(str(name).lower())
    if cls is None:
        raise ConfigError(f"unknown activation {show(name)}; known: {', '.join(_TABLE)}")
    try:
        return cls(**params)
    except TypeError:
        raise ConfigError(f"activation {cls.name} does not take parameters {show(params)}"
                          ) from None
