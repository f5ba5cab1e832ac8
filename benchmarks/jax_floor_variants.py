"""Where nnxp's JAX epoch spends time beyond its floor: variants of the floor, one choice at a time.

    python benchmarks/jax_floor_variants.py                      mini-batch 10, 15 rounds, wall
    python benchmarks/jax_floor_variants.py -m 100 --rounds 21 --clock cpu
    python benchmarks/jax_floor_variants.py --synthetic 500 --rounds 2     (smoke run)

The floor is benchmarks/baselines.py's ``jax_scan_rows`` program (jit + lax.scan, the shuffled
epoch gathered once, W stored (n_in, n_out) and used as ``x @ W``, ``jax.nn.sigmoid``, eta and
lmbda Python constants).  nnxp's engine differs from it in four choices; each variant takes one
of them, then all four, then nnxp itself (``net.SGD(dataset, 1, m, eta, lmbda)``):

    layout="network2"  network2's W (n_out, n_in), ``x @ W.T`` and a gradient delta^T a
    sigmoid="tanh"     0.5 + 0.5 tanh(z/2) (nnxp's Sigmoid.fn) instead of jax.nn.sigmoid
    hyper="device"     eta and lmbda/n as 0-d device arrays (nnxp's optimizer state)
    gather="blocks"    the epoch gathered a block of about 1024 rows at a time (nnxp's
                       BLOCK_ROWS), not all at once

All are interleaved epoch by epoch in one process, the order rotated each round, and printed as
paired ratios to the floor (median [range] over the rounds) with the load average.  The same
network2 arithmetic everywhere ([784, 30, 10], eta 0.5, lmbda 5.0, float32); the full
mini-batches only (m divides 50,000).  Nothing is written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import _cli  # noqa: E402

ETA, LMBDA, SIZES, BLOCK_ROWS = 0.5, 5.0, (784, 30, 10), 1024
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def epoch_fn(n, m, layout="rows", sigmoid="jax", hyper="constants", gather="epoch"):
    """The jitted epoch (params, h, X, Y, perm) -> params of one variant; h = [eta, lmbda/n]."""
    import jax
    import jax.numpy as jnp

    rows = layout == "rows"
    sig = jax.nn.sigmoid if sigmoid == "jax" else (lambda z: 0.5 + 0.5 * jnp.tanh(0.5 * z))
    n_full = n // m

    def step(params, h, xb, yb):
        eta, rate = (h[0], h[1]) if hyper == "device" else (ETA, LMBDA / n)
        lr, decay = eta / xb.shape[0], 1.0 - eta * rate
        acts = [xb]
        for W, b in params:
            acts.append(sig((acts[-1] @ W if rows else acts[-1] @ W.T) + b))
        d = acts[-1] - yb
        new = [None] * len(params)
        for l in range(len(params) - 1, -1, -1):
            W, b = params[l]
            g = acts[l].T @ d if rows else d.T @ acts[l]
            new[l] = (decay * W - lr * g, b - lr * d.sum(axis=0))
            if l:
                d = (d @ W.T if rows else d @ W) * acts[l] * (1 - acts[l])
        return tuple(new)

    def scan(params, h, xs, ys):
        params, _ = jax.lax.scan(lambda p, xy: (step(p, h, *xy), None), params, (xs, ys))
        return params

    def epoch(params, h, X, Y, perm):
        if gather == "epoch":
            Xs, Ys = jnp.take(X, perm[:n_full * m], axis=0), jnp.take(Y, perm[:n_full * m], axis=0)
            return scan(params, h, Xs.reshape(n_full, m, -1), Ys.reshape(n_full, m, -1))
        per = max(BLOCK_ROWS // m, 1)
        n_blocks = n_full // per

        def block(p, index):
            xs, ys = jnp.take(X, index, axis=0), jnp.take(Y, index, axis=0)
            return scan(p, h, xs.reshape(per, m, -1), ys.reshape(per, m, -1)), None

        if n_blocks:
            params, _ = jax.lax.scan(block, params,
                                     perm[:n_blocks * per * m].reshape(n_blocks, per * m))
        rest = perm[n_blocks * per * m:n_full * m]
        if rest.shape[0]:
            params = scan(params, h, jnp.take(X, rest, axis=0).reshape(-1, m, X.shape[1]),
                          jnp.take(Y, rest, axis=0).reshape(-1, m, Y.shape[1]))
        return params

    return jax.jit(epoch, donate_argnums=0)


class Variant:
    def __init__(self, name, X, Y, m, start, **choices):
        import jax
        self.name, self._jax = name, jax
        self.fn = epoch_fn(X.shape[0], m, **choices)
        self.rows = rows = choices.get("layout", "rows") == "rows"
        self.params = jax.device_put(tuple((W.T.copy() if rows else W, b) for W, b in start))
        self.h = jax.device_put(np.array([ETA, LMBDA / X.shape[0]], np.float32))
        self.X, self.Y = jax.device_put(X), jax.device_put(Y)

    def run_epoch(self, perm):
        jax = self._jax
        self.params = self.fn(self.params, self.h, self.X, self.Y,
                              jax.device_put(perm.astype(np.int32)))
        jax.block_until_ready(self.params)

    def weights(self):
        """[(W (n_out, n_in), b), ...] as host arrays, whatever the layout."""
        return [(np.array(W).T if self.rows else np.array(W), np.array(b))
                for W, b in self.params]


class Nnxp:
    name = "nnxp"

    def __init__(self, X, y, m):
        import nnxp
        self._nnxp, self.m = nnxp, m
        with nnxp.use_backend("jax"):
            self.net = nnxp.Network(list(SIZES), seed=0, dtype="float32")
            self.data = self.net.prepare((X, y))

    def run_epoch(self, perm):
        del perm  # nnxp draws its own permutation on the host
        with self._nnxp.use_backend("jax"):
            self.net.SGD(self.data, 1, self.m, ETA, lmbda=LMBDA)


def variants(X, y, m):
    Y = np.eye(SIZES[-1], dtype=np.float32)[y]
    rng = np.random.default_rng(0)
    start = [((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32),
              rng.standard_normal(o).astype(np.float32)) for i, o in zip(SIZES[:-1], SIZES[1:])]
    nnxp_choices = dict(layout="network2", sigmoid="tanh", hyper="device", gather="blocks")
    out = [Variant("floor", X, Y, m, start)]
    for key, value in nnxp_choices.items():
        out.append(Variant(f"floor + {key}", X, Y, m, start, **{key: value}))
    out.append(Variant("floor + all four", X, Y, m, start, **nnxp_choices))
    out.append(Nnxp(X, y, m))
    return out


def main(argv=None):
    p = _cli.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-m", "--mini-batch-size", type=_cli.positive_int, default=10)
    p.add_argument("--rounds", type=_cli.positive_int, default=15)
    p.add_argument("--clock", default="wall", choices=sorted(CLOCKS))
    p.add_argument("--synthetic", type=_cli.positive_int, default=None, metavar="N",
                   help="N random images instead of MNIST")
    args = p.parse_args(argv)
    from benchmarks._mnist import N_TRAIN
    images = args.synthetic or N_TRAIN
    if args.mini_batch_size > images:
        p.error(f"argument --mini-batch-size: {args.mini_batch_size} is more than the "
                f"{images} images")
    if args.synthetic:
        rng = np.random.default_rng(0)
        X = rng.random((args.synthetic, SIZES[0]), dtype=np.float32)
        y = rng.integers(0, SIZES[-1], args.synthetic)
    else:
        from benchmarks._mnist import load_split
        X, y = load_split("float32")["train"]
    m, clock = args.mini_batch_size, CLOCKS[args.clock]
    contenders = variants(X, y, m)
    rng = np.random.default_rng(1)
    for c in contenders:
        c.run_epoch(rng.permutation(X.shape[0]))  # compiles
    load_before = os.getloadavg()
    times = {c.name: [] for c in contenders}
    for r in range(args.rounds):
        perm = rng.permutation(X.shape[0])
        k = r % len(contenders)
        for c in contenders[k:] + contenders[:k]:
            start = clock()
            c.run_epoch(perm)
            times[c.name].append(clock() - start)
    print(f"[784, 30, 10], mini-batch {m}, {X.shape[0]} images, {args.rounds} rounds, "
          f"{args.clock} clock; load {[round(v, 2) for v in load_before]} -> "
          f"{[round(v, 2) for v in os.getloadavg()]}")
    for c in contenders:
        ratios = [a / b for a, b in zip(times[c.name], times["floor"])]
        print(f"  {c.name:20s} {statistics.median(times[c.name]):8.4f} s   x floor "
              f"{statistics.median(ratios):.3f} [{min(ratios):.2f}-{max(ratios):.2f}]")
    return times


if __name__ == "__main__":
    main()
