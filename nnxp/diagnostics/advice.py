"""The advice phrases several checks share, and the remedies they stand for.

Each Problem carries its advice twice: as text for people (``advice``) and as a ``remedy``, the
arguments of ``nnxp.Network(...)`` or ``net.SGD(...)`` to change, as those accept them (so a
program can apply it: benchmarks/bench_diagnose.py does, and retrains).  Remedy keys:

    Network:  "weight_init", "bias_init" (initializer functions of nnxp.initializers),
              "cost" (a cost's name), "activation", "output_activation" (names)
    SGD:      "eta" (a number), "mini_batch_size" (a number), "lmbda" (a number),
              "early_stopping" (epochs without improvement)
    data:     "scale_inputs" (a number: every input, training and evaluation, multiplied by
              it; or a list of numbers, one per input column (features of very different
              ranges), column j multiplied by the j-th; no nnxp argument scales data, so
              ``scale_inputs(remedy, x)`` applies it)

A remedy that changes the initialization means a fresh network.  ``split_remedy(remedy)``
gives the Network and SGD keyword arguments (data keys are left to ``scale_inputs``).
While the checks run, a
smaller eta is written ``{"eta": FIND}``; ``resolve_eta(problems, eta, threshold)`` turns it
into a number at the end of ``diagnose``: half of ``threshold`` when the finder's threshold is
known (its recommendation: ``diagnose(..., threshold=nnxp.find_learning_rate(...))``), else
``eta`` times the problem's ``evidence["eta_factor"]`` (1/2 for a curve that oscillates, 1/10
otherwise: one of the finder's steps), else the key is left out (the advice names the finder).

BOOK_DECAY is the weight decay per step of the book's MNIST run, eta lmbda / n =
0.5 * 5.0 / 50,000 = 5e-5; ``book_lmbda(eta, n)`` is the lmbda that gives it.
"""

import math

from ..checks import show
from ..errors import ConfigError, InputTypeError
from ..initializers import default_weight, he_weight, zero_bias
from ..namespace import device_of, namespace

__all__ = ["REINIT", "FIND_ETA", "HE_INIT", "BOOK_DECAY", "book_lmbda", "REINIT_REMEDY",
           "FIND_ETA_REMEDY", "HE_REMEDY", "FIND", "resolve_eta", "MINI_BATCH", "NETWORK_KEYS",
           "SGD_KEYS", "DATA_KEYS", "split_remedy", "scale_inputs", "SCALE_INPUTS"]

NETWORK_KEYS = ("weight_init", "bias_init", "cost", "activation", "output_activation")
SGD_KEYS = ("eta", "mini_batch_size", "lmbda", "early_stopping")
DATA_KEYS = ("scale_inputs",)

REINIT = "re-initialize with net.default_weight_initializer() (weights N(0, 1/n_in), chapter 3)"
FIND_ETA = ("find the threshold eta at which the training cost starts to decrease with "
            "nnxp.find_learning_rate() and use about half of it (chapter 3); "
            "diagnose(..., threshold=result) puts that eta in the remedy")
HE_INIT = ("re-initialize with He weights N(0, 2/n_in) and zero biases "
           "(weight_init=nnxp.initializers.he_weight, bias_init=nnxp.initializers.zero_bias)")
SCALE_INPUTS = ("scale the inputs to [0, 1] (divide 8-bit pixels by 255) or standardize each "
                "feature to zero mean and unit variance (features of very different ranges: "
                "per column, e.g. scikit-learn's MinMaxScaler or StandardScaler fitted on the "
                "training data), the same for training and evaluation data; the remedy "
                "multiplies every input by one number, or each column by its own")
BOOK_DECAY = 5e-5
MINI_BATCH = 10  # the book's mini-batch size, what a too_few_updates remedy proposes

FIND = "find"  # placeholder while the checks run: resolve_eta replaces it with a number
REINIT_REMEDY = {"weight_init": default_weight}
FIND_ETA_REMEDY = {"eta": FIND}
HE_REMEDY = {"weight_init": he_weight, "bias_init": zero_bias}


def book_lmbda(eta, n) -> float:
    """The lmbda whose weight decay per step, eta lmbda / n, is the book's 5e-5."""
    return BOOK_DECAY * n / eta


def split_remedy(remedy) -> tuple:
    """(Network keyword arguments, SGD keyword arguments) of a remedy, to apply it:
    ``nnxp.Network(sizes, **net_args)`` and ``net.SGD(data, epochs, **sgd_args)`` with the
    run's own values for the rest; a data key (DATA_KEYS) is in neither: ``scale_inputs``
    applies it to the data."""
    if not isinstance(remedy, dict):
        raise InputTypeError(f"a remedy is a dict (a Problem's remedy), got {show(remedy)}")
    unknown = set(remedy) - set(NETWORK_KEYS) - set(SGD_KEYS) - set(DATA_KEYS)
    if unknown:
        raise ConfigError(f"remedy keys {sorted(map(str, unknown))} are neither Network, SGD "
                          "nor data arguments")
    return ({k: v for k, v in remedy.items() if k in NETWORK_KEYS},
            {k: v for k, v in remedy.items() if k in SGD_KEYS})


def scale_inputs(remedy, x):
    """``x`` (an array of inputs, any library's: rows (n, columns), or images (n, ...) as
    diagnose takes them) with the remedy's data transform applied: ``x * remedy["scale_inputs"]``,
    a number, or one number per input value (a list of that many numbers, put in ``x``'s
    namespace and device, shaped as one example); ``x`` itself when the remedy has none.
    Apply it to the training and the evaluation inputs alike."""
    if not isinstance(remedy, dict):
        raise InputTypeError(f"a remedy is a dict (a Problem's remedy), got {show(remedy)}")
    factor = remedy.get("scale_inputs")
    if factor is None:
        return x
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise InputTypeError(f"scale_inputs scales an array of inputs, got {show(x)}")
    xp = namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):  # pixels of uint8: the array API (strict)
        x = xp.astype(x, _default_float(xp, x))   # refuses float * integer array
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        return x * factor
    if not isinstance(factor, (list, tuple)) or not all(
            isinstance(f, (int, float)) and not isinstance(f, bool) for f in factor):
        raise ConfigError("scale_inputs must be a number or a list of numbers (one per input "
                          f"column), got {show(factor)}")
    shape = tuple(x.shape)
    width = math.prod(shape[1:]) if len(shape) > 1 else None  # one example's values
    if width != len(factor):
        raise ConfigError(f"scale_inputs has {len(factor)} factors, one per input value, but "
                          f"the inputs have shape {shape}")
    factors = xp.asarray([float(f) for f in factor], dtype=x.dtype, device=device_of(x))
    # images (n, ...) as diagnose reads them: flattened to rows, one factor per value
    return x * xp.reshape(factors, shape[1:])


def _default_float(xp, x):
    """The library's default real floating dtype on ``x``'s device (NumPy's float64, PyTorch's
    float32, a device without float64's float32)."""
    try:
        return xp.__array_namespace_info__().default_dtypes(
            device=device_of(x))["real floating"]
    except (AttributeError, TypeError, ValueError):
        return xp.float32


def resolve_eta(problems, eta, threshold) -> None:
    """Replace every remedy's ``{"eta": FIND}`` by a number (module docstring), in place, and
    say in the evidence where it came from ("finder" or "eta x factor")."""
    for p in problems:
        if p.remedy.get("eta") != FIND:
            continue
        p.remedy = dict(p.remedy)  # never the shared constants: each problem its own
        if threshold is not None:
            p.remedy["eta"] = threshold / 2
            p.evidence["eta_from"] = f"finder: threshold {threshold:.4g} / 2"
        elif eta is not None:
            factor = p.evidence.get("eta_factor", 0.1)
            p.remedy["eta"] = float(f"{eta * factor:.3g}")
            p.evidence["eta_from"] = f"eta {eta:g} x {factor:g} (the finder knows better)"
        else:
            del p.remedy["eta"]
