"""The JAX engine on a device mesh (backends/jax_mesh.py's MeshBackend offers it as "jax").

    JaxMeshEngine        engines/jax_scan.py's compiled epoch, with the parameters and the
                         optimizer state placed on the mesh at every epoch (a no-op when they
                         are there: ``backend.place``) and programs keyed by sharding too

The layouts (data parallel, members split) and why they give one device's numbers are the
backend's business: see backends/jax_mesh.py.  Dropout is not offered on a mesh (its masks
would have to be split like the mini-batch rows or the members): a network with dropout gets a
ConfigError here (train.fit refuses ``devices=`` for it before training).
"""

import jax

from ..errors import ConfigError
from ..masks import ON_A_MESH
from .jax_scan import JaxScanEngine

__all__ = ["JaxMeshEngine"]


class JaxMeshEngine(JaxScanEngine):
    """The compiled epoch on a mesh (see the module docstring)."""

    name = "jax"

    def run_epoch(self, transform, params, state, data, order, mini_batch_size, every=None,
                  on_chunk=None, masks=None):
        if masks is not None:
            raise ConfigError(ON_A_MESH)
        place = self.backend.place
        return super().run_epoch(transform, place(params), place(state), data, order,
                                 mini_batch_size, every, on_chunk)

    def _signature(self, args):
        return tuple((a.shape, a.dtype, a.sharding) for a in jax.tree_util.tree_leaves(args))
