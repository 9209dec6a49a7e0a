import importlib
import os
import sys
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

# The suite runs in parallel workers (pytest -n auto); a multi-threaded BLAS in each of them
# oversubscribes the cores, and small matrix products then stall. One BLAS thread per worker.
threadpool_limits(1)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def no_warnings():
    """Turn every NumPy floating-point problem and every warning into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


@pytest.fixture
def import_benchmark():
    """``import_benchmark("run")``: a module of benchmarks/, a folder beside the package."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, root)
    try:
        yield lambda name: importlib.import_module(f"benchmarks.{name}")
    finally:
        sys.path.remove(root)
