"""The ``nnscratch`` command: ``nnscratch demo``, ``train``, ``predict``, ``evaluate``, ``info``.

Where things are:

- :mod:`.entry`: the argument parser and the entry point :func:`main` (the console script
  ``nnscratch`` and ``python -m nnscratch``);
- :mod:`.commands`: the commands that work on tables, and what they share;
- :mod:`.demo`: the article's 3-4-1 network on XOR;
- :mod:`.options`: the help layout and the options several commands parse alike;
- :mod:`.outputs`: the files a command writes, checked before any work, written atomically;
- :mod:`.tables`: reading CSV files and ``.npz`` archives into named columns;
- :mod:`.cells`: one column's cells as text or as numbers, the bad cell named;
- :mod:`.preprocessing`: task inference, class labels, standardisation, the validation split;
- :mod:`.features`: a table's feature columns as the network's inputs, step by step, over
  :mod:`.columns` (number, category or row id), :mod:`.missing` (what a missing cell is and
  what fills it) and :mod:`.encoding` (one column as inputs: one-hot, fills, indicators).
"""

from .entry import build_parser, main

__all__ = ["build_parser", "main"]
