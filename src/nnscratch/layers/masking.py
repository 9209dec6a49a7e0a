r"""Masks for variable-length sequences: the Masking layer and the rules every layer follows.

A batch of sequences of different lengths is padded to one length T (see
:func:`nnscratch.sequences.pad_sequences`). A **mask** is a boolean array (N, T), True where a
step is real and False where it is padding. It travels beside the tensor it describes, from the
layer that makes it to the layers that use it, as in Keras:

- a layer **makes** a mask in ``compute_mask(inputs, mask)``: :class:`Masking` (a step whose
  features all equal ``mask_value``) and ``Embedding(mask_zero=True)`` (token id 0);
- a layer that acts on every step on its own sets ``supports_masking = True`` and **passes**
  the mask on unchanged (Dense on (N, T, F), Dropout, Activation, LayerNormalization,
  PositionalEmbedding); a merge layer passes on the AND of its inputs' masks;
- a layer whose ``forward`` takes a ``mask`` keyword **consumes** it: a recurrent layer keeps
  its state at a masked step, pooling over time and attention leave masked steps out;
- any other layer (Flatten, convolutions) **ends** the mask: what comes after sees none.

The loss and the class metrics of an output that carries a mask give masked steps weight 0
(:func:`nnscratch.losses.masked_weights`). A mask is data, not a parameter: it gets no
gradient.
"""

import functools
import inspect

import numpy as np

from .. import checks
from ..errors import DataTypeError, ShapeError
from .base import Layer

__all__ = ["Masking", "takes_mask", "may_make_masks", "check_mask", "all_real"]


@functools.cache
def _forward_takes_mask(cls):
    return "mask" in inspect.signature(cls.forward).parameters


def takes_mask(layer):
    """Whether ``layer`` consumes masks: its ``forward`` has a ``mask`` keyword."""
    return _forward_takes_mask(type(layer))


def may_make_masks(layers):
    """Whether any of ``layers`` may make or change a mask (its class writes ``compute_mask``):
    a chain of layers none of which does never carries one."""
    return any(type(layer).compute_mask is not Layer.compute_mask for layer in layers)


def check_mask(mask, shape, where):
    """``mask`` as a boolean array of ``shape`` (N, T), or a clear error naming ``where``.

    Booleans or the numbers 0 and 1 are accepted.
    """
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biuf":
        raise DataTypeError(f"{where} expects a mask of booleans (True: a real step), got dtype "
                            f"{mask.dtype}")
    if mask.shape != tuple(shape):
        raise ShapeError(f"{where} expects a mask shaped (N, T) = {tuple(shape)}, got "
                         f"{mask.shape}")
    return mask if mask.dtype == bool else mask != 0


def all_real(masks):
    """The AND of the masks that are not None (None when all are): a step is real where it is
    real in every input (how merge layers combine their inputs' masks, as Keras does)."""
    given = [m for m in masks if m is not None]
    if not given:
        return None
    combined = given[0]
    for mask in given[1:]:
        combined = combined & mask
    return combined


class Masking(Layer):
    r"""Mask the steps whose features all equal ``mask_value``, Keras's ``Masking``.

    For input (N, T, ...) the mask and the output are

    .. math::

        m_{n,t} = \bigvee_{f} \left[x_{n,t,f} \ne v\right], \qquad
        y_{n,t} = m_{n,t}\, x_{n,t}, \qquad
        \frac{\partial L}{\partial x_{n,t}} = m_{n,t} \frac{\partial L}{\partial y_{n,t}}

    (every axis after the time axis counts as features). The layers after it that consume masks
    skip the masked steps; as in Keras, the output is zero there.

    The mask is a step function of ``x``: the gradient above holds the mask fixed, so a
    finite-difference check must not move a padded value away from ``mask_value``.

    Parameters
    ----------
    mask_value : float
        The value of padding (0 by default).
    """

    def __init__(self, mask_value=0.0, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.mask_value = checks.number(mask_value, "Masking mask_value")
        self._real = None

    @property
    def padding_value(self):
        """The input value that marks a padded step (see :func:`nnscratch.sequences.pad_ragged`)."""
        return self.mask_value

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            shown = ", ".join(["N", *map(str, input_shape)])
            raise ShapeError(f"Masking layer {self.label} expects input (N, T, features), got "
                             f"shape ({shown})")
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        """:math:`m_{n,t}`: True where some feature of step t differs from ``mask_value``."""
        x = np.asarray(inputs)
        if x.ndim < 3:
            raise ShapeError(f"Masking layer {self.label} expects input (N, T, features), got "
                             f"shape {x.shape}")
        return np.any(x != self.mask_value, axis=tuple(range(2, x.ndim)))

    def forward(self, x, training=False):
        """``y = m x``: the input with masked steps set to 0."""
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(self.dtype)
        real = self.compute_mask(x)
        self._real = real.reshape(real.shape + (1,) * (x.ndim - 2)).astype(x.dtype)
        return x * self._real                                # y = m x

    def backward(self, grad_y):
        return grad_y * self._real                           # dx = m dy

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
