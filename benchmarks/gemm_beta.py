"""The NumPy step's weight update, two ways: ``w *= beta`` then SciPy's ``gemm`` with beta 1
(what nnxp/backends/numpy_fast.py does), against one ``gemm`` with gemm's own beta; the time
per member and whether the two give the same bits, on this CPU's OpenBLAS kernels.

    python benchmarks/gemm_beta.py                          # the kernels OpenBLAS picks here
    OPENBLAS_CORETYPE=Haswell python benchmarks/gemm_beta.py  # its Haswell kernels
    python benchmarks/gemm_beta.py --json out.json

The shapes are the first layer of [784, 30, 10] at mini-batch 10, float32, for 16 members
(w^T += a^T delta, w C-ordered (30, 784) so that each member's w^T is Fortran-contiguous), one
BLAS thread, calls alternated, medians of ``--rounds``.
"""

from __future__ import annotations

import os
import statistics
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks import _cli  # noqa: E402
from benchmarks._machine import machine  # noqa: E402


def main(argv=None) -> int:
    p = _cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=_cli.positive_int, default=16)
    p.add_argument("--rounds", type=_cli.positive_int, default=7)
    p.add_argument("--calls", type=_cli.positive_int, default=500,
                   help="updates of all members per round")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = p.parse_args(argv)
    _cli.check_json(p, args.json)
    import numpy as np
    from scipy.linalg import blas
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    k, rng = args.members, np.random.default_rng(0)
    w = rng.standard_normal((k, 30, 784)).astype(np.float32)
    a_t = np.asfortranarray(rng.standard_normal((784, 10)).astype(np.float32))
    deltas = [np.asfortranarray(d) for d in rng.standard_normal((k, 10, 30)).astype(np.float32)]
    beta = np.float32(0.9995)

    def two_passes(w):
        w *= beta
        for c, d in zip(w.swapaxes(-1, -2), deltas):
            blas.sgemm(1.0, a_t, d, 1.0, c, 0, 0, 1)

    def gemm_beta(w):
        for c, d in zip(w.swapaxes(-1, -2), deltas):
            blas.sgemm(1.0, a_t, d, float(beta), c, 0, 0, 1)

    one, other = w.copy(), w.copy()
    two_passes(one)
    gemm_beta(other)
    same = bool(np.array_equal(one, other))
    times = {"two passes (nnxp)": [], "gemm's beta": []}
    for _ in range(args.rounds):
        for name, fn in (("two passes (nnxp)", two_passes), ("gemm's beta", gemm_beta)):
            x = w.copy()
            times[name].append(timeit.timeit(lambda: fn(x), number=args.calls)
                               / args.calls / k * 1e6)
    info = machine()
    arch = sorted({str(pool.get("architecture")) for pool in info["blas"]}) \
        if isinstance(info["blas"], list) else info["blas"]
    print(f"w <- beta w + a^T delta, [784 x 30] per member, {k} members, float32; "
          f"{info['cpu']}, OpenBLAS kernels {arch}")
    print(f"{'way':<20}{'us/member':>10}{'spread':>8}")
    for name, t in times.items():
        print(f"{name:<20}{statistics.median(t):>10.2f}{max(t) / min(t):>8.2f}")
    print(f"same bits: {same}")
    if args.json:
        _cli.write_json(args.json, {"machine": info, "members": k, "same_bits": same,
                                    "microseconds_per_member": times})
    return 0


if __name__ == "__main__":
    sys.exit(main())
