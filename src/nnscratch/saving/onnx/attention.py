r"""MultiHeadAttention as ONNX nodes (opset 17 has no attention operator): the layer's formulas
written out with ``MatMul``, ``Add``, ``Reshape``, ``Transpose``, ``Softmax`` and ``Where``.

With H heads, :math:`d_k` = ``key_dim``, :math:`d_v` = ``value_dim`` and the kernels read as
matrices (``W_q`` (E_q, H d_k) ...), for query (N, T_q, E_q), value and key (N, T_k, ...):

.. math::

    Q = X_q W_q + b_q \;\to\; (N, H, T_q, d_k), \qquad
    K^T \;\to\; (N, H, d_k, T_k), \qquad V \;\to\; (N, H, T_k, d_v)

    S = \frac{Q K^T}{\sqrt{d_k}}, \qquad A = \operatorname{softmax}_M(S), \qquad
    Y = \operatorname{merge}(A V)\, W_o + b_o

where each projection is ``MatMul`` + ``Add``, then ``Reshape`` to (N, T, H, d) (a 0 keeps the
dynamic batch size) and ``Transpose`` to the heads' layout; ``merge`` transposes the heads'
outputs back and reshapes them to (N, T_q, H d_v).

The mask :math:`M` (True: attend) is the call's ``attention_mask`` (a model input or another
tensor, cast to booleans, nonzero = True) broadcast as the layer broadcasts it, the causal mask
(a constant lower triangle) when ``use_causal_mask``, the key's sequence mask (N, T_k) as a key
padding mask (N, 1, 1, T_k) when the model carries one, or their ``And``. The masked softmax is
the layer's (:func:`nnscratch.layers.attention.attention_weights`):

.. math::

    a_i = [\exists j: M_{ij}], \qquad
    S'_{ij} = \begin{cases} S_{ij} & M_{ij} \\ -\infty & \neg M_{ij},\ a_i \\ 0 & \neg a_i
    \end{cases}, \qquad A_i = a_i \operatorname{softmax}(S'_i)

so a masked key gets weight 0 and a query row that may attend to nothing gets zero weights
(not NaN), hence the output ``b_o`` there, as ``predict`` gives. Dropout is off at inference.
"""

import math

import numpy as np


def _heads(b, x, W, bias, hint, perm):
    """``x W + b`` (N, T, H d) reshaped to (N, T, H, d), then transposed by ``perm``."""
    E, H, d = W.shape
    p = b.op("MatMul", [x, b.weight(f"{hint}.W", np.reshape(W, (E, H * d)))], hint)
    if bias is not None:
        p = b.op("Add", [p, b.weight(f"{hint}.b", np.reshape(bias, H * d))], hint)
    p = b.op("Reshape", [p, b.ints(f"{hint}/shape", [0, 0, H, d])], hint)    # 0: kept (N, T)
    return b.op("Transpose", [p], hint, perm=perm)


def _mask(b, attention_mask, use_causal_mask, t_q, t_k, hint, key_mask=None):
    """The boolean mask, broadcastable to (N, H, T_q, T_k), or None when every key is allowed.

    ``key_mask``: the key's sequence mask (N, T_k) tensor, or None.

    ``attention_mask`` is None or ``(tensor name, per-sample shape)``: the layer pads its array
    (N, ...) with leading axes to 3, then adds the heads' axis at 1; so does ``Unsqueeze`` here.
    """
    mask = None
    if attention_mask is not None:
        name, sample_shape = attention_mask
        rank = len(sample_shape) + 1
        axes = sorted(set(range(3 - rank)) | {1})
        mask = b.op("Cast", [name], f"{hint}/mask", to=b.BOOL)
        mask = b.op("Unsqueeze", [mask, b.ints(f"{hint}/mask_axes", axes)], f"{hint}/mask")
    if key_mask is not None:
        keys = b.op("Unsqueeze", [key_mask, b.ints(f"{hint}/key_mask_axes", [1, 2])],
                    f"{hint}/mask")                                    # (N, 1, 1, T_k)
        mask = keys if mask is None else b.op("And", [mask, keys], f"{hint}/mask")
    if use_causal_mask:
        causal = b.weight(f"{hint}.causal_mask", np.tri(t_q, t_k, dtype=bool)[None, None],
                          dtype=bool)                                  # key j <= query i
        mask = causal if mask is None else b.op("And", [mask, causal], f"{hint}/mask")
    return mask


def _masked_softmax(b, scores, mask, hint):
    """:math:`A = a \\cdot \\operatorname{softmax}(S')` over the keys (see the module docstring)."""
    allowed = b.op("ReduceMax", [b.op("Cast", [mask], hint, to=b.FLOAT)], hint, axes=[-1],
                   keepdims=1)                                         # a_i as 0.0 / 1.0
    allowed = b.op("Cast", [allowed], hint, to=b.BOOL)
    fill = b.op("Where", [allowed, b.scalar(-np.inf), b.scalar(0.0)], hint)
    weights = b.op("Softmax", [b.op("Where", [mask, scores, fill], hint)], hint, axis=-1)
    return b.op("Where", [allowed, weights, b.scalar(0.0)], hint)


def convert_attention(b, layer, xs, in_shapes, attention_mask=None, use_causal_mask=False,
                      mask=None):
    """``[query, value]`` or ``[query, value, key]`` -> the attention output (N, T_q, E_out);
    ``mask``: the inputs' sequence masks (a list, None where an input has none) or None."""
    hint, p = layer.name, layer.params
    t_q, t_k = in_shapes[0][0], in_shapes[1][0]
    x_q, x_v = xs[0], xs[1]
    x_k = xs[2] if len(xs) == 3 else x_v
    Q = _heads(b, x_q, p["W_q"], p.get("b_q"), f"{hint}/query", [0, 2, 1, 3])    # (N,H,T_q,d_k)
    K_T = _heads(b, x_k, p["W_k"], p.get("b_k"), f"{hint}/key", [0, 2, 3, 1])    # (N,H,d_k,T_k)
    V = _heads(b, x_v, p["W_v"], p.get("b_v"), f"{hint}/value", [0, 2, 1, 3])    # (N,H,T_k,d_v)
    scores = b.op("Mul", [b.op("MatMul", [Q, K_T], hint), b.scalar(1.0 / math.sqrt(layer.key_dim))],
                  hint)                                               # S = Q K^T / sqrt(d_k)
    key_mask = None if mask is None else mask[-1]                      # the key's (or value's)
    mask = _mask(b, attention_mask, use_causal_mask, t_q, t_k, hint, key_mask)
    weights = (b.op("Softmax", [scores], hint, axis=-1) if mask is None
               else _masked_softmax(b, scores, mask, hint))            # A = softmax_M(S)
    heads = b.op("MatMul", [weights, V], hint)                         # O = A V (N,H,T_q,d_v)
    merged = b.op("Transpose", [heads], hint, perm=[0, 2, 1, 3])       # (N, T_q, H, d_v)
    H, d_v, e_out = p["W_o"].shape
    merged = b.op("Reshape", [merged, b.ints(f"{hint}/merged_shape", [0, 0, H * d_v])], hint)
    y = b.op("MatMul", [merged, b.weight(f"{hint}.W_o", np.reshape(p["W_o"], (H * d_v, e_out)))],
             hint)                                                     # Y = O W_o
    if layer.use_bias:
        y = b.op("Add", [y, b.weight(f"{hint}.b_o", p["b_o"])], hint)   #   + b_o
    return y
