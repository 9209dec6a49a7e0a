"""One feature column as network inputs: numbers as they are, categories one-hot, gaps filled.

A column's **spec** is a small dict, learnt from the training rows by :func:`fit_column`,
stored in the model file, and applied to any table by :func:`encode_column`:

``{"name": "age", "kind": "number", "fill": 28.0, "indicator": true, "empty": 177}``
    One input, the number itself (standardised later with the training rows' mean and
    deviation), a missing cell replaced by ``fill``, the training rows' median. ``fill`` None
    (model files written before missing cells were handled) makes a missing cell an error.

``{"name": "sex", "kind": "category", "categories": ["female", "male"], "other": false, ...}``
    One input per category, 1 where the cell is that category and 0 elsewhere (one-hot, as
    scikit-learn's ``OneHotEncoder``). Missing cells take ``fill``, the training rows' most
    frequent text. A text never seen in training gets **all zeros** (``handle_unknown=
    "ignore"``): the network sees "none of the categories it knows", which is what is known.

    Above ``max_onehot`` distinct texts the column keeps the ``max_onehot - 1`` most frequent
    categories and one more input, ``name=(other)``, for every other text, rare in training or
    new at predict time: scikit-learn's ``OneHotEncoder(max_categories=..., handle_unknown=
    "infrequent_if_exist")``. Its width stays bounded (a column of 5,000 town names costs
    ``max_onehot`` inputs, not 5,000), the frequent categories keep their own weight, and the
    rare ones, which a network could only memorise, share one. This was chosen over frequency
    or ordinal codes (one number whose order means nothing to a Dense layer), hashing (random
    collisions, names lost) and a learnt embedding (a second input path for a flat table).

Either kind with ``"indicator": true`` (the training rows had missing cells) adds one input
``name (missing)``, 1 where the cell was missing: whether a value is missing often tells
something by itself (scikit-learn's ``SimpleImputer(add_indicator=True)``). One-hot and
indicator inputs are 0/1 and are not standardised (:func:`binary_inputs`).
"""

import numpy as np

from ..errors import DataError
from .cells import numbers, stripped
from .columns import CATEGORY, NUMBER, rows_of
from .missing import median_fill, missing_mask, most_frequent

OTHER = "(other)"


def fit_column(name, kind, cells, missing, train, max_onehot, where):
    """The spec of one column learnt from the rows where ``train`` (a boolean mask) is True.

    ``missing`` is the column's missing mask; returns None when no training row has a value
    (an all-empty column: nothing to learn, the caller ignores it). Every present cell, of
    training and validation rows alike, is checked (a bad number is a DataError naming it).
    """
    learn = train & ~missing
    spec = {"name": name, "kind": kind, "indicator": bool((missing & train).any()),
            "empty": int(missing.sum())}
    if kind == NUMBER:
        present = np.flatnonzero(~missing)
        values = numbers(cells[present], rows_of(where, present), float32=True)
        if not learn.any():
            return None
        spec["fill"] = median_fill(values[learn[present]])
        return spec
    if not learn.any():
        return None
    labels = stripped(cells[learn])
    distinct, counts = np.unique(labels, return_counts=True)
    spec["distinct"] = len(distinct)
    if len(distinct) <= max_onehot:
        spec["categories"], spec["other"] = [str(d) for d in distinct], False
    else:                                   # most frequent first, ties by text; kept in text order
        order = np.lexsort((distinct, -counts))[:max_onehot - 1]
        spec["categories"], spec["other"] = sorted(str(distinct[i]) for i in order), True
    spec["fill"], _ = most_frequent(labels)
    return spec


def input_names(spec):
    """The names of the inputs a column spec makes: ``age``, ``sex=female``, ``age (missing)``."""
    name = spec["name"]
    if spec["kind"] == NUMBER:
        names = [name]
    else:
        names = [f"{name}={c}" for c in spec["categories"]]
        if spec["other"]:
            names.append(f"{name}={OTHER}")
    if spec["indicator"]:
        names.append(f"{name} (missing)")
    return names


def binary_inputs(spec):
    """Which of the spec's inputs are 0/1 (one-hot, other, indicator): a boolean per input."""
    flags = [spec["kind"] != NUMBER] * (len(input_names(spec)) - spec["indicator"])
    return flags + [True] * spec["indicator"]


def encode_column(spec, cells, where):
    """The (N, k) float64 inputs of one column's ``cells`` by its ``spec`` (k = its inputs).

    A number column's bad cell, or its missing cell when the spec has no fill (an old model
    file), is a DataError naming it via ``where(row)``.
    """
    n = len(cells)
    missing = missing_mask(cells)
    if spec["kind"] == NUMBER:
        if spec.get("fill") is None:
            block = numbers(cells, where, float32=True)[:, None]
        else:
            values = np.full(n, spec["fill"], dtype=np.float64)
            present = np.flatnonzero(~missing)
            values[present] = numbers(cells[present], rows_of(where, present), float32=True)
            block = values[:, None]
    else:
        block = one_hot_block(stripped(cells), missing, spec)
    if spec["indicator"]:
        block = np.concatenate([block, missing[:, None].astype(np.float64)], axis=1)
    return block


def one_hot_block(labels, missing, spec):
    """(N, categories [+ other]) 0/1 columns; missing cells take the fill, unknown texts
    all zeros (or the ``(other)`` column when the spec has one)."""
    labels = labels.copy()
    labels[missing] = spec["fill"]
    categories = spec["categories"]
    width = len(categories) + spec["other"]
    lookup = {category: index for index, category in enumerate(categories)}
    unknown = len(categories) if spec["other"] else -1
    distinct, inverse = np.unique(labels, return_inverse=True)
    codes = np.array([lookup.get(str(label), unknown) for label in distinct], dtype=np.int64)
    codes = codes[inverse.reshape(-1)]
    block = np.zeros((len(labels), width), dtype=np.float64)
    known = np.flatnonzero(codes >= 0)
    block[known, codes[known]] = 1.0
    return block


def describe_column(spec):
    """What was done to one column, for ``train``'s summary line and ``info``:
    ``age: number, 177 empty -> median 28 + indicator``,
    ``town: text, 812 categories -> one-hot of the 19 most frequent + (other)``."""
    name = spec["name"]
    if spec["kind"] == NUMBER:
        text = f"{name}: number"
        what = "median"
        fill = "none (an empty cell is an error)" if spec.get("fill") is None else f"{spec['fill']:g}"
    else:
        kept = len(spec["categories"])
        if spec["other"]:
            text = (f"{name}: text, {spec.get('distinct', '?')} categories -> one-hot of the "
                    f"{kept} most frequent + {OTHER}")
        else:
            text = f"{name}: text, {kept} categories -> one-hot"
        what, fill = "most frequent", repr(spec["fill"])
    if spec.get("empty") or spec["indicator"]:
        text += f", {spec.get('empty', 0)} empty -> {what} {fill}"
        if spec["indicator"]:
            text += " + indicator"
    return text


def check_spec(spec):
    """A DataError-free check that a spec read from a model file is complete; returns a problem
    (a string) or None."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        return "a column without a name"
    if spec.get("kind") not in (NUMBER, CATEGORY):
        return f"column {spec.get('name')!r} has kind {spec.get('kind')!r}"
    if not isinstance(spec.get("indicator"), bool):
        return f"column {spec['name']!r} has no indicator flag"
    if spec["kind"] == CATEGORY:
        categories = spec.get("categories")
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories) \
                or not isinstance(spec.get("other"), bool) or not isinstance(spec.get("fill"), str):
            return f"category column {spec['name']!r} lacks its categories, other flag or fill"
    elif spec.get("fill") is not None and not isinstance(spec["fill"], (int, float)):
        return f"number column {spec['name']!r} has fill {spec['fill']!r}"
    return None


def encode_all(specs, columns, locate):
    """The (N, inputs) float64 matrix of every spec's column: ``columns[name]`` its cells,
    ``locate(name)`` its ``where(row)``."""
    blocks = [encode_column(spec, columns[spec["name"]], locate(spec["name"])) for spec in specs]
    if not blocks:
        raise DataError("no feature column to encode")
    return np.concatenate(blocks, axis=1)
