"""Plain-loop reference implementations of the convolution, pooling and upsampling kernels.

Written straight from the definitions, with explicit loops over samples, channels, output
positions and kernel taps, for one or two spatial axes. Slow and obviously right; the tests
compare the vectorised layers with them. Padding is given explicitly as ((before, after), ...)
per spatial axis; :func:`same_pads` works out TensorFlow/ONNX SAME_UPPER on its own.
"""

import itertools
import math

import numpy as np


def same_pads(in_sizes, kernel, stride, dilation):
    """SAME_UPPER: output ceil(n / s); total padding split with the odd one at the end."""
    pads = []
    for n, k, s, d in zip(in_sizes, kernel, stride, dilation):
        out = -(-n // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _out_sizes(in_sizes, kernel, stride, dilation, pads):
    return tuple((n + p0 + p1 - d * (k - 1) - 1) // s + 1
                 for n, k, s, d, (p0, p1) in zip(in_sizes, kernel, stride, dilation, pads))


def _source(o, tap, stride, dilation, pads):
    """Input coordinates read by output position ``o`` and kernel tap ``tap`` (may be outside)."""
    return tuple(oi * s + ti * d - p0 for oi, ti, s, d, (p0, _) in zip(o, tap, stride, dilation, pads))


def _inside(idx, sizes):
    return all(0 <= i < n for i, n in zip(idx, sizes))


def conv(x, W, b, stride, dilation, pads):
    """y[n, f, o] = b[f] + sum_{c, tap} W[f, c, tap] x[n, c, o s + tap d - p]."""
    N, C = x.shape[:2]
    F, kernel = W.shape[0], W.shape[2:]
    out = _out_sizes(x.shape[2:], kernel, stride, dilation, pads)
    y = np.zeros((N, F) + out)
    for n in range(N):
        for f in range(F):
            for o in itertools.product(*map(range, out)):
                acc = 0.0 if b is None else b[f]
                for c in range(C):
                    for tap in itertools.product(*map(range, kernel)):
                        src = _source(o, tap, stride, dilation, pads)
                        if _inside(src, x.shape[2:]):
                            acc += W[(f, c) + tap] * x[(n, c) + src]
                y[(n, f) + o] = acc
    return y


def conv_backward(x, W, gy, stride, dilation, pads):
    """(dx, dW, db) of :func:`conv` for the output gradient ``gy``."""
    N, C = x.shape[:2]
    F, kernel = W.shape[0], W.shape[2:]
    dx, dW, db = np.zeros(x.shape), np.zeros(W.shape), np.zeros(F)
    for n in range(N):
        for f in range(F):
            for o in itertools.product(*map(range, gy.shape[2:])):
                g = gy[(n, f) + o]
                db[f] += g
                for c in range(C):
                    for tap in itertools.product(*map(range, kernel)):
                        src = _source(o, tap, stride, dilation, pads)
                        if _inside(src, x.shape[2:]):
                            dx[(n, c) + src] += W[(f, c) + tap] * g
                            dW[(f, c) + tap] += x[(n, c) + src] * g
    return dx, dW, db


def conv_transpose(x, W, b, stride, dilation, pads, output_padding):
    """PyTorch's ConvTranspose: y[n, f, i s + tap d - p] += x[n, c, i] W[c, f, tap], plus b."""
    N, C = x.shape[:2]
    F, kernel = W.shape[1], W.shape[2:]
    out = tuple((n - 1) * s - p0 - p1 + d * (k - 1) + e + 1 for n, k, s, d, (p0, p1), e
                in zip(x.shape[2:], kernel, stride, dilation, pads, output_padding))
    y = np.zeros((N, F) + out)
    for n in range(N):
        for f in range(F):
            if b is not None:
                y[n, f] += b[f]
            for c in range(C):
                for i in itertools.product(*map(range, x.shape[2:])):
                    for tap in itertools.product(*map(range, kernel)):
                        dst = _source(i, tap, stride, dilation, pads)
                        if _inside(dst, out):
                            y[(n, f) + dst] += x[(n, c) + i] * W[(c, f) + tap]
    return y


def conv_transpose_backward(x, W, gy, stride, dilation, pads):
    """(dx, dW, db) of :func:`conv_transpose`."""
    N, C = x.shape[:2]
    F, kernel = W.shape[1], W.shape[2:]
    dx, dW = np.zeros(x.shape), np.zeros(W.shape)
    db = np.array([gy[:, f].sum() for f in range(F)])
    for n in range(N):
        for f in range(F):
            for c in range(C):
                for i in itertools.product(*map(range, x.shape[2:])):
                    for tap in itertools.product(*map(range, kernel)):
                        dst = _source(i, tap, stride, dilation, pads)
                        if _inside(dst, gy.shape[2:]):
                            g = gy[(n, f) + dst]
                            dx[(n, c) + i] += W[(c, f) + tap] * g
                            dW[(c, f) + tap] += x[(n, c) + i] * g
    return dx, dW, db


def _windows(x_shape, pool, stride, pads):
    """For each (n, c, o): the list of input coordinates its window covers (None where padded)."""
    ones = (1,) * len(pool)
    out = _out_sizes(x_shape[2:], pool, stride, ones, pads)
    for n in range(x_shape[0]):
        for c in range(x_shape[1]):
            for o in itertools.product(*map(range, out)):
                cells = []
                for tap in itertools.product(*map(range, pool)):
                    src = _source(o, tap, stride, ones, pads)
                    cells.append(src if _inside(src, x_shape[2:]) else None)
                yield (n, c) + o, cells


def max_pool(x, pool, stride, pads):
    """(y, dx-routing): y = max over the window (padding is -inf), first maximum wins."""
    ones = (1,) * len(pool)
    y = np.zeros(x.shape[:2] + _out_sizes(x.shape[2:], pool, stride, ones, pads))
    winners = {}
    for key, cells in _windows(x.shape, pool, stride, pads):
        best, where = -math.inf, None
        for cell in cells:
            value = -math.inf if cell is None else x[key[:2] + cell]
            if value > best:
                best, where = value, cell
        y[key] = best
        winners[key] = where
    return y, winners


def max_pool_backward(x, gy, pool, stride, pads):
    _, winners = max_pool(x, pool, stride, pads)
    dx = np.zeros(x.shape)
    for key, where in winners.items():
        if where is not None:
            dx[key[:2] + where] += gy[key]
    return dx


def avg_pool(x, pool, stride, pads, count_include_pad=True):
    ones = (1,) * len(pool)
    y = np.zeros(x.shape[:2] + _out_sizes(x.shape[2:], pool, stride, ones, pads))
    for key, cells in _windows(x.shape, pool, stride, pads):
        inside = [cell for cell in cells if cell is not None]
        count = len(cells) if count_include_pad else len(inside)
        y[key] = sum(x[key[:2] + cell] for cell in inside) / count
    return y


def avg_pool_backward(x, gy, pool, stride, pads, count_include_pad=True):
    dx = np.zeros(x.shape)
    for key, cells in _windows(x.shape, pool, stride, pads):
        inside = [cell for cell in cells if cell is not None]
        count = len(cells) if count_include_pad else len(inside)
        for cell in inside:
            dx[key[:2] + cell] += gy[key] / count
    return dx


def upsample(x, size):
    """Nearest neighbour: y[n, c, i, j] = x[n, c, i // s_h, j // s_w]."""
    out = tuple(n * s for n, s in zip(x.shape[2:], size))
    y = np.zeros(x.shape[:2] + out)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for o in itertools.product(*map(range, out)):
                y[(n, c) + o] = x[(n, c) + tuple(oi // s for oi, s in zip(o, size))]
    return y


def upsample_backward(x, gy, size):
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for o in itertools.product(*map(range, gy.shape[2:])):
                dx[(n, c) + tuple(oi // s for oi, s in zip(o, size))] += gy[(n, c) + o]
    return dx


def run_onnx_node(op, inputs, initializers, out_rank, **attrs):
    """Run one ONNX operator in ONNX Runtime (an independent implementation to compare with).

    ``inputs`` and ``initializers`` map names to float32 arrays, in the operator's input order.
    Skips the calling test when onnx or onnxruntime is not installed.
    """
    import pytest
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper
    node = helper.make_node(op, list(inputs) + list(initializers), ["y"], **attrs)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * out_rank)],
        initializer=[numpy_helper.from_array(v, k) for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)[0]
