"""The sub-commands of ``nnscratch`` that work on tables: train, predict, evaluate, info.

Each module has ``add_parser(commands)``, which registers its sub-command (with its help and an
example in the epilog) and sets ``run(args)`` as the function to call. Shared pieces (the
training record stored in the model file, scoring, safe writing) are in :mod:`.common`, the
help layout in :mod:`nnscratch.cli.options`; the tables themselves are read by
:mod:`nnscratch.cli.tables` and prepared by :mod:`nnscratch.cli.preprocessing`.
"""

from . import evaluate, info, predict, train

COMMANDS = (train, predict, evaluate, info)


def add_parsers(commands):
    """Register every table command on an argparse sub-parsers object."""
    for module in COMMANDS:
        module.add_parser(commands)
