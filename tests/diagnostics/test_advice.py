"""advice.py: the shared phrases and remedies, and the book's weight decay per step."""

import pytest

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
