"""One exception family for everything nnxp refuses.

    NNXPError            base class; a ValueError, so ``except ValueError`` still works
    BackendError         a backend that is unknown, not installed, or has no device
    DataError            training / evaluation data of the wrong shape, range or content
    ConfigError          hyper-parameters and names that make no sense (sizes, eta, cost, ...)
    InputTypeError       an argument of the wrong Python type (also a TypeError)
    FileError            a file nnxp cannot write (a directory, read-only, disk full...); also
                         an OSError carrying ``errno`` and ``filename``

Every message says what was expected and what was given, and is raised at the public boundary
(``Network``, ``SGD``, ``load``, ``use_backend``), never from deep inside an array library.
"""

__all__ = ["NNXPError", "BackendError", "DataError", "ConfigError", "InputTypeError",
           "FileError"]


class NNXPError(ValueError):
    """Base class of every error nnxp raises on purpose."""


class BackendError(NNXPError):
    """The requested backend is unknown, not installed, or has no usable device."""


class DataError(NNXPError):
    """Data whose shape, length, dtype, range or values do not fit the network."""


class ConfigError(NNXPError):
    """A hyper-parameter, size or name that nnxp cannot use."""


class InputTypeError(NNXPError, TypeError):
    """An argument of a Python type nnxp does not accept."""


class FileError(NNXPError, OSError):
    """A file nnxp cannot write: the message names the path and the reason; ``errno`` and
    ``filename`` are set as on the OSError behind it, so ``except OSError`` still works."""

    def __init__(self, message: str, *, filename=None, errno=None):
        super().__init__(message)
        self.filename, self.errno = filename, errno

    def __str__(self) -> str:
        return self.args[0]
