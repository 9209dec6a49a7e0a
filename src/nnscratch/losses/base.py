"""The :class:`Loss` contract: batch reduction, sample weights, input checking, config."""

import numpy as np

from .. import checks
from ..errors import DataError, ShapeError
from ..registry import Configurable
from .kernels import _batch_weights_shape, _ignoring_underflow
from .positions import per_position


class Loss(Configurable):
    """A loss function: subclasses write :meth:`per_sample` and :meth:`per_sample_gradient`.

    The base class owns the batch reduction and sample weights (:meth:`value`,
    :meth:`gradient`) and input checking (:meth:`_prepare`); ``get_config`` and ``repr`` come
    from :class:`~nnscratch.registry.Configurable`. A ``sample_weight`` is one weight per sample
    (N,), or for outputs (N, T, ...) one per position (N, T) (:mod:`.positions`), which every
    loss takes, its own ``value``/``gradient``/``value_and_gradient`` included.

    Class attributes:

    - ``name``: registry key, lower snake case. ``aliases``: other names ``get`` accepts.
    - ``hyperparameters``: the constructor arguments kept as attributes of the same name
      (checked with :mod:`nnscratch.checks`), which the config records.
    - ``reduction``: ``"mean"`` (divide by the number of samples) or ``"sum"``.
    - ``sparse_labels``: ``y_true`` holds integer class indices instead of one-hot rows.
    - ``fused_activation``: ``"softmax"`` or ``"sigmoid"`` when a Network whose last layer has
      that activation should feed the logits to :meth:`with_logits` instead (stable, exact).
    - ``target_range``: ``(low, high)``, the closed interval the targets must lie in (binary
      cross-entropy: [0, 1]), or None; ``target_meaning`` says what such targets are.
      :meth:`check_targets` refuses a target outside, once per ``fit`` or ``evaluate`` (a
      Network checks its prepared targets) and on every direct call with other arrays.
    """

    aliases = ()
    reduction = "mean"
    sparse_labels = False
    fused_activation = None
    target_range = None
    target_meaning = ""

    def __init_subclass__(cls, **kwargs):
        # Underflow to 0 (exp(-1e4), a tiny error squared) is exact enough and not worth a
        # warning; run every subclass's per-sample kernels with it ignored, like value/gradient.
        super().__init_subclass__(**kwargs)
        for method in ("per_sample", "per_sample_gradient"):
            if method in vars(cls):
                setattr(cls, method, _ignoring_underflow(vars(cls)[method]))
        for method in ("value", "gradient", "value_and_gradient"):   # weights per position
            if method in vars(cls):
                setattr(cls, method, per_position(vars(cls)[method]))

    def per_sample(self, y_pred, y_true):
        """The loss of each sample, shape ``(N,)``."""
        raise NotImplementedError

    def per_sample_gradient(self, y_pred, y_true):
        """Row ``i`` is ``d per_sample[i] / d y_pred[i]``; shaped like ``y_pred``."""
        raise NotImplementedError

    @per_position
    def value(self, y_pred, y_true, sample_weight=None):
        """The batch loss :math:`\\frac{1}{D}\\sum_i w_i l_i`, a Python float."""
        with np.errstate(under="ignore"):
            return self._reduce(self.per_sample(y_pred, y_true), sample_weight)

    @per_position
    def gradient(self, y_pred, y_true, sample_weight=None):
        """The exact derivative of :meth:`value` with respect to ``y_pred``: ``w_i g_i / D``."""
        with np.errstate(under="ignore"):
            return self._scale(self.per_sample_gradient(y_pred, y_true), sample_weight)

    @per_position
    def value_and_gradient(self, y_pred, y_true, sample_weight=None):
        """``(value(...), gradient(...))`` in one call: what a training step needs.

        Subclasses whose value and gradient share work (a difference, a softmax) override it.
        """
        return (self.value(y_pred, y_true, sample_weight),
                self.gradient(y_pred, y_true, sample_weight))

    def __call__(self, y_pred, y_true, sample_weight=None):
        return self.value(y_pred, y_true, sample_weight)

    def with_logits(self):
        """The ``from_logits`` form of this loss (same hyperparameters), or None if it has none."""
        return None

    # -- bookkeeping shared by all losses -------------------------------------------------------

    def _divisor(self, n):
        return n if self.reduction == "mean" else 1

    def _reduce(self, losses, sample_weight):
        """``sum_i w_i l_i / D`` of a ``(N,)`` vector of per-sample losses, as a Python float."""
        n = losses.shape[0]
        weights = self._sample_weights(sample_weight, n, losses.dtype)
        total = np.sum(losses) if weights is None else np.sum(weights * losses)
        return float(total) / self._divisor(n)

    def _scale(self, grad, sample_weight):
        """Row ``i`` of a per-sample gradient times ``w_i / D``."""
        n = grad.shape[0]
        weights = self._sample_weights(sample_weight, n, grad.dtype)
        if weights is None:
            return grad / self._divisor(n)
        scale = weights / self._divisor(n)
        return grad * scale.reshape(_batch_weights_shape(n, grad.ndim))

    def _sample_weights(self, sample_weight, n, dtype):
        """``None`` or a ``(N,)`` weight vector in ``dtype``; ``(N, 1)`` is accepted too."""
        if sample_weight is None:
            return None
        w = np.asarray(sample_weight)
        if w.dtype.kind not in "biuf":
            raise DataError(f"{self.name} expects numeric sample_weight, got dtype {w.dtype}")
        if w.shape not in ((n,), (n, 1)):
            raise ShapeError(
                f"{self.name} expects sample_weight shaped ({n},) (one weight per sample), "
                f"got {w.shape}"
            )
        w = w.reshape(n).astype(dtype, copy=False)
        bad = ~(np.isfinite(w) & (w >= 0))
        if np.any(bad):
            row = int(np.argmax(bad))
            raise DataError(
                f"{self.name} expects finite, non-negative sample_weight, got {w[row].item()!r} "
                f"at row {row}"
            )
        return w

    def _prepare(self, y_pred, y_true):
        """Check and convert the inputs: float ``y_pred`` and a target it can be compared with.

        Non-float predictions become float64; the target is cast to the prediction's dtype
        (integer class labels for sparse losses, see :meth:`_class_labels`).
        """
        if (not self.sparse_labels and type(y_pred) is np.ndarray and type(y_true) is np.ndarray
                and y_pred.dtype.kind == "f" and y_true.dtype == y_pred.dtype
                and y_true.shape == y_pred.shape and y_pred.ndim and len(y_pred)):
            return y_pred, y_true          # a network's output and prepared target: all checked
        p = np.asarray(y_pred)
        if p.dtype.kind not in "biuf":
            raise DataError(f"{self.name} expects numeric y_pred, got dtype {p.dtype}")
        if p.dtype.kind != "f":
            p = p.astype(np.float64)
        if p.ndim == 0:
            raise ShapeError(f"{self.name} expects y_pred shaped (N, ...) with a batch axis, got ()")
        if p.shape[0] == 0:
            raise DataError(f"{self.name} expects at least one sample, got y_pred shaped {p.shape}")
        if self.sparse_labels:
            return p, self._class_labels(y_true, p)
        y = np.asarray(y_true)
        if y.dtype.kind not in "biuf":
            raise DataError(f"{self.name} expects numeric y_true, got dtype {y.dtype}")
        if y.shape != p.shape:
            n = p.shape[0]
            if {y.shape, p.shape} == {(n,), (n, 1)}:
                y = y.reshape(p.shape)  # a column and a vector of N single outputs are the same
            else:
                raise ShapeError(
                    f"{self.name} expects y_true shaped like y_pred {p.shape}, got {y.shape}"
                )
        y = y.astype(p.dtype, copy=False)
        self.check_targets(y)
        return p, y

    def check_targets(self, y, name="y_true"):
        """DataError naming the first target outside :attr:`target_range` and where it is."""
        if self.target_range is None:
            return
        low, high = self.target_range
        bad = (y < low) | (y > high)
        if np.any(bad):
            index, where = _first(bad)
            raise DataError(f"{self.name} expects targets in [{low:g}, {high:g}] "
                            f"({self.target_meaning}), got {y[index].item()!r} in {name} at {where}")

    def _class_labels(self, y_true, p):
        """Integer class labels in ``[0, k)`` shaped ``p.shape[:-1]``, as an ``intp`` array."""
        if p.ndim < 2:
            raise ShapeError(
                f"{self.name} expects y_pred shaped (N, classes), got {p.shape}"
            )
        k = p.shape[-1]
        expected = p.shape[:-1]
        y = np.asarray(y_true)
        if y.shape == expected + (1,):
            y = y.reshape(expected)
        if y.shape != expected:
            raise ShapeError(
                f"{self.name} expects integer class labels shaped {expected} "
                f"(or {expected + (1,)}) for y_pred {p.shape}, got {y.shape}"
            )
        if y.dtype.kind in "iu":
            bad = (y < 0) | (y >= k)
        elif y.dtype.kind == "f":
            finite = np.isfinite(y)
            safe = np.where(finite, y, -1.0)
            bad = ~finite | (safe != np.floor(safe)) | (safe < 0) | (safe >= k)
        else:
            raise DataError(
                f"{self.name} expects integer class labels in [0, {k}), got dtype {y.dtype}"
            )
        if np.any(bad):
            index, where = _first(bad)
            raise DataError(
                f"{self.name} expects integer class labels in [0, {k}), "
                f"got {y[index].item()!r} at {where}"
            )
        return y.astype(np.intp, copy=False)


def _first(bad):
    """``(index, "row i" or "index (i, j, ...)")`` of the first True entry of ``bad``."""
    index = np.unravel_index(int(np.argmax(bad)), bad.shape)
    where = f"row {index[0]}" if len(index) == 1 else f"index {tuple(int(i) for i in index)}"
    return index, where


class LogitsOrProbabilities(Loss):
    """A loss on probabilities that can take logits instead (``from_logits=True``).

    Subclasses set ``logit_activation``, the activation (``"sigmoid"`` or ``"softmax"``) that
    turns logits into the probabilities this loss reads. With ``from_logits=False`` a Network
    whose last layer has that activation fuses the two (see :attr:`Loss.fused_activation`).
    """

    logit_activation = None

    def __init__(self, from_logits=False):
        self.from_logits = checks.boolean(from_logits, f"{self.name} from_logits")
        self.fused_activation = None if self.from_logits else self.logit_activation

    def with_logits(self):
        """This loss on logits: itself if it takes them already, else a copy that does."""
        if self.from_logits:
            return self
        config = {key: getattr(self, key) for key in self.hyperparameters}
        return type(self)(**{**config, "from_logits": True})
