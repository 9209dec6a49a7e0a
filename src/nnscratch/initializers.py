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

Values are drawn in the parameters' own dtype where NumPy's Generator can (``random`` and
``standard_normal`` take ``dtype=float32``), and scaled in place: building a float32 layer holds
no float64 copy of its weights. float64 weights are the same numbers as ``rng.uniform`` and
``rng.standard_normal`` draw; float32 weights come from the Generator's float32 streams, the same
distributions but not the float64 numbers rounded (a seed gives other float32 weights than it
did when they were drawn in float64 and cast).

The initialisers are looked up by name in :data:`REGISTRY` (a :class:`~nnscratch.registry.Registry`
built from the subclasses of :class:`Initializer`); their hyperparameters are checked with
:mod:`nnscratch.checks`.
"""

import math

import numpy as np

from . import checks
from .errors import ConfigError
from .registry import Configurable, Registry

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


def _drawn_dtype(dtype):
    """The dtype to draw in: ``dtype`` where the Generator draws it (float32, float64), else float64."""
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _uniform(rng, shape, low, high, dtype):
    """U(low, high) in ``dtype``: ``low + (high - low) u``, ``u ~ U[0, 1)``, scaled in place.

    float64 is ``rng.uniform`` itself (the same numbers as ever).
    """
    if _drawn_dtype(dtype) == np.float64:
        return rng.uniform(low, high, shape)
    values = rng.random(shape, dtype=dtype)
    values *= high - low
    values += low
    return values


def _normal(rng, shape, mean, std, dtype):
    """N(mean, std^2) in ``dtype``: ``mean + std z``, ``z ~ N(0, 1)``, scaled in place."""
    values = rng.standard_normal(shape, dtype=_drawn_dtype(dtype))
    values *= std
    if mean:
        values += mean
    return values


def _truncated_normal(rng, shape, mean, std, dtype):
    """N(mean, std^2) in ``dtype`` with draws beyond two standard deviations redrawn.

    The draws outside are found chunk by chunk (a boolean mask, no float copy of the values)
    and redrawn all at once, in order, as a whole-array mask would.
    """
    dtype = _drawn_dtype(dtype)
    values = rng.standard_normal(shape, dtype=dtype)
    flat = values.reshape(-1)
    outside = np.empty(flat.size, dtype=bool)
    step = 1 << 16
    while True:
        for start in range(0, flat.size, step):
            part = flat[start:start + step]
            np.greater(np.abs(part), 2.0, out=outside[start:start + step])     # |z| > 2
        count = int(np.count_nonzero(outside))
        if not count:
            break
        flat[outside] = rng.standard_normal(count, dtype=dtype)
    values *= std
    if mean:
        values += mean
    return values


class Initializer(Configurable):
    """Base class: ``__call__(shape, rng, dtype, fan_in=None, fan_out=None) -> array``.

    A subclass sets ``name`` (its registry key) and ``hyperparameters`` (the constructor
    arguments it keeps, which ``get_config`` records) and writes :meth:`sample`.
    """

    def __call__(self, shape, rng, dtype=np.float32, fan_in=None, fan_out=None):
        shape = tuple(int(s) for s in shape)
        if fan_in is None or fan_out is None:
            fan_in, fan_out = compute_fans(shape)
        return np.asarray(self.sample(shape, rng, np.dtype(dtype), fan_in, fan_out), dtype=dtype)

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        """Draw the values (any float dtype; ``__call__`` casts them to ``dtype``)."""
        raise NotImplementedError

    def _number(self, value, what):
        """A hyperparameter as a finite Python float (see :func:`nnscratch.checks.number`)."""
        return checks.number(value, f"{self.name} initializer {what}")


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
    hyperparameters = ("value",)

    def __init__(self, value=0.0):
        self.value = self._number(value, "value")

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return np.full(shape, self.value, dtype)


class RandomUniform(Initializer):
    """U(minval, maxval)."""

    name = "uniform"
    hyperparameters = ("minval", "maxval")

    def __init__(self, minval=-0.05, maxval=0.05):
        minval, maxval = self._number(minval, "minval"), self._number(maxval, "maxval")
        if not maxval > minval:
            raise ConfigError(f"uniform initialiser expects minval < maxval, got {minval} and {maxval}")
        self.minval, self.maxval = minval, maxval

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return _uniform(rng, shape, self.minval, self.maxval, dtype)


class RandomNormal(Initializer):
    """N(mean, stddev^2)."""

    name = "normal"
    hyperparameters = ("mean", "stddev")

    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = self._number(mean, "mean"), self._number(stddev, "stddev")

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return _normal(rng, shape, self.mean, self.stddev, dtype)


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2) with draws further than 2 stddev from the mean redrawn."""

    name = "truncated_normal"

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        return _truncated_normal(rng, shape, self.mean, self.stddev, dtype)


class VarianceScaling(Initializer):
    """Variance ``scale / n`` where n is fan_in, fan_out or their mean (``mode``).

    ``distribution="uniform"`` draws U(-l, l) with l = sqrt(3 * scale / n);
    ``"truncated_normal"`` draws a normal of standard deviation sqrt(scale / n) truncated at two
    standard deviations and rescaled so the variance is scale / n; ``"normal"`` is untruncated.
    """

    name = "variance_scaling"
    hyperparameters = ("scale", "mode", "distribution")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal"):
        self.scale = self._number(scale, "scale")
        self.mode = checks.choice(mode, f"{self.name} initializer mode",
                                  ("fan_in", "fan_out", "fan_avg"))
        self.distribution = checks.choice(distribution, f"{self.name} initializer distribution",
                                          ("uniform", "normal", "truncated_normal"))

    def sample(self, shape, rng, dtype, fan_in, fan_out):
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return _uniform(rng, shape, -limit, limit, dtype)
        if self.distribution == "normal":
            return _normal(rng, shape, 0.0, math.sqrt(variance), dtype)
        return _truncated_normal(rng, shape, 0.0, math.sqrt(variance) / _TRUNCATED_STD, dtype)


def _preset(name, scale, mode, distribution, family, use=""):
    """A named VarianceScaling (Glorot, He, LeCun) that takes no constructor arguments; its class
    name is ``name`` in CamelCase (``glorot_uniform``: ``GlorotUniform``).

    Its docstring states its rule, worked out from ``scale`` and ``mode``: the variance is
    ``scale / n``, with ``n = (fan_in + fan_out) / 2`` for ``"fan_avg"``, so U(-l, l) has
    ``l = sqrt(3 scale / n)`` and the normal ``s^2 = scale / n``.
    """
    halves, n = (2, "(fan_in + fan_out)") if mode == "fan_avg" else (1, mode)   # scale / n
    if distribution == "uniform":
        rule = f"U(-l, l), l = sqrt({3 * scale * halves:g} / {n})"
    else:
        rule = f"truncated N(0, {scale * halves:g} / {n})"
    doc = f"{family} {distribution.split('_')[-1]}: {rule}{'; ' + use if use else ''}."

    def __init__(self):
        VarianceScaling.__init__(self, scale, mode, distribution)

    class_name = "".join(part.capitalize() for part in name.split("_"))
    return type(class_name, (VarianceScaling,), {
        "name": name, "__init__": __init__, "__doc__": doc, "hyperparameters": (),
    })


# The presets of the table in the module docstring: name, scale, mode, distribution, family, use.
GlorotUniform = _preset("glorot_uniform", 1.0, "fan_avg", "uniform", "Glorot/Xavier")
GlorotNormal = _preset("glorot_normal", 1.0, "fan_avg", "truncated_normal", "Glorot/Xavier")
HeUniform = _preset("he_uniform", 2.0, "fan_in", "uniform", "He/Kaiming", "for ReLU layers")
HeNormal = _preset("he_normal", 2.0, "fan_in", "truncated_normal", "He/Kaiming", "for ReLU layers")
LecunUniform = _preset("lecun_uniform", 1.0, "fan_in", "uniform", "LeCun", "for SELU layers")
LecunNormal = _preset("lecun_normal", 1.0, "fan_in", "truncated_normal", "LeCun", "for SELU layers")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal matrix.

    The shape is flattened to (shape[0], prod(shape[1:])); the sign of R's diagonal is folded
    into Q so the result is uniformly distributed over orthogonal matrices.
    """

    name = "orthogonal"
    hyperparameters = ("gain",)

    def __init__(self, gain=1.0):
        self.gain = self._number(gain, "gain")

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


#: The initialisers by name: every subclass of :class:`Initializer` that sets its own ``name``,
#: and the Keras and PyTorch spellings of some as aliases.
REGISTRY = Registry("initializer", Initializer, aliases={
    "xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal",
    "random_uniform": "uniform", "random_normal": "normal"})


def names():
    """The registered initialiser names, sorted."""
    return REGISTRY.names()


def get(identifier):
    """An initialiser from a name (case-insensitive, aliases allowed), a config dict
    ``{"name": ..., **hyperparameters}``, an Initializer or an Initializer class."""
    return REGISTRY.get(identifier)
