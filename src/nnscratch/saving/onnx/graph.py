"""GraphBuilder: the ONNX nodes and initializers of one exported network, with unique names.

Converters never import ``onnx`` themselves: they call :meth:`GraphBuilder.op` with an operator
name, input names and attributes, and :meth:`GraphBuilder.weight` / :meth:`GraphBuilder.scalar`
for constant tensors, and get back the name of the tensor produced. The builder turns those
calls into ``onnx.helper.make_node`` and ``numpy_helper.from_array``, so the ``onnx`` package is
imported only when an export actually runs.

Every tensor in the graph is float32 except token ids and shape/axis constants (int64),
sequence lengths (int32) and masks (bool): a float64 network's weights are rounded to float32
here, in one place.
"""

import re

import numpy as np

# The most negative int64: a Slice "end" that runs past the start of an axis when stepping back.
INT64_MIN = -(2 ** 63)


class GraphBuilder:
    """Collects nodes and initializers; hands out fresh tensor names.

    Parameters
    ----------
    onnx : module
        The imported ``onnx`` package (see :func:`nnscratch.errors.require`).
    """

    def __init__(self, onnx):
        self.onnx = onnx
        self.helper = onnx.helper
        self.numpy_helper = onnx.numpy_helper
        self.FLOAT = onnx.TensorProto.FLOAT
        self.INT64 = onnx.TensorProto.INT64
        self.INT32 = onnx.TensorProto.INT32
        self.BOOL = onnx.TensorProto.BOOL
        self.nodes = []
        self.initializers = []
        self._used = set()
        self._scalars = {}
        self._reversed_from = {}   # a time-reversed tensor -> the tensor it reverses
        self.masks = {}            # (layer name, input tensor) -> the mask that call makes

    # -- names -----------------------------------------------------------------------------
    def fresh(self, hint):
        """A tensor or node name not used yet, built from ``hint`` (e.g. ``"dense_0/Gemm"``)."""
        base = re.sub(r"[^A-Za-z0-9_./:-]", "_", str(hint)) or "t"
        name, k = base, 1
        while name in self._used:
            name = f"{base}_{k}"
            k += 1
        self._used.add(name)
        return name

    def reserve(self, name):
        """Mark a fixed name (the graph's input) as taken."""
        self._used.add(name)
        return name

    # -- constants -------------------------------------------------------------------------
    def weight(self, name, array, dtype=np.float32):
        """Add ``array`` as an initializer in ``dtype`` (float32, int64 or bool); returns its name."""
        array = np.asarray(array, dtype=dtype, order="C")     # keeps 0-d arrays 0-d
        name = self.fresh(name)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def ints(self, name, values):
        """An int64 1-D initializer (axes, shapes, slice bounds)."""
        return self.weight(name, np.asarray(values, dtype=np.int64).reshape(-1), dtype=np.int64)

    def scalar(self, value):
        """A float32 scalar initializer, shared by every node that uses the same value."""
        value = float(np.float32(value))
        if value not in self._scalars:
            self._scalars[value] = self.weight(f"const_{value:g}", np.float32(value))
        return self._scalars[value]

    # -- nodes -----------------------------------------------------------------------------
    def op(self, op_type, inputs, hint, outputs=1, **attributes):
        """Append one node; returns its output name (or a list of ``outputs`` names).

        ``inputs`` may contain ``""`` for an optional input left out. Attributes whose value is
        None are dropped.
        """
        names = [self.fresh(f"{hint}/{op_type}" + (f":{k}" if outputs > 1 else ""))
                 for k in range(outputs)]
        attributes = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names,
                                                name=self.fresh(f"{hint}/{op_type}_node"),
                                                **attributes))
        return names[0] if outputs == 1 else names

    def step_mask(self, mask, hint):
        """A sequence mask (N, T) as (N, T, 1), to pick whole steps of (N, T, F) by ``Where``."""
        return self.op("Unsqueeze", [mask, self.ints(f"{hint}/axes", [-1])], hint)

    def sequence_lengths(self, mask, hint):
        """The real steps of each sequence of a mask (N, T): ONNX's ``sequence_lens`` (int32)."""
        steps = self.op("Cast", [mask], hint, to=self.INT32)
        return self.op("ReduceSum", [steps, self.ints(f"{hint}/time_axis", [1])], hint,
                       keepdims=0)

    def reverse_time(self, x, hint, axis=1):
        """``x`` with ``axis`` reversed (a Slice with step -1); reversing twice gives ``x`` back."""
        if x in self._reversed_from:
            return self._reversed_from[x]
        y = self.op("Slice", [x, self.ints(f"{hint}/start", [-1]),
                              self.ints(f"{hint}/end", [INT64_MIN]),
                              self.ints(f"{hint}/axes", [axis]), self.ints(f"{hint}/steps", [-1])],
                    hint)
        self._reversed_from[y] = x
        return y
