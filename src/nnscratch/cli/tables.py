"""Tables of samples read from files: CSV with a header, or NumPy ``.npz`` archives.

A :class:`Table` is a list of named columns of equal length, one row per sample. Two readers
fill it:

- :func:`read_csv`: a delimited text file (UTF-8, an optional byte-order mark), parsed
  with Python's :mod:`csv` module. The delimiter is ``,``, ``;`` or a tab, whichever the header
  line holds most of outside quotes (:func:`sniff_delimiter`). The first non-blank line is the
  header naming the columns; every following line is one sample with exactly one cell per
  column. Blank lines are skipped. An unnamed first column is the row names that R's
  ``write.csv`` and pandas' ``to_csv`` write: it is called ``Unnamed: 0``, as pandas calls it
  (any other unnamed column is an error). Cells stay text until a column is read as numbers
  (:func:`~nnscratch.cli.cells.numbers`), so a column of class names (``"setosa"``) is as
  welcome as a column of measurements. The file is read column by column, each column an
  object array of Python strings (:func:`~nnscratch.cli.cells.text_array`): memory grows with
  the file, never with rows x columns x the longest cell.
- :func:`read_npz`: a ``.npz`` archive (``numpy.savez``), in one of two layouts:

  * **arrays** ``x`` (N, F) of features and, optionally, ``y`` (N,) of targets, plus an optional
    ``feature_names`` (F,) of strings; without names the features are called ``x0 ... x{F-1}``
    and the target column is ``y``;
  * **named columns**: every array is one column, 1-D of length N (or (N, 1)), named by its key.

  Arrays may hold numbers or strings; object arrays are refused (they would need pickle).

Every problem is a :class:`~nnscratch.errors.DataError` whose one-line message says where it
is: for a CSV file the **line of the file** (the header is line 1, blank lines count too, so
``line 7`` is what a text editor shows) and the column; for an archive the array and the row
index (``x[6, 2]``, counting from 0 as NumPy does).

:func:`read_table` chooses the reader by the file's extension (``.npz``, else CSV).
:mod:`nnscratch.cli.features` then takes a table apart for training; from there on the
command works on arrays, with :meth:`Table.locate` to name a cell in a message.
"""

import csv
import functools
import os
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from .cells import looks_numeric, numbers, quote_list, short, text_array

#: The name of an unnamed first column (row names written by R or pandas), as pandas calls it.
ROW_NAMES = "Unnamed: 0"


@dataclass
class Table:
    """Named columns of equal length: one row per sample.

    Attributes
    ----------
    source : str
        The file it came from, for messages.
    names : list of str
        Column names, in file order.
    columns : dict
        ``name -> 1-D array``: text (an object array of ``str``, see :func:`text_array`) from a
        CSV file; numbers or text (``str`` dtype) from an archive.
    lines : array of int or None
        CSV: the file line each row starts on (the header is line 1). None for an archive.
    origins : dict
        Archive: ``name -> (array name, column index or None)``, to point into the archive.
    rows : array of int or None
        Archive rows of a :meth:`take` subset: row ``i`` here is row ``rows[i]`` of the archive.
    """

    source: str
    names: list
    columns: dict
    lines: np.ndarray = None
    origins: dict = field(default_factory=dict)
    rows: np.ndarray = None

    def take(self, rows):
        """The table of rows ``rows`` only (indices), its cells still named by their file line
        (CSV) or archive row."""
        rows = np.asarray(rows, dtype=np.int64)
        columns = {name: column[rows] for name, column in self.columns.items()}
        lines = None if self.lines is None else self.lines[rows]
        kept = None if self.lines is not None else (rows if self.rows is None else self.rows[rows])
        return Table(self.source, list(self.names), columns, lines, dict(self.origins), kept)

    def __len__(self):
        return len(self.columns[self.names[0]]) if self.names else 0

    def where(self, row, name):
        """Where cell (``row``, ``name``) is, e.g. ``data.csv, line 7, column 'age'``.

        ``row`` None names the whole column: ``data.csv, column 'age'``.
        """
        if row is None:
            return f"{self.source}, column {name!r}"
        if self.lines is not None:
            return f"{self.source}, line {int(self.lines[row])}, column {name!r}"
        if self.rows is not None:
            row = int(self.rows[row])
        array, col = self.origins.get(name, (name, None))
        index = f"{row}" if col is None else f"{row}, {col}"
        return f"{self.source}, {array}[{index}] (column {name!r})"

    def locate(self, name):
        """``where(row)`` for column ``name``: names its cells in messages once it is an array."""
        return functools.partial(self.where, name=name)

    def require(self, name, role="column"):
        """The column ``name``, or a DataError listing the columns there are."""
        if name not in self.columns:
            raise DataError(f"{self.source} has no {role} {name!r}; its columns are: "
                            f"{quote_list(self.names)}")
        return self.columns[name]


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def read_table(path):
    """A :class:`Table` from a ``.npz`` archive or a CSV file (chosen by the extension)."""
    path = os.fspath(path)
    if path.lower().endswith(".npz"):
        return read_npz(path)
    return read_csv(path)


def _open_error(path, exc):
    reason = exc.strerror or str(exc)
    return DataError(f"cannot read data file {path!r}: {reason}")


def read_csv(path):
    """Read a CSV file with a header line into a :class:`Table` of text columns.

    Cells are stripped of surrounding spaces; each column is an object array of strings.
    """
    path = os.fspath(path)
    source = os.path.basename(path) or path
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            delimiter = sniff_delimiter(handle)
            header, header_line, cells, lines = _csv_columns(handle, source, delimiter)
    except OSError as exc:
        raise _open_error(path, exc) from None
    if header is None:
        raise DataError(f"{source} is empty: expected a header line naming the columns, then one "
                        "line per sample")
    if not lines:
        raise DataError(f"{source} has a header (line {header_line}) but no data lines")
    columns = {}
    for j, name in enumerate(header):
        columns[name], cells[j] = text_array(cells[j]), None     # free each list once copied
    return Table(source, header, columns, lines=np.array(lines, dtype=np.int64))


DELIMITERS = (",", ";", "\t")


def sniff_delimiter(handle):
    """The delimiter of an open CSV file: whichever of ``,`` ``;`` tab its first non-blank line
    holds most often outside double quotes (``,`` on a tie or when it holds none); rewinds.

    Counting on the header is enough, and steadier than :class:`csv.Sniffer`, which guesses
    from a sample of rows and can take a letter or a space for the delimiter.
    """
    line = ""
    try:
        for line in handle:
            if line.strip():
                break
    except UnicodeDecodeError:
        line = ""                                   # reported with its line by the reader
    handle.seek(0)
    outside = re.sub(r'"[^"]*"?', "", line)
    counts = [outside.count(d) for d in DELIMITERS]
    return DELIMITERS[int(np.argmax(counts))]


def _csv_columns(handle, source, delimiter=","):
    """``(header, its line, cells by column, the line each row starts on)`` of an open CSV file.

    ``cells[j]`` is the list of column ``j``'s stripped cells: the file is never held as rows.
    """
    cells, lines, header, header_line = [], [], None, None
    reader = csv.reader(handle, strict=True, delimiter=delimiter)
    last_line = 0
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            if not record:                                   # a blank line
                continue
            if header is None:
                header, header_line = [cell.strip() for cell in record], start
                if len(header) > 1 and not header[0]:
                    header[0] = ROW_NAMES
                _check_names(header, f"{source}, line {start} (the header)")
                _check_not_numbers(header, source, start)
                cells = [[] for _ in header]
                continue
            if len(record) != len(header):
                raise DataError(
                    f"{source}, line {start}: {len(record)} cell(s), but the header "
                    f"(line {header_line}) names {len(header)} columns")
            for column, cell in zip(cells, record):
                column.append(cell.strip())
            lines.append(start)
    except csv.Error as exc:
        hint = "; is a quote never closed?" if "end of data" in str(exc) else ""
        raise DataError(f"{source}, line {last_line + 1}: not valid CSV ({exc}{hint})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start} of a "
                        f"block near line {last_line + 1})") from None
    return header, header_line, cells, lines


def _check_names(names, where):
    """Every column has a name, and no two share one."""
    for j, name in enumerate(names):
        if not name:
            raise DataError(f"{where}: column {j + 1} has no name")
    seen = set()
    for name in names:
        if name in seen:
            raise DataError(f"{where}: two columns are named {name!r}")
        seen.add(name)


def _check_not_numbers(header, source, line):
    """A first line of numbers is data, not a header: say so instead of training on it."""
    if all(looks_numeric(name) for name in header):
        raise DataError(f"{source}, line {line}: expected a header naming the columns, got numbers "
                        f"({short(','.join(header))}); add a first line such as x1,x2,...,target")


def read_npz(path):
    """Read a ``.npz`` archive (arrays ``x``/``y`` or named columns) into a :class:`Table`."""
    path = os.fspath(path)
    source = os.path.basename(path) or path
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except OSError as exc:
        raise _open_error(path, exc) from None
    except (ValueError, zipfile.BadZipFile, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{source} is not a readable .npz archive of numeric or text arrays "
                        f"({reason})") from None
    if not arrays:
        raise DataError(f"{source} holds no arrays: expected 'x' (and 'y'), or one array per "
                        "column")
    for key, array in arrays.items():
        if array.dtype.kind not in "biufU":
            raise DataError(f"{source}: array {key!r} has dtype {array.dtype}; expected numbers or "
                            "text")
    if "x" in arrays:
        table = _xy_table(arrays, source)
    else:
        table = _column_table(arrays, source)
    if len(table) == 0:
        raise DataError(f"{source} holds no rows (its arrays have length 0)")
    return table


def _xy_table(arrays, source):
    unknown = sorted(set(arrays) - {"x", "y", "feature_names"})
    if unknown:
        raise DataError(f"{source} holds 'x' and also {quote_list(unknown)}; an archive has either "
                        "arrays 'x', 'y' (and 'feature_names') or one array per column")
    x = arrays["x"]
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2:
        raise DataError(f"{source}: array 'x' must be (samples, features), got shape {x.shape}")
    if "feature_names" in arrays:
        names = [str(n).strip() for n in np.ravel(arrays["feature_names"])]
        if len(names) != x.shape[1]:
            raise DataError(f"{source}: 'feature_names' has {len(names)} names for the "
                            f"{x.shape[1]} columns of 'x'")
        _check_names(names + ["y"] if "y" in arrays else names, f"{source}: 'feature_names'")
    else:
        names = [f"x{j}" for j in range(x.shape[1])]
    columns = {name: x[:, j] for j, name in enumerate(names)}
    origins = {name: ("x", j) for j, name in enumerate(names)}
    if "y" in arrays:
        y = _as_column(arrays["y"], "y", source)
        if len(y) != len(x):
            raise DataError(f"{source}: 'y' has {len(y)} rows but 'x' has {len(x)}")
        columns["y"], origins["y"] = y, ("y", None)
        names = names + ["y"]
    return Table(source, names, columns, origins=origins)


def _as_column(array, key, source):
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(f"{source}: array {key!r} must be one column (N,), got shape {array.shape}")
    return array


def _column_table(arrays, source):
    columns = {key: _as_column(array, key, source) for key, array in arrays.items()}
    names = list(columns)
    n = len(columns[names[0]])
    for key in names[1:]:
        if len(columns[key]) != n:
            raise DataError(f"{source}: column {key!r} has {len(columns[key])} rows but "
                            f"{names[0]!r} has {n}")
    return Table(source, names, columns)


# ---------------------------------------------------------------------------------------------
# Columns as numbers, features as a matrix
# ---------------------------------------------------------------------------------------------

def numeric_column(table, name):
    """Column ``name`` of ``table`` as float64 numbers within what float32 holds.

    These are the numbers a network sees (features, a target to regress); see
    :func:`~nnscratch.cli.cells.numbers`.
    """
    return numbers(table.require(name), table.locate(name), float32=True)


def feature_matrix(table, names, dtype=np.float64):
    """Columns ``names`` as an (N, F) matrix of ``dtype``; errors name the first bad cell."""
    x = np.empty((len(table), len(names)), dtype=dtype)
    for j, name in enumerate(names):
        x[:, j] = numeric_column(table, name)
    return x


def select_features(table, features, ignore=()):
    """Check that ``table`` holds exactly the columns ``features`` (in any order) plus ``ignore``.

    Returns the columns' names in the model's order. A missing feature, or a column that is
    neither a feature nor ignored (such as the target), is a DataError naming them.
    """
    missing = [name for name in features if name not in table.columns]
    extra = [name for name in table.names if name not in features and name not in ignore]
    present = sum(1 for name in table.names if name not in ignore)
    counts = f"{table.source} has {present} feature column(s), the model expects {len(features)}"
    if missing:
        raise DataError(f"{counts}: it lacks {quote_list(missing)} (its columns are: "
                        f"{quote_list(table.names)})")
    if extra:
        raise DataError(f"{counts}: the model was not trained on {quote_list(extra)} (its "
                        f"features are: {quote_list(features)})")
    return list(features)
