"""nnxp's benchmarks: side-by-side timings against the alternatives a user would pick.

    benchmarks.baselines   the competitors (per-example network2 loop, vectorized NumPy, JAX scan,
                           PyTorch eager, scikit-learn), time_contender, FLOP counts
    benchmarks._mnist      a minimal IDX reader for Nielsen's MNIST split (host NumPy)
"""
