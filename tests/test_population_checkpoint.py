"""Population checkpoints (Population.SGD(checkpoint=...), nnxp.load_population, resume, all
through train.fit): one file holding every member, resumed bit for bit where an uninterrupted
run ends (also after a real SIGKILL); every field checked, edited files meet a DataError and
nothing else."""

import json
import os

import numpy as np
import pytest

import nnxp
from conftest import to_numpy

RNG = np.random.default_rng(0)
X, Y = RNG.random((90, 6)), RNG.integers(0, 3, 90)
XV, YV = RNG.random((30, 6)), RNG.integers(0, 3, 30)
SIZES, SEEDS = [6, 5, 3], [7, 1, 4]


def _params(pop):
    return [to_numpy(a) for layer in pop.params for a in layer]


OPTIONS = {
    "momentum-per-member": dict(eta=[0.5, 0.1, 2.0], lmbda=[1.0, 0.0, 2.0],
                                momentum=[0.7, 0.0, 0.3]),
    "nesterov-schedule-l1": dict(eta=0.5, lmbda=1.0, nesterov=True, momentum=0.5, schedule=1,
                                 l1=[0.1, 0.0, 0.2]),
    "seeded-shuffle-early-stopping": dict(eta=[0.5, 3.0, 0.2], shuffle=5, early_stopping=2),
    "adam": dict(eta=[0.01, 0.003, 0.03], optimizer=nnxp.adam()),
}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_resumed_population_ends_with_the_same_weights(backend, tmp_path, options):
    options = dict(options)
    eta = options.pop("eta")

    def train(pop, epochs, **more):
        return pop.SGD((X, Y), epochs, 10, eta, evaluation_data=(XV, YV),
                       monitor_evaluation_accuracy=True, **options, **more)
    straight = nnxp.Population(SIZES, SEEDS)
    h_straight = train(straight, 5)

    class Crash(Exception):
        pass

    def crash_after_two(records, pop):
        if any(r is not None and r["epoch"] == 2 for r in records):
            raise Crash  # the process dies during epoch 3's bookkeeping
    path = tmp_path / "pop.json"
    with pytest.raises(Crash):
        train(nnxp.Population(SIZES, SEEDS), 5, checkpoint=path, callbacks=[crash_after_two])
    pop = nnxp.load_population(path)
    assert pop.checkpoint[1].epoch == 2 and len(pop) == 3 and pop.seeds == SEEDS
    histories = pop.resume((X, Y), (XV, YV))
    for a, b in zip(_params(pop), _params(straight)):
        np.testing.assert_array_equal(a, b)
    for h, want in zip(histories, h_straight):
        assert h.evaluation_accuracy == want.evaluation_accuracy
        assert [r["eta"] for r in h.records] == [r["eta"] for r in want.records]
        assert h.stop_reason == want.stop_reason
    assert nnxp.load_population(path).checkpoint[1].epoch == 5
    assert nnxp.Population.load(path).seeds == SEEDS


def test_a_resumed_population_resumes_again_and_continues_in_steps(tmp_path):
    path = tmp_path / "pop.json"
    nnxp.Population(SIZES, SEEDS, dtype="float64").SGD(
        (X, Y), 1, 10, [0.5, 0.2, 1.0], momentum=0.5, checkpoint=path)
    pop = nnxp.load_population(path)
    pop.resume((X, Y), epochs=2)
    pop.resume((X, Y), epochs=4, checkpoint=tmp_path / "other.json")
    straight = nnxp.Population(SIZES, SEEDS, dtype="float64")
    straight.SGD((X, Y), 4, 10, [0.5, 0.2, 1.0], momentum=0.5)
    for a, b in zip(_params(pop), _params(straight)):
        np.testing.assert_array_equal(a, b)
    assert nnxp.load_population(path).checkpoint[1].epoch == 2
    assert nnxp.load_population(tmp_path / "other.json").checkpoint[1].epoch == 4
    member = nnxp.load_population(tmp_path / "other.json")[1]  # member k as a Network
    np.testing.assert_array_equal(to_numpy(member.params[0][0]), _params(straight)[0][1])


def test_resume_needs_a_checkpoint_and_the_same_data(tmp_path):
    with pytest.raises(nnxp.ConfigError, match="not loaded from a checkpoint"):
        nnxp.Population(SIZES, SEEDS).resume((X, Y))
    path = tmp_path / "pop.json"
    nnxp.Population(SIZES, SEEDS).SGD((X, Y), 1, 10, 0.5, checkpoint=path)
    with pytest.raises(nnxp.DataError, match="other data"):
        nnxp.load_population(path).resume((X[::-1].copy(), Y[::-1].copy()), epochs=2)
    with pytest.raises(nnxp.DataError, match="same training data"):
        nnxp.load_population(path).resume((X[:50], Y[:50]), epochs=2)
    nnxp.load_population(path).resume((X[:50], Y[:50]), epochs=2, other_data=True)


def test_an_unregistered_optimizer_is_refused_before_training(tmp_path):
    from nnxp.optimizers import trace
    path = tmp_path / "pop.json"
    with pytest.raises(nnxp.ConfigError, match="unregistered transform.*register_optimizer"):
        nnxp.Population(SIZES, SEEDS).SGD((X, Y), 1, 10, 0.5, optimizer=trace(0.5),
                                          checkpoint=path)
    assert not path.exists()


def test_files_of_the_other_kind_are_refused(tmp_path):
    net_path, pop_path = tmp_path / "net.json", tmp_path / "pop.json"
    nnxp.Network(SIZES, seed=0).save(net_path)
    nnxp.Population(SIZES, SEEDS).SGD((X, Y), 1, 10, 0.5, checkpoint=pop_path)
    with pytest.raises(nnxp.DataError, match="not a population file"):
        nnxp.load_population(net_path)
    with pytest.raises(nnxp.DataError, match="lacks the keys of a network file.*it is a "
                                             r"population file, which loads with nnxp.load_pop"):
        nnxp.load(pop_path)   # the remedy was given one way only


def _saved_and_loaded(kind, path, epochs, **options):
    """A network's or a population's run of ``epochs`` saved to ``path``, and loaded back."""
    if kind == "network":
        nnxp.Network(SIZES, seed=0).SGD((X, Y), epochs, 10, 0.5, checkpoint=path, **options)
        return nnxp.load(path)
    nnxp.Population(SIZES, SEEDS).SGD((X, Y), epochs, 10, 0.5, checkpoint=path, **options)
    return nnxp.load_population(path)


def _checkpointed(tmp_path):
    path = tmp_path / "pop.json"
    nnxp.Population(SIZES, SEEDS).SGD((X, Y), 2, 10, [0.5, 0.1, 1.0], lmbda=1.0,
                                      momentum=[0.5, 0.0, 0.9], evaluation_data=(XV, YV),
                                      monitor_evaluation_accuracy=True, checkpoint=path)
    return path


EDITS = [
    (("checkpoint", "plan", "eta"), [0.5, 0.1], "plan.eta"),
    (("checkpoint", "plan", "lmbda"), [1.0, -1.0, 1.0], r"plan.lmbda"),
    (("checkpoint", "plan", "optimizer"), {"name": "momentum", "mu": [0.5, 0.9]},
     "plan.optimizer"),
    (("checkpoint", "state", "trackers"), [], "state.trackers"),
    (("checkpoint", "state", "trackers", 2, "start_eta"), 0.5, r"state.trackers\[2\].start_eta"),
    (("checkpoint", "histories"), [{}], "histories"),
    (("checkpoint", "optimizer_state"), [[1.0]], "optimizer_state"),
]


@pytest.mark.parametrize("where,value,field", EDITS, ids=[e[2] for e in EDITS])
def test_edited_fields_are_named_in_the_error(tmp_path, where, value, field):
    path = _checkpointed(tmp_path)
    d = json.loads(path.read_text())
    target = d
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match=f"checkpoint field {field}"):
        nnxp.load_population(path)


@pytest.mark.parametrize("edit,message", [
    (lambda d: d["members"][1].update(sizes=[6, 4, 3]), "members\\[1\\]"),
    (lambda d: d["members"][2].update(seed=None), "members\\[2\\] has no seed"),
    (lambda d: d["members"][0]["weights"][0][0].__setitem__(0, "x"), "members\\[0\\]"),
    (lambda d: d.update(members=[]), "'members'"),
    (lambda d: d.update(version=2), "not a population file"),
    (lambda d: d.update(version=True), "not a population file"),   # was read as version 1
])
def test_edited_members_are_refused(tmp_path, edit, message):
    path = _checkpointed(tmp_path)
    d = json.loads(path.read_text())
    edit(d)
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match=message):
        nnxp.load_population(path)


def test_sigkill_mid_run_then_resume_is_bit_for_bit(tmp_path):
    """A real SIGKILL in a process training a population with a checkpoint: the file on disk is
    whole, and resuming it ends exactly where an uninterrupted run does."""
    import signal
    import subprocess
    import sys
    import time
    path, script = tmp_path / "pop.json", tmp_path / "train.py"
    np.savez(tmp_path / "data.npz", x=np.tile(X, (20, 1)), y=np.tile(Y, 20))
    script.write_text(f"""
import numpy as np, nnxp
d = np.load({str(tmp_path / "data.npz")!r})
pop = nnxp.Population({SIZES}, {SEEDS}, dtype="float64")
pop.SGD((d["x"], d["y"]), 500, 1, [0.05, 0.01, 0.1], momentum=[0.5, 0.0, 0.9],
        checkpoint={str(path)!r})
""")
    env = dict(os.environ, NNXP_BACKEND="numpy")
    child = subprocess.Popen([sys.executable, str(script)], env=env, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not path.exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # inside a later epoch, or writing its checkpoint
    child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
    with nnxp.use_backend("numpy"):
        pop = nnxp.load_population(path)
        done = pop.checkpoint[1].epoch
        assert 1 <= done < 500
        d = np.load(tmp_path / "data.npz")
        pop.resume((d["x"], d["y"]), epochs=done + 2)
        straight = nnxp.Population(SIZES, SEEDS, dtype="float64")
        straight.SGD((d["x"], d["y"]), done + 2, 1, [0.05, 0.01, 0.1], momentum=[0.5, 0.0, 0.9])
        for a, b in zip(_params(pop), _params(straight)):
            np.testing.assert_array_equal(a, b)


# -- fuzzing: an edited file meets a DataError (or loads and resumes), never anything else

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_BASE = {}


def _base():
    if not _BASE:
        import tempfile
        from pathlib import Path
        with tempfile.TemporaryDirectory() as folder, nnxp.use_backend("numpy"):
            _BASE["d"] = json.loads(_checkpointed(Path(folder)).read_text())
    return json.loads(json.dumps(_BASE["d"]))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in ("weights", "biases", "optimizer_state"):
                yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            yield from _paths(v, prefix + (i,))


VALUES = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() \
    | st.text(max_size=8) | st.lists(st.floats(0, 2), max_size=4) | st.just({})


@st.composite
def edited(draw):
    d = _base()
    where = draw(st.sampled_from([p for p in _paths(d) if p]))
    parent = d
    for key in where[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        parent.pop(where[-1])
    else:
        parent[where[-1]] = draw(VALUES)
    return d


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edited())
def test_edited_population_files_meet_only_nnxp_errors(tmp_path, d):
    path = tmp_path / "pop.json"
    path.write_text(json.dumps(d))
    with nnxp.use_backend("numpy"):
        try:
            pop = nnxp.load_population(path)
            if pop.checkpoint is not None:
                pop.resume((X, Y), (XV, YV), epochs=pop.checkpoint[0].epochs + 1)
        except nnxp.NNXPError:
            pass


def test_an_interrupted_resume_rewinds_to_the_file(tmp_path):
    """A resume that raises (a callback, Ctrl-C) leaves the population as its file holds it,
    so that resuming again ends where one run does."""
    path = tmp_path / "pop.json"
    train = dict(momentum=[0.5, 0.0, 0.9], evaluation_data=(XV, YV),
                 monitor_evaluation_accuracy=True)
    nnxp.Population(SIZES, SEEDS, dtype="float64").SGD((X, Y), 1, 10, 0.5, checkpoint=path,
                                                       **train)
    pop = nnxp.load_population(path)

    def interrupt(records, pop):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        pop.resume((X, Y), (XV, YV), epochs=3, callbacks=[interrupt])
    assert pop.checkpoint[1].epoch == 1 and len(pop.histories[0].records) == 1
    pop.resume((X, Y), (XV, YV), epochs=3)
    straight = nnxp.Population(SIZES, SEEDS, dtype="float64")
    straight.SGD((X, Y), 3, 10, 0.5, **train)
    for a, b in zip(_params(pop), _params(straight)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("option,message", [
    (dict(mini_batch_size=5), "goes on with the run's own plan.*mini_batch_size"),
    (dict(eta=0.1), "goes on with the run's own plan.*eta"),
    (dict(momentum=0.9), "goes on with the run's own plan.*momentum"),
    (dict(colbacks=[]), r"unknown keyword arguments \['colbacks'\]"),
])
@pytest.mark.parametrize("kind", ["network", "population"])
def test_resume_refuses_what_it_cannot_take_by_name(tmp_path, kind, option, message):
    # they reached the shell's private _fit: "TypeError: Population._fit() got an unexpected
    # keyword argument 'mini_batch_size'"
    path = tmp_path / "run.json"
    run = _saved_and_loaded(kind, path, 1)
    before = path.read_bytes()
    with pytest.raises(nnxp.ConfigError, match=message):
        run.resume((X, Y), epochs=2, **option)
    assert path.read_bytes() == before


def test_a_population_resume_refuses_health(tmp_path):
    path = tmp_path / "pop.json"
    nnxp.Population(SIZES, SEEDS).SGD((X, Y), 1, 10, 0.5, checkpoint=path)
    with pytest.raises(nnxp.ConfigError, match=r"Population.resume got unknown keyword "
                                               r"arguments \['health'\]"):
        nnxp.load_population(path).resume((X, Y), epochs=2, health=True)


@pytest.mark.parametrize("where,value", [
    (("checkpoint", "plan", "engine"), "os.system"),
    (("checkpoint", "plan", "optimizer"), "adam"),
    (("checkpoint", "plan", "monitor_evaluation_accuracy"), "yes"),
    (("checkpoint", "state", "trackers", 1, "stop_reason"), 5),
    (("checkpoint", "state", "trackers"), [{}]),
])
def test_an_edited_field_is_named_once(tmp_path, where, value):
    # "'pop.json': checkpoint field plan.engine: 'pop.json': checkpoint field plan.engine: ..."
    path = _checkpointed(tmp_path)
    d = json.loads(path.read_text())
    target = d
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match="checkpoint field") as info:
        nnxp.load_population(path)
    assert str(info.value).count("checkpoint field") == 1
    assert str(info.value).count(str(path)) == 1


@pytest.mark.parametrize("edit,field", [
    (lambda h: h.update(records=h["records"] * 3), r"histories\[1\].records\[2\].epoch"),
    (lambda h: h["records"].reverse(), r"histories\[1\].records\[1\].epoch"),
    (lambda h: h["records"][1].update(epoch=7), r"histories\[1\].records\[1\].epoch"),
])
def test_a_history_that_is_not_the_runs_epochs_is_refused(tmp_path, edit, field):
    # six records of a two-epoch run were resumed into a history of seven
    path = _checkpointed(tmp_path)
    d = json.loads(path.read_text())
    edit(d["checkpoint"]["histories"][1])
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match=f"checkpoint field {field}: .* the run has done 2"):
        nnxp.load_population(path)


def test_a_network_history_that_is_not_the_runs_epochs_is_refused(tmp_path):
    path = tmp_path / "net.json"
    nnxp.Network(SIZES, seed=0).SGD((X, Y), 2, 10, 0.5, checkpoint=path)
    d = json.loads(path.read_text())
    d["checkpoint"]["history"]["records"] *= 2
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match=r"checkpoint field history.records\[2\].epoch"):
        nnxp.load(path)


def _retrain(run):
    run.SGD((X, Y), 1, 10, 5.0)


@pytest.mark.parametrize("kind,change", [
    ("population", _retrain),
    ("network", _retrain),
    ("network", lambda net: setattr(net, "weights", [w * 2 for w in net.weights])),
    ("network", lambda net: net.large_weight_initializer()),
    # net.params set whole (the way the weights setter's message names for layered networks)
    ("network", lambda net: setattr(net, "params", tuple(
        (w * 2, b) for w, b in net.params))),
    ("population", lambda pop: setattr(pop, "params", tuple(
        (w * 2, b) for w, b in pop.params))),
])
def test_a_run_whose_parameters_changed_since_it_was_loaded_is_not_resumed(tmp_path, kind,
                                                                             change):
    # load, SGD (or new weights), resume: the old run's plan, state and optimizer state went on
    # from the new parameters, and the hybrid overwrote the checkpoint file
    path = tmp_path / "run.json"
    run = _saved_and_loaded(kind, path, 2, momentum=0.5)
    before = path.read_bytes()
    change(run)
    with pytest.raises(nnxp.ConfigError, match="then its parameters were changed.*load the "
                                               "file again"):
        run.resume((X, Y), epochs=3)
    assert path.read_bytes() == before
    again = nnxp.load(path) if kind == "network" else nnxp.load_population(path)
    again.resume((X, Y), epochs=3)   # the file itself still resumes


def test_a_run_loaded_in_another_dtype_is_told_so_at_resume(tmp_path):
    # "trained on other data than these": the data were the same, the dtype was not
    path = tmp_path / "pop.json"
    nnxp.Population(SIZES, SEEDS).SGD((X, Y), 1, 10, 0.5, checkpoint=path)
    with pytest.raises(nnxp.DataError, match=r"resume with the same training data in the "
                                             r"run's dtype \(these are float64: a checkpoint "
                                             r"loaded with another dtype="):
        nnxp.load_population(path, dtype="float64").resume((X, Y), epochs=2)


def test_a_run_whose_engine_this_backend_lacks_says_where_it_resumes(tmp_path):
    # "engine 'jax' does not run on the numpy backend; it has plain (or None for the best)",
    # though resume took no engine=: nothing said how the file could go on; now it takes one
    path = _checkpointed(tmp_path)
    original = path.read_text()
    d = json.loads(original)
    d["checkpoint"]["plan"]["engine"] = "jax"   # as SGD(engine="jax") on JAX writes it
    edited = tmp_path / "jax.json"
    edited.write_text(json.dumps(d))
    with nnxp.use_backend("numpy"):
        with pytest.raises(nnxp.ConfigError, match=r"trained with engine='jax'.* resume it "
                                                   r"with one of those \(resume\(\.\.\., "
                                                   r"engine=\.\.\.\)\)"):
            nnxp.load_population(edited).resume((X, Y), (XV, YV), epochs=3)
        with pytest.raises(nnxp.ConfigError, match="engine='scan': the numpy backend offers "
                                                   "plain"):
            nnxp.load_population(edited).resume((X, Y), (XV, YV), epochs=3, engine="scan")
        # resume(engine=) goes on with the engine asked for: the same run as the file's own
        moved = nnxp.load_population(edited)
        moved.resume((X, Y), (XV, YV), epochs=3, engine="plain")
        same = nnxp.load_population(path)
        same.resume((X, Y), (XV, YV), epochs=3)
    assert all(np.array_equal(a, b) for a, b in zip(_params(moved), _params(same)))
    assert json.loads(edited.read_text())["checkpoint"]["plan"]["engine"] == "plain"


@pytest.mark.parametrize("kind", ["network", "population"])
def test_a_resume_refused_for_its_checkpoint_path_leaves_the_run_as_it_was(tmp_path, kind):
    # the run had already taken the refused call's epochs and data: the next resume went on
    # to those epochs, on other data, without other_data=True
    path = tmp_path / "run.json"
    run = _saved_and_loaded(kind, path, 2)
    other = (X[::-1].copy(), Y[::-1].copy())
    with pytest.raises(nnxp.FileError, match="it is a directory"):
        run.resume(other, epochs=5, other_data=True, checkpoint=tmp_path)
    assert run.checkpoint[0].epochs == 2
    with pytest.raises(nnxp.DataError, match="other data"):
        run.resume(other, checkpoint=tmp_path / "next.json")
