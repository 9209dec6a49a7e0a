"""The graph of a functional model (:class:`~nnscratch.Model`) as JSON, and back.

A graph model's architecture holds its layers once each (a shared layer too, under its name)
and, under ``"graph"``, how they are called::

    {"inputs":  [{"name": "tokens", "shape": [16]}, ...],
     "nodes":   [{"name": "mha:0", "layer": "mha", "inputs": ["h:0", "h:0"],
                  "options": {"attention_mask": {"tensor": "mask"}, "use_causal_mask": true}},
                 ...],
     "outputs": [{"name": "logits", "tensor": "head:0", "loss": {...}, "loss_weight": 1.0,
                  "metrics": [{...}, ...]}, ...]}

- an input is named and has its per-sample shape;
- a node is one layer call: ``name`` names its output tensor (``"<layer>:<k>"`` for the layer's
  k-th call), ``layer`` the layer it calls, ``inputs`` the tensors it reads (input names or node
  names, in order), ``options`` the keywords of the call: a number, string, boolean or null as
  it is, a symbolic tensor as ``{"tensor": <name>}``;
- an output names a tensor and carries its loss, loss weight and metrics.

:func:`graph_of` writes it. :func:`check_graph` checks it, strictly, before anything is built:
JSON types, names unique among the tensors (and among the outputs and the layers), every
reference known, no cycle, every node used by an output, every layer called. :func:`build_graph`
then calls the layers on :func:`~nnscratch.symbolic.Input` tensors (which computes shapes and
allocates nothing) and returns what ``Model(inputs, outputs)`` takes, with the shapes of each
call for the memory budget (:mod:`.budget`).
"""

import inspect

from ..checks import is_number
from ..errors import ConfigError, NNScratchError
from ..symbolic import Input, SymbolicTensor, call_layer
from .common import is_shape, json_safe, short, stored_shape

GRAPH_KEYS = {"inputs", "nodes", "outputs"}
INPUT_KEYS = {"name", "shape"}
NODE_KEYS = {"name", "layer", "inputs", "options"}
OUTPUT_KEYS = {"name", "tensor", "loss", "loss_weight", "metrics"}
PLAIN_OPTIONS = (type(None), bool, int, float, str)


# =============================================================================================
# Writing
# =============================================================================================

def graph_of(model):
    """The ``"graph"`` entry of ``model``'s architecture (see the module docstring)."""
    names = {t.id: name for t, name in zip(model.inputs, model.input_names)}
    inputs = [{"name": name, "shape": stored_shape(t.shape)}
              for t, name in zip(model.inputs, model.input_names)]
    taken, calls, nodes = set(model.input_names), {}, []
    for node in model.nodes:
        layer = node.layer
        calls[id(layer)] = calls.get(id(layer), -1) + 1
        name = f"{layer.name}:{calls[id(layer)]}"
        while name in taken:                  # an input named like a call: keep names unique
            name += "_"
        taken.add(name)
        options = {key: _option_of(value, names, layer, key) for key, value in node.options.items()}
        nodes.append({"name": name, "layer": layer.name,
                      "inputs": [names[t.id] for t in node.inputs], "options": options})
        names[node.output.id] = name
    spec = model.outputs_spec
    outputs = [{"name": name, "tensor": names[tensor.id],
                "loss": json_safe(loss.get_config(), f"the loss of output {name!r}"),
                "loss_weight": float(weight),
                "metrics": [json_safe(m.get_config(), "a metric config") for m in metrics]}
               for tensor, name, loss, weight, metrics
               in zip(model.outputs, model.output_names, spec.losses, spec.weights, spec.metrics)]
    return {"inputs": inputs, "nodes": nodes, "outputs": outputs}


def _option_of(value, names, layer, key):
    """One option of a call as JSON: a plain value as it is, a tensor as a reference."""
    if isinstance(value, SymbolicTensor):
        return {"tensor": names[value.id]}
    if not isinstance(value, PLAIN_OPTIONS):
        raise ConfigError(f"cannot save the option {key}={short(value)} of layer {layer.label}: "
                          "a saved call keeps only numbers, strings, booleans, None and "
                          "single symbolic tensors")
    return json_safe(value, f"the option {key} of layer {layer.label}")


# =============================================================================================
# Checking
# =============================================================================================

def check_graph(graph, layer_specs, check):
    """Check the ``"graph"`` entry against the layers' specs, then put its nodes in an order to
    call them (each after the nodes it reads; a file written by :func:`graph_of` has them so)."""
    expect = check.expect
    _check_entries(graph, expect)
    tensors = {}
    for kind, entries in (("input", graph["inputs"]), ("node", graph["nodes"])):
        for entry in entries:
            other = tensors.get(entry["name"])
            expect(other is None, f"the graph has two tensors named {short(entry['name'])} "
                   f"({other} and {kind}); every input and node needs its own name")
            tensors[entry["name"]] = kind
    _check_unique([out["name"] for out in graph["outputs"]], "outputs", expect)
    layer_names = [spec["config"].get("name") for spec in layer_specs]
    for i, name in enumerate(layer_names):
        expect(isinstance(name, str), f"layer {i} of a graph model needs a name (a string) in "
               f"its config, got {short(name)}")
    _check_unique(layer_names, "layers", expect)
    nodes = {node["name"]: node for node in graph["nodes"]}
    for node in graph["nodes"]:
        where = f"node {short(node['name'])}"
        expect(node["layer"] in layer_names, f"{where} calls the layer {short(node['layer'])}, "
               "which is not among the file's layers")
        for ref in _references(node):
            expect(ref in tensors, f"{where} reads {short(ref)}, which is neither an input nor "
                   "a node of the graph")
    for out in graph["outputs"]:
        expect(out["tensor"] in tensors, f"output {short(out['name'])} is the tensor "
               f"{short(out['tensor'])}, which is neither an input nor a node of the graph")
    order = _call_order(nodes, [out["tensor"] for out in graph["outputs"]], check)
    placed = {node["name"] for node in order}
    unused = [name for name in nodes if name not in placed]
    expect(not unused, f"node {short(unused[0]) if unused else ''} is not used by any output")
    called = {node["layer"] for node in graph["nodes"]}
    idle = [name for name in layer_names if name not in called]
    expect(not idle, f"layer {short(idle[0]) if idle else ''} is called by no node")
    graph["nodes"] = order


def _check_entries(graph, expect):
    """The JSON types of the graph's inputs, nodes and outputs."""
    expect(isinstance(graph, dict) and set(graph) == GRAPH_KEYS,
           f"the graph must be an object with the keys {', '.join(sorted(GRAPH_KEYS))}")
    for key, keys in (("inputs", INPUT_KEYS), ("nodes", NODE_KEYS), ("outputs", OUTPUT_KEYS)):
        entries = graph[key]
        expect(isinstance(entries, list) and (entries or key == "nodes"),
               f"the graph's {key} must be a {'' if key == 'nodes' else 'non-empty '}list")
        for i, entry in enumerate(entries):
            expect(isinstance(entry, dict) and set(entry) == keys, f"{key} entry {i} must be an "
                   f"object with the keys {', '.join(sorted(keys))}, got {short(entry)}")
            expect(isinstance(entry["name"], str), f"{key} entry {i}: name must be a string, "
                   f"got {short(entry['name'])}")
    for entry in graph["inputs"]:
        expect(is_shape(entry["shape"], free=True), f"input {short(entry['name'])}: shape must "
               "be a non-empty list of positive integers (null for a free axis), got "
               f"{short(entry['shape'])}")
    for node in graph["nodes"]:
        where = f"node {short(node['name'])}"
        expect(isinstance(node["layer"], str), f"{where}: layer must be a string")
        expect(isinstance(node["inputs"], list) and node["inputs"]
               and all(isinstance(ref, str) for ref in node["inputs"]),
               f"{where}: inputs must be a non-empty list of tensor names, got "
               f"{short(node['inputs'])}")
        expect(isinstance(node["options"], dict), f"{where}: options must be an object")
        for key, value in node["options"].items():
            expect(isinstance(value, PLAIN_OPTIONS) or _is_reference(value),
                   f"{where}: option {short(key)} must be a number, string, boolean, null or "
                   f"{{\"tensor\": <name>}}, got {short(value)}")
    for out in graph["outputs"]:
        where = f"output {short(out['name'])}"
        expect(isinstance(out["tensor"], str), f"{where}: tensor must be a string")
        expect(isinstance(out["loss"], (str, dict)), f"{where}: the loss must be a name or a "
               f"config object, got {short(out['loss'])}")
        expect(is_number(out["loss_weight"]) and out["loss_weight"] >= 0, f"{where}: "
               f"loss_weight must be a non-negative number, got {short(out['loss_weight'])}")
        expect(isinstance(out["metrics"], list)
               and all(isinstance(m, (str, dict)) for m in out["metrics"]),
               f"{where}: metrics must be a list of names or config objects, got "
               f"{short(out['metrics'])}")


def _is_reference(value):
    return isinstance(value, dict) and set(value) == {"tensor"} and isinstance(value["tensor"], str)


def _references(node):
    """The tensors a node entry reads: its inputs, then tensor options."""
    return node["inputs"] + [v["tensor"] for v in node["options"].values() if _is_reference(v)]


def _check_unique(names, what, expect):
    seen = set()
    for name in names:
        expect(name not in seen, f"two {what} are named {short(name)}; names must be unique")
        seen.add(name)


def _call_order(nodes, targets, check):
    """The nodes the ``targets`` depend on, each after those it reads: depth first from the
    outputs, as the model orders its nodes. Iterative, so a long chain is no deep recursion;
    a cycle fails naming the nodes on it."""
    order, state = [], {}                       # state: name -> "visiting" | "done"
    for target in targets:
        if target not in nodes or target in state:      # an input, or a node already placed
            continue
        state[target] = "visiting"
        stack = [(target, iter(_references(nodes[target])))]
        while stack:
            name, pending = stack[-1]
            ref = next(pending, None)
            if ref is None:
                stack.pop()
                state[name] = "done"
                order.append(nodes[name])
            elif ref in nodes and state.get(ref) == "visiting":
                path = [entry[0] for entry in stack]
                cycle = path[path.index(ref):] + [ref]
                check.fail(f"the graph has a cycle: {' -> '.join(short(n, 60) for n in cycle)}")
            elif ref in nodes and ref not in state:
                state[ref] = "visiting"
                stack.append((ref, iter(_references(nodes[ref]))))
    return order


# =============================================================================================
# Building
# =============================================================================================

def build_graph(graph, layers, check):
    """``(inputs, outputs, steps)``: the model's input and output tensors as dicts by name, from
    calling ``layers`` (by name) node after node of a checked graph, and one step
    ``(where, layer, input shape(s), output shape)`` per node for :mod:`.budget`."""
    by_name = {layer.name: layer for layer in layers}
    inputs = {entry["name"]: Input(tuple(entry["shape"]), name=entry["name"])
              for entry in graph["inputs"]}
    tensors, steps = dict(inputs), []
    for node in graph["nodes"]:
        layer, where = by_name[node["layer"]], f"node {short(node['name'])}"
        args = [tensors[ref] for ref in node["inputs"]]
        options = {key: tensors[value["tensor"]] if _is_reference(value) else value
                   for key, value in node["options"].items()}
        _check_options(layer, options, where, check)
        try:
            output = call_layer(layer, args, options)
        except (NNScratchError, ValueError, TypeError, IndexError) as exc:
            check.fail(f"{where} ({type(layer).__name__} layer {layer.label!r}) cannot take its "
                       f"inputs: {short(exc)}", exc)
        tensors[node["name"]] = output
        shapes, out_shape = output.node.build_shapes, output.node.build_output_shape
        many = getattr(layer, "multiple_inputs", False)      # (a length for each free axis)
        steps.append((where, layer, shapes if many else shapes[0], out_shape))
    outputs = {out["name"]: tensors[out["tensor"]] for out in graph["outputs"]}
    return inputs, outputs, steps


def _check_options(layer, options, where, check):
    """Each option must be a keyword of the layer's ``forward``: a tensor or null where its
    default is None, else a value of its default's type (a boolean where it is a boolean)."""
    parameters = list(inspect.signature(type(layer).forward).parameters.values())[2:]
    keywords = {p.name: p.default for p in parameters if p.name != "training"
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    for key, value in options.items():
        check.expect(key in keywords, f"{where}: {type(layer).__name__} takes no option "
                     f"{short(key)} (its options: {', '.join(keywords) or 'none'})")
        default = keywords[key]
        if default is None:
            fits = value is None or isinstance(value, SymbolicTensor)
        else:
            fits = type(value) is type(default) or (is_number(value) and is_number(default))
        check.expect(fits, f"{where}: option {key} must be "
                     f"{'a tensor or null' if default is None else type(default).__name__}, "
                     f"got {short(value)}")
