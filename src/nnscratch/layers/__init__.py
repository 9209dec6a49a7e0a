"""Layers: one module per family. Every layer follows the contract in :mod:`.base`."""

from .base import LAYER_CLASSES, ActivatedLayer, Layer
from .bidirectional import Bidirectional
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .normalization import BatchNormalization, LayerNormalization
from .recurrent import GRU, LSTM, SimpleRNN

__all__ = ["Layer", "ActivatedLayer", "Dense", "SimpleRNN", "LSTM", "GRU", "Bidirectional",
           "Embedding", "Dropout", "BatchNormalization",
           "LayerNormalization", "LAYER_CLASSES"]
