"""report.py: the Report API, its order (the primary cause first), text and JSON."""

import json

import pytest

import nnxp
from nnxp.diagnostics import Problem, Report, diagnose

from ._helpers import N_IN, N_OUT, host_params, problem_data, set_params


def test_report_api_and_json(backend):
    data = problem_data()
    net = nnxp.Network([N_IN, 10, N_OUT], cost=nnxp.QuadraticCost, seed=0)
    net.large_weight_initializer()
    (w1, b1), (w2, b2) = host_params(net)
    set_params(net, [(w1 * 10, b1), (w2, b2 - 30.0)])
    report = diagnose(net, data, eta=3.0, lmbda=1.0, n=600)
    text = str(report)
    assert "saturated_units" in text and "advice:" in text and "weight_rms" in text
    full, compact = report.to_dict(), report.to_dict(compact=True)
    for d in (full, compact):
        assert json.loads(json.dumps(d)) == d
        assert {s["layer"] for s in d["stats"]} == {0, 1}
    assert "advice" in full["problems"][0] and "advice" not in compact["problems"][0]
    assert "remedy" in full["problems"][0] and "remedy" not in compact["problems"][0]
    for p in report.problems:
        assert p.kind in nnxp.Report.KINDS and p.severity in ("error", "warning", "info")
        assert p.message and p.advice
    stats = report.stats[0]
    for key in ("act_mean", "act_std", "saturated", "dead", "weight_rms", "grad_norm",
                "update_ratio", "bias_grad_norm"):
        assert key in stats
    assert report.summary["decay_per_step"] == pytest.approx(3.0 * 1.0 / 600)


def test_problems_are_ordered_by_severity_then_cause_before_consequence():
    problems = [Problem("output_collapse", None, [0], "error"),
                Problem("saturated_units", 0, [], "error"),
                Problem("learning_rate_too_high", None, [], "error"),
                Problem("same_sign_weights", 1, [], "warning"),
                Problem("dead_units", 1, [2], "info")]
    report = Report(problems, [], {})
    assert [p.kind for p in report.problems] == [
        "learning_rate_too_high", "saturated_units", "output_collapse", "same_sign_weights",
        "dead_units"]
    assert report.primary.kind == "learning_rate_too_high"
    assert not report.ok and report.headline().startswith("learning_rate_too_high; ")
    only_info = Report([Problem("dead_units", 1, [2], "info")], [], {})
    assert only_info.ok and only_info.primary is None


def test_find_refuses_a_kind_that_does_not_exist():
    """A misspelt kind would find nothing and read as "no such problem"."""
    report = Report([], [], {})
    assert report.find("saturated_units") == []
    with pytest.raises(nnxp.ConfigError, match="unknown problem kind 'saturated_unit'.*"
                                               "saturated_units"):
        report.find("saturated_unit")


@pytest.mark.parametrize("compact", ["yes", "no", 2, None])
def test_to_dict_refuses_a_compact_that_is_not_a_flag(compact):
    """compact="no" was a truth value: the compact form."""
    with nnxp.use_backend("numpy"):
        report = diagnose(nnxp.Network([N_IN, 10, N_OUT], seed=0), problem_data())
        assert report.to_dict(compact=1) == report.to_dict(compact=True)
        with pytest.raises(nnxp.ConfigError, match="compact must be True or False"):
            report.to_dict(compact=compact)
