r"""Bidirectional: run a recurrent layer forwards and a copy of it backwards, then merge."""

import numpy as np

from .. import checks
from ..errors import ConfigError, ShapeError
from .base import REGISTRY, Layer
from .recurrent_base import BaseRecurrent

MERGE_MODES = ("concat", "sum", "mul", "ave")


class Bidirectional(Layer):
    r"""A recurrent layer read in both directions, as Keras's ``Bidirectional``.

    Two copies of the wrapped layer are made from its configuration: ``forward_layer`` reads
    :math:`x_1 \dots x_T`, ``backward_layer`` (``go_backwards=True``) reads
    :math:`x_T \dots x_1`. With ``return_sequences`` the backward copy's outputs, which come
    in reversed time, are flipped back so that step t of both describes :math:`x_t`. The two
    outputs :math:`y^f, y^b` are merged:

    ==========  ===========================  ============================================
    merge_mode  forward                      backward (given :math:`\delta y`)
    ==========  ===========================  ============================================
    concat      :math:`[y^f, y^b]`           :math:`\delta y^f, \delta y^b` = the two halves
    sum         :math:`y^f + y^b`            :math:`\delta y^f = \delta y^b = \delta y`
    mul         :math:`y^f \odot y^b`        :math:`\delta y^f = \delta y \odot y^b`,
                                             :math:`\delta y^b = \delta y \odot y^f`
    ave         :math:`(y^f + y^b) / 2`      :math:`\delta y^f = \delta y^b = \delta y / 2`
    ==========  ===========================  ============================================

    and :math:`\partial L / \partial x` is the sum of what the two copies return.

    The two copies are this layer's only nested layers: ``sublayers()`` returns
    ``[forward_layer, backward_layer]``. They are frozen and unfrozen with it (``trainable``);
    wrapping a frozen layer makes a frozen Bidirectional.

    The copies' parameters are this layer's parameters under prefixed names
    (``forward_W_ih``, ``backward_W_ih``, ...), so the network saves and optimises them as
    one layer's. ``initial_state`` is a list: the forward copy's states, then the backward
    copy's (``[h_f, h_b]``, or ``[h_f, c_f, h_b, c_b]`` for LSTM), as in Keras;
    ``grad_initial_state`` and ``final_state`` come in the same order.

    With a mask (``forward(x, mask=m)``, or one carried from an ``Embedding(mask_zero=True)``
    or a ``Masking`` layer), both copies keep their state at masked steps (see
    :mod:`nnscratch.layers.recurrent_base`); the backward copy reads the end-padded sequences
    from each one's last real step. With ``return_sequences`` both copies output zeros at
    masked steps (``zero_output_for_mask``, as Keras's Bidirectional sets it), so the merged
    output is zero there too, and the output carries the input's mask.

    Parameters
    ----------
    layer : SimpleRNN, LSTM or GRU
        The layer to copy (its configuration is used; weights are created at build).
    merge_mode : "concat" (default), "sum", "mul" or "ave"
    """

    def __init__(self, layer, merge_mode="concat", name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        if isinstance(layer, dict):                      # from a saved configuration
            layer = _layer_from_config(layer)
        if not isinstance(layer, BaseRecurrent):
            raise ConfigError(f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU), "
                              f"got {type(layer).__name__}")
        self.merge_mode = checks.choice(merge_mode, "Bidirectional merge_mode", MERGE_MODES)
        config = layer.get_config()
        inner_name = config.pop("name") or type(layer).__name__.lower()
        config.pop("trainable", None)                    # the copies follow this layer's flag
        self._layer_class = type(layer)
        self._layer_config = {**config, "name": inner_name}
        self.forward_layer = type(layer)(**{**config, "name": f"forward_{inner_name}"})
        self.backward_layer = type(layer)(**{**config, "name": f"backward_{inner_name}",
                                             "go_backwards": not config["go_backwards"]})
        self.return_sequences = layer.return_sequences
        for copy in (self.forward_layer, self.backward_layer):
            copy.zero_output_for_mask = self.return_sequences     # Keras's rule for the two
        self.trainable = self.trainable and layer.trainable      # sets the copies' flags too
        self._outputs = None
        self.final_state = None
        self.grad_initial_state = None

    @property
    def _halves(self):
        return (("forward_", self.forward_layer), ("backward_", self.backward_layer))

    def param_shapes(self, input_shape):
        """The two copies' parameters, prefixed ``forward_`` and ``backward_``."""
        return {prefix + key: shape for prefix, layer in self._halves
                for key, shape in layer.param_shapes(input_shape).items()}

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        for prefix, layer in self._halves:
            layer.build(input_shape, rng=rng, dtype=dtype)
            for key, value in layer.params.items():
                self.params[prefix + key] = value
                self.grads[prefix + key] = layer.grads[key]
                if key in layer.regularizers:
                    self.regularizers[prefix + key] = layer.regularizers[key]

    def forward_values(self, input_shape):
        """What the two copies keep."""
        return sum(layer.forward_values(input_shape) for _, layer in self._halves)

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (2 * shape[-1],)
        return tuple(shape)

    def compute_mask(self, inputs, mask):
        """The input's mask with ``return_sequences``, else None. The outputs are in the input's
        time order, or reversed when the wrapped layer reads backwards (as in Keras), and so is
        the mask then."""
        if mask is None or not self.return_sequences:
            return None
        return mask[:, ::-1] if self.forward_layer.go_backwards else mask

    def _sync(self):
        """Point each copy at this layer's parameter arrays (they may have been replaced)."""
        for prefix, layer in self._halves:
            for key in layer.params:
                layer.params[key] = self.params[prefix + key]

    def _split_state(self, initial_state):
        if initial_state is None:
            return None, None
        count = len(self.forward_layer.state_names)
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2 * count:
            form = ", ".join(f"{s}_{d}" for d in ("f", "b") for s in self.forward_layer.state_names)
            got = (f"{len(initial_state)} arrays" if isinstance(initial_state, (list, tuple))
                   else type(initial_state).__name__)
            raise ShapeError(f"Bidirectional layer {self.label} expects initial_state as a list "
                             f"[{form}], got {got}")
        return list(initial_state[:count]), list(initial_state[count:])

    def forward(self, x, training=False, initial_state=None, mask=None):
        """Both directions, merged; (N, H') or (N, T, H') with the wrapped ``return_sequences``.

        ``mask``: (N, T) booleans, True at real steps, given to both copies (or None).
        """
        self._sync()
        state_f, state_b = self._split_state(initial_state)
        y_f = self.forward_layer.forward(x, training=training, initial_state=state_f, mask=mask)
        y_b = self.backward_layer.forward(x, training=training, initial_state=state_b, mask=mask)
        if self.return_sequences:
            y_b = y_b[:, ::-1]                           # back to x's time order
        self._outputs = (y_f, y_b)
        self.final_state = _flat(self.forward_layer.final_state) + _flat(self.backward_layer.final_state)
        if self.merge_mode == "concat":
            return np.concatenate([y_f, y_b], axis=-1)
        if self.merge_mode == "sum":
            return y_f + y_b
        if self.merge_mode == "mul":
            return y_f * y_b
        return (y_f + y_b) * 0.5

    def backward(self, grad_y):
        """Split ``grad_y`` over the merge, backpropagate both copies, add their input gradients."""
        y_f, y_b = self._outputs                  # the base class checked the call and the shape
        grad_y = np.asarray(grad_y, dtype=y_f.dtype)
        if self.merge_mode == "concat":
            units = y_f.shape[-1]
            g_f, g_b = grad_y[..., :units], grad_y[..., units:]   # the two halves
        elif self.merge_mode == "sum":
            g_f, g_b = grad_y, grad_y                             # d(yf + yb) = dy, dy
        elif self.merge_mode == "mul":
            g_f, g_b = grad_y * y_b, grad_y * y_f                 # d(yf yb) = dy yb, dy yf
        else:
            g_f = g_b = grad_y * 0.5                              # d((yf + yb)/2) = dy/2 each
        if self.return_sequences:
            g_b = g_b[:, ::-1]                                    # into the backward copy's order
        grad_x = self.forward_layer.backward(g_f) + self.backward_layer.backward(g_b)
        for prefix, layer in self._halves:                        # the copies' grads are ours
            for key in layer.grads:
                self.grads[prefix + key] = layer.grads[key]
        self.grad_initial_state = (_flat(self.forward_layer.grad_initial_state)
                                   + _flat(self.backward_layer.grad_initial_state))
        return grad_x

    def get_config(self):
        config = super().get_config()
        config.update(layer={"class": self._layer_class.__name__,
                             "config": dict(self._layer_config)},
                      merge_mode=self.merge_mode)
        return config


def _flat(states):
    """A layer's state (one array or a tuple) as a list."""
    return list(states) if isinstance(states, tuple) else [states]


def _layer_from_config(spec):
    """The wrapped layer from ``{"class": name, "config": {...}}`` (registered classes only)."""
    name = spec.get("class")
    key = REGISTRY.resolve(name)
    cls = None if key is None else REGISTRY.table()[key]
    if cls is None or not issubclass(cls, BaseRecurrent):
        raise ConfigError(f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU), got "
                          f"class {name!r}")
    return cls.from_config(dict(spec.get("config", {})))
