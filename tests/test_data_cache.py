"""Read-only host arrays are prepared once (nnxp/data.py), on every backend.

Checked: the second SGD / prepare on the same read-only arrays skips the scans (and, where the
Dataset does not use the arrays' memory, returns the very same Dataset: no transfer); writeable
arrays, and read-only views of writeable memory, are prepared at every call, so a change in place
is always seen; another dtype or shape gets its own entry; dropping the arrays frees the entry
and the cache never keeps them alive; the cache is bounded.
"""

import gc
import weakref

import numpy as np
import pytest

import nnxp
from nnxp import data as data_module
from nnxp.testing import data_cache_info
from conftest import to_numpy


@pytest.fixture(autouse=True)
def empty_cache():
    data_module.clear_cache()
    yield
    data_module.clear_cache()


def _counts():
    """(scanned, unscanned, hits) of nnxp.testing.data_cache_info()."""
    return tuple(data_cache_info()[:3])


def _arrays(read_only, n=60):
    rng = np.random.default_rng(0)
    x, y = rng.random((n, 8)).astype("float32"), rng.integers(0, 3, n)
    if read_only:
        x.flags.writeable = y.flags.writeable = False
    return x, y


def test_read_only_arrays_are_scanned_once(backend):
    x, y = _arrays(read_only=True)
    net = nnxp.Network([8, 5, 3], seed=0)
    first = net.prepare((x, y))
    second = net.prepare((x, y))
    net.SGD((x, y), 2, 10, 0.5)
    # the first call scans; the others get the kept Dataset (no work at all) or, where it
    # shares the arrays' memory (NumPy; JAX on the CPU when it can alias), rebuild it unscanned
    assert _counts() in ((1, 0, 2), (1, 2, 0))
    assert (second is first) == (_counts() == (1, 0, 2))
    np.testing.assert_array_equal(to_numpy(second.x), x)
    np.testing.assert_array_equal(to_numpy(second.labels), y)
    np.testing.assert_array_equal(to_numpy(second.y), np.eye(3)[y])
    assert to_numpy(first.y).dtype == np.float32


def test_a_dataset_with_its_own_memory_is_kept_one_sharing_the_arrays_is_rebuilt(backend):
    x, y = _arrays(read_only=True)
    # float64 from float32 and int64 labels from int16: converted copies, the arrays' memory
    # is not used, so the Dataset itself is kept and handed out again
    net = nnxp.Network([8, 5, 3], seed=0, dtype="float64")
    small = y.astype(np.int16)
    small.flags.writeable = False
    first = net.prepare((x, small))
    assert net.prepare((x, small)) is first and _counts() == (1, 0, 1)
    data_module.clear_cache()
    # float32 and the backend's own index type: NumPy uses x's memory in place; such a
    # Dataset is not kept (it would keep x alive), only the fact that x passed the checks
    if backend.name != "numpy":
        return
    net = nnxp.Network([8, 5, 3], seed=0, dtype="float32")
    first = net.prepare((x, y))
    again = net.prepare((x, y))
    assert again is not first and np.shares_memory(again.x, x) and _counts() == (1, 1, 0)
    assert data_cache_info().size == 1


def test_writeable_arrays_are_prepared_at_every_call_and_changes_are_seen(backend):
    x, y = _arrays(read_only=False)
    net = nnxp.Network([8, 5, 3], seed=0)
    net.prepare((x, y))
    x[0, 0] = 123.0
    y[1] = 2
    again = net.prepare((x, y))
    assert _counts() == (2, 0, 0)
    assert to_numpy(again.x)[0, 0] == 123.0 and int(to_numpy(again.labels)[1]) == 2
    x[2, 0] = np.nan
    with pytest.raises(nnxp.DataError, match="NaN"):
        net.prepare((x, y))


def test_a_read_only_view_of_writeable_memory_is_not_trusted():
    base_x, base_y = _arrays(read_only=False)
    x, y = base_x[:], base_y[:]
    x.flags.writeable = y.flags.writeable = False
    assert not data_module.frozen(x)
    net = nnxp.Network([8, 5, 3], seed=0, backend="numpy")
    net.prepare((x, y))
    base_x[0, 0] = -7.0  # changes x through the other name
    assert to_numpy(net.prepare((x, y)).x)[0, 0] == -7.0
    assert _counts() == (2, 0, 0)


def test_what_counts_as_frozen():
    owned = np.ones(3)
    owned.flags.writeable = False
    assert data_module.frozen(owned)
    assert data_module.frozen(np.frombuffer(b"\x00" * 16, dtype=np.float64))  # bytes: immutable
    assert not data_module.frozen(np.frombuffer(bytearray(16), dtype=np.float64))
    assert not data_module.frozen(np.ones(3))
    assert not data_module.frozen([1.0, 2.0])


def test_other_dtype_and_shape_get_their_own_entry():
    x, y = _arrays(read_only=True)
    a = nnxp.Network([8, 5, 3], seed=0, dtype="float32", backend="numpy")
    b = nnxp.Network([8, 5, 3], seed=0, dtype="float64", backend="numpy")
    c = nnxp.Network([8, 4, 5], seed=0, dtype="float32", backend="numpy")  # 5 classes
    assert a.prepare((x, y)).x.dtype == np.float32
    assert b.prepare((x, y)).x.dtype == np.float64
    assert c.prepare((x, y)).y.shape == (60, 5)
    assert _counts() == (3, 0, 0) and data_cache_info().size == 3


def test_dropping_the_arrays_frees_the_entry(backend):
    x, y = _arrays(read_only=True)
    net = nnxp.Network([8, 5, 3], seed=0)
    data = net.prepare((x, y))
    assert data_cache_info().size == 1
    ref = weakref.ref(x)
    del x, y, data
    gc.collect()
    assert ref() is None  # the cache does not keep the arrays alive (not even on NumPy)
    assert data_cache_info().size == 0


def test_the_cache_is_bounded():
    net = nnxp.Network([8, 5, 3], seed=0, backend="numpy")
    kept = [_arrays(read_only=True) for _ in range(data_module.CACHE_SIZE + 3)]
    for x, y in kept:
        net.prepare((x, y))
    info = data_cache_info()
    assert info.size == info.maxsize == data_module.CACHE_SIZE
