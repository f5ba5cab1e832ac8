"""nnxp.compat: the book's modules, so that its programs run with only their imports changed.

    from nnxp.compat import network, network2, mnist_loader

    network        chapter 1's network.py (quadratic cost, N(0, 1) weights)
    network2       chapter 3's network2.py (costs, initializers, monitoring, save / load)
    mnist_loader   load_data(), load_data_wrapper(), vectorized_result()

They keep the book's interface (lists of column vectors, NumPy weights and biases with the
book's shapes, the book's prints and return values) and its numbers: from the same seeds of
``random`` and ``numpy.random`` they draw the same initial weights and the same mini-batches,
and compute in float64, so a script prints the same epoch lines as the book's program run on
the same data.  Training runs on nnxp's engines (whole mini-batches as matrices, on the backend
selected with NNXP_BACKEND), not the book's per-example loop.  docs/compat.md says how to port a
script, what is supported and what differs.
"""

__all__ = ["network", "network2", "mnist_loader"]
