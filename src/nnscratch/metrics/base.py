"""The :class:`Metric` base class and the metric registry (``get``, ``names``,
``greater_is_better``)."""

from ..registry import Configurable, Registry
from .inputs import real_steps


class Metric(Configurable):
    """A named metric with its settings: ``metric(y_pred, y_true) -> float``.

    A subclass names, in its class header, its ``name`` (the registry key and the key in
    ``fit``'s logs), its ``function`` (the pure function) and, for errors,
    ``greater_is_better=False``::

        class MeanAbsoluteError(Metric, name="mae", function=mae, greater_is_better=False):
            ...

    (class attributes of those names, ``function`` a staticmethod, work as well). Its
    ``hyperparameters`` are keyword arguments passed on to the function, kept as attributes of
    the same names.

    ``metric(y_pred, y_true, mask=m)`` with a sequence mask ``m`` (N, T) (True at real steps)
    scores the real steps only, each as one sample (:func:`~nnscratch.metrics.inputs.real_steps`):
    masked steps have weight 0.
    """

    greater_is_better = True

    def __init_subclass__(cls, name=None, function=None, greater_is_better=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if name is not None:
            cls.name = name
        if function is not None:
            cls.function = staticmethod(function)
        if greater_is_better is not None:
            cls.greater_is_better = greater_is_better

    def __call__(self, y_pred, y_true, mask=None):
        if mask is not None:
            y_pred, y_true = real_steps(y_pred, y_true, mask)
        function = type(self).function
        return function(y_pred, y_true, **{p: getattr(self, p) for p in self.hyperparameters})


ALIASES = {"acc": "accuracy", "categorical_accuracy": "accuracy",
           "sparse_categorical_accuracy": "accuracy",
           "top_k_categorical_accuracy": "top_k_accuracy",
           "sparse_top_k_categorical_accuracy": "top_k_accuracy",
           "f1_score": "f1", "r2_score": "r2", "r_squared": "r2",
           "mean_absolute_error": "mae", "mean_squared_error": "mse",
           "root_mean_squared_error": "rmse",
           "roc_auc_score": "roc_auc",
           "average_precision_score": "average_precision"}

REGISTRY = Registry("metric", Metric, aliases=ALIASES)


def names():
    """The registered metric names, sorted."""
    return REGISTRY.names()


def get(identifier):
    """A metric from a name, a config dict (``{"name": "f1", "average": "micro"}``) or a Metric."""
    return REGISTRY.get(identifier)


def greater_is_better(name):
    """Whether larger values of the metric (or loss) logged as ``name`` are better.

    ``"val_"`` is stripped; losses and unknown names count as lower-is-better.
    """
    key = REGISTRY.resolve(name[4:] if name.startswith("val_") else name)
    return bool(key is not None and getattr(REGISTRY.table()[key], "greater_is_better", False))
