"""Layers: one module per family. Every layer follows the contract in :mod:`.base`."""

from .base import LAYER_CLASSES, ActivatedLayer, Layer
from .dense import Dense
from .dropout import Dropout
from .normalization import BatchNormalization, LayerNormalization

__all__ = ["Layer", "ActivatedLayer", "Dense", "Dropout", "BatchNormalization",
           "LayerNormalization", "LAYER_CLASSES"]
