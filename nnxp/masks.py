"""Dropout masks of a training run: drawn on the host, mini-batch by mini-batch, one stream per
member, and handed to the engines a chunk of mini-batches at a time.

    has_dropout(spec) -> bool            whether a layer of ``spec`` has p_dropout > 0
    keep_mask(rng, p_dropout, shape, out=None) -> bool array
                                         ``rng.random(shape) >= p_dropout``: the one rule
                                         every mask follows (True: the input is kept)
    mask_seed(seed) -> SeedSequence      a network's mask stream: child 2 of
                                         SeedSequence(seed) (child 0 draws the initial
                                         weights, child 1 the shuffling: network.py)
    MaskStream(spec, rngs, members=None)
        rngs: one numpy.random.Generator per member (a list of one for a network)
        .draw(count, rows) -> masks      the masks of the next ``count`` mini-batches of
                                         ``rows`` examples each: one entry per layer, None
                                         where p_dropout = 0, else a host bool array
                                         (count, rows, n_in) for a network, (count, K, rows,
                                         n_in) for K members (True: the input is kept)
        .draw_on(backend, count, rows)   the same masks moved to ``backend``'s device
        .states() -> [bit_generator.state per member];  .restore(states)
        .layers                          the indices of the layers with dropout
    stream_for(spec, seeds, members=None) -> MaskStream or None
                                         fresh streams from the seeds (one per member);
                                         None for a spec without dropout
    CHUNK_ROWS                           rows of masks drawn and moved to the device at once
    ON_A_MESH                            the refusal of dropout on a JAX mesh (devices=)

The stream (the contract; nnxp.compat.network3 draws from it too): each member draws from its own
Generator, for each mini-batch in turn, for each layer with dropout in order,
``rng.random((rows, n_in)) >= p_dropout`` (one uniform per unit, kept with probability
1 - p_dropout; no rescaling: the evaluation path multiplies the weighted input by
1 - p_dropout, layers/dense.py).  So the same seed gives the same masks on every backend, a
member of a population draws exactly what the same network alone draws, and how the epoch is
cut into chunks changes nothing.  The last, smaller mini-batch of an epoch draws (rows', n_in)
with its own rows'.

Memory: the masks are bool (one byte per unit, not eight), and an engine draws them for about
CHUNK_ROWS rows (whole mini-batches) at a time and moves that chunk to the device: a chunk of
2048 rows of 1,000 units is 2 MB per layer and member, where an epoch of 250,000 expanded
MNIST images would be 250 MB in bool and 2 GB in float64.  The cost is one transfer per chunk
(not per mini-batch) and one float64 uniform per unit and mini-batch on the host.  The step
turns a mask into the compute dtype (layers/sequential.forward).
"""

from __future__ import annotations

import numpy as np

from .checks import show
from .errors import ConfigError

__all__ = ["has_dropout", "keep_mask", "mask_seed", "MaskStream", "stream_for", "CHUNK_ROWS",
           "ON_A_MESH"]

CHUNK_ROWS = 2048   # about this many rows (whole mini-batches) of masks are drawn at once
ON_A_MESH = ("dropout is not offered on a JAX mesh (devices=): its masks would have to be split "
             "like the mini-batch or the members; train a network with dropout on one device")


def has_dropout(spec) -> bool:
    return spec.layers is not None and any(l.p_dropout > 0 for l in spec.layers)


def keep_mask(rng, p_dropout, shape, out=None):
    """True with probability 1 - p_dropout: one uniform of ``rng`` per unit (into ``out``)."""
    return np.greater_equal(rng.random(shape), p_dropout, out=out)


def mask_seed(seed) -> np.random.SeedSequence:
    """The SeedSequence of a network's dropout masks (see the module docstring)."""
    return np.random.SeedSequence(seed).spawn(3)[2]


class MaskStream:
    """The dropout masks of a run (see the module docstring)."""

    def __init__(self, spec, rngs, members=None):
        if not has_dropout(spec):
            raise ConfigError("a MaskStream is for a network with dropout (a layer with "
                              "p_dropout > 0)")
        rngs = list(rngs)
        if len(rngs) != (members or 1) or not all(isinstance(r, np.random.Generator)
                                                  for r in rngs):
            raise ConfigError(f"dropout masks need one numpy.random.Generator per member "
                              f"({members or 1}), got {show(rngs)}")
        sizes = spec.sizes  # sizes[l] is layer l's input size (flat: Dense and Softmax)
        self.layers = tuple(l for l, layer in enumerate(spec.layers) if layer.p_dropout > 0)
        self._drops = [(l, sizes[l], spec.layers[l].p_dropout) for l in self.layers]
        self._n_layers, self.rngs, self.members = len(spec.layers), rngs, members

    def draw(self, count, rows) -> tuple:
        """The masks of the next ``count`` mini-batches of ``rows`` examples."""
        per_member = [self._one(rng, count, rows) for rng in self.rngs]
        masks = [None] * self._n_layers
        for j, l in enumerate(self.layers):
            parts = [m[j] for m in per_member]
            masks[l] = parts[0] if self.members is None else np.stack(parts, axis=1)
        return tuple(masks)

    def draw_on(self, backend, count, rows) -> tuple:
        """``draw(count, rows)``, each mask moved to ``backend``'s device (still bool)."""
        return tuple(None if k is None else backend.asarray(k) for k in self.draw(count, rows))

    def _one(self, rng, count, rows) -> list:
        """One member's masks, mini-batch by mini-batch, layer by layer (the stream's order)."""
        out = [np.empty((count, rows, n_in), dtype=bool) for _, n_in, _ in self._drops]
        for i in range(count):
            for j, (_, n_in, p) in enumerate(self._drops):
                keep_mask(rng, p, (rows, n_in), out=out[j][i])
        return out

    def states(self) -> list:
        return [rng.bit_generator.state for rng in self.rngs]

    def restore(self, states) -> None:
        """Each member's Generator set to its saved state (a resumed run goes on)."""
        if not isinstance(states, list) or len(states) != len(self.rngs):
            raise ConfigError(f"the saved dropout streams must be {len(self.rngs)} generator "
                              f"states, one per member, got {show(states)}")
        for rng, state in zip(self.rngs, states):
            rng.bit_generator.state = state


def stream_for(spec, seeds, members=None):
    """A MaskStream of fresh Generators, ``default_rng(mask_seed(s))`` for each seed (None
    without dropout)."""
    if not has_dropout(spec):
        return None
    return MaskStream(spec, [np.random.default_rng(mask_seed(s)) for s in seeds], members)
