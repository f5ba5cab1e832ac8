"""Network files are checked before anything is allocated (nnxp.formats), and no edited, cut or
hostile file makes ``nnxp.load`` raise anything but an NNXPError.

The fuzzing starts from valid files (nnxp's and network2's) and applies random edits: keys
deleted or added, values replaced by any JSON (wrong types, strings for numbers, nested
garbage, NaN, 1e39, 10**400), lists made longer or shorter, huge sizes, and byte-level damage
(cuts, flipped bytes, invalid UTF-8).  A file that loads must give a sane network: the sizes'
shapes and finite parameters in its dtype.
"""

import copy
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnxp
from nnxp import formats
from conftest import params_numpy

# -- valid starting points -------------------------------------------------------------------

_RNG = np.random.default_rng(0)
_W = [_RNG.standard_normal((4, 3)), _RNG.standard_normal((2, 4))]
_B = [_RNG.standard_normal((4, 1)), _RNG.standard_normal((2, 1))]


def network2_doc():
    """What network2.py's save writes (float64 numbers, no format, dtype or activations)."""
    return {"sizes": [3, 4, 2], "weights": [w.tolist() for w in _W],
            "biases": [b.tolist() for b in _B], "cost": "CrossEntropyCost"}


def nnxp_doc(dtype="float32"):
    """What nnxp's save writes, with a parametrised activation."""
    d = network2_doc()
    if dtype == "float32":
        d["weights"] = [w.astype(np.float32).astype(float).tolist() for w in _W]
        d["biases"] = [b.astype(np.float32).astype(float).tolist() for b in _B]
    d.update(cost="QuadraticCost", format="nnxp.network", version=1, dtype=dtype,
             activations=[{"name": "LeakyReLU", "slope": 0.1}, {"name": "Tanh"}],
             seed="123456789012345678901234567890")
    return d


BASES = [network2_doc, nnxp_doc, lambda: nnxp_doc("float64")]

# -- edits -----------------------------------------------------------------------------------

SPECIAL_NUMBERS = [math.nan, math.inf, -math.inf, 1e39, -1e39, 3.5e38, 1e308, 5e-324, -0.0,
                   10 ** 400, 2 ** 63, -1, 0, 1, True, False, "1.5", "NaN", None]
SPECIAL_SIZES = [[20000, 20000, 3], [10 ** 12, 2], [3, 10 ** 400], [3, 0, 2], [3, -4, 2],
                 [3, 4.0, 2], [3, True, 2], [3], [], "3,4,2", {"a": 3}, [3, "4", 2],
                 [3, 4, 2, 2], [3, 2]]

leaves = (st.none() | st.booleans() | st.integers() | st.sampled_from(SPECIAL_NUMBERS)
          | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
          | st.sampled_from(["Sigmoid", "ReLU", "LeakyReLU", "Softmax", "QuadraticCost",
                             "LogLikelihoodCost", "float16", "float64", "nnxp.network", "²",
                             "1" * 5000]))
garbage = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                       max_leaves=12)


def paths(node, prefix=()):
    """Every position in a JSON document, as tuples of keys and indices."""
    yield prefix
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        yield from paths(value, prefix + (key,))


def at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def edited_documents(draw):
    """A valid network document with 1 to 4 random edits."""
    doc = draw(st.sampled_from(BASES))()
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(list(paths(doc))))
        op = draw(st.sampled_from(["replace", "replace", "delete", "grow", "add", "number",
                                   "sizes"]))
        if op == "sizes" and isinstance(doc, dict):
            doc["sizes"] = copy.deepcopy(draw(st.sampled_from(SPECIAL_SIZES)
                                              | st.lists(st.integers(-2, 10 ** 6), max_size=5)))
        elif op == "sizes":
            pass
        elif not where:
            doc = draw(garbage) if op == "replace" else doc
        else:
            parent, key = at(doc, where[:-1]), where[-1]
            if op in ("replace", "add"):
                parent[key] = draw(garbage)
            elif op == "number":
                parent[key] = draw(st.sampled_from(SPECIAL_NUMBERS))
            elif op == "delete":
                del parent[key]
            elif op == "grow" and isinstance(parent, list):
                parent.insert(key, copy.deepcopy(draw(garbage | st.just(parent[key]))))
        if op == "add" and isinstance(doc, dict):
            doc["x_" + draw(st.text(max_size=6))] = draw(garbage)
    return doc


@st.composite
def edited_files(draw):
    """Bytes of an edited document, sometimes also damaged at the byte level."""
    raw = json.dumps(draw(edited_documents())).encode()
    damage = draw(st.sampled_from(["none", "none", "none", "cut", "byte", "insert"]))
    if damage != "none" and raw:
        i = draw(st.integers(0, len(raw) - 1))
        if damage == "cut":
            raw = raw[:i]
        elif damage == "byte":
            raw = raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1:]
        else:
            raw = raw[:i] + draw(st.binary(max_size=8)) + raw[i:]
    return raw


def load_outcome(path):
    """'loaded' (and the network is sane) or the NNXPError class's name; anything else raises."""
    try:
        net = nnxp.load(path)
    except nnxp.NNXPError as exc:
        assert str(exc), "an nnxp error must say what was wrong"
        return type(exc).__name__
    assert len(net.params) == len(net.sizes) - 1
    for (w, b), n_in, n_out in zip(net.params, net.sizes[:-1], net.sizes[1:]):
        assert tuple(w.shape) == (n_out, n_in) and tuple(b.shape) == (n_out,)
    assert all(np.isfinite(a).all() for a in params_numpy(net))
    return "loaded"


FUZZ = dict(deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def fuzz(backend, tmp_path, raw):
    path = tmp_path / "net.json"
    path.write_bytes(raw)
    load_outcome(path)


@settings(max_examples=150, **FUZZ)
@given(raw=edited_files())
def test_edited_network_files_meet_only_nnxp_errors(backend, tmp_path, raw):
    fuzz(backend, tmp_path, raw)


@pytest.mark.slow
@settings(max_examples=2000, **FUZZ)
@given(raw=edited_files())
def test_edited_network_files_meet_only_nnxp_errors_2000(backend, tmp_path, raw):
    fuzz(backend, tmp_path, raw)


# -- the checks, case by case ----------------------------------------------------------------

def edited(base=nnxp_doc, **changes):
    d = base()
    for key, value in changes.items():
        if value is KeyError:
            del d[key]
        else:
            d[key] = value
    return d


def layer_edit(where, value, base=nnxp_doc):
    d = base()
    key, path = where[0], where[1:]
    at(d, (key,) + path[:-1])[path[-1]] = value
    return d


def check_then_build(doc):
    """check_network_dict, then what load does next (build the Network, where the cost and
    output activation are checked against each other)."""
    from nnxp.network import network_from_fields
    network_from_fields(formats.check_network_dict(doc, "net.json"), "net.json")


@pytest.mark.parametrize("doc,match", [
    (edited(sizes={3, 4, 2}), r"field 'sizes' must be a list .* got \{"),
    (edited(sizes=[3, True, 2]), "field 'sizes' must be a list"),
    (edited(sizes=[3, 4.0, 2]), "field 'sizes' must be a list"),
    (edited(sizes=[3, 0, 2]), "field 'sizes' must be a list"),
    (edited(sizes="3,4,2"), "field 'sizes' must be a list"),
    (edited(network2_doc, sizes=[3, 4, 2, 2]),
     "need 3 weight matrices and bias vectors; found 2 and 2"),
    (edited(weights=KeyError), "lacks the keys of a network file"),
    (edited(cost="os.system"), "field 'cost': unknown cost 'os.system'"),
    (edited(activations=[{"name": "Swish"}, {"name": "Tanh"}]),
     "field 'activations': unknown activation 'Swish'"),
    (edited(activations=[{"name": "LeakyReLU", "slope": 7}, {"name": "Tanh"}]),
     r"field 'activations': LeakyReLU slope must be in \[0, 1\)"),
    (edited(activations=["Tanh"]), r"one activation per layer \(2\)"),
    (edited(cost="CrossEntropyCost", activations=["ReLU", "ReLU"]), "needs a Sigmoid output"),
    (edited(dtype="float16"), "field 'dtype' must be 'float32' or 'float64'; got 'float16'"),
    (edited(version=2), "reads 'nnxp.network' up to version 1"),
    (edited(version=True), "version True"),
    (edited(format="keras"), "is format 'keras'"),
    (edited(seed="²"), "field 'seed' must be a non-negative integer"),
    (edited(seed=-5), "field 'seed'"),
    (edited(checkpoint=[1]), "field 'checkpoint' must be an object"),
    (layer_edit(("weights", 1, 0, 2), 1e39), r"layer 1 weights hold 1e\+39 at \(0, 2\).*float32"),
    (layer_edit(("biases", 0, 3, 0), math.nan), r"layer 0 biases hold nan at \(3,\): NaN"),
    (layer_edit(("weights", 0, 0, 0), 10 ** 400), "layer 0 holds a number nnxp cannot read"),
    (layer_edit(("weights", 0, 1, 1), "1.5"), "layer 0 .* row 1 holds a string, not only num"),
    (layer_edit(("weights", 0, 1, 1), True), "row 1 holds true/false"),
    (layer_edit(("weights", 0, 1, 1), None), "row 1 holds null"),
    (layer_edit(("weights", 0, 1), [1.0, 2.0]), r"should have weights \(4, 3\) .* 2 values"),
    (layer_edit(("weights", 0), [[1.0, 2.0, 3.0]] * 3), "its weights have 3 rows"),
    (layer_edit(("weights", 0), {"a": 1}), "its weights are an object"),
    (layer_edit(("biases", 1), [[0.1, 0.2], [0.3, 0.4]]), "biases have rows of 2 values"),
    (layer_edit(("biases", 1), [0.1, [0.2]]), "biases hold a list"),
])
def test_each_field_is_checked_with_a_message_naming_it(doc, match):
    with pytest.raises(nnxp.DataError, match=match) as info:
        check_then_build(doc)
    assert "net.json" in str(info.value)


def test_network_level_checks_happen_on_load(tmp_path):
    """What only the Network can check (cost and output activation) is a DataError too."""
    path = tmp_path / "net.json"
    path.write_text(json.dumps(edited(cost="CrossEntropyCost", activations=["ReLU", "ReLU"])))
    with pytest.raises(nnxp.DataError, match=r"net.json': CrossEntropyCost needs a Sigmoid"):
        nnxp.load(path)


def test_what_is_accepted(tmp_path):
    d = edited(x_extra={"anything": [1, None]}, seed=7)
    d["biases"] = [b.reshape(-1).tolist() for b in _B]  # flat biases, not columns
    d["weights"][0][0][0] = 1  # an int
    fields = formats.check_network_dict(d, "net.json", file_bytes=len(json.dumps(d)))
    assert fields.sizes == [3, 4, 2] and fields.dtype == "float32" and fields.seed == 7
    assert fields.weights[0][0, 0] == 1.0 and fields.biases[1].shape == (2,)
    big = layer_edit(("weights", 1, 0, 2), 1e39)
    assert formats.check_network_dict(big, "n", dtype="float64").weights[1][0, 2] == 1e39
    assert formats.check_network_dict(network2_doc(), "n").dtype == "float64"
    assert formats.check_network_dict(network2_doc(), "n", default_dtype="float32").dtype \
        == "float32"


def test_a_tiny_file_claiming_a_huge_network_costs_nothing(tmp_path):
    import tracemalloc
    path = tmp_path / "tiny.json"
    path.write_text('{"sizes": [20000, 20000, 3], "weights": [], "biases": [], '
                    '"cost": "quadratic"}')
    tracemalloc.start()
    start = time.perf_counter()
    n = path.stat().st_size
    with pytest.raises(nnxp.DataError, match=rf"has {n} bytes, but its sizes \[20000, 20000, 3\] "
                                             r"imply 400,080,003 parameters"):
        nnxp.load(path)
    seconds, (_, peak) = time.perf_counter() - start, tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1 << 20 and seconds < 1.0
    # sizes that are not first (parsed, then checked, still before any allocation)
    path.write_text('{"weights": [], "biases": [], "cost": "quadratic", '
                    '"sizes": [20000, 20000, 3]}')
    with pytest.raises(nnxp.DataError, match="imply 400,080,003 parameters"):
        nnxp.load(path)


def test_a_file_far_larger_than_its_sizes_is_refused_unparsed(tmp_path):
    import tracemalloc
    path = tmp_path / "padded.json"
    filler = b"[" + b"0," * (24 * 2 ** 20) + b"0]"  # 48 MiB: parsing would take ~0.4 GB
    path.write_bytes(b'{"sizes": [2, 2], "weights": [[[1, 2], [3, 4]]], "biases": [[1], [2]], '
                     b'"cost": "QuadraticCost", "x_history": ' + filler + b"}")
    tracemalloc.start()
    with pytest.raises(nnxp.DataError, match=r"far more than its sizes \[2, 2\] \(6 parameters"
                                             r"\) can take .*refused without parsing it"):
        nnxp.load(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1.5 * path.stat().st_size  # the bytes read, no parsed objects


def test_loading_draws_no_random_weights(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(nnxp_doc()))

    def no_draws(rng, shape):
        raise AssertionError("a random initial weight was drawn while loading")
    import nnxp.network
    monkeypatch.setattr(nnxp.network, "default_weight", no_draws)
    monkeypatch.setattr(nnxp.network, "normal_bias", no_draws)
    net = nnxp.load(path)
    np.testing.assert_array_equal(params_numpy(net)[0], np.float32(_W[0]))


def test_default_dtype_follows_the_device():
    from nnxp import backends
    assert formats.default_dtype(backends.load("numpy")) == "float64"
    strict = pytest.importorskip("array_api_strict")
    del strict
    assert formats.default_dtype(backends.load("array_api_strict", "no_float64")) == "float32"


JAX_LOAD = r"""
import jax, json, sys
import nnxp
with nnxp.use_backend("jax"):
    n2 = nnxp.load(sys.argv[1])
    before = bool(jax.config.jax_enable_x64)
    asked = nnxp.load(sys.argv[1], dtype="float64")
print(json.dumps([n2.dtype, before, asked.dtype, bool(jax.config.jax_enable_x64)]))
"""


def test_a_network2_file_does_not_switch_jax_to_float64(tmp_path, request):
    if "jax" not in request.config.nnxp_backends:
        pytest.skip("jax is not among the backends under test")
    path = tmp_path / "n2.json"
    path.write_text(json.dumps(network2_doc()))
    root = os.path.dirname(os.path.dirname(os.path.abspath(nnxp.__file__)))
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", JAX_LOAD, str(path)], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert json.loads(out.splitlines()[-1]) == ["float32", False, "float64", True]


# -- round trips -----------------------------------------------------------------------------

@st.composite
def networks(draw):
    """(sizes, dtype, weights, biases) with any finite values of the dtype, extremes included."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    width = 32 if dtype == "float32" else 64
    values = st.floats(width=width, allow_nan=False, allow_infinity=False)

    def arrays(shape):
        n = int(np.prod(shape))
        return np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=dtype).reshape(shape)
    weights = [arrays((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [arrays((n_out,)) for n_out in sizes[1:]]
    return sizes, dtype, weights, biases


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=networks())
def test_save_load_round_trips_bit_for_bit(backend, tmp_path, case):
    sizes, dtype, weights, biases = case
    w, b = iter(weights), iter(biases)
    net = nnxp.Network(sizes, cost=nnxp.QuadraticCost, activation=nnxp.Identity, dtype=dtype,
                       weight_init=lambda rng, shape: next(w),
                       bias_init=lambda rng, shape: next(b))
    net.save(tmp_path / "net.json")
    back = nnxp.load(tmp_path / "net.json")
    assert back.dtype == dtype and back.sizes == sizes
    unsigned = "u4" if dtype == "float32" else "u8"
    for x, y in zip(params_numpy(back), params_numpy(net)):
        assert x.dtype == y.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(x.view(unsigned), y.view(unsigned))
