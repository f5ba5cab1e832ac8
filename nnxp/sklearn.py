"""``NNXPClassifier``: an nnxp network as a scikit-learn classifier (pipelines, searches, Dask).

    from nnxp.sklearn import NNXPClassifier          # needs scikit-learn >= 1.6
    NNXPClassifier(hidden=(30,), *, eta=0.5, lmbda=0.0, l1=0.0, mini_batch_size=10, epochs=30,
                   cost="CrossEntropyCost", activation="Sigmoid", output_activation=None,
                   momentum=0.0, early_stopping=None, validation_fraction=0.1,
                   random_state=None, dtype="float32", backend=None)
    .fit(X, y) -> self                    a fresh network of sizes [n_features, *hidden, n_classes]
    .partial_fit(X, y, classes=None)      one epoch on (X, y), keeping the network; ``classes``
                                          (every label there will be) is required on the first call
    .predict(X) -> labels (n,)            classes_[argmax of the output layer]
    .predict_proba(X) -> (n, n_classes)   rows sum to 1 (see below), float64
    .score(X, y) -> accuracy              (ClassifierMixin); get_params / set_params (BaseEstimator)

Fitted attributes: ``classes_`` (sorted labels; any labels: strings, non-contiguous integers;
output unit i stands for ``classes_[i]``, also for two classes: two output units),
``n_features_in_`` (and ``feature_names_in_`` for DataFrames), ``network_`` (the
``nnxp.Network``), ``history_`` (``SGD``'s History of the last fit / partial_fit call) and
``n_iter_`` (epochs run in total).

Inputs: X must hold numbers (scikit-learn's ``validate_data`` converts it to float; its
refusals are raised as DataError / InputTypeError with its message, text in X saying so first);
y holds any labels ``check_classification_targets`` accepts.  ``epochs`` must be at least 1
(checked at fit, as scikit-learn's parameter validation would).  The network is bounded in
memory before it is built (checks.memory; NNXP_MAX_MEMORY raises the bound).

Hyper-parameters keep the book's names and meaning and go straight to ``nnxp.Network`` and
``Network.SGD``: ``hidden`` lists the hidden layers' widths, in order (an int for one layer;
``()`` for none; a set, dict or string is refused), or layer objects among them
(``nnxp.layers``: ``hidden=[Reshape((1, 8, 8)), ConvPool(4, (3, 3)), Flatten(), Dense(30)]``,
a layered ``Network``; an int entry is then a
Dense layer with ``activation``); the input and output widths come from the data, and the
output layer is a dense layer of ``output_activation`` (the cost's default).  Layer objects
are frozen dataclasses, so ``get_params``, ``clone`` and searches over ``hidden`` treat them
as values.  ``cost`` and ``activation`` take the
names, classes or instances ``Network`` takes.  ``lmbda`` is the book's L2 parameter: weight
decay ``1 - eta * lmbda / n`` with n the number of examples given to that fit / partial_fit call
(so ``partial_fit`` on small batches decays faster than ``fit`` on all the data).
``early_stopping=n`` holds out a stratified ``validation_fraction`` of the training data (at
least one example per class) and stops after n epochs without better validation accuracy (the
book's no-improvement-in-n rule; the last weights are kept; ``fit`` only;
``validation_fraction`` is checked by every ``fit``, used or not).  ``backend=None``
computes on nnxp's selected backend at fit time, in the thread that fits (NNXP_BACKEND,
``nnxp.set_backend``, a ``nnxp.use_backend`` block of that thread: joblib's workers, threads or
processes, do not see the caller's block); a name picks one for this estimator, wherever it
fits.  Results always come back as NumPy.

Reproducible: an integer ``random_state`` is the network's ``seed`` (weights, the shuffling of
every epoch, the early-stopping split; a RandomState draws one seed per fit), so
``NNXPClassifier(random_state=0).fit(X, y)`` trains the same network as
``nnxp.Network(sizes, seed=0).SGD((X, y_index), epochs, mini_batch_size, eta)``; the same
random_state gives the same predictions, bit for bit on one machine.

``predict_proba``: softmax outputs (``cost="LogLikelihoodCost"``) already sum to 1; sigmoid outputs
(the default cross-entropy network) are divided by their row sum.  That is a normalized score
rather than a calibrated probability.  Output layers that can go negative (tanh or identity under
the quadratic cost) are clipped at 0 first, and a row with no positive output becomes uniform
(the one case where ``predict``, the largest raw output, may differ from its argmax; and
``predict`` is ``Network.predict``, which breaks the ties of saturated outputs by the largest
weighted input).

``partial_fit`` runs one epoch per call on the given batch (shuffled by the network's seeded
stream).  Limitation: ``Network.SGD`` starts a fresh optimizer state on each call, so with
``momentum > 0`` the velocity restarts at zero on every partial_fit call (``fit`` keeps it
across its epochs as usual).

Pickling (joblib, Dask, ``copy.deepcopy``) is the Network's own: host copies of the exact
weights, its shuffling state and its backend's name, rebuilt on that backend when unpickled.

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from nnxp.sklearn import NNXPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), NNXPClassifier(hidden=(10,), epochs=20,
    ...                                                        random_state=0))
    >>> search = GridSearchCV(model, {"nnxpclassifier__eta": [0.1, 1.0]}, cv=3).fit(X, y)
    >>> search.best_params_, bool(search.best_score_ > 0.9)
    ({'nnxpclassifier__eta': 1.0}, True)
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np

from .checks import clip
from .errors import NNXPError


class MissingScikitLearn(NNXPError, ModuleNotFoundError):
    """``import nnxp.sklearn`` where scikit-learn is not installed."""


try:
    import sklearn  # noqa: F401
except ImportError as exc:
    raise MissingScikitLearn(
        f"nnxp.sklearn needs scikit-learn (1.6 or later), which is not installed here "
        f"({clip(exc)}); install it from the nnxp checkout with: pip install -r "
        "backends/sklearn.txt") from None

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import Network, checks, core, use_backend
from .costs import cost_from_name
from .network import has_layers
from .data import check_finite
from .errors import ConfigError, DataError, InputTypeError
from .layers.base import Layer

__all__ = ["NNXPClassifier"]

_MAX_SEED = 2**31 - 1


class NNXPClassifier(ClassifierMixin, BaseEstimator):
    """A feedforward network trained by mini-batch SGD, as a scikit-learn classifier.

    See the module docstring for the contract.  Example::

        clf = NNXPClassifier(hidden=(30,), eta=0.5, epochs=10, random_state=0).fit(X, y)
        clf.predict(X[:5]); clf.predict_proba(X[:5]); clf.score(X, y)
    """

    def __init__(self, hidden=(30,), *, eta=0.5, lmbda=0.0, l1=0.0, mini_batch_size=10,
                 epochs=30, cost="CrossEntropyCost", activation="Sigmoid",
                 output_activation=None, momentum=0.0, early_stopping=None,
                 validation_fraction=0.1, random_state=None, dtype="float32", backend=None):
        self.hidden = hidden
        self.eta = eta
        self.lmbda = lmbda
        self.l1 = l1
        self.mini_batch_size = mini_batch_size
        self.epochs = epochs
        self.cost = cost
        self.activation = activation
        self.output_activation = output_activation
        self.momentum = momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.dtype = dtype
        self.backend = backend

    # -- training -------------------------------------------------------------------------
    def fit(self, X, y):
        """Train a fresh network for ``epochs`` epochs on (X, y); returns self."""
        checks.number("epochs", self.epochs, integer=True)  # at least one pass
        self._fraction()  # checked even without early_stopping, as scikit-learn's own
        with _all_or_nothing(self):  # a refused fit leaves the fitted model as it was
            X, y = _validated(self, X, y)
            _check_targets(y)
            self.classes_ = _classes(y, "y")
            _need_two_classes(self.classes_)
            seed = self._seed()
            self.network_ = self._build(X.shape[1], seed)
            index = self._class_index(y)
            evaluation = None
            options = {}
            if self.early_stopping is not None:
                X, index, evaluation = self._hold_out(X, index, seed)
                options["early_stopping"] = self.early_stopping
        self.history_ = self._sgd((X, index), self.epochs, evaluation, **options)
        self.n_iter_ = len(self.history_.records)
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch on (X, y), continuing the current network (built on the first call,
        which must name every class with ``classes``); returns self."""
        first = not hasattr(self, "network_")
        with _all_or_nothing(self):  # a refused first call leaves nothing fitted
            X, y = _validated(self, X, y, reset=first)
            _check_targets(y)
            if first:
                self.__dict__.pop("classes_", None)
            if _first_call(self, classes):
                _need_two_classes(self.classes_)
                self.network_ = self._build(X.shape[1], self._seed())
                self.n_iter_ = 0
            index = self._class_index(y)
        self.history_ = self._sgd((X, index), 1, None)
        self.n_iter_ += len(self.history_.records)
        return self

    def _sgd(self, training_data, epochs, evaluation_data, **options):
        for name in ("momentum", "l1"):   # 0 (the default) is SGD's own; anything else is
            value = getattr(self, name)     # checked there, never read as a truth value
            if value is not None and not (isinstance(value, numbers.Real)
                                          and not isinstance(value, bool) and value == 0):
                options[name] = value
        return self.network_.SGD(training_data, epochs, self.mini_batch_size, self.eta,
                                 lmbda=self.lmbda, evaluation_data=evaluation_data,
                                 shuffle=True, **options)

    def _build(self, n_features, seed) -> Network:
        hidden = self.hidden
        if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
            hidden = (hidden,)
        try:
            if isinstance(hidden, (str, bytes, set, frozenset, dict)):  # no order, or letters
                raise TypeError
            hidden = list(hidden)
        except TypeError:
            raise ConfigError(f"hidden must list the hidden layers (widths or layer objects), "
                              f"such as (30,) or (100, 30), or be one int; got "
                              f"{checks.show(hidden)}") from None
        sizes = [n_features, *hidden, len(self.classes_)]
        if not any(isinstance(h, Layer) for h in hidden):  # (Network checks a layered one)
            sizes = checks.sizes(sizes)
            checks.memory(f"NNXPClassifier(hidden={checks.show(self.hidden)}) on {n_features} "
                          f"features and {len(self.classes_)} classes", checks.network_bytes(
                              sizes, 1, checks.dtype(self.dtype)))
        with use_backend(self.backend) if self.backend is not None \
                else contextlib.nullcontext():  # "" is a bad name, not None
            return Network(sizes, cost=self.cost, activation=self._activation(sizes),
                           output_activation=self.output_activation, seed=seed,
                           dtype=self.dtype)

    def _activation(self, sizes):
        """``activation``, or None where it is the default and no hidden int entry takes it
        (``hidden`` of layer objects only: the layers carry theirs); another activation there
        is Network's ConfigError, never ignored."""
        if isinstance(self.activation, str) and self.activation == "Sigmoid" and \
                has_layers(sizes) and core.dense_ignored(
                sizes, cost_from_name(self.cost), self.output_activation):
            return None
        return self.activation

    def _seed(self):
        """The network's seed: an int random_state as is, None as None (fresh entropy), a
        RandomState draws one."""
        rs = self.random_state
        if isinstance(rs, bool):  # check_random_state would take True as the seed 1
            raise ConfigError(f"random_state must be None, a non-negative int or a numpy "
                              f"RandomState; got {rs!r}")
        if rs is None or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool)):
            return rs
        try:
            return int(check_random_state(rs).randint(_MAX_SEED))
        except ValueError:
            raise ConfigError(f"random_state must be None, a non-negative int or a "
                              f"numpy RandomState; got {checks.show(rs)}") from None

    def _hold_out(self, X, index, seed):
        """Split off a stratified validation set for early stopping."""
        fraction = self._fraction()
        n_classes = len(self.classes_)
        n_val = max(int(np.ceil(fraction * X.shape[0])), n_classes)  # one of each, at least
        try:
            X_train, X_val, i_train, i_val = train_test_split(
                X, index, test_size=n_val, stratify=index, random_state=seed)
        except ValueError as exc:
            raise DataError(f"early_stopping: cannot hold out a stratified "
                            f"validation_fraction={fraction} ({n_val} of {X.shape[0]} "
                            f"examples, at least one per class) from {n_classes} classes: "
                            f"{exc}") from None
        return X_train, i_train, (X_val, i_val)

    def _fraction(self) -> float:
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) \
                or not 0 < fraction < 1:
            raise ConfigError(f"validation_fraction must be a number in (0, 1), got "
                              f"{checks.show(fraction)}")
        return fraction

    def _class_index(self, y) -> np.ndarray:
        """Each label's output unit: its position in classes_."""
        try:
            index = np.searchsorted(self.classes_, y)
        except TypeError:  # labels of another type than classes_' (an int among strings)
            known = set(self.classes_.tolist())
            strange = [v for v in np.asarray(y, dtype=object).ravel().tolist()
                       if v not in known]
            raise DataError(f"y holds labels that are not among classes_ "
                            f"{clip(self.classes_.tolist())}: "
                            f"{clip(list(dict.fromkeys(strange)))}") from None
        index = np.clip(index, 0, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if np.any(unknown):
            raise DataError(f"y holds labels that are not among classes_ "
                            f"{clip(self.classes_.tolist())}: "
                            f"{clip(np.unique(y[unknown]).tolist())}")
        return index

    # -- prediction -----------------------------------------------------------------------
    def _outputs(self, X, what) -> np.ndarray:
        """The network's outputs for X, checked: scikit-learn refuses NaN and infinity in
        float64; a value finite there but not in the network's dtype (1e39 in float32) is a
        DataError too, not a row of NaN outputs, and so are parameters that are not
        finite."""
        check_is_fitted(self, "network_")
        X = _validated(self, X, reset=False)
        net = self.network_
        with np.errstate(over="ignore"):
            X = X.astype(net.dtype, copy=False)
        check_finite(np, X, what, net.dtype)
        net._check_parameters(what)   # a diverged network: NaN outputs, argmax class 0
        if what == "predict":  # the network's own classes: ties of saturated outputs apart
            return np.asarray(net.backend.to_numpy(net.predict(X)))
        return np.asarray(net.backend.to_numpy(net.feedforward(X)), dtype=np.float64)

    def predict(self, X) -> np.ndarray:
        """The label of the most active output unit for each row of X (Network.predict's
        class: ties among saturated outputs go to the largest weighted input)."""
        index = self._outputs(X, "predict")  # checks first: unfitted is NotFittedError
        return self.classes_[index]

    def predict_proba(self, X) -> np.ndarray:
        """Output activations normalized to rows that sum to 1 (see the module docstring)."""
        a = np.clip(self._outputs(X, "predict_proba"), 0.0, None)
        total = a.sum(axis=1, keepdims=True)
        empty = total[:, 0] == 0
        a[empty] = 1.0
        total[empty] = a.shape[1]
        return a / total


def _validated(estimator, X, y="no_validation", **options):
    """scikit-learn's validate_data (floats, as NNXP computes), its refusals as nnxp errors:
    a DataError (a ValueError) or InputTypeError (a TypeError) keeping scikit-learn's message,
    which says what was expected; X holding text says so first.  Labels y may be anything
    check_classification_targets accepts (strings too)."""
    try:
        return validate_data(estimator, X, y, dtype=(np.float64, np.float32), **options)
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        text = str(exc)
        if "could not convert string to float" in text:
            text = (f"X must hold numbers (features are converted to float; encode text "
                    f"columns first, e.g. with sklearn.preprocessing.OneHotEncoder); {text}")
        raise DataError(text) from exc
    except TypeError as exc:
        if isinstance(exc, InputTypeError):
            raise
        raise InputTypeError(f"X must hold numbers; {exc}") from exc


@contextlib.contextmanager
def _all_or_nothing(estimator):
    """The estimator's fitted attributes (names ending in "_") as they were if the block
    raises: a refused fit or first partial_fit leaves no new classes_ beside an old network_,
    and no half-built estimator that check_is_fitted would take."""
    def fitted():
        return {k: v for k, v in vars(estimator).items()
                if k.endswith("_") and not k.startswith("_")}
    before = fitted()
    try:
        yield
    except BaseException:
        for name in fitted():
            delattr(estimator, name)
        vars(estimator).update(before)
        raise


def _classes(labels, what) -> np.ndarray:
    """The sorted distinct labels, or a DataError for labels that cannot be ordered (numbers
    mixed with strings or None: np.unique's bare TypeError)."""
    try:
        return np.unique(labels)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in np.asarray(labels, dtype=object).ravel()})
        raise DataError(f"{what} mixes labels of the types {', '.join(kinds)}, which cannot "
                        f"be sorted into classes_; give labels of one kind (all ints or all "
                        f"strings)") from None


def _first_call(estimator, classes) -> bool:
    """scikit-learn's _check_partial_fit_first_call (classes required on the first call, the
    same ones after), its refusals as a ConfigError (a ValueError) keeping its message."""
    if classes is not None:
        _classes(classes, "classes")
    try:
        return _check_partial_fit_first_call(estimator, classes)
    except ValueError as exc:
        raise ConfigError(f"partial_fit: {exc}") from exc


def _check_targets(y) -> None:
    """scikit-learn's check_classification_targets, its refusal as a DataError (a ValueError)
    keeping its message: y must hold class labels, not continuous values (nor labels of
    kinds that cannot be sorted together: _classes)."""
    _classes(y, "y")
    try:
        check_classification_targets(y)
    except ValueError as exc:
        raise DataError(f"y must hold class labels (ints or strings; a classifier does not "
                        f"fit continuous values); {exc}") from exc


def _need_two_classes(classes) -> None:
    if len(classes) < 2:
        raise DataError(f"NNXPClassifier needs at least 2 classes in y; got 1 class "
                        f"({clip(classes.tolist())})")


