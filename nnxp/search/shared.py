"""The search's host data in memory shared with the local worker processes.

    SharedData(data, context)     data: ((X, Y), (Xv, Yv)), host NumPy arrays; copies them once
                                  into one shared buffer (``context.RawArray``)
    .arrays() -> ((X, Y), (Xv, Yv))
                                  in a worker: its own read-only copies, owning their memory

Why: a worker started with "spawn" receives its initializer's arguments through a pipe that
the searching process writes while the worker starts.  Arrays sent that way (megabytes) block
the searching process until that worker has started Python, imported the main script and nnxp
and read them, so the second worker was started only then, a whole start-up after the first
(and the first round waited for it).  A SharedData pickles to the buffer's file
descriptor and the arrays' shapes: the pipe write is small, every worker starts at once, and
each reads the data from the shared pages.

The buffer is multiprocessing's: a file in /dev/shm when it has room (else in the temporary
folder), unlinked as soon as it is made, so nothing is left behind however the search ends; the
memory is freed when the searching process drops the SharedData and the workers have ended.
A worker copies the arrays into memory of its own (one copy, once, when it starts) so that they
own their memory and are read-only (nnxp.data's ``frozen``): nnxp.data then checks and prepares
them once per worker and backend, as the arrays a worker used to receive.
"""

from __future__ import annotations

import ctypes

import numpy as np

__all__ = ["SharedData"]


class SharedData:
    """Host arrays in one shared buffer (see the module docstring); pickles only to a process
    being spawned (multiprocessing passes the buffer's file descriptor to it)."""

    def __init__(self, data, context):
        flat = [np.ascontiguousarray(a) for pair in data for a in pair]
        self.layout = [(a.shape, a.dtype.str) for a in flat]
        self.offsets = list(np.cumsum([0] + [_aligned(a.nbytes) for a in flat]))
        self.buffer = context.RawArray(ctypes.c_uint8, max(int(self.offsets[-1]), 1))
        for a, view in zip(flat, self._views()):
            view[...] = a

    def _views(self) -> list:
        memory = np.frombuffer(self.buffer, np.uint8)
        return [memory[int(start):int(start) + int(np.prod(shape, dtype=np.int64)) *
                       np.dtype(dtype).itemsize].view(dtype).reshape(shape)
                for (shape, dtype), start in zip(self.layout, self.offsets)]

    def arrays(self) -> tuple:
        copies = [view.copy() for view in self._views()]
        for a in copies:
            a.flags.writeable = False
        return (tuple(copies[:2]), tuple(copies[2:]))


def _aligned(nbytes, to=64) -> int:
    return -(-int(nbytes) // to) * to
