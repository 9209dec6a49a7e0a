"""The ``nnscratch`` command's argument parser and its entry point :func:`main`."""

import argparse
import sys

from ..errors import NNScratchError
from . import commands, demo


def build_parser():
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="nnscratch",
        description="Neural networks from scratch on NumPy.",
        epilog="Run 'nnscratch COMMAND --help' for the options of a command.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo.add_parser(subparsers)
    commands.add_parsers(subparsers)
    return parser


def main(argv=None):
    """Entry point of the console script; returns the exit status.

    A bad option is argparse's one-line error (exit status 2); an error of the library
    (bad data, a bad model file, a bad hyperparameter) is one line ``nnscratch COMMAND: error:
    ...`` on standard error, exit status 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except NNScratchError as exc:
        print(f"nnscratch {args.command}: error: {exc}", file=sys.stderr)
        return 2
