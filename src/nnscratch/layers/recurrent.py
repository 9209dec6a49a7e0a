r"""Recurrent layers: SimpleRNN, LSTM and GRU, with backpropagation through time.

The equations, parameter names and shapes are PyTorch's (``torch.nn.RNN``, ``LSTM``, ``GRU``),
so weights move between the two by copying arrays; the keywords are Keras's. Data is
batch-first, ``x`` of shape (N, T, features). With ``G`` gates and ``H = units``:

==========  ===================  =========================  =====================
parameter   shape                meaning                    initialiser (Keras)
==========  ===================  =========================  =====================
``W_ih``    (G*H, features)      input-to-hidden weights    ``glorot_uniform``
``W_hh``    (G*H, H)             hidden-to-hidden weights   ``orthogonal``
``b_ih``    (G*H,)               input bias                 ``zeros``
``b_hh``    (G*H,)               recurrent bias             ``zeros``
==========  ===================  =========================  =====================

The gates are stacked along the first axis in PyTorch's order: SimpleRNN has G = 1, LSTM
G = 4 (i, f, g, o), GRU G = 3 (r, z, n). ``use_bias=False`` drops both biases.

Each class here writes one step of its cell, forward and backward, with the formulas beside the
code; the time loop, the projections, the weight gradients and the initial state are shared, in
:class:`~nnscratch.layers.recurrent_base.BaseRecurrent`.

Sigmoid gates are computed as :math:`\sigma(a) = (1 + \tanh(a / 2)) / 2` (:func:`gate_sigmoid`):
no pre-activation overflows, and LSTM gets all four gates from one ``np.tanh`` call. A gate
multiplies bounded quantities, so what counts is its absolute error (a rounding of 1/2), which
this form keeps; the relative accuracy far in the negative tail, which the public
:func:`nnscratch.activations.sigmoid` keeps, does not matter here. NumPy's float32 ``tanh`` is
about twice as fast as its ``exp``, and the two-branch sigmoid also needs a range check and a
division: a (100, 256) float32 block took 10.5 us this way against 20.
"""

import numpy as np

from .. import activations, checks
from .recurrent_base import BaseRecurrent

__all__ = ["SimpleRNN", "LSTM", "GRU", "gate_sigmoid"]


def gate_sigmoid(a, scale=0.5, shift=0.5):
    r"""In place, :math:`\sigma(a) = \tfrac12 + \tfrac12 \tanh(a / 2)` on ``a``; returns ``a``.

    With ``scale`` and ``shift`` arrays (one value per column) the same four passes compute
    several gates at once: ``tanh(scale a) scale + shift`` is :math:`\sigma(a)` in the columns
    where both are 1/2 and :math:`\tanh(a)` where ``scale`` is 1 and ``shift`` 0.
    """
    a *= scale
    np.tanh(a, out=a)
    a *= scale
    a += shift
    return a


class SimpleRNN(BaseRecurrent):
    r"""Elman recurrent layer, ``torch.nn.RNN`` (one layer) with Keras's keywords.

    Forward, for t = 1 ... T, with activation f (tanh by default):

    .. math::

        z_t = x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh}, \qquad h_t = f(z_t)

    Backward (through time), with :math:`\delta h_t = \partial L / \partial h_t` collected from
    the output and from step t+1:

    .. math::

        \delta z_t = \delta h_t \odot f'(z_t), \qquad
        \delta h_{t-1} \mathrel{+}= \delta z_t W_{hh}

    and the weight gradients sum :math:`\delta z_t^T x_t` and :math:`\delta z_t^T h_{t-1}` over
    t (see the module docstring).

    Parameters
    ----------
    units : int
        Size H of the hidden state.
    activation : str, dict or Activation
        f, by name or object (default tanh; PyTorch offers tanh and relu).
    **kwargs
        ``return_sequences``, ``go_backwards``, ``use_bias``, the initialisers and
        regularisers, ``name``: see :class:`BaseRecurrent`.
    """

    gates = 1

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, **kwargs)
        self.activation = activations.get(activation)

    def _allocate_cache(self, steps, n, dtype):
        return {"z": np.empty((steps, n, self.units), dtype),
                "h": np.empty((steps, n, self.units), dtype)}

    def _cell_forward(self, x_proj, h_proj, states, new_states, cache, t):
        z = np.add(x_proj, h_proj, out=cache["z"][t])        # z_t = x W_ih^T + b_ih + h W_hh^T + b_hh
        h = self.activation.forward(z)                        # h_t = f(z_t)
        cache["h"][t] = h
        new_states[0][...] = h

    def _cell_backward(self, d_states, states, cache, t, d_x_proj, d_h_proj):
        d_x_proj[...] = self.activation.backward(cache["z"][t], cache["h"][t],
                                                 d_states[0])          # dz = dh * f'(z)
        return [None]

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation.get_config()
        return config


class LSTM(BaseRecurrent):
    r"""Long short-term memory layer, ``torch.nn.LSTM`` (one layer) with Keras's keywords.

    Gates in PyTorch's order i, f, g, o (rows of ``W_ih``/``W_hh``/biases in blocks of H).
    Forward, with :math:`a_t = x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh}` split into
    :math:`a^i, a^f, a^g, a^o`:

    .. math::

        i_t = \sigma(a^i_t), \quad f_t = \sigma(a^f_t), \quad g_t = \tanh(a^g_t),
        \quad o_t = \sigma(a^o_t)

        c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)

    Backward through time: given :math:`\delta h_t` (from the output and step t+1) and
    :math:`\delta c_t` (from step t+1), the cell-state path first collects the contribution of
    :math:`h_t`, then splits over the product rule:

    .. math::

        \delta o_t &= \delta h_t \odot \tanh(c_t) \\
        \delta c_t &\mathrel{+}= \delta h_t \odot o_t \odot (1 - \tanh^2 c_t) \\
        \delta i_t &= \delta c_t \odot g_t, \quad \delta g_t = \delta c_t \odot i_t, \quad
        \delta f_t = \delta c_t \odot c_{t-1}, \quad \delta c_{t-1} = \delta c_t \odot f_t \\
        \delta a^i &= \delta i_t\, i_t (1 - i_t), \quad \delta a^f = \delta f_t\, f_t (1 - f_t),
        \quad \delta a^g = \delta g_t (1 - g_t^2), \quad \delta a^o = \delta o_t\, o_t (1 - o_t) \\
        \delta h_{t-1} &= \delta a_t W_{hh}

    Parameters
    ----------
    units : int
        Size H of the hidden state (and of the cell state).
    unit_forget_bias : bool
        As Keras: the forget-gate block of ``b_ih`` starts at 1 (``b_hh`` keeps the bias
        initialiser), so the cell remembers by default. Needs ``use_bias``.
    **kwargs
        ``return_sequences``, ``go_backwards``, ``use_bias``, the initialisers and
        regularisers, ``name``: see :class:`BaseRecurrent`.
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = checks.boolean(unit_forget_bias, "LSTM unit_forget_bias")

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        if self.use_bias and self.unit_forget_bias:
            self.params["b_ih"][self.units:2 * self.units] = 1.0

    def _allocate_cache(self, steps, n, dtype):
        return {"gates": np.empty((steps, n, 4 * self.units), dtype),   # i, f, g, o
                "tanh_c": np.empty((steps, n, self.units), dtype)}

    def _gate_columns(self, dtype):
        """``(scale, shift, beta)`` per column of the four gates: :func:`gate_sigmoid`'s 1/2 and
        1/2 on i, f, o (sigmoids), 1 and 0 on g (tanh); ``beta`` 0 on the sigmoids and 1 on g,
        so that every gate's derivative is ``(1 - u) (beta + u)`` of its value u."""
        columns = self.__dict__.get("_columns")
        if columns is None or columns[0].dtype != dtype:
            H = self.units
            scale, shift = np.full(4 * H, 0.5, dtype), np.full(4 * H, 0.5, dtype)
            beta = np.zeros(4 * H, dtype)
            scale[2 * H:3 * H], shift[2 * H:3 * H], beta[2 * H:3 * H] = 1.0, 0.0, 1.0
            columns = self._columns = (scale, shift, beta)
        return columns

    def _cell_forward(self, x_proj, h_proj, states, new_states, cache, t):
        H = self.units
        gates = np.add(x_proj, h_proj, out=cache["gates"][t])  # a_t: the four pre-activations
        gate_sigmoid(gates, *self._gate_columns(gates.dtype)[:2])   # sigma on i, f, o; tanh g
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        h, c = new_states
        np.multiply(f, states[1], out=c)
        c += i * g                                            # c_t = f c_{t-1} + i g
        tanh_c = np.tanh(c, out=cache["tanh_c"][t])
        np.multiply(o, tanh_c, out=h)                         # h_t = o tanh(c_t)

    def _cell_backward(self, d_states, states, cache, t, d_x_proj, d_h_proj):
        H = self.units
        gates = cache["gates"][t]
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        tanh_c = cache["tanh_c"][t]
        dh, dc = d_states
        da = d_x_proj                                         # dL/dX_p = dL/dH_p = da_t
        dc = dc + dh * o * (1.0 - tanh_c) * (1.0 + tanh_c)    # dc += dh o (1 - tanh^2 c_t)
        np.multiply(dc, g, out=da[:, :H])                     # di = dc g
        np.multiply(dc, states[1], out=da[:, H:2 * H])        # df = dc c_{t-1}
        np.multiply(dc, i, out=da[:, 2 * H:3 * H])            # dg = dc i
        np.multiply(dh, tanh_c, out=da[:, 3 * H:])            # do = dh tanh(c_t)
        # da = d(gate) u'(a), over the four blocks at once: u (1 - u) for the sigmoids i, f, o,
        # (1 - u)(1 + u) = 1 - g^2 for g; both are (1 - u)(beta + u)
        derivative = np.add(gates, self._gate_columns(gates.dtype)[2])
        derivative *= 1.0 - gates
        da *= derivative
        return [None, dc * f]                                 # dc_{t-1} = dc f

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRU(BaseRecurrent):
    r"""Gated recurrent unit, ``torch.nn.GRU`` (one layer) with Keras's keywords.

    Gates in PyTorch's order r, z, n. This is Keras's ``reset_after=True`` form: the reset gate
    multiplies the recurrent projection *after* the matrix product. Forward, with
    :math:`p_t = x_t W_{ih}^T + b_{ih}` and :math:`q_t = h_{t-1} W_{hh}^T + b_{hh}` split into
    r, z, n blocks:

    .. math::

        r_t = \sigma(p^r_t + q^r_t), \quad z_t = \sigma(p^z_t + q^z_t), \quad
        n_t = \tanh(p^n_t + r_t \odot q^n_t)

        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    Backward through time, given :math:`\delta h_t`:

    .. math::

        \delta n_t &= \delta h_t (1 - z_t), \quad \delta z_t = \delta h_t (h_{t-1} - n_t) \\
        \delta a^n &= \delta n_t (1 - n_t^2), \quad \delta r_t = \delta a^n\, q^n_t \\
        \delta a^r &= \delta r_t\, r_t (1 - r_t), \quad \delta a^z = \delta z_t\, z_t (1 - z_t) \\
        \delta p_t &= [\delta a^r, \delta a^z, \delta a^n], \quad
        \delta q_t = [\delta a^r, \delta a^z, r_t \odot \delta a^n] \\
        \delta h_{t-1} &= \delta h_t z_t + \delta q_t W_{hh}

    The other arguments (``return_sequences``, ``go_backwards``, ``use_bias``, the initialisers
    and regularisers, ``name``) are those of :class:`BaseRecurrent`.

    Parameters
    ----------
    units : int
        Size H of the hidden state.
    """

    gates = 3
    same_projection_grads = False      # the reset gate scales only the recurrent part of n
    recurrent_bias_adds = False        # ... and b_hn with it

    def _allocate_cache(self, steps, n, dtype):
        return {"gates": np.empty((steps, n, 3 * self.units), dtype),   # r, z, n
                "q_n": np.empty((steps, n, self.units), dtype)}

    def _cell_forward(self, x_proj, h_proj, states, new_states, cache, t):
        H = self.units
        gates = cache["gates"][t]
        # the gate blocks are strided views of the (N, 3H) cache: work in contiguous arrays
        # (a strided block costs a loop call per row) and copy each block in once
        rz = gate_sigmoid(x_proj[:, :2 * H] + h_proj[:, :2 * H])   # r_t, z_t = sigma(p + q)
        gates[:, :2 * H] = rz
        r, z = rz[:, :H], rz[:, H:]
        q_n = h_proj[:, 2 * H:]                               # q^n = W_hn h_{t-1} + b_hn
        cache["q_n"][t] = q_n
        n_gate = r * q_n
        n_gate += x_proj[:, 2 * H:]
        np.tanh(n_gate, out=n_gate)                           # n_t = tanh(p^n + r q^n)
        gates[:, 2 * H:] = n_gate
        h = np.subtract(states[0], n_gate, out=new_states[0])
        h *= z
        h += n_gate                                           # h_t = (1 - z) n + z h_{t-1}

    def _cell_backward(self, d_states, states, cache, t, d_x_proj, d_h_proj):
        H = self.units
        gates = cache["gates"][t]
        r, z, n_gate = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
        dh, h_prev = d_states[0], states[0]
        dp = d_x_proj                                         # dL/dX_p(t) = [da^r, da^z, da^n]
        dp[:, 2 * H:] = dh * (1.0 - z) * (1.0 - n_gate) * (1.0 + n_gate)  # da^n = dh (1-z)(1-n^2)
        da_n = dp[:, 2 * H:]
        dp[:, :H] = da_n * cache["q_n"][t] * r * (1.0 - r)    # da^r = (da^n q^n) r (1 - r)
        dp[:, H:2 * H] = dh * (h_prev - n_gate) * z * (1.0 - z)   # da^z = dh (h_{t-1} - n) z (1-z)
        d_h_proj[:, :2 * H] = dp[:, :2 * H]                   # dL/dH_p(t) = [da^r, da^z, r da^n]
        np.multiply(da_n, r, out=d_h_proj[:, 2 * H:])         # dq^n = r da^n
        return [dh * z]                                       # direct: dh_{t-1} += dh z
