"""Layers: one module per family. Every layer follows the contract in :mod:`.base`."""

from .base import LAYER_CLASSES, ActivatedLayer, Layer
from .dense import Dense

__all__ = ["Layer", "ActivatedLayer", "Dense", "LAYER_CLASSES"]
