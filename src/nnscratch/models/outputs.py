"""A model's outputs and what scores them: a loss per output, loss weights, metrics per output.

With outputs :math:`\\hat y_1, \\dots, \\hat y_K`, losses :math:`L_k` and loss weights
:math:`w_k` (1 by default), training minimises

.. math::

    L = \\sum_{k=1}^{K} w_k \\, L_k(\\hat y_k, y_k) \\;+\\; \\text{penalties},
    \\qquad \\frac{\\partial L}{\\partial \\hat y_k} = w_k \\frac{\\partial L_k}{\\partial \\hat y_k}

A loss, loss weight or metric list is given once for every output, as a list in the order of
the outputs, or as a dict by output name (Keras' conventions). The logs of a model with one
output read ``loss`` and ``<metric>``; with several, also ``<output>_loss`` and
``<output>_<metric>``.
"""

from .. import checks
from .. import losses as losses_module
from .. import metrics as metrics_module
from ..errors import ConfigError


def per_output(spec, names, what):
    """``spec`` spread over the outputs ``names``: one value each, in their order.

    A dict is read by output name (every key must be an output, a missing one gets None); a
    list or tuple must have one entry per output; anything else is given to every output.
    """
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ConfigError(f"{what} names {', '.join(map(repr, unknown))}, not an output; the "
                              f"outputs are {', '.join(map(repr, names))}")
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ConfigError(f"{what} has {len(spec)} entries for {len(names)} output"
                              f"{'s' if len(names) > 1 else ''} ({', '.join(map(repr, names))})")
        return list(spec)
    return [spec] * len(names)


def metrics_per_output(spec, names):
    """The metric lists of the outputs: a dict by name, a list of lists, or one list for all."""
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, (list, tuple)) for s in spec):
        return per_output(spec, names, "metrics")
    if isinstance(spec, dict) and "name" not in spec:        # by output, not a metric config
        return per_output(spec, names, "metrics")
    return [spec] * len(names)


def metric_list(spec):
    """A metric spec (None, one name or Metric, or a list of them) as a list of Metrics."""
    if spec is None:
        return []
    if isinstance(spec, (str, dict)) or not isinstance(spec, (list, tuple)):
        spec = [spec]                               # one metric is a list of one
    return [metrics_module.get(m) for m in spec]


class Outputs:
    """The losses, loss weights and metrics of a model's outputs, and the names of its logs."""

    def __init__(self, names, loss, loss_weights=None, metrics=None):
        self.names = list(names)
        self.losses = [losses_module.get(spec if spec is not None else "mse")
                       for spec in per_output(loss, self.names, "loss")]
        weights = per_output(1.0 if loss_weights is None else loss_weights, self.names,
                             "loss_weights")
        self.weights = [1.0 if w is None else checks.number(w, "a loss weight", low=0.0)
                        for w in weights]
        self.metrics = [metric_list(spec) for spec in metrics_per_output(metrics, self.names)]

    def __len__(self):
        return len(self.names)

    def prefix(self, k):
        """``""`` for a single output, ``"<name>_"`` for output ``k`` of several."""
        return "" if len(self.names) == 1 else f"{self.names[k]}_"

    def logs(self, total, output_losses, metric_values):
        """One epoch's logs: the total loss, each output's loss (several outputs), metrics."""
        logs = {"loss": total}
        if len(self.names) > 1:
            logs.update({f"{name}_loss": value for name, value in zip(self.names, output_losses)})
        for k, values in enumerate(metric_values):
            logs.update({self.prefix(k) + name: value for name, value in values.items()})
        return logs
