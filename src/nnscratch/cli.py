"""The ``nnscratch`` command: ``nnscratch demo`` and friends (``nnscratch --help``)."""

import argparse
import sys

from .errors import NNScratchError


def build_parser():
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="nnscratch",
        description="Neural networks from scratch on NumPy.",
        epilog="Run 'nnscratch COMMAND --help' for the options of a command.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from . import commands as table_commands, demo
    demo.add_parser(commands)
    table_commands.add_parsers(commands)
    return parser


def main(argv=None):
    """Entry point of the console script; returns the exit status."""
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
