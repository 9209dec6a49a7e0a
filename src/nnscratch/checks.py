"""Argument checks with one behaviour everywhere: numbers, whole numbers, flags and choices.

Every hyperparameter a user passes (a learning rate, a kernel size, ``from_logits``) goes through
one of these functions, so the same kind of value is accepted or refused the same way in every
class:

- a **number** is a Python or NumPy int or float, never a bool and never a string
  (``SGD(learning_rate="0.1")`` and ``Huber(delta="2")`` are both refused); it is finite unless
  ``allow_inf=True``; it comes back as a Python ``float``;
- a **whole number** is a Python or NumPy integer, never a bool or a float; it comes back as an
  ``int``;
- a **flag** is ``True`` or ``False`` (a NumPy bool too), never ``0``, ``1`` or ``"no"``;
- a **choice** is one of a fixed set of strings.

A refused value raises :class:`~nnscratch.errors.ConfigError` saying what was expected and what
came in::

    >>> number("0.1", "SGD learning_rate", low=0, low_open=True)
    Traceback (most recent call last):
    ...
    nnscratch.errors.ConfigError: SGD learning_rate must be a number > 0, got '0.1' (str)
"""

import math
import numbers

import numpy as np

from .errors import ConfigError


def is_number(value):
    """Whether ``value`` is a real number (int or float, Python or NumPy) and not a bool."""
    return (isinstance(value, (numbers.Real, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def is_whole(value):
    """Whether ``value`` is an integer (Python or NumPy) and not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _shown(value):
    """``'0.1' (str)``: the value and, where its repr hides it, its type."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    plain = type(value) in (int, float) or isinstance(value, (np.integer, np.floating))
    return text if plain else f"{text} ({type(value).__name__})"


def _range_text(kind, low, high, low_open, high_open):
    """``a number in [0, 1)``, ``a number > 0``, ``an integer >= 1``..."""
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f"{kind} in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return kind


def _inside(value, low, high, low_open, high_open):
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    return above and below


def number(value, what, low=None, high=None, low_open=False, high_open=False, allow_inf=False):
    """``value`` as a Python float in the given range, or ConfigError naming ``what``.

    ``low``/``high`` bound the range (``None``: unbounded), closed unless ``low_open`` /
    ``high_open``. NaN is always refused; infinities only pass with ``allow_inf=True``.
    """
    kind = "a finite number" if low is None and high is None and not allow_inf else "a number"
    wanted = _range_text(kind, low, high, low_open, high_open)
    if not is_number(value):
        raise ConfigError(f"{what} must be {wanted}, got {_shown(value)}")
    result = float(value)
    if math.isnan(result) or (math.isinf(result) and not allow_inf) \
            or not _inside(result, low, high, low_open, high_open):
        raise ConfigError(f"{what} must be {wanted}, got {_shown(value)}")
    return result


def integer(value, what, low=None, high=None):
    """``value`` as a Python int in ``[low, high]``, or ConfigError naming ``what``."""
    if low == 1 and high is None:
        wanted = "a positive integer"
    else:
        wanted = _range_text("an integer", low, high, False, False)
    if not is_whole(value) or not _inside(value, low, high, False, False):
        raise ConfigError(f"{what} must be {wanted}, got {_shown(value)}")
    return int(value)


def positive_int(value, what):
    """``value`` as an int >= 1 (a size, a count, a number of units)."""
    return integer(value, what, low=1)


def optional_positive_int(value, what):
    """``None``, or ``value`` as an int >= 1."""
    return None if value is None else positive_int(value, what)


def seed(value, what="seed"):
    """A random seed: ``None`` or an integer in [0, 2**63), as NumPy's generators take."""
    if value is None:
        return None
    if not is_whole(value) or not 0 <= value < 2**63:
        raise ConfigError(f"{what} must be None or an integer in [0, 2**63), got {_shown(value)}")
    return int(value)


def boolean(value, what):
    """``value`` as a Python bool: only ``True`` or ``False`` (NumPy bools too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{what} must be True or False, got {_shown(value)}")
    return bool(value)


def choice(value, what, options, normalize=None):
    """``value`` if it is one of ``options`` (strings), else ConfigError listing them.

    ``normalize`` (for example ``str.lower``) respells a string before the comparison; the
    respelled value is returned.
    """
    if isinstance(value, str):
        key = normalize(value) if normalize else value
        if key in options:
            return key
    listed = ", ".join(repr(option) for option in options)
    raise ConfigError(f"{what} must be one of {listed}, got {_shown(value)}")


def int_tuple(value, what, length, low=1):
    """An int or a sequence of ``length`` ints, each >= ``low``, as a tuple of ``length`` ints.

    ``kernel_size=3`` for a 2-D layer becomes ``(3, 3)``; ``(3, 5)`` stays; ``(3,)``, ``"3"`` and
    ``(3, 0)`` are refused.
    """
    if is_whole(value):
        items = (value,) * length
    elif isinstance(value, (tuple, list)) and len(value) == length:
        items = tuple(value)
    else:
        raise ConfigError(f"{what} must be an integer or a sequence of {length} integers "
                          f">= {low}, got {_shown(value)}")
    return tuple(integer(item, what, low=low) for item in items)


def float_dtype(value, what="dtype"):
    """``"float32"``/``"float64"`` (or those NumPy dtypes) as a NumPy dtype; nothing else.

    ``None`` is refused rather than read as NumPy's default float64.
    """
    names = ("float32", "float64")
    key = value if isinstance(value, str) else None
    if isinstance(value, (type, np.dtype)):
        try:
            key = np.dtype(value).name
        except TypeError:
            key = None
    if key not in names:
        raise ConfigError(f"{what} must be 'float32' or 'float64', got {_shown(value)}")
    return np.dtype(key)


def sample_shape(value, what="input_shape", free=False):
    """The shape of one sample (no batch axis) as a tuple of positive ints: ``(3,)``, ``(1, 28, 28)``.

    With ``free=True`` an entry may also be ``None``, an axis of any size (the time axis of
    sequences: ``(None, 8)``). A string is refused (``"12"`` is not the shape ``(1, 2)``), and
    so is an empty shape.
    """
    wanted = "positive integers" + (" or None (a free axis)" if free else "")
    if not isinstance(value, (tuple, list)) or not value:
        raise ConfigError(f"{what} must be a non-empty tuple of {wanted} such as (3,) "
                          f"or (1, 28, 28), got {_shown(value)}")
    return tuple(None if free and size is None else integer(size, what, low=1) for size in value)
