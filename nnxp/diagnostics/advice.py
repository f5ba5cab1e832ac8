"""The advice phrases several checks share, and the remedies they stand for.

Each Problem carries its advice twice: as text for people (``advice``) and as a ``remedy``, the
Network / SGD arguments the advice changes, for programs (benchmarks/bench_diagnose.py applies
each remedy to its scenario and retrains, to show that the advice works).  Remedy keys:

    "eta": a number, or "find" (use nnxp.find_learning_rate(...).recommended)
    "weight_init": "default" (N(0, 1/n_in)) | "he" (N(0, 2/n_in));  "bias_init": "zero"
    "cost": a cost's name;  "activation": the hidden layers' activation's name
    "lmbda": a number;  "early_stopping": epochs without improvement

BOOK_DECAY is the weight decay per step of the book's MNIST run, eta lmbda / n =
0.5 * 5.0 / 50,000 = 5e-5; ``book_lmbda(eta, n)`` is the lmbda that gives it.
"""

__all__ = ["REINIT", "FIND_ETA", "HE_INIT", "BOOK_DECAY", "book_lmbda", "REINIT_REMEDY",
           "FIND_ETA_REMEDY", "HE_REMEDY"]

REINIT = "re-initialize with net.default_weight_initializer() (weights N(0, 1/n_in), chapter 3)"
FIND_ETA = ("find the threshold eta at which the training cost starts to decrease with "
            "nnxp.find_learning_rate() and use about half of it (chapter 3)")
HE_INIT = ("re-initialize with He weights N(0, 2/n_in) and zero biases "
           "(weight_init=nnxp.initializers.he_weight, bias_init=nnxp.initializers.zero_bias)")
BOOK_DECAY = 5e-5

REINIT_REMEDY = {"weight_init": "default"}
FIND_ETA_REMEDY = {"eta": "find"}
HE_REMEDY = {"weight_init": "he", "bias_init": "zero"}


def book_lmbda(eta, n) -> float:
    """The lmbda whose weight decay per step, eta lmbda / n, is the book's 5e-5."""
    return BOOK_DECAY * n / eta
