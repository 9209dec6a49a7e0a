"""One column's cells: text kept as Python strings, numbers parsed with the bad cell named.

Pure functions on a 1-D array of cells, with ``where(row)`` to say where a cell is in a
message (``data.csv, line 7, column 'age'``: :meth:`~nnscratch.cli.tables.Table.locate`):

- :func:`text_array`, :func:`stripped`, :func:`is_text`: text columns are object arrays of
  ``str``, so a cell costs its own length (a fixed-width NumPy ``str`` array gives every cell
  the width of the longest: one 100 KB cell among 40,000 would cost 16 GB);
- :func:`numbers`: cells as float64, refusing empty cells, text, NaN, infinities and, for what
  a network sees, magnitudes beyond what float32 holds (:data:`FLOAT32_MAX`);
- :func:`nonempty`: cells as stripped text, refusing empty ones;
- :func:`short`, :func:`quote_list`: cells and names shown in a message, on one short line.
"""

import numpy as np

from ..errors import DataError

MAX_SHOWN = 8          # names listed in a message before "... (N in all)"

#: The largest magnitude a feature or a target to regress may have: what float32 holds
#: (3.4e38), the network's default dtype. Within it, squares (variances) are finite in float64.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def quote_list(names, limit=MAX_SHOWN):
    """``'a', 'b', 'c'`` for a message, shortened to ``limit`` names plus a count."""
    names = list(names)
    shown = ", ".join(repr(str(n)) for n in names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"


def short(value, limit=40):
    """``repr`` of a cell for a message: one line (newlines escaped), at most ``limit`` chars."""
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= limit else text[:limit - 4] + "...'"


def text_array(strings):
    """A 1-D object array of Python strings: each cell costs its own length.

    (A fixed-width ``str`` array would give every cell the width of the longest.)
    """
    strings = list(strings)
    array = np.empty(len(strings), dtype=object)
    array[:] = strings
    return array


def stripped(cells):
    """Cells as text stripped of surrounding spaces (:func:`text_array`)."""
    return text_array(str(cell).strip() for cell in cells)


def is_text(cells):
    """Whether a column holds text (``str`` cells, in an object or a ``str`` array)."""
    return cells.dtype.kind in "OU"


def looks_numeric(text):
    """Whether Python's ``float`` reads ``text`` (``"1e-3"``, ``" 7 "``, ``"nan"``)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell_problem(cell, float32=False):
    """Why one cell is not a finite number (None if it is one), e.g. ``is empty``.

    ``float32``: a magnitude beyond :data:`FLOAT32_MAX` is a problem too.
    """
    if isinstance(cell, str) or (isinstance(cell, np.generic) and cell.dtype.kind == "U"):
        text = str(cell).strip()
        if not text:
            return "empty cell, expected a number"
        try:
            value = float(text)
        except ValueError:
            return f"expected a number, got {short(text)}"
    else:
        value = float(cell)
    if not np.isfinite(value):
        return f"expected a finite number, got {short(str(cell).strip())}"
    if float32 and abs(value) > FLOAT32_MAX:
        return (f"expected a number between {-FLOAT32_MAX:.2g} and {FLOAT32_MAX:.2g} (what float32 "
                f"holds), got {short(str(cell).strip())}")
    return None


def by_row(row):
    """Where a cell is when no table is at hand: ``row 6`` (``column`` for the whole column)."""
    return "column" if row is None else f"row {row}"


def numbers(cells, where=by_row, float32=False):
    """Cells (text or numbers, 1-D) as float64, or a DataError naming the first bad cell.

    Text cells are parsed as Python parses floats (``1``, ``-2.5``, ``1e-3``); an empty cell,
    text that is not a number, NaN and infinity are errors, and with ``float32`` a magnitude
    beyond what float32 holds (:data:`FLOAT32_MAX`) too. ``where(row)`` names a cell in the
    message (see :meth:`Table.locate`).
    """
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            values = cells.astype(np.float64)
        ok = np.isfinite(values)
        if float32:
            ok &= np.abs(values) <= FLOAT32_MAX
        if ok.all():
            return values
        first = int(np.argmin(ok))
    except ValueError:                           # a cell that is not a number: find the first
        first = next((i for i, cell in enumerate(cells)
                      if _cell_problem(cell, float32) is not None), None)
        if first is None:                        # NumPy and float() disagree on some spelling
            raise DataError(f"{where(None)}: not every cell is a number") from None
    raise DataError(f"{where(first)}: {_cell_problem(cells[first], float32)}")


def nonempty(cells, where=by_row):
    """Cells as stripped strings (:func:`text_array`), or a DataError naming the first empty cell."""
    text = stripped(cells)
    empty = text == ""
    if empty.any():
        raise DataError(f"{where(int(np.argmax(empty)))}: empty cell")
    return text
