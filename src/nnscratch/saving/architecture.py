"""The architecture: a model's layers, loss, optimizer and metrics as JSON, and back.

Written into the file's ``__metadata__`` as the string ``"architecture"``. A stack of layers
(a :class:`~nnscratch.Network`)::

    {"format_version": 1, "name": ..., "dtype": "float32" | "float64", "input_shape": [...],
     "seed": ..., "epochs_trained": ..., "layers": [{"class", "config", "trainable"}, ...],
     "loss": {...}, "optimizer": {...}, "metrics": [{...}, ...], "metadata": {...} | null}

A graph of layer calls (a :class:`~nnscratch.Model`) has its layers (each shared layer once)
and, instead of ``input_shape``, ``loss`` and ``metrics``, its ``"graph"``: inputs, one entry
per layer call and outputs, each output with its loss, loss weight and metrics
(:mod:`.graph`)::

    {"format_version": 1, "name": ..., "dtype": ..., "seed": ..., "epochs_trained": ...,
     "layers": [...], "graph": {"inputs": [...], "nodes": [...], "outputs": [...]},
     "optimizer": {...}, "metadata": ...}

Either may also hold ``"class_labels": ["<label>", ...]``, the text class labels ``fit``
learnt (class index -> label, :mod:`nnscratch.training.targets`); a file without it loads
with ``class_labels`` None.

Nothing is imported or evaluated when it is read: a layer class is looked up by its name in
the layer table (:data:`nnscratch.layers.REGISTRY`), activations, losses, optimizers and metrics in their
registries. A user-registered activation or loss is stored by name only; it must be registered
again before loading.

:func:`architecture_of` writes it; :func:`read` checks every key's JSON type (and a graph's
structure), :func:`build_layers` and :func:`build_training_objects` rebuild the objects it
describes.
"""

from .. import activations, losses, metrics, optimizers
from ..checks import is_whole
from ..errors import ConfigError
from ..layers import REGISTRY as LAYERS
from .common import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_METADATA_BYTES,
    dumps,
    is_shape,
    is_stack,
    json_safe,
    loads_strict,
    metadata_problem,
    short,
    stored_shape,
)
from .graph import check_graph, graph_of

DTYPES = ("float32", "float64")
KEYS = {"format_version", "name", "dtype", "input_shape", "seed", "epochs_trained", "layers",
        "loss", "optimizer", "metrics", "metadata"}
GRAPH_KEYS = KEYS - {"input_shape", "loss", "metrics"} | {"graph"}
#: keys written only when the model has them: ``class_labels``, the text labels ``fit`` learnt
OPTIONAL_KEYS = {"class_labels"}
LAYER_KEYS = {"class", "config", "trainable"}


def layer_class(name):
    """The layer class that ``name`` (a class name) stands for in the layer table, or None."""
    key = LAYERS.resolve(name)
    return None if key is None else LAYERS.table()[key]


# =============================================================================================
# Writing
# =============================================================================================

def architecture_of(network, metadata):
    """The architecture of ``network`` (a stack or a graph) as a JSON-safe dict, ``metadata``
    (a dict) included."""
    arch = {
        "format_version": FORMAT_VERSION,
        "name": network.name,
        "dtype": network.dtype.name,
        "seed": network.seed,
        "epochs_trained": int(network.epochs_trained),
        "layers": [_layer_spec(index, layer) for index, layer in enumerate(network.layers)],
        "optimizer": json_safe(network.optimizer.get_config(), "the optimizer config"),
        "metadata": _user_metadata(metadata),
    }
    if getattr(network, "class_labels", None) is not None:
        arch["class_labels"] = [str(label) for label in network.class_labels]
    if not is_stack(network):
        arch["graph"] = graph_of(network)
        return arch
    shape = network.input_shape
    arch["input_shape"] = None if shape is None else stored_shape(shape)
    arch["loss"] = json_safe(network.loss.get_config(), "the loss config")
    arch["metrics"] = [json_safe(m.get_config(), "a metric config") for m in network.metrics]
    return arch


def _user_metadata(metadata):
    """``metadata`` (a dict or None) made JSON-safe, within the bounds of :mod:`.common`."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}")
    problem = metadata_problem(metadata)
    if problem is not None:
        raise ConfigError(f"cannot save metadata: it {problem}")
    safe = json_safe(metadata, "metadata")
    size = len(dumps(safe, "metadata"))
    if size > MAX_METADATA_BYTES:
        raise ConfigError(f"cannot save metadata: its JSON takes {size} bytes, more than the "
                          f"{MAX_METADATA_BYTES} bytes a model file keeps")
    return safe


def _layer_spec(index, layer):
    """``{"class", "config", "trainable"}`` of one layer, whose class the table must name."""
    cls_name = type(layer).__name__
    if layer_class(cls_name) is not type(layer):
        raise ConfigError(
            f"cannot save layer {index} ({layer.label}): its class {cls_name} is not the one "
            f"registered under that name in nnscratch.layers.REGISTRY, so it "
            "could not be rebuilt when loading")
    config = json_safe(layer.get_config(), f"the config of layer {index} ({layer.label})")
    return {"class": cls_name, "config": config, "trainable": bool(layer.trainable)}


# =============================================================================================
# Reading
# =============================================================================================

def read(header, check):
    """The checked architecture dict of a file whose ``__metadata__`` is ``header``.

    ``check`` is the file's :class:`~nnscratch.saving.common.FileCheck`.
    """
    if header is None or "architecture" not in header:
        check.fail("has no nnscratch architecture in its __metadata__ (a safetensors file "
                   "of weights only, or not written by nnscratch)")
    if header.get("format") != FORMAT_NAME:
        check.fail(f"its __metadata__ format is {header.get('format')!r}, expected "
                   f"{FORMAT_NAME!r}")
    if header.get("format_version") != str(FORMAT_VERSION):
        check.fail(f"format version {short(header.get('format_version'))} is not one this "
                   f"version of nnscratch reads ({FORMAT_VERSION})")
    arch = loads_strict(header["architecture"], "architecture", check.source)
    _check_keys(arch, check.expect)
    _check_network_fields(arch, check.expect)
    _check_layer_specs(arch["layers"], check.expect, "graph" in arch)
    _check_training_config(arch, check.expect)
    if "graph" in arch:
        check_graph(arch["graph"], arch["layers"], check)
    return arch


def _check_keys(arch, expect):
    """An object with exactly :data:`KEYS` (a stack) or :data:`GRAPH_KEYS` (with ``"graph"``)."""
    expect(isinstance(arch, dict), "the architecture must be a JSON object")
    keys, kind = (GRAPH_KEYS, "of a graph model") if "graph" in arch else (KEYS, "")
    missing, extra = keys - set(arch), set(arch) - keys - OPTIONAL_KEYS
    expect(not missing and not extra, f"the architecture {kind}{' ' if kind else ''}needs "
           f"exactly the keys {', '.join(sorted(keys))}"
           + (f"; missing {', '.join(sorted(missing))}" if missing else "")
           + (f"; unexpected {', '.join(map(repr, sorted(extra)))}" if extra else ""))


def _check_network_fields(arch, expect):
    """format_version, name, dtype, input_shape (a stack's), seed and epochs_trained."""
    expect(arch["format_version"] == FORMAT_VERSION and is_whole(arch["format_version"]),
           f"architecture format_version must be {FORMAT_VERSION}, got "
           f"{short(arch['format_version'])}")
    expect(arch["name"] is None or isinstance(arch["name"], str),
           f"the network name must be a string or null, got {short(arch['name'])}")
    expect(arch["dtype"] in DTYPES, f"dtype must be one of {', '.join(DTYPES)}, got "
           f"{short(arch['dtype'])}")
    shape = arch.get("input_shape")
    expect(shape is None or is_shape(shape, free=True),
           f"input_shape must be null or a list of positive integers (null for a free axis), "
           f"got {short(shape)}")
    expect(arch["seed"] is None or is_whole(arch["seed"]),
           f"seed must be an integer or null, got {short(arch['seed'])}")
    expect(is_whole(arch["epochs_trained"]) and arch["epochs_trained"] >= 0,
           f"epochs_trained must be a non-negative integer, got {short(arch['epochs_trained'])}")


def _check_layer_specs(layers, expect, graph):
    """A list of ``{"class": str, "config": object, "trainable": bool}``, non-empty for a stack
    (a graph may hold none: a model whose outputs are its inputs)."""
    expect(isinstance(layers, list) and (layers or graph), "layers must be a non-empty list")
    for i, spec in enumerate(layers):
        expect(isinstance(spec, dict) and set(spec) == LAYER_KEYS,
               f"layer {i} must be an object with the keys class, config, trainable, got "
               f"{short(spec)}")
        expect(isinstance(spec["class"], str), f"layer {i}: class must be a string, got "
               f"{short(spec['class'])}")
        expect(isinstance(spec["config"], dict), f"layer {i}: config must be an object, "
               f"got {short(spec['config'])}")
        expect(isinstance(spec["trainable"], bool), f"layer {i}: trainable must be true "
               f"or false, got {short(spec['trainable'])}")


def _check_training_config(arch, expect):
    """loss and optimizer (a name or a config), metrics (a list of them), metadata; a graph's
    losses and metrics are its outputs' (checked with the graph)."""
    for key in ("optimizer",) if "graph" in arch else ("loss", "optimizer"):
        expect(isinstance(arch[key], (dict, str)), f"the {key} must be a name or a config "
               f"object, got {short(arch[key])}")
    expect("graph" in arch or (isinstance(arch["metrics"], list)
                               and all(isinstance(m, (dict, str)) for m in arch["metrics"])),
           f"metrics must be a list of names or config objects, got {short(arch.get('metrics'))}")
    labels = arch.get("class_labels")                        # optional: None when absent
    expect(labels is None or (isinstance(labels, list) and all(isinstance(c, str) for c in labels)
                              and len(set(labels)) == len(labels) >= 2),
           f"class_labels must be a list of distinct strings, two at least, got {short(labels)}")
    expect(arch["metadata"] is None or isinstance(arch["metadata"], dict),
           f"metadata must be an object or null, got {short(arch['metadata'])}")
    problem = metadata_problem(arch["metadata"])
    expect(problem is None, f"the metadata {problem}")


# -- rebuilding the objects --------------------------------------------------------------------

def build_layers(arch, check):
    """New, unbuilt layers from the architecture's layer specs."""
    return [_build_layer(i, spec, check) for i, spec in enumerate(arch["layers"])]


def _build_layer(i, spec, check):
    """One layer: its class from the table, then ``from_config`` and ``trainable``."""
    cls = layer_class(spec["class"])
    if cls is None:
        check.fail(f"layer {i} has class {short(spec['class'])}, which is not a known layer "
                   f"class (known: {', '.join(LAYERS.names())}); define or import it before "
                   "loading")
    _check_activations(spec["config"], f"layer {i} ({spec['class']})", check)
    try:
        layer = cls.from_config(dict(spec["config"]))
    except Exception as exc:
        check.fail(f"layer {i} ({spec['class']}) cannot be rebuilt from its config: "
                   f"{short(exc)} (config: {short(spec['config'])})", exc)
    if not isinstance(layer, cls):
        check.fail(f"layer {i} ({spec['class']}): from_config returned a "
                   f"{type(layer).__name__}")
    layer.trainable = spec["trainable"]
    return layer


def _check_activations(config, where, check):
    """Fail with the missing name when a config uses an activation that is not registered.

    Any key ending in ``activation`` (``activation``, ``recurrent_activation``), at any depth
    of the config (a wrapper holds its inner layer's config), names one.
    """
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key.endswith("activation") and isinstance(value, (str, dict)):
                    _check_activation_name(value if isinstance(value, str) else value.get("name"),
                                           where, check)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def _check_activation_name(name, where, check):
    if not isinstance(name, str):
        return
    try:
        activations.get(name)
    except Exception:
        check.fail(f"{where} uses the activation {short(name)}, which is not registered; "
                   "register it again with nnscratch.activations.register(name, forward, "
                   f"derivative) before loading (known: {', '.join(activations.names())})")


def build_training_objects(arch, check):
    """The model's keyword arguments ``loss``, ``optimizer``, ``metrics`` (and a graph's
    ``loss_weights``) from their names or configs: one loss and metric list for a stack, a
    list of them, one per output, for a graph."""
    optimizer = _registry_object(optimizers, arch["optimizer"], "optimizer", check)
    if "graph" not in arch:
        return {"loss": _loss(arch["loss"], check), "optimizer": optimizer,
                "metrics": [_registry_object(metrics, m, "metric", check) for m in arch["metrics"]]}
    outputs = arch["graph"]["outputs"]
    return {"loss": [_loss(out["loss"], check) for out in outputs], "optimizer": optimizer,
            "loss_weights": [out["loss_weight"] for out in outputs],
            "metrics": [[_registry_object(metrics, m, "metric", check) for m in out["metrics"]]
                        for out in outputs]}


def _loss(spec, check):
    return _registry_object(losses, spec, "loss", check,
                            "nnscratch.losses.register(name, value_fn, gradient_fn)")


def _registry_object(family, spec, what, check, how_to_register=None):
    """``family.get(spec)``; a failure names an unregistered name or the bad config."""
    try:
        return family.get(spec)
    except Exception as exc:
        name = spec if isinstance(spec, str) else spec.get("name")
        if isinstance(name, str) and name not in family.names() and how_to_register:
            check.fail(f"the {what} {name!r} is not registered; register it again with "
                       f"{how_to_register} before loading (known: {', '.join(family.names())})",
                       exc)
        check.fail(f"the {what} config {short(spec)} is not valid: {short(exc)}", exc)
