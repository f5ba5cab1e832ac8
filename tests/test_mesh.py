"""JAX device meshes (engines/jax_mesh.py): one network data-parallel over 4 devices, and a
population's members split over them, against the same training on one device.  The 4 devices
are virtual CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=4), which must be set
before JAX starts: the checks run in one subprocess and report back as JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# 4 virtual devices; LLVM's cheaper optimisation halves the compile time of the ~20 programs
# (both sides of every comparison run with the same flags)
FLAGS = ("--xla_force_host_platform_device_count=4 --xla_backend_optimization_level=0 "
         "--xla_llvm_disable_expensive_passes=true")

SCRIPT = r'''
import json
import jax
import numpy as np
import nnxp
import nnxp.testing

out = {"devices": len(jax.devices())}
rng = np.random.default_rng(0)
x, y = rng.random((236, 12)), rng.integers(0, 4, 236)


def params(net):
    return [np.asarray(a, dtype=np.float64) for layer in net.params for a in layer]


def gap(a, b):
    return max(float(np.max(np.abs(p - q))) for p, q in zip(params(a), params(b)))


def err(fn):
    try:
        fn()
    except nnxp.ConfigError as exc:
        return str(exc)
    return None


with nnxp.use_backend("jax"):
    # float32 on 236 rows (the last mini-batch of 4 rows is split too); float64 on 233 rows
    # (the last one of 1 row is computed whole), monitored every 7 mini-batches, on a list
    for dtype, n, devices, extra in (("float32", 236, 4, {}),
                                     ("float64", 233, jax.devices()[:4],
                                      {"monitor_every": 7, "monitor_subset": 50})):
        kw = dict(lmbda=1.0, momentum=0.5, evaluation_data=(x[:n], y[:n]),
                  monitor_evaluation_accuracy=True, shuffle=3, **extra)
        one = nnxp.Network([12, 16, 4], seed=1, dtype=dtype)
        mesh = nnxp.Network([12, 16, 4], seed=1, dtype=dtype)
        seen = []
        h1 = one.SGD((x[:n], y[:n]), 2, 8, 0.5, **kw)
        h4 = mesh.SGD((x[:n], y[:n]), 2, 8, 0.5, devices=devices, callbacks=[
            lambda r, net: seen.append(len(net.params[0][0].sharding.device_set))], **kw)
        out[f"data_{dtype}"] = {
            "gap": gap(one, mesh), "acc": [h1.evaluation_accuracy, h4.evaluation_accuracy],
            "intervals": [[i["evaluation_accuracy"] for i in h.intervals] for h in (h1, h4)],
            "devices_seen": seen[0] if seen else 0,
            "home": str(mesh.params[0][0].sharding.device_set),
            "backend_after": repr(mesh.backend)}
    # one step on one mini-batch: the update is -eta * gradient, the same as one device
    a = nnxp.Network([12, 16, 4], seed=2, dtype="float64")
    b = nnxp.Network([12, 16, 4], seed=2, dtype="float64")
    before = params(a)
    a.SGD((x[:16], y[:16]), 1, 16, 1.0, shuffle=False)
    b.SGD((x[:16], y[:16]), 1, 16, 1.0, shuffle=False, devices=4)
    step_a = [p - q for p, q in zip(params(a), before)]
    step_b = [p - q for p, q in zip(params(b), before)]
    out["step"] = {"ratio": float(sum(np.sum(np.abs(s)) for s in step_b)
                                  / sum(np.sum(np.abs(s)) for s in step_a)),
                   "gap": max(float(np.max(np.abs(s - t))) for s, t in zip(step_a, step_b)),
                   "scale": max(float(np.max(np.abs(s))) for s in step_a)}
    # a population: 8 members, 2 per device
    etas = list(np.geomspace(0.1, 3.0, 8))
    p1 = nnxp.Population([12, 16, 4], seeds=range(8))
    p4 = nnxp.Population([12, 16, 4], seeds=range(8))
    seen = []
    h1 = p1.SGD((x, y), 2, 10, etas, momentum=0.5, evaluation_data=(x, y),
                monitor_evaluation_accuracy=True, shuffle=3)
    h4 = p4.SGD((x, y), 2, 10, etas, momentum=0.5, evaluation_data=(x, y),
                monitor_evaluation_accuracy=True, shuffle=3, devices=4, callbacks=[
                    lambda r, pop: seen.append(str(pop.params[0][0].sharding.spec))])
    out["population"] = {
        "gap": gap(p1, p4), "spec": seen[0],
        "acc": [[h.evaluation_accuracy for h in h1], [h.evaluation_accuracy for h in h4]],
        "home": str(p4.params[0][0].sharding.device_set)}
    # the compiled programs reduce the gradient across devices (an all-reduce)
    mesh_engines = [e for e in nnxp.testing.engines() if type(e).__name__ == "JaxMeshEngine"
                    and e.backend.members is None]
    out["all_reduce"] = sum(c.as_text().count("all-reduce(") for e in mesh_engines
                            for c in nnxp.testing.compiled(e))
    net = nnxp.Network([12, 16, 4], seed=1)
    out["errors"] = {
        "batch": err(lambda: net.SGD((x, y), 1, 10, 0.5, devices=4)),
        "count": err(lambda: net.SGD((x, y), 1, 8, 0.5, devices=5)),
        "kind": err(lambda: net.SGD((x, y), 1, 8, 0.5, devices="gpu")),
        "members": err(lambda: nnxp.Population([12, 16, 4], seeds=range(6)).SGD(
            (x, y), 1, 8, 0.5, devices=4)),
        "plain": err(lambda: net.SGD((x, y), 1, 8, 0.5, devices=4, engine="plain"))}
    out["after_error_home"] = repr(net.backend)
out["numpy"] = err(lambda: nnxp.Network([12, 16, 4]).SGD((x, y), 1, 8, 0.5, devices=4))
print("RESULT " + json.dumps(out))
'''


@pytest.fixture(scope="module")
def mesh():
    pytest.importorskip("jax")
    env = dict(os.environ, XLA_FLAGS=FLAGS,
               JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


TOL = {"float32": 1e-5, "float64": 1e-12}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_data_parallel_weights_equal_one_device(mesh, dtype):
    assert mesh["devices"] == 4
    run = mesh[f"data_{dtype}"]
    assert run["gap"] <= TOL[dtype]
    assert run["acc"][0] == run["acc"][1]
    assert run["intervals"][0] == run["intervals"][1]  # float64 run: monitored every 7
    assert run["devices_seen"] == 4  # during training the network lives on the mesh ...
    assert run["home"] == "{CpuDevice(id=0)}"  # ... and comes back to its device after it
    assert run["backend_after"] == "Backend('jax', device=CpuDevice(id=0))"


def test_the_gradient_is_summed_once_not_once_per_device(mesh):
    step = mesh["step"]
    assert abs(step["ratio"] - 1.0) < 1e-9  # an extra pmean / psum would give 0.25 or 4
    assert step["gap"] <= 1e-12 * max(1.0, step["scale"])
    assert step["scale"] > 1e-3  # the step moved the weights


def test_the_compiled_epoch_all_reduces_across_devices(mesh):
    assert mesh["all_reduce"] > 0


def test_population_members_are_split_over_devices(mesh):
    run = mesh["population"]
    assert run["spec"] in ("PartitionSpec('members',)", "P('members',)")
    assert run["gap"] <= TOL["float32"]
    assert run["acc"][0] == run["acc"][1]
    assert run["home"] == "{CpuDevice(id=0)}"


def test_bad_meshes_are_clear_errors(mesh):
    errors = mesh["errors"]
    assert "mini_batch_size=10 does not divide over 4 devices" in errors["batch"]
    assert "JAX has 4 cpu device(s)" in errors["count"]
    assert "number of devices or a list of jax devices" in errors["kind"]
    assert "6 members do not divide over 4 devices" in errors["members"]
    assert "engine 'plain' does not run" in errors["plain"]
    assert mesh["after_error_home"] == "Backend('jax', device=CpuDevice(id=0))"
    assert "devices= trains on several devices at once" in mesh["numpy"]


# Hostile input on a mesh (the third hostile-input sweep): each case reports the exception it
# met (its class and message) or what it computed, so that one failure does not hide the others.
HOSTILE = r'''
import json
import warnings
import jax
import numpy as np
import nnxp
from nnxp.diagnostics import HealthMonitor

rng = np.random.default_rng(0)
x, y = rng.random((480, 6)), rng.integers(0, 3, 480)  # 480 rows: the health probe is 400
out = {}


def case(name, fn):
    try:
        out[name] = ["ok", fn()]
    except Exception as exc:
        out[name] = [type(exc).__name__, str(exc)]


def train(devices, **kw):
    nnxp.Network([6, 8, 3], seed=1).SGD((x, y), 1, 8, 0.5, devices=devices, **kw)


with nnxp.use_backend("jax"):
    for name, devices in (("numpy_0d", np.array(2)), ("jax_0d", jax.numpy.array(2)),
                          ("huge", 10 ** 5000)):
        case("net_" + name, lambda: train(devices))
        case("pop_" + name, lambda: nnxp.Population([6, 8, 3], seeds=range(4)).SGD(
            (x, y), 1, 8, 0.5, devices=devices))
    case("plain", lambda: train(2, engine="plain"))

    def health():
        history = nnxp.Network([6, 8, 3], seed=1).SGD((x, y), 2, 8, 0.5, devices=2,
                                                      health=True)
        return [sorted(r.get("health", {})) for r in history.records]
    case("health", health)

    def monitor_moves():
        monitor = HealthMonitor(warn=False)
        net = nnxp.Network([6, 8, 3], seed=1)
        net.SGD((x, y), 1, 8, 0.5, callbacks=[monitor])              # probe at home ...
        net.SGD((x, y), 1, 8, 0.5, devices=4, callbacks=[monitor])   # ... on the mesh ...
        net.SGD((x, y), 1, 8, 0.5, callbacks=[monitor])              # ... at home again
        return len(monitor.reports)
    case("monitor_moves", monitor_moves)

    def member_kept():  # pop[k] taken in a callback while the population trains on a mesh
        kept = []
        pop = nnxp.Population([6, 4, 3], seeds=range(4))  # 4 hidden units: as many as K
        pop.SGD((x, y), 1, 8, 0.5, devices=4, callbacks=[lambda r, p: kept.append(p[1])])
        member = kept[0]
        member.SGD((x, y), 1, 8, 0.5)
        member.SGD((x, y), 1, 8, 0.5)
        member.SGD((x, y), 1, 8, 0.5, devices=2)
        return [repr(member.backend), str(member.params[0][0].devices())]
    case("member_kept", member_kept)

with nnxp.use_backend("jax", "cpu:0"):
    prepared = nnxp.Network([6, 8, 3], seed=1).prepare((x, y))
with nnxp.use_backend("jax", "cpu:1"):
    def other_device():
        net = nnxp.Network([6, 8, 3], seed=1)
        history = net.SGD(prepared, 1, 8, 0.5)
        return [len(history.records), net.accuracy(prepared),
                str(net.params[0][0].devices())]
    case("other_device", other_device)
print("RESULT " + json.dumps(out))
'''


@pytest.fixture(scope="module")
def hostile():
    pytest.importorskip("jax")
    env = dict(os.environ, XLA_FLAGS=FLAGS, JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", HOSTILE], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


@pytest.mark.parametrize("case", ["net_numpy_0d", "net_jax_0d", "pop_numpy_0d", "pop_jax_0d"])
def test_a_0d_array_of_devices_is_a_config_error(hostile, case):
    # was: TypeError "iteration over a 0-d array" from list(devices)
    kind, message = hostile[case]
    assert kind == "ConfigError", message
    assert "devices must be a number of devices or a list of jax devices" in message
    assert "array(2" in message.lower()


@pytest.mark.parametrize("case", ["net_huge", "pop_huge"])
def test_a_huge_device_count_is_a_config_error(hostile, case):
    # was: ValueError "Exceeds the limit (4300 digits) for integer string conversion" while
    # the message was written
    kind, message = hostile[case]
    assert kind == "ConfigError", message
    assert "JAX has 4 cpu device(s)" in message


def test_another_engine_on_a_mesh_names_the_mesh(hostile):
    # was: "engine 'plain' does not run on the jax backend; it has jax" (the jax backend has
    # plain: what does not have it is the mesh)
    kind, message = hostile["plain"]
    assert kind == "ConfigError", message
    assert "does not run on a device mesh (jax on 2 cpu devices" in message
    assert "engine='jax'" in message and "the jax backend" not in message


def test_health_monitoring_runs_on_a_mesh(hostile):
    # was: JAX's ValueError "Received incompatible devices for jitted computation" after the
    # first epoch (the probe stayed on the home device, the parameters were on the mesh)
    kind, records = hostile["health"]
    assert kind == "ok", records
    assert records == [["headline", "problems", "stats", "summary"]] * 2


def test_a_health_monitor_follows_its_network_to_the_mesh_and_back(hostile):
    # was: the same ValueError: the monitor kept the probe it took on the network's device
    kind, reports = hostile["monitor_moves"]
    assert kind == "ok", reports
    assert reports == 3


def test_a_dataset_prepared_on_another_device_is_moved_to_the_networks(hostile):
    # was: JAX's ValueError "Received incompatible devices" from SGD and accuracy
    kind, result = hostile["other_device"]
    assert kind == "ok", result
    epochs, hits, devices = result
    assert epochs == 1 and 0 <= hits <= 480
    assert devices == "{CpuDevice(id=1)}"


def test_a_member_taken_during_a_mesh_run_is_a_network_on_the_populations_device(hostile):
    # was: pop[k] in a callback kept the population's mesh (members split) as its backend, and
    # training it a second time was JAX's ValueError "NamedSharding ... P('members',) is only
    # valid for values of rank at least 1" (its weights had been split as if they were members)
    kind, result = hostile["member_kept"]
    assert kind == "ok", result
    assert result == ["Backend('jax', device=CpuDevice(id=0))", "{CpuDevice(id=0)}"]
