"""nnxp.sklearn with layer objects in ``hidden``: a convolutional NNXPClassifier on scikit-learn's
digits (8x8 images as rows of 64 features), cloned, searched and pickled like any other."""

import pickle

import pytest

from conftest import optional

optional("sklearn")

import numpy as np  # noqa: E402  (after the skip above)
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402

import nnxp  # noqa: E402
from nnxp.layers import ConvPool, Dense, Flatten, Reshape  # noqa: E402
from nnxp.sklearn import NNXPClassifier  # noqa: E402


def conv_hidden(n_filters=6):
    return [Reshape((1, 8, 8)), ConvPool(n_filters, (3, 3)), Flatten(), Dense(30)]


def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)


def conv_classifier(**options):
    options = {"eta": 0.5, "epochs": 5, **options}
    return NNXPClassifier(hidden=conv_hidden(), cost="LogLikelihoodCost", random_state=0,
                          dtype="float64", **options)


def test_a_conv_classifier_fits_predicts_and_scores_digits(backend):
    X_train, X_test, y_train, y_test = digits()
    clf = conv_classifier().fit(X_train, y_train)
    net = clf.network_
    assert [type(layer).__name__ for layer in net.layers] == [
        "Reshape", "ConvPool", "Flatten", "Dense", "Dense"]
    assert net.sizes == [64, 64, 54, 54, 30, 10]
    assert clf.predict(X_test).shape == y_test.shape
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert clf.score(X_test, y_test) > 0.7  # chance: 0.1


def test_clone_and_get_params_keep_the_layer_objects():
    clf = conv_classifier()
    twin = clone(clf)
    assert twin.get_params()["hidden"] == clf.get_params()["hidden"]
    assert twin.hidden is not clf.hidden
    assert repr(twin) == repr(clf)
    X_train, _, y_train, _ = digits()
    a = clone(clf).fit(X_train[:300], y_train[:300])
    b = clone(twin).fit(X_train[:300], y_train[:300])
    np.testing.assert_array_equal(a.predict_proba(X_train[:50]), b.predict_proba(X_train[:50]))


def test_a_search_over_architectures_and_a_pickled_conv_classifier():
    X_train, X_test, y_train, _ = digits()
    search = GridSearchCV(conv_classifier(epochs=1), {"hidden": [conv_hidden(2), [20]]},
                          cv=2).fit(X_train[:400], y_train[:400])
    assert search.best_params_["hidden"] in (conv_hidden(2), [20])
    clf = conv_classifier(epochs=1).fit(X_train[:300], y_train[:300])
    back = pickle.loads(pickle.dumps(clf))
    assert back.network_.layers == clf.network_.layers
    np.testing.assert_array_equal(back.predict_proba(X_test), clf.predict_proba(X_test))


def test_a_layer_that_does_not_fit_the_features_is_a_config_error():
    X_train, _, y_train, _ = digits()
    clf = NNXPClassifier(hidden=[Reshape((1, 7, 7)), Flatten(), 10], epochs=1)
    with pytest.raises(nnxp.ConfigError, match="reshape"):
        clf.fit(X_train[:50], y_train[:50])


def test_a_dropout_classifier_draws_its_masks_from_random_state(backend):
    X_train, X_test, y_train, y_test = digits()
    hidden = [Dense(40, "ReLU", p_dropout=0.3)]
    make = lambda seed: NNXPClassifier(hidden=hidden, eta=0.1, epochs=3,  # noqa: E731
                                       random_state=seed, dtype="float64")
    clf = make(0).fit(X_train, y_train)
    assert clf.network_.layers[0].p_dropout == 0.3
    assert clf.score(X_test, y_test) > 0.5
    again = clone(clf).fit(X_train, y_train)  # the same seed: the same masks, the same network
    np.testing.assert_array_equal(again.predict_proba(X_test), clf.predict_proba(X_test))
    # the masks matter: without dropout the same seed trains another network
    plain = NNXPClassifier(hidden=[Dense(40, "ReLU")], eta=0.1, epochs=3, random_state=0,
                           dtype="float64").fit(X_train, y_train)
    assert np.abs(plain.predict_proba(X_test) - clf.predict_proba(X_test)).max() > 1e-3
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))
