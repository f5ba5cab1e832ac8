"""examples/train.py, run as a user runs it: a subprocess on the NumPy backend (and the error
paths of examples/conv.py and examples/ensemble.py).

The MNIST runs need NNXP_DATA_DIR (skipped without it, failed with NNXP_REQUIRE_DATA=1, as in
conftest.py); --help and the error paths run everywhere.  Thresholds were measured: 2 epochs on
the first 2,000 training images with [784, 20, 10] reach 81-86% validation accuracy after the
first epoch and 84-88% after the second for seeds 0-4; the tests ask for 75% and 80%.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nnxp
from conftest import mnist_dir, optional

TRAIN = Path(__file__).resolve().parent.parent / "examples" / "train.py"
SMALL = ["--n-train", "2000", "--epochs", "2", "--sizes", "784", "20", "10", "--seed", "0"]
TINY = ["--n-train", "500", "--epochs", "2", "--dtype", "float64", "--seed", "1"]
EPOCH_LINE = re.compile(r"Epoch (\d+) training complete \(([\d.]+) s\); cost on evaluation "
                        r"data: ([\d.]+); accuracy on evaluation data: (\d+) / 10000")
TEST_LINE = re.compile(r"^test accuracy: (\d+) / 10000 \(([\d.]+)%\)$", re.M)
FLAGS = ["--sizes", "--activation", "--slope", "--output-activation", "--cost", "--init",
         "--eta", "--lmbda", "--l1", "--momentum", "--nesterov", "--mini-batch-size",
         "--epochs", "--early-stopping", "--schedule", "--seed", "--dtype", "--backend",
         "--device", "--data-dir", "--no-download", "--digits", "--n-train",
         "--monitor-every", "--monitor-subset", "--save", "--checkpoint", "--resume",
         "--history", "--plot", "--engine", "--health", "--other-data"]


def train(*args, env=None, timeout=600):
    environ = {**os.environ, "NNXP_BACKEND": "numpy", **(env or {})}
    return subprocess.run([sys.executable, str(TRAIN), *map(str, args)], capture_output=True,
                          text=True, env=environ, timeout=timeout)


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def data_dir():
    return mnist_dir()


@pytest.fixture(scope="module")
def small_run(data_dir, tmp_path_factory):
    """One 2-epoch run, its files and its output."""
    folder = tmp_path_factory.mktemp("train")
    files = {k: folder / f"{k}.json" for k in ("net", "history")}
    plot = []
    try:
        import matplotlib  # noqa: F401
        files["plot"] = folder / "curves.png"
        plot = ["--plot", files["plot"]]
    except ImportError:
        pass
    out = ok(train(*SMALL, "--save", files["net"], "--history", files["history"], *plot,
                   env={"NNXP_DATA_DIR": str(data_dir)}))
    return out, files


def test_prints_one_line_per_epoch_and_the_test_accuracy(small_run):
    out, _ = small_run
    assert out.splitlines()[0] == "backend numpy, device cpu, dtype float32, sizes [784, 20, 10]"
    epochs = EPOCH_LINE.findall(out)
    assert [int(e[0]) for e in epochs] == [0, 1]
    assert int(epochs[0][3]) > 7500 and int(epochs[1][3]) > 8000
    assert all(float(cost) > 0 and float(seconds) > 0 for _, seconds, cost, _ in epochs)
    assert TEST_LINE.search(out)
    assert re.search(r"best validation accuracy: \d+ / 10000 \([\d.]+%\) after [12] epochs", out)
    assert re.search(r"seconds per epoch: [\d.]+ \(mean of 2, training only\); compile "
                     r"seconds: [\d.]+", out)
    assert "\r" not in out  # no progress bar when stdout is not a terminal


def test_history_json(small_run):
    out, files = small_run
    d = json.loads(files["history"].read_text())
    assert d["n_training"] == 2000 and d["n_evaluation"] == 10000 and d["n_test"] == 10000
    records = d["records"]
    assert [r["epoch"] for r in records] == [0, 1]
    printed = [int(e[3]) for e in EPOCH_LINE.findall(out)]
    assert [r["evaluation_accuracy"] for r in records] == printed
    assert all(r["evaluation_cost"] > 0 and r["seconds"] > 0 for r in records)
    assert d["test_accuracy"] == int(TEST_LINE.search(out).group(1))
    assert d["config"]["sizes"] == [784, 20, 10] and d["config"]["backend"] == "numpy"
    assert d["config"]["eta"] == 0.5 and d["config"]["lmbda"] == 5.0
    assert nnxp.History.from_dict(d).evaluation_accuracy == printed
    if "plot" in files:
        assert files["plot"].read_bytes()[:4] == b"\x89PNG"


def test_saved_network_gives_the_printed_test_accuracy(small_run, data_dir):
    out, files = small_run
    with nnxp.use_backend("numpy"):
        net = nnxp.load(files["net"])
        _, _, test = nnxp.datasets.load_mnist(data_dir, download=False, dtype=net.dtype)
        assert net.sizes == [784, 20, 10] and net.dtype == "float32"
        assert net.accuracy(test) == int(TEST_LINE.search(out).group(1))


def test_resume_continues_a_checkpoint_exactly(small_run, data_dir, tmp_path):
    out, _ = small_run
    env = {"NNXP_DATA_DIR": str(data_dir)}
    checkpoint = tmp_path / "ck.json"
    first = ok(train(*SMALL[:2], "--epochs", "1", *SMALL[4:], "--checkpoint", checkpoint,
                     env=env))
    assert len(EPOCH_LINE.findall(first)) == 1
    history = tmp_path / "resumed.json"
    resumed = ok(train("--n-train", "2000", "--resume", checkpoint, "--epochs", "2",
                       "--history", history, env=env))
    assert [e[0] for e in EPOCH_LINE.findall(resumed)] == ["1"]  # only the new epoch runs
    records = json.loads(history.read_text())["records"]
    assert [r["epoch"] for r in records] == [0, 1]
    # exact resume: the same numbers as the run that never stopped
    uninterrupted = [(e[2], e[3]) for e in EPOCH_LINE.findall(out)]
    assert [(f"{r['evaluation_cost']:.4f}", str(r["evaluation_accuracy"]))
            for r in records] == uninterrupted
    assert TEST_LINE.search(resumed).group(1) == TEST_LINE.search(out).group(1)


@pytest.fixture(scope="module")
def numpy_float64_run(data_dir):
    return ok(train(*TINY, "--backend", "numpy", env={"NNXP_DATA_DIR": str(data_dir)}))


def test_every_backend_prints_the_same_numbers(backend, data_dir, numpy_float64_run):
    """In float64 every backend's epoch lines and test accuracy match NumPy's."""
    out = ok(train(*TINY, "--backend", backend.name, env={"NNXP_DATA_DIR": str(data_dir)}))
    assert out.splitlines()[0].startswith(f"backend {backend.name}, device ")
    assert [e[2:] for e in EPOCH_LINE.findall(out)] == \
        [e[2:] for e in EPOCH_LINE.findall(numpy_float64_run)]
    assert TEST_LINE.search(out).group(1) == TEST_LINE.search(numpy_float64_run).group(1)


def test_help_documents_every_flag():
    result = train("--help")
    assert result.returncode == 0
    missing = [flag for flag in FLAGS if flag not in result.stdout]
    assert not missing
    for word in ("NNXP_BACKEND", "NNXP_DATA_DIR", "sigmoid", "tanh", "relu", "leaky_relu",
                 "quadratic", "cross_entropy", "log_likelihood", "he", "glorot", "large"):
        assert word in result.stdout


def test_missing_mnist_is_one_clear_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = train("--data-dir", empty, "--no-download", "--epochs", "1",
                   env={"NNXP_DATA_DIR": "/nonexistent"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("train.py: ")
    assert "MNIST files missing" in lines[0] and "NNXP_DATA_DIR" in lines[0]
    assert "Traceback" not in result.stderr
    assert not list(empty.iterdir())


def test_bad_configuration_is_one_clear_line():
    result = train("--sizes", "784", "--no-download", "--data-dir", "/nonexistent")
    assert result.returncode == 2
    assert result.stderr.startswith("train.py: sizes must list at least two")
    assert "Traceback" not in result.stderr


def test_a_place_that_cannot_be_written_fails_before_training(tmp_path, data_dir):
    """--save, --history and --plot are checked before the run (not after an hour of
    training); nothing is trained, nothing is written."""
    blocker = tmp_path / "a_file"
    blocker.write_text("keep")
    for flag in ("--save", "--history"):
        result = train(flag, blocker / "net.json", "--epochs", "1", "--n-train", "100",
                       "--data-dir", data_dir, "--no-download")
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith("train.py: cannot save")
        assert "Epoch 0" not in result.stdout and "Traceback" not in result.stderr
    assert blocker.read_text() == "keep"


def example(script, *args, env=None):
    environ = {**os.environ, "NNXP_BACKEND": "numpy", **(env or {})}
    return subprocess.run([sys.executable, str(TRAIN.parent / script), *map(str, args)],
                          capture_output=True, text=True, env=environ, timeout=600)


def one_line(result, start):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("script", ["conv.py", "ensemble.py"])
def test_conv_and_ensemble_print_bad_input_as_one_line(script, tmp_path):
    """An nnxp refusal (here: NNXP_DATA_DIR names a file) is one line and exit code 2, as
    in train.py and find_lr.py (was a traceback and exit code 1)."""
    not_a_folder = tmp_path / "a_file"
    not_a_folder.write_text("")
    one_line(example(script, "--n-train", "10", env={"NNXP_DATA_DIR": str(not_a_folder)}),
             f"{script}: MNIST folder")


def test_ensemble_bad_seed_is_one_line(data_dir):
    one_line(example("ensemble.py", "--n-train", "10", "--n-test", "10", "--seed", "-1",
                     env={"NNXP_DATA_DIR": str(data_dir)}), "ensemble.py: seed must be")


def test_conv_bad_seed_is_refused_before_loading_anything(tmp_path):
    result = example("conv.py", "--seed", "-1", env={"NNXP_DATA_DIR": str(tmp_path / "no")})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == "conv.py: --seed must be between 0 and 2**32 - 1, got -1 (see --help)\n"


@pytest.mark.parametrize("args, start", [
    (["bogus"], "run: unknown command 'bogus'; the commands are train, tests and setup"),
    ([], "run: a command is needed: train, tests or setup"),
])
def test_run_script_refuses_an_unknown_command_in_one_line(args, start):
    """./run with no or an unknown command sets nothing up: one line on stderr, exit code 2
    (was: the usage on stdout, as if asked for); --help prints the usage, exit code 0."""
    script = TRAIN.parent.parent / "run"
    one_line(subprocess.run(["bash", str(script), *args], capture_output=True, text=True,
                            timeout=60), start)
    usage = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True,
                           timeout=60)
    assert usage.returncode == 0 and "./run train" in usage.stdout and not usage.stderr


@pytest.mark.parametrize("flag", ["--save", "--resume", "--history", "--plot", "--checkpoint"])
def test_an_empty_path_is_refused_before_anything(flag, tmp_path):
    """--save "" (a shell variable left empty) read as not given: the run trained and saved
    nothing, and --resume "" trained a fresh network; now one line, exit code 2."""
    one_line(train(flag, "", "--epochs", "1", "--no-download", "--data-dir", tmp_path / "no"),
             f"train.py: {flag} needs a file path, got an empty one")


def test_a_bad_monitor_subset_is_refused_without_monitor_every(tmp_path):
    # was: ignored (it only applies with --monitor-every), the run went on
    one_line(train("--monitor-subset", "0", "--no-download", "--data-dir", tmp_path / "no"),
             "train.py: monitor_subset must be > 0, got 0")


def test_find_lr_refuses_an_empty_plot_path(tmp_path):
    # was: --plot "" read as not given; the trials ran and no plot was saved
    one_line(example("find_lr.py", "--plot", "", env={"NNXP_DATA_DIR": str(tmp_path / "no")}),
             "find_lr.py: --plot needs a file path, got an empty one")


def test_find_lr_refuses_more_training_images_than_there_are(data_dir):
    # was: --n-train 100000000 quietly ran on the 50,000 there are
    one_line(example("find_lr.py", "--n-train", "100000000", "--budget-batches", "10",
                     env={"NNXP_DATA_DIR": str(data_dir)}),
             "find_lr.py: --n-train 100000000, but MNIST's training split has only 50000")


@pytest.mark.parametrize("script, args, start", [
    ("train.py", ["--eta", "abc"], "train.py: argument --eta: invalid float value: 'abc'"),
    ("train.py", ["--bogus"], "train.py: unrecognized arguments: --bogus"),
    ("find_lr.py", ["--mode", "x"], "find_lr.py: argument --mode: invalid choice: 'x'"),
    ("conv.py", ["--n-train", "0"], "conv.py: --n-train must be between 1 and 50000, got 0"),
    ("ensemble.py", ["--members", "x"], "ensemble.py: argument --members: invalid int value"),
])
def test_a_flag_argparse_refuses_is_one_line_too(script, args, start, tmp_path):
    """argparse's refusals are one line and exit code 2 (was: the whole usage, 15 lines for
    train.py, then the message)."""
    one_line(example(script, *args, env={"NNXP_DATA_DIR": str(tmp_path / "no")}), start)


def test_nnxp_device_is_not_given_to_another_backend(tmp_path):
    """NNXP_DEVICE belongs to the backend NNXP_BACKEND names (nnxp's rule); --backend numpy
    with NNXP_DEVICE=device1 set for array_api_strict failed with 'numpy runs on the CPU
    only; got device device1'.  Now the run goes on (to the missing data here)."""
    optional("array_api_strict")
    result = train("--backend", "numpy", "--no-download", "--data-dir", tmp_path / "no",
                   env={"NNXP_BACKEND": "array_api_strict", "NNXP_DEVICE": "device1"})
    one_line(result, "train.py: MNIST folder")
    assert "backend numpy, device cpu" in result.stdout


def test_resume_refuses_flags_it_would_ignore(tmp_path):
    """A resumed run keeps its checkpoint's network and hyper-parameters: --eta 0.1 or
    --sizes with --resume were ignored without a word; now refused before anything."""
    one_line(train("--resume", tmp_path / "run.json", "--eta", "0.1", "--sizes", "784", "10",
                   "--epochs", "3", "--no-download", "--data-dir", tmp_path / "no"),
             "train.py: --resume continues the checkpoint's run with its network and "
             "hyper-parameters; --sizes, --eta would be ignored: drop them")
    # the flags a resumed run does use go on to the next check (here: no such checkpoint)
    one_line(train("--resume", tmp_path / "run.json", "--epochs", "3", "--dtype", "float32",
                   "--no-download", "--data-dir", tmp_path / "no"), "train.py: no network file")


@pytest.mark.parametrize("flags", [("--save", "--checkpoint"), ("--save", "--history"),
                                   ("--history", "--plot"), ("--resume", "--save")])
def test_two_outputs_at_one_path_are_refused_before_anything(flags, tmp_path):
    """--save run.json --checkpoint run.json: the network saved at the end replaced the
    checkpoint (a later --resume found "a network, not a checkpoint"); --save x --history x
    kept only the history; --resume x --save x replaced the checkpoint it resumed.  Now one
    line, exit code 2, before anything is loaded, trained or written."""
    path = tmp_path / "run.json"
    path.write_text("keep")
    first, second = flags
    result = train(first, path, second, tmp_path / "." / "run.json", "--no-download",
                   "--data-dir", tmp_path / "no")
    one_line(result, "train.py: --")
    assert "name the same file" in result.stderr
    assert first in result.stderr and second in result.stderr
    assert path.read_text() == "keep"


@pytest.mark.parametrize("script", ["scenario_broken.py", "scenario_noise.py",
                                    "scenario_init.py"])
def test_scenarios_print_bad_input_as_one_line(script, tmp_path):
    """An nnxp refusal in a scenario script (here NNXP_DATA_DIR names a file; --n-train 0 or
    --epochs -1 alike) is one line and exit code 2, as in the other examples (was a
    traceback and exit code 1)."""
    not_a_folder = tmp_path / "a_file"
    not_a_folder.write_text("")
    one_line(example(script, "--n-train", "10", env={"NNXP_DATA_DIR": str(not_a_folder)}),
             f"{script}: MNIST folder")


def test_scenario_broken_refuses_no_good_epochs_before_the_bad_ones():
    """--epochs 0 trained the 30 bad epochs, then failed printing the accuracy after the good
    epochs (IndexError); now refused before anything is loaded."""
    one_line(example("scenario_broken.py", "--epochs", "0",
                     env={"NNXP_DATA_DIR": "/nonexistent"}),
             "scenario_broken.py: --epochs must be at least 1 and --bad-epochs at least 0, "
             "got 0 and 30")


def test_resume_refuses_a_flag_typed_with_its_default_value(tmp_path):
    """--eta 0.5 and --lmbda 5.0 are the defaults: with --resume they were ignored without a
    word (the run went on at the checkpoint's eta), where any other value was refused."""
    one_line(train("--resume", tmp_path / "run.json", "--eta", "0.5", "--lmbda", "5.0",
                   "--sizes", "784", "30", "10", "--no-download", "--data-dir",
                   tmp_path / "no"),
             "train.py: --resume continues the checkpoint's run with its network and "
             "hyper-parameters; --sizes, --eta, --lmbda would be ignored: drop them")


def test_a_checkpoint_that_exists_is_not_replaced_by_a_new_run(tmp_path, data_dir):
    """The same command run again instead of --resume replaced the earlier run's checkpoint
    after its first epoch; refused now, before anything loads, and the file is kept.
    --resume X --checkpoint X continues it in place."""
    checkpoint = tmp_path / "ck.json"
    checkpoint.write_text("an earlier run's checkpoint")
    one_line(train("--checkpoint", checkpoint, "--no-download", "--data-dir", tmp_path / "no"),
             f"train.py: --checkpoint {checkpoint} exists")
    assert checkpoint.read_text() == "an earlier run's checkpoint"
    env = {"NNXP_DATA_DIR": str(data_dir)}
    checkpoint.unlink()
    ok(train("--n-train", "300", "--epochs", "1", "--sizes", "784", "10", "10",
             "--checkpoint", checkpoint, env=env))
    ok(train("--n-train", "300", "--epochs", "2", "--resume", checkpoint, "--checkpoint",
             checkpoint, env=env))
    assert nnxp.load(checkpoint).checkpoint[1].epoch == 2


def test_a_diverged_epoch_is_not_the_summarys_best(tmp_path, data_dir):
    """eta 1e300 diverges in the first epoch: its accuracy was measured on the NaN
    parameters (every example class 0: 48% of the digits 0 and 1) and the summary called it
    the best validation accuracy, before a test accuracy of 0%."""
    out = ok(train("--digits", "0", "1", "--n-train", "200", "--epochs", "1", "--dtype",
                   "float64", "--eta", "1e300", env={"NNXP_DATA_DIR": str(data_dir)}))
    assert "diverged" in out and "best validation accuracy" not in out


@pytest.mark.parametrize("script, suffix", [("train.py", "jpeg2"), ("find_lr.py", "txt")])
def test_a_plot_format_matplotlib_does_not_write_is_refused_before_anything(script, suffix,
                                                                          tmp_path):
    """The suffix was checked when drawing, after the whole run (train.py then exited
    without its summary)."""
    optional("matplotlib")
    result = example(script, "--plot", tmp_path / f"curves.{suffix}",
                     env={"NNXP_DATA_DIR": str(tmp_path / "no")})
    one_line(result, f"{script}: cannot draw a plot as {suffix!r}")
    assert list(tmp_path.iterdir()) == []


def test_ensemble_of_too_many_members_is_the_memory_error_in_one_line(data_dir):
    """--members 10**12: the script built the seed list itself (16 GB, then the OOM killer)
    before Population's memory bound could refuse it."""
    one_line(example("ensemble.py", "--members", "1000000000000", "--n-train", "20",
                     "--n-test", "20", "--epochs", "1", env={"NNXP_DATA_DIR": str(data_dir)}),
             "ensemble.py: a Population of 1,000,000,000,000 members")


@pytest.mark.parametrize("name, status", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_ends_a_run_in_one_line_and_leaves_a_whole_checkpoint(tmp_path, data_dir,
                                                                        name, status):
    """SIGTERM (timeout, job schedulers) killed the process where it stood: a hidden
    temporary file of a checkpoint being saved stayed beside it; Ctrl-C printed a traceback.
    Now an exit: status 143 (130), one line, no temporary file, the checkpoint of the last
    whole epoch loads."""
    import signal
    import time
    checkpoint = tmp_path / "ck.json"
    environ = {**os.environ, "NNXP_BACKEND": "numpy", "NNXP_DATA_DIR": str(data_dir)}
    run = subprocess.Popen([sys.executable, str(TRAIN), "--n-train", "2000", "--epochs", "500",
                            "--sizes", "784", "100", "10", "--checkpoint", str(checkpoint)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=environ)
    try:
        deadline = time.time() + 120
        while not checkpoint.exists() and time.time() < deadline and run.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)
        run.send_signal(getattr(signal, name))
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == status, out + err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, err
    assert [p.name for p in tmp_path.iterdir()] == ["ck.json"]
    assert nnxp.load(checkpoint).checkpoint[1].epoch >= 1


def test_other_data_resumes_on_other_data_from_the_command_line(tmp_path, data_dir):
    """The refusal of other data advised other_data=True, which train.py had no flag for."""
    env = {"NNXP_DATA_DIR": str(data_dir)}
    checkpoint = tmp_path / "ck.json"
    ok(train("--n-train", "300", "--epochs", "1", "--sizes", "784", "10", "10",
             "--checkpoint", checkpoint, env=env))
    refused = train("--n-train", "400", "--epochs", "2", "--resume", checkpoint, env=env)
    one_line(refused, "train.py:")
    assert "--other-data" in refused.stderr and "other_data=True" not in refused.stderr
    ok(train("--n-train", "400", "--epochs", "2", "--resume", checkpoint, "--checkpoint",
             checkpoint, "--other-data", env=env))
    assert nnxp.load(checkpoint).checkpoint[1].epoch == 2
    one_line(train("--other-data", "--no-download", "--data-dir", tmp_path / "no"),
             "train.py: --other-data goes with --resume")
