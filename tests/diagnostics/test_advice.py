"""advice.py: the shared phrases and remedies, and the book's weight decay per step."""

import numpy as np
import pytest

import nnxp
from nnxp.diagnostics import advice


def test_book_lmbda_gives_the_books_decay_per_step():
    assert advice.book_lmbda(0.5, 50000) == pytest.approx(5.0)   # the book's MNIST run
    assert advice.book_lmbda(0.5, 1000) == pytest.approx(0.1)    # the book's 1,000 images
    assert advice.BOOK_DECAY == pytest.approx(0.5 * 5.0 / 50000)


def test_remedies_use_only_the_documented_keys():
    keys = {"eta", "weight_init", "bias_init", "cost", "activation", "lmbda", "early_stopping"}
    for remedy in (advice.REINIT_REMEDY, advice.FIND_ETA_REMEDY, advice.HE_REMEDY):
        assert set(remedy) <= keys
    assert "default_weight_initializer" in advice.REINIT and "he_weight" in advice.HE_INIT
    assert "find_learning_rate" in advice.FIND_ETA


def test_the_advice_helpers_refuse_what_they_cannot_take_and_scale_images():
    """split_remedy / scale_inputs of None, an unknown key, a list of rows (were bare
    ValueError, TypeError, AttributeError); a per-column remedy applied to the image-shaped
    inputs diagnose took (was a ConfigError: 6 factors for inputs of shape (60, 2, 3))."""
    from nnxp.diagnostics import advice
    x = np.random.default_rng(0).random((60, 6))
    with pytest.raises(nnxp.ConfigError, match="neither Network, SGD nor data"):
        advice.split_remedy({"foo": 1})
    for call in (lambda: advice.split_remedy(None), lambda: advice.scale_inputs(None, x),
                 lambda: advice.scale_inputs({"scale_inputs": 0.5}, x.tolist())):
        with pytest.raises(nnxp.InputTypeError):
            call()
    factors = {"scale_inputs": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    images = advice.scale_inputs(factors, x.reshape(60, 2, 3))
    np.testing.assert_array_equal(images.reshape(60, 6), advice.scale_inputs(factors, x))


def test_weights_grown_in_training_get_the_smaller_eta_their_advice_names():
    """A saturated layer whose weights grew in training is advised 'a smaller eta ..., then
    re-initialize'; its remedy re-initialised only (applied on MNIST at eta 30 it stayed at
    chance: 41-54 of 500).  The remedy holds both (eta resolved as for every problem)."""
    from nnxp.diagnostics.layer_checks import _saturation_cause
    from nnxp.diagnostics.thresholds import Thresholds
    st = {"weight_scale": 40.0, "z_mean": 0.5, "z_std": 30.0, "weight_rms": 2.5,
          "positive_weights": 0.5, "_negative_weights": 0.5, "n_in": 784}
    cause, _, advice_text, remedy = _saturation_cause(st, Thresholds())
    assert cause == "grown_weights" and advice_text.startswith("a smaller eta")
    assert remedy["eta"] == advice.FIND and "weight_init" in remedy


def test_scale_inputs_takes_integer_pixels_on_every_backend(backend):
    """uint8 pixels on array-api-strict: a bare TypeError (a float times an integer array is
    refused by the standard), for the very case the remedy is for (the sixth sweep)."""
    rng = np.random.default_rng(0)
    pixels = (rng.random((40, 6)) * 255).astype(np.uint8)
    x = backend.asarray(pixels) if hasattr(backend, "asarray") else pixels
    for remedy in ({"scale_inputs": 1 / 255}, {"scale_inputs": [1 / 255] * 6}):
        scaled = np.asarray(backend.to_numpy(advice.scale_inputs(remedy, x)))
        assert scaled.dtype.kind == "f"
        np.testing.assert_allclose(scaled, pixels / 255, rtol=1e-6)


def test_a_column_of_subnormal_values_gets_a_finite_factor():
    """One column whose largest value is 1e-310 (float64) or 1e-39 (float32): its per-column
    factor 1 / max was inf (or overflowed float32), the scaled data held inf and SGD refused
    it (the sixth sweep).  Such a column counts as 0, and gets the all-column factor."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    for dtype, tiny in (("float64", 1e-310), ("float32", 1e-39)):
        x = (rng.random((400, 16)) * 1000).astype(dtype)
        x[:, 1:8] = 1.0
        x[:, 0] *= 1000
        x[:, 15] = (rng.random(400) * tiny).astype(dtype)
        net = nnxp.Network([16, 8, 3], dtype=dtype, seed=0)
        p = nnxp.diagnose(net, (x, y)).find("inputs_not_scaled")[0]
        factors = p.remedy["scale_inputs"]
        assert isinstance(factors, list) and all(np.isfinite(factors))
        scaled = advice.scale_inputs(p.remedy, x)
        assert np.isfinite(scaled).all()
        net.SGD((scaled, y), 1, 10, 0.1)
