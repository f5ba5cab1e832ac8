"""Layer objects in the native API: nnxp.Network and nnxp.Population over layers/sequential.py.

A list of ints trains through backprop.py, a list with layer objects through sequential.py:
the two agree on a dense stack; a small convolutional network trains to a NumPy reference
written by hand on every backend; a population member equals the network alone; files,
checkpoints, the learning-rate finder, the refusals (dropout: tests/test_dropout.py).
"""

import json
import re
import pickle

import numpy as np
import pytest

import nnxp
from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax, sequential
from tests.conftest import params_numpy


def conv_entries():
    return [64, Reshape((1, 8, 8)), ConvPool(3, (3, 3)), Flatten(), Dense(10, "Tanh"),
            Softmax(4)]


def conv_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 64)), rng.integers(0, 4, n)


def conv_net(**options):
    return nnxp.Network(conv_entries(), cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64",
                        **options)


def test_a_dense_layer_list_equals_the_dense_stack(backend):
    rng = np.random.default_rng(1)
    X, y = rng.random((80, 20)), rng.integers(0, 10, 80)
    layered = nnxp.Network([20, Dense(30, "Sigmoid"), Dense(10, "Sigmoid")], seed=3,
                           dtype="float64")
    stack = nnxp.Network([20, 30, 10], seed=3, dtype="float64")
    assert layered.layers is not None and stack.layers is None
    # the same draws, in the same order: the same initial parameters
    for a, b in zip(params_numpy(layered), params_numpy(stack)):
        np.testing.assert_array_equal(a, b)
    for net in (layered, stack):
        net.SGD((X, y), 3, 10, 0.5, lmbda=2.0, shuffle=7)
    for a, b in zip(params_numpy(layered), params_numpy(stack)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert layered.accuracy((X, y)) == stack.accuracy((X, y))
    assert layered.total_cost((X, y), 2.0) == pytest.approx(stack.total_cost((X, y), 2.0),
                                                            abs=1e-12)


def reference_sgd(layers, params, X, y, cost, epochs, m, eta, lmbda):
    """Plain NumPy SGD over sequential.forward/backward, mini-batches in order, L2 on every
    layer's first parameter: w <- w - eta (dC/dw / m + lmbda / n w), b <- b - eta dC/db / m."""
    n, onehot = len(X), np.eye(layers[-1].n_out)[y]
    params = [tuple(np.array(a) for a in p) for p in params]
    for _ in range(epochs):
        for k in range(0, n, m):
            xb, yb = X[k:k + m], onehot[k:k + m]
            _, caches = sequential.forward(layers, params, xb)
            delta = sequential.output_error(layers, caches, cost, yb) / len(xb)
            grads = sequential.backward(layers, params, caches, delta, at_z=True)
            params = [tuple(a - eta * (g + (lmbda / n) * a if i == 0 else g)
                            for i, (a, g) in enumerate(zip(p, gs)))
                      for p, gs in zip(params, grads)]
    return params


def test_a_conv_net_trains_to_the_numpy_reference_on_every_backend(backend):
    X, y = conv_data()
    net = conv_net()
    start = [tuple(np.array(a) for a in p) for p in nnxp.core.to_host(net.backend, net.params)]
    net.SGD((X, y), 2, 7, 0.2, lmbda=0.5, shuffle=False)
    want = reference_sgd(net.layers, start, X, y, nnxp.LogLikelihoodCost, 2, 7, 0.2, 0.5)
    got = params_numpy(net)
    assert len(got) == 6  # ConvPool (w, b), Dense (w, b), Softmax (w, b); Reshape, Flatten ()
    for a, b in zip(got, [a for p in want for a in p]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


@pytest.mark.parametrize("optimizer", ["momentum", "adam", "rmsprop"])
def test_optimizers_and_l1_train_a_conv_net(optimizer):
    X, y = conv_data()
    net = conv_net()
    before = params_numpy(net)
    history = net.SGD((X, y), 1, 10, 0.01, lmbda=1.0, l1=0.1, optimizer=optimizer,
                      monitor_training_cost=True)
    after = params_numpy(net)
    assert np.isfinite(history.training_cost[0])
    assert all(np.isfinite(a).all() for a in after)
    assert all(not np.array_equal(a, b) for a, b in zip(after, before))


def test_weight_decay_acts_on_weights_only():
    """With eta lmbda / n = 1 and zero gradients the weights vanish and the biases stay."""
    net = conv_net()
    grads = tuple(tuple(0 * a for a in p) for p in net.params)
    transform = nnxp.plan.transform_for(*nnxp.plan.make_plan(1, 10, 1.0, lmbda=10.0), 10)
    state = transform.init(net.params)
    updates, _ = transform.update(grads, state, net.params)
    new = nnxp.optimizers.apply_updates(net.params, updates)
    for p, q in zip(new, net.params):
        if len(p):
            assert not np.asarray(p[0]).any()
            np.testing.assert_array_equal(p[1], q[1])


def test_a_population_member_equals_the_network_alone(backend):
    X, y = conv_data()
    pop = nnxp.Population(conv_entries(), seeds=[0, 1, 2], cost=nnxp.LogLikelihoodCost,
                          dtype="float64")
    pop.SGD((X, y), 2, 10, 0.1, lmbda=0.5, shuffle=5)
    for k in range(3):
        alone = nnxp.Network(conv_entries(), cost=nnxp.LogLikelihoodCost, seed=k,
                             dtype="float64")
        alone.SGD((X, y), 2, 10, 0.1, lmbda=0.5, shuffle=5)
        for a, b in zip(params_numpy(pop[k]), params_numpy(alone)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert pop.accuracy((X, y)) == [nnxp.Network.accuracy(pop[k], (X, y)) for k in range(3)]


def test_vote_is_the_books_plurality():
    pop = nnxp.Population(conv_entries(), seeds=[0, 1, 2], cost=nnxp.LogLikelihoodCost,
                          dtype="float64")
    predictions = np.array([[0, 1, 2, 3], [1, 1, 3, 2], [2, 0, 3, 1]])
    pop._classes = lambda x: predictions  # member k predicts predictions[k]
    # row 0: a three-way tie -> member 0's class; row 1: 1 twice; row 2: 3 twice; row 3: tie
    np.testing.assert_array_equal(pop.vote(np.zeros((4, 64))), [0, 1, 3, 3])


def test_save_and_load_round_trip(tmp_path):
    X, y = conv_data()
    net = conv_net()
    net.SGD((X, y), 1, 10, 0.1)
    path = tmp_path / "conv.json"
    net.save(path)
    loaded = nnxp.load(path)
    assert loaded.layers == net.layers and loaded.sizes == net.sizes
    for a, b in zip(params_numpy(loaded), params_numpy(net)):
        np.testing.assert_array_equal(a, b)
    assert loaded.accuracy((X, y)) == net.accuracy((X, y))
    loaded.SGD((X, y), 1, 10, 0.1)  # and trains on
    twin = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(twin.feedforward(X), net.feedforward(X))


def hostile(tmp_path, change):
    net = conv_net()
    path = tmp_path / "net.json"
    net.save(path)
    d = json.loads(path.read_text())
    change(d)
    path.write_text(json.dumps(d))
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d["layers"][1].update(type="Evil"), "unknown layer type"),
    (lambda d: d["layers"][1].update(type="__class__"), "unknown layer type"),
    (lambda d: d["layers"][3].update(extra=1), "has the fields"),
    (lambda d: d["layers"][3].update(activation={"name": "Nope"}), "unknown activation"),
    (lambda d: d["layers"][3].update(p_dropout=1.5), "p_dropout"),
    (lambda d: d["layers"][1].update(n_filters="3"), "n_filters"),
    (lambda d: d["params"][1][0].pop(), "params[1][0]"),
    (lambda d: d["params"][3][1].append(0.5), "params[3][1]"),
    (lambda d: d["params"].pop(), "field 'params'"),
    (lambda d: d["params"][4][0][0].__setitem__(0, float("nan")), "NaN"),
    (lambda d: d["params"][4][0][0].__setitem__(0, True), "not only numbers"),
    (lambda d: d.update(version=1), "version"),
    (lambda d: d.update(input_size=-1), "input_size"),
    (lambda d: d["layers"][3].update(n_out=10 ** 7), "bytes"),
    (lambda d: d["layers"].pop(), "LogLikelihoodCost needs a Softmax"),
    # the constructor's reason, not "cannot be built from {...}: ConfigError"
    (lambda d: d["layers"][3].update(p_dropout=1.0),
     "layers[3]: layer Dense: p_dropout must be a number in [0, 1), got 1.0"),
    (lambda d: d["layers"][1].update(ties="none"), "ConvPool's ties must be 'first' or 'all'"),
    (lambda d: d["layers"][0].update(shape=[]), "Reshape's shape must be a tuple of positive"),
    (lambda d: d["layers"][1].update(filter_size=[3, 3, 3]), "filter_size must be a positive "
                                                              "int or a pair of them"),
    (lambda d: d["layers"][1].update(filter_size={}), "layer ConvPool's field filter_size: "
                                                      "unknown activation"),
])
def test_hostile_layered_files_are_refused(tmp_path, change, message):
    path = hostile(tmp_path, change)
    with pytest.raises(nnxp.DataError, match=re.escape(message)):
        nnxp.load(path)


def test_checkpoint_and_resume_equal_an_uninterrupted_run(tmp_path):
    X, y = conv_data()
    whole = conv_net()
    whole.SGD((X, y), 3, 10, 0.05, momentum=0.5, lmbda=0.5)
    path = tmp_path / "run.json"
    first = conv_net()
    first.SGD((X, y), 3, 10, 0.05, momentum=0.5, lmbda=0.5, checkpoint=path,
              callbacks=[lambda record, net: record["epoch"] == 0])
    assert len(json.loads(path.read_text())["checkpoint"]["history"]["records"]) == 1
    resumed = nnxp.load(path)
    resumed.resume((X, y))
    for a, b in zip(params_numpy(resumed), params_numpy(whole)):
        np.testing.assert_array_equal(a, b)


def test_population_checkpoint_round_trip(tmp_path):
    X, y = conv_data()
    pop = nnxp.Population(conv_entries(), seeds=[0, 1], cost=nnxp.LogLikelihoodCost,
                          dtype="float64")
    path = tmp_path / "pop.json"
    pop.SGD((X, y), 1, 10, 0.1, checkpoint=path)
    loaded = nnxp.load_population(path)
    assert loaded.layers == pop.layers
    for a, b in zip(params_numpy(loaded), params_numpy(pop)):
        np.testing.assert_array_equal(a, b)
    loaded.resume((X, y), epochs=2)
    assert [len(h.records) for h in loaded.histories] == [2, 2]


def test_the_learning_rate_finder_runs_on_a_layered_network():
    X, y = conv_data(200)
    result = nnxp.find_learning_rate(conv_net(), (X, y), mini_batch_size=10, lmbda=0.1,
                                     mode="sweep", budget_batches=40, checks=4)
    assert len(result.trials) >= 1


@pytest.mark.parametrize("make, message", [
    (lambda: nnxp.Network([64, Reshape((1, 8, 8)), ConvPool(3, 3), Flatten()]),
     "last layer"),
    (lambda: nnxp.Network([64, Reshape((1, 8, 8)), ConvPool(3, 3)]), "flat outputs"),
    (lambda: nnxp.Network([64, Dense(10)], cost=nnxp.LogLikelihoodCost),
     r"end with nnxp\.layers\.Softmax\(n\)"),
    (lambda: nnxp.Network([64, Dense(5), Softmax(4)]),  # the remedy names what fits
     r"end with nnxp\.layers\.Dense\(n, 'Sigmoid'\).*cost=nnxp\.LogLikelihoodCost"),
    (lambda: nnxp.Network([64, ConvPool(3, 3), Softmax(4)]), "ConvPool"),
    (lambda: nnxp.Network([Reshape((1, 8, 8)), Softmax(4)]), "input size"),
    (lambda: nnxp.Network([64, "10", Softmax(4)]), r"sizes\[1\]"),
    (lambda: nnxp.Network([64, 10, Softmax(4)], activation=["ReLU"]), "one activation"),
])
def test_what_cannot_train_is_refused(make, message):
    with pytest.raises(nnxp.ConfigError, match=message):
        make()


@pytest.mark.parametrize("option", [dict(activation="ReLU"),
                                    dict(weight_init=nnxp.initializers.he_weight),
                                    dict(bias_init=nnxp.initializers.zero_bias)])
def test_dense_options_that_no_entry_would_use_are_refused(option):
    """With every layer a layer object, activation=, weight_init= and bias_init= reached no
    layer: Dense(100) kept its Sigmoid although activation='ReLU' was asked, without a word."""
    entries = [64, Dense(10), Softmax(4)]
    for make in (lambda: nnxp.Network(entries, cost=nnxp.LogLikelihoodCost, **option),
                 lambda: nnxp.Population(entries, seeds=[0, 1], cost=nnxp.LogLikelihoodCost,
                                         **option)):
        with pytest.raises(nnxp.ConfigError, match="applies to the int entries.*carries its own"):
            make()
    # an int entry takes them, as before; and without them the layers keep their own
    nnxp.Network([64, 10, Softmax(4)], cost=nnxp.LogLikelihoodCost, **option)
    net = nnxp.Network(entries, cost=nnxp.LogLikelihoodCost)
    assert net.layers[0].activation.name == "Sigmoid"


def test_an_activation_that_only_the_output_int_entry_could_take_is_refused():
    """Network([64, Dense(10), 3], activation="ReLU"): the int entry is the output layer, whose
    activation is the cost's (Sigmoid), so the ReLU reached no layer, without a word."""
    from nnxp.sklearn import NNXPClassifier
    entries = [64, Dense(10), 3]
    for make in (lambda **kw: nnxp.Network(entries, **kw),
                 lambda **kw: nnxp.Population(entries, seeds=[0, 1], **kw)):
        with pytest.raises(nnxp.ConfigError, match="only int entry is the output layer, whose "
                                                   r"activation is Sigmoid \(from CrossEntropy"):
            make(activation="ReLU")
        with pytest.raises(nnxp.ConfigError, match="activation is Softmax"):
            make(activation="ReLU", cost=nnxp.LogLikelihoodCost)
        make(weight_init=nnxp.initializers.he_weight)    # the initializers reach the output
    # where the output takes the hidden layers' activation (QuadraticCost), it is used
    net = nnxp.Network(entries, cost=nnxp.QuadraticCost, activation="ReLU")
    assert net.layers[-1].activation.name == "ReLU"
    X = np.random.default_rng(0).random((30, 64)); y = np.arange(30) % 3
    NNXPClassifier(hidden=[Dense(5)], epochs=1).fit(X, y)     # the default: nothing asked
    with pytest.raises(nnxp.ConfigError, match="would reach no layer"):
        NNXPClassifier(hidden=[Dense(5)], activation="ReLU", epochs=1).fit(X, y)


def test_dense_only_features_refuse_a_layered_network():
    X, y = conv_data()
    net = conv_net()
    with pytest.raises(nnxp.ConfigError, match="read-only"):
        net.weights = net.weights
    assert len(net.weights) == 3 and len(net.biases) == 3  # reading is fine


def test_network2s_initializers_redraw_every_layer_of_a_layered_network():
    """net.default_weight_initializer() on a network of layer objects re-drew the layers' own
    initializers: a diagnosis's "re-initialize with net.default_weight_initializer()" left
    large weights large (RMS 0.991 where 1/sqrt(64) = 0.125; the sixth sweep).  Now every
    layer with weights takes the initializer, as network2's call re-draws every layer."""
    big = nnxp.initializers.large_weight
    net = nnxp.Network([64, Dense(40, "Sigmoid", weight_init=big), Dense(3, "Sigmoid")],
                       seed=0, dtype="float64")
    rms = lambda: float(np.sqrt(np.mean(np.asarray(net.params[0][0]) ** 2)))  # noqa: E731
    assert rms() > 0.9
    net.default_weight_initializer()
    assert 0.1 < rms() < 0.15 and net.layers[0].weight_init is nnxp.initializers.default_weight
    net.large_weight_initializer()
    assert rms() > 0.9
    saved = nnxp.Network([64, Dense(40, "Sigmoid", weight_init=big), Dense(3, "Sigmoid")],
                         seed=0, dtype="float64")
    saved.large_weight_initializer()  # the layers as given: the same draw as given
    for a, b in zip(params_numpy(saved), params_numpy(net)):
        np.testing.assert_array_equal(a, b)


def test_int_entries_become_dense_layers_with_the_networks_activation():
    net = nnxp.Network([64, Reshape((1, 8, 8)), ConvPool(3, 3), Flatten(), 12, 4],
                       activation="ReLU", output_activation="Sigmoid", seed=0)
    assert net.layers[3] == Dense(12, "ReLU") and net.layers[4] == Dense(4, "Sigmoid")
    assert net.sizes == [64, 64, 27, 27, 12, 4]
    assert net.feedforward(np.zeros((5, 64))).shape == (5, 4)
    assert repr(net).startswith("Network([64, Reshape(shape=(1, 8, 8)") and "init" not in repr(net)


@pytest.mark.parametrize("layer, shape", [
    (Dense(5, "ReLU"), (7,)), (Softmax(3), (7,)), (nnxp.layers.Conv2D(2, 3), (1, 8, 8)),
    (ConvPool(3, (3, 2), pool=(2, 3), activation="Tanh", ties="all"), (2, 8, 9)),
    (nnxp.layers.MaxPool2D((2, 2)), (1, 8, 8)), (Flatten(), (2, 3, 3)),
    (Reshape((1, 2, 2)), (4,)),
])
def test_every_layer_has_a_name_in_files_and_its_param_shapes(layer, shape):
    from nnxp.layers.base import LAYERS, layer_config, layer_from_config
    config = json.loads(json.dumps(layer_config(layer)))
    assert LAYERS[config["type"]] is type(layer)
    assert layer_from_config(config) == layer
    params, _ = layer.init(np.random.default_rng(0), shape)
    assert tuple(layer.param_shapes(shape)) == tuple(p.shape for p in params)


def test_a_small_conv_net_learns_mnist(mnist):
    (X, y), (Xv, yv), _ = mnist
    net = nnxp.Network([784, Reshape((1, 28, 28)), ConvPool(8, (5, 5), activation="ReLU"),
                        Flatten(), Dense(30, "ReLU"), Softmax(10)],
                       cost=nnxp.LogLikelihoodCost, seed=0)
    history = net.SGD((X[:1000], y[:1000]), 3, 10, 0.03, lmbda=0.1,
                      evaluation_data=(Xv[:1000], yv[:1000]), monitor_evaluation_accuracy=True)
    assert history.evaluation_accuracy[-1] > 600  # chance is about 100 of 1,000


def test_numpy_runs_the_generic_step_for_a_layered_spec():
    """The fused dense step (backends/numpy_fast.py) never takes a layered spec."""
    net = conv_net()
    plan, optimizer = nnxp.plan.make_plan(1, 10, 0.1)
    transform = nnxp.plan.transform_for(plan, optimizer, 60)
    numpy_backend = nnxp.backends.load("numpy")
    assert not hasattr(numpy_backend.make_step(net.spec, transform), "overwriting")
    dense = nnxp.Network([64, 10, 4], seed=0)
    assert hasattr(numpy_backend.make_step(dense.spec, transform), "overwriting")


MESH_SCRIPT = r'''
import json
import numpy as np
import nnxp
from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax

def entries():
    return [64, Reshape((1, 8, 8)), ConvPool(3, (3, 3)), Flatten(), Dense(10, "Tanh"),
            Softmax(4)]

def flat(params):
    return [np.asarray(a, dtype=np.float64) for layer in params for a in layer]

def gap(a, b):
    return max(float(np.max(np.abs(p - q))) for p, q in zip(flat(a), flat(b)))

rng = np.random.default_rng(0)
x, y = rng.random((60, 64)), rng.integers(0, 4, 60)
out = {}
with nnxp.use_backend("jax"):
    nets = [nnxp.Network(entries(), cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
            for _ in range(2)]
    nets[0].SGD((x, y), 2, 8, 0.1, lmbda=0.5)
    nets[1].SGD((x, y), 2, 8, 0.1, lmbda=0.5, devices=2)
    out["data_parallel"] = gap(nets[0].params, nets[1].params)
    pops = [nnxp.Population(entries(), seeds=[0, 1], cost=nnxp.LogLikelihoodCost,
                            dtype="float64") for _ in range(2)]
    pops[0].SGD((x, y), 2, 8, 0.1)
    pops[1].SGD((x, y), 2, 8, 0.1, devices=2)
    out["members_split"] = gap(pops[0].params, pops[1].params)
print(json.dumps(out))
'''


def test_a_layered_network_on_a_jax_mesh_equals_one_device():
    pytest.importorskip("jax")
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", MESH_SCRIPT], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["data_parallel"] < 1e-12
    assert out["members_split"] < 1e-12


def test_float32_trains_and_measures_on_every_backend(backend):
    X, y = conv_data()
    net = nnxp.Network(conv_entries(), cost=nnxp.LogLikelihoodCost, seed=0)
    history = net.SGD((X, y), 2, 10, 0.1, lmbda=0.5, evaluation_data=(X, y),
                      monitor_evaluation_accuracy=True, monitor_training_cost=True)
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in params_numpy(net))
    assert np.isfinite(history.training_cost).all()
    assert net.predict(X).shape == (60,) and net.feedforward(X[0]).shape == (4,)
    reference = nnxp.Network(conv_entries(), cost=nnxp.LogLikelihoodCost, seed=0,
                             dtype="float64", backend="numpy")
    reference.SGD((X, y), 2, 10, 0.1, lmbda=0.5)
    for a, b in zip(params_numpy(net), params_numpy(reference)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)


def test_memory_is_bounded_by_the_layers_parameter_count(monkeypatch):
    monkeypatch.setenv("NNXP_MAX_MEMORY", "1M")
    big = [784, Reshape((1, 28, 28)), ConvPool(20, 5), Flatten(), Dense(1000), Softmax(10)]
    with pytest.raises(nnxp.ConfigError, match="would need"):
        nnxp.Network(big, cost=nnxp.LogLikelihoodCost)
    with pytest.raises(nnxp.ConfigError, match="would need"):
        nnxp.Population(conv_entries(), seeds=range(10 ** 6), cost=nnxp.LogLikelihoodCost)
    # 7,850 parameters: fine (its flat sizes 784, 784, 784, 10 would suggest 1.2 million)
    nnxp.Network([784, Reshape((1, 28, 28)), Flatten(), Softmax(10)],
                 cost=nnxp.LogLikelihoodCost)


def test_a_copy_trains_apart():
    X, y = conv_data()
    net = conv_net()
    twin = net.copy()
    twin.SGD((X, y), 1, 10, 0.1)
    assert twin.layers == net.layers
    assert any(not np.array_equal(a, b) for a, b in zip(params_numpy(twin), params_numpy(net)))


def test_a_layered_jax_epoch_runs_without_host_to_device_transfers():
    jax = pytest.importorskip("jax")
    from nnxp.optimizers import set_hyper, training_chain
    X, y = conv_data()
    with nnxp.use_backend("jax") as be:
        net = nnxp.Network(conv_entries(), cost=nnxp.LogLikelihoodCost, seed=0)
        data, engine = net.prepare((X, y)), net.engine("jax")
        transform = training_chain(nnxp.momentum(0.9), eta=0.5, decay=1 / 60, l1=0.1 / 60)
        order = be.asarray(np.random.default_rng(1).permutation(60), "index")
        params, state = net.params, transform.init(net.params)
        params, state = engine.run_epoch(transform, params, state, data, order, 10)
        jax.block_until_ready(params)
        with jax.transfer_guard_host_to_device("disallow"):
            state = set_hyper(state, eta=be.asarray(0.25, "float32"))
            params, state = engine.run_epoch(transform, params, state, data, order, 10)
            scores = engine.scores(params, data)
        assert scores.shape == (5,) and np.isfinite(scores).all()


@pytest.mark.parametrize("x", ["pair", [[1.0, 2.0], [3.0]]])
def test_feedforward_and_vote_of_ragged_input_are_data_errors(x):
    """The pair (X, y) given for X, or ragged rows, was NumPy's bare ValueError
    ('inhomogeneous shape') from the conversion."""
    X, y = conv_data(8)
    x = (X, y) if x == "pair" else x
    net = conv_net()
    pop = nnxp.Population(conv_entries(), [0, 1], cost=nnxp.LogLikelihoodCost,
                          dtype="float64")
    for call in (net.feedforward, pop.feedforward, pop.vote):
        with pytest.raises(nnxp.DataError, match="(feedforward|vote): x must be"):
            call(x)


def test_params_of_another_shape_are_refused_when_set(tmp_path):
    """net.params set whole with an array of another shape, a layer left out, or not a tuple:
    a DataError naming it (was: accepted; training and save went on, the saved file replaced a
    good one and nnxp.load refused it; predict answered classes a 4-class network cannot give,
    or raised a bare broadcasting ValueError), the parameters and the file kept."""
    from nnxp import layers as L
    net = nnxp.Network([81, L.Reshape((1, 9, 9)), L.ConvPool(2, 3), L.Flatten(),
                        L.Softmax(4)], cost=nnxp.LogLikelihoodCost, seed=0)
    path = tmp_path / "good.json"
    net.save(path)
    p = list(net.params)
    bad = (tuple([p[0], (np.zeros((2, 1, 4, 4), np.float32), p[1][1])] + p[2:]),
           tuple(p[:-1]), 5, tuple([p[0], (p[1][0],)] + p[2:]))
    for value in bad:
        with pytest.raises(nnxp.DataError, match=r"net\.params"):
            net.params = value
    assert all(a is b for layer, was in zip(net.params, p) for a, b in zip(layer, was))
    assert nnxp.load(path).params[1][0].shape == (2, 1, 3, 3)
    dense = nnxp.Network([81, 5, 4])
    with pytest.raises(nnxp.DataError, match=r"net\.params\[0\]\[0\] should have shape "
                                             r"\(5, 81\)"):
        dense.params = ((np.zeros((5, 80)), np.zeros(5)), (np.zeros((4, 5)), np.zeros(4)))


def test_a_layered_networks_saturated_outputs_are_classed_and_costed_from_z():
    """The dense network's fix for layered ones ending in Dense or Softmax: outputs of
    z = -50, -40, -45 tie at 0 (the tanh form) and answered class 0; a target unit at z = -800
    was charged 708 (the clipped log), not 800 (the fifth sweep)."""
    x = np.array([[1.0]])
    net = nnxp.Network([1, Dense(3, "Sigmoid")], seed=0, dtype="float64")
    net.params = ((np.array([[-50.0], [-40.0], [-45.0]]), np.zeros(3)),)
    assert int(np.asarray(net.predict(x)).reshape(-1)[0]) == 1
    assert net.accuracy((x, np.array([1]))) == 1
    soft = nnxp.Network([1, Softmax(2)], cost=nnxp.LogLikelihoodCost, seed=0, dtype="float64")
    soft.params = ((np.array([[-800.0], [800.0]]), np.zeros(2)),)
    assert soft.total_cost((x, np.array([0]))) == pytest.approx(1600.0, rel=1e-12)
    sig = nnxp.Network([1, Dense(2, "Sigmoid")], seed=0, dtype="float64")
    sig.params = ((np.array([[-800.0], [800.0]]), np.zeros(2)),)
    assert sig.total_cost((x, np.array([0]))) == pytest.approx(1600.0, rel=1e-12)
