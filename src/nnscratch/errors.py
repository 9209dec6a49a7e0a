"""The library's exception classes.

Every error nnscratch raises derives from :class:`NNScratchError` and also from the builtin
it refines (``ValueError``, ``TypeError``, ``OSError``...), so ``except ValueError`` keeps
working for callers who do not know our names. Messages say what was expected, what came in,
and where.
"""


class NNScratchError(Exception):
    """Base class of all nnscratch errors."""


class DataError(NNScratchError, ValueError):
    """Input data of the wrong shape, dtype or content (NaN, inf, strings, ragged rows)."""


class DataTypeError(NNScratchError, TypeError):
    """Input data of a type that cannot be read as numbers at all."""


class ShapeError(DataError):
    """An array whose shape does not fit where it is used."""


class ConfigError(NNScratchError, ValueError):
    """A bad hyperparameter or an unknown name (activation, loss, optimizer, layer...)."""


class NotBuiltError(NNScratchError, RuntimeError):
    """A layer or network used before its shapes are known."""


class ResourceError(NNScratchError, MemoryError):
    """A model or a batch that needs more memory than the machine has available."""


class TrainingError(NNScratchError, FloatingPointError):
    """Training diverged: a loss or gradient became NaN or infinite."""


class ModelFileError(NNScratchError, OSError):
    """A model file that is missing, truncated, corrupt or inconsistent."""


class ExportError(NNScratchError, ValueError):
    """A model that cannot be exported (for instance a layer ONNX cannot express)."""


class MissingDependencyError(NNScratchError, ImportError):
    """An optional extra (matplotlib, onnx, ...) that a feature needs is not installed."""


class GradientCheckError(NNScratchError, AssertionError):
    """An analytic gradient that disagrees with its central-difference estimate."""


def require(module_name, extra, feature):
    """Import an optional dependency or raise :class:`MissingDependencyError` saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module_name)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"{feature} needs the optional package '{module_name}', which is not installed; "
            f"install it with: pip install 'nnscratch[{extra}]'"
        ) from exc
