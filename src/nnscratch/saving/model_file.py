"""Save a model to one model file and load it back: the pieces of this package put together.

:func:`save` writes the tensors (``"<layer>.<key>"``, then the optimizer's), the architecture
and the training state into the safetensors container and the container atomically to disk.
:func:`load` reads a file, checks it, and builds the model with the classes it is given: a
stack of layers with ``network_class``, a graph with ``model_class`` (``ns.load`` passes
:class:`~nnscratch.Network` and :class:`~nnscratch.Model`; this package never imports them).
Every step of a load is a small function below that checks one thing.
"""

import os

import numpy as np

from .. import checks
from ..errors import ConfigError, DataError, ModelFileError
from ..symbolic import example_shape
from . import architecture, training_state
from .atomic import check_path, write_atomic
from .budget import (
    MAX_ACTIVATION_BYTES,
    AllocationGuard,
    chain_steps,
    check_activations,
    check_graph_activations,
    check_parameters,
)
from .common import (
    FORMAT_NAME,
    FORMAT_VERSION,
    FileCheck,
    dumps,
    is_network,
    named_arrays,
    nonfinite,
    short,
)
from .container import CHECKSUM_KEY, encode, parse, read
from .graph import build_graph
from .training_state import OPTIMIZER_PREFIX

# =============================================================================================
# Saving
# =============================================================================================

def save(network, path, include_optimizer=True, metadata=None, allow_nonfinite=False):
    """Write ``network`` (a Network or a Model) to ``path`` atomically.

    Parameters
    ----------
    network : Network or Model
        A Network is saved as its stack of layers, a Model as its graph of layer calls.
    path : str or os.PathLike
        The file to write (conventionally ``*.nns``); replaced atomically if it exists.
    include_optimizer : bool
        Also store the optimizer state, its step count and the random generators' states, so
        that ``load(path)`` followed by ``fit(..., initial_epoch=k)`` continues exactly as the
        uninterrupted run would have.
    metadata : dict, optional
        JSON-safe user data kept with the model (for instance feature scaling statistics or
        class names); defaults to ``network.metadata`` when the network has one. Numpy arrays
        and scalars are stored as lists and numbers. ``load`` returns it as ``network.metadata``.
        At most 32 levels of nesting and 4 MiB of JSON (:mod:`.common`).
    allow_nonfinite : bool
        Write tensors holding NaN or infinite values too; by default they raise
        :class:`~nnscratch.errors.DataError` naming the tensor, and nothing is written.
    """
    if not is_network(network):
        raise ConfigError(f"save expects a Network, got {type(network).__name__}")
    path = check_path(path, "model file")
    include_optimizer = checks.boolean(include_optimizer, "include_optimizer")
    allow_nonfinite = checks.boolean(allow_nonfinite, "allow_nonfinite")
    if metadata is None:
        metadata = getattr(network, "metadata", None)
    arch = architecture.architecture_of(network, metadata)
    tensors = list(named_arrays(network).items())
    header = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION),
              "architecture": dumps(arch, "the architecture")}
    if include_optimizer:
        state, state_tensors = training_state.state_of(network)
        tensors += state_tensors
        header["training_state"] = dumps(state, "the training state")
    problem = None if allow_nonfinite else nonfinite(tensors)
    if problem is not None:
        raise DataError(f"cannot save: the tensor {problem}; save(..., allow_nonfinite=True) "
                        "writes it anyway")
    write_atomic(path, encode(tensors, header), what="model file")


# =============================================================================================
# Loading
# =============================================================================================

def load(path, network_class, max_activation_bytes=MAX_ACTIVATION_BYTES, allow_nonfinite=False,
         model_class=None):
    """Read a model written by :func:`save`; returns a ``network_class`` or ``model_class``.

    ``network_class`` builds a stack of layers (:class:`~nnscratch.Network`), called as
    ``network_class(layers, loss=, optimizer=, metrics=, seed=, dtype=, name=)``;
    ``model_class`` a graph (:class:`~nnscratch.Model`), called as ``model_class(inputs,
    outputs, loss=[...], loss_weights=[...], metrics=[[...]], optimizer=, seed=, dtype=, name=)``
    with dicts of symbolic tensors by name (a graph file without it is refused). The model
    has its weights, buffers, loss, metrics and optimizer (with its state when it was saved),
    ``network.metadata`` (the user metadata, or None), ``network.class_labels`` (the text class
    labels ``fit`` learnt, or None) and ``network.checksum`` (the verified
    SHA-256 of the tensor bytes, or None for a file written by a tool that stores none). Any
    problem with the file raises :class:`~nnscratch.errors.ModelFileError`.

    ``max_activation_bytes`` bounds the memory one sample needs going through the network
    (:mod:`.budget`; default 1 GiB; None: no bound), so that a small forged file cannot ask for
    gigabytes at the first ``predict``. ``allow_nonfinite=True`` accepts tensors holding NaN or
    infinite values, which are refused by default.
    """
    options = _load_options(network_class, model_class, max_activation_bytes, allow_nonfinite)
    tensors, header = read(path)
    return _network_from(FileCheck(os.fsdecode(path)), tensors, header, *options)


def load_bytes(data, network_class, name="<bytes>", max_activation_bytes=MAX_ACTIVATION_BYTES,
               allow_nonfinite=False, model_class=None):
    """Like :func:`load`, from the bytes of a model file (``name`` is used in messages)."""
    options = _load_options(network_class, model_class, max_activation_bytes, allow_nonfinite)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ModelFileError(f"load_bytes expects the bytes of a model file, got "
                             f"{type(data).__name__}")
    tensors, header = parse(bytes(data), name)
    return _network_from(FileCheck(name), tensors, header, *options)


def _load_options(network_class, model_class, max_activation_bytes, allow_nonfinite):
    """The checked ``(classes, max_activation_bytes, allow_nonfinite)`` of a load."""
    for what, cls, example in (("network_class", network_class, "nnscratch.Network"),
                               ("model_class", model_class, "nnscratch.Model")):
        if not isinstance(cls, type) and (cls is not None or what == "network_class"):
            raise ConfigError(f"{what} must be a class (such as {example}), got "
                              f"{short(cls)} ({type(cls).__name__})")
    return ((network_class, model_class),
            checks.optional_positive_int(max_activation_bytes, "max_activation_bytes"),
            checks.boolean(allow_nonfinite, "allow_nonfinite"))


def _network_from(check, tensors, header, classes, max_activation_bytes, allow_nonfinite):
    """The model a parsed file describes: rebuilt, weights copied, training state set."""
    arch = architecture.read(header, check)
    problem = None if allow_nonfinite else nonfinite(tensors.items())
    if problem is not None:
        check.fail(f"the tensor {problem}; load(..., allow_nonfinite=True) accepts them")
    if "graph" in arch and classes[1] is None:
        check.fail("holds a graph model (a Model, not a stack of layers); load it with "
                   "ns.load(path), or load(..., model_class=nnscratch.Model)")
    layers = architecture.build_layers(arch, check)
    training = architecture.build_training_objects(arch, check)
    budget = (sum(t.nbytes for t in tensors.values()), np.dtype(arch["dtype"]).itemsize)
    if "graph" in arch:
        network = _build_model(arch, classes[1], layers, training, budget,
                               max_activation_bytes, check)
    else:
        network = _build_network(arch, classes[0], layers, training, budget, check)
        check_activations(network.layers, example_shape(network.input_shape, network.layers),
                          network.dtype.itemsize, max_activation_bytes, check)
    model_tensors = {k: v for k, v in tensors.items() if not k.startswith(OPTIMIZER_PREFIX)}
    optimizer_tensors = {k: v for k, v in tensors.items() if k.startswith(OPTIMIZER_PREFIX)}
    _copy_weights(network, model_tensors, check)
    state_text = header.get("training_state")
    if state_text is not None:
        training_state.restore(network, state_text, optimizer_tensors, check)
    elif optimizer_tensors:
        check.fail(f"holds optimizer tensors ({next(iter(optimizer_tensors))}...) but no "
                   "training_state in its metadata")
    network.epochs_trained = arch["epochs_trained"]
    network.metadata = arch["metadata"]
    network.class_labels = arch.get("class_labels")
    network.checksum = header.get(CHECKSUM_KEY)      # verified by the container, or None
    return network


def _build_network(arch, network_class, layers, training, budget, check):
    """The network (a stack) the architecture describes, built, with freshly initialised
    weights: ``network_class(layers, **training, ...)``.

    Building allocates the parameters, so they are counted first (:func:`check_parameters`)
    and the build runs under an :class:`AllocationGuard`, both with the tensor bytes the file
    holds as their budget (``budget``: those bytes and the dtype's itemsize).
    """
    if arch["input_shape"] is not None:            # a length for a free axis (null)
        check_parameters(chain_steps(layers, example_shape(arch["input_shape"], layers)),
                         budget[1], budget[0], check)

    def make():
        network = network_class(layers, **training, seed=arch["seed"], dtype=arch["dtype"],
                                name=arch["name"])
        if arch["input_shape"] is not None and not network.built:
            network.build(tuple(arch["input_shape"]))
        return network

    network = _guarded_build(make, layers, budget, "a network", check)
    _check_input_shape(network, arch["input_shape"], check)
    return network


def _build_model(arch, model_class, layers, training, budget, max_activation_bytes, check):
    """The graph model the architecture describes, built, with freshly initialised weights:
    ``model_class(inputs, outputs, **training, ...)``.

    Its layers are called on symbolic inputs first (shapes only, nothing allocated), so both
    budgets, parameters and activations, are checked before the model builds anything.
    """
    inputs, outputs, steps = build_graph(arch["graph"], layers, check)
    check_parameters(steps, budget[1], budget[0], check)
    check_graph_activations(steps, [example_shape(t.shape) for t in inputs.values()], budget[1],
                            max_activation_bytes, check)

    def make():
        return model_class(inputs, outputs, **training, seed=arch["seed"], dtype=arch["dtype"],
                           name=arch["name"])

    return _guarded_build(make, layers, budget, "a model", check)


def _guarded_build(make, layers, budget, what, check):
    """``make()`` under an :class:`AllocationGuard` of ``budget`` (the file's tensor bytes and
    the dtype's itemsize) on ``layers``; any failure is the file's (a ModelFileError)."""
    guard = AllocationGuard(check, *budget)
    guard.install(layers)
    try:
        return make()
    except ModelFileError:
        raise
    except Exception as exc:
        check.fail(f"the architecture does not build into {what}: {short(exc)}", exc)
    finally:
        guard.remove()


def _check_input_shape(network, saved_shape, check):
    """A built network's input shape must be the one saved."""
    if network.built and (saved_shape is None or tuple(saved_shape) != network.input_shape):
        check.fail(f"input_shape {saved_shape} does not match the input size the first "
                   f"layer declares {network.input_shape}")


def _copy_weights(network, tensors, check):
    """Copy the file's tensors into the network: exactly the names it has, right shapes."""
    expected = named_arrays(network)
    missing = [name for name in expected if name not in tensors]
    if missing:
        target = expected[missing[0]]
        check.fail(f"lacks the tensor {missing[0]!r} ({target.dtype} {target.shape}) that the "
                   f"architecture needs ({len(missing)} missing in all)")
    extra = [name for name in tensors if name not in expected]
    if extra:
        check.fail(f"holds the tensor {short(extra[0], 80)}, which the architecture "
                   f"does not use ({len(extra)} unexpected in all)")
    for name, target in expected.items():
        check.tensor(name, tensors[name], target.shape, target.dtype)
    for name, target in expected.items():
        np.copyto(target, tensors[name])
