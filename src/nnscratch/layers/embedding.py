r"""Embedding: a lookup table from integer token ids to learned vectors."""

import math

import numpy as np

from .. import checks
from ..errors import DataError, DataTypeError
from .base import Layer


class Embedding(Layer):
    r"""Maps token ids to rows of a learned matrix, ``torch.nn.Embedding`` with Keras's keywords.

    For ids :math:`k` of shape (N, T) (any shape (N, ...) works) and the table ``W`` of shape
    (input_dim, output_dim), PyTorch's ``weight`` layout:

    .. math::

        y_{n,t} = W_{k_{n,t}}, \qquad
        \frac{\partial L}{\partial W_v} = \sum_{(n,t):\, k_{n,t} = v} \frac{\partial L}{\partial y_{n,t}}

    so a row's gradient is the sum of the output gradients of every position holding that id
    (rows of ids that do not occur get zero).

    Token ids are not differentiable: they are labels, and a step of 1e-6 in an id has no
    meaning. ``backward`` therefore returns zeros shaped like the input (so the layer fits the
    layer contract), and ``differentiable_input`` is False, which tells the gradient checker
    not to take finite differences with respect to the ids.

    The network casts its input to floats, so float arrays holding whole numbers are accepted
    and cast to integers; a non-whole value or an id outside ``[0, input_dim)`` raises
    :class:`~nnscratch.errors.DataError` naming it.

    Parameters
    ----------
    input_dim : int
        Size of the vocabulary: ids run from 0 to input_dim - 1 (PyTorch's ``num_embeddings``,
        the attribute this layer stores it in).
    output_dim : int
        Length of each vector (PyTorch's ``embedding_dim``).
    embeddings_initializer : str, dict or Initializer
        Keras's default, ``"uniform"`` U(-0.05, 0.05).
    embeddings_regularizer : None, "l1", "l2", dict or Regularizer
        Penalty on ``W``.
    mask_zero : bool
        Id 0 is padding (Keras's keyword): the output carries the mask ``ids != 0`` (see
        :mod:`nnscratch.layers.masking`), so recurrent layers, pooling over time, the loss and
        the metrics after it skip padded steps. Id 0 then stands for no token, and
        ``input_dim`` counts it (vocabulary size + 1). Its row of ``W`` is still an ordinary
        parameter, which a padded step reads but whose value reaches nothing downstream.
    """

    differentiable_input = False

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, mask_zero=False, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        # Stored under PyTorch's names: ``input_dim`` on a first layer means "number of input
        # features" to the Network (Dense's keyword), which a vocabulary size is not.
        self.num_embeddings = checks.positive_int(input_dim, "Embedding input_dim")
        self.embedding_dim = checks.positive_int(output_dim, "Embedding output_dim")
        self.keep_param_specs(embeddings=(embeddings_initializer, embeddings_regularizer))
        self.mask_zero = checks.boolean(mask_zero, "Embedding mask_zero")
        self._ids = None
        self._input_dtype = None

    def param_shapes(self, input_shape):
        """The table ``W`` (input_dim, output_dim), whatever the shape of the ids."""
        return {"W": (self.num_embeddings, self.embedding_dim)}

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        self.draw_param("W", "embeddings", self.param_shapes(input_shape)["W"], rng,
                        self.num_embeddings, self.embedding_dim)

    def forward_values(self, input_shape):
        """The looked-up vectors: T D per sample for ids shaped (N, T)."""
        return math.prod(self.compute_output_shape(input_shape))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embedding_dim,)

    @property
    def padding_value(self):
        """0 with ``mask_zero`` (the id of padding), else None (no mask is made)."""
        return 0 if self.mask_zero else None

    def compute_mask(self, inputs, mask):
        """``ids != 0`` with ``mask_zero`` (True: a real token), else None."""
        return np.asarray(inputs) != 0 if self.mask_zero else None

    def token_ids(self, x):
        """``x`` as an integer array of ids, or DataError naming the first bad value."""
        x = np.asarray(x)
        where = f"Embedding layer {self.label}"
        if x.dtype.kind == "b" or x.dtype.kind not in "iuf":
            raise DataTypeError(f"{where} expects integer token ids, got dtype {x.dtype}")
        if x.ndim < 1:
            raise DataError(f"{where} expects a batch of token ids (N, ...), got a scalar")
        if x.dtype.kind == "f":
            whole = np.isfinite(x) & (x == np.round(x))
            if not whole.all():
                index = tuple(int(i) for i in np.argwhere(~whole)[0])
                raise DataError(f"{where} expects integer token ids, got {x[index]} at index "
                                f"{index}")
        bad = (x < 0) | (x >= self.num_embeddings)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            value = x[index]
            value = int(value) if x.dtype.kind == "f" else value
            raise DataError(f"{where} expects token ids in [0, {self.num_embeddings}), got "
                            f"{value} at index {index}")
        return x.astype(np.intp, copy=False)

    def forward(self, x, training=False):
        """``y = W[ids]``: shape ``x.shape + (output_dim,)``."""
        self._input_dtype = np.asarray(x).dtype
        self._ids = self.token_ids(x)
        return self.params["W"][self._ids]

    def backward(self, grad_y):
        """Scatter-add ``grad_y`` into the rows of ``dW``; returns zeros (ids have no gradient)."""
        ids = self._ids                           # the base class checked the call and the shape
        grad_y = np.asarray(grad_y, dtype=self.params["W"].dtype)
        dW = self.grads["W"]
        dW[...] = 0
        np.add.at(dW, ids.reshape(-1), grad_y.reshape(-1, self.embedding_dim))  # dW_v = sum dy at id v
        grad_dtype = self._input_dtype if self._input_dtype.kind == "f" else dW.dtype
        return np.zeros(ids.shape, dtype=grad_dtype)                 # dL/d(ids) := 0

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.num_embeddings, output_dim=self.embedding_dim,
                      **self.param_specs_config(), mask_zero=self.mask_zero)
        return config
