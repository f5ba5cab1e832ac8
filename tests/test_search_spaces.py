"""A search space read the same way by every strategy (grid, random, halving, optuna), and
refused before anything trains when it cannot mean what it says: an architecture whose entry is
not a width or a layer names that entry."""

from concurrent.futures import ThreadPoolExecutor

import pytest

import nnxp
import nnxp.search as search
from nnxp.layers import Dense, Softmax
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
