"""Python 2.7 (no NumPy needed): write a tiny gzipped pickle laid out as the book's
mnist.pkl.gz was written (cPickle, protocol 2, NumPy 1.x arrays under Python 2: raw bytes as
Python 2 ``str``), so that tests/test_compat_network3.py can check that load_data_shared
reads that format.

    ~/.pyenv/versions/2.7.18/bin/python tests/reference/make_py2_pickle.py \\
        tests/reference/network3/py2_mnist_like.pkl.gz

Three (images, labels) pairs: float32 arrays of shapes (3, 4), (2, 4), (1, 4) holding
0.5 k + 0, 1, 2, ... for split k, and int64 labels (k + j) % 10.  Fake ``numpy`` modules make
cPickle write the globals NumPy writes (numpy.core.multiarray._reconstruct, numpy.ndarray,
numpy.dtype) and the same reduce tuples and states.
"""
import cPickle
import gzip
import struct
import sys
import types

core = types.ModuleType("numpy.core")
multiarray = types.ModuleType("numpy.core.multiarray")
numpy = types.ModuleType("numpy")
sys.modules.update({"numpy": numpy, "numpy.core": core, "numpy.core.multiarray": multiarray})


def _reconstruct(*args):
    pass


class ndarray(object):
    def __init__(self, shape, code, raw):
        self.shape, self.code, self.raw = shape, code, raw

    def __reduce__(self):
        return (_reconstruct, (ndarray, (0,), 'b'),
                (1, self.shape, dtype(self.code), False, self.raw))


class dtype(object):
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (dtype, (self.code, 0, 1), (3, '<', None, None, None, -1, -1, 0))


_reconstruct.__module__ = "numpy.core.multiarray"
ndarray.__module__ = dtype.__module__ = "numpy"
numpy.ndarray, numpy.dtype, multiarray._reconstruct = ndarray, dtype, _reconstruct


def float32s(values):
    return ndarray((len(values) // 4, 4), 'f4', struct.pack('<%df' % len(values), *values))


def int64s(values):
    return ndarray((len(values),), 'i8', struct.pack('<%dq' % len(values), *values))


splits = tuple((float32s([0.5 * k + j for j in range(4 * n)]),
                int64s([(k + j) % 10 for j in range(n)]))
               for k, n in ((0, 3), (1, 2), (2, 1)))
f = gzip.open(sys.argv[1], 'wb')
cPickle.dump(splits, f, protocol=2)
f.close()
