"""benchmarks/chapter6.py, reduced for CI: the book's first rows trained one epoch on a slice of
MNIST learn (accuracy far above chance, not an exact trajectory), shortened runs are labelled so,
the JSON is written only where asked; the ensemble votes as the book's conv.py does and reuses
the row-7 network of its seed."""

import json
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the repo's benchmarks/

from benchmarks import chapter6  # noqa: E402
from conftest import mnist_dir  # noqa: E402


def test_first_rows_learn_in_one_epoch_on_a_slice(tmp_path, monkeypatch, capsys):
    """Rows 1, 2 and 4 (row 3, the sigmoid double convolution, stays at chance for its first
    epoch on a slice this small, as the book's code does: it starts learning later)."""
    mnist_dir()
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sub" / "c6.json"
    report = chapter6.main(["--rows", "1,2,4", "--epochs", "1", "--train-images", "5000",
                            "--eval-images", "500", "--backend", "numpy", "--json", str(out)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(report))
    rows = {r["row"]: r for r in saved["rows"]}
    assert list(rows) == ["shallow", "conv", "relu"]
    assert [rows[r]["book"] for r in rows] == [97.80, 98.78, 99.23]
    for r in rows.values():
        (run,) = r["runs"]
        assert run["test_accuracy"] > 40.0, r  # chance is about 10%
        assert run["best_iteration"] == 499  # 5000 images, mini-batches of 10, one epoch
        assert r["shortened"] == ("1 of 60 epochs; first 5000 training images; first 500 "
                                  "validation and test images")
    printed = capsys.readouterr().out
    assert "Corresponding test accuracy of" in printed  # network3's own lines, as they come
    assert printed.count("SHORTENED: 1 of 60 epochs") == 3
    assert chapter6.GPU_COMMAND in printed


def test_dropout_and_ensemble_rows_run_and_reuse_the_row7_network(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.setenv("NNXP_DATA_DIR", str(mnist_dir()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the expanded set's cache,
    # where MNIST's folder is read-only (else it goes next to MNIST: nnxp's rule)
    report = chapter6.main(["--rows", "dropout,ensemble", "--epochs", "1", "--train-images",
                            "200", "--eval-images", "100", "--backend", "numpy"])
    dropout, ensemble = report["rows"]
    assert dropout["expanded"] and ensemble["book"] == 99.67
    assert ensemble["runs"][0]["member_seeds"] == [0, 100, 200, 300, 400]
    assert 0 <= ensemble["runs"][0]["test_accuracy"] <= 100
    printed = capsys.readouterr().out
    assert printed.count("== ensemble member") == 4  # member 1 is row 7's network of seed 0
    assert "Ensemble of 5 (seed 0): accuracy is" in printed


class _Net:
    def __init__(self, predictions):
        self.p = np.asarray(predictions)

    def test_mb_predictions(self, i):
        return self.p[i * chapter6.MINI_BATCH_SIZE:(i + 1) * chapter6.MINI_BATCH_SIZE]


def test_ensemble_takes_the_plurality_and_the_first_net_on_ties():
    truth = np.arange(20) % 10
    a = truth.copy()
    b = truth.copy()
    b[:5] = 9                 # a and b disagree on 5 images; c sides with b on images 0-1
    c = (truth + 1) % 10
    c[:2] = 9
    c[2:5] = 0                # images 2-4: three different answers, the first net's not the least
    acc = chapter6.ensemble_accuracy([_Net(a), _Net(b), _Net(c)], (np.zeros((25, 784)),
                                                                     np.r_[truth, [0] * 5]))
    # images 0-1: 9 wins (b, c) and is wrong (truth 0, 1); images 2-4: a, b, c all differ,
    # the first net's (a: right) wins, not the smallest label (c's 0: wrong); the other 15
    # agree on the truth; the last 5 rows are not a whole mini-batch: left out, as the book's
    # 1000 mini-batches of 10
    assert acc == pytest.approx(100 * 18 / 20)


def test_rows_are_chosen_by_name_number_or_range():
    names = [r.name for r in chapter6.parse_rows("2-4,shallow")]
    assert names == ["shallow", "conv", "dbl_conv", "relu"]
    assert len(chapter6.parse_rows("all")) == 8
    for bad in ("9", "0-2", "lenet", "3-x"):
        with pytest.raises(ValueError):
            chapter6.parse_rows(bad)


def test_full_length_is_not_labelled_shortened():
    class Args:
        epochs = train_images = eval_images = None
    row = chapter6.BY_NAME["dropout"]
    assert chapter6.shortened(Args, 40, row) == ""
    assert chapter6.shortened(Args, 5, row) == "5 of 40 epochs"
