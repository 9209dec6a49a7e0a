r"""Pure kernels shared by the convolution and pooling layers: sizes, padding, im2col and col2im.

All data is channels-first, ``(N, C, *spatial)`` with one spatial axis (``L``) or two
(``H, W``). A sliding window of ``k`` taps with stride ``s`` and dilation ``d`` over an axis of
length ``n`` padded by ``p_0`` before and ``p_1`` after has

.. math::

    n_{out} = \left\lfloor \frac{n + p_0 + p_1 - d (k - 1) - 1}{s} \right\rfloor + 1

positions (PyTorch's and ONNX's formula, rounding down). Output position ``o`` and kernel
tap ``j`` read the padded input at ``o s + j d``. So for a fixed tap ``j`` the positions read by
all outputs together form one strided slice, ``j d : j d + s (n_{out} - 1) + 1 : s``
(:func:`window_slices`). Every kernel here loops over the taps (``kh * kw`` of them) and moves
whole strided slices at a time; none loops over pixels.

- :func:`im2col` copies, for every tap, its slice into one column matrix of shape
  ``(C * kh * kw, N * H_out * W_out)``, so that a convolution becomes one matrix product
  ``W.reshape(out, -1) @ cols``.
- :func:`col2im` is its adjoint: it adds each tap's rows back onto the slice they came from
  (overlapping windows add up), which is the input gradient of a convolution and the forward
  pass of a transposed convolution.

The data between the layers is laid out **batch-last** in memory, ``(C, *spatial, N)``, and
handed on as the transposed view that is still indexed ``(N, C, *spatial)``
(:func:`batch_last`, :func:`batch_first`). The column matrices follow: a column is a position
``(o_1, ..., n)`` with the sample fastest. So each tap copies (or adds) whole runs of
``W_out * N`` neighbouring values instead of rows of ``W_out``, the matrix product writes its
result in that layout directly, and the pooling kernels read runs of ``N``. On a 2-core machine
this made im2col four times faster and col2im and max pooling twice as fast as the
channel-major ``(C, N, *spatial)`` layout it replaced (NumPy's strided loops pay per run, and
the runs got 6 to 64 times longer).

im2col splits its taps, and col2im its channels, over :func:`nnscratch.threads.split` when the
arrays are large (with one thread, or small arrays, the loop runs once over all of them: the
reference path).

Padding follows TensorFlow and ONNX ``SAME_UPPER`` for ``"same"``: the output length is
``ceil(n / s)`` and when the total padding is odd the extra row or column goes at the end.
"""

import itertools
import math

import numpy as np

from .. import checks, threads
from ..errors import ConfigError, ShapeError

__all__ = ["normalize_padding", "padding_config", "resolve_padding", "output_length",
           "check_input", "check_sample_shape", "sample_layout",
           "output_sizes", "pad", "crop", "crop_slices", "window_slices", "im2col", "col2im",
           "batch_last", "batch_first", "empty_batch_last", "as_batch_last"]


def normalize_padding(padding, rank, what):
    """Check a padding argument; returns ``"same"`` or ``((before, after), ...)``.

    Accepted: the modes ``"valid"`` (no padding) and ``"same"`` (any case), an int (every side),
    a tuple of ``rank`` ints (one per axis, both sides), a tuple of ``rank`` pairs
    ``(before, after)``, or for one spatial axis a single pair ``(before, after)``. Every size
    is a whole number >= 0 (:func:`nnscratch.checks.is_whole`: no bools, floats or strings).
    """
    if isinstance(padding, str):
        mode = checks.choice(padding, what, ("valid", "same"), normalize=str.lower)
        return "same" if mode == "same" else ((0, 0),) * rank
    if checks.is_whole(padding) and padding >= 0:
        return ((int(padding), int(padding)),) * rank
    if isinstance(padding, (tuple, list)):
        items = list(padding)
        if rank == 1 and len(items) == 2 and all(checks.is_whole(v) for v in items):
            items = [items]
        if len(items) == rank:
            pairs = []
            for item in items:
                if checks.is_whole(item):
                    item = (item, item)
                if not (isinstance(item, (tuple, list)) and len(item) == 2
                        and all(checks.is_whole(v) and v >= 0 for v in item)):
                    break
                pairs.append((int(item[0]), int(item[1])))
            else:
                return tuple(pairs)
    raise ConfigError(f"{what} must be \"valid\", \"same\", an int >= 0, a tuple of {rank} ints "
                      f"(one per axis) or of {rank} (before, after) pairs, got {padding!r}")


def padding_config(padding):
    """A JSON-safe form of a normalised padding: ``"same"``, an int when all sides agree, else pairs."""
    if isinstance(padding, str):
        return padding
    sides = {v for pair in padding for v in pair}
    if len(sides) == 1:
        return sides.pop()
    return [list(pair) for pair in padding]


def resolve_padding(padding, in_sizes, kernel_size, stride, dilation):
    """Explicit ``((before, after), ...)`` for the input sizes; works out ``"same"``.

    .. math::

        n_{out} = \\lceil n / s \\rceil, \\quad
        p = \\max((n_{out} - 1) s + d (k - 1) + 1 - n, 0), \\quad
        p_0 = \\lfloor p / 2 \\rfloor, \\quad p_1 = p - p_0
    """
    if padding != "same":
        return padding
    pads = []
    for n, k, s, d in zip(in_sizes, kernel_size, stride, dilation):
        total = max((math.ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def output_length(n, k, s, d, pad_before, pad_after):
    """Number of window positions along one axis (see the module's formula); may be <= 0."""
    return (n + pad_before + pad_after - d * (k - 1) - 1) // s + 1


def output_sizes(layer, in_sizes, kernel_size, stride, dilation, pads):
    """Window positions per spatial axis, or a ShapeError naming ``layer`` if the input is too small."""
    sizes = tuple(output_length(n, k, s, d, p0, p1) for n, k, s, d, (p0, p1)
                  in zip(in_sizes, kernel_size, stride, dilation, pads))
    if min(sizes) < 1:
        span = "x".join(str(d * (k - 1) + 1) for k, d in zip(kernel_size, dilation))
        padded = "x".join(str(n + p0 + p1) for n, (p0, p1) in zip(in_sizes, pads))
        raise ShapeError(
            f"{type(layer).__name__} layer {layer.label} needs a spatial size of at least {span} "
            f"(its {'x'.join(map(str, kernel_size))} window with dilation "
            f"{'x'.join(map(str, dilation))}), got {'x'.join(map(str, in_sizes))} "
            f"({padded} after padding)")
    return sizes


def batch_last(x):
    """The ``(C, *spatial, N)`` view of ``x`` (N, C, *spatial): the memory order of the layers."""
    return np.moveaxis(x, 0, -1)


def batch_first(a):
    """The ``(N, C, *spatial)`` view of ``a`` (C, *spatial, N): how the layers hand data on."""
    return np.moveaxis(a, -1, 0)


def empty_batch_last(shape, dtype, fill=None):
    """An array of ``shape`` (N, C, *spatial) laid out batch-last in memory; filled with
    ``fill`` unless it is None."""
    a = np.empty(tuple(shape[1:]) + tuple(shape[:1]), dtype=dtype)
    if fill is not None:
        a.fill(fill)
    return batch_first(a)


def as_batch_last(x):
    """``x`` (N, C, *spatial) itself when its memory is batch-last, else a batch-last copy (a
    gradient coming back through Flatten, say), so that kernels mixing it with batch-last
    arrays read all of them in one order."""
    if batch_last(x).flags.c_contiguous:
        return x
    out = empty_batch_last(x.shape, x.dtype)
    out[...] = x
    return out


def pad(x, pads, value=0.0):
    """``x`` (N, C, *spatial) with the spatial axes padded by ``pads`` with ``value``.

    Returns ``x`` itself when there is nothing to pad; the padded copy is laid out batch-last.
    """
    if not any(p0 or p1 for p0, p1 in pads):
        return x
    shape = x.shape[:2] + tuple(n + p0 + p1 for n, (p0, p1) in zip(x.shape[2:], pads))
    out = empty_batch_last(shape, x.dtype, fill=value)
    out[crop_slices(pads, x.shape[2:])] = x
    return out


def crop_slices(pads, inner_sizes):
    """The index that selects the unpadded part of a padded (N, C, *spatial) array."""
    inner = tuple(slice(p0, p0 + n) for (p0, _), n in zip(pads, inner_sizes))
    return (slice(None), slice(None)) + inner


def crop(xp, pads):
    """Undo :func:`pad`: the view of ``xp`` without its padding."""
    inner = tuple(n - p0 - p1 for n, (p0, p1) in zip(xp.shape[2:], pads))
    return xp[crop_slices(pads, inner)]


def window_slices(kernel_size, stride, dilation, out_sizes):
    """For each kernel tap ``(j_1, ...)``, the strided spatial slices it reads over all outputs.

    Yields ``(tap_index, slices)``: tap ``j`` along an axis reads positions
    ``j d, j d + s, ..., j d + s (n_out - 1)`` of the padded input.
    """
    for tap in itertools.product(*(range(k) for k in kernel_size)):
        yield tap, tuple(slice(j * d, j * d + s * (n - 1) + 1, s)
                         for j, s, d, n in zip(tap, stride, dilation, out_sizes))


def im2col(xp, kernel_size, stride, dilation, out_sizes):
    """Columns of every window of the padded input ``xp`` (N, C, *spatial).

    Returns an array of shape ``(C * prod(kernel_size), prod(out_sizes) * N)`` whose row
    ``(c, j_1, ...)`` and column ``(o_1, ..., n)`` holds ``xp[n, c, o_1 s_1 + j_1 d_1, ...]``.
    """
    n, c = xp.shape[:2]
    xt = batch_last(xp)                                      # (C, *spatial, N)
    if not xt.flags.c_contiguous:                            # one pass, so every tap reads runs
        xt = np.ascontiguousarray(xt)
    cols = np.empty((c,) + tuple(kernel_size) + tuple(out_sizes) + (n,), dtype=xp.dtype)
    taps = list(window_slices(kernel_size, stride, dilation, out_sizes))

    def fill(start, stop):                                   # taps [start, stop)
        for tap, slices in taps[start:stop]:
            cols[(slice(None),) + tap] = xt[(slice(None),) + slices]

    threads.split(len(taps), fill, cols.size)                # the taps side by side
    return cols.reshape(c * math.prod(kernel_size), math.prod(out_sizes) * n)


def col2im(cols, padded_shape, kernel_size, stride, dilation, out_sizes):
    """The adjoint of :func:`im2col`: sum every column entry back onto the position it came from.

    ``cols`` has im2col's shape; returns an array of ``padded_shape`` (N, C, *spatial) laid out
    batch-last. Positions no window reads get 0.
    """
    n, c = padded_shape[:2]
    cols = cols.reshape((c,) + tuple(kernel_size) + tuple(out_sizes) + (n,))
    out = np.zeros(tuple(padded_shape[1:]) + (n,), dtype=cols.dtype)     # (C, *spatial, N)
    taps = list(window_slices(kernel_size, stride, dilation, out_sizes))

    def add(start, stop):                                    # channels [start, stop)
        part = slice(start, stop)
        for tap, slices in taps:
            out[(part,) + slices] += cols[(part,) + tap]

    threads.split(c, add, cols.size)                         # the channels side by side
    return batch_first(out)


# -- shape checks shared by the layers that take (N, C, *spatial) data ---------------------------

_AXES = {1: ("L",), 2: ("H", "W")}


def sample_layout(rank, channels=None):
    """How messages write a channels-first batch: ``(N, 3, H, W)`` or ``(N, C, L)``."""
    return "(N, " + ", ".join((str(channels) if channels is not None else "C",) + _AXES[rank]) + ")"


def check_sample_shape(layer, input_shape, rank):
    """``input_shape`` (without the batch axis) as a tuple of ints, or a ShapeError naming ``layer``."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != rank + 1 or min(shape) < 1:
        raise ShapeError(f"{type(layer).__name__} layer {layer.label} expects input "
                         f"{sample_layout(rank)} (channels first), got shape (N, "
                         f"{', '.join(map(str, shape))})")
    return shape


def check_input(layer, x, rank, channels=None):
    """``x`` as an array shaped (N, C, *spatial) with ``channels`` channels, or a ShapeError."""
    x = x if isinstance(x, np.ndarray) else np.asarray(x)
    if x.ndim != rank + 2 or (channels is not None and x.shape[1] != channels) or x.size == 0:
        raise ShapeError(f"{type(layer).__name__} layer {layer.label} expects input "
                         f"{sample_layout(rank, channels)}, got shape {x.shape}")
    return x
