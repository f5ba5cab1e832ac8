"""thresholds.py: every threshold adjustable, each checked."""

import pytest

import nnxp
from nnxp.diagnostics import Thresholds, diagnose

from ._helpers import N_IN, N_OUT, host_params, problem_data, set_params


def test_thresholds_are_adjustable_and_checked():
    with nnxp.use_backend("numpy"):
        data = problem_data()
        net = nnxp.Network([N_IN, 10, N_OUT], seed=0)
        (w1, b1), _ = host_params(net)
        set_params(net, [(w1 * 40, b1 * 10), None])
        sat = diagnose(net, data).stats[0]["saturated"]
        assert diagnose(net, data).find("saturated_units")
        assert not diagnose(net, data, thresholds={"saturated_fraction": min(1.0, sat + 0.01)}
                            ).find("saturated_units")
        assert diagnose(net, data, thresholds=Thresholds(probe_size=50)).summary["n_probe"] == 50
        assert diagnose(net, data, probe_size=7).summary["n_probe"] <= 7
        with pytest.raises(nnxp.ConfigError, match="unknown thresholds"):
            diagnose(net, data, thresholds={"saturation": 0.1})
        with pytest.raises(nnxp.ConfigError, match="eta"):
            diagnose(net, data, eta=-1.0)


@pytest.mark.parametrize("bad", [dict(collapse_share=-1), dict(window=3), dict(min_rises=2.5),
                                 dict(conclusive_probe=0), dict(learned=True)])
def test_bad_thresholds_are_config_errors(bad):
    with pytest.raises(nnxp.ConfigError):
        Thresholds(**bad)
    with pytest.raises(nnxp.ConfigError):
        Thresholds.of("strict")


@pytest.mark.parametrize("bad", [{"probe_size": float("inf")}, {"min_rises": float("inf")},
                                 {"saturation_prime": float("inf")}, {"window": float("nan")},
                                 {1: 2, "a": 3}, {("x",): 1}])
def test_infinite_thresholds_and_odd_names_are_config_errors(bad):
    """inf was an OverflowError (an integer threshold) or accepted (a share), names that do not
    sort together a bare TypeError."""
    with pytest.raises(nnxp.ConfigError, match="positive finite number|unknown thresholds"):
        Thresholds.of(bad)
