"""Missing cells: which spellings mean "no value here", and the values that fill them.

A cell is **missing** when, stripped of spaces, it is one of :data:`MISSING_TOKENS`: the empty
string and the markers that R (``NA``), spreadsheets (``#N/A``), databases (``NULL``), pandas
(``<NA>``) and the UCI repository (``?``) write. pandas reads a longer list by default; two of
its entries are left out on purpose:

- ``None`` is a real answer in survey data (``Exer: Freq / Some / None`` in R's ``MASS::survey``),
  and pandas reading it as missing is a known surprise;
- ``nan`` and ``NaN`` stay errors, as ``inf`` does: in a text file they are what a broken
  computation printed, not what a person wrote for "unknown" (pandas' own ``to_csv`` writes an
  empty cell for a missing value). Write an empty cell or ``NA`` instead.

What fills a missing cell is learnt from the training rows, as scikit-learn's ``SimpleImputer``
does: the **median** of a number column (robust to the long tails of incomes and prices) and the
**most frequent** text of a category column, ties going to the smallest text.
"""

import numpy as np

from .cells import is_text, text_array

#: Cells (after stripping spaces) that mean "missing". Case matters: ``na`` and ``none`` are
#: left to be ordinary text.
MISSING_TOKENS = frozenset({"", "NA", "N/A", "n/a", "#N/A", "<NA>", "NULL", "null", "?"})


def missing_mask(cells):
    """A boolean vector, True where a cell is missing (one of :data:`MISSING_TOKENS`).

    Numbers (a numeric array from an archive) are never missing: NaN there is an error, as in
    a CSV file.
    """
    if not is_text(cells):
        return np.zeros(len(cells), dtype=bool)
    return np.fromiter((str(cell).strip() in MISSING_TOKENS for cell in cells), dtype=bool,
                       count=len(cells))


def median_fill(values):
    """The median of the training rows' values: the fill of a number column's missing cells.

    .. math:: \\operatorname{median}(v_1 \\dots v_n) = v_{(k)} \\text{ for odd } n = 2k - 1,
              \\quad \\tfrac12 (v_{(k)} + v_{(k+1)}) \\text{ for even } n = 2k

    on the sorted values :math:`v_{(1)} \\le \\dots \\le v_{(n)}` (NumPy's ``median``).
    """
    return float(np.median(np.asarray(values, dtype=np.float64)))


def most_frequent(labels):
    """The most frequent text among ``labels`` (ties: the smallest text, as scikit-learn's
    ``SimpleImputer(strategy="most_frequent")``), and its count."""
    distinct, counts = np.unique(text_array(labels), return_counts=True)
    best = int(np.argmax(counts))                     # argmax takes the first: the smallest text
    return str(distinct[best]), int(counts[best])
