"""scikit-learn estimators built on nnscratch: :class:`NNClassifier` and :class:`NNRegressor`.

They follow scikit-learn's conventions, so they work in ``Pipeline``, ``cross_val_score``,
``GridSearchCV`` (with ``n_jobs``), ``clone`` and pickle::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from nnscratch.sklearn import NNClassifier

    model = make_pipeline(StandardScaler(), NNClassifier(hidden_layer_sizes=(64,)))
    model.fit(X_train, y_train).score(X_test, y_test)

This package needs the optional ``sklearn`` extra (scikit-learn >= 1.6): ``pip install
'nnscratch[sklearn]'``; the rest of nnscratch never imports scikit-learn.
"""

from ..errors import MissingDependencyError, require

require("sklearn", "sklearn", "nnscratch.sklearn")
try:
    from sklearn.utils.validation import validate_data  # noqa: F401  (new in scikit-learn 1.6)
except ImportError as exc:  # pragma: no cover - scikit-learn older than 1.6
    raise MissingDependencyError("nnscratch.sklearn needs scikit-learn >= 1.6 (validate_data, "
                                 "__sklearn_tags__); upgrade it with: pip install -U "
                                 "'nnscratch[sklearn]'") from exc

from .base import NNEstimator  # noqa: E402  (after the check that scikit-learn is there)
from .classifier import NNClassifier  # noqa: E402
from .regressor import NNRegressor  # noqa: E402

__all__ = ["NNClassifier", "NNRegressor", "NNEstimator"]
