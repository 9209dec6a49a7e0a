"""nnscratch: neural networks from scratch on NumPy.

Every forward formula and derivative is written out in this package's own code, documented with
its math and checked against finite differences (:mod:`nnscratch.gradcheck`).

>>> import nnscratch as ns
>>> net = ns.Network([ns.Dense(4, activation="sigmoid"), ns.Dense(1, activation="sigmoid")],
...                  loss="sse", optimizer=ns.optimizers.SGD(learning_rate=1.0), seed=0)
"""

from . import (
    activations,
    audio,
    callbacks,
    data,
    errors,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
)
from .callbacks import History
from .errors import NNScratchError
from .layers import *  # noqa: F403  (every layer class: Dense, Conv2D, LSTM, ...)
from .layers import __all__ as _layer_names
from .models import Model, Network
from .optimizers import schedules
from .symbolic import Input
from .threads import get_num_threads, num_threads, set_num_threads

__version__ = "0.1.0"


def load(path, **options):
    """Read a model written by ``save`` (see :mod:`nnscratch.saving`): a :class:`Network` for a
    stack of layers, a :class:`Model` for a graph.

    ``options``: ``max_activation_bytes`` (default 1 GiB per sample) and ``allow_nonfinite``
    (default False), as :func:`nnscratch.saving.load` takes them.
    """
    return saving.load(path, Network, model_class=Model, **options)


def export_onnx(network, path, **kwargs):
    """Write ``network`` as an ONNX model (needs the ``onnx`` extra; see :mod:`nnscratch.saving.onnx`)."""
    from .saving import onnx
    return onnx.export_onnx(network, path, **kwargs)


__all__ = ["Network", "Model", "Input", "History", "NNScratchError", "load", "export_onnx",
           "set_num_threads", "get_num_threads", "num_threads", "activations", "audio",
           "callbacks", "data", "errors", "gradcheck", "initializers", "layers", "losses",
           "metrics", "models", "optimizers", "regularizers", "schedules", *_layer_names]
