"""What :class:`~nnscratch.sklearn.NNClassifier` and :class:`~nnscratch.sklearn.NNRegressor`
share: the parameters, the network they build, and one training routine for ``fit``,
``warm_start`` and ``partial_fit``.

The conventions are scikit-learn's: ``__init__`` only stores its arguments (``clone`` and
``GridSearchCV`` rebuild an estimator from ``get_params()``); they are checked in ``fit``; what
``fit`` learns ends in an underscore (``network_``, ``n_iter_``, ``loss_curve_``...); the data
is checked with scikit-learn's own ``validate_data``, which also records ``n_features_in_``
and, for a DataFrame, ``feature_names_in_``.

The parameter names follow :class:`sklearn.neural_network.MLPClassifier` where it has one
(``hidden_layer_sizes``, ``activation``, ``alpha``, ``batch_size``, ``max_iter``, ``shuffle``,
``tol``, ``early_stopping``, ``validation_fraction``, ``n_iter_no_change``, ``random_state``,
``verbose``, ``warm_start``), and nnscratch's (Keras') where scikit-learn's would mislead:
``optimizer`` (any nnscratch optimizer, where MLP has ``solver``) and ``learning_rate`` (a
number, MLP's ``learning_rate_init``; MLP's ``learning_rate`` names a schedule).
"""

import copy
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import checks, optimizers
from ..callbacks import EarlyStopping
from ..errors import ConfigError
from ..layers import Dense
from ..models import Network
from ..regularizers import L2
from ..training.targets import sample_weights

#: how many samples ``predict`` runs at a time
PREDICT_BATCH = 1024


def _mean_one(sample_weight, n):
    """``sample_weight`` scaled to mean 1, or None.

    nnscratch's losses divide the weighted sum by the number of samples; scaled so, the loss
    is :math:`\\sum_n w_n L_n / \\sum_n w_n`, as MLP's, and weight 2 means the same as a sample
    given twice. All weights 0 is a ValueError.
    """
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim != 1 or len(weights) != n:
        raise ValueError(f"sample_weight must be shaped (n_samples,) = ({n},), got shape "
                         f"{weights.shape}")
    total = weights.sum()
    if not total > 0:
        raise ValueError("sample_weight must hold at least one non-zero weight (all are zero "
                         "or the sum is not positive)")
    return weights * (n / total)


def _class_weighted(validation, class_weight):
    """``validation_data`` whose weights include ``class_weight`` ({class index: weight}), so
    that early stopping watches the loss that training minimises."""
    x_val, y_val = validation[:2]
    weight = validation[2] if len(validation) == 3 else None
    return x_val, y_val, sample_weights(y_val, weight, class_weight, np.float64)


class NNEstimator(BaseEstimator):
    """The base of the nnscratch estimators: a dense network trained by ``Network.fit``.

    A subclass says what its targets become (:meth:`_targets`: the array the loss reads, the
    number of output units, the output activation and the loss) and what the outputs mean.
    """

    def _store(self, arguments):
        """Keep every ``__init__`` argument as an attribute of its name, unchecked, as
        scikit-learn asks (``arguments``: the ``locals()`` of ``__init__``)."""
        for name, value in arguments.items():
            if name != "self":
                setattr(self, name, value)

    # -- the network ---------------------------------------------------------------------------
    def _check_params(self):
        """The parameters checked (with :mod:`nnscratch.checks`), as a dict of plain values."""
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if checks.is_whole(sizes) else tuple(sizes)
        sizes = tuple(checks.positive_int(size, "hidden_layer_sizes") for size in sizes)
        batch = self.batch_size
        if batch != "auto":
            batch = checks.optional_positive_int(batch, "batch_size")
        return {
            "hidden_layer_sizes": sizes,
            "learning_rate": checks.number(self.learning_rate, "learning_rate", low=0.0,
                                           low_open=True),
            "alpha": checks.number(self.alpha, "alpha", low=0.0),
            "batch_size": batch,
            "max_iter": checks.positive_int(self.max_iter, "max_iter"),
            "tol": checks.number(self.tol, "tol", low=0.0),
            "n_iter_no_change": checks.positive_int(self.n_iter_no_change, "n_iter_no_change"),
            "validation_fraction": checks.number(self.validation_fraction, "validation_fraction",
                                                 low=0.0, high=1.0, low_open=True, high_open=True),
            "early_stopping": checks.boolean(self.early_stopping, "early_stopping"),
            "shuffle": checks.boolean(self.shuffle, "shuffle"),
            "warm_start": checks.boolean(self.warm_start, "warm_start"),
            "verbose": checks.integer(self.verbose, "verbose", low=0),
            "dtype": checks.float_dtype(self.dtype),
        }

    def _optimizer(self, learning_rate):
        """The optimizer: a name or config dict gets ``learning_rate`` (a dict's own wins);
        an Optimizer object is copied and kept as it is."""
        spec = self.optimizer
        if isinstance(spec, str):
            spec = {"name": spec, "learning_rate": learning_rate}
        elif isinstance(spec, dict):
            spec = {"learning_rate": learning_rate, **spec}
        else:
            spec = copy.deepcopy(spec)
        return optimizers.get(spec)

    def _build_network(self, params, units, output_activation, loss, seed):
        """``Dense(h, activation)`` per hidden size, then ``Dense(units, output_activation)``,
        each with the L2 penalty ``alpha * sum(W**2)`` on its weights."""
        penalty = (lambda: L2(params["alpha"])) if params["alpha"] > 0 else (lambda: None)
        layers = [Dense(size, activation=self.activation, kernel_regularizer=penalty())
                  for size in params["hidden_layer_sizes"]]
        layers.append(Dense(units, activation=output_activation, kernel_regularizer=penalty()))
        return Network(layers, loss=loss, optimizer=self._optimizer(params["learning_rate"]),
                       seed=seed, dtype=params["dtype"])

    # -- training ------------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Train: from new weights (``fit``), or on from the current ones (``warm_start``, or
        one epoch of ``partial_fit``). Returns self."""
        params = self._check_params()
        fitted = hasattr(self, "network_")
        first = not fitted or not (incremental or params["warm_start"])
        X, y = validate_data(self, X, y, reset=first, multi_output=True,
                             dtype=(np.float64, np.float32), y_numeric=self._y_numeric)
        y_fit, units, activation, loss = self._targets(y, first, classes)
        sample_weight = _mean_one(sample_weight, len(X))
        if first:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            self.network_ = self._build_network(params, units, activation, loss, seed)
            self.n_iter_, self.loss_curve_ = 0, []
            self.validation_loss_curve_ = [] if params["early_stopping"] else None
            self.best_loss_ = None
        n = len(X)
        batch = params["batch_size"]
        batch = min(200, n) if batch == "auto" else min(batch, n)
        validation, callbacks = None, []
        if params["early_stopping"] and not incremental:
            X, y_fit, sample_weight, validation = self._validation_split(
                X, y, y_fit, sample_weight, params["validation_fraction"])
        class_weight = self._class_weight(y_fit)
        if validation is not None and class_weight is not None:
            validation = _class_weighted(validation, class_weight)
        if not incremental:
            monitor = "val_loss" if validation is not None else "loss"
            callbacks.append(EarlyStopping(monitor=monitor, patience=params["n_iter_no_change"],
                                           min_delta=params["tol"],
                                           restore_best_weights=validation is not None))
        epochs = 1 if incremental else params["max_iter"]
        history = self.network_.fit(
            X, y_fit, epochs=epochs, batch_size=batch, shuffle=params["shuffle"],
            verbose=2 if params["verbose"] else 0, validation_data=validation,
            callbacks=callbacks, sample_weight=sample_weight,
            class_weight=class_weight)
        self._record(history, callbacks, epochs, incremental)
        return self

    def _validation_split(self, X, y, y_fit, sample_weight, fraction):
        """``(X, y_fit, sample_weight)`` of the training part and ``validation_data``: a
        ``validation_fraction`` drawn with ``random_state`` (stratified for classes when every
        class can give a sample to each side)."""
        stratify = self._stratify(y)
        n_val = int(np.ceil(fraction * len(X)))
        if n_val < 1 or n_val >= len(X):
            raise ConfigError(f"validation_fraction={fraction} of {len(X)} samples leaves no "
                              "training or no validation sample")
        if stratify is not None:
            counts = np.unique(stratify, return_counts=True)[1]
            if counts.min() < 2 or n_val < len(counts) or len(X) - n_val < len(counts):
                stratify = None
        rows = np.arange(len(X))
        train, val = train_test_split(rows, test_size=n_val, stratify=stratify,
                                      random_state=check_random_state(self.random_state))
        weights = None if sample_weight is None else np.asarray(sample_weight)
        validation = (X[val], y_fit[val]) if weights is None else (X[val], y_fit[val], weights[val])
        return X[train], y_fit[train], None if weights is None else weights[train], validation

    def _record(self, history, callbacks, epochs, incremental):
        """``n_iter_``, ``loss_curve_``, ``validation_loss_curve_`` and ``best_loss_`` from the
        run; a ConvergenceWarning when ``max_iter`` epochs ran without the loss settling."""
        logs = history.history
        self.n_iter_ += len(logs["loss"])
        self.loss_curve_ += [float(v) for v in logs["loss"]]
        if self.validation_loss_curve_ is not None and "val_loss" in logs:
            self.validation_loss_curve_ += [float(v) for v in logs["val_loss"]]
        curve = self.validation_loss_curve_ or self.loss_curve_
        self.best_loss_ = float(np.min(curve))
        if not incremental and callbacks[0].stopped_epoch is None and epochs > 1:
            warnings.warn(f"{type(self).__name__}: the loss still improved after max_iter="
                          f"{epochs} epochs; training may not have converged (raise max_iter)",
                          ConvergenceWarning, stacklevel=4)

    def _inputs(self, X):
        """``X`` checked against what ``fit`` saw (features, their names)."""
        check_is_fitted(self, "network_")
        return validate_data(self, X, reset=False, dtype=(np.float64, np.float32))

    def _outputs(self, X):
        """The network's outputs for ``X``, (N, units)."""
        X = self._inputs(X)
        return self.network_.predict(X, batch_size=PREDICT_BATCH)

    # -- what a subclass may change ------------------------------------------------------------
    _y_numeric = False

    def _stratify(self, y):
        """Labels to stratify the validation split by, or None."""
        return None

    def _class_weight(self, y_fit):
        """The ``class_weight`` for ``Network.fit``, ``{class index: weight}`` (None: none)."""
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
