"""Layers: the seam between a network's layers and everything that trains them.

One file per layer type, each a small immutable object (its configuration) with ``init`` from a
host RNG and an input shape, ``forward`` (returning a cache), ``backward`` written by hand next
to it, and ``apply`` (base.py states the protocol with its shapes):

    Dense(n_out, activation=Sigmoid, p_dropout=0.0)          dense.py
    Softmax(n_out, p_dropout=0.0)                            softmax.py
    Conv2D(n_filters, filter_size, activation=Identity)      conv.py
    MaxPool2D(pool=(2, 2))                                   pool.py
    ConvPool(n_filters, filter_size, pool=(2, 2), activation=Sigmoid)   conv_pool.py
    Flatten(ndim=3), Reshape(shape, ndim=1)                  reshape.py
    sequential: init, forward, backward, apply, output_error, ...

Every layer is rank-polymorphic over a leading member axis K (a population's params carry it).
The convolution and pooling primitives (primitives.py) are array-API code with faster backend
versions looked up by namespace (nnxp/backends/primitives.py).

    >>> import numpy as np
    >>> from nnxp.layers import Dense, Softmax, sequential
    >>> layers = (Dense(30), Softmax(10))
    >>> params = sequential.init(layers, np.random.default_rng(0), (784,))
    >>> sequential.apply(layers, params, np.zeros((5, 784))).shape
    (5, 10)
"""

from . import primitives, sequential
from .base import Layer
from .conv import Conv2D
from .conv_pool import ConvPool
from .dense import Dense
from .pool import MaxPool2D
from .reshape import Flatten, Reshape
from .softmax import Softmax

__all__ = ["Layer", "Dense", "Softmax", "Conv2D", "MaxPool2D", "ConvPool", "Flatten", "Reshape",
           "sequential", "primitives"]
