"""Model files: save a Network to one file and load it back, safely and atomically.

A model file is a safetensors file (see :mod:`nnscratch.io_format`), so other tools
(``safetensors.numpy.load_file``) read its weights. It holds:

- tensors ``"<layer>.<key>"``: every layer's parameters and buffers (running statistics),
  in the network's dtype;
- with ``include_optimizer=True`` (the default), the training state needed to resume
  bit-identically: tensors ``"optimizer/<parameter>/<state key>"`` (momenta, moments) and,
  in the metadata, the optimizer's step count and the states of every random generator
  (``network.rng``, ``network.shuffle_rng`` and each layer's, e.g. Dropout's);
- ``__metadata__`` (strings only, as the format requires):

  ``"format"``: ``"nnscratch"``; ``"format_version"``: ``"1"``;
  ``"architecture"``: a JSON string ``{"format_version", "name", "dtype", "input_shape",
  "seed", "epochs_trained", "layers": [{"class", "config", "trainable"}, ...], "loss",
  "optimizer", "metrics", "metadata"}``; the optimizer's hyperparameters are always kept,
  its state only with ``include_optimizer``;
  ``"training_state"`` (with ``include_optimizer``): a JSON string
  ``{"optimizer_iterations", "optimizer_state", "rng"}``. Python integers in generator
  states (128-bit and wider) are written as decimal strings so every JSON reader keeps them
  exact.

Nothing in a file is executed or imported: layer classes are looked up by name in
:data:`nnscratch.layers.base.LAYER_CLASSES`, activations, losses, optimizers, metrics,
initializers and regularizers in their registries. A model that uses a user-registered
activation or loss stores its name only; register the same name again before loading it.

Loading checks everything before it uses anything (the container as :mod:`io_format` does;
then the architecture's JSON types, that every layer rebuilds from its config, that the
tensors are exactly those the architecture needs, with the right shapes and dtypes, and that
the training state fits the optimizer and generators). Memory stays bounded by the file size:
parameter arrays are allocated only after their size is checked against the tensor bytes the
file actually holds. Every problem raises :class:`~nnscratch.errors.ModelFileError` saying
what is wrong in which file; a missing file too (it is an ``OSError``).

Saving writes to a temporary file in the same folder, fsyncs it and renames it onto the
target (:mod:`nnscratch.io_atomic`): a crash leaves the complete old file or the complete new
one, and the next save removes the temporary files a killed save left behind.
"""

import json
import math
import os

import numpy as np

from . import activations, losses, metrics as metrics_module, optimizers
from .errors import ConfigError, ModelFileError
from .io_atomic import write_atomic
from .io_format import encode, loads_strict, parse, read

FORMAT_NAME = "nnscratch"
FORMAT_VERSION = 1
OPTIMIZER_PREFIX = "optimizer/"
_DTYPES = ("float32", "float64")
_ARCH_KEYS = {"format_version", "name", "dtype", "input_shape", "seed", "epochs_trained",
              "layers", "loss", "optimizer", "metrics", "metadata"}
_STATE_KEYS = {"optimizer_iterations", "optimizer_state", "rng"}


# =============================================================================================
# Saving
# =============================================================================================

def save(network, path, include_optimizer=True, metadata=None):
    """Write ``network`` to ``path`` atomically.

    Parameters
    ----------
    network : Network
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
    """
    from .network import Network

    if not isinstance(network, Network):
        raise ConfigError(f"save expects a Network, got {type(network).__name__}")
    if not isinstance(include_optimizer, bool):
        raise ConfigError(f"include_optimizer must be True or False, got {include_optimizer!r}")
    if metadata is None:
        metadata = getattr(network, "metadata", None)
    architecture = _architecture(network, metadata)
    tensors = [(f"{layer.name}.{key}", value) for layer in network.layers
               for key, value in (*layer.params.items(), *layer.buffers.items())]
    header = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION),
              "architecture": _dumps(architecture, "the architecture")}
    if include_optimizer:
        state, state_tensors = _training_state(network)
        tensors += state_tensors
        header["training_state"] = _dumps(state, "the training state")
    write_atomic(path, encode(tensors, header), what="model file")


def _architecture(network, metadata):
    from .layers.base import LAYER_CLASSES

    layers = []
    for index, layer in enumerate(network.layers):
        cls_name = type(layer).__name__
        if LAYER_CLASSES.get(cls_name) is not type(layer):
            raise ConfigError(
                f"cannot save layer {index} ({layer.label}): its class {cls_name} is not the one "
                f"registered under that name in nnscratch.layers.base.LAYER_CLASSES, so it "
                "could not be rebuilt when loading")
        config = _json_safe(layer.get_config(), f"the config of layer {index} ({layer.label})")
        layers.append({"class": cls_name, "config": config, "trainable": bool(layer.trainable)})
    if metadata is not None and not isinstance(metadata, dict):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}")
    input_shape = None if network.input_shape is None else [int(s) for s in network.input_shape]
    return {
        "format_version": FORMAT_VERSION,
        "name": network.name,
        "dtype": network.dtype.name,
        "input_shape": input_shape,
        "seed": network.seed,
        "epochs_trained": int(network.epochs_trained),
        "layers": layers,
        "loss": _json_safe(network.loss.get_config(), "the loss config"),
        "optimizer": _json_safe(network.optimizer.get_config(), "the optimizer config"),
        "metrics": [_json_safe(m.get_config(), "a metric config") for m in network.metrics],
        "metadata": None if metadata is None else _json_safe(metadata, "metadata"),
    }


def _json_safe(value, what):
    """``value`` with numpy arrays/scalars turned into lists/numbers; ConfigError if not JSON."""
    def convert(obj):
        if isinstance(obj, (np.ndarray, np.generic)):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} {obj!r} is not JSON-serialisable")

    try:
        text = json.dumps(value, default=convert, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"cannot save {what}: {exc} (only strings, finite numbers, booleans, "
                          "None, lists and dicts with string keys can be stored)") from None
    result = json.loads(text)
    if _has_non_string_keys(value):
        raise ConfigError(f"cannot save {what}: dict keys must be strings (JSON would turn "
                          "them into strings and the loaded model would differ)")
    return result


def _has_non_string_keys(value):
    if isinstance(value, dict):
        return (any(not isinstance(k, str) for k in value)
                or any(_has_non_string_keys(v) for v in value.values()))
    if isinstance(value, (list, tuple)):
        return any(_has_non_string_keys(v) for v in value)
    return False


def _dumps(value, what):
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot save {what}: {exc}") from None


def _training_state(network):
    """The JSON part and the tensors of the optimizer state and the generators' states."""
    known = {f"{layer.name}.{key}" for layer in network.layers for key in layer.params}
    optimizer = network.optimizer
    described, tensors = {}, []
    for param_name in sorted(optimizer.state):
        if param_name not in known:
            continue   # state of a parameter this network no longer has
        entries = {}
        for key, value in optimizer.state[param_name].items():
            if not isinstance(key, str):
                raise ConfigError(f"optimizer state keys must be strings, got {key!r}")
            kind, tensor = _describe_state_value(value, f"optimizer state '{param_name}/{key}'")
            entries[key] = kind
            if tensor is not None:
                tensors.append((f"{OPTIMIZER_PREFIX}{param_name}/{key}", tensor))
        described[param_name] = entries
    rng = {name: _encode_rng_state(gen.bit_generator.state)
           for name, gen in _generators(network).items()}
    state = {"optimizer_iterations": int(optimizer.iterations), "optimizer_state": described,
             "rng": rng}
    return state, tensors


def _describe_state_value(value, what):
    """``(kind, tensor or None)`` of one optimizer state entry."""
    if value is None:
        return {"kind": "none"}, None
    if isinstance(value, np.ndarray):
        return {"kind": "tensor"}, value
    if isinstance(value, np.generic):
        return {"kind": "scalar"}, np.asarray(value)
    if isinstance(value, bool):
        return {"kind": "bool", "value": value}, None
    if isinstance(value, int):
        return {"kind": "int", "value": str(value)}, None
    if isinstance(value, float):
        return {"kind": "float", "value": repr(value)}, None   # repr round-trips exactly
    raise ConfigError(f"cannot save {what}: a {type(value).__name__} (expected an array, a "
                      "number, a bool or None)")


def _generators(network):
    """Every random generator that training draws from, by a stable name."""
    found = {"network.rng": network.rng, "network.shuffle_rng": network.shuffle_rng}
    seen = set()

    def walk(obj, prefix):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        for attr, value in sorted(vars(obj).items()):
            if isinstance(value, np.random.Generator):
                found[f"{prefix}.{attr}"] = value
            elif _is_layer(value):
                walk(value, f"{prefix}.{attr}")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if _is_layer(item):
                        walk(item, f"{prefix}.{attr}.{i}")

    for layer in network.layers:
        walk(layer, f"layers.{layer.name}")
    return found


def _is_layer(value):
    from .layers.base import Layer
    return isinstance(value, Layer)


def _encode_rng_state(state):
    """A bit generator's state with every int as a decimal string and arrays as lists."""
    if isinstance(state, dict):
        return {str(k): _encode_rng_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return [str(int(v)) for v in state.ravel()]
    if isinstance(state, (bool, np.bool_)):
        return bool(state)
    if isinstance(state, (int, np.integer)):
        return str(int(state))
    if isinstance(state, str):
        return state
    raise ConfigError(f"cannot save a random generator state holding a {type(state).__name__}")


# =============================================================================================
# Loading
# =============================================================================================

def load(path):
    """Read a model written by :func:`save`; returns a built :class:`~nnscratch.network.Network`.

    The network has its weights, buffers, loss, metrics and optimizer (with its state when it
    was saved) and ``network.metadata`` (the user metadata, or None). Any problem with the
    file raises :class:`~nnscratch.errors.ModelFileError`.
    """
    tensors, header = read(path)
    return _Loader(os.fsdecode(path), tensors, header).run()


def load_bytes(data, name="<bytes>"):
    """Like :func:`load`, from the bytes of a model file (``name`` is used in messages)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ModelFileError(f"load_bytes expects the bytes of a model file, got "
                             f"{type(data).__name__}")
    tensors, header = parse(bytes(data), name)
    return _Loader(name, tensors, header).run()


class _Loader:
    """The checks and steps of one ``load`` call; ``fail`` names the file in every message."""

    def __init__(self, path, tensors, header):
        self.path = path
        self.tensors = tensors
        self.header = header
        self.data_bytes = sum(t.nbytes for t in tensors.values())

    def fail(self, message, cause=None):
        error = ModelFileError(f"model file {self.path!r}: {message}")
        if cause is not None:
            raise error from cause
        raise error

    # -- steps ---------------------------------------------------------------------------------
    def run(self):
        arch = self.architecture()
        network = self.rebuild(arch)
        model_tensors = {k: v for k, v in self.tensors.items()
                         if not k.startswith(OPTIMIZER_PREFIX)}
        optimizer_tensors = {k: v for k, v in self.tensors.items()
                             if k.startswith(OPTIMIZER_PREFIX)}
        self.copy_weights(network, model_tensors)
        state_text = self.header.get("training_state")
        if state_text is None:
            if optimizer_tensors:
                self.fail(f"holds optimizer tensors ({_first(optimizer_tensors)}...) but no "
                          "training_state in its metadata")
        else:
            self.restore_training_state(network, state_text, optimizer_tensors)
        network.epochs_trained = arch["epochs_trained"]
        network.metadata = arch["metadata"]
        return network

    def architecture(self):
        header = self.header
        if header is None or "architecture" not in header:
            self.fail("has no nnscratch architecture in its __metadata__ (a safetensors file "
                      "of weights only, or not written by nnscratch)")
        if header.get("format") != FORMAT_NAME:
            self.fail(f"its __metadata__ format is {header.get('format')!r}, expected "
                      f"{FORMAT_NAME!r}")
        if header.get("format_version") != str(FORMAT_VERSION):
            self.fail(f"format version {_short(header.get('format_version'))} is not one this "
                      f"version of nnscratch reads ({FORMAT_VERSION})")
        arch = loads_strict(header["architecture"], "architecture", self.path)
        self.check_architecture_types(arch)
        return arch

    def check_architecture_types(self, arch):
        expect = self.expect
        expect(isinstance(arch, dict), "the architecture must be a JSON object")
        missing, extra = _ARCH_KEYS - set(arch), set(arch) - _ARCH_KEYS
        expect(not missing and not extra, "the architecture needs exactly the keys "
               f"{', '.join(sorted(_ARCH_KEYS))}"
               + (f"; missing {', '.join(sorted(missing))}" if missing else "")
               + (f"; unexpected {', '.join(map(repr, sorted(extra)))}" if extra else ""))
        expect(arch["format_version"] == FORMAT_VERSION and _is_int(arch["format_version"]),
               f"architecture format_version must be {FORMAT_VERSION}, got "
               f"{_short(arch['format_version'])}")
        expect(arch["name"] is None or isinstance(arch["name"], str),
               f"the network name must be a string or null, got {_short(arch['name'])}")
        expect(arch["dtype"] in _DTYPES, f"dtype must be one of {', '.join(_DTYPES)}, got "
               f"{_short(arch['dtype'])}")
        shape = arch["input_shape"]
        expect(shape is None or (isinstance(shape, list) and len(shape) <= 32
                                 and all(_is_int(s) and s > 0 for s in shape)),
               f"input_shape must be null or a list of positive integers, got {_short(shape)}")
        expect(arch["seed"] is None or _is_int(arch["seed"]),
               f"seed must be an integer or null, got {_short(arch['seed'])}")
        expect(_is_int(arch["epochs_trained"]) and arch["epochs_trained"] >= 0,
               f"epochs_trained must be a non-negative integer, got "
               f"{_short(arch['epochs_trained'])}")
        layers = arch["layers"]
        expect(isinstance(layers, list) and layers, "layers must be a non-empty list")
        for i, spec in enumerate(layers):
            expect(isinstance(spec, dict) and set(spec) == {"class", "config", "trainable"},
                   f"layer {i} must be an object with the keys class, config, trainable, got "
                   f"{_short(spec)}")
            expect(isinstance(spec["class"], str), f"layer {i}: class must be a string, got "
                   f"{_short(spec['class'])}")
            expect(isinstance(spec["config"], dict), f"layer {i}: config must be an object, "
                   f"got {_short(spec['config'])}")
            expect(isinstance(spec["trainable"], bool), f"layer {i}: trainable must be true "
                   f"or false, got {_short(spec['trainable'])}")
        for key in ("loss", "optimizer"):
            expect(isinstance(arch[key], (dict, str)), f"the {key} must be a name or a config "
                   f"object, got {_short(arch[key])}")
        expect(isinstance(arch["metrics"], list) and all(isinstance(m, (dict, str))
                                                         for m in arch["metrics"]),
               f"metrics must be a list of names or config objects, got "
               f"{_short(arch['metrics'])}")
        expect(arch["metadata"] is None or isinstance(arch["metadata"], dict),
               f"metadata must be an object or null, got {_short(arch['metadata'])}")

    def expect(self, condition, message):
        if not condition:
            self.fail(message)

    def rebuild(self, arch):
        """The network the architecture describes, built, with freshly initialised weights."""
        from .layers.base import LAYER_CLASSES
        from .network import Network

        layers = []
        for i, spec in enumerate(arch["layers"]):
            cls = LAYER_CLASSES.get(spec["class"])
            if cls is None:
                self.fail(f"layer {i} has class {_short(spec['class'])}, which is not a known "
                          f"layer class (known: {', '.join(sorted(LAYER_CLASSES))}); define or "
                          "import it before loading")
            self.check_activations(spec["config"], f"layer {i} ({spec['class']})")
            try:
                layer = cls.from_config(dict(spec["config"]))
            except Exception as exc:
                self.fail(f"layer {i} ({spec['class']}) cannot be rebuilt from its config: "
                          f"{_short(exc)} (config: {_short(spec['config'])})", exc)
            if not isinstance(layer, cls):
                self.fail(f"layer {i} ({spec['class']}): from_config returned a "
                          f"{type(layer).__name__}")
            layer.trainable = spec["trainable"]
            layers.append(layer)
        loss = self.registry_object(losses.get, arch["loss"], "loss", losses.names,
                                    "nnscratch.losses.register(name, value_fn, gradient_fn)")
        optimizer = self.registry_object(optimizers.get, arch["optimizer"], "optimizer",
                                         optimizers.names, None)
        metrics = [self.registry_object(metrics_module.get, m, "metric", metrics_module.names,
                                        None) for m in arch["metrics"]]

        guard = _AllocationGuard(self, self.data_bytes, np.dtype(arch["dtype"]).itemsize)
        guard.install(layers)
        try:
            try:
                network = Network(layers, loss=loss, optimizer=optimizer, metrics=metrics,
                                  seed=arch["seed"], dtype=arch["dtype"], name=arch["name"])
                if arch["input_shape"] is not None and not network.built:
                    network.build(tuple(arch["input_shape"]))
            except ModelFileError:
                raise
            except Exception as exc:
                self.fail(f"the architecture does not build into a network: {_short(exc)}", exc)
        finally:
            guard.remove()
        saved_shape = arch["input_shape"]
        if network.built and (saved_shape is None or tuple(saved_shape) != network.input_shape):
            self.fail(f"input_shape {saved_shape} does not match the input size the first "
                      f"layer declares {network.input_shape}")
        return network

    def check_activations(self, config, where):
        """Fail with the missing name when a config uses an activation that is not registered."""
        stack = [config]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for key, value in item.items():
                    if key.endswith("activation") and isinstance(value, (str, dict)):
                        name = value if isinstance(value, str) else value.get("name")
                        if isinstance(name, str):
                            try:
                                activations.get(name)
                            except Exception:
                                self.fail(
                                    f"{where} uses the activation {_short(name)}, which is not "
                                    "registered; register it again with "
                                    "nnscratch.activations.register(name, forward, derivative) "
                                    f"before loading (known: {', '.join(activations.names())})")
                    stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)

    def registry_object(self, get, spec, what, names, how_to_register):
        try:
            return get(spec)
        except Exception as exc:
            name = spec if isinstance(spec, str) else spec.get("name")
            if isinstance(name, str) and name not in names() and how_to_register:
                self.fail(f"the {what} {name!r} is not registered; register it again with "
                          f"{how_to_register} before loading (known: {', '.join(names())})", exc)
            self.fail(f"the {what} config {_short(spec)} is not valid: {_short(exc)}", exc)

    def copy_weights(self, network, tensors):
        expected = {f"{layer.name}.{key}": value for layer in network.layers
                    for key, value in (*layer.params.items(), *layer.buffers.items())}
        missing = [name for name in expected if name not in tensors]
        if missing:
            target = expected[missing[0]]
            self.fail(f"lacks the tensor {missing[0]!r} ({target.dtype} {target.shape}) that the "
                      f"architecture needs ({len(missing)} missing in all)")
        extra = [name for name in tensors if name not in expected]
        if extra:
            self.fail(f"holds the tensor {_short(extra[0], 80)}, which the architecture "
                      f"does not use ({len(extra)} unexpected in all)")
        for name, target in expected.items():
            self.check_tensor(name, tensors[name], target.shape, target.dtype)
        for name, target in expected.items():
            np.copyto(target, tensors[name])

    def check_tensor(self, name, tensor, shape, dtype):
        if tensor.shape != tuple(shape):
            self.fail(f"tensor {name!r} has shape {tensor.shape}, the architecture needs "
                      f"{tuple(shape)}")
        if tensor.dtype.newbyteorder("=") != np.dtype(dtype).newbyteorder("="):
            self.fail(f"tensor {name!r} is {tensor.dtype.name}, the network needs "
                      f"{np.dtype(dtype).name}")

    def restore_training_state(self, network, text, tensors):
        state = loads_strict(text, "training state", self.path)
        expect = self.expect
        expect(isinstance(state, dict) and set(state) == _STATE_KEYS,
               f"the training state needs exactly the keys {', '.join(sorted(_STATE_KEYS))}")
        iterations = state["optimizer_iterations"]
        expect(_is_int(iterations) and iterations >= 0, "optimizer_iterations must be a "
               f"non-negative integer, got {_short(iterations)}")
        expect(isinstance(state["optimizer_state"], dict), "optimizer_state must be an object")
        expect(isinstance(state["rng"], dict), "rng must be an object")
        optimizer_state = self.optimizer_state(network, state["optimizer_state"], tensors)
        rng_states = self.rng_states(network, state["rng"])
        # Everything checked: now change the network.
        network.optimizer.iterations = iterations
        network.optimizer.state = optimizer_state
        for generator, value in rng_states:
            generator.bit_generator.state = value

    def optimizer_state(self, network, described, tensors):
        params = {f"{layer.name}.{key}": value for layer in network.layers
                  for key, value in layer.params.items()}
        optimizer = network.optimizer
        used, result = set(), {}
        for param_name, entries in described.items():
            where = f"optimizer state of {_short(param_name, 80)}"
            if param_name not in params:
                self.fail(f"{where}: the network has no such parameter")
            param = params[param_name]
            self.expect(isinstance(entries, dict), f"{where} must be an object")
            try:
                template = optimizer.init_state(param)
            except Exception as exc:
                self.fail(f"{where}: the optimizer cannot create its state: {_short(exc)}", exc)
            missing = sorted(set(template) - set(entries))
            if missing:
                self.fail(f"{where} lacks the keys {missing} that {type(optimizer).__name__} "
                          "creates for every parameter")
            values = {}
            for key, kind in entries.items():
                # A key the optimizer adds lazily (SGD's momentum buffer) has no template: it
                # may be None, a number, or an array shaped and typed like the parameter.
                tensor_name = f"{OPTIMIZER_PREFIX}{param_name}/{key}"
                values[key] = self.state_value(kind, template.get(key), param, tensor_name,
                                               tensors, f"{where}, key {key!r}")
                if tensor_name in tensors and isinstance(kind, dict) and kind.get("kind") in (
                        "tensor", "scalar"):
                    used.add(tensor_name)
            result[param_name] = values
        extra = sorted(set(tensors) - used)
        if extra:
            self.fail(f"holds the optimizer tensor {_short(extra[0], 80)}, which its "
                      "training state does not describe")
        return result

    def state_value(self, kind, template, param, tensor_name, tensors, where):
        expect = self.expect
        expect(isinstance(kind, dict) and isinstance(kind.get("kind"), str),
               f"{where} must be an object with a 'kind'")
        label = kind["kind"]
        keys = {"kind"} if label in ("none", "tensor", "scalar") else {"kind", "value"}
        expect(set(kind) == keys, f"{where}: a {_short(label)} entry needs the keys "
               f"{', '.join(sorted(keys))}")
        if label in ("tensor", "scalar"):
            expect(tensor_name in tensors, f"{where}: the tensor {tensor_name!r} is missing")
            tensor = tensors[tensor_name]
            if label == "scalar":
                expect(isinstance(template, (np.generic, type(None))) and tensor.shape == (),
                       f"{where}: expected a {type(template).__name__}, got a scalar tensor")
                if template is not None:
                    self.check_tensor(tensor_name, tensor, (), np.asarray(template).dtype)
                return tensor.dtype.newbyteorder("=").type(tensor[()])
            if isinstance(template, np.ndarray):
                self.check_tensor(tensor_name, tensor, template.shape, template.dtype)
            else:
                expect(template is None, f"{where}: expected a {type(template).__name__}, got "
                       "a tensor")
                self.check_tensor(tensor_name, tensor, param.shape, param.dtype)
            return np.array(tensor, dtype=tensor.dtype.newbyteorder("="))
        expect(not isinstance(template, (np.ndarray, np.generic)),
               f"{where}: expected an array, got {_short(label)}")
        if label == "none":
            return None
        value = kind["value"]
        if label == "bool":
            expect(isinstance(value, bool) and isinstance(template, (bool, type(None))),
                   f"{where}: bad bool entry {_short(value)}")
            return value
        if label == "int":
            expect(isinstance(template, (int, type(None))) and not isinstance(template, bool)
                   and _is_decimal(value), f"{where}: bad int entry {_short(value)}")
            return int(value)
        if label == "float":
            expect(isinstance(template, (float, int, type(None))) and isinstance(value, str)
                   and len(value) < 40, f"{where}: bad float entry {_short(value)}")
            try:
                return float(value)
            except ValueError:
                self.fail(f"{where}: {_short(value)} is not a number")
        self.fail(f"{where}: unknown kind {_short(label)}")

    def rng_states(self, network, saved):
        generators = _generators(network)
        if set(saved) != set(generators):
            missing = sorted(set(generators) - set(saved))
            extra = sorted(set(saved) - set(generators))
            self.fail("the training state's random generators do not match the network's"
                      + (f"; missing {', '.join(missing)}" if missing else "")
                      + (f"; unexpected {', '.join(map(repr, extra))}" if extra else ""))
        result = []
        for name, generator in generators.items():
            template = generator.bit_generator.state
            value = self.decode_rng_state(saved[name], template, f"random generator {name}")
            result.append((generator, value))
            try:   # check the state is acceptable now; it is set only after every check
                probe = type(generator.bit_generator)()
                probe.state = value
            except Exception as exc:
                self.fail(f"random generator {name}: invalid state: {_short(exc)}", exc)
        return result

    def decode_rng_state(self, saved, template, where):
        """The saved state converted to the types of ``template`` (a live generator's state)."""
        if isinstance(template, dict):
            self.expect(isinstance(saved, dict) and set(saved) == set(template),
                        f"{where}: expected the keys {sorted(template)}")
            return {k: self.decode_rng_state(saved[k], v, f"{where}/{k}")
                    for k, v in template.items()}
        if isinstance(template, np.ndarray):
            self.expect(isinstance(saved, list) and len(saved) == template.size
                        and all(_is_decimal(s) for s in saved),
                        f"{where}: expected {template.size} decimal strings")
            values = [int(s) for s in saved]
            info = np.iinfo(template.dtype) if template.dtype.kind in "iu" else None
            self.expect(info is not None and all(info.min <= v <= info.max for v in values),
                        f"{where}: values out of range for {template.dtype}")
            return np.array(values, dtype=template.dtype).reshape(template.shape)
        if isinstance(template, (bool, np.bool_)):
            self.expect(isinstance(saved, bool), f"{where}: expected true or false")
            return saved
        if isinstance(template, (int, np.integer)):
            self.expect(_is_decimal(saved), f"{where}: expected a decimal string, got "
                        f"{_short(saved)}")
            return int(saved)
        if isinstance(template, str):
            self.expect(saved == template, f"{where}: the file holds {_short(saved)}, the "
                        f"network uses {template}")
            return saved
        self.fail(f"{where}: unsupported generator state")


class _AllocationGuard:
    """Refuses to build parameters bigger than the tensor bytes the file holds.

    Installed on each layer (and the layers inside it) for the duration of the build: before
    ``init_param`` allocates an array it checks the array's size against what is left of the
    file's tensor bytes, and after each ``build`` the layer's parameters and buffers are
    counted, so a forged architecture (``Dense(10**9)``) fails before it allocates memory.
    """

    def __init__(self, loader, budget, itemsize):
        self.loader = loader
        self.total = budget       # bytes of tensors in the file
        self.requested = 0        # bytes asked of init_param so far
        self.held = 0             # bytes of parameters and buffers of the layers built so far
        self.itemsize = itemsize
        self.patched = []

    def install(self, layers):
        seen = set()
        top = {id(layer) for layer in layers}
        stack = list(layers)
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            self.patch(layer, count_after_build=id(layer) in top)
            for value in vars(layer).values():
                if _is_layer(value):
                    stack.append(value)
                elif isinstance(value, (list, tuple)):
                    stack.extend(v for v in value if _is_layer(v))

    def patch(self, layer, count_after_build):
        """Wrap ``init_param`` (and, for the network's own layers, ``build``) of ``layer``.

        Only top-level layers are counted after ``build``: a wrapper (Bidirectional) exposes
        its inner layers' arrays again, which would count them twice.
        """
        original_init, original_build = layer.init_param, layer.build
        guard = self

        def init_param(initializer, shape, rng, fan_in=None, fan_out=None):
            nbytes = math.prod(int(s) for s in shape) * guard.itemsize
            guard.requested += nbytes
            if guard.requested > guard.total:
                guard.refuse(layer)
            return original_init(initializer, shape, rng, fan_in=fan_in, fan_out=fan_out)

        def build(*args, **kwargs):
            result = original_build(*args, **kwargs)
            guard.held += sum(a.nbytes for a in (*layer.params.values(), *layer.buffers.values()))
            if guard.held > guard.total:
                guard.refuse(layer)
            return result

        layer.init_param = init_param
        if count_after_build:
            layer.build = build
        self.patched.append(layer)

    def refuse(self, layer):
        self.loader.fail(f"layer {layer.label} would need more bytes of parameters than the "
                         f"{self.total} bytes of tensors the file holds (a forged or corrupted "
                         "architecture)")

    def remove(self):
        for layer in self.patched:
            for attr in ("init_param", "build"):
                layer.__dict__.pop(attr, None)


# =============================================================================================
# Small helpers
# =============================================================================================

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_decimal(value):
    return (isinstance(value, str) and 0 < len(value) <= 200
            and (value.isascii() and (value.isdigit() or (value[0] == "-" and value[1:].isdigit()
                                                          and len(value) > 1))))


def _first(mapping):
    return next(iter(mapping))


def _short(value, limit=200):
    text = str(value) if isinstance(value, Exception) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
