"""The Layer contract that every layer follows, and the table of layer classes.

A layer maps a batch ``x`` to ``y = forward(x)`` and, given ``grad_y = dL/dy``, returns
``grad_x = dL/dx`` from ``backward(grad_y)`` while storing ``dL/dparam`` in ``grads`` under the
same keys as ``params``. It caches what its backward needs during the forward (never recomputes
the forward inside backward). Shapes are learnt on first use by ``build(input_shape)``, where
``input_shape`` excludes the batch axis; ``param_shapes(input_shape)`` says beforehand which
parameters that build will create, so their memory is counted before any of it is allocated
(:mod:`nnscratch.layers.memory`).

Every subclass's ``forward`` and ``backward`` are wrapped once, here, with the checks every
layer needs (:meth:`Layer.__init_subclass__`): a forward on a layer not built yet builds it
(as calling the layer does); a backward before any forward is a
:class:`~nnscratch.errors.NotBuiltError`, and one whose gradient is not shaped like the last
output a :class:`~nnscratch.errors.ShapeError` naming both shapes. That costs one shape
comparison per call, no pass over the arrays.

Every concrete layer class is known to :data:`REGISTRY` by its class name, so that a saved
architecture (``{"class": "Dense", "config": {...}}``) is rebuilt by looking the name up in that
table, never by importing or evaluating anything named in a file. Abstract bases (a class that
sets ``abstract = True`` itself, such as :class:`Layer` and
:class:`~nnscratch.layers.activated.ActivatedLayer`) and private classes (a name starting with
``_``) are left out: they cannot run on their own.
"""

import functools
from collections.abc import Mapping

import numpy as np

from .. import checks, initializers, regularizers
from ..errors import NotBuiltError, ShapeError
from ..registry import Registry
from ..symbolic import call_layer, is_symbolic
from .memory import check_layer


def _checked_forward(forward):
    """``forward`` that builds the layer on first use and records the output's shape."""

    @functools.wraps(forward)
    def checked(self, x, training=False, **kwargs):
        if not self.built:
            self.build(np.shape(x)[1:])
        # keywords only when given (a recurrent layer's initial_state): the usual call packs none
        y = forward(self, x, training, **kwargs) if kwargs else forward(self, x, training)
        try:
            self._output_shape = y.shape
        except AttributeError:              # a user's layer returning a list
            self._output_shape = np.shape(y)
        return y

    return checked


def _checked_backward(backward):
    """``backward`` that refuses a call before any forward, or a gradient not shaped like the
    output (a subclass calling its parent's backward is checked once, by the outermost)."""

    @functools.wraps(backward)
    def checked(self, grad_y):
        if type(self).backward is checked:
            expected = self._output_shape
            if expected is None:
                raise NotBuiltError(f"{type(self).__name__} layer {self.label}: backward called "
                                    "before forward (there is no forward pass to differentiate)")
            got = grad_y.shape if type(grad_y) is np.ndarray else np.shape(grad_y)
            if got != expected:
                raise ShapeError(f"{type(self).__name__} layer {self.label} backward expects a "
                                 f"gradient shaped {expected}, got {got} (the gradient and the output "
                                 "must have one shape)")
        return backward(self, grad_y)

    return checked


class Layer:
    """Base class of all layers.

    Subclasses implement ``build``, ``forward``, ``backward``, ``compute_output_shape`` and
    ``get_config`` (the keyword arguments that recreate the layer); a layer with parameters also
    ``param_shapes`` (what ``build`` will create, known before it allocates), and one that keeps
    large arrays for its backward ``forward_values``. A base class that cannot run
    on its own sets ``abstract = True`` in its own body (it is not inherited), which keeps it out
    of :data:`REGISTRY`.

    Every layer takes two keywords besides its own: ``name`` (how a model and its messages call
    it) and ``trainable`` (False freezes it: no optimizer update, gradients still passed back;
    see :attr:`trainable`). Both are part of ``get_config``.

    ``input_grad_needed``: a Network clears it on its first layer while it trains, since
    nothing uses the gradient with respect to the data; a layer may then skip computing it
    (its ``backward`` returns None). Layers that ignore the flag stay correct, only slower.

    A layer of several inputs (merge layers, attention) sets the class attribute
    ``multiple_inputs = True``: ``build(input_shapes, rng=None, dtype=...)``, ``param_shapes``
    and ``compute_output_shape`` take a list of per-sample shapes; ``forward(inputs,
    training=False, **options)`` takes a list of arrays and returns one array; ``backward(grad_y)``
    returns a list of gradients, one per input in the same order (None for an input that is not
    differentiable, such as a mask); calling it on arrays builds it on first use. Its base is
    :class:`~nnscratch.layers.multi_input.MultiInputLayer`.

    Masks (see :mod:`nnscratch.layers.masking`): a boolean array (N, T), True where a step is
    real, travels beside a tensor. A layer *makes* one in :meth:`compute_mask` (Embedding with
    ``mask_zero``, Masking), *passes it on* unchanged when it sets ``supports_masking = True``
    (Dense, Dropout, Activation, LayerNormalization, merges), and *consumes* it when its
    ``forward`` takes a ``mask`` keyword (recurrent layers, Bidirectional, pooling over time,
    attention). A layer that does none of these ends the mask (Keras 3's rule).
    """

    abstract = True
    input_grad_needed = True
    _output_shape = None       # the shape of the last forward's output (None: no forward yet)
    # True for layers that change their parameters and gradients only in place (never rebind
    # ``params[key]`` or ``grads[key]``): a Network may then keep them all in one array (see
    # ``nnscratch.training.packing``).
    packable = False
    # Pass an incoming mask on unchanged (a layer that acts on each time step on its own).
    supports_masking = False

    def __init__(self, name=None, trainable=True):
        self.name = name
        self.params = {}
        self.grads = {}
        self.buffers = {}      # non-trainable state saved with the model (running statistics)
        self.regularizers = {}
        self.built = False
        self.trainable = trainable
        self.input_shape = None
        self.dtype = np.dtype(np.float32)

    def __init_subclass__(cls, **kwargs):
        # The checks every layer's forward and backward need, written once (see the module
        # docstring): a subclass that defines either gets it wrapped.
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls):
            cls.forward = _checked_forward(vars(cls)["forward"])
        if "backward" in vars(cls):
            cls.backward = _checked_backward(vars(cls)["backward"])

    # -- freezing ------------------------------------------------------------------------------
    @property
    def trainable(self):
        """Whether the optimizer updates this layer's parameters (True unless frozen).

        A frozen layer still computes its gradients and passes ``dL/dx`` back, so the layers
        before it keep learning; a frozen batch normalization also keeps its running statistics
        (see :class:`~nnscratch.layers.BatchNormalization`). Setting it sets the layers inside
        this one (:meth:`sublayers`) too.
        """
        return vars(self)["trainable"]

    @trainable.setter
    def trainable(self, value):
        value = checks.boolean(value, f"{type(self).__name__} trainable")
        # Kept in the instance's dict under its own name, as a plain attribute would be, so
        # code that copies a layer's state per call (the graph's shared layers) leaves it alone.
        for layer in [self, *self.sublayers()]:
            vars(layer)["trainable"] = value

    # -- shapes and parameters -------------------------------------------------------------
    def build(self, input_shape, rng=None, dtype=np.float32):
        """Create the parameters for inputs shaped ``(batch,) + input_shape``.

        Refuses first, with a :class:`~nnscratch.errors.ResourceError`, parameters and gradients
        that would not fit in the memory available (:func:`~nnscratch.layers.memory.check_layer`).
        """
        input_shape = tuple(int(s) for s in input_shape)
        check_layer(self, input_shape, dtype)
        self.input_shape = input_shape
        self.dtype = np.dtype(dtype)
        self.built = True

    def param_shapes(self, input_shape):
        """``{key: shape}`` of the parameters :meth:`build` creates for ``input_shape``.

        Known before anything is drawn, so the memory a layer needs is counted first. A layer
        with parameters writes this and builds from it; the default is no parameters.
        """
        return {}

    def forward_values(self, input_shape):
        """At least how many values per sample a forward pass keeps until the backward (its
        output and caches), for :func:`~nnscratch.layers.memory.check_batch`; 0 if unknown."""
        return 0

    def compute_output_shape(self, input_shape):
        """The output shape (without the batch axis) for an input shape (without it)."""
        return tuple(input_shape)

    def add_param(self, key, value, regularizer=None):
        """Register a parameter array and a zero gradient of the same shape."""
        self.params[key] = value
        self.grads[key] = np.zeros(value.shape, value.dtype)   # pages untouched until written
        reg = regularizers.get(regularizer)
        if reg is not None:
            self.regularizers[key] = reg

    def init_param(self, initializer, shape, rng, fan_in=None, fan_out=None):
        """Draw a parameter of ``shape`` from an initialiser (name, dict or object)."""
        rng = np.random.default_rng() if rng is None else rng
        return initializers.get(initializer)(shape, rng, self.dtype, fan_in, fan_out)

    def keep_param_specs(self, **parts):
        """Keep each ``part=(initializer, regularizer)`` as the attributes ``<part>_initializer``
        and ``<part>_regularizer`` (``kernel_initializer``, ``bias_regularizer``...), specs as
        the user gave them (a name, a dict, an object, or None for no penalty).

        :meth:`draw_param` draws and penalises a parameter from them, and
        :meth:`param_specs_config` writes them into ``get_config``.
        """
        for part, (initializer, regularizer) in parts.items():
            setattr(self, f"{part}_initializer", initializer)
            setattr(self, f"{part}_regularizer", regularizer)
        self._param_parts = tuple(parts)

    def draw_param(self, key, part, shape, rng, fan_in=None, fan_out=None):
        """Parameter ``key`` of ``shape`` drawn from ``<part>_initializer``, penalised by
        ``<part>_regularizer`` (see :meth:`keep_param_specs`)."""
        value = self.init_param(getattr(self, f"{part}_initializer"), shape, rng, fan_in=fan_in,
                                fan_out=fan_out)
        self.add_param(key, value, getattr(self, f"{part}_regularizer"))

    def param_specs_config(self):
        """The kept initialisers, then the regularisers, JSON-safe, for ``get_config``."""
        return {f"{part}_{kind}": describe(getattr(self, f"{part}_{kind}"))
                for kind in ("initializer", "regularizer") for part in self._param_parts}

    def count_params(self):
        """Number of scalar parameters."""
        return int(sum(p.size for p in self.params.values()))

    def sublayers(self):
        """Every layer held inside this one, at any depth, depth first.

        A wrapper such as ``Bidirectional`` keeps its layers as attributes (alone, or in a list
        or tuple); they are found here, as micrograd's ``Module.parameters()`` finds values, so
        that no other code walks a layer's attributes.
        """
        found = []
        for value in vars(self).values():
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(item, Layer):
                    found.append(item)
                    found.extend(item.sublayers())
        return found

    # -- penalties -------------------------------------------------------------------------
    def penalty(self):
        """The sum of this layer's weight penalties (L1/L2), added to the loss."""
        return sum(reg(self.params[key]) for key, reg in self.regularizers.items())

    def add_penalty_gradients(self):
        """Add each penalty's derivative to its parameter's gradient."""
        for key, reg in self.regularizers.items():
            self.grads[key] += reg.gradient(self.params[key])

    # -- computation -----------------------------------------------------------------------
    def forward(self, x, training=False):
        """``y = f(x)``; caches what backward needs."""
        raise NotImplementedError

    def backward(self, grad_y):
        """``grad_x = dL/dx`` from ``grad_y = dL/dy``; fills ``self.grads``."""
        raise NotImplementedError

    def compute_mask(self, inputs, mask):
        """The mask of this layer's output for ``inputs`` carrying ``mask`` (None: no mask).

        The default passes ``mask`` on when ``supports_masking`` is set and ends it otherwise.
        """
        return mask if self.supports_masking else None

    def __call__(self, x, training=False, **kwargs):
        """``forward(x)`` on arrays (building on first use); on a symbolic tensor (from
        ``ns.Input``), a node of a functional model (see :mod:`nnscratch.symbolic`)."""
        if is_symbolic(x):
            return call_layer(self, x, kwargs)
        return self.forward(x, training, **kwargs)      # builds on first use

    def require_built(self):
        """Raise NotBuiltError unless :meth:`build` has run."""
        if not self.built:
            raise NotBuiltError(f"layer {self.label} is used before it is built; call build(input_shape) "
                                "or pass data through it first")

    # -- description -----------------------------------------------------------------------
    @property
    def label(self):
        """How messages name this layer: its name, or its class."""
        return self.name or type(self).__name__

    def get_config(self):
        """Keyword arguments that recreate this layer (JSON-safe); ``trainable`` only when False,
        the one value that differs from the default."""
        config = {"name": self.name}
        if not self.trainable:
            config["trainable"] = False
        return config

    @classmethod
    def from_config(cls, config):
        """Recreate a layer from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def check_input_features(layer, x, expected, axis=-1, what="input features"):
    """Raise ShapeError when ``x.shape[axis] != expected`` (the message names the layer)."""
    if x.ndim < 2 or x.shape[axis] != expected:
        got = x.shape[axis] if x.ndim >= 2 else "a 1-D array"
        raise ShapeError(f"{type(layer).__name__} layer {layer.label} expects {expected} {what}, "
                         f"got {got} (input shape {x.shape})")


def describe(spec):
    """A JSON-safe form of an initialiser/regulariser given as a name, dict or object."""
    return spec.get_config() if hasattr(spec, "get_config") else spec


# -- the table of layer classes -----------------------------------------------------------------

def class_key(cls):
    """A layer class's name in :data:`REGISTRY`: its class name, or None to leave it out.

    Left out: private classes (a name starting with ``_``) and abstract bases (a class whose own
    body sets ``abstract = True``; subclasses do not inherit the mark).
    """
    if cls.__name__.startswith("_") or vars(cls).get("abstract", False):
        return None
    return cls.__name__


def exact_spelling(name):
    """Layer class names are looked up exactly as written (``"Dense"``, not ``"dense"``)."""
    return name


REGISTRY = Registry("layer class", Layer, normalize=exact_spelling, key=class_key)


class _LiveTable(Mapping):
    """A read-only ``{class name: class}`` view of :data:`REGISTRY`, current at each access."""

    def __getitem__(self, name):
        return REGISTRY.table()[name]

    def __iter__(self):
        return iter(REGISTRY.table())

    def __len__(self):
        return len(REGISTRY.table())

    def __repr__(self):
        return f"LAYER_CLASSES({REGISTRY.table()!r})"


#: The older name for ``REGISTRY.table()``, kept while code still reads it: a read-only mapping
#: from class name to class that sees classes defined later too.
LAYER_CLASSES = _LiveTable()
