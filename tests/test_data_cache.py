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
from conftest import to_numpy


@pytest.fixture(autouse=True)
def empty_cache():
    data_module.clear_cache()
    yield
    data_module.clear_cache()


@pytest.fixture
def calls(monkeypatch):
    """Every host preparation, with whether it scanned the values (checked=False)."""
    seen = []
    original = data_module._prepare_on_host

    def recording(*args, **kwargs):
        seen.append(kwargs.get("checked", args[7] if len(args) > 7 else False))
        return original(*args, **kwargs)

    monkeypatch.setattr(data_module, "_prepare_on_host", recording)
    return seen


def _arrays(read_only, n=60):
    rng = np.random.default_rng(0)
    x, y = rng.random((n, 8)).astype("float32"), rng.integers(0, 3, n)
    if read_only:
        x.flags.writeable = y.flags.writeable = False
    return x, y


def test_read_only_arrays_are_scanned_once(backend, calls):
    x, y = _arrays(read_only=True)
    net = nnxp.Network([8, 5, 3], seed=0)
    first = net.prepare((x, y))
    second = net.prepare((x, y))
    net.SGD((x, y), 2, 10, 0.5)
    # the first call scans; the others get the kept Dataset (no call at all) or, where it
    # shares the arrays' memory (NumPy; JAX on the CPU when it can alias), rebuild it unscanned
    assert calls[0] is False and all(calls[1:]) and len(calls) in (1, 3)
    np.testing.assert_array_equal(to_numpy(second.x), x)
    np.testing.assert_array_equal(to_numpy(second.labels), y)
    np.testing.assert_array_equal(to_numpy(second.y), np.eye(3)[y])
    assert to_numpy(first.y).dtype == np.float32


def test_a_dataset_with_its_own_memory_is_kept_one_sharing_the_arrays_is_rebuilt():
    x, y = _arrays(read_only=True)
    builds = []

    def own(checked):  # a device copy: holds no reference to x or y
        builds.append(checked)
        return ("copy", x.shape)

    key = data_module._cache_key(x, y, "backend", "float32", 8, 3)
    first = data_module._cached(key, x, y, own)
    assert data_module._cached(key, x, y, own) is first and builds == [False]

    data_module.clear_cache()
    builds.clear()

    def shared(checked):  # uses x's memory in place, as NumPy does
        builds.append(checked)
        return (x.reshape(60, 8), y)

    data_module._cached(key, x, y, shared)
    again = data_module._cached(key, x, y, shared)
    assert builds == [False, True] and again[0].base is x  # rebuilt, without the scans


def test_writeable_arrays_are_prepared_at_every_call_and_changes_are_seen(backend, calls):
    x, y = _arrays(read_only=False)
    net = nnxp.Network([8, 5, 3], seed=0)
    net.prepare((x, y))
    x[0, 0] = 123.0
    y[1] = 2
    again = net.prepare((x, y))
    assert calls == [False, False]
    assert to_numpy(again.x)[0, 0] == 123.0 and int(to_numpy(again.labels)[1]) == 2
    x[2, 0] = np.nan
    with pytest.raises(nnxp.DataError, match="NaN"):
        net.prepare((x, y))


def test_a_read_only_view_of_writeable_memory_is_not_trusted(calls):
    base_x, base_y = _arrays(read_only=False)
    x, y = base_x[:], base_y[:]
    x.flags.writeable = y.flags.writeable = False
    assert not data_module.frozen(x)
    net = nnxp.Network([8, 5, 3], seed=0, backend="numpy")
    net.prepare((x, y))
    base_x[0, 0] = -7.0  # changes x through the other name
    assert to_numpy(net.prepare((x, y)).x)[0, 0] == -7.0
    assert calls == [False, False]


def test_what_counts_as_frozen():
    owned = np.ones(3)
    owned.flags.writeable = False
    assert data_module.frozen(owned)
    assert data_module.frozen(np.frombuffer(b"\x00" * 16, dtype=np.float64))  # bytes: immutable
    assert not data_module.frozen(np.frombuffer(bytearray(16), dtype=np.float64))
    assert not data_module.frozen(np.ones(3))
    assert not data_module.frozen([1.0, 2.0])


def test_other_dtype_and_shape_get_their_own_entry(calls):
    x, y = _arrays(read_only=True)
    a = nnxp.Network([8, 5, 3], seed=0, dtype="float32", backend="numpy")
    b = nnxp.Network([8, 5, 3], seed=0, dtype="float64", backend="numpy")
    c = nnxp.Network([8, 4, 5], seed=0, dtype="float32", backend="numpy")  # 5 classes
    assert a.prepare((x, y)).x.dtype == np.float32
    assert b.prepare((x, y)).x.dtype == np.float64
    assert c.prepare((x, y)).y.shape == (60, 5)
    assert calls == [False, False, False]


def test_dropping_the_arrays_frees_the_entry(backend):
    x, y = _arrays(read_only=True)
    net = nnxp.Network([8, 5, 3], seed=0)
    data = net.prepare((x, y))
    assert len(data_module._cache) == 1
    ref = weakref.ref(x)
    del x, y, data
    gc.collect()
    assert ref() is None  # the cache does not keep the arrays alive (not even on NumPy)
    assert len(data_module._cache) == 0


def test_the_cache_is_bounded():
    net = nnxp.Network([8, 5, 3], seed=0, backend="numpy")
    kept = [_arrays(read_only=True) for _ in range(data_module.CACHE_SIZE + 3)]
    for x, y in kept:
        net.prepare((x, y))
    assert len(data_module._cache) == data_module.CACHE_SIZE
