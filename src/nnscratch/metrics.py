"""Metrics computed on a network's outputs: ``metric(y_pred, y_true) -> float``.

``y_pred`` is what the network outputs (probabilities for a softmax/sigmoid output) and
``y_true`` the prepared targets: one-hot or integer labels for classification, values for
regression.
"""

import numpy as np

from .errors import ConfigError


def _labels(y_pred, y_true):
    """Predicted and true class indices for one-hot, sparse or single-output binary targets."""
    if y_pred.ndim == 1 or y_pred.shape[-1] == 1:
        predicted = (y_pred.reshape(-1) > 0.5).astype(np.int64)
        return predicted, np.asarray(y_true).reshape(-1).round().astype(np.int64)
    predicted = np.argmax(y_pred, axis=-1)
    y_true = np.asarray(y_true)
    actual = np.argmax(y_true, axis=-1) if y_true.ndim == y_pred.ndim else y_true.reshape(-1)
    return predicted, actual.astype(np.int64)


class Metric:
    """A named function of (y_pred, y_true)."""

    name = None
    greater_is_better = True

    def __call__(self, y_pred, y_true):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}


class Accuracy(Metric):
    """Share of samples whose predicted class (argmax, or p > 0.5 for one output) is right."""

    name = "accuracy"

    def __call__(self, y_pred, y_true):
        predicted, actual = _labels(y_pred, y_true)
        return float(np.mean(predicted == actual))


class MeanAbsoluteError(Metric):
    """mean |y_pred - y_true|."""

    name = "mae"
    greater_is_better = False

    def __call__(self, y_pred, y_true):
        return float(np.mean(np.abs(y_pred - np.reshape(y_true, y_pred.shape))))


class MeanSquaredError(Metric):
    """mean (y_pred - y_true)^2."""

    name = "mse"
    greater_is_better = False

    def __call__(self, y_pred, y_true):
        return float(np.mean(np.square(y_pred - np.reshape(y_true, y_pred.shape))))


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


_ALIASES = {"acc": "accuracy", "mean_absolute_error": "mae", "mean_squared_error": "mse"}


def names():
    """The registered metric names, sorted."""
    return sorted(cls.name for cls in _all_subclasses(Metric) if cls.name)


def get(identifier):
    """A metric from a name, a config dict, or a Metric instance."""
    if isinstance(identifier, Metric):
        return identifier
    config = {}
    if isinstance(identifier, dict):
        config = dict(identifier)
        identifier = config.pop("name", None)
    table = {cls.name: cls for cls in _all_subclasses(Metric) if cls.name}
    if isinstance(identifier, str):
        key = _ALIASES.get(identifier.lower(), identifier.lower())
        if key in table:
            return table[key](**config)
    raise ConfigError(f"unknown metric {identifier!r}; expected one of: {', '.join(names())}")
