"""What every reader and writer of model files shares.

- the format's name and version, written in the file's ``__metadata__``;
- :func:`is_network`, the check that an object is a model (saving never imports
  :mod:`nnscratch.models`, which sits above it, so it checks what a model has), and
  :func:`is_stack`, whether it is a stack of layers (a Network) or a graph (a Model);
- :func:`named_arrays`, the ``"<layer>.<key>"`` names of a network's tensors;
- :func:`is_shape`, the check of a sample shape read from a file, and :func:`stored_shape`, how
  one is written;
- strict JSON both ways: :func:`loads_strict` refuses duplicate keys, NaN and overflowing numbers
  when reading; :func:`json_safe` and :func:`dumps` refuse what would not come back the same;
- :class:`FileCheck`, the failing check that names the file in every
  :class:`~nnscratch.errors.ModelFileError`, and :func:`short`, how a message quotes a value;
- the bounds of user metadata (:func:`metadata_problem`: at most :data:`MAX_METADATA_DEPTH`
  levels of nesting, :data:`MAX_METADATA_ITEMS` values, :data:`MAX_METADATA_BYTES` of JSON);
- :func:`nonfinite`, which finds NaN and infinite values in tensors (refused by ``save``,
  ``load`` and ``Network.set_weights`` unless ``allow_nonfinite=True``).
"""

import json
import math

import numpy as np

from ..checks import is_whole
from ..errors import ConfigError, ModelFileError

FORMAT_NAME = "nnscratch"
FORMAT_VERSION = 1

MAX_METADATA_DEPTH = 32                 # levels of dicts and lists in user metadata
MAX_METADATA_ITEMS = 1_000_000          # values (items of dicts and lists) in user metadata
MAX_METADATA_BYTES = 4 * 1024 * 1024    # its compact JSON text
NONFINITE_CHUNK = 1 << 20               # values checked at a time (bounds the temporary mask)
MAX_NDIM = 32                           # axes of a sample shape read from a file

# What save and export use of a network; anything lacking one of these is not a network.
NETWORK_ATTRIBUTES = ("layers", "loss", "optimizer", "metrics", "dtype", "input_shape")


def is_network(value):
    """Whether ``value`` has what a model (:class:`~nnscratch.Network` or
    :class:`~nnscratch.Model`) has: its layers, loss, optimizer..."""
    return not isinstance(value, type) and all(hasattr(value, a) for a in NETWORK_ATTRIBUTES)


def is_stack(model):
    """Whether ``model`` is a stack of layers, a :class:`~nnscratch.Network` (rebuilt from its
    list of layers; its class sets ``is_stack = True``), rather than a graph of layer calls
    (a :class:`~nnscratch.Model`, rebuilt from its graph)."""
    return getattr(model, "is_stack", False) is True


def is_shape(value, free=False):
    """Whether ``value`` (read from a file) is a sample shape: a non-empty list of at most
    :data:`MAX_NDIM` positive integers; with ``free=True`` (a model's input shape) an entry may
    also be null, a free axis (the length of sequences), which the layers then take or refuse
    when the model is rebuilt (:mod:`nnscratch.symbolic`)."""
    return (isinstance(value, list) and 0 < len(value) <= MAX_NDIM
            and all((is_whole(s) and s > 0) or (free and s is None) for s in value))


def stored_shape(shape):
    """A sample shape as a file stores it: a list of ints, null for a free axis (None)."""
    return [None if s is None else int(s) for s in shape]


def named_arrays(network, buffers=True):
    """``{"<layer>.<key>": array}``: every layer's parameters (and buffers), in layer order."""
    return {f"{layer.name}.{key}": value for layer in network.layers
            for key, value in (*layer.params.items(),
                               *(layer.buffers.items() if buffers else ()))}


def nonfinite(named):
    """``"'d.W' holds 3 NaN or infinite values"`` for the first float array of ``named``
    (``(name, array)`` pairs) that has any, else None. Checked in chunks: no full-size mask."""
    for name, array in named:
        array = np.asarray(array)
        if array.dtype.kind not in "fc":
            continue
        flat = array.reshape(-1)
        count = sum(int(np.count_nonzero(~np.isfinite(flat[i:i + NONFINITE_CHUNK])))
                    for i in range(0, flat.size, NONFINITE_CHUNK))
        if count:
            return f"{name!r} holds {count} NaN or infinite value{'s' if count > 1 else ''}"
    return None


def metadata_problem(value):
    """Why user metadata ``value`` is too deep or too big to keep, or None.

    Walks with a stack, never recursion, so a structure nested thousands deep (or one that
    contains itself) is measured, not followed to a RecursionError.
    """
    stack, items = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            if depth > MAX_METADATA_DEPTH:
                return f"is nested deeper than {MAX_METADATA_DEPTH} levels of dicts and lists"
            items += len(item)
            if items > MAX_METADATA_ITEMS:
                return f"holds more than {MAX_METADATA_ITEMS} values"
            stack.extend((child, depth + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return None


def short(value, limit=200):
    """How a message quotes ``value``: its repr (an exception's text), cut at ``limit`` chars."""
    text = str(value) if isinstance(value, Exception) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def is_decimal(value):
    """Whether ``value`` is a string of decimal digits with an optional minus, at most 200 long.

    Integers too wide for every JSON reader (128-bit generator states) are stored this way.
    """
    return (isinstance(value, str) and 0 < len(value) <= 200 and value.isascii()
            and (value.isdigit() or (len(value) > 1 and value[0] == "-" and value[1:].isdigit())))


class FileCheck:
    """The checks of one file: every failure is a ModelFileError naming ``source``."""

    def __init__(self, source):
        self.source = source

    def fail(self, message, cause=None):
        """Raise ``ModelFileError("model file '<source>': <message>")`` (from ``cause``)."""
        raise ModelFileError(f"model file {self.source!r}: {message}") from cause

    def expect(self, condition, message):
        """:meth:`fail` with ``message`` unless ``condition`` holds."""
        if not condition:
            self.fail(message)

    def tensor(self, name, tensor, shape, dtype):
        """Fail unless ``tensor`` has exactly ``shape`` and ``dtype`` (byte order aside)."""
        if tensor.shape != tuple(shape):
            self.fail(f"tensor {name!r} has shape {tensor.shape}, the architecture needs "
                      f"{tuple(shape)}")
        if tensor.dtype.newbyteorder("=") != np.dtype(dtype).newbyteorder("="):
            self.fail(f"tensor {name!r} is {tensor.dtype.name}, the network needs "
                      f"{np.dtype(dtype).name}")


# ---------------------------------------------------------------------------------------------
# Strict JSON, reading
# ---------------------------------------------------------------------------------------------

class _JSONProblem(ValueError):
    """Raised inside the JSON hooks; turned into ModelFileError with the file's name."""


def _object_without_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _JSONProblem(f"duplicate key {key!r} in a JSON object")
        seen[key] = value
    return seen


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise _JSONProblem(f"number {text[:40]} is out of range")
    return value


def _reject_constant(name):
    raise _JSONProblem(f"{name} is not valid JSON")


def loads_strict(text, where, source):
    """``json.loads`` that rejects duplicate keys, NaN/Infinity and overflowing numbers.

    ``where`` says which part of ``source`` (a file name) is parsed, for the message.
    """
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicates,
                          parse_float=_finite_float, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:   # JSONDecodeError, _JSONProblem, digit limit
        FileCheck(source).fail(f"the {where} is not valid JSON: {short(exc)}")


# ---------------------------------------------------------------------------------------------
# Strict JSON, writing
# ---------------------------------------------------------------------------------------------

def json_safe(value, what):
    """``value`` with numpy arrays/scalars turned into lists/numbers; ConfigError if not JSON."""
    def convert(obj):
        if isinstance(obj, (np.ndarray, np.generic)):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} {obj!r} is not JSON-serialisable")

    try:
        text = json.dumps(value, default=convert, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"cannot save {what}: {exc} (only strings, finite numbers, booleans, "
                          "None, lists and dicts with string keys can be stored)") from None
    result = json.loads(text)
    if _has_non_string_keys(value):
        raise ConfigError(f"cannot save {what}: dict keys must be strings (JSON would turn "
                          "them into strings and the loaded model would differ)")
    return result


def _has_non_string_keys(value):
    if isinstance(value, dict):
        return (any(not isinstance(k, str) for k in value)
                or any(_has_non_string_keys(v) for v in value.values()))
    if isinstance(value, (list, tuple)):
        return any(_has_non_string_keys(v) for v in value)
    return False


def dumps(value, what):
    """Compact JSON text of ``value`` (already JSON-safe); ConfigError naming ``what`` if not."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot save {what}: {exc}") from None
