"""Packing a network's parameters into one contiguous array (and its gradients into another).

The layers keep views of the two arrays, so nothing changes for them; but an update rule that
treats each element on its own and keeps no state (plain gradient descent) can then update all
parameters in one operation instead of one per array, and ``fit`` copies them in one. For a
small network those per-array calls are most of a step's cost. ``Network`` packs when it is
built and checks on each step that the packing still holds (:func:`packed_arrays`).
"""

import numpy as np


def pack_parameters(keys):
    """Move the parameters named by ``keys`` into one array and their gradients into another.

    ``keys`` lists ``(layer, key, full_name)`` in layer order. Done only when every layer with
    parameters is ``packable`` and all share one dtype. Returns ``(params, grads, views,
    named_parameters)``, with ``views`` the ``(layer, key, param, grad)`` each layer now holds,
    or None.
    """
    if not keys or not all(layer.packable for layer, _, _ in keys):
        return None
    arrays = [layer.params[key] for layer, key, _ in keys]
    if len({a.dtype for a in arrays}) != 1:
        return None
    flat_params = np.empty(sum(a.size for a in arrays), dtype=arrays[0].dtype)
    flat_grads = np.zeros_like(flat_params)
    views, offset = [], 0
    for (layer, key, _), value in zip(keys, arrays):
        part = slice(offset, offset + value.size)
        param = flat_params[part].reshape(value.shape)
        param[...] = value
        grad = flat_grads[part].reshape(value.shape)
        layer.params[key], layer.grads[key] = param, grad
        views.append((layer, key, param, grad))
        offset += value.size
    named = [(f"{layer.name}.{key}", param, grad) for layer, key, param, grad in views]
    return flat_params, flat_grads, views, named


def packed_arrays(packed):
    """``(params, grads)`` of a packing while it holds and every layer trains, else None.

    ``packed`` is what :func:`pack_parameters` returned (or None). The packing holds while each
    layer still uses its views (nothing rebound ``params[key]``) and they are views of these
    arrays (a deep copy of the network has views of nothing).
    """
    if packed is None:
        return None
    params, grads, views, _ = packed
    if views[0][2].base is not params:            # a copy: all its views are copies
        return None
    for layer, key, param, grad in views:     # run every step: the cheapest tests first
        if (layer.params[key] is not param or layer.grads[key] is not grad
                or not layer.__dict__["trainable"]):   # Layer.trainable, without the property
            return None
    return params, grads
