r"""PositionalEmbedding: a learned vector for each position, added to a sequence.

A single-input layer (the :class:`~nnscratch.layers.Layer` contract), for GPT-style models:
token ids go through an :class:`~nnscratch.layers.Embedding`, then this layer adds where each
token stands.
"""

import math

import numpy as np

from .. import checks
from ..errors import ShapeError
from .base import Layer


class PositionalEmbedding(Layer):
    r"""Add a learned embedding of each position to inputs shaped (N, T, D), T <= sequence_length.

    With the table ``W`` of shape (sequence_length, output_dim), one row per position (GPT-2's
    ``wpe``, PyTorch's ``nn.Embedding`` layout):

    .. math::

        y_{n,t,:} = x_{n,t,:} + W_{t,:}, \qquad
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}, \qquad
        \frac{\partial L}{\partial W_{t,:}} = \sum_n \frac{\partial L}{\partial y_{n,t,:}}
        \;(t < T), \quad 0 \;(t \ge T)

    A shorter sequence uses the first T rows; a longer one is a
    :class:`~nnscratch.errors.ShapeError`.

    What it returns: the input plus the positions. Keras-NLP's ``PositionEmbedding`` returns the
    position embeddings alone (it reads only the input's shape) and leaves the sum to the caller,
    as its ``TokenAndPositionEmbedding`` does; this layer is that sum, ``x + P``, in one step.

    Parameters
    ----------
    sequence_length : int
        The longest sequence: the number of positions learned.
    output_dim : int
        The feature size D of the inputs (and of each position vector).
    embeddings_initializer : str, dict or Initializer
        Keras-NLP's default, ``"glorot_uniform"``.
    embeddings_regularizer : None, "l1", "l2", dict or Regularizer
        Penalty on ``W``.
    """

    packable = True       # W and its gradient change in place only
    supports_masking = True   # a padded step stays padded

    def __init__(self, sequence_length, output_dim, embeddings_initializer="glorot_uniform",
                 embeddings_regularizer=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.sequence_length = checks.positive_int(sequence_length,
                                                   "PositionalEmbedding sequence_length")
        self.output_dim = checks.positive_int(output_dim, "PositionalEmbedding output_dim")
        self.keep_param_specs(embeddings=(embeddings_initializer, embeddings_regularizer))
        self._length = None

    def _check_shape(self, shape, what):
        """Raise ShapeError unless ``shape`` (a sample's or a batch's) ends in (T, output_dim)
        with T <= sequence_length."""
        where = f"PositionalEmbedding layer {self.label}"
        batch = len(shape) == 3 if what == "inputs" else len(shape) == 2
        if not batch or shape[-1] != self.output_dim:
            raise ShapeError(f"{where} expects inputs (N, T, {self.output_dim}), got {what} "
                             f"shaped {tuple(shape)}")
        if shape[-2] > self.sequence_length:
            raise ShapeError(f"{where} has {self.sequence_length} positions, got sequences of "
                             f"{shape[-2]} steps ({what} shaped {tuple(shape)})")

    def param_shapes(self, input_shape):
        """The table ``W`` (sequence_length, output_dim)."""
        return {"W": (self.sequence_length, self.output_dim)}

    def build(self, input_shape, rng=None, dtype=np.float32):
        self._check_shape(tuple(input_shape), "samples")
        super().build(input_shape, rng, dtype)
        shape = self.param_shapes(self.input_shape)["W"]
        self.draw_param("W", "embeddings", shape, rng, shape[0], shape[1])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward_values(self, input_shape):
        """The output, shaped like the input."""
        return math.prod(input_shape)

    def forward(self, x, training=False):
        x = x if isinstance(x, np.ndarray) else np.asarray(x)
        self._check_shape(x.shape, "inputs")
        self._length = x.shape[1]
        return x + self.params["W"][:self._length]        # y_{n,t} = x_{n,t} + W_t

    def backward(self, grad_y):
        dW = self.grads["W"]
        dW[self._length:] = 0                              # positions not used: no gradient
        np.sum(grad_y, axis=0, out=dW[:self._length])      # dW_t = sum_n dy_{n,t}
        return grad_y                                      # dx = dy

    def get_config(self):
        config = super().get_config()
        config.update(sequence_length=self.sequence_length, output_dim=self.output_dim,
                      **self.param_specs_config())
        return config
