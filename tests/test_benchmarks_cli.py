"""The benchmark scripts refuse bad input before any work, in one line, exit status 2
(benchmarks/_cli.py): a ``--json`` path where the results cannot be saved (a folder, a folder
path through a file) and a count below its minimum; nothing is written.  Each script runs in a
subprocess, as a user runs it; on a fixed script it stops before loading any data, so these
tests take about a second per script.  The flags besides the bad one are small, so that a
script that does NOT check first ends quickly (and the test fails on its exit status)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repo's benchmarks/

from benchmarks import _cli  # noqa: E402

# script: valid flags that keep a run short (for a script that would run)
SMALL = {
    "gemm_beta.py": ["--members", "1", "--rounds", "1", "--calls", "1"],
    "bench_population.py": ["--backends", "numpy", "--ks", "1", "--mini-batches", "10",
                            "--n-train", "20", "--rounds", "1", "--no-memory"],
    "bench_mnist.py": ["--synthetic", "20", "--rows", "canonical", "--rounds", "1",
                       "--backends", "numpy", "--baselines", "", "--no-threads", "--no-loop",
                       "--no-memory", "--no-evaluation"],
    "bench_compat.py": ["--rows", "overfitting", "--epochs", "1", "--rounds", "1"],
}


def run(script, *flags, cwd):
    """The script run as a user runs it: (exit status, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *flags],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def one_line(stderr, script):
    """The one line of ``stderr``, checked to start with the script's name."""
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"{script}: "), stderr
    return stderr


@pytest.mark.parametrize("script", sorted(SMALL))
def test_json_path_that_is_a_folder_is_refused_before_any_work(script, tmp_path):
    folder, cwd = tmp_path / "results", tmp_path / "cwd"
    folder.mkdir()
    cwd.mkdir()
    code, out, err = run(script, *SMALL[script], "--json", str(folder), cwd=cwd)
    assert code == 2, err
    line = one_line(err, script)
    assert str(folder) in line and "directory" in line
    assert out == ""  # no table: nothing ran
    assert list(folder.iterdir()) == [] and list(cwd.iterdir()) == []


def test_json_path_through_a_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("kept\n")
    path = tmp_path / "notes.txt" / "results.json"
    code, out, err = run("gemm_beta.py", *SMALL["gemm_beta.py"], "--json", str(path),
                         cwd=tmp_path)
    assert code == 2, err
    assert "notes.txt" in one_line(err, "gemm_beta.py") and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "kept\n"


@pytest.mark.parametrize("script, bad", [
    ("gemm_beta.py", ["--calls", "0"]),
    ("gemm_beta.py", ["--members", "-1"]),
    ("bench_population.py", ["--ks", "0"]),
    ("bench_population.py", ["--backends", "nope"]),
    ("bench_mnist.py", ["--rounds", "0"]),
    ("bench_compat.py", ["--epochs", "0"]),
])
def test_bad_flag_is_one_line_and_exit_2(script, bad, tmp_path):
    out_json = tmp_path / "out.json"
    code, out, err = run(script, *SMALL[script], *bad, "--json", str(out_json), cwd=tmp_path)
    assert code == 2, err
    line = one_line(err, script)
    assert f"argument {bad[0]}" in line and bad[1] in line
    assert out == "" and list(tmp_path.iterdir()) == []


def test_shared_pieces(tmp_path):
    import argparse
    import nnxp
    with pytest.raises(argparse.ArgumentTypeError, match="at least 1, got 0"):
        _cli.positive_int("0")
    with pytest.raises(argparse.ArgumentTypeError, match="at most 5"):
        _cli.at_least(1, 5)("6")
    assert _cli.nonnegative_int("0") == 0
    assert _cli.backend_list(" numpy, ,np") == ["numpy", "numpy"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown backend 'nope'"):
        _cli.backend_name("nope")
    path = tmp_path / "sub" / "r.json"
    parser = _cli.ArgumentParser(prog="x.py")
    assert _cli.check_json(parser, None) is None
    assert _cli.check_json(parser, str(path)) == str(path)
    assert list(tmp_path.iterdir()) == []  # the missing folder was tried, then removed
    path.parent.mkdir()
    path.write_text("old")
    _cli.write_json(path, {"a": [1, 2]})  # replaced whole, atomically
    assert json.loads(path.read_text()) == {"a": [1, 2]} and path.read_text().endswith("}\n")
    assert sorted(p.name for p in path.parent.iterdir()) == ["r.json"]
    with pytest.raises(nnxp.FileError):
        _cli.write_json(tmp_path, {})
    with pytest.raises(SystemExit) as exit_:
        _cli.check_json(parser, str(tmp_path))
    assert exit_.value.code == 2
