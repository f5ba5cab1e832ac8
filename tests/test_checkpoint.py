"""Checkpoints (nnxp/checkpoint.py): resumed training ends bit for bit where an uninterrupted
run does (also after a real SIGINT); every field is checked, edited files meet a DataError and
nothing else; a checkpoint never decides where to write."""

import json
import os
import re

import numpy as np
import pytest

import nnxp
from conftest import params_numpy, to_numpy

RNG = np.random.default_rng(0)
X, Y = RNG.random((90, 6)), RNG.integers(0, 3, 90)
XV, YV = RNG.random((30, 6)), RNG.integers(0, 3, 30)


@pytest.mark.parametrize("options", [
    dict(lmbda=1.0, momentum=0.7),
    dict(lmbda=1.0, nesterov=True, momentum=0.5, schedule=1, l1=0.1),
    dict(shuffle=5, early_stopping=2),
], ids=["momentum", "nesterov-schedule-l1", "seeded-shuffle"])
def test_resumed_training_ends_with_the_same_weights(backend, tmp_path, options):
    def fresh():
        return nnxp.Network([6, 5, 3], seed=7)
    straight = fresh()
    h_straight = straight.SGD((X, Y), 5, 10, 0.5, evaluation_data=(XV, YV),
                              monitor_evaluation_accuracy=True, **options)

    class Crash(Exception):
        pass

    def crash_after_two(record, net):
        if record["epoch"] == 2:
            raise Crash  # the process dies during epoch 3's bookkeeping
    path = tmp_path / "run.json"
    with pytest.raises(Crash):
        fresh().SGD((X, Y), 5, 10, 0.5, evaluation_data=(XV, YV),
                    monitor_evaluation_accuracy=True, checkpoint=path,
                    callbacks=[crash_after_two], **options)
    net = nnxp.load(path)
    assert net.checkpoint[1].epoch == 2
    h = net.resume((X, Y), (XV, YV))
    for a, b in zip(params_numpy(net), params_numpy(straight)):
        np.testing.assert_array_equal(a, b)
    assert h.evaluation_accuracy == h_straight.evaluation_accuracy
    assert [r["eta"] for r in h.records] == [r["eta"] for r in h_straight.records]
    assert h.stop_reason == h_straight.stop_reason


def test_a_jax_engine_run_resumes_on_numpy_with_engine_plain(tmp_path):
    """A run trained with JAX's own engine ("jax", lax.scan) saved halfway, resumed on NumPy
    with resume(engine="plain"), ends where the JAX run that went straight through ends
    (float64: the two engines compute the same step, to rounding)."""
    from conftest import optional
    optional("jax")
    options = dict(lmbda=1.0, momentum=0.7, shuffle=3)
    path = tmp_path / "run.json"
    with nnxp.use_backend("jax"):
        straight = nnxp.Network([6, 5, 3], seed=7, dtype="float64")
        straight.SGD((X, Y), 4, 10, 0.5, engine="jax", **options)
        nnxp.Network([6, 5, 3], seed=7, dtype="float64").SGD(
            (X, Y), 2, 10, 0.5, engine="jax", checkpoint=path, **options)
    with nnxp.use_backend("numpy"):
        net = nnxp.load(path, dtype="float64")
        with pytest.raises(nnxp.ConfigError, match="engine='jax'"):
            net.resume((X, Y), epochs=4)
        net.resume((X, Y), epochs=4, engine="plain")
    assert net.checkpoint[1].epoch == 4
    for a, b in zip(params_numpy(net), params_numpy(straight)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_resume_needs_a_checkpoint(backend):
    with pytest.raises(nnxp.ConfigError, match="not loaded from a checkpoint"):
        nnxp.Network([6, 3]).resume((X, Y))


def _checkpointed(tmp_path, epochs=2, **options):
    path = tmp_path / "run.json"
    net = nnxp.Network([6, 5, 3], seed=7)
    net.SGD((X, Y), epochs, 10, 0.5, lmbda=1.0, momentum=0.5, evaluation_data=(XV, YV),
            monitor_evaluation_accuracy=True, checkpoint=path, **options)
    return path


def test_a_lmbda_past_float32_at_n_1_loads_and_one_past_it_at_n_is_refused(tmp_path):
    """Found by test_edited_checkpoints_meet_only_nnxp_errors_many: a checkpoint whose lmbda
    is float32's largest value (3.4e38) raised NumPy's "overflow encountered in cast" at load,
    which built its optimizer state with n = 1 (lmbda / 1 does not fit float32; the run's
    lmbda / n does).  Now load uses the run's n, and a hyper-parameter that does not fit the
    network's dtype is a ConfigError naming it, at load and at SGD, never a cast to inf."""
    import warnings
    path = _checkpointed(tmp_path)
    d = json.loads(path.read_text())
    d["checkpoint"]["plan"]["lmbda"] = 3.4028235677973366e+38
    path.write_text(json.dumps(d))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nnxp.load(path)   # loads: lmbda / 90 fits float32
    d["checkpoint"]["plan"]["lmbda"] = 1e300
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.ConfigError, match=r"decay \(lmbda / n\) = 1\.111e\+298 is "
                                               r"beyond the network's float32"):
        nnxp.load(path)
    for options in (dict(eta=1e300), dict(eta=0.5, lmbda=1e300), dict(eta=0.5, l1=1e300)):
        name = "eta" if options["eta"] > 1 else "decay" if "lmbda" in options else "l1"
        with pytest.raises(nnxp.ConfigError, match=rf"^{name}\b.* is beyond the network's "
                                                   r"float32 .*dtype='float64'"):
            nnxp.Network([6, 5, 3], seed=7).SGD((X, Y), 1, 10, **options)
    h = nnxp.Network([6, 5, 3], seed=7, dtype="float64").SGD((X, Y), 1, 10, 1e300)
    assert h.stop_reason.startswith("diverged")   # float64 holds it: the run says why it failed


def test_hyper_parameters_the_dtype_rounds_to_zero_are_refused(backend):
    # eta = 1e-50 in float32 is 0: the run would leave the weights where they are, silently
    for options, name in ((dict(eta=1e-50), "eta"), (dict(eta=0.5, lmbda=1e-44), "decay"),
                          (dict(eta=0.5, l1=1e-44), "l1")):
        with pytest.raises(nnxp.ConfigError, match=rf"^{name}\b.* is below the smallest number "
                                                   r"the network's float32 holds .*train as 0"):
            nnxp.Network([6, 5, 3], seed=7).SGD((X, Y), 1, 10, **options)
    pop = nnxp.Population([6, 5, 3], seeds=[7, 8])
    with pytest.raises(nnxp.ConfigError, match=r"^eta = 1e-50 is below"):
        pop.SGD((X, Y), 1, 10, eta=[0.5, 1e-50])
    net = nnxp.Network([6, 5, 3], seed=7)
    net.SGD((X, Y), 1, 10, 1e-44)   # a subnormal float32 still holds: it trains (slowly)
    nnxp.Network([6, 5, 3], seed=7, dtype="float64").SGD((X, Y), 1, 10, 1e-50)


def test_a_moved_checkpoint_resumes_where_it_is_now(backend, tmp_path):
    path = _checkpointed(tmp_path)
    moved = tmp_path / "elsewhere" / "moved.json"
    moved.parent.mkdir()
    os.replace(path, moved)
    net = nnxp.load(moved)
    net.resume((X, Y), (XV, YV), epochs=3)
    assert not path.exists()  # never written back to where it was made
    assert nnxp.load(moved).checkpoint[1].epoch == 3
    other = tmp_path / "other.json"
    nnxp.load(moved).resume((X, Y), (XV, YV), epochs=4, checkpoint=other)
    assert nnxp.load(other).checkpoint[1].epoch == 4
    assert nnxp.load(moved).checkpoint[1].epoch == 3


def test_a_path_stored_in_a_file_is_ignored(tmp_path):
    path = _checkpointed(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    d = json.loads(path.read_text())
    d["checkpoint"]["plan"]["checkpoint"] = str(victim)   # an old format's field, edited
    d["checkpoint"]["config"] = {"checkpoint": str(victim)}
    path.write_text(json.dumps(d))
    nnxp.load(path).resume((X, Y), (XV, YV), epochs=3)  # unknown fields: information only
    assert victim.read_text() == "precious"
    assert nnxp.load(path).checkpoint[1].epoch == 3


EDITS = [
    (("kind",), "nnxp.something_else", "kind"),
    (("plan", "mini_batch_size"), -1, "plan.mini_batch_size"),
    (("plan", "eta"), -0.5, "plan.eta"),
    (("plan", "epochs"), "ten", "plan.epochs"),
    (("plan", "optimizer"), {"name": "adam"}, "plan.optimizer"),
    (("plan", "shuffle"), "yes", "plan.shuffle"),
    (("state", "epoch"), 99, "state.epoch"),
    (("state", "rng_state"), {"bit_generator": "PCG64", "state": {"state": -1}},
     "state.rng_state"),
    (("state", "trackers"), [], "state.trackers"),
    (("state", "n_train"), 0, "state.n_train"),
    (("optimizer_state",), [[1.0]], "optimizer_state"),
    (("history", "records"), "lots", "history.records"),
    # these were accepted: a resumed run carried them into its History (and its plot)
    (("history", "records", 0, "epoch"), "one", "history.records[0].epoch"),
    (("history", "records", 1, "evaluation_accuracy"), "97%",
     "history.records[1].evaluation_accuracy"),
    (("history", "records", 0, "seconds"), [1.5], "history.records[0].seconds"),
    (("history", "compile_seconds"), -1.0, "history.compile_seconds"),
    (("optimizer_layout",), True, "optimizer_layout"),   # read as the old layout 1
]


@pytest.mark.parametrize("where,value,field", EDITS, ids=[e[2] for e in EDITS])
def test_edited_fields_are_named_in_the_error(tmp_path, where, value, field):
    path = _checkpointed(tmp_path)
    d = json.loads(path.read_text())
    target = d["checkpoint"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match=re.escape(f"checkpoint field {field}")):
        nnxp.load(path)


def _dropout_checkpoint(tmp_path):
    """The checkpoint of one epoch of a dropout network (it saves mask states too)."""
    path = tmp_path / "run.json"
    net = nnxp.Network([6, nnxp.layers.Dense(5, "Sigmoid", p_dropout=0.2),
                        nnxp.layers.Softmax(3)], cost=nnxp.LogLikelihoodCost, seed=0)
    net.SGD((X, Y), 1, 10, 0.5, checkpoint=path)
    return path


def test_a_dropout_mask_state_that_is_not_an_object_is_refused(tmp_path):
    """It was a TypeError from NumPy's bit generator (state must be a dict)."""
    path = _dropout_checkpoint(tmp_path)
    d = json.loads(path.read_text())
    for value in (None, "pcg64", 3):
        d["checkpoint"]["state"]["mask_states"][0] = value
        path.write_text(json.dumps(d))
        with pytest.raises(nnxp.DataError, match=re.escape("state.mask_states[0]")):
            nnxp.load(path)


@pytest.mark.parametrize("field", ["rng_state", "mask_states"])
@pytest.mark.parametrize("edit", [
    lambda s: s["state"].update(inc=s["state"]["inc"] + 0.5),   # NumPy truncated it
    lambda s: s["state"].update(state=float(s["state"]["state"])),
    lambda s: s.update(extra=1)], ids=["float inc", "float state", "extra key"])
def test_an_rng_state_numpy_reads_back_otherwise_is_refused(tmp_path, field, edit):
    """These were taken: NumPy set another state than the file's (a float's fraction cut
    off; a float of 39 digits is not the int nnxp wrote), and the resumed run drew another
    shuffle or other dropout masks than the run's, without a word."""
    path = _dropout_checkpoint(tmp_path)
    d = json.loads(path.read_text())
    state = d["checkpoint"]["state"][field]
    edit(state if field == "rng_state" else state[0])
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match=re.escape(f"state.{field}")):
        nnxp.load(path)


def test_an_rng_state_written_as_read_resumes(tmp_path):
    path = _dropout_checkpoint(tmp_path)
    nnxp.load(path).resume((X, Y), epochs=2)


def test_a_velocity_of_the_wrong_shape_is_refused(tmp_path):
    path = _checkpointed(tmp_path)
    d = json.loads(path.read_text())
    leaves = d["checkpoint"]["optimizer_state"]
    i = next(i for i, a in enumerate(leaves) if np.ndim(a) == 2)
    leaves[i] = np.zeros((2, 2)).tolist()
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match=rf"optimizer_state\[{i}\]: shape \(2, 2\)"):
        nnxp.load(path)


def test_sigint_mid_epoch_then_resume_is_bit_for_bit(tmp_path):
    """A real SIGINT in a training process, during an epoch after the first checkpoint: the
    checkpoint on disk is whole, and resuming it ends exactly where an uninterrupted run does."""
    import signal
    import subprocess
    import sys
    import time
    path, script = tmp_path / "run.json", tmp_path / "train.py"
    np.savez(tmp_path / "data.npz", x=np.tile(X, (40, 1)), y=np.tile(Y, 40))
    script.write_text(f"""
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
import numpy as np, nnxp
d = np.load({str(tmp_path / "data.npz")!r})
net = nnxp.Network([6, 5, 3], seed=7, dtype="float64")
net.SGD((d["x"], d["y"]), 200, 1, 0.05, momentum=0.5, checkpoint={str(path)!r})
""")
    child = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not path.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # well inside a later epoch
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode != 0 and b"KeyboardInterrupt" in err
    net = nnxp.load(path)
    done = net.checkpoint[1].epoch
    assert 1 <= done < 200
    d = np.load(tmp_path / "data.npz")
    net.resume((d["x"], d["y"]), epochs=done + 2)
    straight = nnxp.Network([6, 5, 3], seed=7, dtype="float64")
    straight.SGD((d["x"], d["y"]), done + 2, 1, 0.05, momentum=0.5)
    for a, b in zip(params_numpy(net), params_numpy(straight)):
        np.testing.assert_array_equal(a, b)


# -- fuzzing: an edited checkpoint meets a DataError (or loads and resumes), never anything else

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            yield from _paths(v, prefix + (i,))


_BASE = {}


def _base_checkpoint():
    if not _BASE:
        import tempfile
        with tempfile.TemporaryDirectory() as folder, nnxp.use_backend("numpy"):
            from pathlib import Path
            path = _checkpointed(Path(folder), epochs=2, l1=0.1, schedule=1)
            _BASE["d"] = json.loads(path.read_text())
    return json.loads(json.dumps(_BASE["d"]))


@st.composite
def edited_checkpoints(draw):
    d = _base_checkpoint()
    paths = [p for p in _paths(d["checkpoint"]) if p]
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths))
        parent = d["checkpoint"]
        for key in where[:-1]:  # an earlier edit may have removed or replaced the way there
            try:
                parent = parent[key]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if not isinstance(parent, (dict, list)):
            continue
        try:
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(where[-1], None)
            else:
                parent[where[-1]] = draw(JSON)
        except (IndexError, TypeError):
            continue
    return d


def _load_and_resume(d):
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.json")
        with open(path, "w") as f:
            json.dump(d, f)
        try:
            net = nnxp.load(path)
            net.resume((X, Y), (XV, YV), epochs=net.checkpoint[0].epochs + 1)
        except nnxp.NNXPError:
            pass


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(edited_checkpoints())
def test_edited_checkpoints_meet_only_nnxp_errors(d):
    with nnxp.use_backend("numpy"):
        _load_and_resume(d)


@pytest.mark.slow
@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_checkpoints())
def test_edited_checkpoints_meet_only_nnxp_errors_many(d):
    with nnxp.use_backend("numpy"):
        _load_and_resume(d)


@pytest.mark.parametrize("shell", ["network", "population"])
@pytest.mark.parametrize("bad", [{"devices": 2}, {"callbacks": [1]}, {"progress": "yes"}])
def test_an_sgd_refused_before_training_leaves_a_loaded_run_resumable(tmp_path, shell, bad):
    """SGD on a network loaded from a checkpoint starts a new run, which leaves the loaded
    one: but an SGD refused before it changes anything (devices= on NumPy, a callback that is
    not callable, a progress flag that is not one) left it too, so a later resume was refused
    though the parameters never changed.  The run now stays resumable, to the same weights."""
    if shell == "network":
        path = _checkpointed(tmp_path, epochs=1)
        load = nnxp.load
    else:
        path = tmp_path / "pop.json"
        nnxp.Population([6, 5, 3], seeds=[1, 2]).SGD(
            (X, Y), 1, 10, [0.5, 1.0], evaluation_data=(XV, YV), checkpoint=path)
        load = nnxp.load_population
    reference = load(path)
    reference.resume((X, Y), (XV, YV), epochs=2, checkpoint=tmp_path / "ref.json")
    shell_ = load(path)
    with pytest.raises(nnxp.NNXPError):
        with nnxp.use_backend("numpy"):
            shell_.SGD((X, Y), 1, 10, 0.5, **bad)
    shell_.resume((X, Y), (XV, YV), epochs=2, checkpoint=tmp_path / "again.json")
    for a, b in zip(params_numpy(shell_), params_numpy(reference)):
        np.testing.assert_array_equal(a, b)
