""":class:`NNRegressor`: a dense network as a scikit-learn regressor.

The output layer is linear, one unit per target column; the loss is the mean squared error by
default (any nnscratch regression loss: ``"huber"``, ``"mae"``, ``"log_cosh"``...).
"""

import numpy as np
from sklearn.base import RegressorMixin

from .base import NNEstimator

#: scikit-learn's names for the losses it shares with nnscratch
SKLEARN_LOSSES = {"squared_error": "mse", "absolute_error": "mae"}


class NNRegressor(RegressorMixin, NNEstimator):
    """A feedforward network regressor with scikit-learn's interface.

    ``y`` shaped (n_samples,) gives predictions shaped (n_samples,); (n_samples, n_targets)
    gives (n_samples, n_targets). The parameters and the attributes (``network_``,
    ``n_iter_``, ``loss_curve_``...) are those of :class:`~nnscratch.sklearn.NNClassifier`,
    without ``class_weight`` and ``classes_``, and with:

    Parameters
    ----------
    loss : str, default "mse"
        Any nnscratch loss for real targets (:func:`nnscratch.losses.names`: ``"mse"``,
        ``"mae"``, ``"huber"``...); scikit-learn's ``"squared_error"`` and
        ``"absolute_error"`` are taken too.

    Attributes
    ----------
    n_outputs_ : int
        The number of target columns.
    """

    _y_numeric = True

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", optimizer="adam",
                 learning_rate=0.001, alpha=0.0001, batch_size="auto", max_iter=200,
                 shuffle=True, tol=1e-4, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, loss="mse", random_state=None, verbose=0,
                 warm_start=False, dtype="float64"):
        self._store(locals())

    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) or
        (n_samples, n_targets); ``sample_weight`` weighs each sample's loss. Returns self."""
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on ``X``, ``y`` from the current weights (new ones on the first call).
        Returns self."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _targets(self, y, first, classes):
        """``(targets (N, n_outputs), n_outputs, None (a linear output), loss)``; the first
        pass records ``n_outputs_`` and whether predictions are 1-D."""
        y = np.asarray(y, dtype=np.float64)
        columns = y.reshape(len(y), -1)
        if first:
            self.n_outputs_ = columns.shape[1]
            self._one_dimensional = y.ndim == 1
        elif columns.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {columns.shape[1]} target columns, the first fit had "
                             f"{self.n_outputs_}")
        loss = SKLEARN_LOSSES.get(self.loss, self.loss) if isinstance(self.loss, str) else self.loss
        return columns, self.n_outputs_, None, loss

    def predict(self, X):
        """The predicted targets, (n_samples,) or (n_samples, n_targets) as ``y`` was."""
        out = self._outputs(X)
        return out[:, 0] if self._one_dimensional else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
