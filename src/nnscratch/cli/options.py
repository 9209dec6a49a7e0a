"""What every sub-command's options share: the help layout and the parsing of a few values."""

import argparse

from .. import checks
from ..errors import ConfigError


def formatter():
    """The help formatter of every command: keeps the description's and epilog's line breaks."""
    return argparse.RawDescriptionHelpFormatter


def plain(docstring):
    """A module docstring as help text: without the reStructuredText double backquotes."""
    return docstring.replace("``", "")


def add_command(commands, name, summary, doc, epilog, run):
    """Register the sub-command ``name`` on argparse's sub-parsers ``commands``; returns its parser.

    ``summary`` is its line in ``nnscratch --help``; its ``--help`` shows the module docstring
    ``doc`` and the ``epilog`` (examples) with their line breaks kept; ``run(args)`` is what it
    calls.
    """
    parser = commands.add_parser(name, help=summary, description=plain(doc), epilog=epilog,
                                 formatter_class=formatter())
    parser.set_defaults(run=run)
    return parser


def add_model_command(commands, name, summary, doc, epilog, run, data_help, option):
    """Register a command that applies a trained model to a table: ``MODEL DATA`` and its one
    option, given as ``(flag, metavar, help)``; returns its parser."""
    parser = add_command(commands, name, summary, doc, epilog, run)
    parser.add_argument("model", metavar="MODEL", help="a model file written by 'nnscratch train'")
    parser.add_argument("data", metavar="DATA", help=data_help)
    flag, metavar, help_text = option
    parser.add_argument(flag, metavar=metavar, help=help_text)
    return parser


def add_verbose(parser):
    """The ``--verbose`` option of commands that train."""
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                        help="0 silent training; 1 a progress bar on a terminal, quiet otherwise; "
                             "2 a line per epoch (default: 1)")


def parse_widths(text, example):
    """``--hidden``: ``"64,32"`` -> ``(64, 32)``; ``""`` -> ``()``.

    ``example`` shows the expected form in the message when ``text`` is not integers.
    """
    try:
        widths = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--hidden expects comma-separated positive integers like {example}, "
                          f"got {text!r}") from None
    return tuple(checks.positive_int(width, "each --hidden width") for width in widths)
