"""Checking the arrays that enter the library: numbers only, finite, rows that match.

Every array that enters the library from a user goes through :func:`as_numeric_array`, which
turns lists into arrays and refuses what cannot be a number (strings, objects, ragged rows,
NaN, inf) with a message that names the argument and, for NaN/inf, the first offending row.
"""

import numpy as np

from ..errors import DataError, DataTypeError, ShapeError


def as_numeric_array(data, name="x", dtype=None, allow_nonfinite=False, min_ndim=1):
    """``data`` as a numeric NumPy array, or a clear DataError/DataTypeError.

    ``dtype`` (if given) is the floating type to convert to; integer arrays stay integers when
    ``dtype`` is None (class labels). Booleans become integers.
    """
    if data is None:
        raise DataTypeError(f"{name} must be an array of numbers, got None")
    if isinstance(data, (str, bytes)):
        raise DataTypeError(f"{name} must be an array of numbers, got a string {data[:40]!r}")
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} must be a rectangular array of numbers; converting it failed: "
                        f"{exc}") from None
    if array.dtype.kind in "USO" or array.dtype.kind == "V":
        if array.dtype.kind == "O":
            try:
                array = array.astype(np.float64)
            except (ValueError, TypeError):
                raise DataTypeError(
                    f"{name} must hold numbers, got objects (for instance "
                    f"{type(array.flat[0]).__name__ if array.size else 'nothing'}); "
                    "ragged rows or non-numeric entries cannot form an array") from None
        else:
            example = array.flat[0] if array.size else ""
            raise DataTypeError(f"{name} must hold numbers, got dtype {array.dtype} "
                                f"(for instance {example!r})")
    if array.dtype.kind == "b":
        array = array.astype(np.int64)
    if array.dtype.kind == "c":
        raise DataTypeError(f"{name} must hold real numbers, got complex dtype {array.dtype}")
    if array.ndim < min_ndim:
        raise ShapeError(f"{name} must have at least {min_ndim} dimension(s), got shape {array.shape}")
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    if not allow_nonfinite and array.dtype.kind == "f":
        check_finite(array, name)
    return array


def check_finite(array, name):
    """Raise DataError naming the first row holding NaN or inf.

    The usual, finite case costs two fast passes and no temporary array the size of the data:
    the minimum and the maximum are NaN when any entry is NaN, and infinite when any entry is.
    """
    if array.size == 0 or (np.isfinite(array.min()) and np.isfinite(array.max())):
        return
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        value = array[tuple(bad)]
        where = f"row {bad[0]}" + (f", column {bad[1]}" if array.ndim > 1 else "")
        raise DataError(f"{name} must be finite, got {value} at {where}")


def check_same_length(x, y, x_name="x", y_name="y"):
    """Raise ShapeError unless x and y have the same number of rows."""
    if len(x) != len(y):
        raise ShapeError(f"{x_name} and {y_name} must have the same number of rows (samples), "
                         f"got {len(x)} rows in {x_name} and {len(y)} in {y_name}")
