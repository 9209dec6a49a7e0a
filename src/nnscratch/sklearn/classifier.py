""":class:`NNClassifier`: a dense network as a scikit-learn classifier.

Binary targets train one sigmoid output on the binary cross-entropy, several classes a softmax
output on the (sparse) categorical cross-entropy, and a multilabel indicator matrix (N, K) of
0/1 one sigmoid per column; each loss is fused with its activation
(:mod:`nnscratch.losses`), so the gradient at the logits is :math:`(p - y)/N`.
"""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from .. import checks
from ..training.targets import balanced
from .base import NNEstimator


class NNClassifier(ClassifierMixin, NNEstimator):
    """A feedforward network classifier with scikit-learn's interface.

    ``classes_`` holds the labels ``fit`` saw, of any type NumPy sorts (strings, ints, bools);
    ``predict`` returns them, ``predict_proba`` gives one column per class in that order.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Units of each hidden ``Dense`` layer, as MLPClassifier's.
    activation : str, default "relu"
        The hidden layers' activation: any name of :func:`nnscratch.activations.names`.
    optimizer : str, dict or Optimizer, default "adam"
        Any nnscratch optimizer (``"adam"``, ``"sgd"``, ``{"name": "sgd", "momentum": 0.9}``,
        ``ns.optimizers.AdamW(...)``); an object is copied at each ``fit``.
    learning_rate : float, default 0.001
        The optimizer's step size (MLP's ``learning_rate_init``); a config dict's own
        ``learning_rate`` and an optimizer object's win.
    alpha : float, default 0.0001
        L2 penalty ``alpha * sum(W**2)`` on every layer's weights, added to the mean loss of
        each batch (:mod:`nnscratch.regularizers`).
    batch_size : int or "auto", default "auto"
        Samples per gradient step; ``"auto"`` is ``min(200, n_samples)`` as in MLP.
    max_iter : int, default 200
        The most epochs (passes over the data) one ``fit`` runs.
    shuffle : bool, default True
        Reshuffle the samples every epoch.
    tol : float, default 1e-4
        An epoch improves on the best loss when it is lower by more than ``tol``.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data (stratified by class) and stop when its
        loss has not improved for ``n_iter_no_change`` epochs, keeping the weights of the best
        epoch. Without it, training stops when the training loss has not improved for
        ``n_iter_no_change`` epochs, as MLP does.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
        The patience of the stopping rule, in epochs.
    class_weight : dict, "balanced" or None, default None
        ``{label: weight}`` multiplying the loss of each sample of a class; ``"balanced"``
        weighs class :math:`c` by :math:`n / (k \\, n_c)` (:math:`k` classes in ``y``), as
        scikit-learn's ``compute_class_weight``.
    random_state : int, RandomState or None
        Seeds the initial weights, the shuffling and the validation split.
    verbose : int, default 0
        Above 0, a line per epoch.
    warm_start : bool, default False
        ``fit`` trains on from the current weights instead of starting afresh.
    dtype : "float64" (default) or "float32"
        The network's floating type; float32 is faster, float64 gives predictions that do not
        depend on how the samples are batched.

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
        The class labels (``arange(K)`` for a multilabel indicator matrix).
    network_ : nnscratch.Network
        The trained network (``network_.summary()``, ``network_.save(path)``).
    n_features_in_, feature_names_in_ : int, ndarray
        The number of features and, when ``X`` was a DataFrame with string column names,
        their names.
    n_iter_ : int
        Epochs trained, counted over ``warm_start`` fits and ``partial_fit`` calls.
    loss_curve_ : list of float
        The training loss of each epoch.
    validation_loss_curve_ : list of float or None
        The validation loss of each epoch with ``early_stopping``, else None.
    best_loss_ : float
        The lowest validation loss with ``early_stopping``, else the lowest training loss.
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", optimizer="adam",
                 learning_rate=0.001, alpha=0.0001, batch_size="auto", max_iter=200,
                 shuffle=True, tol=1e-4, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, class_weight=None, random_state=None, verbose=0,
                 warm_start=False, dtype="float64"):
        self._store(locals())

    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,), or a 0/1
        indicator matrix (n_samples, n_labels); ``sample_weight`` weighs each sample's loss.
        Returns self."""
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on ``X``, ``y`` from the current weights (new ones on the first call).

        ``classes``, every label the data will hold, is required on the first call (a batch
        may not show them all) and, if given again, must be the same. Returns self.
        """
        if not hasattr(self, "network_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        if classes is not None and hasattr(self, "classes_") and not self._multilabel and (
                not np.array_equal(np.unique(classes), self.classes_)):
            raise ValueError(f"classes={np.unique(classes)!r} is not the same as on the first "
                             f"call to partial_fit, which gave {self.classes_!r}")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _targets(self, y, first, classes):
        """``(targets, units, output activation, loss)`` for the network; on the first pass
        also ``classes_``. Labels outside ``classes_`` later are a ValueError."""
        check_classification_targets(y)
        kind = type_of_target(y, input_name="y")
        if kind == "multiclass-multioutput":
            raise ValueError(f"{type(self).__name__} takes class labels (n_samples,) or a 0/1 "
                             "multilabel indicator matrix, got several columns of classes "
                             f"(y shaped {np.shape(y)})")
        multilabel = kind == "multilabel-indicator"
        if first:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
            else:
                y = column_or_1d(y, warn=True)
                self.classes_ = np.unique(y if classes is None else np.asarray(classes))
                if len(self.classes_) < 2:
                    raise ValueError(f"{type(self).__name__} needs samples of at least two "
                                     f"classes, y holds one class: {self.classes_[0]!r}")
        elif multilabel != self._multilabel or (multilabel and y.shape[1] != len(self.classes_)):
            wanted = (f"a multilabel indicator matrix with {len(self.classes_)} columns"
                      if self._multilabel else "class labels (n_samples,)")
            raise ValueError(f"y must be {wanted} as in the first fit, got y of type {kind!r} "
                             f"shaped {np.shape(y)}")
        if multilabel:
            return np.asarray(y, dtype=np.float64), len(self.classes_), "sigmoid", \
                "binary_crossentropy"
        index = self._indices(column_or_1d(y, warn=not first))
        if len(self.classes_) == 2:
            return index.reshape(-1, 1), 1, "sigmoid", "binary_crossentropy"
        return index, len(self.classes_), "softmax", "sparse_categorical_crossentropy"

    def _indices(self, labels):
        """The position of each label in ``classes_``; a label not among them is a ValueError."""
        index = np.clip(np.searchsorted(self.classes_, labels), 0, len(self.classes_) - 1)
        unknown = self.classes_[index] != labels
        if np.any(unknown):
            raise ValueError(f"y holds labels that are not among the classes {self.classes_!r}: "
                             f"{np.unique(np.asarray(labels)[unknown])!r}")
        return index.astype(np.int64)

    def _class_weight(self, y_fit):
        """``class_weight`` for ``Network.fit`` by class index ("balanced": from ``y_fit``, the
        training targets)."""
        weights = self.class_weight
        if weights is None:
            return None
        if self._multilabel:
            raise ValueError("class_weight applies to one label per sample; weigh multilabel "
                             "samples with sample_weight")
        if isinstance(weights, str):
            checks.choice(weights, "class_weight", ("balanced",))
            return balanced(np.reshape(y_fit, -1))      # y_fit: class indices, one column
        if not isinstance(weights, dict):
            raise ValueError(f"class_weight must be a dict {{label: weight}}, 'balanced' or "
                             f"None, got {weights!r}")
        return {int(self._indices(np.asarray([label]))[0]): weight
                for label, weight in weights.items()}

    def _stratify(self, y):
        return None if self._multilabel else y

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``
        (for a multilabel fit, each label's own probability)."""
        out = self._outputs(X)
        if not self._multilabel and len(self.classes_) == 2:
            p = out[:, 0]
            return np.column_stack([1.0 - p, p])
        return out

    def predict_log_proba(self, X):
        """The logarithm of :meth:`predict_proba` (-inf where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each sample (a 0/1 row of labels with p > 0.5 for a
        multilabel fit)."""
        proba = self.predict_proba(X)
        if self._multilabel:
            return (proba > 0.5).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
