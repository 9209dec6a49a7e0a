"""The training state: what resuming needs beyond the weights, written and read back.

A file saved with ``include_optimizer=True`` holds, so that ``load`` followed by
``fit(..., initial_epoch=k)`` continues bit-identically:

- the tensors ``"optimizer/<parameter>/<state key>"`` (momenta, moments);
- in ``__metadata__``, the JSON string ``"training_state"``::

      {"optimizer_iterations": <step count>,
       "optimizer_state": {"<parameter>": {"<key>": {"kind": ...}, ...}, ...},
       "rng": {"<generator>": <its bit generator's state>, ...}}

  Each optimizer state entry says what it is: ``{"kind": "tensor"}`` or ``"scalar"`` (its
  value is the tensor of that name), ``"none"``, or ``"bool"``, ``"int"``, ``"float"`` with a
  ``"value"`` (ints as decimal strings, floats as their ``repr``, which round-trips exactly).
  The generators are ``network.rng``, ``network.shuffle_rng`` and each layer's (Dropout's);
  every integer in their states (128 bits and wider) is a decimal string, so every JSON reader
  keeps it exact.

:func:`state_of` writes it; :func:`restore` checks all of it against the network's optimizer
and generators before it changes anything.

No position inside an epoch is saved, because none is needed: files are written at epoch ends
(``ModelCheckpoint``, or ``save`` after ``fit``), and ``fit`` draws each epoch's order of the
samples from ``network.shuffle_rng`` when the epoch starts, for arrays and for a
:class:`~nnscratch.data.Dataset` alike, so the saved generator draws the next epoch's order
again. An iterable of batches keeps its own order: a re-iterable starts again every epoch; a
generator goes on from wherever the caller starts it.
"""

import numpy as np

from ..checks import is_whole
from ..errors import ConfigError
from ..layers.base import Layer
from .common import is_decimal, loads_strict, named_arrays, short

OPTIMIZER_PREFIX = "optimizer/"
KEYS = {"optimizer_iterations", "optimizer_state", "rng"}
TENSOR_KINDS = ("tensor", "scalar")


def generators(network):
    """Every random generator that training draws from, by a stable name.

    ``network.rng``, ``network.shuffle_rng``, and each generator a layer keeps as an attribute:
    ``layers.<layer name>.<attribute>``, and inside a wrapper the path to it through the
    wrapper's attributes (``.<i>`` for an item of a list). The names are keys in the file, so
    they are made from attribute paths.
    """
    found = {"network.rng": network.rng, "network.shuffle_rng": network.shuffle_rng}
    seen = set()

    def walk(obj, prefix):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        for attr, value in sorted(vars(obj).items()):
            if isinstance(value, np.random.Generator):
                found[f"{prefix}.{attr}"] = value
            elif isinstance(value, Layer):
                walk(value, f"{prefix}.{attr}")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Layer):
                        walk(item, f"{prefix}.{attr}.{i}")

    for layer in network.layers:
        walk(layer, f"layers.{layer.name}")
    return found


# =============================================================================================
# Writing
# =============================================================================================

def state_of(network):
    """``(state, tensors)``: the JSON part and the ``(name, array)`` tensors of the state."""
    known = named_arrays(network, buffers=False)
    optimizer = network.optimizer
    described, tensors = {}, []
    for param_name in sorted(known):
        param_state = optimizer.state_for(known[param_name])   # kept by the array itself
        if param_state is None:
            continue   # a parameter the optimizer has not updated
        entries = {}
        for key, value in param_state.items():
            if not isinstance(key, str):
                raise ConfigError(f"optimizer state keys must be strings, got {key!r}")
            kind, tensor = _describe_value(value, f"optimizer state '{param_name}/{key}'")
            entries[key] = kind
            if tensor is not None:
                tensors.append((f"{OPTIMIZER_PREFIX}{param_name}/{key}", tensor))
        described[param_name] = entries
    rng = {name: _encode_rng_state(gen.bit_generator.state)
           for name, gen in generators(network).items()}
    state = {"optimizer_iterations": int(optimizer.iterations), "optimizer_state": described,
             "rng": rng}
    return state, tensors


def _describe_value(value, what):
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
# Reading
# =============================================================================================

def restore(network, text, tensors, check):
    """Check the training state ``text`` (JSON) and the optimizer ``tensors``, then set them.

    Nothing on ``network`` changes until every check has passed.
    """
    state = loads_strict(text, "training state", check.source)
    expect = check.expect
    expect(isinstance(state, dict) and set(state) == KEYS,
           f"the training state needs exactly the keys {', '.join(sorted(KEYS))}")
    iterations = state["optimizer_iterations"]
    expect(is_whole(iterations) and iterations >= 0, "optimizer_iterations must be a "
           f"non-negative integer, got {short(iterations)}")
    expect(isinstance(state["optimizer_state"], dict), "optimizer_state must be an object")
    expect(isinstance(state["rng"], dict), "rng must be an object")
    optimizer_state = _optimizer_state(network, state["optimizer_state"], tensors, check)
    rng_states = _rng_states(network, state["rng"], check)
    # Everything checked: now change the network.
    network.optimizer.iterations = iterations
    network.optimizer.load_state(named_arrays(network, buffers=False), optimizer_state, network)
    for generator, value in rng_states:
        generator.bit_generator.state = value


def _optimizer_state(network, described, tensors, check):
    """``{parameter: {key: value}}`` from the described entries and the optimizer tensors."""
    params = named_arrays(network, buffers=False)
    used, result = set(), {}
    for param_name, entries in described.items():
        where = f"optimizer state of {short(param_name, 80)}"
        if param_name not in params:
            check.fail(f"{where}: the network has no such parameter")
        check.expect(isinstance(entries, dict), f"{where} must be an object")
        template = _template(network.optimizer, params[param_name], where, entries, check)
        values = {}
        for key, kind in entries.items():
            # A key the optimizer adds lazily (SGD's momentum buffer) has no template: it
            # may be None, a number, or an array shaped and typed like the parameter.
            tensor_name = f"{OPTIMIZER_PREFIX}{param_name}/{key}"
            values[key] = _state_value(kind, template.get(key), params[param_name], tensor_name,
                                       tensors, f"{where}, key {key!r}", check)
            if kind["kind"] in TENSOR_KINDS:
                used.add(tensor_name)
        result[param_name] = values
    extra = sorted(set(tensors) - used)
    if extra:
        check.fail(f"holds the optimizer tensor {short(extra[0], 80)}, which its training "
                   "state does not describe")
    return result


def _template(optimizer, param, where, entries, check):
    """The state the optimizer creates for ``param``; every one of its keys must be saved."""
    try:
        template = optimizer.init_state(param)
    except Exception as exc:
        check.fail(f"{where}: the optimizer cannot create its state: {short(exc)}", exc)
    missing = sorted(set(template) - set(entries))
    if missing:
        check.fail(f"{where} lacks the keys {missing} that {type(optimizer).__name__} "
                   "creates for every parameter")
    return template


def _state_value(kind, template, param, tensor_name, tensors, where, check):
    """One optimizer state value, checked against ``template`` (None: a lazily added key)."""
    expect = check.expect
    expect(isinstance(kind, dict) and isinstance(kind.get("kind"), str),
           f"{where} must be an object with a 'kind'")
    label = kind["kind"]
    keys = {"kind"} if label in ("none", *TENSOR_KINDS) else {"kind", "value"}
    expect(set(kind) == keys, f"{where}: a {short(label)} entry needs the keys "
           f"{', '.join(sorted(keys))}")
    if label in TENSOR_KINDS:
        expect(tensor_name in tensors, f"{where}: the tensor {tensor_name!r} is missing")
        if label == "scalar":
            return _scalar_value(tensors[tensor_name], template, tensor_name, where, check)
        return _array_value(tensors[tensor_name], template, param, tensor_name, where, check)
    expect(not isinstance(template, (np.ndarray, np.generic)),
           f"{where}: expected an array, got {short(label)}")
    if label == "none":
        return None
    return _plain_value(label, kind["value"], template, where, check)


def _scalar_value(tensor, template, tensor_name, where, check):
    """A NumPy scalar from a 0-d tensor, of the template's dtype."""
    check.expect(isinstance(template, (np.generic, type(None))) and tensor.shape == (),
                 f"{where}: expected a {type(template).__name__}, got a scalar tensor")
    if template is not None:
        check.tensor(tensor_name, tensor, (), np.asarray(template).dtype)
    return tensor.dtype.newbyteorder("=").type(tensor[()])


def _array_value(tensor, template, param, tensor_name, where, check):
    """A writable native-order copy of the tensor, shaped like the template (or the parameter)."""
    if isinstance(template, np.ndarray):
        check.tensor(tensor_name, tensor, template.shape, template.dtype)
    else:
        check.expect(template is None, f"{where}: expected a {type(template).__name__}, got "
                     "a tensor")
        check.tensor(tensor_name, tensor, param.shape, param.dtype)
    return np.array(tensor, dtype=tensor.dtype.newbyteorder("="))


def _plain_value(label, value, template, where, check):
    """A bool, int or float entry, of a type the template allows."""
    expect = check.expect
    if label == "bool":
        expect(isinstance(value, bool) and isinstance(template, (bool, type(None))),
               f"{where}: bad bool entry {short(value)}")
        return value
    if label == "int":
        expect(isinstance(template, (int, type(None))) and not isinstance(template, bool)
               and is_decimal(value), f"{where}: bad int entry {short(value)}")
        return int(value)
    if label == "float":
        expect(isinstance(template, (float, int, type(None))) and isinstance(value, str)
               and len(value) < 40, f"{where}: bad float entry {short(value)}")
        try:
            return float(value)
        except ValueError:
            check.fail(f"{where}: {short(value)} is not a number")
    check.fail(f"{where}: unknown kind {short(label)}")


def _rng_states(network, saved, check):
    """``[(generator, state)]``: each saved state decoded and tried on a fresh bit generator."""
    live = generators(network)
    if set(saved) != set(live):
        missing = sorted(set(live) - set(saved))
        extra = sorted(set(saved) - set(live))
        check.fail("the training state's random generators do not match the network's"
                   + (f"; missing {', '.join(missing)}" if missing else "")
                   + (f"; unexpected {', '.join(map(repr, extra))}" if extra else ""))
    result = []
    for name, generator in live.items():
        template = generator.bit_generator.state
        value = _decode_rng_state(saved[name], template, f"random generator {name}", check)
        result.append((generator, value))
        try:   # check the state is acceptable now; it is set only after every check
            probe = type(generator.bit_generator)()
            probe.state = value
        except Exception as exc:
            check.fail(f"random generator {name}: invalid state: {short(exc)}", exc)
    return result


def _decode_rng_state(saved, template, where, check):
    """The saved state converted to the types of ``template`` (a live generator's state)."""
    expect = check.expect
    if isinstance(template, dict):
        expect(isinstance(saved, dict) and set(saved) == set(template),
               f"{where}: expected the keys {sorted(template)}")
        return {k: _decode_rng_state(saved[k], v, f"{where}/{k}", check)
                for k, v in template.items()}
    if isinstance(template, np.ndarray):
        return _decode_rng_array(saved, template, where, expect)
    if isinstance(template, (bool, np.bool_)):
        expect(isinstance(saved, bool), f"{where}: expected true or false")
        return saved
    if isinstance(template, (int, np.integer)):
        expect(is_decimal(saved), f"{where}: expected a decimal string, got {short(saved)}")
        return int(saved)
    if isinstance(template, str):
        expect(saved == template, f"{where}: the file holds {short(saved)}, the network uses "
               f"{template}")
        return saved
    check.fail(f"{where}: unsupported generator state")


def _decode_rng_array(saved, template, where, expect):
    """An integer array from decimal strings, each within the template dtype's range."""
    expect(isinstance(saved, list) and len(saved) == template.size
           and all(is_decimal(s) for s in saved), f"{where}: expected {template.size} decimal "
           "strings")
    values = [int(s) for s in saved]
    info = np.iinfo(template.dtype) if template.dtype.kind in "iu" else None
    expect(info is not None and all(info.min <= v <= info.max for v in values),
           f"{where}: values out of range for {template.dtype}")
    return np.array(values, dtype=template.dtype).reshape(template.shape)
