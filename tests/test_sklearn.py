"""nnxp.sklearn.NNXPClassifier: scikit-learn's estimator checks, labels, reproducibility, the
public-API equivalence (fit = Network.SGD, partial_fit k times = fit for k epochs), pickling,
Pipeline / cross_val_score / GridSearchCV / HalvingRandomSearchCV, and a GridSearchCV run through
joblib on a two-worker Dask LocalCluster (loopback only) that must match the local search.

Tests taking ``backend`` run on every selected backend.  scikit-learn's estimator checks run in
full on NumPy (the default estimator and three more configurations), and on every backend the
checks that cross the host/device boundary; every check on every backend is the test marked
slow (JAX compiles a program for each new network, so the full list takes over a minute there).  The searches run on
NumPy: they test scikit-learn's side, the backends are covered by the tests above them.
Everything uses small synthetic data and a few epochs.  scikit-learn, dask[distributed] and
pandas (for sklearn's DataFrame checks) are in the ``test`` extra: where they are not installed
(the NumPy-only environment) this module skips, naming them (conftest.optional), and under
NNXP_REQUIRE_OPTIONAL=1 (CI) their absence is an error.
"""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import optional

optional("sklearn")
distributed = optional("distributed")

import numpy as np  # noqa: E402  (after the skips above)
from joblib import parallel_config  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_blobs
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import estimator_checks_generator

import nnxp
from conftest import dask_client, params_numpy, to_numpy
from nnxp.sklearn import NNXPClassifier

ROOT = Path(__file__).resolve().parent.parent

# Checks that cannot apply to NNXPClassifier, with the reason: {check name: reason}.  Empty:
# every check scikit-learn 1.9 yields for it passes (the array-API one runs in a subprocess
# below, since it needs SCIPY_ARRAY_API set before SciPy is imported).
EXPECTED_FAILED_CHECKS: dict = {}
SUBPROCESS_CHECKS = {"check_array_api_input"}


def _check_name(check) -> str:
    while hasattr(check, "__wrapped__"):
        check = check.__wrapped__
    name = check.func.__name__ if hasattr(check, "func") else check.__name__
    keywords = getattr(check, "keywords", None)
    return name + (f"({', '.join(f'{k}={v}' for k, v in keywords.items())})" if keywords
                   else "")


def _checks(estimator, label, only=None):
    pairs = estimator_checks_generator(estimator, legacy=True,
                                       expected_failed_checks=EXPECTED_FAILED_CHECKS,
                                       mark="xfail")
    params = []
    for est, check in pairs:
        name = _check_name(check)
        base = name.split("(")[0]
        if base in SUBPROCESS_CHECKS or (only is not None and name not in only):
            continue
        params.append(pytest.param(est, check, id=f"{label}-{name}"))
    return params


DEFAULT = NNXPClassifier(epochs=10, random_state=0)
VARIANTS = {
    "softmax-relu-momentum-f64": NNXPClassifier(
        hidden=(8, 8), cost="LogLikelihoodCost", activation="ReLU", momentum=0.5, eta=0.1,
        epochs=10, random_state=0, dtype="float64"),
    "quadratic-tanh-no-hidden": NNXPClassifier(
        hidden=(), cost="QuadraticCost", activation="Tanh", eta=0.2, epochs=10,
        random_state=0),
    # float64: check_methods_subset_invariance compares predict_proba on row subsets to 1e-7,
    # which float32 products meet only where BLAS happens to sum every subset in one order
    "early-stopping": NNXPClassifier(early_stopping=3, epochs=20, lmbda=0.1, random_state=0,
                                     dtype="float64"),
}
# On every backend, checks that move data and results across the host/device boundary (the
# whole list runs on NumPy, and on every backend in the slow test).
ON_EVERY_BACKEND = {"check_classifiers_train", "check_estimators_pickle",
                    "check_methods_subset_invariance"}


@pytest.mark.parametrize("estimator, check", [
    p for label, est in {"default": DEFAULT, **VARIANTS}.items() for p in _checks(est, label)])
def test_estimator_checks_on_numpy(estimator, check):
    with nnxp.use_backend("numpy"):
        check(estimator)


@pytest.mark.parametrize("estimator, check", _checks(DEFAULT, "default", ON_EVERY_BACKEND))
def test_estimator_checks_on_each_backend(backend, estimator, check):
    check(estimator)


# The two checks that compare predict_proba across row orders and subsets to 1e-7 run in
# float64 in the slow test: float32 products are not row-order invariant on every backend
# (PyTorch's CPU matmul sums a matrix's last rows with another kernel: the same row moved
# there differs by 1e-7 relative), as VARIANTS' early-stopping comment says for subsets.
INVARIANCE = {"check_methods_sample_order_invariance", "check_methods_subset_invariance"}


def _all_checks():
    kept = [p for p in _checks(DEFAULT, "default")
            if p.id.split("-", 1)[1].split("(")[0] not in INVARIANCE]
    return kept + _checks(NNXPClassifier(epochs=10, random_state=0, dtype="float64"),
                          "default-float64", INVARIANCE)


@pytest.mark.slow
@pytest.mark.parametrize("estimator, check", _all_checks())
def test_all_estimator_checks_on_each_backend(backend, estimator, check):
    check(estimator)


def test_array_api_check_in_a_subprocess():
    """sklearn's check for estimators without array-API support: with dispatch enabled and
    NumPy inputs, results do not change.  SciPy reads SCIPY_ARRAY_API when imported."""
    code = ("from sklearn.utils.estimator_checks import check_array_api_input\n"
            "from nnxp.sklearn import NNXPClassifier\n"
            "check_array_api_input('NNXPClassifier', NNXPClassifier(epochs=5, random_state=0),"
            " array_namespace='numpy', expect_only_array_outputs=False)\n"
            "print('checked')\n")
    env = dict(os.environ, SCIPY_ARRAY_API="1", NNXP_BACKEND="numpy",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "checked" in out.stdout


# -- data ---------------------------------------------------------------------------------

def blobs(n=120, centers=3, features=4, seed=0):
    X, y = make_blobs(n, n_features=features, centers=centers, cluster_std=1.0,
                      random_state=seed)
    return StandardScaler().fit_transform(X), y


# -- labels -------------------------------------------------------------------------------

@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "emu"]), np.array([-7, 3, 100])])
def test_arbitrary_labels_map_to_output_units(backend, labels):
    X, y = blobs()
    clf = NNXPClassifier(epochs=10, random_state=0).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    assert clf.network_.sizes == [4, 30, 3]
    pred = clf.predict(X)
    assert pred.dtype == labels.dtype and set(pred) <= set(labels)
    assert clf.score(X, labels[y]) > 0.9
    # unit i stands for classes_[i]: predict is classes_[argmax of the network's output]
    out = to_numpy(clf.network_.feedforward(X))
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(out, axis=1)])


def test_binary_problems_have_two_output_units(backend):
    X, y = blobs(centers=2)
    clf = NNXPClassifier(epochs=10, random_state=0).fit(X, np.where(y == 1, "yes", "no"))
    assert clf.network_.sizes[-1] == 2
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.score(X, np.where(y == 1, "yes", "no")) > 0.9


def test_one_class_is_refused_with_a_clear_error():
    X, _ = blobs()
    with pytest.raises(nnxp.DataError, match="at least 2 classes"):
        NNXPClassifier().fit(X, np.zeros(len(X)))


def test_continuous_targets_are_a_data_error_in_fit_and_partial_fit():
    """scikit-learn's refusal of a regression target, as nnxp's DataError (a ValueError, as
    scikit-learn's checks expect) with its message."""
    X, y = blobs()
    with pytest.raises(nnxp.DataError, match="class labels.*continuous"):
        NNXPClassifier(epochs=1).fit(X, y + 0.5)
    with pytest.raises(nnxp.DataError, match="class labels.*continuous"):
        NNXPClassifier().partial_fit(X, y + 0.5, classes=[0.5, 1.5, 2.5])


def test_hidden_int_and_empty(backend):
    X, y = blobs()
    assert NNXPClassifier(hidden=5, epochs=1).fit(X, y).network_.sizes == [4, 5, 3]
    assert NNXPClassifier(hidden=(), epochs=1).fit(X, y).network_.sizes == [4, 3]


@pytest.mark.parametrize("params, error, match", [
    ({"hidden": "wide"}, nnxp.ConfigError, "hidden must list"),
    ({"hidden": "30"}, nnxp.ConfigError, "hidden must list"),
    ({"hidden": {100, 30}}, nnxp.ConfigError, "hidden must list"),
    ({"hidden": {30: 1}}, nnxp.ConfigError, "hidden must list"),
    ({"hidden": 3.5}, nnxp.ConfigError, "hidden"),
    ({"cost": "hinge"}, nnxp.ConfigError, "unknown cost"),
    ({"activation": "swish"}, nnxp.ConfigError, "activation"),
    ({"eta": -1.0}, nnxp.ConfigError, "eta"),
    ({"random_state": "x"}, nnxp.ConfigError, "random_state"),
    ({"random_state": -3}, nnxp.ConfigError, "seed"),
    ({"dtype": "float16"}, nnxp.ConfigError, "dtype"),
    ({"backend": "tensorflow"}, nnxp.BackendError, "unknown backend"),
    ({"backend": ""}, nnxp.BackendError, "unknown backend"),
    ({"random_state": True}, nnxp.ConfigError, "random_state"),
    ({"random_state": False}, nnxp.ConfigError, "random_state"),
    ({"early_stopping": 2, "validation_fraction": 1.5}, nnxp.ConfigError, "validation"),
    ({"validation_fraction": 1.5}, nnxp.ConfigError, "validation_fraction"),
    ({"validation_fraction": "0.1"}, nnxp.ConfigError, "validation_fraction"),
    ({"validation_fraction": float("nan")}, nnxp.ConfigError, "validation_fraction"),
    # momentum and l1 were read as truth values: an array was NumPy's bare ValueError ("the
    # truth value of an array ... is ambiguous"), "" or [] were silently 0
    ({"momentum": np.array([0.5, 0.5])}, nnxp.ConfigError, "momentum must be one number"),
    ({"l1": np.array([0.5, 0.5])}, nnxp.ConfigError, "l1 must be one number"),
    ({"momentum": ""}, nnxp.ConfigError, "momentum must be a number, got ''"),
    ({"momentum": []}, nnxp.ConfigError, "momentum must be one number"),
    ({"l1": False}, nnxp.ConfigError, "l1 must be a number, got False"),
])
def test_bad_hyper_parameters_raise_nnxp_errors_at_fit(params, error, match):
    X, y = blobs(n=30)
    clf = NNXPClassifier(**params)  # sklearn's rule: __init__ only stores
    with pytest.raises(error, match=match):
        clf.fit(X, y)


# -- probabilities ------------------------------------------------------------------------

def test_predict_proba_normalizes_sigmoid_outputs(backend):
    X, y = blobs()
    clf = NNXPClassifier(epochs=5, random_state=0).fit(X, y)
    p = clf.predict_proba(X)
    out = to_numpy(clf.network_.feedforward(X)).astype(np.float64)
    assert p.dtype == np.float64 and p.shape == (len(X), 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p, out / out.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(clf.classes_[p.argmax(axis=1)], clf.predict(X))


def test_predict_proba_of_softmax_is_its_output(backend):
    X, y = blobs()
    clf = NNXPClassifier(cost="LogLikelihoodCost", eta=0.1, epochs=5, random_state=0,
                         dtype="float64").fit(X, y)
    out = to_numpy(clf.network_.feedforward(X))
    np.testing.assert_allclose(clf.predict_proba(X), out, rtol=1e-12)


def test_predict_proba_clips_negative_outputs(backend):
    """Identity (or tanh) outputs under the quadratic cost can be negative: clipped at 0, and a
    row with no positive output is uniform."""
    X, y = blobs()
    clf = NNXPClassifier(hidden=(), cost="QuadraticCost", output_activation="Identity",
                         eta=0.05, epochs=3, random_state=0).fit(X, y)
    out = to_numpy(clf.network_.feedforward(X)).astype(np.float64)
    assert (out < 0).any() and (out > 0).any(axis=1).all()
    p = clf.predict_proba(X)
    np.testing.assert_allclose(p, np.clip(out, 0, None) / np.clip(out, 0, None).sum(
        axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(clf.classes_[p.argmax(axis=1)], clf.predict(X))
    clf.network_.params = tuple((w * 0, b * 0 - 1) for w, b in clf.network_.params)
    np.testing.assert_array_equal(clf.predict_proba(X), np.full((len(X), 3), 1 / 3))


# -- reproducibility and the public API --------------------------------------------------

def test_same_random_state_same_predictions_other_state_differs(backend):
    X, y = blobs()
    a = NNXPClassifier(epochs=3, random_state=7).fit(X, y).predict_proba(X)
    b = NNXPClassifier(epochs=3, random_state=7).fit(X, y).predict_proba(X)
    c = NNXPClassifier(epochs=3, random_state=8).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_fit_is_network_sgd_with_the_same_seed(backend):
    """random_state=s trains exactly Network(sizes, seed=s).SGD((X, class index), ...)."""
    X, y = blobs()
    labels = np.array(["a", "b", "c"])[y]
    clf = NNXPClassifier(hidden=(6,), eta=0.3, lmbda=0.5, momentum=0.2, mini_batch_size=8,
                         epochs=4, random_state=3).fit(X, labels)
    net = nnxp.Network([4, 6, 3], cost=nnxp.CrossEntropyCost, seed=3)
    net.SGD((X, y), 4, 8, 0.3, lmbda=0.5, momentum=0.2)
    for got, want in zip(params_numpy(clf.network_), params_numpy(net), strict=True):
        np.testing.assert_array_equal(got, want)


def test_backend_param_picks_the_backend(backend):
    X, y = blobs()
    with nnxp.use_backend("numpy"):
        clf = NNXPClassifier(epochs=2, random_state=0, backend=backend.name).fit(X, y)
    assert clf.network_.backend.name == backend.name
    assert isinstance(clf.predict_proba(X), np.ndarray)


def test_backends_agree_in_float64(backend):
    X, y = blobs()
    params = dict(epochs=3, random_state=0, dtype="float64")
    ref = NNXPClassifier(backend="numpy", **params).fit(X, y).predict_proba(X)
    got = NNXPClassifier(**params).fit(X, y).predict_proba(X)  # the selected backend
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


# -- partial_fit --------------------------------------------------------------------------

def test_partial_fit_epochs_equal_fit(backend):
    """k partial_fit calls on the whole data = fit for k epochs (no momentum): the same
    network, continuing the same shuffling stream."""
    X, y = blobs()
    fitted = NNXPClassifier(epochs=3, lmbda=0.1, random_state=1).fit(X, y)
    stepped = NNXPClassifier(lmbda=0.1, random_state=1)
    for _ in range(3):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    assert stepped.n_iter_ == 3 and fitted.n_iter_ == 3
    np.testing.assert_array_equal(stepped.predict_proba(X), fitted.predict_proba(X))


def test_partial_fit_on_batches_learns_and_checks_classes(backend):
    X, y = blobs(n=200)
    labels = np.array(["x", "y", "z"])[y]
    clf = NNXPClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:50], labels[:50])
    for epoch in range(5):
        for start in range(0, 200, 50):
            clf.partial_fit(X[start:start + 50], labels[start:start + 50],
                            classes=["x", "y", "z"] if epoch == 0 else None)
    assert clf.n_iter_ == 20
    assert clf.score(X, labels) > 0.9
    with pytest.raises(nnxp.DataError, match="not among classes_"):
        clf.partial_fit(X[:5], np.array(["x", "w", "x", "x", "x"]))
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X[:5], labels[:5], classes=["x", "y"])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:5, :3], labels[:5])


def test_partial_fit_classes_may_be_absent_from_the_first_batch():
    X, y = blobs()
    clf = NNXPClassifier(random_state=0).partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])
    assert clf.network_.sizes[-1] == 3
    clf.partial_fit(X, y)
    assert set(clf.predict(X)) <= {0, 1, 2}


# -- pickling -----------------------------------------------------------------------------

def test_pickle_keeps_weights_and_the_shuffling_stream(backend):
    X, y = blobs()
    clf = NNXPClassifier(epochs=2, random_state=0).fit(X, y)
    twin = pickle.loads(pickle.dumps(clf))
    assert twin.network_.backend.name == backend.name
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    assert list(twin.history_) == list(clf.history_)
    clf.partial_fit(X, y)
    twin.partial_fit(X, y)
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))


# -- scikit-learn's tools -----------------------------------------------------------------

def test_pipeline_and_cross_val_score():
    X, y = make_blobs(150, n_features=5, centers=3, cluster_std=2.0, random_state=1)
    X = X * 50 + 100  # unscaled: the scaler matters
    model = make_pipeline(StandardScaler(), NNXPClassifier(hidden=(10,), epochs=10,
                                                           random_state=0, backend="numpy"))
    scores = cross_val_score(model, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


def test_grid_search():
    X, y = blobs(n=150)
    grid = {"eta": [1e-4, 0.5], "hidden": [(4,), (16,)]}
    estimator = NNXPClassifier(epochs=5, random_state=0, backend="numpy")
    search = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["eta"] == 0.5  # 1e-4 barely moves the weights in 5 epochs
    assert search.best_score_ > 0.9
    assert search.best_estimator_.n_iter_ == 5


def test_halving_random_search_over_epochs():
    X, y = blobs(n=150)
    space = {"eta": [1e-4, 1e-3, 0.3, 1.0], "hidden": [(4,), (16,)], "lmbda": [0.0, 0.1]}
    estimator = NNXPClassifier(random_state=0, backend="numpy")
    search = HalvingRandomSearchCV(estimator, space, resource="epochs", min_resources=1,
                                   max_resources=9, factor=3, n_candidates=9, cv=3,
                                   random_state=0).fit(X, y)
    assert list(search.n_resources_) == [1, 3, 9]
    assert list(search.n_candidates_) == [9, 3, 1]
    assert search.best_estimator_.epochs == 9 and search.best_estimator_.n_iter_ == 9
    assert search.best_params_["eta"] >= 0.3
    assert search.best_score_ > 0.9


def test_grid_search_on_a_dask_local_cluster_matches_the_local_search():
    """GridSearchCV's fits run on two Dask worker processes (loopback only) through joblib;
    the scores equal the local search's (float64; to within one test example per fold, so
    that a BLAS with another thread count cannot fail it)."""
    X, y = blobs(n=90)
    grid = {"eta": [1e-3, 0.5], "lmbda": [0.0, 1.0]}
    estimator = NNXPClassifier(hidden=(8,), epochs=4, random_state=0, dtype="float64",
                               backend="numpy")
    local = GridSearchCV(clone(estimator), grid, cv=3).fit(X, y)
    with dask_client() as client:
        with distributed.get_task_stream(client) as tasks, parallel_config(backend="dask"):
            remote = GridSearchCV(clone(estimator), grid, cv=3, n_jobs=-1).fit(X, y)
        workers = set(client.scheduler_info()["workers"])
    ran_on = {task["worker"] for task in tasks.data}
    assert len(workers) == 2 and ran_on and ran_on <= workers
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    for k in range(3):
        key = f"split{k}_test_score"
        np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key],
                                   atol=1.01 / 30)
    assert remote.best_params_["eta"] == local.best_params_["eta"] == 0.5


def test_the_module_docstring_example_runs():
    import doctest

    import nnxp.sklearn
    with nnxp.use_backend("numpy"):
        result = doctest.testmod(nnxp.sklearn, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def test_importing_nnxp_does_not_import_sklearn():
    code = "import sys, nnxp; print('sklearn' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("first, then, match", [
    (None, None, "classes must be passed on the first call"),
    ("abc", None, "array-like"),
    ([0, 1, 2], [0, 1, 2, 3], "not the same as on last call"),
])
def test_partial_fit_classes_refusals_are_config_errors(first, then, match):
    """scikit-learn's refusals of classes= (ValueErrors, as its checks expect) as nnxp's
    ConfigError with scikit-learn's message; the estimator stays unfitted or as it was."""
    X, y = blobs(n=30)
    clf = NNXPClassifier(epochs=1, random_state=0)
    if then is None:
        with pytest.raises(nnxp.ConfigError, match=match):
            clf.partial_fit(X, y, classes=first)
        assert not hasattr(clf, "network_")
        return
    clf.partial_fit(X, y, classes=first)
    with pytest.raises(nnxp.ConfigError, match=match):
        clf.partial_fit(X, y, classes=then)
    assert clf.n_iter_ == 1 and list(clf.classes_) == first


def test_a_float64_jax_estimator_unpickles_as_float64_in_a_fresh_process(tmp_path):
    """A fresh process has JAX's x64 off: the weights came back float32 under dtype float64
    (predictions off in the 8th digit, and training on in float32); now x64 is turned on as
    building the network did."""
    optional("jax")
    X, y = blobs(n=30)
    clf = NNXPClassifier(epochs=1, dtype="float64", backend="jax", random_state=0).fit(X, y)
    (tmp_path / "clf.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "x.npy", X)
    code = ("import pickle, sys, numpy as np; d = sys.argv[1]; "
            "c = pickle.loads(open(d + '/clf.pkl', 'rb').read()); "
            "print(c.network_.params[0][0].dtype); "
            "np.save(d + '/p.npy', c.predict_proba(np.load(d + '/x.npy')))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_ENABLE_X64": "0"}
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["float64"]
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), clf.predict_proba(X))


def test_a_refused_first_partial_fit_leaves_nothing_fitted():
    """classes= of other labels than y's: the DataError came after classes_, network_ and
    n_iter_ were set, so check_is_fitted passed, predict answered from an untrained network
    and the corrected call was refused as a change of classes."""
    from sklearn.utils.validation import check_is_fitted
    from sklearn.exceptions import NotFittedError
    X, y = blobs(n=30)
    clf = NNXPClassifier(epochs=1, random_state=0)
    with pytest.raises(nnxp.DataError, match="not among classes_"):
        clf.partial_fit(X, y, classes=["a", "b", "c"])
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not {"classes_", "network_", "n_iter_", "n_features_in_"} & set(vars(clf))
    clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 1 and list(clf.classes_) == [0, 1, 2]


def test_a_refused_refit_leaves_the_fitted_model_as_it_was():
    """A refit refused in building (hidden="30") after classes_ and n_features_in_ were
    reset: predict read new labels off the old network (or an IndexError with fewer
    classes, and predict_proba's columns not classes_')."""
    X, y = blobs(n=30)
    clf = NNXPClassifier(epochs=1, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    labels = np.array(["x", "y"])[y % 2]
    with pytest.raises(nnxp.ConfigError, match="hidden must list"):
        clf.set_params(hidden="30").fit(X[:, :2], labels)
    assert list(clf.classes_) == [0, 1, 2] and clf.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert set(clf.predict(X)) <= {0, 1, 2}


@pytest.mark.parametrize("labels", [["a", 1, "c"], ["a", None, "c"]])
def test_labels_of_kinds_that_cannot_be_sorted_are_a_data_error(labels):
    """Strings mixed with ints or None: NumPy's bare TypeError from np.unique."""
    X, y = blobs(n=30)
    mixed = np.array(labels, dtype=object)[y]
    with pytest.raises(nnxp.DataError, match="mixes labels of the types"):
        NNXPClassifier(epochs=1).fit(X, mixed)
    with pytest.raises(nnxp.DataError, match="mixes labels of the types"):
        NNXPClassifier(epochs=1).partial_fit(X, mixed, classes=labels)
    clf = NNXPClassifier(epochs=1).partial_fit(X, np.array(["a", "b", "c"], dtype=object)[y],
                                               classes=np.array(["a", "b", "c"], dtype=object))
    with pytest.raises(nnxp.DataError, match="not among classes_"):
        clf.partial_fit(X, y)
