"""JAX device meshes: one network trained data-parallel over several devices, or a population's
members split across them, with ``jax.sharding``.  Imported by the JAX backend only when
``devices=`` asks for a mesh, after JAX was found.

    mesh_backend(backend, devices, *, members=None, mini_batch_size=None) -> MeshBackend
        ``devices``: a number n (the first n devices of the backend's platform) or a list of
        jax devices; ``members`` None for one network, K for a population
    MeshBackend          the JAX backend with its arrays on the mesh (``backend.device`` is
                         the replicated NamedSharding, so ``asarray`` copies to every device)
        .place(tree)             parameters / optimizer state onto the mesh (see below)
        .place_data(dataset)     a Dataset, replicated on every device
        .home_tree(tree)         arrays back on the backend's own single device
    its engine           "jax": engines/jax_mesh.py's JaxMeshEngine, the JAX engine
                         (engines/jax_scan.py: the epoch as one lax.scan) on a mesh, found by
                         name through ``engines`` (backends never import engines)

Two layouts, chosen by the shell that trains (``SGD(..., devices=...)``):

  one network, data parallel (mesh axis "data", D devices): parameters, optimizer state and the
      data are replicated on every device.  Each mini-batch of m rows is split into D blocks of
      m/D rows (``jax.shard_map``): every device backpropagates its block with the scale 1/m, the
      D partial gradients are summed across devices (``lax.psum``, an all-reduce that XLA
      performs), and every device applies the same update, so the replicas stay equal.  The
      gradients come from nnxp's backprop, not from ``jax.grad``, so no implicit reduction
      happens inside shard_map: the psum is the only one (a test compares one step with the
      single-device gradient; an extra pmean would show as a factor of D).  m must be a multiple
      of D (ConfigError otherwise).  The last, smaller mini-batch of an epoch (when m does not
      divide n) is split the same way if D divides its size, else every device computes it
      whole (the same arithmetic as one device; one small batch per epoch).
  a population, members split (mesh axis "members"): every parameter and optimizer-state array
      with the leading member axis K is split over the devices (``NamedSharding(mesh,
      P("members"))``, K/D members each), everything else is replicated, and XLA partitions the
      unchanged step: each device trains its members on the shared mini-batches, with no
      communication.  K must be a multiple of D.

Same numbers as one device, to rounding: the data-parallel sum adds the D partial gradients in
another order (float32: within 1e-5; float64: 1e-12); the member split changes nothing in any
member's arithmetic.  Training (train.fit) moves the parameters to the mesh when it starts and
back to their own device when it ends.
"""

from __future__ import annotations

import numbers

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..checks import show
from ..core import gradient, make_step
from ..errors import ConfigError
from ..optimizers import apply_updates
from .base import Backend

__all__ = ["MeshBackend", "mesh_backend", "resolve_devices"]


class MeshBackend(Backend):
    """JAX on a mesh of devices (see the module docstring): the JAX backend ``home`` with
    ``device`` the replicated sharding of the mesh."""

    name = "jax"
    engines = {"jax": "jax_mesh.JaxMeshEngine"}

    def __init__(self, home, devices, members=None):
        self.home = home
        self.devices = tuple(devices)
        self.members = members
        self.axis = "data" if members is None else "members"
        self.mesh = Mesh(np.array(self.devices, dtype=object), (self.axis,))
        super().__init__(home.xp, NamedSharding(self.mesh, PartitionSpec()))
        self._split = NamedSharding(self.mesh, PartitionSpec(self.axis))

    def __eq__(self, other):
        return (type(self) is type(other) and self.axis == other.axis
                and self.devices == other.devices)

    def __hash__(self):
        return hash((type(self), self.axis, tuple(d.id for d in self.devices)))

    def __repr__(self):
        return f"MeshBackend({self.describe()!r})"

    # -- as the JAX backend, on the mesh ----------------------------------------------------
    def asarray(self, host, dtype=None):
        return jax.device_put(self.host(host, dtype), self.device).block_until_ready()

    def to_numpy(self, x):
        return self.home.to_numpy(x)

    def owns(self, x):
        return self.home.owns(x)

    def synchronize(self, x):
        self.home.synchronize(x)

    def compile(self, fn):
        return self.home.compile(fn)

    def enable_float64(self):
        self.home.enable_float64()

    def single(self):
        return self.home

    def engine_path(self, name=None) -> str:
        """Only the compiled "jax" engine runs on a mesh (None: it)."""
        if name is None or (isinstance(name, str) and name in self.engines):
            return super().engine_path(name)
        raise ConfigError(f"engine {show(name)} does not run on a device mesh ({self.describe()}"
                          "): devices= trains with engine='jax' only; leave engine out or give "
                          "engine='jax' (a run resumed with devices= keeps its checkpoint's "
                          "engine: resume(..., engine='jax', devices=...))")

    def describe(self) -> str:
        layout = "data parallel" if self.members is None else f"{self.members} members split"
        ids = ", ".join(str(d.id) for d in self.devices)
        return (f"jax on {len(self.devices)} {self.devices[0].platform} devices ({ids}), "
                f"{layout}")

    # -- placement ------------------------------------------------------------------------
    def place(self, tree):
        """Parameters or optimizer state on the mesh: split by member (members layout: arrays
        whose leading axis is the population's K), else replicated."""
        def put(a):
            split = (self.members is not None and a.ndim >= 1 and a.shape[0] == self.members)
            return jax.device_put(a, self._split if split else self.device)
        return jax.tree_util.tree_map(put, tree)

    def place_data(self, data):
        """A Dataset replicated on every device of the mesh (None stays None)."""
        if data is None:
            return None
        x, y, labels = (jax.device_put(a, self.device) for a in (data.x, data.y, data.labels))
        return data._replace(x=x, y=y, labels=labels)

    def home_tree(self, tree):
        """Arrays back on the single device of the backend the network came from."""
        return jax.tree_util.tree_map(lambda a: jax.device_put(a, self.home.device), tree)

    # -- the step -------------------------------------------------------------------------
    def make_step(self, spec, transform):
        if self.members is not None:
            return make_step(spec, transform)
        return _data_parallel_step(spec, transform, self.mesh, len(self.devices))


def _data_parallel_step(spec, transform, mesh, n_devices):
    """The core step with the gradient computed block by block across the devices."""
    P = PartitionSpec

    def step(params, state, x, y):
        m = x.shape[0]
        if m % n_devices:  # a last, smaller mini-batch D does not divide: computed whole
            grads = gradient(spec, params, x, y, scale=1.0 / m)
        else:
            def block(params, x, y):
                if spec.layers is not None:  # see _varying
                    params = _varying(params)
                part = gradient(spec, params, x, y, scale=1.0 / m)
                return jax.lax.psum(part, "data")
            grads = jax.shard_map(block, mesh=mesh, in_specs=(P(), P("data"), P("data")),
                                  out_specs=P())(params, x, y)
        updates, state = transform.update(grads, state, params)
        return apply_updates(params, updates), state

    return step


def _varying(params):
    """The replicated parameters marked as varying over the "data" axis inside shard_map: a
    layer's JAX primitive (conv_jax.py) takes its weight gradient by jax.vjp, whose transpose
    would otherwise sum the cotangent of an unvarying input over the devices itself (the
    gradient then summed twice, once there and once by our psum)."""
    cast = getattr(jax.lax, "pcast", None)
    if cast is not None:
        return jax.tree_util.tree_map(lambda a: cast(a, "data", to="varying"), params)
    return jax.tree_util.tree_map(lambda a: jax.lax.pvary(a, "data"), params)


def resolve_devices(backend, devices) -> list:
    """``devices`` (a count, or a list of jax devices) as a list of distinct devices."""
    platform = backend.device.platform
    available = jax.devices(platform)
    if isinstance(devices, numbers.Integral) and not isinstance(devices, bool):
        if not 1 <= devices <= len(available):
            raise ConfigError(
                f"devices={show(devices)}: JAX has {len(available)} {platform} device(s) here "
                f"({', '.join(str(d) for d in available[:8])}); on a CPU, more can be made for "
                "testing with XLA_FLAGS=--xla_force_host_platform_device_count=N set before "
                "JAX starts")
        return list(available[:devices])
    if isinstance(devices, (str, bytes, dict)) or not hasattr(devices, "__iter__") \
            or getattr(devices, "ndim", None) == 0:  # a 0-d array iterates only to fail
        raise ConfigError(f"devices must be a number of devices or a list of jax devices "
                          f"(e.g. jax.devices()), got {type(devices).__name__}: "
                          f"{show(devices)}")
    chosen = list(devices)
    if not chosen or not all(isinstance(d, jax.Device) for d in chosen):
        raise ConfigError(f"devices must list jax devices (e.g. jax.devices()[:4]), got "
                          f"{show(chosen)}")
    if len({d.id for d in chosen}) != len(chosen) or \
            len({d.platform for d in chosen}) != 1:
        raise ConfigError(f"devices must be distinct devices of one platform, got "
                          f"{show(chosen)}")
    return chosen


def mesh_backend(backend, devices, *, members=None, mini_batch_size=None) -> MeshBackend:
    """The mesh for training on ``devices`` (see the module docstring); every argument
    checked, with errors saying what divides what."""
    chosen = resolve_devices(backend, devices)
    d = len(chosen)
    if members is None and mini_batch_size is not None and mini_batch_size % d:
        raise ConfigError(f"data-parallel training splits each mini-batch over the devices: "
                          f"mini_batch_size={mini_batch_size} does not divide over {d} devices; "
                          f"use a multiple of {d} (e.g. {d * max(1, round(mini_batch_size / d))})"
                          " or fewer devices")
    if members is not None and members % d:
        raise ConfigError(f"a population's members are split evenly over the devices: "
                          f"{members} members do not divide over {d} devices; use a multiple "
                          f"of {d} members or {', '.join(str(k) for k in range(1, d + 1) if members % k == 0)} "
                          "devices")
    return MeshBackend(backend, chosen, members)
