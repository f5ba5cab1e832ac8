"""nnxp.compat.network3: chapter 6's ``network3.py`` (written for Theano), with the book's
interface and numbers, on nnxp's layers and any backend.

    from nnxp.compat import network3
    from nnxp.compat.network3 import Network, ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer
    training_data, validation_data, test_data = network3.load_data_shared()
    net = Network([ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape=(20, 1, 5, 5),
                                 poolsize=(2, 2)),
                   FullyConnectedLayer(n_in=20*12*12, n_out=100),
                   SoftmaxLayer(n_in=100, n_out=10)], 10)
    net.SGD(training_data, 60, 10, 0.1, validation_data, test_data)

What the book's module has:

    load_data_shared(filename=None) -> [(x, y) training, (x, y) validation, (x, y) test]
        filename: the book's pickle (mnist.pkl.gz, mnist_expanded.pkl.gz), read without running
        code (only NumPy arrays are accepted in it); None: MNIST by nnxp's rule
        (nnxp.datasets.load_mnist: $NNXP_DATA_DIR, ...; Nielsen's split; pixel / 255).
        x: a shared value of shape (n, 784) in floatX, y: (n,) int32
    Network(layers, mini_batch_size, seed=None)
        .layers, .mini_batch_size, .params (every layer's w and b, in order)
        .SGD(training_data, epochs, mini_batch_size, eta, validation_data, test_data,
             lmbda=0.0)              prints the book's lines; returns None
        .test_mb_predictions(i)      after SGD: the predicted digits of test mini-batch i
    ConvPoolLayer(filter_shape, image_shape, poolsize=(2, 2), activation_fn=sigmoid)
        filter_shape (n_filters, channels, kh, kw); image_shape (mini_batch_size, channels,
        height, width); w of shape filter_shape, b (n_filters,)
    FullyConnectedLayer(n_in, n_out, activation_fn=sigmoid, p_dropout=0.0)
        w (n_in, n_out), b (n_out,)
    SoftmaxLayer(n_in, n_out, p_dropout=0.0)     w (n_in, n_out), b (n_out,), both zero
    sigmoid, tanh, ReLU, linear        activation functions: ``activation_fn=ReLU``, or
                                       called on an array (``ReLU(z)``)
    size(data) -> int                  the number of examples of a pair (x, y)
    dropout_layer(layer, p_dropout, rng=None) -> layer * mask (each unit kept w.p. 1 - p)
    floatX() -> "float32" or "float64"  the dtype of new layers and data (NNXP_FLOATX)

Every layer's ``w`` and ``b`` are shared values (``w.get_value()``, ``w.set_value(a)``,
``w.eval()``) holding host NumPy arrays in the book's shapes; SGD trains copies on the device
and writes the result back when it returns (or is interrupted).

The book's semantics: mini-batches in order, no shuffling, only the full ones (the last
``size % mini_batch_size`` examples are never used); the cost is the mean log-likelihood of
the mini-batch plus ``0.5 * lmbda * sum(w**2) / num_training_batches`` over every layer's w;
the update ``param - eta * grad``; accuracy the mean of the mini-batches' accuracies.
Theano's ``conv.conv2d`` is a true convolution (the filters flipped), nnxp's layers
cross-correlate: the filters are flipped on their way to and from the device, so ``w`` holds
the book's filters.  Max-pooling's gradient goes, as in Theano, to every element of a window
equal to its maximum (ties happen: a blank patch gives equal values), not to the first one
only.  Initial weights come from NumPy's global generator (``np.random.normal``) in the book's
order and scales at each layer's construction: N(0, 1/n_out) weights, N(0, 1) biases, with
n_out = n_filters * kh * kw / (ph * pw) for a convolution (Python 3's division); the softmax
layer's are zero.

Dtype: float32 (the book's ``GPU = True``), or float64 with ``NNXP_FLOATX=float64`` in the
environment, read when a layer or the data is made (all layers of a network must agree).
The backend is nnxp's: ``NNXP_BACKEND=jax python conv.py``.  The parameters go to the device
once per SGD call; read-only data (load_data_shared's) once and kept (nnxp.data), writeable
arrays at each call; each mini-batch is one call of one compiled program (on JAX) that gathers
its rows on the device.

Dropout: masks on the inputs of the layers with p_dropout > 0, each unit kept with probability
1 - p_dropout, drawn on the host from the network's ``numpy.random.Generator`` (seed: the
``seed`` argument, else the book's fixed 985772, np.random.RandomState(0).randint(999999)):
for each mini-batch in turn, for each dropout layer in order, ``rng.random((mini_batch_size,
n_in)) >= p_dropout``.  That is the native API's stream (nnxp.masks.MaskStream, here over the
network's one Generator): bool masks, drawn and moved to the device about masks.CHUNK_ROWS
rows of whole mini-batches at a time.  Theano's random
streams cannot be reproduced, so runs with dropout do not repeat the book's masks.

Not the book's: the Theano graph attributes (``net.x``, ``layer.output``, ``theano.function``
on them) do not exist; an activation_fn must be one of the four functions here (or an nnxp
Activation), not a Python function of Theano tensors; no banner is printed at import; with
``test_data=None`` SGD leaves out the test-accuracy lines (the book fails there).
"""

from __future__ import annotations

import gzip
import io
import math
import numbers
import os
import pickle

import numpy as np

from .. import backends, checks
from ..activations import Activation, Identity, ReLU as _ReLU, Sigmoid, Tanh, as_activation
from ..core import layered_spec
from ..costs import LogLikelihoodCost
from ..data import frozen, prepare
from ..engines import mask_chunks
from ..errors import ConfigError, DataError, InputTypeError
from ..files import read_bytes
from ..layers import ConvPool, Dense, Reshape, Softmax, sequential
from ..masks import MaskStream, has_dropout, keep_mask
from ..namespace import device_of, namespace
from . import _open, _types

__all__ = ["load_data_shared", "Network", "ConvPoolLayer", "FullyConnectedLayer",
           "SoftmaxLayer", "sigmoid", "tanh", "ReLU", "linear", "size", "dropout_layer",
           "SharedValue", "floatX"]

BOOK_DROPOUT_SEED = 985772     # np.random.RandomState(0).randint(999999), network3's seed
EVAL_ROWS = 500                # rows evaluated per call (rounded to whole mini-batches)


def floatX() -> str:
    """The dtype of new layers and data: NNXP_FLOATX, "float32" (default) or "float64"."""
    value = os.environ.get("NNXP_FLOATX", "").strip() or "float32"
    if value not in ("float32", "float64"):
        raise ConfigError(f"NNXP_FLOATX must be float32 or float64, got {checks.show(value)}")
    return value


# -- activation functions ----------------------------------------------------------------------

class BookFunction:
    """One of network3's activation functions: ``activation_fn=`` of a layer, or called on an
    array of any backend (``ReLU(z)``).  ``activation`` is the nnxp Activation behind it."""

    def __init__(self, name, activation):
        self.name, self.activation = name, activation

    def __call__(self, z):
        if not hasattr(z, "shape") or isinstance(z, np.ndarray):
            a = _types.array(self.name, z)
            z = a if a.dtype.kind == "f" else a.astype(np.float64)
        return self.activation.fn(z)

    def __repr__(self):
        return self.name


sigmoid = BookFunction("sigmoid", Sigmoid())
tanh = BookFunction("tanh", Tanh())
ReLU = BookFunction("ReLU", _ReLU())
linear = BookFunction("linear", Identity())


def _activation(value) -> Activation:
    if isinstance(value, BookFunction):
        return value.activation
    try:
        return as_activation(value)
    except ConfigError:
        raise ConfigError(f"activation_fn must be network3's sigmoid, tanh, ReLU or linear (or "
                          f"an nnxp Activation such as nnxp.activations.LeakyReLU(0.01)), got "
                          f"{checks.show(value)}; a Python function of Theano tensors cannot "
                          "run here") from None


# -- shared values ------------------------------------------------------------------------------

def _frozen_copy(value, dtype=None):
    a = np.array(value, dtype=dtype, copy=True)
    a.flags.writeable = False
    return a


class SharedValue:
    """A Theano shared variable's interface over a read-only host NumPy array.

        get_value(borrow=False)  a copy (borrow=True: the stored array itself, read-only)
        set_value(value)         a new value of the same shape, cast to the stored dtype
        eval()                   get_value()
        shape, dtype, name
    """

    def __init__(self, value, name=None):
        a = np.asarray(value)
        self._value = a if frozen(a) else _frozen_copy(a)  # frozen: nothing can change it
        self.name, self.version = name, 0

    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return self._value.dtype

    def get_value(self, borrow=False, return_internal_type=False):
        del return_internal_type  # always a NumPy array
        return self._value if borrow else self._value.copy()

    def eval(self):
        return self.get_value()

    def set_value(self, value, borrow=False):
        del borrow  # always copied: the stored array is read-only
        try:
            a = np.asarray(value)
        except (TypeError, ValueError):
            a = None
        if a is None or a.dtype.kind not in "biuf" or a.shape != self._value.shape:
            raise DataError(f"set_value of {self.name or 'a shared value'} takes a numeric "
                            f"array of shape {self._value.shape}, got {checks.show(value)}")
        if a.dtype.kind == "f" and np.isfinite(a).all() and self._value.dtype.kind == "f" \
                and np.abs(a).max(initial=0) > np.finfo(self._value.dtype).max:
            raise DataError(f"set_value of {self.name or 'a shared value'}: values up to "
                            f"{np.abs(a).max():.3g} lie past {self._value.dtype}'s range (they "
                            f"would be stored as inf); floatX is {self._value.dtype}")
        self._store(a)

    def _store(self, a):
        self._value = _frozen_copy(a, self._value.dtype)
        self.version += 1

    def __repr__(self):
        return f"SharedValue({self.name or ''}, shape={self.shape}, dtype={self.dtype})"


# -- layers --------------------------------------------------------------------------------------

def _positive_ints(name, value, n, sequences=()):
    """``value`` as a tuple of n positive ints; ``sequences``: other types the book takes for
    it (its poolsize goes through ``tuple(ds)``: a NumPy array or a range).  What the book
    cannot index or iterate (an int, None, text: its ``filter_shape[0]``, ``np.prod`` or
    ``tuple`` raise TypeError) is an InputTypeError."""
    if isinstance(value, sequences):
        value = value.tolist() if isinstance(value, np.ndarray) else list(value)
    if value is None or isinstance(value, (numbers.Number, str, bytes)):
        raise InputTypeError(f"{name} must be a tuple of {n} positive ints, got "
                             f"{checks.show(value)}")
    if isinstance(value, (tuple, list)):
        for v in value:  # the book's np.random.normal(size=...) raises TypeError on these
            _types.number(f"{name}'s entries", v, integer=True)
    ok = isinstance(value, (tuple, list)) and len(value) == n and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in value)
    if not ok:
        raise ConfigError(f"{name} must be a tuple of {n} positive ints, got "
                          f"{checks.show(value)}")
    return tuple(int(v) for v in value)


def _size(name, value):
    return checks.number(name, _types.number(name, value, integer=True), low=1, strict=False,
                         integer=True)


def _p_dropout(value):
    p = checks.number("p_dropout", value, low=0.0, strict=False)
    if p >= 1.0:
        raise ConfigError(f"p_dropout must be in [0, 1), got {value!r}")
    return p


class _BookLayer:
    """What the three layers share: w and b as shared values, and their nnxp layer."""

    p_dropout = 0.0

    def _params(self, w, b):
        self.w, self.b = SharedValue(w, "w"), SharedValue(b, "b")
        self.params = [self.w, self.b]

    def to_seam(self, w, b):
        """The book's (w, b) -> the nnxp layer's (host arrays)."""
        return w, b

    from_seam = to_seam

    @property
    def work(self) -> int:
        """Multiply-adds per example of the layer's largest product (the thread policy)."""
        return self.n_in * self.n_out


class ConvPoolLayer(_BookLayer):
    """network3's ConvPoolLayer (see the module docstring)."""

    def __init__(self, filter_shape, image_shape, poolsize=(2, 2), activation_fn=sigmoid):
        self.filter_shape = _positive_ints("filter_shape", filter_shape, 4)
        self.image_shape = _positive_ints("image_shape", image_shape, 4)
        self.poolsize = _positive_ints("poolsize", poolsize, 2, (np.ndarray, range))
        self.activation_fn = activation_fn
        n_filters, channels, kh, kw = self.filter_shape
        if channels != self.image_shape[1]:
            raise ConfigError(f"filter_shape {self.filter_shape} has {channels} input feature "
                              f"maps, image_shape {self.image_shape} has {self.image_shape[1]}")
        self.layer = ConvPool(n_filters, (kh, kw), self.poolsize, _activation(activation_fn),
                              ties="all")  # Theano's max-pool gradient
        self.input_shape = self.image_shape[1:]
        self.output_shape = self.layer.output_shape(self.input_shape)  # checks the sizes
        dtype = floatX()
        n_out = n_filters * kh * kw / (self.poolsize[0] * self.poolsize[1])
        self._params(
            np.asarray(np.random.normal(loc=0, scale=np.sqrt(1.0 / n_out),
                                        size=self.filter_shape), dtype=dtype),
            np.asarray(np.random.normal(loc=0, scale=1.0, size=(n_filters,)), dtype=dtype))

    def to_seam(self, w, b):
        return np.ascontiguousarray(w[:, :, ::-1, ::-1]), b  # convolution <-> correlation

    from_seam = to_seam

    @property
    def work(self):
        f, c, kh, kw = self.filter_shape
        h, w = self.image_shape[2:]
        return f * c * kh * kw * (h - kh + 1) * (w - kw + 1)


class FullyConnectedLayer(_BookLayer):
    """network3's FullyConnectedLayer (see the module docstring)."""

    def __init__(self, n_in, n_out, activation_fn=sigmoid, p_dropout=0.0):
        self.n_in, self.n_out = _size("n_in", n_in), _size("n_out", n_out)
        self.activation_fn, self.p_dropout = activation_fn, _p_dropout(p_dropout)
        self.layer = Dense(self.n_out, _activation(activation_fn), self.p_dropout)
        self.input_shape, self.output_shape = (self.n_in,), (self.n_out,)
        dtype = floatX()
        self._params(
            np.asarray(np.random.normal(loc=0.0, scale=np.sqrt(1.0 / self.n_out),
                                        size=(self.n_in, self.n_out)), dtype=dtype),
            np.asarray(np.random.normal(loc=0.0, scale=1.0, size=(self.n_out,)), dtype=dtype))

    def to_seam(self, w, b):
        return np.ascontiguousarray(w.T), b  # (n_in, n_out) <-> nnxp's (n_out, n_in)

    from_seam = to_seam


class SoftmaxLayer(_BookLayer):
    """network3's SoftmaxLayer (see the module docstring): weights and biases start at 0."""

    def __init__(self, n_in, n_out, p_dropout=0.0):
        self.n_in, self.n_out = _size("n_in", n_in), _size("n_out", n_out)
        self.p_dropout = _p_dropout(p_dropout)
        self.layer = Softmax(self.n_out, self.p_dropout)
        self.input_shape, self.output_shape = (self.n_in,), (self.n_out,)
        dtype = floatX()
        self._params(np.zeros((self.n_in, self.n_out), dtype=dtype),
                     np.zeros((self.n_out,), dtype=dtype))

    to_seam = FullyConnectedLayer.to_seam
    from_seam = to_seam


# -- the network -------------------------------------------------------------------------------

class Network:
    """network3's Network (see the module docstring); ``seed``: the dropout masks' generator
    (None: the book's fixed seed)."""

    def __init__(self, layers, mini_batch_size, seed=None):
        self.mini_batch_size = _size("mini_batch_size", mini_batch_size)
        self.layers = _checked_layers(layers, self.mini_batch_size)
        self.params = [p for layer in self.layers for p in layer.params]
        self._seam, self._where = _seam(self.layers)
        self._spec = layered_spec([math.prod(self.layers[0].input_shape), *self._seam],
                                  Sigmoid, None, LogLikelihoodCost)
        self._dtype = self.layers[0].w.dtype.name
        rng = np.random.default_rng(BOOK_DROPOUT_SEED if seed is None else checks.seed(seed))
        self._masks = MaskStream(self._spec, [rng]) if has_dropout(self._spec) else None
        self._device = (None, None)   # (key, device params) of the last transfer
        self._programs: dict = {}

    # -- training ---------------------------------------------------------------------------
    def SGD(self, training_data, epochs, mini_batch_size, eta, validation_data, test_data,
            lmbda=0.0):
        """Train with mini-batch stochastic gradient descent, printing the book's lines."""
        epochs, eta, lmbda = self._checked(epochs, mini_batch_size, eta, lmbda)
        be = backends.current()
        try:
            be.float_dtype(self._dtype)  # float64: JAX's x64 switched on
        except ConfigError as exc:
            raise ConfigError(f"{exc}: make the layers without NNXP_FLOATX=float64") from None
        train = self._data(be, training_data, "training_data")
        validation = self._data(be, validation_data, "validation_data")
        test = None if test_data is None else self._data(be, test_data, "test_data")
        n_batches = train.n // self.mini_batch_size
        params = self._device_params(be)
        step = self._program(be, "step", lmbda > 0)
        hyper = tuple(be.asarray(np.asarray(v), self._dtype) for v in (eta, lmbda / n_batches))
        best = (0.0, None, None)  # validation accuracy, iteration, test accuracy
        chunks = {} if self._masks is None else {  # a mask chunk's first mini-batch -> count
            first: count for first, count, _ in mask_chunks(n_batches * self.mini_batch_size,
                                                            self.mini_batch_size)}
        with be.device_scope(), be.limit_threads(self._work()):
            zero = be.asarray(np.zeros((), np.int64), "index")
            try:
                for epoch in range(epochs):
                    pos, masks, j = zero, (), zero
                    for index in range(n_batches):
                        iteration = n_batches * epoch + index
                        if iteration % 1000 == 0:
                            print(f"Training mini-batch number {iteration}")
                        if index in chunks:
                            masks = self._masks.draw_on(be, chunks[index], self.mini_batch_size)
                            j = zero
                        params, pos, j = step(params, pos, j, train.x, train.y, hyper, masks)
                    best = self._end_of_epoch(be, params, epoch, iteration, validation, test,
                                              best)
            finally:
                self._store(be, params)
        if test is not None:
            self.test_mb_predictions = lambda i: self._predictions(be, test, i)
        print("Finished training network.")
        print(f"Best validation accuracy of {best[0]:.2%} obtained at iteration {best[1]}")
        if best[2] is not None:
            print(f"Corresponding test accuracy of {best[2]:.2%}")

    def _checked(self, epochs, mini_batch_size, eta, lmbda):
        epochs = checks.number("epochs", _types.number("epochs", epochs, integer=True), low=1,
                               strict=False, integer=True)
        m = _size("mini_batch_size", mini_batch_size)
        if m != self.mini_batch_size:
            raise ConfigError(f"mini_batch_size is {m}, but the network was built for "
                              f"mini-batches of {self.mini_batch_size} (Network(layers, "
                              f"{self.mini_batch_size})): give the same size")
        return epochs, checks.number("eta", _types.number("eta", eta)), checks.number(
            "lmbda", _types.number("lmbda", lmbda), strict=False)

    def _end_of_epoch(self, be, params, epoch, iteration, validation, test, best):
        """The book's lines after an epoch; the new best (accuracy, iteration, test accuracy)."""
        accuracy = self._accuracy(be, params, validation)
        print(f"Epoch {epoch}: validation accuracy {accuracy:.2%}")
        if accuracy < best[0]:
            return best
        print("This is the best validation accuracy to date.")
        test_accuracy = best[2]
        if test is not None:
            test_accuracy = self._accuracy(be, params, test)
            print(f"The corresponding test accuracy is {test_accuracy:.2%}")
        return accuracy, iteration, test_accuracy

    # -- data and parameters on the device ---------------------------------------------------
    def _data(self, be, data, name):
        """A pair (x, y) of shared values or arrays, checked and on the device (kept)."""
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise DataError(f"{name} must be a pair (x, y) as load_data_shared returns, got "
                            f"{checks.show(data)}")
        x, y = (v.get_value(borrow=True) if isinstance(v, SharedValue) else v for v in data)
        dataset = prepare((x, y), be, self._dtype, self._spec.sizes[0], self._spec.sizes[-1],
                          name)
        if dataset.n < self.mini_batch_size:
            raise DataError(f"{name} has {dataset.n} examples, fewer than one mini-batch of "
                            f"{self.mini_batch_size}")
        return dataset

    def _device_params(self, be):
        key = (be, tuple((id(v), v.version) for v in self._shared()))
        if self._device[0] == key:
            return self._device[1]
        params = [()] * len(self._seam)
        for layer, i in zip(self.layers, self._where):
            w, b = layer.to_seam(layer.w.get_value(borrow=True), layer.b.get_value(borrow=True))
            params[i] = (be.asarray(w, self._dtype), be.asarray(b, self._dtype))
        self._device = (key, tuple(params))
        return self._device[1]

    def _store(self, be, params):
        """Write the device parameters back into the layers' shared values (the book's
        layout), and remember that they are on the device."""
        for layer, i in zip(self.layers, self._where):
            w, b = layer.from_seam(*(be.to_numpy(a) for a in params[i]))
            layer.w._store(w)
            layer.b._store(b)
        self._device = ((be, tuple((id(v), v.version) for v in self._shared())), params)

    def _shared(self):
        return [v for layer in self.layers for v in (layer.w, layer.b)]

    def _work(self):
        return self.mini_batch_size * max(layer.work for layer in self.layers)

    # -- programs ------------------------------------------------------------------------------
    def _program(self, be, kind, *flags):
        key = (be, kind) + flags
        if key not in self._programs:
            build = {"step": _make_step, "hits": _make_hits, "predict": _make_predict}[kind]
            self._programs[key] = be.compile(build(self._seam, self.mini_batch_size, *flags))
        return self._programs[key]

    def _accuracy(self, be, params, data):
        """The mean of the mini-batches' accuracies (the book's), from one transfer."""
        m = self.mini_batch_size
        rows, chunk = (data.n // m) * m, m * max(1, EVAL_ROWS // m)
        hits = self._program(be, "hits")
        counts = [hits(params, data.x[k:min(k + chunk, rows), ...],
                       data.labels[k:min(k + chunk, rows), ...])
                  for k in range(0, rows, chunk)]
        counts = be.to_numpy(be.xp.concat(counts) if len(counts) > 1 else counts[0])
        return float(np.mean(counts / m))

    def _predictions(self, be, data, i):
        m = self.mini_batch_size
        i = checks.number("i", i, low=0, strict=False, integer=True, high=data.n // m - 1)
        params = self._device_params(be)
        return be.to_numpy(self._program(be, "predict")(params, data.x[i * m:(i + 1) * m, ...]))


def _checked_layers(layers, mini_batch_size):
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ConfigError(f"layers must be a non-empty list of ConvPoolLayer, "
                          f"FullyConnectedLayer and SoftmaxLayer objects, got "
                          f"{checks.show(layers)}")
    for j, layer in enumerate(layers):
        if not isinstance(layer, _BookLayer):
            raise ConfigError(f"layer {j} is {checks.show(layer)}; network3's layers are "
                              "ConvPoolLayer, FullyConnectedLayer and SoftmaxLayer")
        earlier = [i for i in range(j) if layers[i] is layer]
        if earlier:  # trained as two layers, one would overwrite the other's w and b
            raise ConfigError(f"layer {j} is the same object as layer {earlier[0]}; each layer "
                              "owns its w and b: make a new layer for each place")
        if isinstance(layer, ConvPoolLayer) and layer.image_shape[0] != mini_batch_size:
            raise ConfigError(f"layer {j}'s image_shape {layer.image_shape} is for "
                              f"mini-batches of {layer.image_shape[0]}, the network's are "
                              f"{mini_batch_size}")
        if j and math.prod(layer.input_shape) != math.prod(layers[j - 1].output_shape):
            raise ConfigError(f"layer {j} takes {math.prod(layer.input_shape)} inputs "
                              f"{layer.input_shape}, but layer {j - 1} gives "
                              f"{math.prod(layers[j - 1].output_shape)} "
                              f"{tuple(layers[j - 1].output_shape)}")
    if not isinstance(layers[-1], SoftmaxLayer):
        raise ConfigError("the last layer must be a SoftmaxLayer (network3's cost is the "
                          f"log-likelihood of its output), got {type(layers[-1]).__name__}")
    dtypes = {layer.w.dtype.name for layer in layers}
    if len(dtypes) > 1:
        raise ConfigError(f"the layers were made with different NNXP_FLOATX ({sorted(dtypes)}); "
                          "make them all with the same")
    return list(layers)


def _seam(layers):
    """nnxp's layers for the book's, a Reshape wherever the book reshapes to another shape
    (the rows of data are flat: a first conv layer gets a Reshape before it); and where each
    book layer sits in that list."""
    seam, where, shape = [], [], (math.prod(layers[0].input_shape),)
    for layer in layers:
        if shape != tuple(layer.input_shape):
            seam.append(Reshape(layer.input_shape, ndim=len(shape)))
        where.append(len(seam))
        seam.append(layer.layer)
        shape = tuple(layer.output_shape)
    return tuple(seam), tuple(where)


def _rows(xp, start, m, like):
    """The indices start * m ... start * m + m - 1 (start: a 0-d device integer)."""
    return start * m + xp.arange(m, dtype=start.dtype, device=device_of(like))


def _make_step(seam, m, decay):
    """step(params, pos, j, x, y, hyper, masks) -> (params, pos + 1, j + 1): mini-batch
    ``pos`` of the data (x (n, n_in), y one-hot), gathered on the device, through
    backpropagation and one update; masks: per seam layer None or the chunk's bool masks
    (count, m, n_in) (masks.MaskStream.draw_on), of which this mini-batch's are the ``j``-th.
    hyper = (eta, lmbda / num_batches)."""
    def step(params, pos, j, x, y, hyper, masks):
        xp = namespace(x)
        rows = _rows(xp, pos, m, x)
        xb, yb = xp.take(x, rows, axis=0), xp.take(y, rows, axis=0)
        mask_rows = _rows(xp, j, m, x) if masks else None  # of the chunk's (count * m) rows
        batch_masks = None if not masks else tuple(
            None if k is None else xp.take(xp.reshape(k, (-1, k.shape[-1])), mask_rows, axis=0)
            for k in masks)
        out, caches = sequential.forward(seam, params, xb, batch_masks)
        grads = sequential.backward(seam, params, caches, (out - yb) / m, at_z=True)
        eta, reg = hyper
        new = []
        for p, g in zip(params, grads):
            if not p:
                new.append(p)
                continue
            (w, b), (dw, db) = p, g
            if decay:
                dw = dw + reg * w
            new.append((w - eta * dw, b - eta * db))
        return tuple(new), pos + 1, j + 1
    return step


def _make_hits(seam, m):
    """hits(params, x, labels) -> right answers per mini-batch of the rows given."""
    def hits(params, x, labels):
        xp, n = namespace(x), x.shape[0]
        out = sequential.apply(seam, params, x)
        right = xp.astype(xp.argmax(out, axis=-1) == labels, labels.dtype)
        return xp.sum(xp.reshape(right, (n // m, m)), axis=1)
    return hits


def _make_predict(seam, m):
    del m  # every builder takes the mini-batch size

    def predict(params, x):
        return namespace(x).argmax(sequential.apply(seam, params, x), axis=-1)
    return predict


# -- data ----------------------------------------------------------------------------------------

def load_data_shared(filename=None):
    """[(x, y) training, (x, y) validation, (x, y) test] as shared values: x (n, 784) in
    floatX, y (n,) int32.  ``filename``: the book's pickle (see the module docstring);
    None: nnxp's MNIST (nnxp.datasets.load_mnist)."""
    dtype = floatX()
    if filename is None:
        from ..datasets import load_mnist
        splits = load_mnist(dtype=dtype, backend="numpy")
    else:
        splits = _read_book_pickle(_open.book_path(filename))
    return [(SharedValue(np.asarray(x, dtype=dtype), "x"),
             SharedValue(np.asarray(y, dtype=np.int32), "y")) for x, y in splits]


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and nothing else: no other class or function is
    looked up, so no code runs (``_codecs.encode`` is how Python 3 pickles bytes)."""

    def find_class(self, module, name):
        import codecs
        core = getattr(np, "_core", None) or np.core
        allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                   ("_codecs", "encode"): codecs.encode,
                   ("numpy.core.multiarray", "_reconstruct"): core.multiarray._reconstruct,
                   ("numpy._core.multiarray", "_reconstruct"): core.multiarray._reconstruct,
                   # a NumPy scalar from its dtype and bytes: the labels of the book's
                   # expand_mnist.py, a list of numpy.int64
                   ("numpy.core.multiarray", "scalar"): core.multiarray.scalar,
                   ("numpy._core.multiarray", "scalar"): core.multiarray.scalar}
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}; only NumPy arrays "
                                         "are read")
        return allowed[(module, name)]


def _read_book_pickle(path):
    raw = _open.read_as_the_book(
        path, lambda p: read_bytes(p, max_bytes=2 ** 31, what="pickle of MNIST"))
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            splits = _ArraysOnly(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError,
            AttributeError, IndexError, KeyError) as exc:
        raise DataError(f"{path!r} is not the book's gzipped pickle of MNIST arrays "
                        f"({checks.clip(exc)})") from None
    ok = isinstance(splits, (tuple, list)) and len(splits) == 3 and all(
        isinstance(s, (tuple, list)) and len(s) == 2 for s in splits)
    splits = [tuple(_book_arrays(s)) for s in splits] if ok else None
    if not ok or any(s is None for s in splits):
        raise DataError(f"{path!r} does not hold three (images, labels) pairs of arrays (or "
                        f"of lists of rows and of labels, as expand_mnist.py writes them), "
                        f"as the book's mnist.pkl.gz does")
    for x, y in splits:
        if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
            raise DataError(f"{path!r} holds images or labels that are not numbers (dtypes "
                            f"{x.dtype} and {y.dtype})")
        whole = np.isfinite(y) & (y == np.round(y)) if y.dtype.kind == "f" else None
        if whole is not None and not whole.all():
            raise DataError(f"{path!r} holds labels that are not whole numbers (NaN, infinite "
                            f"or fractional), such as {checks.clip(y[~whole][:3].tolist())}")
    return splits


def _book_arrays(split):
    """(x, y) as arrays: arrays as they are, or a list of image rows and a list of labels
    (Python or NumPy numbers: the book's expand_mnist.py writes its training split so) stacked;
    None for anything else (another object, ragged rows, text)."""
    out = []
    for a in split:
        if isinstance(a, list):
            try:
                a = np.asarray(a)
            except ValueError:  # rows of different lengths
                return None
            if a.dtype.kind not in "biuf":
                return None
        if not isinstance(a, np.ndarray):
            return None
        out.append(a)
    return out


def size(data):
    """The number of examples of ``data``, a pair (x, y)."""
    x = data[0] if isinstance(data, (tuple, list)) and len(data) else None
    x = x.get_value(borrow=True) if isinstance(x, SharedValue) else x
    if getattr(x, "shape", ()) == ():
        raise InputTypeError(f"size takes a pair (x, y) of shared values or arrays, as "
                             f"load_data_shared returns them, got {checks.show(data)}")
    return x.shape[0]


def dropout_layer(layer, p_dropout, rng=None):
    """``layer`` (an array of any backend) times a 0/1 mask keeping each unit with
    probability 1 - p_dropout, drawn on the host from ``rng`` (a numpy.random.Generator;
    None: a new one from the book's fixed seed, so the same mask at every call, as each call
    of the book's dropout_layer makes a new stream with that seed)."""
    p = _p_dropout(p_dropout)
    if rng is None:
        rng = np.random.default_rng(BOOK_DROPOUT_SEED)
    elif not isinstance(rng, np.random.Generator):
        raise InputTypeError(f"rng must be a numpy.random.Generator or None, got "
                             f"{checks.show(rng)}")
    if getattr(layer, "shape", None) is None or isinstance(layer, (list, tuple)):
        raise InputTypeError(f"dropout_layer takes an array (a layer's output), got "
                             f"{checks.show(layer)}")
    xp = namespace(layer)
    mask = xp.asarray(keep_mask(rng, p, tuple(layer.shape)), device=device_of(layer))
    return layer * xp.astype(mask, layer.dtype)
