"""Models: layers joined as a graph (:class:`Model`) or a stack (:class:`Network`).

- :mod:`~nnscratch.models.graph`: the graph's order, its checks, and backpropagation through it
  (gradients summed where a tensor fans out and over a shared layer's calls);
- :mod:`~nnscratch.models.outputs`: a loss, loss weight and metrics per output;
- :mod:`~nnscratch.models.engine`: data in, forward, losses, backward, a training step,
  predict and evaluate;
- :mod:`~nnscratch.models.model`: :class:`Model`, built from ``ns.Input`` tensors and layer calls;
- :mod:`~nnscratch.models.network`: :class:`Network`, the article's stack of layers, a chain.
"""

from .model import Model
from .network import Network

__all__ = ["Model", "Network"]
