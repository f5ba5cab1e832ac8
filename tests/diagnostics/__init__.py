"""Tests of nnxp.diagnostics, one file per module (test_layer_checks.py tests layer_checks.py),
plus test_suite.py: the CI-reduced scenario suite of benchmarks/bench_diagnose.py."""
