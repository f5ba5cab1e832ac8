"""PyTorch, through array-api-compat's namespace: CPU, or CUDA with ``NNXP_DEVICE=cuda``."""

import numpy as np

from ..errors import BackendError
from .base import Backend
from .selection import import_library

__all__ = ["TorchBackend", "load"]


class TorchBackend(Backend):
    name = "torch"

    def asarray(self, host, dtype=None):
        import torch
        host = self.host(host, dtype)  # ascontiguousarray makes 0-d arrays 1-d: reshape back
        return torch.from_numpy(np.ascontiguousarray(host).reshape(host.shape)).to(self.device)

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def owns(self, x):
        import torch
        return isinstance(x, torch.Tensor)

    def synchronize(self, x):
        if self.device.type == "cuda":
            import torch
            torch.cuda.synchronize(self.device)


def load(device=None) -> TorchBackend:
    torch = import_library("torch")
    import array_api_compat.torch as xp
    spec = device or "cpu"
    kind, sep, rest = spec.partition(":")
    spec = {"gpu": "cuda"}.get(kind, kind) + sep + rest
    try:
        dev = torch.device(spec)
        if dev.type not in ("cpu", "cuda", "mps", "xpu"):
            raise RuntimeError(f"device type {dev.type!r} holds no data nnxp can train on")
        torch.empty(0, device=dev)
    except (RuntimeError, AssertionError) as exc:
        raise BackendError(f"torch cannot use device {spec!r}: {str(exc)[:200]}") from None
    return TorchBackend(xp, dev)
