"""Layers that only move values: Flatten, Reshape, UpSampling, and Dropout at inference.

- Flatten: ``Flatten(axis=1)``, row-major as nnscratch flattens.
- Reshape: ``Reshape`` to ``[0, *shape]``: the 0 copies the (dynamic) batch size, the rest is
  the layer's per-sample shape for the network's input, any -1 already resolved.
- UpSampling: ``Resize`` with ``mode="nearest"``, scales ``[1, 1, *size]``,
  ``coordinate_transformation_mode="asymmetric"`` and ``nearest_mode="floor"``, which reads
  output position :math:`i` from input :math:`\\lfloor i / s \\rfloor`, exactly nnscratch's
  repetition.
- Dropout is the identity at inference: no node.
"""

import numpy as np


def convert_flatten(b, layer, x, in_shape):
    """(N, d_1, ..., d_k) -> (N, d_1 ... d_k)."""
    return b.op("Flatten", [x], layer.name, axis=1)


def convert_reshape(b, layer, x, in_shape):
    """(N, *in_shape) -> (N, *target_shape)."""
    target = layer.compute_output_shape(in_shape)
    return b.op("Reshape", [x, b.ints(f"{layer.name}/shape", (0,) + tuple(target))], layer.name)


def convert_upsampling(b, layer, x, in_shape):
    """:math:`Y_{n,c,i,j} = X_{n,c,\\lfloor i/s_h \\rfloor, \\lfloor j/s_w \\rfloor}`."""
    scales = b.weight(f"{layer.name}/scales", np.array((1.0, 1.0) + tuple(layer.size)))
    return b.op("Resize", [x, "", scales], layer.name, mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def convert_dropout(b, layer, x, in_shape):
    """The identity (inverted dropout does nothing at inference)."""
    return x
