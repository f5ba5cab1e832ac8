"""nnxp.compat: the book's modules, so that its programs run with only their imports changed.

    from nnxp.compat import network, network2, mnist_loader

    network        chapter 1's network.py (quadratic cost, N(0, 1) weights)
    network2       chapter 3's network2.py (costs, initializers, monitoring, save / load)
    mnist_loader   load_data(), load_data_wrapper(), vectorized_result()

They keep the book's interface (lists of column vectors, NumPy weights and biases with the
book's shapes, the book's prints and return values) and its numbers: from the same seeds of
``random`` and ``numpy.random`` they draw the same initial weights and the same mini-batches,
and compute in float64, so a script prints the book's epoch lines for the same data (accuracy
counts equal, costs to rounding).  Training runs on nnxp's engines (whole mini-batches as
matrices, on the backend selected with NNXP_BACKEND), not the book's per-example loop.  Where
training is chaotic, rounding differences grow until the counts differ (chapter 1's eta = 3.0 on
all of MNIST); NNXP_COMPAT_EXACT=1 then runs the book's own arithmetic, bit for bit on NumPy, at
about the book's speed (_book.py).  Accuracy is counted with the book's sigmoid formula,
so saturated outputs give the book's counts.  A subclass that overrides one of the book's
methods (update_mini_batch, backprop, cost_derivative, feedforward, ...) is trained by the
book's loop calling them.  The training list is shuffled in place, as the book does.  Data
lists are converted for the device once and kept; ``forget_data()`` drops them (after
changing arrays inside a list in place, say).  docs/compat.md says how to port a script, what
is supported and what differs.
"""

from . import mnist_loader, network, network2
from ._shell import forget_data

__all__ = ["network", "network2", "mnist_loader", "forget_data"]
