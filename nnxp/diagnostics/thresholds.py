"""Thresholds: every number the checks compare against, in one frozen, adjustable dataclass.

    Thresholds(probe_size=2000, saturation_prime=0.01, ...)   the defaults below
    Thresholds.of(None | Thresholds | {"name": value})        what diagnose and HealthMonitor
                                                              accept as ``thresholds=``

What each threshold means is said next to it and, per problem kind, in the package docstring;
docs/diagnostics.md says how the defaults were set (benchmarks/bench_diagnose.py's scenarios).
Every field must be a positive finite number; an unknown name in a dict is a ConfigError.
Frozen, so that a Thresholds can key the compiled measurement cached on a network.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from ..checks import show
from ..errors import ConfigError

__all__ = ["Thresholds"]

INTEGERS = ("probe_size", "conclusive_probe", "window", "min_rises", "min_updates")  # counts


@dataclass(frozen=True)
class Thresholds:
    """Every threshold the checks use (see the package docstring); all adjustable."""

    probe_size: int = 2000          # probe rows taken from the data
    saturation_prime: float = 0.01  # derivative below this fraction of its peak: saturated
    saturated_fraction: float = 0.25  # hidden layer: share of saturated (unit, input) pairs
    learned: float = 0.5            # ... unless accuracy went this far from chance to 100%
    unit_share: float = 0.9         # a unit is listed when saturated on this share of inputs
    output_slowdown: float = 0.1    # output unit: |delta| / (peak |a - y|) below this
    output_min_error: float = 0.1   # ... and RMS(a - y) of that unit at least this
    dead_fraction: float = 0.1      # hidden layer: share of dead units
    conclusive_probe: int = 300     # fewer probe rows cannot show a unit dead (3/m bound: 1%)
    collapse_share: float = 0.9     # share of predictions in one class
    vanishing_ratio: float = 1e-3   # gradient RMS below this times the output layer's
    exploding_ratio: float = 1e3    # gradient RMS above this times the output layer's
    max_update_ratio: float = 100.0  # one step eta |grad| / |w| above this: eta is absurd
    tiny_weight_ratio: float = 0.05  # weight RMS below this times 1/sqrt(n_in)
    max_decay: float = 1e-3         # L2 weight decay per step eta lmbda / n above this
    same_sign_share: float = 0.99   # share of weights with one sign
    window: int = 30                # recent epochs the history checks look at
    rise_tolerance: float = 0.05    # relative change that counts as a rise (or a fall)
    min_rises: int = 2              # oscillation: at least this many rises in the window ...
    oscillation_share: float = 0.2  # ... and at least this share of its epoch-to-epoch steps
    swing: float = 0.03             # ... and the rise or swing at least this share of the
                                    # cost of knowing nothing (history.swing, chance_cost)
    ask_swing: float = 0.015        # an oscillation about a falling cost that swings by at
                                    # least this share asks the finder ("info", ask_finder)
    min_updates: int = 1000         # fewer SGD steps in all, in a network that has not learned
                                    # and whose cost still falls: too_few_updates
    stalled: float = 0.1            # a network this far (or less) from chance has not learned
    input_rms: float = 10.0         # inputs whose RMS is above this are not scaled: weights
                                    # N(0, 1/n_in) then give z a spread of about this RMS, past
                                    # where sigmoid (|z| > 6.9) and tanh (|z| > 3) saturate
    column_spread: float = 10.0     # the largest input magnitude above this times the median
                                    # column's: one factor would leave most columns near 0, so
                                    # the remedy scales each column (an order of magnitude)

    @classmethod
    def of(cls, value) -> "Thresholds":
        """Thresholds from None, a Thresholds, or a dict of overrides."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(map(repr, set(value) - known))
            if unknown:
                raise ConfigError(f"unknown thresholds {show(unknown)}; known: {sorted(known)}")
            return dataclasses.replace(cls(), **value)
        raise ConfigError(f"thresholds must be a Thresholds, a dict or None, got {show(value)}")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v < math.inf:
                raise ConfigError(f"threshold {f.name} must be a positive finite number, got "
                                  f"{show(v)}")
            if f.name in INTEGERS and v != int(v):
                raise ConfigError(f"threshold {f.name} must be an integer, got {v!r}")
            # stored as Python numbers (4.0 -> 4 for a count, np.float32 -> float): a count is
            # a slice bound and a probe size, and every value goes into JSON reports
            object.__setattr__(self, f.name, int(v) if f.name in INTEGERS else float(v))
        if self.window < 4:
            raise ConfigError(f"window must be at least 4 epochs, got {self.window!r}")
