"""Export a trained :class:`~nnscratch.Network` to an ONNX model file.

>>> ns.export_onnx(net, "net.onnx")                                        # doctest: +SKIP
>>> import onnxruntime                                                      # doctest: +SKIP
>>> session = onnxruntime.InferenceSession("net.onnx", providers=["CPUExecutionProvider"])
>>> session.run(["output"], {"input": x.astype("float32")})[0]             # == net.predict(x)

The graph computes ``network.predict`` (inference mode: dropout off, batch normalization with
its running statistics):

- one input named ``"input"`` shaped ``("N", *network.input_shape)`` and one output named
  ``"output"`` shaped ``("N", *network.output_shape)``: the batch size is free, every other size
  is the one the network was built for;
- ONNX opset 17 (the first with ``LayerNormalization``) and IR version 8, the lowest that
  opset needs, so that older runtimes load the file too;
- float32 throughout (token ids become int64 inside the graph). A float64 network's weights are
  rounded to float32: ONNX Runtime implements convolutions and recurrent operators in float32
  only, and a float32 model is what deployment targets expect. Its outputs then agree with
  ``predict`` to float32 precision.

Each layer family has its converter module here (:mod:`.dense`, :mod:`.conv`, :mod:`.pooling`,
:mod:`.reshape`, :mod:`.normalization`, :mod:`.recurrent`), the activations their table
(:mod:`.activations`); :mod:`.registry` maps layer classes to converters. A layer or activation
that has no ONNX form raises :class:`~nnscratch.errors.ExportError` naming it, before anything
is written. The model passes ``onnx.checker.check_model`` (with shape inference) before it is
written, and the file is written atomically (:func:`nnscratch.saving.atomic.write_atomic`).

``onnx`` is an optional extra (``pip install 'nnscratch[onnx]'``); without it these functions
raise :class:`~nnscratch.errors.MissingDependencyError`.
"""

import importlib.metadata

import numpy as np

from ...errors import ConfigError, ExportError, NotBuiltError, require
from ..atomic import check_path, write_atomic
from ..common import is_network
from .dense import describe
from .graph import GraphBuilder
from .registry import LAYER_CONVERTERS, NOT_EXPORTABLE, layer_converter

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


def to_onnx(network):
    """The ONNX model (an ``onnx.ModelProto``) of ``network``, checked, not written anywhere."""
    onnx = require("onnx", "onnx", "ONNX export")
    _check_network(network)
    for layer in network.layers:                       # refuse before building anything
        layer_converter(layer)
    b = GraphBuilder(onnx)
    x = b.reserve(INPUT_NAME)
    b.reserve(OUTPUT_NAME)
    shape = tuple(network.input_shape)
    for layer in network.layers:
        x = layer_converter(layer)(b, layer, x, shape)
        shape = tuple(layer.compute_output_shape(shape))
    b.nodes.append(b.helper.make_node("Identity", [x], [OUTPUT_NAME], name="output/Identity"))

    helper = onnx.helper
    graph = helper.make_graph(
        b.nodes, network.name or "nnscratch_network",
        [helper.make_tensor_value_info(INPUT_NAME, b.FLOAT, ["N", *network.input_shape])],
        [helper.make_tensor_value_info(OUTPUT_NAME, b.FLOAT, ["N", *shape])],
        initializer=b.initializers)
    opsets = [helper.make_opsetid("", OPSET)]
    kinds = ", ".join(type(layer).__name__ for layer in network.layers)
    model = helper.make_model(graph, opset_imports=opsets, producer_name="nnscratch",
                              producer_version=_producer_version(),
                              doc_string=f"nnscratch network: {kinds}")
    model.ir_version = helper.find_min_ir_version_for(opsets)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:   # ValidationError or InferenceError: a converter bug
        raise ExportError(f"the exported ONNX graph failed onnx.checker: {exc}") from exc
    return model


def export_onnx(network, path):
    """Write ``network`` to ``path`` as an ONNX model, atomically; returns the ``ModelProto``.

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
