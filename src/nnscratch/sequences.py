"""Sequences of different lengths made into one array: :func:`pad_sequences`, as Keras's.

A batch holds sequences of one length T, so shorter ones are padded with a value that marks
padding, and layers that make masks (``Embedding(mask_zero=True)`` for id 0, ``Masking`` for its
``mask_value``; see :mod:`nnscratch.layers.masking`) tell the rest of the model which steps are
real::

    x = ns.sequences.pad_sequences([[3, 1, 4], [1, 5], [9]], padding="post")
    # [[3, 1, 4], [1, 5, 0], [9, 0, 0]]

A model whose first layers make masks also takes the list itself in ``fit``, ``predict`` and
``evaluate``: :func:`pad_ragged` pads it at the end (``padding="post"``) with the value those
layers mask, to the model's sequence length.
"""

import numpy as np

from . import checks
from .errors import ConfigError, DataError, DataTypeError, ShapeError

__all__ = ["pad_sequences", "pad_ragged", "is_sequence_list"]

SIDES = ("pre", "post")


def _as_sequence(item, index, name):
    """One sequence as an array of at least one axis (its steps), or a clear error."""
    try:
        array = np.asarray(item)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}[{index}] is not a sequence of numbers or of equally shaped "
                        f"steps: {exc}") from None
    if array.ndim == 0:
        raise DataTypeError(f"{name} must be a list of sequences (iterables), got "
                            f"{type(item).__name__} {item!r} at index {index}")
    if array.dtype.kind not in "biuf" and array.size:
        raise DataTypeError(f"{name}[{index}] must hold numbers, got dtype {array.dtype}")
    return array


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0):
    """Pad (and cut) sequences to one length: an array (N, maxlen, ...), Keras's function.

    Parameters
    ----------
    sequences : list of sequences
        Each a list or array of steps; a step is a number or an array (every step of every
        sequence of one shape). Empty sequences are all padding.
    maxlen : int, optional
        The length of the result; the longest sequence's length when None.
    dtype : str or dtype
        Of the result (``"int32"`` by default, for token ids); values are cast as NumPy casts
        them (so floats into an integer dtype lose their fractions, as in Keras).
    padding : "pre" (default) or "post"
        Pad at the start or at the end of each sequence.
    truncating : "pre" (default) or "post"
        Cut a sequence longer than ``maxlen`` at the start (keep its end) or at the end.
    value : number
        What padded steps hold.

    Returns
    -------
    numpy.ndarray
        Shaped (len(sequences), maxlen) + the shape of a step.
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise DataTypeError(f"pad_sequences expects a list of sequences, got "
                            f"{type(sequences).__name__}")
    padding = checks.choice(padding, "pad_sequences padding", SIDES)
    truncating = checks.choice(truncating, "pad_sequences truncating", SIDES)
    maxlen = checks.optional_positive_int(maxlen, "pad_sequences maxlen")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ConfigError(f"pad_sequences dtype must be a NumPy number type such as 'int32' or "
                          f"'float32', got {dtype!r}") from None
    if dtype.kind not in "biuf":
        raise ConfigError(f"pad_sequences dtype must be a number type, got {dtype}")
    value = checks.number(value, "pad_sequences value")
    arrays = [_as_sequence(item, i, "sequences") for i, item in enumerate(sequences)]
    step_shape = next((a.shape[1:] for a in arrays if len(a)), ())
    if maxlen is None:
        if not arrays:
            raise DataError("pad_sequences needs at least one sequence, or maxlen, got none")
        maxlen = max(len(a) for a in arrays)
    out = np.full((len(arrays), maxlen) + step_shape, value, dtype=dtype)
    for i, array in enumerate(arrays):
        if not len(array):
            continue                                   # all padding
        if array.shape[1:] != step_shape:
            raise ShapeError(f"pad_sequences expects steps of one shape {step_shape}, got "
                             f"{array.shape[1:]} in sequence {i}")
        kept = array[-maxlen:] if truncating == "pre" else array[:maxlen]
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out


def is_sequence_list(data):
    """Whether ``data`` is a list (or tuple) of sequences: lists, tuples or arrays of steps."""
    return (isinstance(data, (list, tuple)) and len(data) > 0
            and all(isinstance(item, (list, tuple))
                    or (isinstance(item, np.ndarray) and item.ndim >= 1) for item in data))


def pad_ragged(data, value, length=None, name="x"):
    """``data`` padded at the end with ``value`` to ``length`` steps when it is a list of
    sequences and ``value`` is not None; anything else is returned unchanged.

    How ``fit``/``predict``/``evaluate`` take a list of sequences of different lengths for a
    model whose first layers make masks: ``value`` is the padding they mask (0 for
    ``Embedding(mask_zero=True)``), ``length`` the model's sequence length (None before the
    model is built: the longest sequence). End padding keeps each sequence's real steps first,
    which a recurrent layer read backwards and the ONNX export need. A sequence longer than
    ``length`` is a ShapeError: cut it first with :func:`pad_sequences` (``maxlen``,
    ``truncating``).
    """
    if value is None or not is_sequence_list(data):
        return data
    for i, item in enumerate(data):
        if length is not None and len(item) > length:
            raise ShapeError(f"{name}[{i}] has {len(item)} steps, more than the model's sequence "
                             f"length {length}; cut the sequences to it first, e.g. "
                             f"pad_sequences(x, maxlen={length}, truncating='post')")
    return pad_sequences(data, maxlen=length, dtype="float64", padding="post",
                         truncating="post", value=value)
