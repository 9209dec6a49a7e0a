"""``model.summary()``: a table of the layers, their outputs, inputs and parameter counts."""


def _shape_text(shape):
    return "(N, " + ", ".join(map(str, shape)) + ")"


def summary_text(model):
    """The summary table of ``model`` as text (see :meth:`nnscratch.Model.summary`).

    One row per layer call: its name and type (with the activation), the output shape, the
    parameter count and, when the model is not a plain chain, the layers it reads from. A
    shared layer's parameters are counted on its first call only.
    """
    chain = getattr(model, "_chain", None) is not None or not model.built
    header = ("layer", "type", "output shape", "params") + (() if chain else ("inputs",))
    rows, counted = [header], set()
    entries = model.nodes if model.built else [None] * len(model.layers)
    for node, layer in zip(entries, [n.layer for n in model.nodes] if model.built else model.layers):
        activation = getattr(layer, "activation", None)
        kind = type(layer).__name__
        if activation is not None and activation.name != "identity":
            kind += f" ({activation.name})"
        if not layer.trainable:
            kind += " [frozen]"
        shape = _shape_text(node.output.shape) if node is not None else "?"
        params = "" if id(layer) in counted else str(layer.count_params())
        counted.add(id(layer))
        row = (layer.name, kind, shape, params)
        if not chain:
            sources = [t.node.layer.name if t.node else (t.name or "input") for t in node.parents]
            row += (", ".join(sources),)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    rule = "-" * max(len(line) for line in lines)
    lines.insert(1, rule)
    lines.append(rule)
    if model.built:
        trainable, frozen = model.trainable_count()
        lines.append(f"total parameters: {trainable + frozen}   trainable: {trainable}   "
                     f"non-trainable: {frozen} (frozen layers and running statistics)")
    else:
        lines.append(f"total parameters: {model.count_params()} (not built yet)")
    spec = model.outputs_spec
    loss = ", ".join(loss.name for loss in spec.losses) if spec is not None else "?"
    lines.append(f"loss: {loss}   optimizer: {type(model.optimizer).__name__}   "
                 f"dtype: {model.dtype.name}")
    return "\n".join(lines)
