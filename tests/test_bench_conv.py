"""benchmarks/bench_conv.py runs end to end at a tiny size and reports what it says (the table,
the JSON only where --json says, paired ratios, targets, memory per contender); its
hand-written floors compute nnxp's arithmetic: in float64, the same cost on a mini-batch of
MNIST as nnxp's layers, and the same SGD step as nnxp.compat.network3."""

import json
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the repo's benchmarks/

from benchmarks import bench_conv  # noqa: E402
from conftest import mnist_dir, optional  # noqa: E402

FLOORS = ("torch_eager", "jax_scan")


def test_tiny_run_prints_the_table_and_writes_json_only_where_asked(tmp_path, monkeypatch,
                                                                     capsys):
    optional("torch"), optional("jax")
    mnist_dir()
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sub" / "conv.json"
    report = bench_conv.main(["--images", "200", "--rounds", "1", "--backends", "numpy",
                              "--floors", "torch_eager,jax_scan", "--json", str(out)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]  # nothing else written
    saved = json.loads(out.read_text())
    assert saved["settings"]["images"] == 200 and saved["settings"]["rounds"] == 1
    assert saved["machine"]["cpu"] and saved["machine"]["loadavg_start"] is not None
    records = {r["contender"]: r for r in saved["contenders"]}
    assert sorted(records) == ["jax_scan-float32", "nnxp-numpy-float32", "torch_eager-float32"]
    for rec in records.values():
        assert len(rec["epoch_seconds"]) == 1 and rec["median_seconds"] > 0
        assert rec["images_per_second"] == pytest.approx(200 / rec["median_seconds"])
    assert records["jax_scan-float32"]["compile_seconds"] > 0
    ratio = records["nnxp-numpy-float32"]["vs_torch_eager"]
    assert ratio["vs"] == "torch_eager-float32" and 0 < ratio["min"] <= ratio["max"]
    targets = {t["contender"]: t for t in saved["targets"]}
    assert targets["nnxp-numpy-float32"]["target"] == 2.0
    assert targets["nnxp-numpy-float32"]["met"] == (ratio["median"] <= 2.0)
    assert targets["nnxp-jax-float32"]["met"] is None  # not run: not measured, not "met"
    memory = {m["contender"]: m for m in saved["memory"]}
    assert sorted(memory) == ["jax_scan", "nnxp-numpy", "torch_eager"]
    for m in memory.values():
        assert m["peak_rss_bytes"] >= m["peak_rss_bytes_before_contender"] > 10 * 2**20
    # a child's peak is its own, not the (bigger) parent's: the floors import torch or jax,
    # the numpy contender neither
    assert memory["nnxp-numpy"]["peak_rss_bytes"] < memory["torch_eager"]["peak_rss_bytes"]
    assert saved["theano"] == {"skipped": "not asked for (--floors)"}
    printed = capsys.readouterr().out
    for text in ("nnxp-numpy-float32", "x torch eager", "targets", "NOT met" if not
                 targets["nnxp-numpy-float32"]["met"] else "met", "not measured",
                 "estimates, not measurements", bench_conv.GPU_COMMAND, "written:"):
        assert text in printed
    assert report["settings"] == saved["settings"]


def test_no_json_no_file_theano_without_the_book_not_run_ties_first_paired(tmp_path,
                                                                         monkeypatch, capsys):
    mnist_dir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NNXP_BOOK_NETWORK3", raising=False)
    report = bench_conv.main(["--images", "20", "--rounds", "1", "--backends", "numpy",
                              "--floors", "theano", "--no-memory", "--ties-first"])
    assert list(tmp_path.iterdir()) == []
    assert "no --network3" in report["theano"]["skipped"]
    printed = capsys.readouterr().out
    assert "theano-float32: not run" in printed
    first = {r["contender"]: r for r in report["contenders"]}["nnxp-numpy-float32 [ties first]"]
    assert first["vs_ties_all"]["vs"] == "nnxp-numpy-float32"
    assert "nnxp-numpy-float32 [ties first] / nnxp-numpy-float32:" in printed


def test_epochs_per_round_report_per_epoch_times():
    records = {"a": {"epoch_seconds": [4.0, 6.0], "warmup_seconds": 8.0},
               "b": {"epoch_seconds": [2.0, 2.0], "warmup_seconds": 2.0}}
    bench_conv.per_epoch(records, 2, 100)
    assert records["a"]["epoch_seconds"] == [2.0, 3.0]
    assert records["a"]["median_seconds"] == 2.5 and records["a"]["warmup_seconds"] == 4.0
    assert records["b"]["images_per_second"] == 100.0


def test_bad_options_are_refused():
    for argv in (["--images", "5"], ["--rounds", "0"], ["--floors", "caffe"]):
        with pytest.raises(SystemExit):
            bench_conv.main(argv)


def _real_minibatch():
    from benchmarks._mnist import load_training
    X, y = load_training("float64", mnist_dir())
    return X[:10], y[:10]


def _nnxp_layers_cost(params, x, y, batches):
    """The cost by nnxp's own layers (nnxp.layers, NumPy, float64): the book's weights
    mapped as network3 maps them (filters flipped, dense w transposed)."""
    from nnxp.activations import ReLU
    from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax, sequential
    layers = (Reshape((1, 28, 28)), ConvPool(20, (5, 5), activation=ReLU()),
              ConvPool(40, (5, 5), activation=ReLU()), Flatten(3), Dense(100, ReLU()),
              Softmax(10))
    (w1, b1), (w2, b2), (w3, b3), (w4, b4) = params
    seam = ((), (w1[:, :, ::-1, ::-1], b1), (w2[:, :, ::-1, ::-1], b2), (), (w3.T, b3),
            (w4.T, b4))
    a = sequential.apply(layers, seam, x)
    l2 = sum(float(np.sum(w ** 2)) for w, _ in params)
    return -np.mean(np.log(a[np.arange(len(y)), y])) + 0.5 * bench_conv.LMBDA * l2 / batches


@pytest.mark.parametrize("floor", FLOORS)
def test_floors_compute_nnxps_cost_on_a_minibatch_in_float64(floor, monkeypatch):
    optional({"torch_eager": "torch", "jax_scan": "jax"}[floor])
    monkeypatch.setenv("NNXP_FLOATX", "float64")
    x, y = _real_minibatch()
    params = [(w.astype(np.float64), b.astype(np.float64))
              for w, b in bench_conv.initial_parameters()]
    rng = np.random.default_rng(3)  # the softmax layer starts at zero: give it weights
    params[3] = (rng.normal(0, 0.1, params[3][0].shape), rng.normal(0, 0.1, 10))
    c = bench_conv.make(floor, dtype="float64", params=params)
    c.prepare(np.tile(x, (7, 1)), np.tile(y, 7))  # 7 mini-batches: the L2 term / 7
    expected = _nnxp_layers_cost(params, x, y, 7)
    assert c.batch_loss(x, y) == pytest.approx(expected, rel=1e-12)
    assert expected > 0.5  # not a degenerate cost


def _start(rng):
    """network3's initial weights (float64), the softmax layer's made non-zero: from zero, no
    gradient would reach the layers below it in a first step."""
    params = [(w.astype(np.float64), b.astype(np.float64))
              for w, b in bench_conv.initial_parameters()]
    params[3] = (rng.normal(0, 0.1, params[3][0].shape), rng.normal(0, 0.1, 10))
    return params


@pytest.mark.parametrize("floor", FLOORS)
@pytest.mark.parametrize("images", ["random", "mnist"])
def test_floors_take_the_same_sgd_steps_as_network3_in_float64(floor, images, monkeypatch):
    """One epoch of two mini-batches of network3's SGD (eta 0.03, lmbda 0.1) from the same
    weights.  On MNIST, blank patches give ties in max-pooling, where Theano's gradient (kept
    by network3: every maximum) and the libraries' (the first maximum) differ by design: there
    the floors are compared with nnxp's ConvPool at ties="first" (``nnxp-numpy/first``); on
    random images (no ties) with network3 as it is."""
    optional({"torch_eager": "torch", "jax_scan": "jax"}[floor])
    monkeypatch.setenv("NNXP_FLOATX", "float64")
    rng = np.random.default_rng(1)
    if images == "random":
        x, y, name = rng.random((20, 784)), rng.integers(0, 10, 20), "nnxp-numpy"
    else:
        from benchmarks._mnist import load_training
        X, Y = load_training("float64", mnist_dir())
        x, y, name = X[:20], Y[:20], "nnxp-numpy/first"
    start = _start(rng)
    nnxp = bench_conv.make(name, dtype="float64")
    nnxp.prepare(x, y)
    for layer, (w, b) in zip(nnxp.net.layers, start):
        layer.w.set_value(w)
        layer.b.set_value(b)
    nnxp.run_epoch()
    expected = nnxp.weights()
    c = bench_conv.make(floor, dtype="float64", params=start)
    c.prepare(x, y)
    c.run_epoch()
    for (w, b), (we, be), (w0, _) in zip(c.weights(), expected, start):
        moved = we - w0 * (1 - 2 * bench_conv.ETA * bench_conv.LMBDA / 2)  # minus the L2 part
        assert np.max(np.abs(moved)) > 1e-4  # every layer's gradient took part
        np.testing.assert_allclose(w, we, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, be, rtol=1e-9, atol=1e-12)


def test_network3_and_the_floors_differ_at_max_pool_ties(monkeypatch):
    """Why the MNIST comparison above uses ties="first": with network3's own rule the same
    steps differ (so the comparison there can see a gradient difference)."""
    optional("torch")
    monkeypatch.setenv("NNXP_FLOATX", "float64")
    from benchmarks._mnist import load_training
    X, Y = load_training("float64", mnist_dir())
    start = _start(np.random.default_rng(1))
    weights = []
    for name in ("nnxp-numpy", "torch_eager"):
        c = bench_conv.make(name, dtype="float64", params=start)
        c.prepare(X[:20], Y[:20])
        if name == "nnxp-numpy":
            for layer, (w, b) in zip(c.net.layers, start):
                layer.w.set_value(w)
                layer.b.set_value(b)
        c.run_epoch()
        weights.append(c.weights())
    assert not np.allclose(weights[0][1][0], weights[1][1][0], rtol=1e-6, atol=0)
