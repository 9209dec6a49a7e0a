"""Turning a table's columns into what a network trains on: task, class indices, scaled numbers.

Pure functions on a table's columns, taken out as arrays (``cells``, see
:mod:`nnscratch.cli.cells`) with ``where(row)`` to name a cell in messages
(:meth:`~nnscratch.cli.tables.Table.locate`):

- :func:`task_of`: classification or regression, from the target's cells, with the reason
  (:func:`infer_task` for a column of a :class:`~nnscratch.cli.tables.Table`);
- :func:`labels_of` (:func:`target_labels`), :func:`fit_classes`, :func:`encode_labels`:
  class labels of any kind
  (``"setosa"``, ``7``, ``"yes"``) to indices ``0 .. C-1`` and back, the mapping kept as a list
  of strings so it can be stored in a model file;
- :func:`fit_standardization`, :func:`standardize`: the z-score of every feature with the
  mean and standard deviation of the training rows;
- :func:`split_indices`: a seeded (and, for classes, stratified) training/validation split.
"""

import numpy as np

from ..checks import is_number
from ..errors import ConfigError, DataError
from .cells import by_row, is_text, looks_numeric, nonempty, numbers, quote_list, short, text_array

#: A target of whole numbers is read as class labels when it has at most this many values...
MAX_INFERRED_CLASSES = 20
#: ... and at most one distinct value per this many rows.
MIN_ROWS_PER_INFERRED_CLASS = 2


# ---------------------------------------------------------------------------------------------
# Task
# ---------------------------------------------------------------------------------------------

def _parse_floats(text):
    """Text cells as float64, or None when some cell is not a number."""
    try:
        return text.astype(np.float64)
    except ValueError:
        return None


def infer_task(table, target):
    """``("classify" | "regress", reason)`` for predicting column ``target`` of ``table``."""
    return task_of(table.require(target, "target column"), target, table.locate(target))


def task_of(cells, target, where=by_row):
    """``("classify" | "regress", reason)`` for predicting the target ``cells`` (named ``target``).

    Text that is not all numbers means classes. Numbers mean classes only when they are whole
    and few: at most :data:`MAX_INFERRED_CLASSES` distinct values, and at most one per
    :data:`MIN_ROWS_PER_INFERRED_CLASS` rows (so ``0/1`` or grades ``3..8`` are classes, and a
    price or a count with hundreds of values is a quantity). ``reason`` says which rule applied.
    An empty cell or a non-finite number is a DataError naming it via ``where(row)``.
    """
    if is_text(cells):
        text = nonempty(cells, where)
        if _parse_floats(text) is None:
            example = next(cell for cell in text if not looks_numeric(cell))
            return "classify", f"the target {target!r} holds text (e.g. {short(example)})"
    values = numbers(cells, where)
    distinct = np.unique(values)
    if not np.all(distinct == np.round(distinct)):
        example = distinct[np.argmax(distinct != np.round(distinct))]
        return "regress", (f"the target {target!r} holds numbers that are not whole "
                           f"(e.g. {example:g})")
    few = (len(distinct) <= MAX_INFERRED_CLASSES
           and len(distinct) * MIN_ROWS_PER_INFERRED_CLASS <= len(values))
    if few:
        return "classify", (f"the target {target!r} holds {len(distinct)} distinct whole numbers "
                            f"in {len(values)} rows")
    return "regress", (f"the target {target!r} holds {len(distinct)} distinct whole numbers in "
                       f"{len(values)} rows (classes are inferred for at most "
                       f"{MAX_INFERRED_CLASSES} values and at most one per "
                       f"{MIN_ROWS_PER_INFERRED_CLASS} rows)")


# ---------------------------------------------------------------------------------------------
# Class labels
# ---------------------------------------------------------------------------------------------

def target_labels(table, target):
    """Column ``target`` of ``table`` as class labels (see :func:`labels_of`)."""
    return labels_of(table.require(target, "target column"), table.locate(target))


def labels_of(cells, where=by_row):
    """Target cells as class labels: stripped strings, as written in the file.

    Text cells are kept as text (``"07"`` stays ``"07"``); numbers from an archive become
    ``str(value)`` (``3``, ``1.5``). Empty cells and non-finite numbers are DataErrors naming
    the cell via ``where(row)``. The labels are an object array of Python strings (see
    :func:`~nnscratch.cli.tables.text_array`), so one long label costs its own length only.
    """
    if is_text(cells):
        return nonempty(cells, where)
    values = numbers(cells, where)                       # rejects NaN and inf, naming the row
    if cells.dtype.kind in "biu":
        return text_array(str(int(v)) for v in cells)
    return text_array(repr(float(v)) for v in values)


def fit_classes(labels):
    """The sorted distinct labels: numerically when all are numbers, else as text.

    Returns a list of strings; its index is the class index the network predicts.
    """
    distinct = [str(label) for label in np.unique(text_array(labels))]
    if len(distinct) < 2:
        raise DataError(f"classification needs at least two classes, the target holds only "
                        f"{quote_list(distinct)}")
    values = _parse_floats(text_array(distinct))
    if values is not None and np.all(np.isfinite(values)):
        by_value = dict(zip(distinct, values.tolist()))
        distinct.sort(key=lambda label: (by_value[label], label))   # ties ("1", "1.0") by text
    return distinct


def encode_labels(labels, classes, table=None, target=None):
    """Class indices (int64) of ``labels`` in ``classes``.

    A label that is not one of ``classes`` is a DataError naming its row (its line and column
    of ``table``, when given).
    """
    where = table.locate(target) if table is not None else by_row
    labels = text_array(labels)
    lookup = {label: index for index, label in enumerate(classes)}
    distinct, inverse = np.unique(labels, return_inverse=True)
    codes = np.empty(len(distinct), dtype=np.int64)
    for k, label in enumerate(distinct):
        if label not in lookup:
            row = int(np.argmax(labels == label))
            raise DataError(f"{where(row)}: label {short(str(label))} is not one of the "
                            f"{len(classes)} classes the model knows ({quote_list(classes)})")
        codes[k] = lookup[label]
    return codes[inverse.reshape(-1)]


def decode_labels(indices, classes):
    """The labels (an object array of strings) of class indices."""
    return text_array(classes)[np.asarray(indices, dtype=np.int64)]


# ---------------------------------------------------------------------------------------------
# Standardisation
# ---------------------------------------------------------------------------------------------

def fit_standardization(x):
    """Per-column mean and standard deviation of ``x`` (N, F), as float64 vectors.

    .. math::

        \\mu_j = \\frac1N \\sum_n x_{nj}, \\qquad
        \\sigma_j = \\sqrt{\\frac1N \\sum_n (x_{nj} - \\mu_j)^2}

    (the population deviation, NumPy's default ``ddof=0``). A constant column has
    :math:`\\sigma_j = 0`; it is stored as 1 so that column becomes 0 instead of a division by
    zero. A column whose variance overflows float64 (values beyond about :math:`10^{154}`) is a
    DataError; the commands never get here with one, since they read numbers only within what
    float32 holds (:func:`~nnscratch.cli.tables.numbers`), whose squares float64 holds.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise DataError(f"standardisation needs a non-empty (samples, features) matrix, got shape "
                        f"{x.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        mean = x.mean(axis=0)
        std = x.std(axis=0)
    if not np.all(np.isfinite(std)):
        column = int(np.argmin(np.isfinite(std)))
        raise DataError(f"column {column} of the features: its variance is not finite in float64 "
                        f"(its largest magnitude is {np.max(np.abs(x[:, column])):g})")
    std[std == 0] = 1.0
    return mean, std


def standardize(x, mean, std, dtype=np.float32, where=None):
    """The z-scores :math:`(x_{nj} - \\mu_j) / \\sigma_j`, computed in float64, as ``dtype``.

    A z-score ``dtype`` cannot hold (a value far from a column the training rows barely spread,
    say :math:`10^{10}` where :math:`\\sigma_j = 10^{-30}`) is a DataError naming its cell
    with ``where(row, column)`` (by default ``row 6, column 2``, counting from 0).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1] != len(mean):
        raise DataError(f"standardisation expects {len(mean)} features, got {x.shape[-1]}")
    with np.errstate(over="ignore"):
        z = (x - np.asarray(mean)) / np.asarray(std)
        result = z.astype(dtype)
    bad = ~np.isfinite(result)
    if bad.any():
        index = np.unravel_index(np.argmax(bad), bad.shape)
        row, column = int(index[0]), int(index[-1])
        place = where(row, column) if where is not None else f"row {row}, column {column}"
        raise DataError(f"{place}: {x[index]:g} lies {abs(z[index]):.3g} training standard "
                        f"deviations from the training mean, beyond what {np.dtype(dtype).name} "
                        "holds")
    return result


def unstandardize(z, mean, std):
    """The inverse of :func:`standardize`: :math:`z \\sigma + \\mu` in float64."""
    return np.asarray(z, dtype=np.float64) * np.asarray(std) + np.asarray(mean)


# ---------------------------------------------------------------------------------------------
# Training / validation split
# ---------------------------------------------------------------------------------------------

def split_indices(n, fraction, seed=None, classes=None):
    """Row indices ``(train, validation)`` holding out ``fraction`` of ``n`` rows at random.

    With ``classes`` (the class index of each row) the split is stratified: each class gives
    ``round(fraction * its count)`` rows, so a file sorted by class still validates on every
    class. Both index arrays are sorted. ``fraction`` 0 gives every row to training.
    """
    if not (is_number(fraction) and 0 <= fraction < 1):
        raise ConfigError(f"the validation split must be a fraction in [0, 1), got {fraction!r}")
    rng = np.random.default_rng(seed)
    if fraction == 0:
        return np.arange(n), np.arange(0)
    if classes is None:
        held = rng.permutation(n)[:round(n * fraction)]
    else:
        classes = np.asarray(classes)
        held = []
        for label in np.unique(classes):
            rows = np.flatnonzero(classes == label)
            held.extend(rng.permutation(rows)[:round(len(rows) * fraction)])
        held = np.array(held, dtype=np.int64)
    if len(held) == 0 or len(held) == n:
        raise DataError(f"a validation split of {fraction:g} of {n} rows leaves no "
                        f"{'validation' if len(held) == 0 else 'training'} row; use more rows or "
                        "--validation-split 0")
    mask = np.zeros(n, dtype=bool)
    mask[held] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)
