r"""Multi-head attention (Vaswani et al., 2017) with Keras's arguments and conventions.

A layer of several inputs (:mod:`nnscratch.layers.multi_input`): ``multiple_inputs = True``;
``build(input_shapes)`` and ``compute_output_shape(input_shapes)`` take a list of per-sample
shapes; ``forward(inputs, training=False, attention_mask=None, use_causal_mask=False)`` takes
``[query, value]`` or ``[query, value, key]`` and returns one array; ``backward(grad_y)`` returns
the gradients of those inputs in the same order. The mask is an option of the call, not an
input, so it gets no gradient.

Shapes, batch first: query (N, T_q, E_q), value (N, T_k, E_v), key (N, T_k, E_k) (the value
when not given). With H heads, :math:`d_k` = ``key_dim`` and :math:`d_v` = ``value_dim``:

.. math::

    Q_h = X_q W^q_h + b^q_h, \quad K_h = X_k W^k_h + b^k_h, \quad V_h = X_v W^v_h + b^v_h

    S_h = \frac{Q_h K_h^T}{\sqrt{d_k}}, \qquad
    A_h = \operatorname{softmax}_M(S_h), \qquad O_h = A_h V_h, \qquad
    Y = \sum_h O_h W^o_h + b^o

where :math:`\operatorname{softmax}_M` is the softmax of each row over the keys its mask allows
(:func:`attention_weights`).

Parameter layout, Keras's (``EinsumDense`` kernels): ``W_q`` (E_q, H, key_dim), ``b_q`` (H,
key_dim), ``W_k`` (E_k, H, key_dim), ``b_k`` (H, key_dim), ``W_v`` (E_v, H, value_dim), ``b_v``
(H, value_dim), ``W_o`` (H, value_dim, E_out), ``b_o`` (E_out,). Head h uses
``W_q[:, h, :]``; reshaped to (E_q, H*key_dim) the kernel is a Dense kernel whose columns
``h*key_dim:(h+1)*key_dim`` belong to head h, which is PyTorch's head order. So for
``torch.nn.MultiheadAttention(E, H, batch_first=True)`` with E_q = E_k = E_v = E = H*key_dim::

    in_proj_weight = concat([W_q.reshape(E, E).T, W_k.reshape(E, E).T, W_v.reshape(E, E).T])
    in_proj_bias   = concat([b_q.reshape(E), b_k.reshape(E), b_v.reshape(E)])
    out_proj.weight = W_o.reshape(E, E).T;   out_proj.bias = b_o
"""

import math

import numpy as np

from .. import checks
from ..activations import softmax
from ..activations.kernels import row_sum
from ..errors import DataTypeError, ShapeError
from ..symbolic import call_layer, is_symbolic
from .dropout import dropout_mask
from .masking import check_mask
from .multi_input import MultiInputLayer, shapes_text

# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------

def project(x, W, b):
    r"""Per-head projection of ``x`` (N, T, E) by ``W`` (E, H, d) and ``b`` (H, d) or None:

    .. math::

        P_{n,h,t,:} = x_{n,t,:} W_{:,h,:} + b_{h,:}

    returned as (N, H, T, d). One matrix product: ``x`` (N T, E) times ``W`` as (E, H d).
    """
    E, H, d = W.shape
    p = x.reshape(-1, E) @ W.reshape(E, H * d)
    if b is not None:
        p += b.reshape(H * d)
    return p.reshape(x.shape[0], x.shape[1], H, d).transpose(0, 2, 1, 3)


def project_backward(x, W, grad_p, with_bias):
    r"""``(dx, dW, db)`` of :func:`project` from ``grad_p`` = dL/dP (N, H, T, d):

    .. math::

        dW = X^T dP, \qquad db = \sum_{n,t} dP_{n,t}, \qquad dX = dP\, W^T

    with ``X`` as (N T, E) and ``W``, ``dP`` as (E, H d), (N T, H d); ``db`` is None without bias.
    """
    E, H, d = W.shape
    g = grad_p.transpose(0, 2, 1, 3).reshape(-1, H * d)           # dP as (N T, H d)
    dW = (x.reshape(-1, E).T @ g).reshape(E, H, d)                # dW = X^T dP
    db = g.sum(axis=0).reshape(H, d) if with_bias else None       # db = sum_{n,t} dP
    dx = (g @ W.reshape(E, H * d).T).reshape(x.shape)             # dX = dP W^T
    return dx, dW, db


def attention_weights(scores, mask):
    r"""The masked softmax of ``scores`` (..., T_q, T_k) over the keys (the last axis).

    .. math::

        A_{ij} = \frac{M_{ij}\, e^{S_{ij} - m_i}}{\sum_k M_{ik}\, e^{S_{ik} - m_i}},
        \qquad m_i = \max_{k:\, M_{ik}} S_{ik}

    ``mask`` (broadcastable to ``scores``, True = attend) or None. Masked scores become
    :math:`-\infty` before the stable softmax, so their weight is exactly 0. A row whose mask
    allows no key at all has no distribution to take; its weights are all 0 (PyTorch gives NaN
    there, Keras a uniform row), so its output is 0 and no gradient flows through it.
    """
    if mask is None:
        return softmax(scores)
    allowed_any = mask.any(axis=-1, keepdims=True)
    # masked scores -> -inf (weight 0); a row with nothing allowed -> 0s (finite), zeroed below
    fill = np.where(allowed_any, scores.dtype.type(-np.inf), scores.dtype.type(0))
    weights = softmax(np.where(mask, scores, fill))
    if not allowed_any.all():
        weights *= allowed_any
    return weights


def attention_weights_backward(weights, grad_weights):
    r"""dL/dS from dL/dA through the softmax of each row (its vector-Jacobian product):

    .. math::

        \frac{\partial A_{ij}}{\partial S_{ik}} = A_{ij}(\delta_{jk} - A_{ik})
        \;\Rightarrow\; dS = A \odot \Big(dA - \sum_k dA_{ik} A_{ik}\Big)

    Masked entries and fully masked rows have :math:`A = 0`, hence :math:`dS = 0` there.
    """
    return weights * (grad_weights - row_sum(grad_weights * weights))


# --------------------------------------------------------------------------------------------
# The layer
# --------------------------------------------------------------------------------------------

class MultiHeadAttention(MultiInputLayer):
    r"""Multi-head attention, Keras's ``MultiHeadAttention`` (see the module docstring).

    Called as ``mha(query, value, key=None, attention_mask=None, use_causal_mask=False,
    training=False)`` or with a list, ``mha([query, value])``; ``forward`` takes the list and the
    same keywords.

    - ``attention_mask``: booleans (or 0/1) broadcastable to (N, T_q, T_k), True/1 where query
      position i may attend to key position j. NumPy's broadcasting rules apply, so a 2-D mask
      is (T_q, T_k); a padding mask over the keys (N, T_k) is given as ``mask[:, None, :]``.
    - ``use_causal_mask``: also allow only :math:`j \le i` (the lower triangle; a decoder).
    - ``mask`` (:mod:`nnscratch.layers.masking`): the inputs' sequence masks, a list with one
      (N, T) mask or None per input, which a model passes along by itself (after an
      ``Embedding(mask_zero=True)``, say). The key's mask (the value's when no key is given)
      is a key padding mask: no query attends to a padded key. The output carries the
      query's mask; a padded query still attends to the real keys (its output is masked after).
    - A query row that may attend to nothing gets zero weights, a zero attention output (the
      output is then ``b_o``) and no gradient: finite, never NaN.
    - ``dropout`` drops attention weights while training only (inverted dropout, the masks drawn
      from a generator seeded from the one given to ``build``, else from ``seed``).

    The last forward's weights (before dropout) are kept in ``last_attention_scores`` (N, H, T_q,
    T_k) for figures.

    Parameters
    ----------
    num_heads : int
        H, the number of heads.
    key_dim : int
        Size of each head's queries and keys.
    value_dim : int, optional
        Size of each head's values (default ``key_dim``).
    dropout : float in [0, 1)
        Dropout rate on the attention weights.
    use_bias : bool
        Whether the four projections add biases.
    output_shape : int, optional
        Features of the output (default E_q, the query's).
    kernel_initializer, bias_initializer : str, dict or Initializer
        Glorot uniform (fans: a kernel's rows, and its heads times their size) and zeros.
    kernel_regularizer, bias_regularizer : None, "l1", "l2", dict or Regularizer
    seed : int, optional
        Seeds the dropout masks when the layer is built without a generator.
    """

    min_inputs = 2
    max_inputs = 3
    packable = True       # parameters and gradients change in place only
    _projections = (("q", "key_dim"), ("k", "key_dim"), ("v", "value_dim"))

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, seed=None, name=None,
                 trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.num_heads = checks.positive_int(num_heads, "MultiHeadAttention num_heads")
        self.key_dim = checks.positive_int(key_dim, "MultiHeadAttention key_dim")
        self.value_dim = (self.key_dim if value_dim is None
                          else checks.positive_int(value_dim, "MultiHeadAttention value_dim"))
        self.dropout = checks.number(dropout, "MultiHeadAttention dropout", low=0, high=1,
                                     high_open=True)
        self.use_bias = checks.boolean(use_bias, "MultiHeadAttention use_bias")
        self.output_shape = checks.optional_positive_int(output_shape,
                                                         "MultiHeadAttention output_shape")
        self.keep_param_specs(kernel=(kernel_initializer, kernel_regularizer),
                              bias=(bias_initializer, bias_regularizer))
        self.seed = checks.seed(seed, "MultiHeadAttention seed")
        self.rng = None
        self.last_attention_scores = None
        self._cache = None

    # -- shapes and parameters ----------------------------------------------------------------
    def check_shapes(self, shapes, batch=False):
        shapes = [tuple(shape) for shape in shapes]
        first = 1 if batch else 0                  # the time axis
        if any(len(shape) != first + 2 for shape in shapes):
            raise ShapeError(f"{self._where} expects query, value (and key) shaped (N, T, "
                             f"features), got {shapes_text(shapes, batch)}")
        if batch and any(shape[0] != shapes[0][0] for shape in shapes):
            raise ShapeError(f"{self._where} expects inputs of one batch size, got "
                             f"{shapes_text(shapes, batch)}")
        if shapes[1][first] != shapes[-1][first]:
            raise ShapeError(f"{self._where} expects value and key of one length T_k, got "
                             f"{shapes_text(shapes, batch)}")

    def _features(self, input_shapes):
        """``{"q": E_q, "k": E_k, "v": E_v}`` (the key is the value when not given)."""
        query, value = input_shapes[0], input_shapes[1]
        key = input_shapes[2] if len(input_shapes) == 3 else value
        return {"q": query[-1], "k": key[-1], "v": value[-1]}

    def param_shapes(self, input_shapes):
        """The kernels and biases of the four projections (Keras's layout)."""
        self.check_shapes(input_shapes)
        features, shapes = self._features(input_shapes), {}
        for p, size in self._projections:
            shapes[f"W_{p}"] = (features[p], self.num_heads, getattr(self, size))
            if self.use_bias:
                shapes[f"b_{p}"] = (self.num_heads, getattr(self, size))
        out = self.output_shape or features["q"]
        shapes["W_o"] = (self.num_heads, self.value_dim, out)
        if self.use_bias:
            shapes["b_o"] = (out,)
        return shapes

    def build(self, input_shapes, rng=None, dtype=np.float32):
        super().build(input_shapes, rng, dtype)
        for key, shape in self.param_shapes(self.input_shape).items():
            # fans of each kernel as the matrix it multiplies by: W_q (E, H d), W_o (H d_v, E_out)
            split = 2 if key == "W_o" else 1
            fan_in, fan_out = math.prod(shape[:split]), math.prod(shape[split:])
            part = "kernel" if key.startswith("W") else "bias"
            self.draw_param(key, part, shape, rng, fan_in, fan_out)
        # the dropout masks' own generator, seeded from the network's (as Dropout's)
        self.rng = np.random.default_rng(self.seed if rng is None else int(rng.integers(2 ** 63)))

    def compute_output_shape(self, input_shapes):
        self.check_shapes(input_shapes)
        query = tuple(input_shapes[0])
        return query[:-1] + (self.output_shape or query[-1],)

    def forward_values(self, input_shapes):
        """Per sample: Q, K, V, the weights (twice more with dropout: the mask and the dropped
        weights), the heads' outputs and the output."""
        (t_q, _), (t_k, _) = input_shapes[0], input_shapes[1]
        heads, out = self.num_heads, self.compute_output_shape(input_shapes)[-1]
        weights = heads * t_q * t_k * (3 if self.dropout else 1)
        return (heads * (t_q + t_k) * self.key_dim + heads * (t_k + t_q) * self.value_dim
                + weights + t_q * out)

    # -- computation --------------------------------------------------------------------------
    def _check_inputs(self, arrays):
        """Raise ShapeError unless the arrays are (N, T, E) with the built features."""
        shapes = [x.shape for x in arrays]
        self.check_shapes(shapes, batch=True)
        expected = {p: self.params[f"W_{p}"].shape[0] for p, _ in self._projections}
        if self._features([shape[1:] for shape in shapes]) != expected:
            names = ", ".join(["query", "value", "key"][:len(arrays)])
            wanted = ", ".join(f"(N, T, {expected[p]})" for p in "qvk"[:len(arrays)])
            key_note = "" if len(arrays) == 3 else f" (the value is also the key: E_k = {expected['k']})"
            raise ShapeError(f"{self._where} was built for {names} shaped {wanted}{key_note}, "
                             f"got {shapes_text(shapes, True)}")

    def compute_mask(self, inputs, mask):
        """The query's mask (the output has the query's steps)."""
        return None if mask is None else mask[0]

    def _mask(self, attention_mask, use_causal_mask, n, t_q, t_k, key_mask=None):
        """The boolean mask (N or 1, 1, T_q, T_k) of allowed positions, or None for all.

        ``key_mask`` (N, T_k), True at real keys, or None: padded keys are not attended to.
        """
        mask = None
        if attention_mask is not None:
            mask = np.asarray(attention_mask)
            if mask.dtype.kind not in "biuf":
                raise DataTypeError(f"{self._where} attention_mask must hold booleans or 0/1, got "
                                    f"dtype {mask.dtype}")
            if mask.ndim > 3 or not _broadcasts(mask.shape, (n, t_q, t_k)):
                raise ShapeError(f"{self._where} attention_mask must broadcast to (N, T_q, T_k) = "
                                 f"{(n, t_q, t_k)}, got shape {mask.shape}")
            mask = mask.astype(bool, copy=False)
        if key_mask is not None:                              # (N, 1, T_k): every query alike
            keys = check_mask(key_mask, (n, t_k), self._where)[:, None]
            mask = keys if mask is None else mask & keys
        if checks.boolean(use_causal_mask, "MultiHeadAttention use_causal_mask"):
            causal = np.tri(t_q, t_k, dtype=bool)             # allowed: key j <= query i
            mask = causal if mask is None else mask & causal
        if mask is None:
            return None
        mask = mask.reshape((1,) * (3 - mask.ndim) + mask.shape)
        return mask[:, None]                                  # the same mask for every head

    def forward(self, inputs, training=False, attention_mask=None, use_causal_mask=False,
                mask=None):
        arrays = self.input_list(inputs)
        self._check_inputs(arrays)
        x_q, x_v = arrays[0], arrays[1]
        x_k = arrays[2] if len(arrays) == 3 else x_v
        p = self.params                                       # (no b_* without use_bias)
        Q = project(x_q, p["W_q"], p.get("b_q"))              # Q = X_q W_q + b_q  (N, H, T_q, d_k)
        K = project(x_k, p["W_k"], p.get("b_k"))              # K = X_k W_k + b_k  (N, H, T_k, d_k)
        V = project(x_v, p["W_v"], p.get("b_v"))              # V = X_v W_v + b_v  (N, H, T_k, d_v)
        scale = 1.0 / math.sqrt(self.key_dim)
        scores = (Q @ K.transpose(0, 1, 3, 2)) * scale        # S = Q K^T / sqrt(d_k)
        key_mask = None if mask is None else mask[-1]         # the key's (or the value's)
        mask = self._mask(attention_mask, use_causal_mask, x_q.shape[0], x_q.shape[1],
                          x_k.shape[1], key_mask)
        weights = attention_weights(scores, mask)             # A = softmax_M(S)
        self.last_attention_scores = weights
        drop = None
        if training and self.dropout > 0:
            if self.rng is None:
                self.rng = np.random.default_rng(self.seed)
            drop = dropout_mask(self.rng, weights.shape, self.dropout, weights.dtype)
        dropped = weights if drop is None else weights * drop  # A_d = A * D
        heads = dropped @ V                                    # O = A_d V  (N, H, T_q, d_v)
        merged = heads.transpose(0, 2, 1, 3).reshape(x_q.shape[0], x_q.shape[1], -1)
        W_o = p["W_o"].reshape(-1, 1, p["W_o"].shape[-1])     # (H d_v, 1, E_out)
        b_o = p["b_o"].reshape(1, -1) if self.use_bias else None
        y = project(merged, W_o, b_o)[:, 0]                    # Y = sum_h O_h W_o,h + b_o
        self._cache = (x_q, x_k, x_v, len(arrays), Q, K, V, weights, drop, dropped, merged, scale)
        return y

    def backward(self, grad_y):
        x_q, x_k, x_v, count, Q, K, V, weights, drop, dropped, merged, scale = self._cache
        p, g, with_bias = self.params, self.grads, self.use_bias
        W_o = p["W_o"].reshape(-1, 1, p["W_o"].shape[-1])
        # Y = O W_o + b_o:  dW_o = O^T dY, db_o = sum dY, dO = dY W_o^T
        d_merged, dW_o, db_o = project_backward(merged, W_o, grad_y[:, None], with_bias)
        g["W_o"][...] = dW_o.reshape(g["W_o"].shape)
        if with_bias:
            g["b_o"][...] = db_o.reshape(g["b_o"].shape)
        n, t_q = grad_y.shape[0], grad_y.shape[1]
        d_heads = d_merged.reshape(n, t_q, self.num_heads, -1).transpose(0, 2, 1, 3)
        # O = A_d V:  dA_d = dO V^T, dV = A_d^T dO
        d_dropped = d_heads @ V.transpose(0, 1, 3, 2)
        dV = dropped.transpose(0, 1, 3, 2) @ d_heads
        # A_d = A * D:  dA = dA_d * D
        d_weights = d_dropped if drop is None else d_dropped * drop
        # A = softmax_M(S):  dS = A * (dA - sum_k dA A)
        d_scores = attention_weights_backward(weights, d_weights)
        # S = Q K^T / sqrt(d_k):  dQ = dS K / sqrt(d_k), dK = dS^T Q / sqrt(d_k)
        d_scores *= scale
        dQ = d_scores @ K
        dK = d_scores.transpose(0, 1, 3, 2) @ Q
        # P = X W + b for P = Q, K, V:  dW = X^T dP, db = sum dP, dX = dP W^T
        grads_x = {}
        for key, x, dP in (("q", x_q, dQ), ("k", x_k, dK), ("v", x_v, dV)):
            grads_x[key], dW, db = project_backward(x, p[f"W_{key}"], dP, with_bias)
            g[f"W_{key}"][...] = dW
            if with_bias:
                g[f"b_{key}"][...] = db
        if count == 3:
            return [grads_x["q"], grads_x["v"], grads_x["k"]]
        return [grads_x["q"], grads_x["v"] + grads_x["k"]]    # the key was the value: both paths

    def __call__(self, query, value=None, key=None, attention_mask=None, use_causal_mask=False,
                 training=False):
        """``mha(query, value, key=None, ...)`` (Keras's call) or ``mha([query, value(, key)])``;
        builds on first use. (Code that holds a list of inputs and a training flag calls
        ``forward(inputs, training, **options)``, the contract of every multi-input layer.)"""
        if isinstance(query, (list, tuple)):
            if value is not None or key is not None:
                raise ShapeError(f"{self._where} takes either a list [query, value(, key)] or "
                                 f"query and value (and key), not both; got a list and "
                                 f"{type(value if value is not None else key).__name__}")
            inputs = query
        elif value is None:
            inputs = query                        # one array alone: refused, naming its shape
        else:
            inputs = [query, value] if key is None else [query, value, key]
        options = {"attention_mask": attention_mask, "use_causal_mask": use_causal_mask}
        if is_symbolic(inputs):                   # a node of a functional model
            return call_layer(self, inputs, options)
        return self.forward(inputs, training, **options)

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim,
                      dropout=self.dropout, use_bias=self.use_bias, output_shape=self.output_shape,
                      **self.param_specs_config())
        if self.seed is not None:
            config["seed"] = self.seed
        return config


def _broadcasts(shape, target):
    """Whether an array of ``shape`` broadcasts to exactly ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False
