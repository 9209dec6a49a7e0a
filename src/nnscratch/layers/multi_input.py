"""The contract of layers that take several inputs (merge layers, attention).

A single-input layer keeps the contract of :class:`~nnscratch.layers.Layer`. A layer of several
inputs differs from it in four places only:

- the class attribute ``multiple_inputs = True`` says so (a graph engine reads it);
- ``build(input_shapes, rng=None, dtype=...)``, ``param_shapes(input_shapes)`` and
  ``compute_output_shape(input_shapes)`` take a list of per-sample shapes, one per input, each
  without the batch axis;
- ``forward(inputs, training=False, **options)`` takes a list of arrays and returns one array;
  the options are keywords a layer documents (attention's ``attention_mask``);
- ``backward(grad_y)`` returns a list of gradients, one per input in the order of ``inputs``
  (``None`` for an input that is not differentiable, such as a mask). No two entries share
  memory (one may be ``grad_y`` itself or a view of it), so whoever sums the gradients of a
  tensor that fans out may add into one entry without changing another.

As for one input, ``forward`` (and so ``layer(inputs)``) builds the layer on first use, from the
shapes of the arrays given; a backward before any forward is a
:class:`~nnscratch.errors.NotBuiltError` and a gradient not shaped like the output a
:class:`~nnscratch.errors.ShapeError` (both checked by :class:`~nnscratch.layers.Layer`).
``input_shape`` holds the list of per-sample shapes after the build.
"""

import functools

import numpy as np

from ..errors import ShapeError
from ..symbolic import call_layer, is_symbolic
from .base import Layer
from .masking import all_real
from .memory import check_layer


def _built_on_first_use(forward):
    """``forward`` that first builds the layer from the per-sample shapes of its inputs."""

    @functools.wraps(forward)
    def building(self, inputs, training=False, **options):
        if not self.built:
            shapes = [x.shape for x in self.input_list(inputs)]
            self.check_shapes(shapes, batch=True)        # an error names the arrays' shapes
            self.build([shape[1:] for shape in shapes])
        return forward(self, inputs, training, **options)

    return building


def shapes_text(shapes, batch):
    """``inputs shaped (4, 5), (4, 6)`` (``batch``: the shapes of arrays) or ``per-sample shapes
    (5,), (6,)``: shapes listed for a message."""
    listed = ", ".join(str(tuple(shape)) for shape in shapes)
    return f"inputs shaped {listed}" if batch else f"per-sample shapes {listed}"


class MultiInputLayer(Layer):
    """Base of layers whose input is a list of arrays (see the module docstring).

    A subclass sets ``min_inputs`` and ``max_inputs`` (None: no upper bound), implements
    ``forward(inputs, training=False, **options)`` and ``backward(grad_y) -> list``, and checks
    its own shapes in ``check_shapes`` (called by :meth:`build`, and with the arrays' shapes
    before a build on first use).
    """

    abstract = True
    multiple_inputs = True
    min_inputs = 2
    max_inputs = None

    def __init_subclass__(cls, **kwargs):
        # Layer wraps forward and backward with its checks; a forward of several inputs also
        # builds from a list of shapes, which Layer's wrapper (one array) cannot.
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls):
            cls.forward = _built_on_first_use(vars(cls)["forward"])

    @property
    def _where(self):
        return f"{type(self).__name__} layer {self.label}"

    def _count_text(self):
        low, high = self.min_inputs, self.max_inputs
        if low == high:
            return f"exactly {low}"
        return f"{low} or more" if high is None else f"{low} to {high}"

    def input_list(self, inputs):
        """``inputs`` as a list of arrays, or ShapeError when it is not a list of a count this
        layer takes (a single array is refused: these layers have no one-input meaning)."""
        if not isinstance(inputs, (list, tuple)):
            raise ShapeError(f"{self._where} expects a list of {self._count_text()} input arrays, "
                             f"got one {type(inputs).__name__} shaped {np.shape(inputs)}")
        self._check_count(len(inputs))
        return [x if isinstance(x, np.ndarray) else np.asarray(x) for x in inputs]

    def _check_count(self, count):
        if count < self.min_inputs or (self.max_inputs is not None and count > self.max_inputs):
            raise ShapeError(f"{self._where} expects {self._count_text()} inputs, got {count}")

    def check_shapes(self, shapes, batch=False):
        """Raise ShapeError when the inputs' ``shapes`` do not fit together: per-sample shapes,
        or with ``batch`` the arrays' shapes (whose batch sizes must then agree too)."""

    def build(self, input_shapes, rng=None, dtype=np.float32):
        """Check the per-sample ``input_shapes`` (a list, one per input), then create the
        parameters for them; refuses first, as :meth:`Layer.build` does, parameters that would
        not fit in memory."""
        shapes = [tuple(int(size) for size in shape) for shape in input_shapes]
        self._check_count(len(shapes))
        self.check_shapes(shapes)
        check_layer(self, shapes, dtype)
        self.input_shape = shapes
        self.dtype = np.dtype(dtype)
        self.built = True

    def compute_output_shape(self, input_shapes):
        """The output's per-sample shape for a list of per-sample input shapes."""
        raise NotImplementedError

    def compute_mask(self, inputs, mask):
        """``mask`` is a list, one entry per input (None where an input has none). With
        ``supports_masking`` the output is masked where any input is (their AND), else None."""
        return all_real(mask) if self.supports_masking and mask is not None else None

    def __call__(self, inputs, training=False, **options):
        """``forward(inputs, training, **options)``; builds on first use. On symbolic tensors
        (from ``ns.Input``), a node of a functional model (see :mod:`nnscratch.symbolic`)."""
        if is_symbolic(inputs):
            return call_layer(self, inputs, options)
        return self.forward(inputs, training, **options)
