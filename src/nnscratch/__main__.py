"""``python -m nnscratch``: the same as the ``nnscratch`` command."""

import sys

from .cli import main

sys.exit(main())
