"""A table's feature columns as the network's input matrix: what ``train`` learns and stores.

The steps, column by column in file order (each one said on ``train``'s ``columns:`` line and
listed by ``info``):

1. ``--ignore`` drops the columns it names (an unknown name is an error listing the columns);
2. the column's kind: number or category (:func:`~nnscratch.cli.columns.column_kind`);
3. a column that looks like a row id is ignored, with the reason
   (:func:`~nnscratch.cli.columns.id_reason`; ``--keep`` keeps it);
4. a column empty in every training row is ignored (nothing to learn from it);
5. every other column is encoded (:mod:`~nnscratch.cli.encoding`): numbers with their missing
   cells filled by the training median, categories one-hot, plus a missing-indicator input for
   a column whose training rows had missing cells;
6. number inputs are standardised with the training rows' mean and deviation
   (:func:`fit_scaling`); one-hot and indicator inputs stay 0/1.

Rows whose target cell is missing are dropped before all of this (:func:`drop_missing_target`).
"""

import numpy as np

from ..errors import DataError
from .cells import quote_list
from .columns import column_kind, id_reason
from .encoding import binary_inputs, describe_column, encode_all, fit_column, input_names
from .missing import missing_mask
from .preprocessing import fit_standardization

#: Default of ``--max-onehot``: categories kept as their own input per text column.
MAX_ONEHOT = 20


def parse_names(text):
    """``--ignore a,b`` -> ``["a", "b"]`` (spaces around names stripped, empty parts skipped)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def check_names(table, names, option, target=None):
    """The column names given to ``option`` (``--ignore``, ``--keep``), each a column of
    ``table`` other than the target; else a DataError naming the columns there are."""
    unknown = [name for name in names if name not in table.columns]
    if unknown:
        raise DataError(f"{option} names {quote_list(unknown)}, not a column of {table.source}; "
                        f"its columns are: {quote_list(table.names)}")
    if target in names:
        raise DataError(f"{option} names the target {target!r}")
    return list(names)


def drop_missing_target(table, target):
    """``(table, dropped)``: the rows whose ``target`` cell is not missing, and how many were not.

    A row without a target cannot be learnt from or scored. A target column with no value at
    all is a DataError.
    """
    missing = missing_mask(table.require(target, "target column"))
    if not missing.any():
        return table, 0
    if missing.all():
        raise DataError(f"{table.source}: the target column {target!r} is empty in every row")
    return table.take(np.flatnonzero(~missing)), int(missing.sum())


def fit_features(table, target, train_rows, ignore=(), keep=(), max_onehot=MAX_ONEHOT):
    """``(x, plan)``: every feature column of ``table`` encoded, learnt from ``train_rows``.

    ``x`` is the (N, inputs) float64 matrix of all rows, before standardisation. ``plan`` holds
    ``columns`` (one spec per used column, see :mod:`~nnscratch.cli.encoding`), ``ignored``
    (``{"name", "reason"}`` per dropped column), ``inputs`` (the inputs' names), ``binary``
    (which inputs are 0/1) and ``summary`` (what was done to each column, in file order).
    """
    train = np.zeros(len(table), dtype=bool)
    train[np.asarray(train_rows, dtype=np.int64)] = True
    specs, ignored, summary = [], [], []

    def drop(name, reason):
        ignored.append({"name": name, "reason": reason})
        summary.append(f"{name}: {reason} -> ignored")

    for name in table.names:
        if name == target:
            continue
        if name in ignore:
            drop(name, "--ignore")
            continue
        cells, where = table.columns[name], table.locate(name)
        missing = missing_mask(cells)
        kind = column_kind(name, cells, missing, where)
        reason = None if name in keep else id_reason(name, cells, missing, kind)
        if reason is not None:
            drop(name, f"looks like a row id ({reason})")
            continue
        spec = fit_column(name, kind, cells, missing, train, max_onehot, where)
        if spec is None:
            drop(name, "empty in every training row")
            continue
        specs.append(spec)
        summary.append(describe_column(spec))
    if not specs:
        what = f" (ignored: {quote_list(i['name'] for i in ignored)})" if ignored else ""
        raise DataError(f"{table.source} has no feature column besides the target {target!r}"
                        f"{what}")
    x = encode_table(table, specs)
    inputs = [name for spec in specs for name in input_names(spec)]
    binary = [flag for spec in specs for flag in binary_inputs(spec)]
    return x, dict(columns=specs, ignored=ignored, inputs=inputs, binary=binary, summary=summary)


def fit_scaling(x, binary):
    """Per-input mean and deviation (:func:`~nnscratch.cli.preprocessing.fit_standardization`),
    with 0 and 1 for the 0/1 inputs (``binary``), which stay as they are."""
    mean, std = fit_standardization(x)
    binary = np.asarray(binary, dtype=bool)
    mean[binary], std[binary] = 0.0, 1.0
    return mean, std


def input_columns(specs):
    """The column each input comes from (a name per input), to name a cell in messages."""
    return [spec["name"] for spec in specs for _ in input_names(spec)]


def encode_table(table, specs):
    """A trained model's (N, inputs) float64 matrix of ``table`` by its column ``specs``."""
    return encode_all(specs, table.columns, table.locate)
