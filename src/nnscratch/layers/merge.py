r"""Merge layers: several inputs into one, with Keras's names and meanings.

``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum`` and ``Minimum`` work elementwise on
inputs of one shape (Subtract on exactly two, the others on two or more); ``Concatenate`` joins
inputs along an axis. None has parameters.

Masks (:mod:`nnscratch.layers.masking`): the output of an elementwise merge, or of a
concatenation along the features, is masked where any input is (the AND of the inputs'
masks); a concatenation along the time axis (axis 1) joins the masks along time, an input
without a mask counting as all real.

These are layers of several inputs (:mod:`nnscratch.layers.multi_input`): ``multiple_inputs =
True``; ``build(input_shapes)`` and ``compute_output_shape(input_shapes)`` take a list of
per-sample shapes (no batch axis); ``forward(inputs)`` takes a list of arrays and returns one;
``backward(grad_y)`` returns one gradient per input, in the same order, no two sharing memory;
``layer([a, b])`` builds on first use. Inputs that do not fit together raise a
:class:`~nnscratch.errors.ShapeError` naming the layer and the shapes:

>>> import numpy as np, nnscratch as ns
>>> ns.layers.Add()([np.ones((2, 3)), np.ones((2, 3))]).tolist()
[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
"""

import math

import numpy as np

from .. import checks
from ..errors import ConfigError, ShapeError
from .masking import all_real
from .multi_input import MultiInputLayer, shapes_text

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]


class _Elementwise(MultiInputLayer):
    """Base of the elementwise merges: inputs of one shape, an output of that shape.

    A subclass writes ``merge(arrays) -> y`` and ``merge_backward(grad_y) -> [grad_x, ...]``.
    """

    abstract = True
    supports_masking = True

    def check_shapes(self, shapes, batch=False):
        if any(tuple(shape) != tuple(shapes[0]) for shape in shapes):
            raise ShapeError(f"{self._where} expects inputs of one shape, got "
                             f"{shapes_text(shapes, batch)}")

    def compute_output_shape(self, input_shapes):
        self.check_shapes(input_shapes)
        return tuple(input_shapes[0])

    def forward_values(self, input_shapes):
        """The output, one array shaped like each input."""
        return math.prod(input_shapes[0])

    def forward(self, inputs, training=False):
        arrays = self.input_list(inputs)
        self.check_shapes([x.shape for x in arrays], batch=True)
        self._count = len(arrays)
        return self.merge(arrays)

    def backward(self, grad_y):
        return self.merge_backward(grad_y)

    def merge(self, arrays):
        """The merged array ``y`` of a list of equally shaped arrays."""
        raise NotImplementedError

    def merge_backward(self, grad_y):
        """One gradient per input from ``grad_y``."""
        raise NotImplementedError


def _total(arrays):
    """``x_1 + ... + x_k`` in a new array."""
    total = arrays[0] + arrays[1]
    for x in arrays[2:]:
        total += x
    return total


def _copies(grad, count):
    """``grad`` for each of ``count`` inputs: itself for the first, copies for the others."""
    return [grad] + [grad.copy() for _ in range(count - 1)]


class Add(_Elementwise):
    r"""The sum of its inputs (residual connections), Keras's ``Add``.

    .. math::

        y = \sum_{i=1}^k x_i, \qquad \frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial y}
    """

    def merge(self, arrays):
        return _total(arrays)                              # y = sum_i x_i

    def merge_backward(self, grad_y):
        return _copies(grad_y, self._count)                # dx_i = dy


class Subtract(_Elementwise):
    r"""The first input minus the second, Keras's ``Subtract`` (exactly two inputs).

    .. math::

        y = x_1 - x_2, \qquad \frac{\partial L}{\partial x_1} = \frac{\partial L}{\partial y},
        \quad \frac{\partial L}{\partial x_2} = -\frac{\partial L}{\partial y}
    """

    max_inputs = 2

    def merge(self, arrays):
        return arrays[0] - arrays[1]                       # y = x_1 - x_2

    def merge_backward(self, grad_y):
        return [grad_y, -grad_y]                           # dx_1 = dy, dx_2 = -dy


class Multiply(_Elementwise):
    r"""The elementwise product of its inputs, Keras's ``Multiply``.

    .. math::

        y = \prod_{i=1}^k x_i, \qquad
        \frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial y} \odot \prod_{j \ne i} x_j

    The product of the others is formed from running products from the left and from the
    right (never by dividing ``y`` by ``x_i``, which fails where ``x_i = 0``).
    """

    def merge(self, arrays):
        self._arrays = arrays
        product = arrays[0] * arrays[1]
        for x in arrays[2:]:
            product *= x
        return product                                     # y = prod_i x_i

    def merge_backward(self, grad_y):
        arrays = self._arrays
        right = [None] * len(arrays)                       # right[i] = x_{i+1} ... x_k
        running = None
        for i in range(len(arrays) - 1, 0, -1):
            running = arrays[i] if running is None else running * arrays[i]
            right[i - 1] = running
        grads, left = [], None                             # left = x_1 ... x_{i-1}
        for i, x in enumerate(arrays):
            if left is None:
                others = right[i]
            elif right[i] is None:
                others = left
            else:
                others = left * right[i]
            grads.append(grad_y * others)                  # dx_i = dy * prod_{j != i} x_j
            left = x if left is None else left * x
        return grads


class Average(_Elementwise):
    r"""The mean of its inputs, Keras's ``Average``.

    .. math::

        y = \frac{1}{k}\sum_{i=1}^k x_i, \qquad
        \frac{\partial L}{\partial x_i} = \frac{1}{k}\frac{\partial L}{\partial y}
    """

    def merge(self, arrays):
        total = _total(arrays)
        total *= 1.0 / len(arrays)
        return total                                       # y = (1/k) sum_i x_i

    def merge_backward(self, grad_y):
        return _copies(grad_y * (1.0 / self._count), self._count)   # dx_i = dy / k


class _Extremum(_Elementwise):
    """Base of Maximum and Minimum: each output element comes from the input that won there.

    The gradient goes to that input alone. On a tie the first of the tied inputs wins (the
    comparison is strict, so a later input must beat the running winner), as ``np.argmax``
    picks the first; the others get zero there.
    """

    abstract = True
    beats = None           # np.greater or np.less: whether a new value beats the running one

    def merge(self, arrays):
        best = arrays[0]
        winner = np.zeros(best.shape, np.min_scalar_type(len(arrays) - 1))
        for i, x in enumerate(arrays[1:], start=1):
            wins = self.beats(x, best)                    # strict: a tie stays with the first
            best = np.where(wins, x, best)
            winner[wins] = i
        self._winner = winner
        return best

    def merge_backward(self, grad_y):
        # dx_i = dy where input i won, 0 elsewhere
        return [grad_y * (self._winner == i) for i in range(self._count)]


class Maximum(_Extremum):
    r"""The elementwise maximum of its inputs, Keras's ``Maximum``.

    .. math::

        y = \max_i x_i, \qquad \frac{\partial L}{\partial x_i} =
        \frac{\partial L}{\partial y} \odot \mathbb{1}[i = \operatorname{argmax}_j x_j]

    The gradient goes to the input that holds the maximum; on a tie, to the first of them.
    """

    beats = np.greater


class Minimum(_Extremum):
    r"""The elementwise minimum of its inputs, Keras's ``Minimum``.

    .. math::

        y = \min_i x_i, \qquad \frac{\partial L}{\partial x_i} =
        \frac{\partial L}{\partial y} \odot \mathbb{1}[i = \operatorname{argmin}_j x_j]

    The gradient goes to the input that holds the minimum; on a tie, to the first of them.
    """

    beats = np.less


class Concatenate(MultiInputLayer):
    r"""Join inputs along ``axis``, Keras's ``Concatenate``.

    The inputs have one rank and equal sizes on every axis but ``axis``. The backward splits the
    gradient back into the inputs' pieces:

    .. math::

        y = [x_1, x_2, \dots, x_k]_{\text{axis}}, \qquad
        \frac{\partial L}{\partial x_i} = \Big(\frac{\partial L}{\partial y}\Big)_{
        \text{the rows of } x_i \text{ along axis}}

    Parameters
    ----------
    axis : int
        The axis to join along, counting the batch axis as Keras does (-1, the default, is the
        last axis; 1 the first axis of a sample). Axis 0, the batch, is refused.
    """

    def __init__(self, axis=-1, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.axis = checks.integer(axis, "Concatenate axis")
        if self.axis == 0:
            raise ConfigError("Concatenate axis must not be 0, the batch axis (samples are joined "
                              "feature by feature, not appended to the batch); got 0")
        self._sizes = None

    def check_shapes(self, shapes, batch=False):
        """Returns the joined axis within ``shapes`` (counting the batch axis when it is there)."""
        shapes = [tuple(shape) for shape in shapes]
        listed = shapes_text(shapes, batch)
        if any(len(shape) != len(shapes[0]) for shape in shapes):
            raise ShapeError(f"{self._where} expects inputs of one rank, got {listed}")
        ndim = len(shapes[0]) + (0 if batch else 1)         # axes of the arrays, batch included
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 1 <= axis < ndim:
            raise ShapeError(f"{self._where} has axis={self.axis}, which is not an axis of a "
                             f"sample of {listed}")
        index = axis if batch else axis - 1
        others = [shape[:index] + shape[index + 1:] for shape in shapes]
        if any(other != others[0] for other in others):
            raise ShapeError(f"{self._where} expects inputs of equal sizes on every axis but "
                             f"axis {self.axis}, got {listed}")
        return index

    def compute_mask(self, inputs, mask):
        """Along the time axis the inputs' masks joined (a missing one all real); along a
        later axis their AND."""
        if mask is None or all(m is None for m in mask):
            return None
        if self.check_shapes([np.shape(x) for x in inputs], batch=True) != 1:
            return all_real(mask)
        return np.concatenate([np.ones(np.shape(x)[:2], bool) if m is None else m
                               for x, m in zip(inputs, mask)], axis=1)

    def compute_output_shape(self, input_shapes):
        shapes = [tuple(shape) for shape in input_shapes]
        axis = self.check_shapes(shapes)
        joined = sum(shape[axis] for shape in shapes)
        return shapes[0][:axis] + (joined,) + shapes[0][axis + 1:]

    def forward_values(self, input_shapes):
        """The output."""
        return math.prod(self.compute_output_shape(input_shapes))

    def forward(self, inputs, training=False):
        arrays = self.input_list(inputs)
        axis = self.check_shapes([x.shape for x in arrays], batch=True)
        self._axis, self._sizes = axis, [x.shape[axis] for x in arrays]
        return np.concatenate(arrays, axis=axis)          # y = [x_1, ..., x_k] along axis

    def backward(self, grad_y):
        # dx_i = the slice of dy that x_i filled (views of dy, one per input)
        return np.split(grad_y, np.cumsum(self._sizes)[:-1], axis=self._axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
