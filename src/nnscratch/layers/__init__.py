"""Layers: one module per family. Every layer follows the contract in :mod:`.base`."""

from .base import LAYER_CLASSES, ActivatedLayer, Layer
from .bidirectional import Bidirectional
from .conv import Conv1D, Conv2D, Conv2DTranspose
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (AvgPool1D, AvgPool2D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D,
                      GlobalMaxPool2D, MaxPool1D, MaxPool2D)
from .recurrent import GRU, LSTM, SimpleRNN
from .reshape import Flatten, Reshape, UpSampling1D, UpSampling2D

__all__ = ["Layer", "ActivatedLayer", "Dense", "Conv1D", "Conv2D", "Conv2DTranspose", "MaxPool1D",
           "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "Flatten", "Reshape", "UpSampling1D", "UpSampling2D",
           "SimpleRNN", "LSTM", "GRU", "Bidirectional",
           "Embedding", "Dropout", "BatchNormalization",
           "LayerNormalization", "LAYER_CLASSES"]
