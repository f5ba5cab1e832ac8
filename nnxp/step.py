"""The training step: one mini-batch of backpropagation and one optimizer update, as a pure function.

    make_step(activations, cost, optimizer) -> step
    step(params, state, x_batch, y_batch, hyper) -> (params, state)

``params`` is the tuple of (w, b) per layer, ``state`` the optimizer's state, ``x_batch`` (m, n_in)
and ``y_batch`` (m, n_out) one mini-batch, ``hyper`` an ``optimizers.Hyper``.  The mini-batch size
m is read from the batch's shape, so the last, smaller mini-batch of an epoch needs nothing
special.  Nothing is mutated: JAX compiles this function as it is (engines/jax_scan.py) and the
plain engine calls it in a Python loop on every other backend.
"""

from .backprop import backprop

__all__ = ["make_step"]


def make_step(activations, cost, optimizer):
    """Bind the network's layers, cost and optimizer into ``step`` (see module docstring)."""
    activations = tuple(activations)

    def step(params, state, x_batch, y_batch, hyper):
        # eta times the mean gradient of the mini-batch (see backprop's ``scale``)
        grads = backprop(params, activations, cost, x_batch, y_batch,
                         scale=hyper.eta / x_batch.shape[0])
        return optimizer.update(params, grads, state, hyper)

    return step
