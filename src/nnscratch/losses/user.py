"""User-defined losses, built by :func:`nnscratch.losses.register`."""

import numpy as np

from ..errors import ShapeError
from .base import Loss


class _FunctionLoss(Loss):
    """A loss made by :func:`register` from a per-sample value and its gradient (mean reduction)."""

    def __init__(self, name, value_fn, gradient_fn):
        self.name = name
        self._value_fn = value_fn
        self._gradient_fn = gradient_fn

    def __repr__(self):
        return f"<user loss '{self.name}'>"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        losses = np.asarray(self._value_fn(p, y))
        n = p.shape[0]
        if losses.shape not in ((n,), (n, 1)):
            raise ShapeError(
                f"loss '{self.name}': value_fn must return one loss per sample, shape ({n},), "
                f"got {losses.shape}"
            )
        return losses.reshape(n).astype(p.dtype, copy=False)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        grad = np.asarray(self._gradient_fn(p, y))
        if grad.shape != p.shape:
            raise ShapeError(
                f"loss '{self.name}': gradient_fn must return an array shaped like y_pred "
                f"{p.shape}, got {grad.shape}"
            )
        return grad.astype(p.dtype, copy=False)
