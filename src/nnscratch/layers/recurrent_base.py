r"""The time loop shared by the recurrent layers: projections, BPTT, initial states, checks.

:class:`BaseRecurrent` runs a cell (SimpleRNN, LSTM or GRU, in :mod:`nnscratch.layers.recurrent`)
over the T steps of batch-first data ``x`` (N, T, features) with ``G`` gates and ``H = units``:

1. the input projection of every time step is one matrix product before the loop,
   :math:`X_p = X W_{ih}^T + b_{ih}` for all (N, T) at once;
2. the loop over t (the only Python loop) adds the recurrent projection
   :math:`H_p = h_{t-1} W_{hh}^T + b_{hh}` and applies the cell;
3. the backward loop runs t = T-1 ... 0 and hands each step's gradients with respect to the two
   projections, :math:`\delta X_p(t)` and :math:`\delta H_p(t)`, to stacked arrays; after the
   loop each weight gradient is one matrix product over all (t, n):

.. math::

    \frac{\partial L}{\partial W_{hh}} = \sum_{t,n} \delta H_p(t)_n^T\, h_{t-1,n}, \quad
    \frac{\partial L}{\partial W_{ih}} = \sum_{t,n} \delta X_p(t)_n^T\, x_{t,n}, \quad
    \frac{\partial L}{\partial x_t} = \delta X_p(t)\, W_{ih}

while the recurrent path :math:`\partial L / \partial h_{t-1} = \delta H_p(t) W_{hh} + (\text{the
cell's direct path})` has to stay inside the loop. For LSTM and SimpleRNN
:math:`\delta X_p = \delta H_p`; for GRU they differ in the candidate gate, where the reset gate
multiplies only the recurrent part.

The initial state is passed per call, as Keras (``layer(x, initial_state=...)``) and PyTorch
(``lstm(x, (h0, c0))``) do; it is per-batch data, not a hyperparameter, so the constructor
does not take it. After ``backward``, ``grad_initial_state`` holds
:math:`\partial L / \partial h_0` (and :math:`\partial L / \partial c_0` for LSTM) in the same
form as the state was given; ``final_state`` holds the last state after ``forward``. Keras's
``return_state`` is not offered because a layer in a :class:`~nnscratch.Network` returns one
array; read ``final_state`` instead.

Everything is computed in the parameters' dtype (float32 stays float32); the input is cast to it.

**Masks** (Keras's rule, :mod:`nnscratch.layers.masking`): ``forward(x, mask=m)`` with ``m``
(N, T), True at real steps, runs the cell only where a step is real and keeps the previous
state where it is masked,

.. math::

    s_t = m_t\, \mathrm{cell}(x_t, s_{t-1}) + (1 - m_t)\, s_{t-1}
    \quad\Rightarrow\quad
    \delta s_{t-1} = m_t\, \delta s_{t-1}^{\mathrm{cell}} + (1 - m_t)\, \delta s_t

for every state s (h, and c for LSTM): backward, the cell's gradients are taken with
:math:`m_t \delta s_t` (zero at a masked step, so no weight gradient and no input gradient
comes from it) and a masked step hands :math:`\delta s_t` straight back. So the last state is
the one after each sequence's last real step, and a batch of padded sequences gives what each
sequence gives on its own. With ``go_backwards`` the mask is reversed with the input: an
end-padded sequence read backwards starts at its last real step. With ``return_sequences`` a
masked step outputs the state it kept, i.e. the previous output (Keras's default); with
``zero_output_for_mask=True`` it outputs zeros instead (Keras's option, which Keras's and our
Bidirectional switch on). The output's mask is the input's (reversed with ``go_backwards``,
whose outputs come in reversed time) with ``return_sequences``, none without.
"""

import numpy as np

from .. import checks
from ..errors import DataTypeError, ShapeError
from ..symbolic import call_layer, is_symbolic
from .base import Layer, check_input_features
from .masking import check_mask

__all__ = ["BaseRecurrent"]


class BaseRecurrent(Layer):
    """Shared time loop of the recurrent layers (not used on its own).

    A subclass sets ``gates`` (G) and ``state_names`` (``("h",)`` or ``("h", "c")``) and
    writes one step of its cell forward (``_cell_forward``) and backward (``_cell_backward``);
    this class does the projections, the loop, the stacked weight gradients, the initial
    state and the checks.

    Parameters
    ----------
    units : int
        Size H of the hidden state.
    return_sequences : bool
        Return every step's hidden state (N, T, H) instead of the last one (N, H).
    go_backwards : bool
        Read the sequence from the last step to the first (Keras); with ``return_sequences``
        the outputs are in processing order, i.e. reversed time (as Keras returns them).
    use_bias : bool
        Whether to have ``b_ih`` and ``b_hh``.
    kernel_initializer, recurrent_initializer, bias_initializer : str, dict or Initializer
        For ``W_ih``, ``W_hh`` and both biases. Fans are Keras's: ``W_ih`` has fan_in =
        features and fan_out = G*H.
    kernel_regularizer, recurrent_regularizer, bias_regularizer : None, "l1", "l2", dict or Regularizer
        Penalties on ``W_ih``, ``W_hh`` and both biases.
    zero_output_for_mask : bool
        With a mask and ``return_sequences``, output zeros at masked steps instead of the kept
        state (Keras's keyword; see the module docstring).
    """

    abstract = True
    gates = 1
    state_names = ("h",)
    # b_hh only adds to the pre-activation (SimpleRNN, LSTM): the forward adds it to X_p with
    # b_ih, once for all steps; GRU multiplies part of H_p (with b_hh) by its reset gate
    recurrent_bias_adds = True
    # dL/dX_p = dL/dH_p (SimpleRNN, LSTM): the backward keeps one stack for both
    same_projection_grads = True

    def __init__(self, units, return_sequences=False, go_backwards=False, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, zero_output_for_mask=False, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        kind = type(self).__name__
        self.units = checks.positive_int(units, f"{kind} units")
        self.return_sequences = checks.boolean(return_sequences, f"{kind} return_sequences")
        self.go_backwards = checks.boolean(go_backwards, f"{kind} go_backwards")
        self.use_bias = checks.boolean(use_bias, f"{kind} use_bias")
        self.zero_output_for_mask = checks.boolean(zero_output_for_mask,
                                                   f"{kind} zero_output_for_mask")
        self.keep_param_specs(kernel=(kernel_initializer, kernel_regularizer),
                              recurrent=(recurrent_initializer, recurrent_regularizer),
                              bias=(bias_initializer, bias_regularizer))
        self.final_state = None
        self.grad_initial_state = None
        self._cache = None

    # -- shapes and parameters -------------------------------------------------------------
    def _where(self):
        return f"{type(self).__name__} layer {self.label}"

    def param_shapes(self, input_shape):
        """``W_ih`` (G H, features), ``W_hh`` (G H, H), ``b_ih`` and ``b_hh`` (G H,)."""
        input_shape = tuple(int(s) for s in input_shape)
        if len(input_shape) != 2:
            shown = ", ".join(["N", *map(str, input_shape)])
            raise ShapeError(f"{self._where()} expects input (N, T, features), got shape ({shown})")
        gh = self.gates * self.units
        shapes = {"W_ih": (gh, input_shape[-1]), "W_hh": (gh, self.units)}
        if self.use_bias:
            shapes.update(b_ih=(gh,), b_hh=(gh,))
        return shapes

    def build(self, input_shape, rng=None, dtype=np.float32):
        shapes = self.param_shapes(input_shape)       # a clear error first for a wrong rank
        super().build(input_shape, rng, dtype)
        gh, features = shapes["W_ih"]
        self.draw_param("W_ih", "kernel", shapes["W_ih"], rng, features, gh)
        self.draw_param("W_hh", "recurrent", shapes["W_hh"], rng, self.units, gh)
        if self.use_bias:
            for key in ("b_ih", "b_hh"):
                self.draw_param(key, "bias", shapes[key], rng, features, gh)

    def forward_values(self, input_shape):
        """Every state after every step, (T + 1) H per state, and the input projections, T G H."""
        steps = int(input_shape[0])
        return ((steps + 1) * len(self.state_names) + steps * self.gates) * self.units

    def compute_mask(self, inputs, mask):
        """The input's mask with ``return_sequences`` (reversed with ``go_backwards``), else None."""
        if mask is None or not self.return_sequences:
            return None
        return mask[:, ::-1] if self.go_backwards else mask

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], self.units)
        return (self.units,)

    # -- checks ----------------------------------------------------------------------------
    def _check_rank(self, x):
        if np.ndim(x) != 3:
            raise ShapeError(f"{self._where()} expects input (N, T, features), got shape "
                             f"{np.shape(x)}")

    def _check_input(self, x):
        x = np.asarray(x)
        self._check_rank(x)
        if x.dtype.kind not in "fiu":
            raise DataTypeError(f"{self._where()} expects numbers, got dtype {x.dtype}")
        check_input_features(self, x, self.params["W_ih"].shape[1])
        if x.shape[1] == 0:
            raise ShapeError(f"{self._where()} needs at least one time step, got input shape "
                             f"{x.shape}")
        return x.astype(self.params["W_ih"].dtype, copy=False)

    def _initial_states(self, initial_state, n):
        """The initial states as a list of (N, H) arrays (zeros when not given)."""
        dtype = self.params["W_hh"].dtype
        count = len(self.state_names)
        if initial_state is None:
            return [np.zeros((n, self.units), dtype) for _ in range(count)]
        form = self._state_form()
        if count == 1 and not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != count:
            got = (f"{len(initial_state)} arrays" if isinstance(initial_state, (list, tuple))
                   else type(initial_state).__name__)
            raise ShapeError(f"{self._where()} expects initial_state {form}, got {got}")
        states = []
        for state_name, state in zip(self.state_names, initial_state):
            state = np.asarray(state)
            if state.shape != (n, self.units) or state.dtype.kind not in "fiu":
                each = " each" if count > 1 else ""
                raise ShapeError(
                    f"{self._where()} expects initial_state {form}{each} shaped "
                    f"({n}, {self.units}) (N, units), got {state_name}0 shaped {state.shape} "
                    f"of dtype {state.dtype}")
            states.append(state.astype(dtype))
        return states

    def _state_form(self):
        names = [f"{s}0" for s in self.state_names]
        return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"

    def _packed(self, states):
        """States in the form the user gives them: one array, or a tuple for LSTM."""
        return states[0] if len(states) == 1 else tuple(states)

    # -- the time loop ---------------------------------------------------------------------
    def __call__(self, x, training=False, initial_state=None, mask=None):
        """``forward`` on arrays; on a symbolic tensor (``ns.Input``), a node of a model."""
        if is_symbolic(x):
            options = {k: v for k, v in (("initial_state", initial_state), ("mask", mask))
                       if v is not None}
            return call_layer(self, x, options)
        self._check_rank(x)                 # before building: the message shows x's shape
        return self.forward(x, training=training, initial_state=initial_state, mask=mask)

    def forward(self, x, training=False, initial_state=None, mask=None):
        """Run the cell over the T steps; returns (N, H), or (N, T, H) with ``return_sequences``.

        Any T works, whatever T the layer was built for. ``initial_state``: h0 shaped
        (N, units) (SimpleRNN, GRU; a one-element list is accepted too, as Keras gives it), or
        ``(h0, c0)`` for LSTM. Zeros when None. ``mask``: (N, T) booleans, True at real steps
        (see the module docstring), or None.
        """
        x = self._check_input(x)
        given = (x, initial_state, mask)                      # for a backward after inference
        n, steps, _ = x.shape
        W_ih, W_hh = self.params["W_ih"], self.params["W_hh"]
        states0 = self._initial_states(initial_state, n)
        keep = None                                           # (T, N, 1): m_t in processing order
        if mask is not None:
            mask = check_mask(mask, (n, steps), self._where())
            keep = np.ascontiguousarray((mask[:, ::-1] if self.go_backwards else mask).T)[..., None]
        if self.go_backwards:
            x = x[:, ::-1]
        x_t = np.ascontiguousarray(x.transpose(1, 0, 2))      # time-major (T, N, features)
        if x_t.shape[-1] == 1:                                # one feature: an outer product,
            x_proj = x_t * W_ih[:, 0]                         # which NumPy's matmul does slowly
        else:
            x_proj = x_t @ W_ih.T                             # X_p = X W_ih^T, every step at once
        b_hh = self.params.get("b_hh")
        if self.use_bias:
            x_proj += self.params["b_ih"]                     #     + b_ih
            if self.recurrent_bias_adds:                      #     + b_hh, once for all steps
                x_proj += b_hh
                b_hh = None
        # seq[k][t] is state k after t steps (seq[k][0] the initial state)
        seq = [np.empty((steps + 1, n, self.units), W_hh.dtype) for _ in self.state_names]
        for k, state in enumerate(states0):
            seq[k][0] = state
        # what the cell keeps for the backward: every step's in training; outside it one step's
        # worth, written over each step (a small block that stays in the cache: LSTM(64)
        # predict on batches of 100 over 50 steps ran 15% faster)
        cache = self._allocate_cache(steps if training else 1, n, W_hh.dtype)
        # W_hh^T copied once: each step's product then reads a contiguous right-hand side,
        # which OpenBLAS ran 20% faster (18 against 22 us for a batch of 100 and H = 64)
        W_hh_t = np.ascontiguousarray(W_hh.T)
        h_proj = np.empty((n, W_hh.shape[0]), W_hh.dtype)     # scratch: a cell may overwrite it
        skip = None if keep is None else ~keep                # (T, N, 1): the masked steps
        for t in range(steps):
            np.matmul(seq[0][t], W_hh_t, out=h_proj)          # H_p = h_{t-1} W_hh^T
            if b_hh is not None:
                h_proj += b_hh                                #     + b_hh
            self._cell_forward(x_proj[t], h_proj, [s[t] for s in seq], [s[t + 1] for s in seq],
                               cache, t if training else 0)
            if skip is not None:                              # s_t = s_{t-1} where m_t = 0
                for state in seq:
                    np.copyto(state[t + 1], state[t], where=skip[t])
        # a backward after an inference forward runs the forward again, in training
        self._cache = (x_t, seq, cache, keep) if training else (None, *given)
        self.final_state = self._packed([s[steps] for s in seq])
        if self.return_sequences:
            outputs = seq[0][1:]
            if keep is not None and self.zero_output_for_mask:
                outputs = np.where(keep, outputs, outputs.dtype.type(0))   # y_t = m_t h_t
            return np.ascontiguousarray(outputs.transpose(1, 0, 2))
        return seq[0][steps].copy()

    def backward(self, grad_y):
        """Backpropagation through time; returns dL/dx (N, T, features) and fills ``grads``.

        Also sets ``grad_initial_state`` (dL/dh0, or (dL/dh0, dL/dc0) for LSTM).
        """
        if self._cache[0] is None:              # the forward was outside training: it kept
            x, initial_state, mask = self._cache[1:]            # one step's cell values only
            self.forward(x, training=True, initial_state=initial_state, mask=mask)
        x_t, seq, cache, keep = self._cache    # the base class checked the call and grad_y's shape
        steps, n, _ = x_t.shape
        W_ih, W_hh = self.params["W_ih"], self.params["W_hh"]
        dtype = W_hh.dtype
        grad_y = np.asarray(grad_y, dtype=dtype)
        gh = self.gates * self.units
        d_h_proj = np.empty((steps, n, gh), dtype)            # dL/dH_p(t), stacked over t
        d_x_proj = (d_h_proj if self.same_projection_grads    # dL/dX_p(t), stacked over t
                    else np.empty((steps, n, gh), dtype))
        grad_seq = grad_y.transpose(1, 0, 2) if self.return_sequences else None
        if keep is not None:
            if grad_seq is not None and self.zero_output_for_mask:
                grad_seq = grad_seq * keep                    # y_t = m_t h_t: dh_t = m_t dy_t
            real, skipped = keep.astype(dtype), (~keep).astype(dtype)
        # d_states[k]: dL/d(state k after step t+1) from the steps after it (and the output)
        d_states = [np.zeros((n, self.units), dtype) for _ in self.state_names]
        if not self.return_sequences:
            d_states[0] = grad_y.copy()                       # only h_T reaches the output
        for t in reversed(range(steps)):
            if grad_seq is not None:
                d_states[0] = d_states[0] + grad_seq[t]       # h_t is also an output
            through = d_states if keep is None else [d * real[t] for d in d_states]   # m_t ds_t
            # the cell writes dL/dX_p(t) and dL/dH_p(t) into the stacks (one stack when equal)
            direct = self._cell_backward(through, [s[t] for s in seq], cache, t, d_x_proj[t],
                                         d_h_proj[t])
            d_h_prev = d_h_proj[t] @ W_hh                     # dL/dh_{t-1} through H_p = h W_hh^T
            if direct[0] is not None:
                d_h_prev += direct[0]                         #   + the cell's direct path
            new_d = [d_h_prev] + list(direct[1:])
            if keep is not None:                              #   + (1 - m_t) ds_t: a kept state
                new_d = [d_prev + d * skipped[t] for d_prev, d in zip(new_d, d_states)]
            d_states = new_d
        # weight gradients: one product over all (t, n) each
        rows = steps * n
        h_prev = seq[0][:-1].reshape(rows, self.units)
        np.matmul(d_h_proj.reshape(rows, gh).T, h_prev, out=self.grads["W_hh"])   # dW_hh
        np.matmul(d_x_proj.reshape(rows, gh).T, x_t.reshape(rows, -1),
                  out=self.grads["W_ih"])                                          # dW_ih
        if self.use_bias:
            np.sum(d_h_proj, axis=(0, 1), out=self.grads["b_hh"])                  # db_hh
            if d_x_proj is d_h_proj:                                               # db_ih, the
                self.grads["b_ih"][...] = self.grads["b_hh"]                       # same sum
            else:
                np.sum(d_x_proj, axis=(0, 1), out=self.grads["b_ih"])
        self.grad_initial_state = self._packed(d_states)
        grad_x = (d_x_proj.reshape(rows, gh) @ W_ih).reshape(steps, n, -1).transpose(1, 0, 2)
        #                                                       dx_t = dX_p(t) W_ih
        if self.go_backwards:
            grad_x = grad_x[:, ::-1]
        return np.ascontiguousarray(grad_x)

    # -- the cell (subclasses) -------------------------------------------------------------
    def _allocate_cache(self, steps, n, dtype):
        """Arrays the cell fills during the forward, indexed by step."""
        raise NotImplementedError

    def _cell_forward(self, x_proj, h_proj, states, new_states, cache, t):
        """One step: writes the new states into the arrays ``new_states`` from the projections
        and the previous ``states``. ``h_proj`` is scratch the cell may overwrite (the loop
        makes it anew each step); nothing of it may be kept without a copy."""
        raise NotImplementedError

    def _cell_backward(self, d_states, states, cache, t, d_x_proj, d_h_proj):
        """One step back: writes dL/dX_p(t) into ``d_x_proj`` and dL/dH_p(t) into
        ``d_h_proj`` (the same array when ``same_projection_grads``), returns ``direct``.

        ``d_states`` are dL/d(new states); ``states`` the previous states; ``direct`` the
        gradients with respect to the previous states through paths other than ``H_p`` (None
        where there is none), one per state.
        """
        raise NotImplementedError

    # -- description -----------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, return_sequences=self.return_sequences,
                      go_backwards=self.go_backwards, use_bias=self.use_bias,
                      zero_output_for_mask=self.zero_output_for_mask, **self.param_specs_config())
        return config
