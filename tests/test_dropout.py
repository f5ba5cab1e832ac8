"""Dropout in the native API (nnxp.Network, nnxp.Population over layers with p_dropout > 0).

The masks come from the host stream of masks.py (per member, mini-batch by mini-batch, layer by
layer): a dropout network trains to a NumPy reference written by hand from the same draws, on
every backend and engine; to nnxp.compat.network3's training given network3's generator; a
population member equals the network alone; save/load, checkpoint and resume; cutting the
epoch into other chunks changes nothing; p_dropout = 0 draws nothing and changes nothing.
"""

import json

import numpy as np
import pytest

import nnxp
from nnxp import engines, masks
from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax
from tests.conftest import optional, params_numpy

P = (0.5, 0.25)


def entries(p=P):
    return [12, Dense(8, "Sigmoid", p_dropout=p[0]), Softmax(3, p_dropout=p[1])]


def data(n=25, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 12)), rng.integers(0, 3, n)


def dropout_net(seed=3, p=P, **options):
    """Float64, and the softmax weights not zero (zeros would hide its mask from the
    layer below)."""
    net = nnxp.Network(entries(p), cost=nnxp.LogLikelihoodCost, seed=seed, dtype="float64",
                       **options)
    rng = np.random.default_rng(seed + 100)
    host = [tuple(rng.standard_normal(a.shape) for a in layer)
            for layer in nnxp.core.to_host(net.backend, net.params)]
    net.params = nnxp.core.to_device(net.backend, host, "float64")
    return net


def host_params(net):
    return [tuple(np.array(a) for a in layer)
            for layer in nnxp.core.to_host(net.backend, net.params)]


# -- the reference: network3's formulas in NumPy, masks from the documented stream ---------------

def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def reference_sgd(params, ps, X, y, m, eta, lmbda, rng, epochs=1):
    """Mini-batches in order (the last one smaller), masks ``rng.random((rows, n_in)) >= p``
    mini-batch by mini-batch, layer by layer, on each layer's input; the mean log-likelihood's
    gradient; w <- w - eta (dw / rows + lmbda / n w), b <- b - eta db / rows."""
    (w1, b1), (w2, b2) = [tuple(a.copy() for a in layer) for layer in params]
    n, onehot = len(X), np.eye(3)[y]
    for _ in range(epochs):
        for k in range(0, n, m):
            xb, yb = X[k:k + m], onehot[k:k + m]
            rows = len(xb)
            mask1 = rng.random((rows, w1.shape[1])) >= ps[0]
            mask2 = rng.random((rows, w2.shape[1])) >= ps[1]
            x1 = xb * mask1
            a1 = _sigmoid(x1 @ w1.T + b1)
            x2 = a1 * mask2
            a2 = _softmax(x2 @ w2.T + b2)
            d2 = (a2 - yb) / rows
            d1 = (d2 @ w2) * mask2 * a1 * (1 - a1)
            w2, b2 = w2 - eta * (d2.T @ x2 + (lmbda / n) * w2), b2 - eta * d2.sum(axis=0)
            w1, b1 = w1 - eta * (d1.T @ x1 + (lmbda / n) * w1), b1 - eta * d1.sum(axis=0)
    return [(w1, b1), (w2, b2)]


def reference_output(params, ps, X):
    """The evaluation path: no mask, (1 - p) x w^T + b."""
    (w1, b1), (w2, b2) = params
    a1 = _sigmoid((1 - ps[0]) * (X @ w1.T) + b1)
    return _softmax((1 - ps[1]) * (a1 @ w2.T) + b2)


def assert_params(got, want, atol=1e-12):
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            np.testing.assert_allclose(a, b, rtol=0, atol=atol)


@pytest.mark.parametrize("engine", ["plain", None])
def test_a_dropout_net_trains_to_the_numpy_reference(backend, engine):
    X, y = data()  # 25 rows, mini-batches of 10: two whole ones and one of 5
    net = dropout_net()
    start = host_params(net)
    net.SGD((X, y), 2, 10, 0.5, lmbda=0.3, shuffle=False, engine=engine)
    rng = np.random.default_rng(masks.mask_seed(3))  # the network's stream: seed 3's child 2
    want = reference_sgd(start, P, X, y, 10, 0.5, 0.3, rng, epochs=2)
    assert_params(host_params(net), want)
    out = np.asarray(net.backend.to_numpy(net.feedforward(X)))
    np.testing.assert_allclose(out, reference_output(want, P, X), rtol=0, atol=1e-12)
    assert net.accuracy((X, y)) == int(np.sum(reference_output(want, P, X).argmax(1) == y))


def test_the_masks_are_the_streams_draws_and_bool():
    spec = nnxp.Network(entries(), cost=nnxp.LogLikelihoodCost).spec
    stream = masks.MaskStream(spec, [np.random.default_rng(5)])
    got = stream.draw(3, 4)
    assert got[0].dtype == bool and got[0].shape == (3, 4, 12) and got[1].shape == (3, 4, 8)
    rng = np.random.default_rng(5)
    for i in range(3):  # mini-batch by mini-batch, layer by layer
        np.testing.assert_array_equal(got[0][i], rng.random((4, 12)) >= P[0])
        np.testing.assert_array_equal(got[1][i], rng.random((4, 8)) >= P[1])
    two = masks.MaskStream(spec, [np.random.default_rng(5), np.random.default_rng(6)], 2)
    both = two.draw(3, 4)
    assert both[0].shape == (3, 2, 4, 12)
    np.testing.assert_array_equal(both[0][:, 0], got[0])  # member 0: its own stream's draws


def chunked_run(monkeypatch, rows, engine, every=None):
    monkeypatch.setattr(engines, "CHUNK_ROWS", rows)
    X, y = data(47)  # mini-batches of 5: nine whole ones and one of 2
    net = dropout_net()
    history = net.SGD((X, y), 2, 5, 0.3, shuffle=4, engine=engine, monitor_every=every,
                      evaluation_data=(X, y))
    return host_params(net), [(i["mini_batches"], i["evaluation_cost"])
                              for i in history.intervals]


@pytest.mark.parametrize("engine", ["plain", None])
def test_cutting_the_epoch_into_other_chunks_changes_nothing(backend, monkeypatch, engine):
    whole, _ = chunked_run(monkeypatch, 10 ** 6, engine)
    _, every4 = chunked_run(monkeypatch, 10 ** 6, engine, 4)
    assert [i[0] for i in every4] == [4, 8, 4, 8]  # after mini-batches 4 and 8 of each epoch
    for rows, every in ((10, None), (15, 4), (5, 3), (40, 4)):
        params, intervals = chunked_run(monkeypatch, rows, engine, every)
        assert_params(params, whole, atol=0)
        if every == 4:
            assert intervals == every4


def test_an_engine_draws_a_chunk_of_bounded_rows_at_a_time(monkeypatch):
    calls = []
    draw = masks.MaskStream.draw
    monkeypatch.setattr(masks.MaskStream, "draw",
                        lambda self, count, rows: calls.append(count * rows) or
                        draw(self, count, rows))
    monkeypatch.setattr(engines, "CHUNK_ROWS", 20)
    X, y = data(47)
    dropout_net().SGD((X, y), 1, 5, 0.3)
    assert calls == [20, 20, 5, 2]  # whole mini-batches of 5, then the last one of 2


def test_a_population_member_equals_the_network_alone(backend):
    X, y = data(30)
    pop = nnxp.Population(entries(), seeds=[0, 1, 2], cost=nnxp.LogLikelihoodCost,
                          dtype="float64")
    pop.SGD((X, y), 2, 10, 0.2, lmbda=0.5, shuffle=5)
    for k in range(3):
        alone = nnxp.Network(entries(), cost=nnxp.LogLikelihoodCost, seed=k, dtype="float64")
        alone.SGD((X, y), 2, 10, 0.2, lmbda=0.5, shuffle=5)
        got, want = params_numpy(pop[k]), params_numpy(alone)
        for a, b in zip(got, want):
            if backend.name == "torch":  # its batched matmul (bmm) rounds in another order
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
            else:
                np.testing.assert_array_equal(a, b)  # bit for bit
    assert not np.array_equal(params_numpy(pop[0])[0], params_numpy(pop[1])[0])


def test_each_member_draws_its_own_masks():
    """Two members of one seed train alike; the same network with another mask stream does
    not (so the masks matter here)."""
    X, y = data(30)
    pop = nnxp.Population(entries(), seeds=[4, 4], cost=nnxp.LogLikelihoodCost,
                          dtype="float64")
    pop.SGD((X, y), 1, 10, 0.2, shuffle=False)
    np.testing.assert_array_equal(params_numpy(pop[0])[0], params_numpy(pop[1])[0])
    other = nnxp.Network(entries(), cost=nnxp.LogLikelihoodCost, seed=4, dtype="float64")
    other.mask_rng = np.random.default_rng(0)
    other.SGD((X, y), 1, 10, 0.2, shuffle=False)
    assert not np.allclose(params_numpy(other)[0], params_numpy(pop[0])[0])


def test_the_same_seed_gives_the_same_masks_on_every_backend(backend):
    X, y = data(30)
    results = []
    for name in ("numpy", backend.name):
        with nnxp.use_backend(name):
            net = dropout_net()
            net.SGD((X, y), 2, 10, 0.3)
            results.append(host_params(net))
    assert_params(results[1], results[0])


# -- network3's training with network3's generator ----------------------------------------------

def test_it_equals_compat_network3_given_network3s_generator(backend, monkeypatch):
    monkeypatch.setenv("NNXP_FLOATX", "float64")
    from nnxp.compat.network3 import (ConvPoolLayer, FullyConnectedLayer, Network,
                                      SoftmaxLayer)
    rng = np.random.default_rng(0)
    x = rng.random((40, 64))
    y = np.argmax(x @ rng.standard_normal((64, 4)), axis=1)
    np.random.seed(8)
    book = Network([ConvPoolLayer(filter_shape=(3, 1, 3, 3), image_shape=(5, 1, 8, 8)),
                    FullyConnectedLayer(27, 6, p_dropout=0.5),
                    SoftmaxLayer(6, 4, p_dropout=0.3)], 5, seed=9)
    for layer in book.layers[1:]:  # the softmax layer's zeros would hide its mask
        layer.w.set_value(np.random.standard_normal(layer.w.get_value().shape))
    native = nnxp.Network([64, Reshape((1, 8, 8)), ConvPool(3, (3, 3), ties="all"), Flatten(),
                           Dense(6, "Sigmoid", p_dropout=0.5), Softmax(4, p_dropout=0.3)],
                          cost=nnxp.LogLikelihoodCost, dtype="float64")
    host = [()] * 5
    for layer, i in zip(book.layers, (1, 3, 4)):
        host[i] = layer.to_seam(layer.w.get_value(), layer.b.get_value())
    native.params = nnxp.core.to_device(native.backend, host, "float64")
    native.mask_rng = np.random.default_rng(9)  # network3's: default_rng(seed)
    book.SGD((x, y), 2, 5, 0.3, (x, y), None)
    native.SGD((x, y), 2, 5, 0.3, shuffle=False)
    got = nnxp.core.to_host(native.backend, native.params)
    for layer, i in zip(book.layers, (1, 3, 4)):
        w, b = layer.to_seam(layer.w.get_value(), layer.b.get_value())
        np.testing.assert_allclose(got[i][0], w, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got[i][1], b, rtol=0, atol=1e-12)


# -- files, checkpoints -------------------------------------------------------------------------

def test_save_and_load_keep_the_dropout_layers(tmp_path):
    X, y = data()
    net = dropout_net()
    net.SGD((X, y), 1, 10, 0.3)
    net.save(tmp_path / "net.json")
    loaded = nnxp.load(tmp_path / "net.json")
    assert [l.p_dropout for l in loaded.layers] == list(P)
    np.testing.assert_array_equal(np.asarray(loaded.backend.to_numpy(loaded.feedforward(X))),
                                  np.asarray(net.backend.to_numpy(net.feedforward(X))))


def run_with_stop(path, make, X, y, **sgd):
    first = make()
    first.SGD((X, y), 3, 10, 0.3, momentum=0.5, checkpoint=path,
              callbacks=[lambda records, net: bool(records) and
                         (records[0] if isinstance(records, list) else records)["epoch"] == 0],
              **sgd)
    return first


def test_resume_goes_on_with_the_masks_of_an_uninterrupted_run(tmp_path):
    X, y = data(35)
    whole = dropout_net()
    whole.SGD((X, y), 3, 10, 0.3, momentum=0.5)
    path = tmp_path / "run.json"
    run_with_stop(path, dropout_net, X, y)
    saved = json.loads(path.read_text())["checkpoint"]
    assert len(saved["history"]["records"]) == 1 and len(saved["state"]["mask_states"]) == 1
    resumed = nnxp.load(path)
    resumed.resume((X, y))
    for a, b in zip(params_numpy(resumed), params_numpy(whole)):
        np.testing.assert_array_equal(a, b)


def test_a_population_resumes_with_each_members_masks(tmp_path):
    X, y = data(35)

    def make():
        return nnxp.Population(entries(), seeds=[0, 1], cost=nnxp.LogLikelihoodCost,
                               dtype="float64")
    whole = make()
    whole.SGD((X, y), 3, 10, 0.3, momentum=0.5)
    path = tmp_path / "pop.json"
    first = make()
    first.SGD((X, y), 3, 10, 0.3, momentum=0.5, checkpoint=path,
              callbacks=[lambda records, pop: True])  # every member stops after epoch 0
    assert len(json.loads(path.read_text())["checkpoint"]["state"]["mask_states"]) == 2
    resumed = nnxp.load_population(path)
    resumed.resume((X, y))
    for a, b in zip(params_numpy(resumed), params_numpy(whole)):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_with_bad_mask_states_is_refused(tmp_path):
    X, y = data()
    path = tmp_path / "run.json"
    dropout_net().SGD((X, y), 1, 10, 0.3, checkpoint=path)
    d = json.loads(path.read_text())
    d["checkpoint"]["state"]["mask_states"] = [{"bit_generator": "Evil"}]
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.DataError, match=r"state.mask_states\[0\]"):
        nnxp.load(path)
    del d["checkpoint"]["state"]["mask_states"]
    path.write_text(json.dumps(d))
    with pytest.raises(nnxp.ConfigError, match="mask_states"):
        nnxp.load(path).resume((X, y), epochs=2)


# -- p_dropout = 0, refusals, the finder --------------------------------------------------------

def test_p_dropout_zero_draws_nothing_and_changes_no_bits():
    X, y = data()
    explicit = nnxp.Network(entries((0.0, 0.0)), cost=nnxp.LogLikelihoodCost, seed=3,
                            dtype="float64")
    assert not masks.has_dropout(explicit.spec)
    before = explicit.mask_rng.bit_generator.state
    explicit.SGD((X, y), 2, 10, 0.3, shuffle=2)
    assert explicit.mask_rng.bit_generator.state == before
    plain = nnxp.Network([12, Dense(8, "Sigmoid"), Softmax(3)], cost=nnxp.LogLikelihoodCost,
                         seed=3, dtype="float64")
    engine = plain.engine()
    plan, optimizer = nnxp.plan.make_plan(2, 10, 0.3, shuffle=2)
    transform = nnxp.plan.transform_for(plan, optimizer, len(X))
    params, state = plain.params, transform.init(plain.params)
    order = np.random.default_rng(2)
    data_set = plain.prepare((X, y))
    for _ in range(2):  # the engine as it ran before dropout existed: no masks argument
        index = plain.backend.asarray(order.permutation(len(X)), "index")
        params, state = engine.run_epoch(transform, params, state, data_set, index, 10)
    for a, b in zip(params_numpy(explicit), [np.asarray(a) for l in params for a in l]):
        np.testing.assert_array_equal(a, b)


def test_an_engine_refuses_a_dropout_net_without_masks_and_masks_without_dropout():
    X, y = data()
    net = dropout_net()
    plan, optimizer = nnxp.plan.make_plan(1, 10, 0.3)
    transform = nnxp.plan.transform_for(plan, optimizer, len(X))
    state = transform.init(net.params)
    with pytest.raises(nnxp.ConfigError, match="dropout"):
        net.engine().run_epoch(transform, net.params, state, net.prepare((X, y)), None, 10)
    other = nnxp.Network([12, 8, 3], seed=0, dtype="float64")
    stream = masks.MaskStream(net.spec, [np.random.default_rng(0)])
    with pytest.raises(nnxp.ConfigError, match="without dropout"):
        other.engine().run_epoch(transform, other.params, transform.init(other.params),
                                 other.prepare((X, y)), None, 10, masks=stream)


def test_a_jax_mesh_refuses_dropout():
    optional("jax")
    X, y = data()
    with nnxp.use_backend("jax"):
        net = dropout_net()
        with pytest.raises(nnxp.ConfigError, match="mesh"):
            net.SGD((X, y), 1, 10, 0.3, devices=1)


def test_the_learning_rate_finder_runs_on_a_dropout_net():
    X, y = data(200)
    result = nnxp.find_learning_rate(dropout_net(), (X, y), mini_batch_size=10, mode="sweep",
                                     budget_batches=40, checks=4)
    assert len(result.trials) >= 1


def test_a_search_refuses_dropout_layers_before_training():
    from concurrent.futures import ThreadPoolExecutor
    X, y = data(40)
    space = {"sizes": [entries()], "eta": [0.5], "cost": "LogLikelihoodCost"}
    with pytest.raises(nnxp.ConfigError, match="mask streams"):
        nnxp.search.grid(space, (X, y), (X, y), epochs=1, mini_batch_size=10,
                         executor=ThreadPoolExecutor(1))


def test_a_jax_dropout_epoch_moves_its_masks_explicitly():
    """The masks go to the device by explicit transfers, a chunk at a time: nothing implicit
    inside the compiled programs (transfer_guard refuses implicit host-to-device copies)."""
    jax = optional("jax")
    X, y = data(47)
    with nnxp.use_backend("jax") as be:
        net = dropout_net()
        engine, data_set = net.engine("jax"), net.prepare((X, y))
        plan, optimizer = nnxp.plan.make_plan(1, 5, 0.3)
        transform = nnxp.plan.transform_for(plan, optimizer, len(X))
        params, state = net.params, transform.init(net.params)
        order = be.asarray(np.random.default_rng(1).permutation(len(X)), "index")
        stream = masks.MaskStream(net.spec, [np.random.default_rng(2)])
        params, state = engine.run_epoch(transform, params, state, data_set, order, 5,
                                         masks=stream)
        jax.block_until_ready(params)
        with jax.transfer_guard_host_to_device("disallow"):
            params, state = engine.run_epoch(transform, params, state, data_set, order, 5,
                                             masks=stream)
        assert np.isfinite(engine.scores(params, data_set)).all()


def test_a_dropout_net_trains_on_a_non_default_device():
    """array-api-strict refuses to mix devices: the masks land on the network's device."""
    strict = optional("array_api_strict")
    X, y = data()
    with nnxp.use_backend("array_api_strict", "device1"):
        net = dropout_net()
        net.SGD((X, y), 1, 10, 0.3)
        assert all(a.device == strict.Device("device1") for layer in net.params for a in layer)


def test_a_population_trained_in_several_calls_equals_the_network_alone(backend):
    """Three one-epoch SGD calls: member k equals Network(seed=k) given the same three calls,
    shuffle=True (the first member's stream) and dropout (each member's own): both streams go
    on from call to call (were fresh at each call: the same 'shuffled' order and the same masks
    every epoch, and member 0 left the network alone after the first call)."""
    X, y = data(30)
    pop = nnxp.Population(entries(), seeds=[0, 1], cost=nnxp.LogLikelihoodCost,
                          dtype="float64")
    alone = nnxp.Network(entries(), cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    for _ in range(3):
        pop.SGD((X, y), 1, 10, 0.2, lmbda=0.5)
        alone.SGD((X, y), 1, 10, 0.2, lmbda=0.5)
    for a, b in zip(params_numpy(pop[0]), params_numpy(alone)):
        if backend.name == "torch":  # its batched matmul (bmm) rounds in another order
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
        else:
            np.testing.assert_array_equal(a, b)
