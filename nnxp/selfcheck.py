"""``python -m nnxp.selfcheck``: does the selected backend give NumPy's numbers, and how fast?

    python -m nnxp.selfcheck                        # NNXP_BACKEND (default numpy)
    python -m nnxp.selfcheck --backend jax --device gpu --dtype float64

Trains a small sigmoid network ([64, 32, 10], cross-entropy, L2, mini-batch 10) for two epochs
on a fixed synthetic problem from one seed, once on NumPy and once on the selected backend, and
prints the backend, device, dtype, the largest relative difference between the two sets of
weights, both accuracy counts, and seconds per training step.  Exits 1 when the weights differ by
more than the tolerance (1e-10 in float64, 1e-4 in float32) or the accuracy counts differ, and 2
when the backend cannot be used at all.  The first thing to run on a new GPU machine.

``check(backend, device=None, dtype="float32") -> dict`` does the same from Python;
``train(name, device, dtype, x, y, epochs=2)`` is its one training run (``name`` the
backend's), returning
``(backend, weights, accuracy, seconds per step, compile seconds)``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from . import backends as _backend
from .errors import NNXPError
from .network import Network

__all__ = ["check", "main", "train"]

TOLERANCE = {"float32": 1e-4, "float64": 1e-10}
SIZES = [64, 32, 10]


def _problem(n=2000, seed=1234):
    """Inputs in [0, 1) and labels from a fixed random teacher network: learnable, not trivial."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, SIZES[0]))
    teacher = rng.standard_normal((SIZES[0], SIZES[-1]))
    return x, np.argmax((x - 0.5) @ teacher, axis=1)


def train(name, device, dtype, x, y, epochs=2):
    """The self-check's training run of ``SIZES`` on backend ``name`` (see the module docstring)."""
    with _backend.use_backend(name, device) as be:
        net = Network(SIZES, seed=0, dtype=dtype)
        history = net.SGD((x, y), epochs, 10, 0.5, lmbda=1.0, shuffle=7,
                          evaluation_data=(x, y), monitor_evaluation_accuracy=True)
        weights = [be.to_numpy(w) for w in net.weights] + [be.to_numpy(b) for b in net.biases]
        seconds = min(history.epoch_seconds) / -(-len(x) // 10)
        return be, weights, history.evaluation_accuracy[-1], seconds, history.compile_seconds


def check(backend=None, device=None, dtype="float32") -> dict:
    """Compare ``backend`` against NumPy on the self-check problem; see the module docstring."""
    name = backend or _backend.get_backend()
    x, y = _problem()
    ref_be, ref_w, ref_acc, ref_sec, _ = train("numpy", None, dtype, x, y)
    be, w, acc, sec, compile_s = train(name, device, dtype, x, y)
    scale = max(float(np.max(np.abs(r))) for r in ref_w)
    diff = max(float(np.max(np.abs(a - r))) for a, r in zip(w, ref_w)) / scale
    ok = diff <= TOLERANCE[dtype] and acc == ref_acc
    return {"backend": be.name, "device": str(be.device), "dtype": dtype,
            "max_relative_difference": diff, "tolerance": TOLERANCE[dtype],
            "accuracy": acc, "numpy_accuracy": ref_acc, "n": len(x),
            "seconds_per_step": sec, "numpy_seconds_per_step": ref_sec,
            "compile_seconds": compile_s, "agree": ok}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnxp.selfcheck", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", help="backend to check (default: NNXP_BACKEND or numpy)")
    parser.add_argument("--device", help="device, e.g. gpu, gpu:1, cuda:0 (default: NNXP_DEVICE)")
    parser.add_argument("--dtype", choices=sorted(TOLERANCE), default="float32")
    parser.error = lambda message: parser.exit(  # bad input: one line, not the whole usage
        2, f"{parser.prog}: {message} (see --help)\n")
    args = parser.parse_args(argv)
    try:
        r = check(args.backend, args.device, args.dtype)
    except NNXPError as exc:
        print(f"nnxp selfcheck: {exc}", file=sys.stderr)
        return 2
    print(f"backend     {r['backend']}\ndevice      {r['device']}\ndtype       {r['dtype']}")
    print(f"weights     max relative difference from NumPy {r['max_relative_difference']:.2e} "
          f"(tolerance {r['tolerance']:.0e})")
    print(f"accuracy    {r['accuracy']} / {r['n']} (NumPy: {r['numpy_accuracy']} / {r['n']})")
    print(f"speed       {r['seconds_per_step'] * 1e6:.1f} us per step "
          f"(NumPy: {r['numpy_seconds_per_step'] * 1e6:.1f} us; compile "
          f"{r['compile_seconds']:.2f} s apart)")
    print("result      " + ("AGREES with NumPy" if r["agree"] else "DISAGREES with NumPy"))
    return 0 if r["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
