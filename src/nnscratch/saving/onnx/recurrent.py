"""SimpleRNN, LSTM, GRU and Bidirectional as ONNX ``RNN``, ``LSTM`` and ``GRU`` nodes.

nnscratch's recurrent layers follow PyTorch's equations; ONNX's operators compute the same
cells once the weights are rearranged:

- gate blocks are stacked in another order: PyTorch's LSTM ``i, f, g, o`` is ONNX's
  ``i, o, f, c`` (blocks ``[0, 3, 1, 2]``), PyTorch's GRU ``r, z, n`` is ONNX's ``z, r, h``
  (blocks ``[1, 0, 2]``);
- ``W_ih`` and ``W_hh`` become ``W`` and ``R`` with a leading direction axis of 1, and the two
  biases are concatenated into ``B = [b_ih, b_hh]``;
- the GRU needs ``linear_before_reset=1``: PyTorch (and Keras's ``reset_after``) multiply the
  reset gate into the recurrent projection after the matrix product, bias included;
- ONNX Runtime runs these operators time-major (``layout=0``), so a ``Transpose`` turns the
  batch-first (N, T, F) input into (T, N, F) and the output back;
- ``go_backwards`` is ``direction="reverse"``. ONNX indexes the outputs ``Y`` by the time of
  the input they belong to, while nnscratch (like Keras) returns them in processing order, so
  a reversed layer's sequence is reversed once more along time;
- ``return_sequences`` takes ``Y`` (T, 1, N, H) squeezed and transposed to (N, T, H); without
  it the output is the last state ``Y_h`` (1, N, H) squeezed to (N, H).

A SimpleRNN whose activation ONNX's ``RNN`` operator does not offer here (anything but tanh,
relu and sigmoid) is unrolled over its (static) number of steps instead: one input projection
``MatMul`` for all steps, then per step :math:`h_t = f(p_t + h_{t-1} W_{hh}^T)` with ``Gather``
picking step t and the activation's own converter.

Bidirectional exports its two copies as two operators (each as above) and merges their
outputs as the layer does: ``Concat`` on the last axis, ``Add``, ``Mul``, or ``Add`` times 1/2.
With ``return_sequences`` the backward copy's sequence is first put back into input order.

A mask becomes the operators' ``sequence_lens`` (exact for end-padded sequences), or ``Where``
at each step of the unrolled SimpleRNN: see :mod:`.sequences`.
"""

import numpy as np

from ...layers.recurrent import GRU, LSTM, SimpleRNN
from .activations import convert_activation
from .dense import describe

# nnscratch (PyTorch) gate block k goes to ONNX position i: ONNX blocks = [ours[k] for k in order]
GATE_ORDER = {SimpleRNN: [0], LSTM: [0, 3, 1, 2], GRU: [1, 0, 2]}
OPERATOR = {SimpleRNN: "RNN", LSTM: "LSTM", GRU: "GRU"}
# SimpleRNN activations that ONNX's RNN operator takes by name
RNN_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}


def _reorder(array, order):
    """Stack the gate blocks of ``array`` (along axis 0) in ONNX's order."""
    blocks = np.split(np.asarray(array), len(order), axis=0)
    return np.concatenate([blocks[k] for k in order], axis=0)


def _squeeze(b, x, axis, hint):
    return b.op("Squeeze", [x, b.ints(f"{hint}/axes", [axis])], hint)


def _unsqueeze(b, x, axis, hint):
    return b.op("Unsqueeze", [x, b.ints(f"{hint}/axes", [axis])], hint)


def recurrent_output(b, cell, params, x, in_shape, hint, where, mask=None):
    """The output of recurrent ``cell`` (its configuration) with ``params`` on ``x`` (N, T, F).

    ``params`` holds ``W_ih``, ``W_hh`` (and ``b_ih``, ``b_hh``); the result follows nnscratch:
    (N, H), or (N, T, H) in processing order with ``return_sequences``. ``where`` names the
    layer in error messages; ``mask`` is the input's (N, T) mask tensor, or None.
    """
    kind = type(cell)
    if kind is SimpleRNN and cell.activation.name not in RNN_ACTIVATIONS:
        return _unrolled_rnn(b, cell, params, x, in_shape, hint, where, mask)
    order = GATE_ORDER[kind]
    inputs = [b.op("Transpose", [x], hint, perm=[1, 0, 2]),                    # (T, N, F)
              b.weight(f"{hint}.W", _reorder(params["W_ih"], order)[None]),    # (1, G H, F)
              b.weight(f"{hint}.R", _reorder(params["W_hh"], order)[None])]    # (1, G H, H)
    if cell.use_bias:
        bias = np.concatenate([_reorder(params["b_ih"], order), _reorder(params["b_hh"], order)])
        inputs.append(b.weight(f"{hint}.B", bias[None]))                       # (1, 2 G H)
    if mask is not None:
        inputs += [""] * (4 - len(inputs)) + [b.sequence_lengths(mask, f"{hint}/mask")]
    attributes = {"hidden_size": cell.units,
                  "direction": "reverse" if cell.go_backwards else "forward"}
    if kind is GRU:
        attributes["linear_before_reset"] = 1
    if kind is SimpleRNN:
        attributes["activations"] = [RNN_ACTIVATIONS[cell.activation.name]]
    y_all, y_last = b.op(OPERATOR[kind], inputs, hint, outputs=2, **attributes)
    if not cell.return_sequences:
        return _squeeze(b, y_last, 0, hint)                                    # (N, H)
    y = _squeeze(b, y_all, 1, hint)                                            # (T, N, H)
    y = b.op("Transpose", [y], hint, perm=[1, 0, 2])                           # (N, T, H)
    if mask is not None and not cell.go_backwards and not cell.zero_output_for_mask:
        last = _unsqueeze(b, _squeeze(b, y_last, 0, hint), 1, hint)           # (N, 1, H)
        y = b.op("Where", [b.step_mask(mask, hint), y, last], hint)           # kept: h_len
    return b.reverse_time(y, hint) if cell.go_backwards else y                 # processing order


def _unrolled_rnn(b, cell, params, x, in_shape, hint, where, mask=None):
    """SimpleRNN as one node group per time step (any exportable activation); with a mask,
    :math:`h_t = m_t f(z_t) + (1 - m_t) h_{t-1}` by ``Where``."""
    steps = in_shape[0]
    keep = None if mask is None else b.step_mask(mask, f"{hint}/mask")       # (N, T, 1)
    proj = b.op("MatMul", [x, b.weight(f"{hint}.W_ih_T", np.transpose(params["W_ih"]))], hint)
    if cell.use_bias:                                              # p = x W_ih^T + b_ih + b_hh
        bias = np.asarray(params["b_ih"], np.float64) + params["b_hh"]
        proj = b.op("Add", [proj, b.weight(f"{hint}.b", bias)], hint)
    W_hh_T = b.weight(f"{hint}.W_hh_T", np.transpose(params["W_hh"]))
    h, outputs = None, []
    for t in (reversed(range(steps)) if cell.go_backwards else range(steps)):
        step = f"{hint}/t{t}"
        z = b.op("Gather", [proj, b.weight(f"{step}/index", np.int64(t), dtype=np.int64)],
                 step, axis=1)                                                 # p_t (N, H)
        if h is not None:
            z = b.op("Add", [z, b.op("MatMul", [h, W_hh_T], step)], step)      # + h_{t-1} W_hh^T
        new = convert_activation(b, z, cell.activation, step, where)           # h_t = f(z_t)
        if keep is None:
            h = new
        else:                                                                  # kept where m_t = 0
            m_t = b.op("Gather", [keep, b.weight(f"{step}/index", np.int64(t), dtype=np.int64)],
                       step, axis=1)                                           # (N, 1)
            h = b.op("Where", [m_t, new, b.scalar(0.0) if h is None else h], step)
            if cell.zero_output_for_mask:
                outputs.append(b.op("Where", [m_t, h, b.scalar(0.0)], step))
                continue
        outputs.append(h)
    if not cell.return_sequences:
        return h
    return b.op("Concat", [_unsqueeze(b, h_t, 1, hint) for h_t in outputs], hint, axis=1)


def convert_recurrent(b, layer, x, in_shape, mask=None):
    """SimpleRNN, LSTM or GRU."""
    return recurrent_output(b, layer, layer.params, x, in_shape, layer.name, describe(layer),
                            mask)


def convert_bidirectional(b, layer, x, in_shape, mask=None):
    """Both copies, the backward one's sequence put back in input order, then the merge."""
    hint = layer.name
    halves = []
    for prefix, copy in layer._halves:
        params = {key: layer.params[prefix + key] for key in copy.params}
        halves.append(recurrent_output(b, copy, params, x, in_shape, f"{hint}/{prefix[:-1]}",
                                       describe(layer), mask))
    y_f, y_b = halves
    if layer.return_sequences:
        y_b = b.reverse_time(y_b, f"{hint}/backward")
    if layer.merge_mode == "concat":
        return b.op("Concat", [y_f, y_b], hint, axis=-1)
    if layer.merge_mode == "sum":
        return b.op("Add", [y_f, y_b], hint)
    if layer.merge_mode == "mul":
        return b.op("Mul", [y_f, y_b], hint)
    return b.op("Mul", [b.op("Add", [y_f, y_b], hint), b.scalar(0.5)], hint)  # ave
