"""How many threads NumPy's BLAS uses while an example trains.

The examples multiply small matrices (a few hundred rows and columns) thousands of times. On
such products a second BLAS thread gains little, and when other processes share the cores the
threads wait for each other: a run then takes many times longer (a 10-second GAN run was seen
to take ten minutes). So the examples use one thread unless told otherwise (``--blas-threads``).
The limit is set with threadpoolctl, which comes with scikit-learn; without it nothing changes.
"""

import argparse
import contextlib


def blas_threads(count):
    """A context manager in which NumPy's BLAS uses ``count`` threads (0: leave it as it is)."""
    if not count:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=count, user_api="blas")


def add_argument(parser):
    """Add ``--blas-threads`` (default 1) to an example's argument parser."""
    parser.add_argument("--blas-threads", type=_count, default=1,
                        help="threads for NumPy's matrix products (default 1, fastest for these "
                             "small networks on a shared machine; 0 leaves the BLAS default)")


def _count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value
