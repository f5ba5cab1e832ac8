"""nnxp.plot: training curves from histories (matplotlib, an optional extra)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nnxp
from nnxp import plot

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def synthetic(epochs=5, n_train=1000, n_eval=500, good=True, intervals=True):
    """A history dict shaped as examples/train.py writes it."""
    records = []
    for e in range(epochs):
        acc = (0.9 if good else 0.6) * (1 - 0.5 ** (e + 1))
        records.append({"epoch": e, "eta": 0.5, "seconds": 0.1,
                        "evaluation_cost": 1.0 / (e + 1),
                        "evaluation_accuracy": int(acc * n_eval),
                        "training_cost": 0.8 / (e + 1),
                        "training_accuracy": int(acc * n_train)})
    inter = [{"epoch": e, "mini_batches": 50, "evaluation_accuracy": 60 + e,
              "evaluation_cost": 1.5, "n": 100} for e in range(epochs)] if intervals else []
    return {"records": records, "intervals": inter, "compile_seconds": 0.0, "stop_reason": None,
            "n_training": n_train, "n_evaluation": n_eval,
            "config": {"mini_batch_size": 10, "monitor_every": 50}}


def assert_png(path):
    data = Path(path).read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 1024


def test_plot_one_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    fig = plot.plot_history(synthetic(), tmp_path / "curves.png", title="synthetic")
    assert_png(tmp_path / "curves.png")
    cost_ax, acc_ax = fig.axes
    assert acc_ax.get_ylabel() == "accuracy (%)"
    evaluation = [l for l in acc_ax.lines if l.get_label() == "evaluation data"][0]
    # x = epochs of training (record epoch + 1), y in percent of n_evaluation
    assert list(evaluation.get_xdata()) == [1, 2, 3, 4, 5]
    assert evaluation.get_ydata()[0] == pytest.approx(100 * 225 / 500)
    fine = [l for l in acc_ax.lines if "every 50 mini-batches" in l.get_label()][0]
    # 1000 examples / mini-batches of 10 = 100 mini-batches per epoch: 50 is half an epoch
    assert list(fine.get_xdata()) == pytest.approx([e + 0.5 for e in range(5)])
    assert len(cost_ax.lines) == 2   # evaluation and training cost, no subset cost


def test_plot_accepts_a_history_object_and_a_path(tmp_path):
    pytest.importorskip("matplotlib")
    d = synthetic(intervals=False)
    history = nnxp.History.from_dict(d)
    plot.plot_history(history, tmp_path / "from_history.png")
    assert_png(tmp_path / "from_history.png")
    # without n_training / n_evaluation accuracy stays a count, as network2 reports it
    assert plot.plot_history(history).axes[1].get_ylabel() == "correct examples"
    (tmp_path / "h.json").write_text(json.dumps(d))
    plot.plot_history(str(tmp_path / "h.json"), tmp_path / "from_path.png")
    assert_png(tmp_path / "from_path.png")


def test_overlay_of_two_histories(tmp_path):
    pytest.importorskip("matplotlib")
    fig = plot.plot_history([synthetic(), synthetic(good=False)], tmp_path / "cmp.png",
                            labels=["default", "large"])
    assert_png(tmp_path / "cmp.png")
    labels = [l.get_label() for l in fig.axes[1].lines]
    assert "default: evaluation data" in labels and "large: evaluation data" in labels
    colours = {l.get_color() for l in fig.axes[1].lines if "evaluation data" in l.get_label()}
    assert len(colours) == 2


def test_command_line_overlays_files(tmp_path):
    pytest.importorskip("matplotlib")
    for name, good in (("a.json", True), ("b.json", False)):
        (tmp_path / name).write_text(json.dumps(synthetic(good=good)))
    out = tmp_path / "cmp.png"
    result = subprocess.run([sys.executable, "-m", "nnxp.plot", str(tmp_path / "a.json"),
                             str(tmp_path / "b.json"), "--labels", "default", "large",
                             "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert_png(out)


def test_bad_inputs_are_clear_errors(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(nnxp.DataError, match="no history file"):
        plot.plot_history(tmp_path / "missing.json")
    (tmp_path / "net.json").write_text(json.dumps({"sizes": [2, 2]}))
    with pytest.raises(nnxp.DataError, match="records"):
        plot.plot_history(tmp_path / "net.json")
    with pytest.raises(nnxp.DataError, match="2 labels for 1 histories"):
        plot.plot_history([synthetic()], labels=["a", "b"])
    assert plot.main([str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.png")]) == 2


def _edited(edit):
    d = synthetic()
    edit(d)
    return d


HOSTILE_HISTORIES = {
    "records[1]": lambda d: d["records"].__setitem__(1, None),
    "records[0].epoch": lambda d: d["records"][0].__setitem__("epoch", "a"),
    "records[2].epoch": lambda d: d["records"][2].pop("epoch"),
    "records[0].evaluation_cost": lambda d: d["records"][0].__setitem__("evaluation_cost", "x"),
    "records[0].training_accuracy": lambda d: d["records"][0].__setitem__(
        "training_accuracy", [1]),
    "'n_evaluation'": lambda d: d.__setitem__("n_evaluation", "500"),
    "'config'": lambda d: d.__setitem__("config", [10]),
    "config.mini_batch_size": lambda d: d["config"].__setitem__("mini_batch_size", "10"),
    "intervals": lambda d: d.__setitem__("intervals", "abc"),
    "intervals[0].epoch": lambda d: d["intervals"][0].pop("epoch"),
    "intervals[1].n": lambda d: d["intervals"][1].__setitem__("n", 0),
}


@pytest.mark.parametrize("field", HOSTILE_HISTORIES)
def test_an_edited_history_file_is_refused_naming_the_field(tmp_path, field):
    """Each of these drew a traceback (TypeError, KeyError, AttributeError,
    ZeroDivisionError) from inside the plot, or silently drew text as a category."""
    pytest.importorskip("matplotlib")
    path = tmp_path / "h.json"
    path.write_text(json.dumps(_edited(HOSTILE_HISTORIES[field])))
    with pytest.raises(nnxp.DataError, match=f"field {re.escape(field)} must be"):
        plot.plot_history(path, tmp_path / "x.png")
    with pytest.raises(nnxp.DataError, match=f"field {re.escape(field)} must be"):
        plot.plot_history(_edited(HOSTILE_HISTORIES[field]))
    assert plot.main([str(path), "-o", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()


def test_plot_arguments_of_the_wrong_kind_are_clear_errors(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(nnxp.InputTypeError, match="labels must be a list"):
        plot.plot_history([synthetic(), synthetic()], labels="ab")  # was one label per letter
    with pytest.raises(nnxp.InputTypeError, match="labels must be a list"):
        plot.plot_history([synthetic()], labels=3)
    with pytest.raises(nnxp.InputTypeError, match="plot path"):
        plot.plot_history(synthetic(), 3)
    with pytest.raises(nnxp.DataError, match="empty list of histories"):
        plot.plot_history([], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_missing_matplotlib_in_process(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib -> ImportError
    with pytest.raises(plot.MissingMatplotlib,
                       match=r"from the nnxp checkout with: pip install -r backends/plot\.txt"):
        plot.plot_history(synthetic(), tmp_path / "x.png")
    assert issubclass(plot.MissingMatplotlib, nnxp.NNXPError)
    assert not (tmp_path / "x.png").exists()


def test_missing_matplotlib_command_line(tmp_path):
    (tmp_path / "h.json").write_text(json.dumps(synthetic()))
    code = ("import sys; sys.modules['matplotlib'] = None; from nnxp.plot import main; "
            f"sys.exit(main([{str(tmp_path / 'h.json')!r}, '-o', {str(tmp_path / 'x.png')!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 2
    assert "matplotlib" in result.stderr and "pip install -r backends/plot.txt" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_a_plot_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """Rendered in memory, then written atomically: a plot already there is kept when drawing
    fails half-way, a suffix matplotlib does not know is a ConfigError and a place that cannot
    be written a FileError (both before anything is written); the suffix picks the format."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    old = tmp_path / "curves.png"
    old.write_bytes(b"the plot of yesterday")
    real = Figure.savefig

    def breaks_half_way(self, target, **kw):
        target.write(b"\x89PNG half")
        raise RuntimeError("disk full, say")
    monkeypatch.setattr(Figure, "savefig", breaks_half_way)
    with pytest.raises(RuntimeError, match="disk full"):
        plot.plot_history(synthetic(), old)
    assert old.read_bytes() == b"the plot of yesterday"
    monkeypatch.setattr(Figure, "savefig", real)
    with pytest.raises(nnxp.ConfigError, match="'xyz'.*png"):
        plot.plot_history(synthetic(), tmp_path / "curves.xyz")
    assert not (tmp_path / "curves.xyz").exists()
    with pytest.raises(nnxp.FileError, match="plot"):
        plot.plot_history(synthetic(), old / "inside.png")
    assert old.read_bytes() == b"the plot of yesterday"
    plot.plot_history(synthetic(), tmp_path / "curves.svg")
    assert b"<svg" in (tmp_path / "curves.svg").read_bytes()[:2000]
    plot.plot_history(synthetic(), old)
    assert_png(old)


def _cli(*args, warnings_as_errors=False):
    return subprocess.run([sys.executable, *(["-W", "error"] if warnings_as_errors else []),
                           "-m", "nnxp.plot", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


def test_the_command_line_runs_without_warnings_and_answers_in_one_line(tmp_path):
    """`python -m nnxp.plot` printed runpy's RuntimeWarning at every run (nnxp's import had
    imported nnxp.plot already), and failed under -W error; a bad flag printed argparse's
    usage block."""
    pytest.importorskip("matplotlib")
    (tmp_path / "a.json").write_text(json.dumps(synthetic()))
    result = _cli(tmp_path / "a.json", "-o", tmp_path / "a.png", warnings_as_errors=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert_png(tmp_path / "a.png")
    bad = _cli("--bogus")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    import nnxp as again  # nnxp.plot is still there for `import nnxp` users
    assert again.plot.plot_history is plot.plot_history


def test_the_picture_never_replaces_a_history_it_draws(tmp_path):
    """-o naming one of the histories (a name without a picture's suffix) wrote the PNG over
    the run's only history."""
    pytest.importorskip("matplotlib")
    history = tmp_path / "run1"
    history.write_text(json.dumps(synthetic()))
    result = _cli(history, "-o", history)
    assert result.returncode == 2 and "would replace it" in result.stderr, result.stderr
    assert json.loads(history.read_text()) == synthetic()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow, before the error
def test_a_format_error_and_a_drawing_error_are_told_apart(tmp_path):
    """Every ValueError of savefig was reported as an unknown format ("cannot draw a plot as
    'png' ... matplotlib writes ..., png"): costs of +-1e308 fail in matplotlib's tick
    placement, a DataError saying so now."""
    pytest.importorskip("matplotlib")
    huge = synthetic(epochs=2)
    huge["records"][0]["evaluation_cost"], huge["records"][1]["evaluation_cost"] = 1e308, -1e308
    with pytest.raises(nnxp.DataError, match="matplotlib could not draw the plot"):
        plot.plot_history(huge, tmp_path / "x.png")
    with pytest.raises(nnxp.ConfigError, match="cannot draw a plot as 'jpeg2'"):
        plot.plot_history(synthetic(), tmp_path / "x.jpeg2")
    with pytest.raises(nnxp.ConfigError, match="cannot draw a plot as 'jpeg2'"):
        plot.check_plot_path(tmp_path / "y.jpeg2")
    assert list(tmp_path.iterdir()) == []
