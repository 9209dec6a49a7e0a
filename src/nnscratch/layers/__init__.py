"""Layers: one module per family. Every layer follows the contract in :mod:`.base`.

``REGISTRY`` (:class:`nnscratch.registry.Registry`) is the table of layer classes by class name
that model files are rebuilt from; ``LAYER_CLASSES`` is the older, read-only mapping view of it.
"""

from .activated import ActivatedLayer
from .activation import Activation
from .attention import MultiHeadAttention
from .avg_pooling import AvgPool1D, AvgPool2D
from .base import LAYER_CLASSES, Layer
from .base import REGISTRY as REGISTRY  # re-exported, but not in __all__ (see below)
from .bidirectional import Bidirectional
from .conv import Conv1D, Conv2D
from .conv_transpose import Conv2DTranspose
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .global_pooling import GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D
from .masking import Masking
from .max_pooling import MaxPool1D, MaxPool2D
from .merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .normalization import BatchNormalization, LayerNormalization
from .positional import PositionalEmbedding
from .recurrent import GRU, LSTM, SimpleRNN
from .reshape import Flatten, Reshape, UpSampling1D, UpSampling2D

# REGISTRY is left out of __all__ on purpose: `from nnscratch.layers import *` in the package's
# __init__ would otherwise make it ns.REGISTRY; it is reached as ns.layers.REGISTRY.
__all__ = ["Layer", "ActivatedLayer", "Dense", "Conv1D", "Conv2D", "Conv2DTranspose", "MaxPool1D",
           "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "Flatten", "Reshape", "UpSampling1D", "UpSampling2D",
           "SimpleRNN", "LSTM", "GRU", "Bidirectional",
           "Embedding", "Masking", "Dropout", "BatchNormalization",
           "LayerNormalization", "Activation", "Add", "Subtract", "Multiply", "Average", "Maximum",
           "Minimum", "Concatenate", "MultiHeadAttention", "PositionalEmbedding", "LAYER_CLASSES"]
