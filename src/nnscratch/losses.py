"""Loss (cost) functions: a value, its exact gradient, and a registry by name.

Every loss is written as two pure pieces, the loss of each sample and its derivative,

.. math::

    l_i = \\ell(p_i, y_i), \\qquad g_i = \\frac{\\partial l_i}{\\partial p_i}

and the base class :class:`Loss` turns them into the batch value and its gradient, with optional
sample weights :math:`w_i` (1 when not given):

.. math::

    L = \\frac{1}{D} \\sum_{i=1}^{N} w_i\\, l_i, \\qquad
    \\frac{\\partial L}{\\partial p_i} = \\frac{w_i}{D}\\, g_i, \\qquad
    D = N \\text{ for reduction "mean"}, \\; D = 1 \\text{ for "sum"}.

So with ``"mean"`` a weight of 2 counts a sample twice in the numerator but the divisor stays
``N`` (the number of rows), as in Keras.

Conventions shared by all losses:

- ``y_pred`` has shape ``(N, ...)``: a batch of ``N`` samples. ``(N,)`` is a batch of single
  outputs. ``y_true`` has the same shape (``(N,)`` and ``(N, 1)`` are accepted for each other);
  the sparse categorical cross-entropy takes integer class labels shaped ``y_pred.shape[:-1]``
  (or with a trailing 1) instead.
- Elementwise losses (mse, mae, huber, log_cosh, msle, mape, binary cross-entropy, the hinges,
  poisson, focal) average over all the output elements of a sample, as Keras does; ``sse``
  sums them. Losses over a distribution (categorical cross-entropies, categorical hinge,
  KL divergence, cosine similarity) work along the last axis and average over any axes between
  the batch axis and the last one.
- Probabilities are clipped to :math:`[\\epsilon, 1 - \\epsilon]` with ``EPSILON = 1e-7`` (the Keras
  value) before any logarithm. The loss is then the loss *of the clipped value*, so where a
  prediction is clipped the gradient is zero and value and gradient stay consistent. Feed logits
  (``from_logits=True``, or let the Network fuse a softmax/sigmoid output with its loss) to avoid
  this flat region: the fused forms are exact and stable for any finite input.
- Subgradients at kinks are written next to each formula (mae takes 0 at ``p = y``).
- The gradient has the shape and dtype of ``y_pred``: float32 in, float32 out. Targets are cast to
  the dtype of ``y_pred``.
- For any finite input no overflow or invalid operation happens. Underflow to zero (``exp(-1e4)``)
  is harmless and is not reported, even under ``np.errstate(all="raise")``: value, gradient and
  the per-sample methods of every subclass run with underflow ignored.

Registry: ``get("mse")``, ``get({"name": "huber", "delta": 2.0})``, ``get(loss_instance)``;
``names()`` lists the known names; ``register(name, value_fn, gradient_fn)`` adds a user loss.
"""

import functools
import math

import numpy as np

from .errors import ConfigError, DataError, ShapeError

EPSILON = 1e-7
"""Clipping epsilon for probabilities (and the floor of ``|y|`` in mape), as in Keras."""

_NORM_EPSILON = 1e-12
"""Floor of the squared norm in cosine similarity (Keras' ``l2_normalize`` epsilon)."""

_LOG_2 = math.log(2.0)  # a Python float, so float32 arrays stay float32


# ---------------------------------------------------------------------------------------------
# Stable kernels and per-sample reductions
# ---------------------------------------------------------------------------------------------

def _sigmoid(x):
    """Logistic function without overflow: both branches use ``exp(-|x|) <= 1``."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus_neg_abs(x):
    """``log(1 + exp(-|x|))``, the bounded part of the stable binary cross-entropy."""
    return np.log1p(np.exp(-np.abs(x)))


def _log_softmax(x):
    """Log-softmax and softmax over the last axis, with the row maximum subtracted first.

    ``z = x - max(x)`` is at most 0, so ``exp(z) <= 1`` never overflows and the sum is >= 1.
    Returns ``(log_p, p)``.
    """
    z = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(z)
    s = np.sum(e, axis=-1, keepdims=True)
    return z - np.log(s), e / s


def _mean_per_sample(a):
    """Mean over all non-batch axes: ``(N, ...) -> (N,)``; a ``(N,)`` array is returned as is."""
    if a.ndim == 1:
        return a
    return a.reshape(a.shape[0], -1).mean(axis=1)


def _sum_per_sample(a):
    """Sum over all non-batch axes: ``(N, ...) -> (N,)``."""
    if a.ndim == 1:
        return a
    return a.reshape(a.shape[0], -1).sum(axis=1)


def _per_sample_count(a):
    """Number of elements of one sample (1 for a ``(N,)`` array)."""
    return int(np.prod(a.shape[1:], dtype=np.int64))


def _as_rows(a):
    """View a ``(N,)`` array as ``(N, 1)`` so a last-axis loss sees one output per sample."""
    return a.reshape(a.shape[0], 1) if a.ndim == 1 else a


def _mean_squared_error(p, y):
    """Per-sample mean of ``(p - y)^2``, shared by mse and rmse."""
    return _mean_per_sample(np.square(p - y))


def _batch_weights_shape(n, ndim):
    """Shape that broadcasts a ``(N,)`` weight vector against a ``(N, ...)`` array."""
    return (n,) + (1,) * (ndim - 1)


def _ignoring_underflow(method):
    """Wrap ``method`` so that floating-point underflow inside it is not reported."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with np.errstate(under="ignore"):
            return method(*args, **kwargs)
    return wrapper


# ---------------------------------------------------------------------------------------------
# Base class
# ---------------------------------------------------------------------------------------------

class Loss:
    """A loss function: subclasses write :meth:`per_sample` and :meth:`per_sample_gradient`.

    The base class owns the batch reduction and sample weights (:meth:`value`,
    :meth:`gradient`), input checking (:meth:`_prepare`), the config and the registry glue.

    Class attributes:

    - ``name``: registry key, lower snake case. ``aliases``: other names ``get`` accepts.
    - ``reduction``: ``"mean"`` (divide by the number of samples) or ``"sum"``.
    - ``sparse_labels``: ``y_true`` holds integer class indices instead of one-hot rows.
    - ``fused_activation``: ``"softmax"`` or ``"sigmoid"`` when a Network whose last layer has
      that activation should feed the logits to :meth:`with_logits` instead (stable, exact).
    """

    name = None
    aliases = ()
    reduction = "mean"
    sparse_labels = False
    fused_activation = None
    _config_keys = ()  # names of the hyperparameters stored as attributes, for get_config

    def __init_subclass__(cls, **kwargs):
        # Underflow to 0 (exp(-1e4), a tiny error squared) is exact enough and not worth a
        # warning; run every subclass's per-sample kernels with it ignored, like value/gradient.
        super().__init_subclass__(**kwargs)
        for method in ("per_sample", "per_sample_gradient"):
            if method in vars(cls):
                setattr(cls, method, _ignoring_underflow(vars(cls)[method]))

    def per_sample(self, y_pred, y_true):
        """The loss of each sample, shape ``(N,)``."""
        raise NotImplementedError

    def per_sample_gradient(self, y_pred, y_true):
        """Row ``i`` is ``d per_sample[i] / d y_pred[i]``; shaped like ``y_pred``."""
        raise NotImplementedError

    def value(self, y_pred, y_true, sample_weight=None):
        """The batch loss :math:`\\frac{1}{D}\\sum_i w_i l_i`, a Python float."""
        with np.errstate(under="ignore"):
            return self._reduce(self.per_sample(y_pred, y_true), sample_weight)

    def gradient(self, y_pred, y_true, sample_weight=None):
        """The exact derivative of :meth:`value` with respect to ``y_pred``: ``w_i g_i / D``."""
        with np.errstate(under="ignore"):
            return self._scale(self.per_sample_gradient(y_pred, y_true), sample_weight)

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

    def get_config(self):
        """``{"name": ..., **hyperparameters}``, JSON-safe; ``get(config)`` rebuilds the loss."""
        config = {"name": self.name}
        for key in self._config_keys:
            config[key] = getattr(self, key)
        return config

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._config_keys)
        return f"{type(self).__name__}({args})"

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
        return p, y.astype(p.dtype, copy=False)

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
            index = np.unravel_index(int(np.argmax(bad)), bad.shape)
            where = f"row {index[0]}" if len(index) == 1 else f"index {tuple(int(i) for i in index)}"
            raise DataError(
                f"{self.name} expects integer class labels in [0, {k}), "
                f"got {y[index].item()!r} at {where}"
            )
        return y.astype(np.intp, copy=False)


def _clip_probability(p):
    """``(clip(p, eps, 1 - eps), inside)``; ``inside`` is 1 where ``p`` was not clipped."""
    clipped = np.clip(p, EPSILON, 1.0 - EPSILON)
    inside = (clipped == p).astype(p.dtype)
    return clipped, inside


def _check_bool(name, key, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} expects {key} to be True or False, got {value!r}")
    return bool(value)


def _check_float(name, key, value, low, high=None, low_open=False):
    """A hyperparameter as a Python float in ``[low, high]`` (``(low, high]`` if ``low_open``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} expects {key} to be a number, got {value!r}") from None
    too_low = number <= low if low_open else number < low
    too_high = high is not None and number > high
    if not math.isfinite(number) or too_low or too_high:
        wanted = f"in [{low:g}, {high:g}]" if high is not None else f"{'>' if low_open else '>='} {low:g}"
        raise ConfigError(f"{name} expects {key} {wanted}, got {value!r}")
    return number


# ---------------------------------------------------------------------------------------------
# Regression losses
# ---------------------------------------------------------------------------------------------

class SumSquaredError(Loss):
    """Sum of squared errors, summed over the batch too (the classic backpropagation cost).

    .. math::

        l_i = \\sum_j (p_{ij} - y_{ij})^2, \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = 2 (p_{ij} - y_{ij}), \\qquad L = \\sum_i l_i
    """

    name = "sse"
    aliases = ("sum_squared_error", "sum_of_squared_errors")
    reduction = "sum"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _sum_per_sample(np.square(p - y))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return 2.0 * (p - y)

    def value_and_gradient(self, y_pred, y_true, sample_weight=None):
        r"""Both from one difference ``d = p - y``: :math:`L = d \cdot d` and :math:`2 d`.

        No operation here can underflow into a warning (the dot product reports none), so this
        runs without the floating-point error scope of the general method.
        """
        if sample_weight is not None:
            return super().value_and_gradient(y_pred, y_true, sample_weight)
        p, y = self._prepare(y_pred, y_true)
        d = p - y                                   # d = p - y
        value = float(np.vdot(d, d))                # L = sum of d^2
        d *= 2.0                                    # dL/dp = 2 d
        return value, d


class MeanSquaredError(Loss):
    """Mean squared error over the ``m`` outputs of a sample.

    .. math::

        l_i = \\frac{1}{m} \\sum_j (p_{ij} - y_{ij})^2, \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{2}{m} (p_{ij} - y_{ij})
    """

    name = "mse"
    aliases = ("mean_squared_error",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_squared_error(p, y)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return (2.0 / _per_sample_count(p)) * (p - y)


class MeanAbsoluteError(Loss):
    """Mean absolute error. At ``p = y`` the subgradient 0 is taken (``sign(0) = 0``).

    .. math::

        l_i = \\frac{1}{m} \\sum_j |p_{ij} - y_{ij}|, \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{1}{m} \\operatorname{sign}(p_{ij} - y_{ij})
    """

    name = "mae"
    aliases = ("mean_absolute_error",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(np.abs(p - y))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.sign(p - y) / _per_sample_count(p)


class RootMeanSquaredError(Loss):
    """Root of the batch mean squared error: *not* a mean of per-sample roots.

    .. math::

        M = \\frac{1}{N} \\sum_i w_i\\, \\mathrm{mse}_i, \\qquad L = \\sqrt{M}, \\qquad
        \\frac{\\partial L}{\\partial p_{ij}} = \\frac{1}{2\\sqrt{M}} \\cdot
            \\frac{w_i}{N} \\cdot \\frac{2}{m} (p_{ij} - y_{ij})

    :meth:`value` and :meth:`gradient` are overridden for this. At ``M = 0`` (a perfect fit) the
    square root has no derivative; the gradient 0 is taken there. :meth:`per_sample` is the RMSE of
    each sample on its own, :math:`\\sqrt{\\mathrm{mse}_i}`, with the same zero guard.
    """

    name = "rmse"
    aliases = ("root_mean_squared_error",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.sqrt(_mean_squared_error(p, y))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        root = np.sqrt(_mean_squared_error(p, y))
        # d sqrt(mse_i) = d mse_i / (2 sqrt(mse_i)); 0 where mse_i = 0 (no derivative there)
        half_inverse = np.divide(0.5, root, out=np.zeros_like(root), where=root > 0)
        d_mse = (2.0 / _per_sample_count(p)) * (p - y)
        return d_mse * half_inverse.reshape(_batch_weights_shape(p.shape[0], p.ndim))

    def value(self, y_pred, y_true, sample_weight=None):
        """:math:`\\sqrt{M}`, :math:`M = \\frac{1}{N}\\sum_i w_i\\,\\mathrm{mse}_i`."""
        with np.errstate(under="ignore"):
            p, y = self._prepare(y_pred, y_true)
            return math.sqrt(self._reduce(_mean_squared_error(p, y), sample_weight))

    def gradient(self, y_pred, y_true, sample_weight=None):
        """The gradient of the batch MSE divided by :math:`2\\sqrt{M}`; zero when :math:`M = 0`."""
        with np.errstate(under="ignore"):
            p, y = self._prepare(y_pred, y_true)
            root = math.sqrt(self._reduce(_mean_squared_error(p, y), sample_weight))
            d_mse = self._scale((2.0 / _per_sample_count(p)) * (p - y), sample_weight)
            if root == 0.0:
                return np.zeros_like(d_mse)
            return d_mse * (0.5 / root)


class Huber(Loss):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond (Keras' definition).

    .. math::

        h(x) = \\begin{cases} \\tfrac12 x^2 & |x| \\le \\delta \\\\
                \\delta (|x| - \\tfrac12 \\delta) & |x| > \\delta \\end{cases}, \\qquad
        h'(x) = \\operatorname{clip}(x, -\\delta, \\delta), \\qquad
        l_i = \\frac{1}{m}\\sum_j h(p_{ij} - y_{ij})
    """

    name = "huber"
    aliases = ("huber_loss",)
    _config_keys = ("delta",)

    def __init__(self, delta=1.0):
        self.delta = _check_float(self.name, "delta", delta, 0.0, low_open=True)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        a = np.abs(p - y)
        quadratic = 0.5 * np.square(np.minimum(a, self.delta))
        linear = self.delta * np.maximum(a - self.delta, 0.0)
        # 0.5 min(a, d)^2 + d max(a - d, 0) is the two branches in one expression
        return _mean_per_sample(quadratic + linear)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.clip(p - y, -self.delta, self.delta) / _per_sample_count(p)


class LogCosh(Loss):
    """Logarithm of the hyperbolic cosine of the error, in a form that cannot overflow.

    .. math::

        \\log\\cosh x = |x| + \\log(1 + e^{-2|x|}) - \\log 2, \\qquad
        \\frac{d}{dx}\\log\\cosh x = \\tanh x, \\qquad
        l_i = \\frac{1}{m}\\sum_j \\log\\cosh(p_{ij} - y_{ij})
    """

    name = "log_cosh"
    aliases = ("logcosh",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        a = np.abs(p - y)
        return _mean_per_sample(a + np.log1p(np.exp(-2.0 * a)) - _LOG_2)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.tanh(p - y) / _per_sample_count(p)


class MeanSquaredLogarithmicError(Loss):
    """Mean squared error of ``log(1 + x)``. Values are clipped at ``-1 + eps`` first.

    .. math::

        l_i = \\frac{1}{m}\\sum_j \\big(\\log(1 + \\hat p_{ij}) - \\log(1 + \\hat y_{ij})\\big)^2,
        \\qquad \\hat x = \\max(x, -1 + \\epsilon)

    .. math::

        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{2}{m}
            \\frac{\\log(1 + \\hat p_{ij}) - \\log(1 + \\hat y_{ij})}{1 + \\hat p_{ij}}
        \\text{ where } p_{ij} \\ge -1 + \\epsilon, \\text{ else } 0
    """

    name = "msle"
    aliases = ("mean_squared_logarithmic_error",)

    @staticmethod
    def _log_terms(p, y):
        p_hat = np.maximum(p, -1.0 + EPSILON)
        return p_hat, np.log1p(p_hat) - np.log1p(np.maximum(y, -1.0 + EPSILON))

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        _, d = self._log_terms(p, y)
        return _mean_per_sample(np.square(d))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p_hat, d = self._log_terms(p, y)
        inside = (p_hat == p).astype(p.dtype)  # zero gradient where p was clipped
        return (2.0 / _per_sample_count(p)) * d / (1.0 + p_hat) * inside


class MeanAbsolutePercentageError(Loss):
    """Mean absolute percentage error, with Keras' floor on the denominator.

    .. math::

        l_i = \\frac{100}{m}\\sum_j \\frac{|y_{ij} - p_{ij}|}{\\max(|y_{ij}|, \\epsilon)}, \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{100}{m}
            \\frac{\\operatorname{sign}(p_{ij} - y_{ij})}{\\max(|y_{ij}|, \\epsilon)}

    At ``p = y`` the subgradient 0 is taken.
    """

    name = "mape"
    aliases = ("mean_absolute_percentage_error",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(100.0 * np.abs(y - p) / np.maximum(np.abs(y), EPSILON))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        scale = 100.0 / _per_sample_count(p)
        return scale * np.sign(p - y) / np.maximum(np.abs(y), EPSILON)


class Poisson(Loss):
    """Poisson negative log-likelihood up to a constant, for a predicted rate ``p >= 0``.

    .. math::

        l_i = \\frac{1}{m}\\sum_j \\big(p_{ij} - y_{ij} \\log(\\max(p_{ij}, 0) + \\epsilon)\\big),
        \\qquad \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{1}{m}\\Big(1 -
            \\frac{y_{ij}}{p_{ij} + \\epsilon}[p_{ij} > 0]\\Big)

    For ``p >= 0`` this is Keras' ``p - y log(p + eps)``; a negative rate is floored at 0 inside
    the logarithm only (so the loss stays finite and its gradient there is 1/m, pushing ``p`` up).
    At ``p = 0`` the one-sided derivative from below (no log term) is taken.
    """

    name = "poisson"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(p - y * np.log(np.maximum(p, 0.0) + EPSILON))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        rate = np.maximum(p, 0.0) + EPSILON
        return (1.0 - y / rate * (p > 0)) / _per_sample_count(p)


class SmoothL1(Loss):
    """Smooth L1 loss (PyTorch's ``SmoothL1Loss``): Huber divided by ``beta``.

    .. math::

        s(x) = \\begin{cases} \\frac{x^2}{2\\beta} & |x| < \\beta \\\\
                |x| - \\tfrac12 \\beta & |x| \\ge \\beta \\end{cases}, \\qquad
        s'(x) = \\operatorname{clip}(x / \\beta, -1, 1), \\qquad
        l_i = \\frac{1}{m}\\sum_j s(p_{ij} - y_{ij})
    """

    name = "smooth_l1"
    aliases = ("smooth_l1_loss",)
    _config_keys = ("beta",)

    def __init__(self, beta=1.0):
        self.beta = _check_float(self.name, "beta", beta, 0.0, low_open=True)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        a = np.abs(p - y)
        inner = np.minimum(a, self.beta)
        return _mean_per_sample(0.5 / self.beta * np.square(inner) + np.maximum(a - self.beta, 0.0))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.clip((p - y) / self.beta, -1.0, 1.0) / _per_sample_count(p)


class Pinball(Loss):
    """Pinball (quantile) loss: its minimiser is the ``tau``-quantile of ``y`` (0.5: the median).

    With the error :math:`e = y - p`:

    .. math::

        l_i = \\frac{1}{m}\\sum_j \\max(\\tau e_{ij}, (\\tau - 1) e_{ij}), \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{1}{m}\\begin{cases} -\\tau & e > 0 \\\\
            1 - \\tau & e < 0 \\\\ 0 & e = 0 \\end{cases}

    At ``e = 0`` the subgradient 0 is taken (it lies in :math:`[-\\tau, 1 - \\tau]`).
    """

    name = "pinball"
    aliases = ("quantile", "pinball_loss", "quantile_loss")
    _config_keys = ("tau",)

    def __init__(self, tau=0.5):
        self.tau = _check_float(self.name, "tau", tau, 0.0, 1.0)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        e = y - p
        return _mean_per_sample(np.maximum(self.tau * e, (self.tau - 1.0) * e))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        e = y - p
        grad = np.where(e > 0, -self.tau, np.where(e < 0, 1.0 - self.tau, 0.0)).astype(p.dtype)
        return grad / _per_sample_count(p)


class CosineSimilarity(Loss):
    """Negative cosine similarity along the last axis (Keras' sign: -1 is a perfect match).

    With :math:`n(x) = \\sqrt{\\max(\\lVert x \\rVert^2, 10^{-12})}`, :math:`\\hat p = p / n(p)`,
    :math:`\\hat y = y / n(y)`:

    .. math::

        l = -\\hat y \\cdot \\hat p, \\qquad
        \\frac{\\partial l}{\\partial p} = -\\frac{\\hat y - (\\hat y \\cdot \\hat p)\\, \\hat p}{n(p)}

    (where :math:`\\lVert p \\rVert^2 \\le 10^{-12}` the norm is the constant floor and the
    gradient is :math:`-\\hat y / n(p)`). Axes between the batch and the last one are averaged.
    """

    name = "cosine_similarity"
    aliases = ("cosine",)

    @staticmethod
    def _normalize(x):
        squared = np.sum(np.square(x), axis=-1, keepdims=True)
        norm = np.sqrt(np.maximum(squared, _NORM_EPSILON))
        return x / norm, norm, squared > _NORM_EPSILON

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p_hat, _, _ = self._normalize(_as_rows(p))
        y_hat, _, _ = self._normalize(_as_rows(y))
        return _mean_per_sample(-np.sum(y_hat * p_hat, axis=-1))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p_hat, norm, normalized = self._normalize(_as_rows(p))
        y_hat, _, _ = self._normalize(_as_rows(y))
        cos = np.sum(y_hat * p_hat, axis=-1, keepdims=True)
        grad = -(y_hat - normalized * cos * p_hat) / norm
        positions = _per_sample_count(grad) // grad.shape[-1]
        return (grad / positions).reshape(p.shape)


# ---------------------------------------------------------------------------------------------
# Classification losses
# ---------------------------------------------------------------------------------------------

class BinaryCrossentropy(Loss):
    """Binary cross-entropy, averaged over the outputs of a sample.

    On probabilities (``from_logits=False``), with :math:`\\hat p = \\operatorname{clip}(p,
    \\epsilon, 1 - \\epsilon)` and zero gradient where ``p`` was clipped:

    .. math::

        l = -\\frac{1}{m}\\sum_j \\big(y \\log \\hat p + (1 - y) \\log(1 - \\hat p)\\big), \\qquad
        \\frac{\\partial l}{\\partial p} = \\frac{1}{m} \\frac{\\hat p - y}{\\hat p (1 - \\hat p)}

    On logits ``x`` (``from_logits=True``), stable for any finite ``x``:

    .. math::

        l = \\frac{1}{m}\\sum_j \\big(\\max(x, 0) - x y + \\log(1 + e^{-|x|})\\big), \\qquad
        \\frac{\\partial l}{\\partial x} = \\frac{1}{m} (\\sigma(x) - y)
    """

    name = "binary_crossentropy"
    aliases = ("bce", "binary_ce", "log_loss", "logloss")
    _config_keys = ("from_logits",)

    def __init__(self, from_logits=False):
        self.from_logits = _check_bool(self.name, "from_logits", from_logits)
        self.fused_activation = None if self.from_logits else "sigmoid"

    def with_logits(self):
        return self if self.from_logits else type(self)(from_logits=True)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        if self.from_logits:
            elementwise = np.maximum(p, 0.0) - p * y + _softplus_neg_abs(p)
        else:
            pc, _ = _clip_probability(p)
            elementwise = -(y * np.log(pc) + (1.0 - y) * np.log1p(-pc))
        return _mean_per_sample(elementwise)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        m = _per_sample_count(p)
        if self.from_logits:
            return (_sigmoid(p) - y) / m
        pc, inside = _clip_probability(p)
        return (pc - y) / (pc * (1.0 - pc)) * inside / m


class BinaryFocalCrossentropy(Loss):
    """Binary focal cross-entropy (Lin et al. 2017, as in Keras), averaged over the outputs.

    With :math:`q = 1 - p_t = y (1 - p) + (1 - y) p` (how wrong the prediction is), the
    cross-entropy :math:`b` of :class:`BinaryCrossentropy` and the class-balancing weight
    :math:`a = y \\alpha + (1 - y)(1 - \\alpha)` (:math:`a = 1` when ``alpha`` is None):

    .. math::

        l = \\frac{1}{m}\\sum_j a\\, q^{\\gamma} b, \\qquad
        \\frac{\\partial l}{\\partial p} = \\frac{a}{m}\\big(\\gamma q^{\\gamma - 1}
            \\tfrac{\\partial q}{\\partial p}\\, b + q^{\\gamma} \\tfrac{\\partial b}{\\partial p}\\big)

    On probabilities :math:`\\partial q / \\partial p = 1 - 2y` and :math:`\\partial b /
    \\partial p = (\\hat p - y) / (\\hat p (1 - \\hat p))` (``p`` clipped as in binary
    cross-entropy, zero gradient where clipped). On logits :math:`p = \\sigma(x)`,
    :math:`\\partial q / \\partial x = (1 - 2y)\\, p (1 - p)` and :math:`\\partial b / \\partial x =
    p - y`. Where :math:`q = 0` (a logit so large that :math:`\\sigma` rounds to 0 or 1) the
    factor :math:`q^{\\gamma - 1} p (1 - p)` is taken as its limit 0.
    """

    name = "binary_focal_crossentropy"
    aliases = ("focal", "binary_focal", "focal_loss")
    _config_keys = ("gamma", "alpha", "from_logits")

    def __init__(self, gamma=2.0, alpha=None, from_logits=False):
        self.gamma = _check_float(self.name, "gamma", gamma, 0.0)
        self.alpha = None if alpha is None else _check_float(self.name, "alpha", alpha, 0.0, 1.0)
        self.from_logits = _check_bool(self.name, "from_logits", from_logits)
        self.fused_activation = None if self.from_logits else "sigmoid"

    def with_logits(self):
        if self.from_logits:
            return self
        return type(self)(gamma=self.gamma, alpha=self.alpha, from_logits=True)

    def _terms(self, p, y):
        """Cross-entropy ``b``, wrongness ``q`` and the pieces of their derivatives."""
        if self.from_logits:
            prob, prob_neg = _sigmoid(p), _sigmoid(-p)  # sigma(x), 1 - sigma(x), both accurate
            b = np.maximum(p, 0.0) - p * y + _softplus_neg_abs(p)
            db = prob - y
            dq = (1.0 - 2.0 * y) * prob * prob_neg
            inside = None
        else:
            prob, inside = _clip_probability(p)
            prob_neg = 1.0 - prob
            b = -(y * np.log(prob) + (1.0 - y) * np.log(prob_neg))
            db = (prob - y) / (prob * prob_neg)
            dq = 1.0 - 2.0 * y
        q = y * prob_neg + (1.0 - y) * prob
        return b, db, q, dq, inside

    def _balance(self, y):
        if self.alpha is None:
            return 1.0
        return y * self.alpha + (1.0 - y) * (1.0 - self.alpha)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        b, _, q, _, _ = self._terms(p, y)
        return _mean_per_sample(self._balance(y) * q ** self.gamma * b)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        b, db, q, dq, inside = self._terms(p, y)
        # q^(gamma - 1), with the limit 0 where q = 0 (only reachable from logits)
        q_power = np.power(q, self.gamma - 1.0, out=np.zeros_like(q), where=q > 0)
        grad = self._balance(y) * (self.gamma * q_power * dq * b + q ** self.gamma * db)
        if inside is not None:
            grad = grad * inside
        return grad / _per_sample_count(p)


class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy over the last axis, ``y`` one-hot (or any distribution).

    On probabilities (rows of a softmax; not renormalized), :math:`\\hat p` clipped as in
    binary cross-entropy, zero gradient where clipped:

    .. math::

        l = -\\sum_k y_k \\log \\hat p_k, \\qquad
        \\frac{\\partial l}{\\partial p_k} = -\\frac{y_k}{\\hat p_k}

    On logits ``x`` (``from_logits=True``), through the stable log-softmax
    :math:`\\log s_k = (x_k - \\max x) - \\log\\sum_j e^{x_j - \\max x}`:

    .. math::

        l = -\\sum_k y_k \\log s_k, \\qquad
        \\frac{\\partial l}{\\partial x_k} = s_k \\sum_j y_j - y_k \\;(= s_k - y_k \\text{ for one-hot } y)

    Axes between the batch axis and the last are averaged (one distribution per position).
    """

    name = "categorical_crossentropy"
    aliases = ("crossentropy", "cce", "categorical_ce")
    _config_keys = ("from_logits",)

    def __init__(self, from_logits=False):
        self.from_logits = _check_bool(self.name, "from_logits", from_logits)
        self.fused_activation = None if self.from_logits else "softmax"

    def with_logits(self):
        return self if self.from_logits else type(self)(from_logits=True)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p, y = _as_rows(p), _as_rows(y)
        log_p = _log_softmax(p)[0] if self.from_logits else np.log(_clip_probability(p)[0])
        return _mean_per_sample(-np.sum(y * log_p, axis=-1))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        rows_p, rows_y = _as_rows(p), _as_rows(y)
        if self.from_logits:
            softmax = _log_softmax(rows_p)[1]
            grad = softmax * np.sum(rows_y, axis=-1, keepdims=True) - rows_y
        else:
            pc, inside = _clip_probability(rows_p)
            grad = -rows_y / pc * inside
        positions = _per_sample_count(grad) // grad.shape[-1]
        return (grad / positions).reshape(p.shape)


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer class labels ``c`` instead of one-hot rows.

    Identical to :class:`CategoricalCrossentropy` with ``y = onehot(c)``:

    .. math::

        l = -\\log \\hat p_c, \\quad \\frac{\\partial l}{\\partial p_k} = -\\frac{[k = c]}{\\hat p_c}
        \\qquad\\text{or from logits}\\qquad
        l = -\\log s_c, \\quad \\frac{\\partial l}{\\partial x_k} = s_k - [k = c]

    Labels must be integers in ``[0, k)`` (integral floats are accepted), shaped
    ``y_pred.shape[:-1]`` or with a trailing 1; anything else raises a DataError naming the row.
    """

    name = "sparse_categorical_crossentropy"
    aliases = ("sparse_crossentropy", "sparse_cce", "scce")
    sparse_labels = True
    _config_keys = ("from_logits",)

    def __init__(self, from_logits=False):
        self.from_logits = _check_bool(self.name, "from_logits", from_logits)
        self.fused_activation = None if self.from_logits else "softmax"

    def with_logits(self):
        return self if self.from_logits else type(self)(from_logits=True)

    def per_sample(self, y_pred, y_true):
        p, labels = self._prepare(y_pred, y_true)
        index = labels[..., np.newaxis]
        if self.from_logits:
            picked = np.take_along_axis(_log_softmax(p)[0], index, axis=-1)
        else:
            picked = np.log(_clip_probability(np.take_along_axis(p, index, axis=-1))[0])
        return _mean_per_sample(-picked[..., 0])

    def per_sample_gradient(self, y_pred, y_true):
        p, labels = self._prepare(y_pred, y_true)
        index = labels[..., np.newaxis]
        if self.from_logits:
            grad = _log_softmax(p)[1]
            picked = np.take_along_axis(grad, index, axis=-1)
            np.put_along_axis(grad, index, picked - 1.0, axis=-1)  # softmax - onehot
        else:
            grad = np.zeros_like(p)
            pc, inside = _clip_probability(np.take_along_axis(p, index, axis=-1))
            np.put_along_axis(grad, index, -inside / pc, axis=-1)
        positions = _per_sample_count(grad) // grad.shape[-1]
        return grad / positions

    def value_and_gradient(self, y_pred, y_true, sample_weight=None):
        """From logits, one log-softmax gives both: :math:`l = -\\log s_c` and :math:`s - e_c`.

        The same formulas as :meth:`per_sample` and :meth:`per_sample_gradient`, with the
        labels checked and the softmax computed once instead of twice (a training step's need).
        """
        if not self.from_logits:
            return super().value_and_gradient(y_pred, y_true, sample_weight)
        with np.errstate(under="ignore"):
            p, labels = self._prepare(y_pred, y_true)
            index = labels[..., np.newaxis]
            log_s, grad = _log_softmax(p)
            losses = _mean_per_sample(-np.take_along_axis(log_s, index, axis=-1)[..., 0])
            picked = np.take_along_axis(grad, index, axis=-1)
            np.put_along_axis(grad, index, picked - 1.0, axis=-1)     # softmax - onehot
            grad /= _per_sample_count(grad) // grad.shape[-1]
            return self._reduce(losses, sample_weight), self._scale(grad, sample_weight)


class CategoricalFocalCrossentropy(Loss):
    """Categorical focal cross-entropy over the last axis (Keras), ``y`` one-hot.

    With :math:`s` the predicted probabilities (clipped as in categorical cross-entropy, zero
    gradient where clipped; or :math:`s = \\operatorname{softmax}(x)` from logits) and
    :math:`a = \\alpha` (1 when ``alpha`` is None):

    .. math::

        l = -a \\sum_k y_k (1 - s_k)^{\\gamma} \\log s_k, \\qquad
        \\frac{\\partial l}{\\partial s_k} = -a\\, y_k \\Big(\\frac{(1 - s_k)^{\\gamma}}{s_k}
            - \\gamma (1 - s_k)^{\\gamma - 1} \\log s_k\\Big)

    From logits the chain rule through the softmax gives, with
    :math:`v_k = s_k\\, \\partial l / \\partial s_k`,
    :math:`\\partial l / \\partial x_j = v_j - s_j \\sum_k v_k` (the CE gradient ``s - y`` when
    :math:`\\gamma = 0`, ``a = 1``). Where :math:`s_k = 1` the factor
    :math:`(1 - s_k)^{\\gamma - 1} \\log s_k` is taken as its limit 0. Unlike Keras, the
    prediction is not renormalized and ``alpha`` defaults to None (Keras: 0.25).
    """

    name = "categorical_focal_crossentropy"
    aliases = ("categorical_focal", "focal_categorical_crossentropy")
    _config_keys = ("gamma", "alpha", "from_logits")

    def __init__(self, gamma=2.0, alpha=None, from_logits=False):
        self.gamma = _check_float(self.name, "gamma", gamma, 0.0)
        self.alpha = None if alpha is None else _check_float(self.name, "alpha", alpha, 0.0, 1.0)
        self.from_logits = _check_bool(self.name, "from_logits", from_logits)
        self.fused_activation = None if self.from_logits else "softmax"

    def with_logits(self):
        if self.from_logits:
            return self
        return type(self)(gamma=self.gamma, alpha=self.alpha, from_logits=True)

    def _probabilities(self, p):
        """``(s, log s, inside)``: softmax of logits, or clipped probabilities and their mask."""
        if self.from_logits:
            log_s, s = _log_softmax(p)
            return s, log_s, None
        s, inside = _clip_probability(p)
        return s, np.log(s), inside

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        y = _as_rows(y)
        s, log_s, _ = self._probabilities(_as_rows(p))
        a = 1.0 if self.alpha is None else self.alpha
        return _mean_per_sample(-a * np.sum(y * (1.0 - s) ** self.gamma * log_s, axis=-1))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        rows_y = _as_rows(y)
        s, log_s, inside = self._probabilities(_as_rows(p))
        a = 1.0 if self.alpha is None else self.alpha
        rest = 1.0 - s
        # (1 - s)^(gamma - 1), with the limit 0 of (1 - s)^(gamma - 1) log s where s = 1
        rest_power = np.power(rest, self.gamma - 1.0, out=np.zeros_like(rest), where=rest > 0)
        if self.from_logits:
            # v_k = s_k dl/ds_k, written without dividing by s_k (which may underflow to 0)
            v = -a * rows_y * (rest ** self.gamma - self.gamma * rest_power * s * log_s)
            grad = v - s * np.sum(v, axis=-1, keepdims=True)
        else:
            grad = -a * rows_y * (rest ** self.gamma / s - self.gamma * rest_power * log_s) * inside
        positions = _per_sample_count(grad) // grad.shape[-1]
        return (grad / positions).reshape(p.shape)


class Dice(Loss):
    """Dice loss (Keras' form) per sample, over all its outputs, for probabilities in [0, 1].

    With :math:`\\hat p = \\operatorname{clip}(p, 0, 1)` (zero gradient where clipped),
    :math:`I = \\sum_j y_j \\hat p_j` and :math:`U = \\sum_j y_j + \\sum_j \\hat p_j + \\epsilon`:

    .. math::

        l = 1 - \\frac{2 I}{U}, \\qquad
        \\frac{\\partial l}{\\partial p_j} = -\\frac{2 (y_j U - I)}{U^2}

    Keras reduces over the whole batch by default; here each sample has its own score, so the
    loss is a mean over samples like every other loss.
    """

    name = "dice"
    aliases = ("dice_loss",)

    @staticmethod
    def _terms(p, y):
        n = p.shape[0]
        pc = np.clip(p, 0.0, 1.0)
        inside = (pc == p).astype(p.dtype)
        flat_p, flat_y = pc.reshape(n, -1), y.reshape(n, -1)
        intersection = np.sum(flat_y * flat_p, axis=1, keepdims=True)
        union = np.sum(flat_y, axis=1, keepdims=True) + np.sum(flat_p, axis=1, keepdims=True) + EPSILON
        return flat_y, inside, intersection, union

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        _, _, intersection, union = self._terms(p, y)
        return 1.0 - 2.0 * intersection[:, 0] / union[:, 0]

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        flat_y, inside, intersection, union = self._terms(p, y)
        grad = -2.0 * (flat_y * union - intersection) / np.square(union)
        return grad.reshape(p.shape) * inside


class Tversky(Loss):
    """Tversky loss, a Dice loss that weighs false positives by ``alpha`` and misses by ``beta``.

    With :math:`\\hat p = \\operatorname{clip}(p, 0, 1)` (zero gradient where clipped), per sample
    :math:`T_p = \\sum y \\hat p`, :math:`F_p = \\sum (1 - y) \\hat p`,
    :math:`F_n = \\sum y (1 - \\hat p)` and :math:`B = T_p + \\alpha F_p + \\beta F_n + \\epsilon`:

    .. math::

        l = 1 - \\frac{T_p}{B}, \\qquad
        \\frac{\\partial l}{\\partial p_j} = -\\frac{y_j B - T_p \\big(y_j + \\alpha (1 - y_j)
            - \\beta y_j\\big)}{B^2}

    ``alpha = beta = 0.5`` is the Dice loss.
    """

    name = "tversky"
    aliases = ("tversky_loss",)
    _config_keys = ("alpha", "beta")

    def __init__(self, alpha=0.5, beta=0.5):
        self.alpha = _check_float(self.name, "alpha", alpha, 0.0)
        self.beta = _check_float(self.name, "beta", beta, 0.0)

    def _terms(self, p, y):
        n = p.shape[0]
        pc = np.clip(p, 0.0, 1.0)
        inside = (pc == p).astype(p.dtype)
        flat_p, flat_y = pc.reshape(n, -1), y.reshape(n, -1)
        true_pos = np.sum(flat_y * flat_p, axis=1, keepdims=True)
        false_pos = np.sum((1.0 - flat_y) * flat_p, axis=1, keepdims=True)
        false_neg = np.sum(flat_y * (1.0 - flat_p), axis=1, keepdims=True)
        denominator = true_pos + self.alpha * false_pos + self.beta * false_neg + EPSILON
        return flat_y, inside, true_pos, denominator

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        _, _, true_pos, denominator = self._terms(p, y)
        return 1.0 - true_pos[:, 0] / denominator[:, 0]

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        flat_y, inside, true_pos, denominator = self._terms(p, y)
        d_denominator = flat_y + self.alpha * (1.0 - flat_y) - self.beta * flat_y
        grad = -(flat_y * denominator - true_pos * d_denominator) / np.square(denominator)
        return grad.reshape(p.shape) * inside


def _signed_labels(y):
    """Hinge targets in {-1, 1}; a batch whose labels are all 0 or 1 is mapped by ``2y - 1``."""
    if np.all((y == 0) | (y == 1)):
        return 2.0 * y - 1.0
    return y


class Hinge(Loss):
    """Hinge loss for labels in {-1, 1} (labels in {0, 1} are converted, as Keras does).

    .. math::

        l = \\frac{1}{m}\\sum_j \\max(1 - y_j p_j, 0), \\qquad
        \\frac{\\partial l}{\\partial p_j} = -\\frac{y_j}{m} [1 - y_j p_j > 0]

    At the kink ``y p = 1`` the subgradient 0 is taken.
    """

    name = "hinge"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(np.maximum(1.0 - _signed_labels(y) * p, 0.0))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        y = _signed_labels(y)
        return -y * (1.0 - y * p > 0) / _per_sample_count(p)


class SquaredHinge(Loss):
    """Squared hinge loss for labels in {-1, 1} (or {0, 1}, converted).

    .. math::

        l = \\frac{1}{m}\\sum_j \\max(1 - y_j p_j, 0)^2, \\qquad
        \\frac{\\partial l}{\\partial p_j} = -\\frac{2}{m} y_j \\max(1 - y_j p_j, 0)
    """

    name = "squared_hinge"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(np.square(np.maximum(1.0 - _signed_labels(y) * p, 0.0)))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        y = _signed_labels(y)
        return (-2.0 / _per_sample_count(p)) * y * np.maximum(1.0 - y * p, 0.0)


class CategoricalHinge(Loss):
    """Categorical hinge (Keras) over the last axis, ``y`` one-hot.

    With the true score :math:`t = \\sum_k y_k p_k` and the best wrong score
    :math:`u = \\max_k (1 - y_k) p_k`, reached at :math:`k^*`:

    .. math::

        l = \\max(u - t + 1, 0), \\qquad
        \\frac{\\partial l}{\\partial p_k} = [l > 0]\\big((1 - y_k)[k = k^*] - y_k\\big)

    Ties for :math:`k^*` go to the first index; at ``l = 0`` the subgradient 0 is taken.
    """

    name = "categorical_hinge"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p, y = _as_rows(p), _as_rows(y)
        true_score = np.sum(y * p, axis=-1)
        wrong_score = np.max((1.0 - y) * p, axis=-1)
        return _mean_per_sample(np.maximum(wrong_score - true_score + 1.0, 0.0))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        rows_p, rows_y = _as_rows(p), _as_rows(y)
        wrong = (1.0 - rows_y) * rows_p
        true_score = np.sum(rows_y * rows_p, axis=-1, keepdims=True)
        best = np.argmax(wrong, axis=-1)[..., np.newaxis]
        active = (np.take_along_axis(wrong, best, axis=-1) - true_score + 1.0 > 0).astype(p.dtype)
        grad = -rows_y  # d(-t)/dp_k = -y_k
        # d u / dp_k = (1 - y_k) at k = k*, 0 elsewhere
        at_best = np.take_along_axis(grad, best, axis=-1) + np.take_along_axis(1.0 - rows_y, best, axis=-1)
        np.put_along_axis(grad, best, at_best, axis=-1)
        grad = grad * active
        positions = _per_sample_count(grad) // grad.shape[-1]
        return (grad / positions).reshape(p.shape)


class KLDivergence(Loss):
    """Kullback-Leibler divergence :math:`KL(y \\| p)` over the last axis (Keras' clipping).

    With :math:`\\hat y = \\operatorname{clip}(y, \\epsilon, 1)` and
    :math:`\\hat p = \\operatorname{clip}(p, \\epsilon, 1)` (zero gradient where ``p`` was clipped):

    .. math::

        l = \\sum_k \\hat y_k (\\log \\hat y_k - \\log \\hat p_k), \\qquad
        \\frac{\\partial l}{\\partial p_k} = -\\frac{\\hat y_k}{\\hat p_k}
    """

    name = "kl_divergence"
    aliases = ("kld", "kullback_leibler_divergence", "kl")

    @staticmethod
    def _clipped(p, y):
        pc = np.clip(p, EPSILON, 1.0)
        return pc, (pc == p).astype(p.dtype), np.clip(y, EPSILON, 1.0)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        pc, _, yc = self._clipped(_as_rows(p), _as_rows(y))
        return _mean_per_sample(np.sum(yc * (np.log(yc) - np.log(pc)), axis=-1))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        pc, inside, yc = self._clipped(_as_rows(p), _as_rows(y))
        grad = -yc / pc * inside
        positions = _per_sample_count(grad) // grad.shape[-1]
        return (grad / positions).reshape(p.shape)


# ---------------------------------------------------------------------------------------------
# User-defined losses and the registry
# ---------------------------------------------------------------------------------------------

class _FunctionLoss(Loss):
    """A loss made by :func:`register` from a per-sample value and its gradient (mean reduction)."""

    def __init__(self, name, value_fn, gradient_fn):
        self.name = name
        self._value_fn = value_fn
        self._gradient_fn = gradient_fn

    def __repr__(self):
        return f"<user loss '{self.name}'>"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        losses = np.asarray(self._value_fn(p, y))
        n = p.shape[0]
        if losses.shape not in ((n,), (n, 1)):
            raise ShapeError(
                f"loss '{self.name}': value_fn must return one loss per sample, shape ({n},), "
                f"got {losses.shape}"
            )
        return losses.reshape(n).astype(p.dtype, copy=False)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        grad = np.asarray(self._gradient_fn(p, y))
        if grad.shape != p.shape:
            raise ShapeError(
                f"loss '{self.name}': gradient_fn must return an array shaped like y_pred "
                f"{p.shape}, got {grad.shape}"
            )
        return grad.astype(p.dtype, copy=False)


_BUILTINS = (
    SumSquaredError, MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, Huber, SmoothL1,
    LogCosh, MeanSquaredLogarithmicError, MeanAbsolutePercentageError, Pinball, Poisson,
    CosineSimilarity, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, CategoricalFocalCrossentropy, Hinge, SquaredHinge,
    CategoricalHinge, KLDivergence, Dice, Tversky,
)

# name -> factory (a Loss class, or a partial that builds a user loss); built from the classes
_REGISTRY = {cls.name: cls for cls in _BUILTINS}
_ALIASES = {alias: cls.name for cls in _BUILTINS for alias in cls.aliases}


def _normalize(name):
    """Registry spelling: lower case, ``_`` for spaces and dashes, ``crossentropy`` in one word."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return key.replace("cross_entropy", "crossentropy")


def names():
    """Sorted names of the known losses (built-in and registered; aliases not included)."""
    return sorted(_REGISTRY)


def _lookup(name):
    key = _normalize(name)
    key = key if key in _REGISTRY else _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise ConfigError(f"unknown loss {name!r}; known losses: {', '.join(names())}")
    return _REGISTRY[key]


def get(identifier):
    """A :class:`Loss` from a name (case-insensitive, aliases allowed), a Loss, a Loss class,
    or a config dict ``{"name": ..., **hyperparameters}`` as written by ``get_config``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
        if not isinstance(name, str):
            raise ConfigError(f"a loss config needs a 'name' string, got {identifier!r}")
        factory = _lookup(name)
        try:
            return factory(**config)
        except TypeError:
            raise ConfigError(
                f"loss {name!r} does not take the hyperparameters {sorted(config)}; "
                f"got config {identifier!r}"
            ) from None
    raise ConfigError(
        f"expected a loss name, a Loss or a config dict, got {type(identifier).__name__} "
        f"{identifier!r}; known losses: {', '.join(names())} "
        "(register a new one with nnscratch.losses.register)"
    )


def register(name, value_fn, gradient_fn, overwrite=False):
    """Add a user-defined loss, reduced by the mean over samples.

    ``value_fn(y_pred, y_true)`` returns the loss of each sample, shape ``(N,)``;
    ``gradient_fn(y_pred, y_true)`` returns its derivative, row ``i`` = d loss_i / d y_pred[i],
    shaped like ``y_pred``. Check the pair with ``nnscratch.gradcheck.check_loss(name, ...)``.
    A name already known (a loss or an alias) raises ConfigError unless ``overwrite=True``.
    Returns the new loss.
    """
    if not isinstance(name, str) or not _normalize(name):
        raise ConfigError(f"a loss name must be a non-empty string, got {name!r}")
    for what, fn in (("value_fn", value_fn), ("gradient_fn", gradient_fn)):
        if not callable(fn):
            raise ConfigError(f"register({name!r}): {what} must be callable, got {fn!r}")
    key = _normalize(name)
    if not overwrite and (key in _REGISTRY or key in _ALIASES):
        raise ConfigError(
            f"a loss named {key!r} already exists; pass overwrite=True to replace it"
        )
    _ALIASES.pop(key, None)
    _REGISTRY[key] = functools.partial(_FunctionLoss, key, value_fn, gradient_fn)
    return _REGISTRY[key]()
