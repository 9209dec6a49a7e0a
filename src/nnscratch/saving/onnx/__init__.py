"""Export a trained :class:`~nnscratch.Network` or :class:`~nnscratch.Model` to an ONNX model file.

>>> ns.export_onnx(net, "net.onnx")                                        # doctest: +SKIP
>>> import onnxruntime                                                      # doctest: +SKIP
>>> session = onnxruntime.InferenceSession("net.onnx", providers=["CPUExecutionProvider"])
>>> session.run(["output"], {"input": x.astype("float32")})[0]             # == net.predict(x)

The graph computes ``model.predict`` (inference mode: dropout off, batch normalization with
its running statistics):

- a Network (a stack of layers) has one input named ``"input"`` shaped
  ``("N", *network.input_shape)`` and one output named ``"output"`` shaped
  ``("N", *network.output_shape)``; a Model (a graph) has its inputs and outputs, in order,
  under the model's names (``model.input_names``, ``model.output_names``), each shaped
  ``("N", *its per-sample shape)``. The batch size is free; so is the length of sequences,
  named ``"T"``, where every layer on the time axis computes the same for any length
  (:mod:`.sequences`); every other size is the one the model was built for (a model whose
  input has a free axis, ``ns.Input((None, F))``, and whose ONNX form needs a fixed length is
  refused with an ExportError);
- the masks a model carries (``Embedding(mask_zero=True)``, ``Masking``) are computed in the
  graph and reach recurrent layers as ONNX's ``sequence_lens``, which is exact for end-padded
  sequences (see :mod:`.sequences`);
- every layer call is converted in the model's order, reading its inputs' tensors; a tensor
  that fans out is read by several nodes, a shared layer's weights are written once per call;
- ONNX opset 17 (the first with ``LayerNormalization``) and IR version 8, the lowest that
  opset needs, so that older runtimes load the file too;
- float32 throughout (token ids become int64 inside the graph, attention masks booleans). A
  float64 network's weights are rounded to float32: ONNX Runtime implements convolutions and
  recurrent operators in float32 only, and a float32 model is what deployment targets expect.
  Its outputs then agree with ``predict`` to float32 precision.

Each layer family has its converter module here (:mod:`.dense`, :mod:`.conv`, :mod:`.pooling`,
:mod:`.reshape`, :mod:`.normalization`, :mod:`.recurrent`, :mod:`.merge`, :mod:`.attention`),
the activations their table (:mod:`.activations`); :mod:`.registry` maps layer classes to
converters. A layer or activation that has no ONNX form raises
:class:`~nnscratch.errors.ExportError` naming it, before anything is written. The model passes
``onnx.checker.check_model`` (with shape inference) before it is written, and the file is
written atomically (:func:`nnscratch.saving.atomic.write_atomic`).

``onnx`` is an optional extra (``pip install 'nnscratch[onnx]'``); without it these functions
raise :class:`~nnscratch.errors.MissingDependencyError`.
"""

import importlib.metadata
import inspect

import numpy as np

from ...errors import ConfigError, ExportError, NotBuiltError, require
from ...layers.masking import takes_mask
from ...symbolic import SymbolicTensor, shape_text
from ..atomic import check_path, write_atomic
from ..common import is_network, is_stack
from .dense import describe
from .graph import GraphBuilder
from .registry import LAYER_CONVERTERS, LAYER_OPTIONS, NOT_EXPORTABLE, layer_converter
from .sequences import output_mask, time_axes

__all__ = ["export_onnx", "to_onnx", "OPSET", "INPUT_NAME", "OUTPUT_NAME", "LAYER_CONVERTERS",
           "NOT_EXPORTABLE"]

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def _producer_version():
    """nnscratch's version, from the installed package's metadata.

    (The package ``__init__`` holds ``__version__`` but sits above this module, so it is not
    imported from here.)
    """
    try:
        return importlib.metadata.version("nnscratch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _check_network(network):
    if not is_network(network):
        raise ConfigError(f"ONNX export expects a Network, got {type(network).__name__}")
    if not network.built:
        raise NotBuiltError("ONNX export needs a built network (its input shape fixes the "
                            "graph's sizes): call network.build(input_shape) or pass data "
                            "through it (fit or predict) first")
    for layer in network.layers:
        for key, value in {**layer.params, **layer.buffers}.items():
            if not np.all(np.isfinite(value)):
                raise ExportError(f"cannot export {describe(layer)}: its '{key}' holds NaN or "
                                  "infinite values")


def _names(network):
    """``(input names, output names)`` of the ONNX graph; ExportError if they are not unique."""
    if is_stack(network):
        return [INPUT_NAME], [OUTPUT_NAME]
    inputs, outputs = list(network.input_names), list(network.output_names)
    shared = sorted(set(inputs) & set(outputs))
    if shared:
        raise ExportError(f"cannot export: {shared[0]!r} names both an input and an output of "
                          "the model, and ONNX needs one name per tensor; rename one of them")
    return inputs, outputs


def _convert_node(b, node, names, masks):
    """Append the ONNX nodes of one layer call; returns its output tensor's name and mask.

    ``names`` maps a symbolic tensor's id to its ONNX name, ``masks`` to the name of its mask
    where it carries one. Options the converter takes are passed as keywords (a symbolic tensor
    as ``(name, per-sample shape)``); any other option that is not None is refused. A layer
    that consumes masks gets its inputs' as the keyword ``mask``.
    """
    layer = node.layer
    taken = LAYER_OPTIONS.get(type(layer), ())
    options = {}
    for key, value in node.options.items():
        if key not in taken and value is not None:
            raise ExportError(f"cannot export {describe(layer)}: ONNX export does not take the "
                              f"option {key} of its call")
        if isinstance(value, SymbolicTensor):
            value = (names[value.id], value.shape)
        if key in taken:
            options[key] = value
    xs, shapes = [names[t.id] for t in node.inputs], node.build_shapes   # free axes: a length
    mask = [masks.get(t.id) for t in node.inputs]
    if not getattr(layer, "multiple_inputs", False):
        xs, shapes, mask = xs[0], shapes[0], mask[0]
    elif all(m is None for m in mask):
        mask = None
    if mask is not None and takes_mask(layer):
        if "mask" not in inspect.signature(layer_converter(layer)).parameters:
            raise ExportError(f"cannot export {describe(layer)}: it takes the sequence mask the "
                              "model carries to it, and its ONNX form has no masked version")
        options["mask"] = mask
    y = layer_converter(layer)(b, layer, xs, shapes, **options)
    return y, output_mask(b, layer, xs, shapes, mask)


def to_onnx(network):
    """The ONNX model (an ``onnx.ModelProto``) of ``network`` (a Network or a Model), checked,
    not written anywhere."""
    onnx = require("onnx", "onnx", "ONNX export")
    _check_network(network)
    for layer in network.layers:                       # refuse before building anything
        layer_converter(layer)
    input_names, output_names = _names(network)
    b = GraphBuilder(onnx)
    for name in input_names + output_names:
        b.reserve(name)
    names = {t.id: name for t, name in zip(network.inputs, input_names)}
    masks = {}
    for node in network.nodes:
        names[node.output.id], mask = _convert_node(b, node, names, masks)
        if mask is not None:
            masks[node.output.id] = mask
    for tensor, name in zip(network.outputs, output_names):
        b.nodes.append(b.helper.make_node("Identity", [names[tensor.id]], [name],
                                          name=b.fresh(f"{name}/Identity")))

    helper = onnx.helper
    time = time_axes(network, input_names)           # {tensor id: "T"}: lengths left free

    def declared(name, tensor):
        dims = ["N", *(tensor.shape if tensor.example_shape is None else tensor.example_shape)]
        if tensor.id in time:
            dims[1] = time[tensor.id]
        if None in dims:                     # a free axis (None) ONNX cannot leave free here
            raise ExportError(f"cannot export: {name!r} is shaped {shape_text(tensor.shape)}, "
                              "with a free axis (None) that this model's ONNX form cannot leave "
                              "free (see nnscratch.saving.onnx.sequences); export a model built "
                              "for a fixed length (the same layers and weights)")
        return helper.make_tensor_value_info(name, b.FLOAT, dims)

    graph = helper.make_graph(
        b.nodes, network.name or "nnscratch_network",
        [declared(name, t) for name, t in zip(input_names, network.inputs)],
        [declared(name, t) for name, t in zip(output_names, network.outputs)],
        initializer=b.initializers)
    opsets = [helper.make_opsetid("", OPSET)]
    kinds = ", ".join(type(layer).__name__ for layer in network.layers)
    model = helper.make_model(graph, opset_imports=opsets, producer_name="nnscratch",
                              producer_version=_producer_version(),
                              doc_string=f"nnscratch {'network' if is_stack(network) else 'model'}: "
                                         f"{kinds}")
    model.ir_version = helper.find_min_ir_version_for(opsets)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:   # ValidationError or InferenceError: a converter bug
        raise ExportError(f"the exported ONNX graph failed onnx.checker: {exc}") from exc
    return model


def export_onnx(network, path):
    """Write ``network`` (a Network or a Model) to ``path`` as an ONNX model, atomically;
    returns the ``ModelProto``.

    See the module docstring for the graph's names, shapes, opset and dtype. Raises
    :class:`~nnscratch.errors.ExportError` (nothing written) for a layer or activation ONNX
    cannot express, :class:`~nnscratch.errors.MissingDependencyError` without ``onnx``, and
    :class:`~nnscratch.errors.ModelFileError` when the file cannot be written, and
    :class:`~nnscratch.errors.ConfigError` when ``path`` is not a path (before any work).
    """
    path = check_path(path, "ONNX model")
    model = to_onnx(network)
    write_atomic(path, [model.SerializeToString()], what="ONNX model")
    return model
