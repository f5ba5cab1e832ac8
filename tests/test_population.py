"""Populations (nnxp/population.py): K networks trained as one set of arrays.  The reference is
the same network trained alone (``Network(sizes, seed=seeds[k])`` with the same shuffle seed and
member k's hyper-parameters): bit for bit on NumPy, to the parity suite's bounds elsewhere."""

import warnings

import numpy as np
import pytest

import nnxp
from conftest import params_numpy, to_numpy

SIZES = [6, 7, 3]


def _data(n=230, seed=0):  # 230 = 23 mini-batches of 10: no smaller last batch ...
    rng = np.random.default_rng(seed)
    centres = rng.random((3, SIZES[0]))
    labels = np.arange(n) % 3
    return centres[labels] + 0.3 * rng.standard_normal((n, SIZES[0])), labels


def _member(pop, k):
    return [to_numpy(a)[k] for layer in pop.params for a in layer]


def _tolerance(backend, dtype):
    if backend.name == "numpy":
        return 0.0  # bit for bit
    return 1e-10 if dtype == "float64" else 1e-5


HYPER = dict(eta=[0.5, 0.1, 2.0, 0.3], lmbda=[1.0, 0.0, 5.0, 2.0], momentum=[0.0, 0.9, 0.5, 0.7])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_member_k_equals_the_network_trained_alone(backend, dtype):
    x, y = _data(233)  # ... and 233: a last, smaller mini-batch
    seeds = [3, 1, 4, 1]
    pop = nnxp.Population(SIZES, seeds=seeds, dtype=dtype)
    histories = pop.SGD((x, y), 3, 10, HYPER["eta"], lmbda=HYPER["lmbda"], l1=0.5,
                        momentum=HYPER["momentum"], shuffle=7, evaluation_data=(x, y),
                        monitor_evaluation_accuracy=True, monitor_training_cost=True)
    tol = _tolerance(backend, dtype)
    for k, seed in enumerate(seeds):
        net = nnxp.Network(SIZES, seed=seed, dtype=dtype)
        alone = net.SGD((x, y), 3, 10, HYPER["eta"][k], lmbda=HYPER["lmbda"][k], l1=0.5,
                        momentum=HYPER["momentum"][k], shuffle=7, evaluation_data=(x, y),
                        monitor_evaluation_accuracy=True, monitor_training_cost=True)
        for got, want in zip(_member(pop, k), params_numpy(net)):
            assert got.dtype == np.dtype(dtype)
            if tol == 0.0:
                np.testing.assert_array_equal(got, want)
            else:
                assert np.max(np.abs(got - want)) <= tol * max(1.0, np.max(np.abs(want)))
        if tol == 0.0 or dtype == "float64":
            assert histories[k].evaluation_accuracy == alone.evaluation_accuracy
        else:  # float32 through other kernels: an example on the boundary may tip
            assert all(abs(a - b) <= 1 for a, b in zip(histories[k].evaluation_accuracy,
                                                        alone.evaluation_accuracy))
        np.testing.assert_allclose(histories[k].training_cost, alone.training_cost,
                                   rtol=max(tol, 1e-12) * 10)


def test_one_member_has_the_networks_initial_weights(backend):
    pop = nnxp.Population(SIZES, seeds=[11, 12])
    for k, seed in enumerate([11, 12]):
        for got, want in zip(_member(pop, k), params_numpy(nnxp.Network(SIZES, seed=seed))):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(params_numpy(pop[1])[0], _member(pop, 1)[0])


def test_early_stopping_freezes_a_member_while_the_others_train(backend):
    x, y = _data()
    xv, yv = x[:60], y[:60]
    etas = [0.05, 1e-4, 3.0]  # the tiny eta never improves, the large one soon stops
    pop = nnxp.Population(SIZES, seeds=[0, 1, 2], dtype="float64")
    histories = pop.SGD((x, y), 8, 10, etas, evaluation_data=(xv, yv),
                        monitor_evaluation_accuracy=True, early_stopping=2, shuffle=3)
    for k, eta in enumerate(etas):
        net = nnxp.Network(SIZES, seed=k, dtype="float64")
        alone = net.SGD((x, y), 8, 10, eta, evaluation_data=(xv, yv),
                        monitor_evaluation_accuracy=True, early_stopping=2, shuffle=3)
        assert len(histories[k].records) == len(alone.records)
        assert histories[k].stop_reason == alone.stop_reason
        for got, want in zip(_member(pop, k), params_numpy(net)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    lengths = [len(h.records) for h in histories]
    assert lengths[1] == 3 and len(set(lengths)) == 3  # each member stopped on its own


def test_progress_prints_one_members_line_per_epoch(backend, capsys):
    x, y = _data()
    pop = nnxp.Population(SIZES, seeds=[0, 1], dtype="float64")
    histories = pop.SGD((x, y), 2, 10, 0.5, evaluation_data=(x[:60], y[:60]),
                        monitor_evaluation_accuracy=True, progress=True)
    records = [[h.records[e] for h in histories] for e in range(2)]
    want = [nnxp.history.members_line(r, [True, True], 60) for r in records]
    assert capsys.readouterr().out.splitlines() == want
    assert want[1].startswith("Epoch 1 (") and "2 of 2 members trained" in want[1]
    assert "/ 60 (member " in want[1]


def test_a_diverging_member_stops_with_its_last_finite_weights(backend):
    x, y = _data()
    pop = nnxp.Population(SIZES, seeds=[0, 1], cost=nnxp.QuadraticCost,
                          activation=nnxp.Identity, dtype="float64")  # linear: blows up fast
    before = [_member(pop, k) for k in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # nnxp says it, NumPy stays quiet
        histories = pop.SGD((x, y), 3, 10, [0.01, 5.0], shuffle=1)
    assert histories[1].stop_reason.startswith("diverged in epoch 0")
    assert "eta / 10" in histories[1].stop_reason
    assert histories[0].stop_reason is None and len(histories[0].records) == 3
    for got, want in zip(_member(pop, 1), before[1]):  # diverged in its first epoch
        np.testing.assert_array_equal(got, want)
    assert all(np.isfinite(a).all() for a in _member(pop, 0))


def test_schedule_per_member(backend):
    x, y = _data()
    pop = nnxp.Population(SIZES, seeds=[0, 1])
    histories = pop.SGD((x, y), 4, 10, [0.5, 1e-5], evaluation_data=(x, y),
                        monitor_evaluation_accuracy=True, schedule=1, shuffle=0)
    etas = [[r["eta"] for r in h.records] for h in histories]
    assert etas[1][:4] == [1e-5, 1e-5, 0.5e-5, 0.25e-5]  # never improves after epoch 0
    assert etas[0][0] == 0.5


def test_strict_device_population_stays_on_its_device():
    pytest.importorskip("array_api_strict")
    x, y = _data()
    with nnxp.use_backend("array_api_strict", "device1") as be:
        pop = nnxp.Population(SIZES, seeds=[0, 1, 2])
        pop.SGD((x, y), 2, 10, [0.5, 0.2, 0.1], lmbda=1.0, momentum=0.5,
                evaluation_data=(x, y), monitor_evaluation_accuracy=True)
        for w, b in pop.params:
            assert w.device == be.device and b.device == be.device
        assert pop.feedforward(be.asarray(x, "float32")).device == be.device


def test_jax_population_epoch_runs_without_host_to_device_transfers():
    jax = pytest.importorskip("jax")
    from nnxp.optimizers import training_chain
    x, y = _data()
    with nnxp.use_backend("jax") as be:
        pop = nnxp.Population(SIZES, seeds=[0, 1, 2, 3])
        data = pop.prepare((x, y))
        transform = training_chain(nnxp.momentum([0.0, 0.5, 0.9, 0.0]), eta=[0.1, 0.2, 0.3, 0.4],
                                   decay=[0.0, 0.01, 0.02, 0.0])
        params, state = pop.params, transform.init(pop.params)
        order = be.asarray(np.arange(x.shape[0]), "index")
        engine = pop.engine("jax")
        params, state = engine.run_epoch(transform, params, state, data, order, 10)
        jax.block_until_ready(params)
        with jax.transfer_guard_host_to_device("disallow"):
            params, state = engine.run_epoch(transform, params, state, data, order, 10)
            jax.block_until_ready(params)
        assert params[0][0].shape == (4, SIZES[1], SIZES[0])


def test_members_evaluation_and_best(backend):
    x, y = _data()
    pop = nnxp.Population(SIZES, seeds=[0, 1, 2])
    assert len(pop) == 3 and pop.feedforward(x).shape == (3, x.shape[0], 3)
    histories = pop.SGD((x, y), 2, 10, [0.01, 1.0, 0.001], evaluation_data=(x, y),
                        monitor_evaluation_accuracy=True, shuffle=0)
    accuracy = pop.accuracy((x, y))
    assert accuracy == [h.evaluation_accuracy[-1] for h in histories]
    best = pop.best()
    assert best.accuracy((x, y)) == max(accuracy)
    assert best.history is histories[accuracy.index(max(accuracy))]
    costs = pop.total_cost((x, y), lmbda=[0.0, 1.0, 2.0])
    assert costs[0] == pytest.approx(pop[0].total_cost((x, y), 0.0), rel=1e-6)
    assert costs[2] == pytest.approx(pop[2].total_cost((x, y), 2.0), rel=1e-6)


@pytest.mark.parametrize("call,match", [
    (lambda: nnxp.Population(SIZES, seeds=3), "seeds must be a list of integer seeds"),
    (lambda: nnxp.Population(SIZES, seeds=[]), "at least one"),
    (lambda: nnxp.Population(SIZES, seeds=np.array(5)), "seeds must be a list of integer seeds"),
    # ^ TypeError: len() of unsized object
    (lambda: nnxp.Population(SIZES, seeds=[0, -1]), "seed must be a non-negative integer"),
    (lambda: nnxp.Population(SIZES, seeds=[0, 1]).SGD(_data(), 1, 10, [0.1, 0.2, 0.3]),
     r"eta must be one number or 2 numbers \(one per member\), got 3"),
    (lambda: nnxp.Population(SIZES, seeds=[0, 1]).SGD(_data(), 1, 10, [0.1, -0.2]),
     r"eta\[1\] must be > 0"),
    (lambda: nnxp.Population(SIZES, seeds=[0, 1])[2], r"member index must be an integer in"),
    (lambda: nnxp.Population(SIZES, seeds=[0, 1]).best(), "train the population first"),
    (lambda: nnxp.Network(SIZES).SGD(_data(), 1, 10, [0.1, 0.2]),
     "eta must be one number for a single network"),
    # a string was a truth value: progress="no" printed the progress lines
    (lambda: nnxp.Population(SIZES, seeds=[0, 1]).SGD(_data(), 1, 10, 0.1, progress="no"),
     "progress must be True or False, got 'no'"),
    (lambda: nnxp.Network(SIZES).SGD(_data(), 1, 10, 0.1, progress="no"),
     "progress must be True or False, got 'no'"),
])
def test_bad_population_arguments_are_clear_errors(call, match):
    with pytest.raises(nnxp.NNXPError, match=match):
        call()


@pytest.mark.parametrize("shape", [(4, 5), (6,), (4, 6, 2)])  # (4, 6, 1): 4 images of 6
def test_device_input_of_the_wrong_shape_is_refused_by_vote_and_feedforward(backend, shape):
    # an array already on the device skipped every check: a wrong width met the library's
    # matmul (TypeError, RuntimeError or ValueError), and one row (6,) voted as if it were data
    pop = nnxp.Population(SIZES, seeds=[0, 1])
    x = backend.asarray(np.ones(shape), "float32")
    for call in (pop.vote, pop.feedforward):
        with pytest.raises(nnxp.DataError, match=r"x must be numbers of shape \(n, 6\)"):
            call(x)
    rows = backend.asarray(np.ones((4, 6)), "float32")
    assert pop.vote(rows).shape == (4,)
    assert np.array_equal(to_numpy(pop.feedforward(rows)), to_numpy(pop.feedforward(np.ones((4, 6)))))


@pytest.mark.parametrize("build", [
    lambda **kw: nnxp.Population(SIZES, seeds=[0, 1], **kw),
    lambda **kw: nnxp.Network(SIZES, seed=0, **kw)], ids=["population", "network"])
@pytest.mark.parametrize("options,message", [
    (dict(weight_init=3), "weight_init must be a function"),          # TypeError: not callable
    (dict(bias_init="normal"), "bias_init must be a function"),
    (dict(weight_init=lambda rng, shape: "x"), "arrays of real numbers"),  # NumPy's ValueError
    (dict(weight_init=lambda rng, shape: [[1.0, 2.0], [3.0]]), "arrays of real numbers"),
])
def test_initializers_that_are_not_functions_of_arrays_are_refused(build, options, message):
    with pytest.raises(nnxp.ConfigError, match=message):
        build(**options)


@pytest.mark.parametrize("build", [
    lambda **kw: nnxp.Population(SIZES, seeds=[0, 1], **kw),
    lambda **kw: nnxp.Network(SIZES, seed=0, **kw),
    lambda **kw: nnxp.Network(SIZES, seed=0).initialize(*kw.values()),
    lambda **kw: nnxp.Network([SIZES[0], nnxp.layers.Dense(5), SIZES[-1]], seed=0, **kw)],
    ids=["population", "network", "initialize", "layered"])
@pytest.mark.parametrize("init", [lambda shape: 0.0, lambda rng, shape, scale: 0.0])
def test_initializers_of_another_signature_are_refused_before_any_draw(build, init):
    """A function not taking (rng, shape): an InputTypeError saying how it is called (a bare
    TypeError from the call inside nnxp)."""
    with pytest.raises(nnxp.InputTypeError, match=r"weight_init\(rng, shape\)"):
        build(weight_init=init)


@pytest.mark.parametrize("build", [
    lambda **kw: nnxp.Population(SIZES, seeds=[0, 1], **kw),
    lambda **kw: nnxp.Network(SIZES, seed=0, **kw),
    lambda **kw: nnxp.Network([SIZES[0], nnxp.layers.Dense(5), SIZES[-1]], seed=0, **kw)],
    ids=["population", "network", "layered"])
@pytest.mark.parametrize("init, message", [
    (lambda rng, shape: np.full(shape, 1e300), r"beyond float32's range .* layer \d's "
                                               r"parameters\[0\]"),
    (lambda rng, shape: np.ones(shape) + 1j, "real numbers")], ids=["1e300", "complex"])
def test_initial_values_that_the_dtype_cannot_hold_are_refused(build, init, message):
    """1e300 is finite in float64, where the draws were checked, and infinite in float32: the
    network started with infinite weights without a word; complex draws lost their imaginary
    parts (a ComplexWarning).  float64 holds 1e300."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(nnxp.ConfigError, match=message):
            build(weight_init=init)
    if "range" not in message:
        return
    net = build(weight_init=lambda rng, shape: np.full(shape, 1e300), dtype="float64")
    assert float(np.max(to_numpy(net.params[-1][0]))) == 1e300


@pytest.mark.parametrize("on_divergence", ["stop", "continue"])
def test_best_passes_over_diverged_members(backend, on_divergence):
    # a member whose cost was NaN (on_divergence="continue") was "best" by evaluation cost (NaN
    # compares false), and a diverged epoch's record ranked parameters that were not kept
    x, y = _data()
    pop = nnxp.Population(SIZES, seeds=[0, 1, 2], cost="QuadraticCost", activation="ReLU",
                          output_activation="Identity", dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pop.SGD((x, y), 2, 10, [1e8, 0.5, 1e8], evaluation_data=(x, y),
                monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                monitor_training_cost=True, on_divergence=on_divergence)
        assert np.isnan(pop.total_cost((x, y))[0]) == (on_divergence == "continue")
        for metric in ("evaluation_cost", "training_cost", "evaluation_accuracy"):
            assert pop.best(metric).seed == 1
    with pytest.raises(nnxp.ConfigError, match="metric must be one of"):
        pop.best("evaluation_acuracy")


def test_best_of_a_population_that_all_diverged_says_so():
    x, y = _data()
    pop = nnxp.Population(SIZES, seeds=[0, 1], cost="QuadraticCost", activation="ReLU",
                          output_activation="Identity", dtype="float64")
    pop.SGD((x, y), 1, 10, 1e20, evaluation_data=(x, y), monitor_evaluation_accuracy=True)
    assert all(h.stop_reason.startswith("diverged") for h in pop.histories)
    with pytest.raises(nnxp.ConfigError, match="every member diverged"):
        pop.best()


def test_vote_refuses_outputs_that_are_not_finite(backend):
    # argmax of a NaN row is 0: NaN in x, or a member whose parameters diverged, voted class 0
    x, _ = _data(20)
    pop = nnxp.Population(SIZES, seeds=[0, 1, 2])
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(nnxp.DataError, match=r"vote: x contains NaN.*example 3, feature 2"):
        pop.vote(bad)
    host = [[np.array(to_numpy(a)) for a in layer] for layer in pop.params]
    host[0][0][1, 0, 0] = np.nan
    pop.params = tuple(tuple(backend.asarray(a, "float32") for a in layer) for layer in host)
    with pytest.raises(nnxp.DataError, match=r"vote: the parameters of member 1 are not finite"):
        pop.vote(x)


def test_an_eta_function_may_return_one_eta_per_member_as_an_array():
    # eta=np.array([...]) is one per member, but a function returning one was refused:
    # "eta(0) must be a number, got a ndarray of shape (3,)"
    x, y = _data()
    base = np.array([0.1, 0.2, 0.4])
    histories = nnxp.Population(SIZES, seeds=[0, 1, 2]).SGD(
        (x, y), 2, 10, lambda epoch: base * 0.5 ** epoch, shuffle=0)
    assert [[r["eta"] for r in h.records] for h in histories] == \
        [[0.1, 0.05], [0.2, 0.1], [0.4, 0.2]]
    with pytest.raises(nnxp.ConfigError, match=r"one number or 3 \(one per member\) at epoch 0; "
                                               r"got 2"):
        nnxp.Population(SIZES, seeds=[0, 1, 2]).SGD((x, y), 1, 10, lambda e: base[:2])


def _one_argument(records):
    return None


def _three_arguments(records, pop, other):
    return None


@pytest.mark.parametrize("callback", [_one_argument, _three_arguments, lambda *, pop: None])
@pytest.mark.parametrize("train", [
    lambda cb: nnxp.Population(SIZES, seeds=[0, 1]).SGD(_data(), 1, 10, 0.5, callbacks=[cb]),
    lambda cb: nnxp.Network(SIZES, seed=0).SGD(_data(), 1, 10, 0.5, callbacks=cb),
], ids=["population", "network"])
def test_a_callback_that_cannot_take_its_arguments_is_refused_before_training(train, callback):
    # the TypeError came from the call after the first epoch, whose work (and checkpoint) it lost
    with pytest.raises(nnxp.InputTypeError, match=r"is called as callback\(records?, (pop|net)\)"
                                                  r", but .* cannot take those arguments"):
        train(callback)


def test_callbacks_of_any_form_that_takes_two_arguments_run():
    seen = []

    class Watcher:
        def __call__(self, records, pop):
            seen.append("object")

    def flexible(*args, stop=False):
        seen.append(len(args))

    nnxp.Population(SIZES, seeds=[0, 1]).SGD(_data(), 1, 10, 0.5,
                                             callbacks=[Watcher(), flexible, print])
    assert seen == ["object", 2]


def test_members_are_iterable_copies():
    """``for net in pop`` yields the K members (was: a ConfigError after the last, from
    __getitem__); ``pop[k]`` is a network of its own (was: a view, so writing its weights in
    place changed the population)."""
    pop = nnxp.Population([6, 5, 3], seeds=[0, 1, 2])
    assert [net.seed for net in pop] == [0, 1, 2] and len(list(pop)) == 3
    member = pop[2]
    before = np.array(pop.params[0][0][2])
    np.asarray(member.params[0][0])[...] = 0.0
    np.testing.assert_array_equal(np.asarray(pop.params[0][0][2]), before)


def test_the_progress_line_names_the_best_of_the_members_trained(capsys):
    """A stopped member's accuracy is not the best shown (was: the value of the live members,
    the index over all of them: 'best 6 / 30 (member 2)' where member 2 had stopped at 17)."""
    from nnxp.history import members_line
    records = [{"epoch": 2, "seconds": 0.1, "evaluation_accuracy": a} for a in (6, 5, 17)]
    line = members_line(records, [True, True, False], 30)
    assert "best 6 / 30 (member 0)" in line and "2 of 3 members trained" in line


def test_a_member_with_momentum_zero_in_a_list_is_the_momentum_network_with_mu_zero():
    """As docs/populations.md says: a list of momenta makes every member a momentum member;
    mu = 0's equals Network(optimizer="momentum", momentum=0.0) bit for bit."""
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 6)), rng.integers(0, 3, 60)
    pop = nnxp.Population([6, 5, 3], seeds=[0, 1, 2], backend="numpy")
    pop.SGD((x, y), 3, 7, eta=0.5, momentum=[0.0, 0.5, 0.9], shuffle=5)
    net = nnxp.Network([6, 5, 3], seed=0, backend="numpy")
    net.SGD((x, y), 3, 7, eta=0.5, shuffle=5, optimizer="momentum", momentum=0.0)
    for a, b in zip(net.params, pop[0].params):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
