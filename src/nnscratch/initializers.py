"""Weight initialisers, by name or object.

An initialiser is called as ``init(shape, rng, dtype, fan_in, fan_out)`` and returns a new
array. ``fan_in`` is the number of inputs that feed one output unit and ``fan_out`` the number of
outputs one input feeds; layers pass them explicitly because layouts differ (Dense ``W`` is
(inputs, units), a convolution kernel (out, in, k...), recurrent ``W_ih`` (gates*hidden, inputs)).
When they are not given, a 2-D shape is read as Dense's (fan_in, fan_out) and a longer one as a
channels-first kernel (out, in, *kernel).

The variance-scaling rules keep the variance of activations (Glorot: and of gradients) roughly
constant from layer to layer:

=================  ===========================================  ================================
name               distribution                                 scale
=================  ===========================================  ================================
glorot_uniform     U(-l, l)                                     l = sqrt(6 / (fan_in + fan_out))
glorot_normal      N(0, s^2) truncated at 2s                    s = sqrt(2 / (fan_in + fan_out))
he_uniform         U(-l, l)                                     l = sqrt(6 / fan_in)
he_normal          N(0, s^2) truncated at 2s                    s = sqrt(2 / fan_in)
lecun_uniform      U(-l, l)                                     l = sqrt(3 / fan_in)
lecun_normal       N(0, s^2) truncated at 2s                    s = sqrt(1 / fan_in)
=================  ===========================================  ================================

The truncated normals are rescaled (by 1/0.87962566) so that the truncated variance equals s^2,
as Keras does.
"""

import math

import numpy as np

from .errors import ConfigError
from .registry import named_subclasses, resolve, unknown_name

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it restores unit variance.
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a Dense (in, out) or channels-first kernel (out, in, *k) shape."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def _number(value, what):
    """A hyperparameter as a finite Python float, or ConfigError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise ConfigError(f"initializer {what} must be a finite number, got {value!r}")
    return number


def _truncated_normal(rng, shape, std, dtype):
    """N(0, std^2) with draws beyond two standard deviations redrawn."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return (values * std).astype(dtype)


class Initializer:
    """Base class: ``__call__(shape, rng, dtype, fan_in=None, fan_out=None) -> array``."""

    name = None

    def __call__(self, shape, rng, dtype=np.float32, fan_in=None, fan_out=None):
        shape = tuple(int(s) for s in shape)
        if fan_in is None or fan_out is None:
            fan_in, fan_out = compute_fans(shape)
        return np.asarray(self.sample(shape, rng, np.dtype(dtype), fan_in, fan_out), dtype=dtype)

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        """Draw the values (any float dtype; ``__call__`` casts them to ``dtype``)."""
        raise NotImplementedError

    def get_config(self):
        """JSON-safe description: ``{"name": ..., **hyperparameters}``."""
        return {"name": self.name, **self._hyperparameters()}

    def _hyperparameters(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (the usual bias initialiser)."""

    name = "zeros"

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    """All ones (the usual scale of a normalisation layer)."""

    name = "ones"

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return np.ones(shape, dtype)


class Constant(Initializer):
    """Every entry equal to ``value``."""

    name = "constant"

    def __init__(self, value=0.0):
        self.value = _number(value, "value")

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return np.full(shape, self.value, dtype)

    def _hyperparameters(self):
        return {"value": self.value}


class RandomUniform(Initializer):
    """U(minval, maxval)."""

    name = "uniform"

    def __init__(self, minval=-0.05, maxval=0.05):
        minval, maxval = _number(minval, "minval"), _number(maxval, "maxval")
        if not maxval > minval:
            raise ConfigError(f"uniform initialiser expects minval < maxval, got {minval} and {maxval}")
        self.minval, self.maxval = minval, maxval

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return rng.uniform(self.minval, self.maxval, shape)

    def _hyperparameters(self):
        return {"minval": self.minval, "maxval": self.maxval}


class RandomNormal(Initializer):
    """N(mean, stddev^2)."""

    name = "normal"

    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = _number(mean, "mean"), _number(stddev, "stddev")

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return self.mean + self.stddev * rng.standard_normal(shape)

    def _hyperparameters(self):
        return {"mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(Initializer):
    """N(mean, stddev^2) with draws further than 2 stddev from the mean redrawn."""

    name = "truncated_normal"

    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = _number(mean, "mean"), _number(stddev, "stddev")

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return self.mean + _truncated_normal(rng, shape, self.stddev, np.float64)

    def _hyperparameters(self):
        return {"mean": self.mean, "stddev": self.stddev}


class VarianceScaling(Initializer):
    """Variance ``scale / n`` where n is fan_in, fan_out or their mean (``mode``).

    ``distribution="uniform"`` draws U(-l, l) with l = sqrt(3 * scale / n);
    ``"truncated_normal"`` draws a normal of standard deviation sqrt(scale / n) truncated at two
    standard deviations and rescaled so the variance is scale / n; ``"normal"`` is untruncated.
    """

    name = "variance_scaling"

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal"):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ConfigError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("uniform", "normal", "truncated_normal"):
            raise ConfigError(
                f"distribution must be 'uniform', 'normal' or 'truncated_normal', got {distribution!r}")
        self.scale, self.mode, self.distribution = _number(scale, "scale"), mode, distribution

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "normal":
            return math.sqrt(variance) * rng.standard_normal(shape)
        return _truncated_normal(rng, shape, math.sqrt(variance) / _TRUNCATED_STD, np.float64)

    def _hyperparameters(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


def _variance_scaling_preset(class_name, name, scale, mode, distribution, doc):
    """Make a named preset of VarianceScaling (Glorot, He, LeCun) with no constructor arguments."""

    def __init__(self):
        VarianceScaling.__init__(self, scale, mode, distribution)

    return type(class_name, (VarianceScaling,), {
        "name": name, "__init__": __init__, "__doc__": doc,
        "_hyperparameters": lambda self: {},
    })


GlorotUniform = _variance_scaling_preset(
    "GlorotUniform", "glorot_uniform", 1.0, "fan_avg", "uniform",
    "Glorot/Xavier uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _variance_scaling_preset(
    "GlorotNormal", "glorot_normal", 1.0, "fan_avg", "truncated_normal",
    "Glorot/Xavier normal: truncated N(0, 2 / (fan_in + fan_out)).")
HeUniform = _variance_scaling_preset(
    "HeUniform", "he_uniform", 2.0, "fan_in", "uniform",
    "He/Kaiming uniform: U(-l, l), l = sqrt(6 / fan_in); for ReLU layers.")
HeNormal = _variance_scaling_preset(
    "HeNormal", "he_normal", 2.0, "fan_in", "truncated_normal",
    "He/Kaiming normal: truncated N(0, 2 / fan_in); for ReLU layers.")
LecunUniform = _variance_scaling_preset(
    "LecunUniform", "lecun_uniform", 1.0, "fan_in", "uniform",
    "LeCun uniform: U(-l, l), l = sqrt(3 / fan_in); for SELU layers.")
LecunNormal = _variance_scaling_preset(
    "LecunNormal", "lecun_normal", 1.0, "fan_in", "truncated_normal",
    "LeCun normal: truncated N(0, 1 / fan_in); for SELU layers.")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal matrix.

    The shape is flattened to (shape[0], prod(shape[1:])); the sign of R's diagonal is folded
    into Q so the result is uniformly distributed over orthogonal matrices.
    """

    name = "orthogonal"

    def __init__(self, gain=1.0):
        self.gain = _number(gain, "gain")

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        if len(shape) < 2:
            raise ConfigError(f"orthogonal initialiser needs at least 2 dimensions, got shape {shape}")
        rows, cols = shape[0], int(np.prod(shape[1:]))
        matrix = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(matrix)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def _hyperparameters(self):
        return {"gain": self.gain}


_REGISTRY = named_subclasses(Initializer)
_ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
            "kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal",
            "random_uniform": "uniform", "random_normal": "normal"}


def names():
    """The registered initialiser names, sorted."""
    return sorted(_REGISTRY)


def get(identifier):
    """An initialiser from a name, a config dict ``{"name": ..., ...}`` or an Initializer."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        cls = _lookup(config.pop("name", None))
        try:
            return cls(**config)
        except TypeError as exc:
            raise ConfigError(f"bad arguments for initializer {cls.__name__}: {exc}") from None
    return _lookup(identifier)()


def _lookup(name):
    key = resolve(name, _REGISTRY, _ALIASES)
    if key is None:
        raise unknown_name("initializer", name, names())
    return _REGISTRY[key]
