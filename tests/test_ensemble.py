"""Chapter 6's ensemble in the native API: a Population of dropout conv nets is its networks
trained alone, and its vote is the book's plurality (``Counter(p).most_common(1)``) of their
predictions; benchmarks/chapter6.py --native trains the rows through nnxp.Network with
network3's semantics (checked against nnxp.compat.network3 from the same weights and masks) and
row 8 as one Population; examples/ensemble.py and benchmarks/bench_ensemble.py run."""

import collections
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import nnxp
from nnxp.compat import network3
from nnxp.datasets import load_mnist
from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the repo's benchmarks/

from benchmarks import chapter6  # noqa: E402
from conftest import mnist_dir, params_numpy  # noqa: E402

SEEDS = [3, 103, 203]


def conv_entries():
    """A small dropout conv net; its softmax starts from random weights (network3's zeros
    would leave one epoch's members predicting one class each: nothing for a vote to do)."""
    return [64, Reshape((1, 8, 8)), ConvPool(3, (3, 3), activation="ReLU"), Flatten(),
            Dense(12, "ReLU", p_dropout=0.5),
            Softmax(4, p_dropout=0.5, weight_init=nnxp.initializers.default_weight)]


def images(n, seed=0, noise=0.5):
    """8 x 8 images of 4 classes: a class's fixed pattern plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    patterns = np.random.default_rng(99).random((4, 64))
    y = rng.integers(0, 4, n)
    return patterns[y] + noise * rng.standard_normal((n, 64)), y


def test_a_population_of_dropout_conv_nets_is_its_networks_alone_and_votes_as_the_book(
        backend):
    train, (x_test, _) = images(60), images(300, seed=1, noise=1.0)
    sgd = dict(epochs=1, mini_batch_size=5, eta=0.1, lmbda=0.1, shuffle=False)
    pop = nnxp.Population(conv_entries(), seeds=SEEDS, cost=nnxp.LogLikelihoodCost,
                          dtype="float64")
    pop.SGD(train, **sgd)
    predictions = []
    for k, seed in enumerate(SEEDS):
        alone = nnxp.Network(conv_entries(), cost=nnxp.LogLikelihoodCost, seed=seed,
                             dtype="float64")
        alone.SGD(train, **sgd)
        for got, want in zip(params_numpy(pop[k]), params_numpy(alone)):
            if backend.name == "numpy":
                np.testing.assert_array_equal(got, want)  # bit for bit
            else:
                np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
        out = alone.backend.to_numpy(alone.feedforward(x_test))
        predictions.append(np.argmax(np.asarray(out), axis=1))
    by_hand = [collections.Counter(p).most_common(1)[0][0] for p in zip(*predictions)]
    votes = pop.vote(x_test)
    np.testing.assert_array_equal(votes, by_hand)
    # the vote is tested where it matters: the first member outvoted by the two others, and
    # three-way ties (each member its own class: the first member's wins)
    p = np.array(predictions)
    assert (votes != p[0]).sum() >= 5
    assert ((p[0] != p[1]) & (p[1] != p[2]) & (p[0] != p[2])).sum() >= 5


def test_native_rows_are_network3s_given_its_weights_and_masks(monkeypatch):
    """Rows 4 (lmbda 0.1: nnxp's lmbda is network3's x mini_batch_size) and 7 (dropout):
    chapter6's native network, its initial weights written into network3's layers, trained one
    epoch both ways on 50 MNIST images in float64, with network3's mask generator, ends on the
    same weights (so the native path is the book's procedure: mini-batches in order, whole
    ones, network3's L2 and max-pool ties)."""
    mnist_dir()
    monkeypatch.setenv("NNXP_FLOATX", "float64")
    (x, y), validation, _ = load_mnist(dtype="float64", backend="numpy")
    x, y, validation = x[:55], y[:55], (validation[0][:20], validation[1][:20])
    for name in ("relu", "dropout"):
        row = chapter6.BY_NAME[name]
        native = nnxp.Network(chapter6.native_entries(row), cost=nnxp.LogLikelihoodCost,
                              seed=1, dtype="float64", backend="numpy")
        book = network3.Network(chapter6.book_layers(row), 10, seed=7)
        native.mask_rng = np.random.default_rng(7)  # network3's: default_rng(seed)
        start = [p for p in nnxp.core.to_host(native.backend, native.params) if p]
        assert len(start) == len(book.layers)
        for layer, (w, b) in zip(book.layers, start):
            w_book, b_book = layer.from_seam(w, b)
            layer.w.set_value(w_book)
            layer.b.set_value(b_book)
        book.SGD((x, y), 1, 10, row.eta, validation, None, lmbda=row.lmbda)
        chapter6.native_sgd(native, row, 1, (chapter6.whole((x, y)), validation, None),
                            tracker=lambda *args: None)
        end = [p for p in nnxp.core.to_host(native.backend, native.params) if p]
        for layer, (w, b) in zip(book.layers, end):
            want = layer.to_seam(layer.w.get_value(), layer.b.get_value())
            np.testing.assert_allclose(w, want[0], rtol=0, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(b, want[1], rtol=0, atol=1e-12, err_msg=name)


def test_chapter6_native_ensemble_row_runs_as_one_population(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NNXP_DATA_DIR", str(mnist_dir()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the expanded set's cache
    out = tmp_path / "c6.json"
    report = chapter6.main(["--native", "--rows", "8", "--epochs", "1", "--train-images", "200",
                            "--eval-images", "100", "--backend", "numpy", "--json", str(out)])
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(report))
    assert saved["api"] == "native"
    (row,) = saved["rows"]
    assert row["row"] == "ensemble" and row["number"] == 8 and row["book"] == 99.67
    assert row["shortened"] == ("1 of 40 epochs; first 200 training images; first 100 "
                                "validation and test images")
    (run,) = row["runs"]
    assert run["member_seeds"] == [0, 100, 200, 300, 400]
    assert [m["seed"] for m in run["members"]] == run["member_seeds"]
    assert 0 <= run["test_accuracy"] <= 100
    printed = capsys.readouterr().out
    assert "as one Population" in printed and "Ensemble of 5 (seed 0): accuracy is" in printed
    assert "SHORTENED: 1 of 40 epochs" in printed
    assert chapter6.NATIVE_GPU_COMMAND in printed
    assert saved["gpu_command"] == chapter6.NATIVE_GPU_COMMAND


def test_the_example_prints_each_members_accuracy_and_the_votes(tmp_path):
    """examples/ensemble.py as a user runs it (a subprocess), on a small slice."""
    root = pathlib.Path(__file__).resolve().parent.parent
    env = {**os.environ, "NNXP_DATA_DIR": str(mnist_dir()), "NNXP_BACKEND": "numpy",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                       os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, str(root / "examples" / "ensemble.py")]
    result = subprocess.run(command + ["--n-train", "300", "--n-test", "200", "--epochs", "1",
                                       "--members", "3", "--seed", "5"],
                            capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    members = [line for line in lines if line.startswith("network of seed")]
    assert [line.split(":")[0] for line in members] == [f"network of seed {s}"
                                                       for s in (5, 6, 7)]
    assert all(re.search(r": \d+ / 200 test images \(\d+\.\d\d%\)$", line) for line in members)
    assert re.fullmatch(r"the 3 networks voting: \d+ / 200 \(\d+\.\d\d%\)", lines[-1])
    bad = subprocess.run(command + ["--n-test", "0"], capture_output=True, text=True, env=env,
                         timeout=600)
    assert bad.returncode == 2 and "--n-test" in bad.stderr


def test_the_ensemble_benchmark_times_both_ways(tmp_path):
    """benchmarks/bench_ensemble.py on 20 images (its figures only have to exist)."""
    mnist_dir()
    from benchmarks import bench_ensemble
    out = tmp_path / "e.json"
    report = bench_ensemble.main(["--backend", "numpy", "--images", "25", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert report["images"] == 20 and report["members"] == 5 and len(report["rounds"]) == 1
    for name in ("population", "networks"):
        wall, cpu = report["median_per_network"][name]
        assert wall > 0 and cpu > 0
