"""benchmarks/bench_mnist.py runs end to end (on a few random images) and reports honestly:
paired ratios to the floors, data preparation apart, the machine with the results, JSON only
where --json says, and the busy-machine helper leaves no process behind."""

import argparse
import json
import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the repo's benchmarks/

from benchmarks import bench_mnist  # noqa: E402
from conftest import optional  # noqa: E402


def test_smoke_run_writes_json_only_where_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sub" / "bench.json"
    report = bench_mnist.main(["--synthetic", "200", "--rows", "canonical", "--rounds", "2",
                               "--backends", "numpy", "--baselines", "numpy_vectorized",
                               "--no-threads", "--no-memory", "--json", str(out)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]  # nothing else written
    saved = json.loads(out.read_text())
    assert saved["machine"]["cpu"] and saved["machine"]["threadpools"]
    assert saved["machine"]["loadavg_start"] is not None
    row = saved["rows"][0]
    assert row["loadavg_before"] is not None and row["loadavg_after"] is not None
    records = {r["contender"]: r for r in row["contenders"]}
    nnxp32 = records["nnxp-numpy-float32"]
    assert nnxp32["vs_floor"]["vs"] == "numpy_vectorized-float32"
    assert len(nnxp32["epoch_seconds"]) == 2 and nnxp32["prep_seconds"] > 0
    lo, mid, hi = (nnxp32["vs_floor"][k] for k in ("min", "median", "max"))
    assert 0 < lo <= mid <= hi
    assert [s["backend"] for s in report["loop"]] == ["numpy"]
    printed = capsys.readouterr().out
    assert "x floor" in printed and "machine:" in printed and "written:" in printed


def test_no_json_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bench_mnist.main(["--synthetic", "100", "--rows", "canonical", "--rounds", "1",
                      "--backends", "numpy", "--baselines", "", "--no-threads", "--no-loop",
                      "--no-memory", "--no-evaluation"])
    assert list(tmp_path.iterdir()) == []


def test_cpu_clock_times_the_epochs_in_process_time(monkeypatch):
    """--clock cpu reads time.process_time around every timed epoch (not perf_counter)."""
    ticks = iter(range(1000))
    monkeypatch.setitem(bench_mnist.CLOCKS, "cpu", lambda: 10.0 * next(ticks))
    report = bench_mnist.main(["--synthetic", "100", "--rows", "canonical", "--rounds", "3",
                               "--backends", "numpy", "--baselines", "", "--no-threads",
                               "--no-loop", "--no-memory", "--no-evaluation", "--clock", "cpu"])
    assert report["settings"]["clock"] == "cpu"
    for rec in report["rows"][0]["contenders"]:
        assert rec["epoch_seconds"] == [10.0, 10.0, 10.0]


def test_busy_machine_starts_and_stops_one_process_per_core():
    with bench_mnist.busy_machine(2) as pids:
        assert len(pids) == 2
        for pid in pids:
            os.kill(pid, 0)  # alive
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_jax_floor_and_keras_contender(tmp_path, monkeypatch, capsys):
    """nnxp-JAX is held to jax_scan_rows (the row-layout floor) and paired with Keras on JAX;
    every contender's accuracy after one epoch is recorded."""
    pytest.importorskip("jax")
    os.environ.setdefault("KERAS_BACKEND", "jax")
    optional("keras")
    monkeypatch.chdir(tmp_path)
    report = bench_mnist.main(["--synthetic", "120", "--rows", "mb100", "--rounds", "2",
                               "--backends", "jax", "--baselines",
                               "jax_scan_rows,jax_scan_epoch,keras_jax", "--no-threads",
                               "--no-loop", "--no-memory", "--no-evaluation"])
    records = {r["contender"]: r for r in report["rows"][0]["contenders"]}
    assert set(records) == {"nnxp-jax-float32", "jax_scan_rows-float32",
                            "jax_scan_epoch-float32", "keras_jax-float32"}
    nnxp = records["nnxp-jax-float32"]
    assert nnxp["vs_floor"]["vs"] == "jax_scan_rows-float32"
    assert nnxp["vs_keras"]["vs"] == "keras_jax-float32"
    assert report["rows"][0]["n_train"] == 120
    for rec in records.values():
        assert 0.0 <= rec["accuracy_after_one_epoch"] <= 1.0
    assert "x keras" in capsys.readouterr().out


def test_missing_contender_library_is_skipped_with_a_message(monkeypatch, capsys):
    def missing(*args, **kwargs):
        raise ImportError("No module named 'keras'")

    monkeypatch.setattr(bench_mnist.baselines, "make", missing)
    args = argparse.Namespace(baselines=["keras_jax"], device=None)
    assert bench_mnist.row_contenders("canonical", args, []) == []
    assert "skipping keras_jax: No module named 'keras'" in capsys.readouterr().err
