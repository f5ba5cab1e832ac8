"""A search space read the same way by every strategy (grid, random, halving, optuna), and
refused before anything trains when it cannot mean what it says: an architecture whose entry is
not a width or a layer names that entry; an activation or initializer that an architecture made
only of layer objects would ignore (its trials one network under several labels) names that
architecture, as nnxp.Network refuses them there."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import nnxp
import nnxp.search as search
from nnxp.layers import ConvPool, Dense, Flatten, Reshape, Softmax
from conftest import blobs, optional

TRAIN, VALID = blobs(36, width=16), blobs(24, seed=1, width=16)
STRATEGIES = ["grid", "random", "halving", "optuna"]


class Refusing(ThreadPoolExecutor):
    """An executor that fails the test if a search sends it anything to train."""

    def __init__(self):
        super().__init__(1)

    def submit(self, fn, *args, **kwargs):
        raise AssertionError("the search trained before refusing its space")


def _search(strategy, space, executor=None):
    options = dict(epochs=1, mini_batch_size=10, seed=0,
                   executor=executor or ThreadPoolExecutor(1))
    with nnxp.use_backend("numpy"):
        if strategy == "grid":
            return search.grid(space, TRAIN, VALID, **options)
        if strategy == "random":
            return search.random(space, TRAIN, VALID, n_trials=2, **options)
        if strategy == "halving":
            return search.halving(space, TRAIN, VALID, n_candidates=2, **options)
        optional("optuna")
        return search.optuna(space, TRAIN, VALID, n_trials=2, batch=2, **options)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("sizes, match", [
    pytest.param([16, 3.0], r"the architecture sizes=\[16, 3\.0\]: entry 1 is 3\.0, a float; "
                 r"expected a positive int \(a dense layer's width\) or a layer object",
                 id="float"),
    pytest.param([16, 8, True], r"sizes=\[16, 8, True\]: entry 2 is True, a bool; expected a "
                 r"positive int", id="bool"),
    pytest.param([16, -8, 3], r"sizes=\[16, -8, 3\]: entry 1 is -8, not positive; expected a "
                 r"positive int", id="negative"),
    pytest.param([16, "8", 3], r"entry 1 is '8', a str; expected a positive int", id="text"),
    pytest.param([16.0, 8, 3], r"entry 0 is 16\.0, a float; expected the input size, a "
                 r"positive int", id="float-input"),
    pytest.param([16, Dense(8), 3.5], r"sizes=\[16, Dense\(n_out=8, .*\), 3\.5\]: entry 2 is "
                 r"3\.5, a float", id="float-after-a-layer"),
    pytest.param([[16, 8, 3], [16, 8.0, 3]], r"sizes choice 1 \[16, 8\.0, 3\]: entry 1 is 8\.0, "
                 r"a float", id="float-in-a-choice"),
    pytest.param([[16, 8, 3], 5], r"sizes lists architecture choices, but choice 1 is 5; "
                 r"expected a list", id="int-among-choices"),
    pytest.param(search.choice([[16, 8, 3], [16, 0, 3]]), r"sizes choice 1 \[16, 0, 3\]: "
                 r"entry 1 is 0, not positive", id="zero-in-choice"),
    pytest.param([16], r"sizes=\[16\] has 1 entry; expected the input size, then at least one "
                 r"layer", id="one-entry"),
])
def test_an_architecture_entry_that_is_not_a_width_is_named(strategy, sizes, match):
    space = {"sizes": sizes, "eta": [0.5]}
    with pytest.raises(nnxp.ConfigError, match=f"^{strategy}: .*{match}"):
        _search(strategy, space, Refusing())


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_array_of_sizes_is_one_architecture_for_every_strategy(strategy):
    """Optuna took it apart into its widths (a TypeError from its probes)."""
    result = _search(strategy, {"sizes": np.array([16, 8, 3]), "eta": [0.5]})
    assert {tuple(r["sizes"]) for r in result.records} == {(16, 8, 3)}
    with pytest.raises(nnxp.ConfigError, match=r"sizes=\[16\.0, 8\.0, 3\.0\]: entry 0 is 16\.0, "
                                               r"a float; expected the input size"):
        _search(strategy, {"sizes": np.array([16.0, 8.0, 3.0]), "eta": [0.5]}, Refusing())


ALL = [16, Dense(8), Softmax(3)]
CONV = [16, Reshape((1, 4, 4)), ConvPool(2, (3, 3), pool=(1, 1)), Flatten(), Dense(6),
        Softmax(3)]
MIXED = [16, 8, Softmax(3)]   # one int entry: the dense options reach its hidden layer
COST = "LogLikelihoodCost"


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("space, match", [
    pytest.param({"sizes": CONV, "activation": ["Sigmoid", "ReLU"]},
                 r"gives activation \['Sigmoid', 'ReLU'\], but its architecture \(16,Reshape.*\) "
                 r"is made only of layer objects.*one network under several labels\. Put the "
                 r"activation in the layer objects", id="activation-conv"),
    pytest.param({"sizes": ALL, "initializer": ["default", "he"]},
                 r"gives initializer \['default', 'he'\], but its architecture \(16,Dense.*one "
                 r"network under several labels\. Put the initializer in the layer objects",
                 id="initializer-dense-objects"),
    pytest.param({"sizes": [MIXED, CONV], "activation": ["Sigmoid", "ReLU"]},
                 r"varies activation over \['Sigmoid', 'ReLU'\], but architecture choice 1 "
                 r"\(16,Reshape.*\) is made only of layer objects.*search those architectures "
                 r"in a space of their own", id="activation-one-choice"),
    pytest.param({"sizes": [16, Dense(8), 3], "activation": ["Sigmoid", "ReLU"]},
                 r"gives activation \['Sigmoid', 'ReLU'\], but its architecture \(16,Dense.*,3\) "
                 r"has the output layer as its only int entry, whose activation is the cost's",
                 id="activation-output-only"),
    pytest.param({"sizes": [ALL, MIXED, CONV], "initializer": search.choice(["he", "glorot"])},
                 r"varies initializer over \['he', 'glorot'\], but architecture choices 0, 2 "
                 r"\(16,Dense", id="initializer-two-choices"),
    pytest.param({"sizes": [ALL, CONV], "activation": "ReLU"},
                 r"gives activation 'ReLU', but architecture choices 0, 1 .* are made only of "
                 r"layer objects.*nnxp\.Network refuses activation=", id="fixed-where-none-takes"),
])
def test_a_dense_option_that_no_layer_of_an_architecture_takes_is_refused(strategy, space,
                                                                          match):
    """Before, each trial of such an architecture trained the same network under another
    label; a fixed option no architecture takes is refused as nnxp.Network refuses it."""
    with pytest.raises(nnxp.ConfigError, match=f"^{strategy}: the space {match}"):
        _search(strategy, {**space, "eta": [0.5], "cost": COST}, Refusing())


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("space", [
    pytest.param({"sizes": [MIXED, [16, 5, 3]], "activation": ["Sigmoid", "ReLU"],
                  "initializer": ["default", "he"]}, id="varied-where-every-choice-takes-it"),
    pytest.param({"sizes": [MIXED, CONV], "activation": "ReLU", "initializer": ["he"]},
                 id="fixed-where-one-choice-takes-it"),
    pytest.param({"sizes": [ALL, CONV]}, id="not-given"),
])
def test_dense_options_that_reach_a_layer_still_search(strategy, space):
    result = _search(strategy, {**space, "eta": [0.5], "cost": COST})
    assert result.records and all(r["status"] == "ok" for r in result.records)
    if "activation" in space:
        assert {r["activation"] for r in result.records} <= {"Sigmoid", "ReLU"}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_activation_the_output_takes_still_searches(strategy):
    """With QuadraticCost the output layer takes the hidden layers' activation: a space that
    varies it over an architecture whose only int entry is the output reaches a layer."""
    result = _search(strategy, {"sizes": [16, Dense(8), 3], "eta": [0.5],
                                "activation": ["Sigmoid", "ReLU"], "cost": "QuadraticCost"})
    assert result.records and all(r["status"] == "ok" for r in result.records)
    # the kept network has its trial's activation at its output
    assert result.best_network().layers[-1].activation.name == result.best["activation"]


def by_run_space(trial):
    """A define-by-run space that varies the activation of a conv architecture."""
    return {"sizes": CONV, "eta": 0.5, "cost": COST,
            "activation": trial.suggest_categorical("activation", ["Sigmoid", "ReLU"])}


def test_optuna_refuses_a_define_by_run_point_whose_option_no_layer_takes():
    optional("optuna")
    with nnxp.use_backend("numpy"), pytest.raises(
            nnxp.ConfigError, match=r"^optuna: the point of .*by_run_space: the space gives "
                                    r"activation '(Sigmoid|ReLU)', but its architecture"):
        search.optuna(by_run_space, TRAIN, VALID, n_trials=2, epochs=1, mini_batch_size=10,
                      executor=Refusing())
