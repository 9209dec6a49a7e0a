"""What a feature column holds: numbers, categories (text), or row ids that carry no signal.

Decided once, on the training file, from the column's non-missing cells
(:func:`~nnscratch.cli.missing.missing_mask`), and kept in the model file so that ``predict``
reads a column the same way:

- **number**: every non-missing cell is a number Python's ``float`` reads (``7``, ``-2.5``,
  ``1e-3``). ``nan`` and ``inf`` read as numbers too and are then refused with their line, as
  before (:func:`~nnscratch.cli.cells.numbers`).
- **category**: any other text column (``"female"``, ``"PS"``, ticket codes mixing digits and
  letters). Each distinct text is a category.
- a **mistyped number column** is an error, not a category: when at least half of the
  non-missing cells are numbers and the rest are at most :data:`MAX_STRAY_SPELLINGS` different
  spellings (``eight`` in a column of heights, ``unknown`` among ages), the first such cell is
  named, with the hint to leave a missing cell empty. Training on ``"eight"`` as a category
  of ``height`` would silently turn every height into a category.

**Row ids** (:func:`id_reason`) are reported and ignored by default, as ``train`` says on its
column summary line: a row's id tells nothing about its target, but a network happily
memorises it, and at predict time every id is new. Rather than refuse (which would stop most
real tables, such as every CSV R writes with its row names), ``train`` drops them and names
them; ``--keep COL`` keeps one that only looks like an id (a column of years, one row per
year). A column is taken for an id when

- its name says so (``id``, ``ID``, ``row_id``, ``PassengerId``, ``customerID``, ``rownames``,
  ``Unnamed: 0``) and it holds text or whole numbers, repeated or not (a patient's id on each
  of their visits is still no measurement); or
- its values are all distinct and present, with at least :data:`MIN_ID_ROWS` rows, and it is
  text (every category seen once, so none generalises), or whole numbers filling at least half
  of the range they span (a row counter ``1 .. N``, or a random part of one, as after a
  train/test split). Distinct whole numbers spread thinly, such as incomes, stay features.
"""

import numpy as np

from ..errors import DataError
from .cells import is_text, looks_numeric, short, stripped

NUMBER = "number"
CATEGORY = "category"

#: A mostly numeric column with at most this many distinct non-numeric spellings is an error.
MAX_STRAY_SPELLINGS = 3
#: Rows needed before distinct values alone (without an id-like name) make a column an id.
MIN_ID_ROWS = 20

#: Names (lower case) that are ids whatever they end with.
ID_NAMES = frozenset({"id", "index", "rownames", "row.names", "row_names", "unnamed: 0"})


def rows_of(where, rows):
    """``where(row)`` for a subset of rows: index ``i`` of the subset is row ``rows[i]``."""
    return lambda row: where(None if row is None else int(rows[row]))


def column_kind(name, cells, missing, where):
    """:data:`NUMBER` or :data:`CATEGORY` for a column's ``cells``, given its ``missing`` mask.

    A mistyped number column (see the module docstring) is a DataError naming its first stray
    cell via ``where(row)``.
    """
    if not is_text(cells):
        return NUMBER
    rows = np.flatnonzero(~missing)
    present = cells[rows]
    try:
        present.astype(np.float64)
        return NUMBER
    except ValueError:
        pass
    numeric = np.fromiter((looks_numeric(cell) for cell in present), dtype=bool,
                          count=len(present))
    stray = present[~numeric]
    if numeric.mean() >= 0.5 and len(set(stray.tolist())) <= MAX_STRAY_SPELLINGS:
        first = int(rows[np.argmin(numeric)])
        raise DataError(f"{where(first)}: expected a number, got {short(str(cells[first]))} "
                        f"(column {name!r} holds numbers in {int(numeric.sum())} of "
                        f"{len(present)} cells; leave a missing cell empty or write NA)")
    return CATEGORY


def looks_like_id_name(name):
    """Whether a column's name says it is an id: ``id``, ``row_id``, ``PassengerId``,
    ``customerID``, ``rownames``, ``Unnamed: 0``... (not ``paid``, ``valid`` or ``PAID``)."""
    lower = name.strip().lower()
    if lower in ID_NAMES:
        return True
    if lower.endswith(("_id", " id", ".id", "-id")):
        return True
    return len(name) > 2 and name.endswith(("Id", "ID")) and name[-3].islower()


def id_reason(name, cells, missing, kind):
    """Why the column looks like a row id (a phrase for the summary), or None if it does not."""
    present = cells[~missing]
    if kind == CATEGORY:
        values = stripped(present)
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            try:
                values = np.asarray(present, dtype=np.float64)
            except ValueError:
                return None
        if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
            return None
    distinct = len(np.unique(values))
    if looks_like_id_name(name):
        return f"named like an id, {distinct} distinct values"
    n = len(cells)
    if missing.any() or distinct != n or n < MIN_ID_ROWS:
        return None
    if kind == CATEGORY:
        return f"text with a different value in each of its {n} rows"
    low, high = values.min(), values.max()
    if high - low + 1 <= 2 * n:
        return f"{n} distinct whole numbers from {low:.0f} to {high:.0f}, like a row counter"
    return None
