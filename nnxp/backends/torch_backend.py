"""PyTorch, through array-api-compat's namespace: CPU, or CUDA with ``NNXP_DEVICE=cuda``.  Its
CPU thread count follows threads.py inside nnxp's calls (torch.set_num_threads, restored)."""

import contextlib
import warnings

import numpy as np

from ..checks import clip
from ..errors import BackendError
from .base import Backend
from .selection import import_library, split_device
from .threads import threads_for

__all__ = ["TorchBackend", "load"]


class TorchBackend(Backend):
    name = "torch"

    def asarray(self, host, dtype=None):
        import torch
        host = self.host(host, dtype)  # ascontiguousarray makes 0-d arrays 1-d: reshape back
        # read-only host data (data.py prepares it once) is shared, not copied: PyTorch warns
        # that writing to such a tensor is undefined, and nnxp never writes to its data
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The given NumPy array is not writable")
            return torch.from_numpy(np.ascontiguousarray(host).reshape(host.shape)).to(
                self.device)

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def owns(self, x):
        import torch
        return isinstance(x, torch.Tensor)

    def limit_threads(self, work=None):
        """torch.set_num_threads(threads.threads_for(work)) inside the context, the previous
        count restored on exit (PyTorch's intra-op pool: OpenMP and MKL)."""
        n = threads_for(work)
        if n is None or self.device.type != "cpu":
            return contextlib.nullcontext()
        return _torch_threads(n)

    def synchronize(self, x):
        if self.device.type == "cuda":
            import torch
            torch.cuda.synchronize(self.device)


@contextlib.contextmanager
def _torch_threads(n):
    import torch
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)


def load(device=None) -> TorchBackend:
    torch = import_library("torch")
    import array_api_compat.torch as xp
    kind, index = split_device(device, "cpu")  # the kind in any case, as JAX reads it
    kind = {"gpu": "cuda"}.get(kind, kind)
    spec = f"{kind}:{index}" if device and ":" in device else kind
    try:
        dev = torch.device(spec)
        if dev.type not in ("cpu", "cuda", "mps", "xpu"):
            raise RuntimeError(f"device type {dev.type!r} holds no data nnxp can train on")
        if dev.type == "cpu":  # torch keeps its data on "cpu", whatever index it was given
            if dev.index not in (None, 0):
                raise RuntimeError("torch has one CPU device, 'cpu' (or 'cpu:0')")
            dev = torch.device("cpu")
        torch.empty(0, device=dev)
    except (RuntimeError, AssertionError) as exc:
        raise BackendError(f"torch cannot use device {spec!r}: {clip(exc)}") from None
    return TorchBackend(xp, dev)
