"""Finite-difference gradient checking, for activations, losses, layers and whole networks.

The analytic gradient that a backward pass computes is compared with the central difference

.. math::

    \\frac{\\partial f}{\\partial x_i} \\approx
    \\frac{f(x + \\epsilon e_i) - f(x - \\epsilon e_i)}{2\\epsilon}

whose error is :math:`O(\\epsilon^2)`. With float64 and :math:`\\epsilon = 10^{-6}` the two agree
to about :math:`10^{-9}` relative error for smooth functions, so a wrong derivative (a missing
factor, a transposed matrix, a dropped term) stands out by many orders of magnitude.

The agreement is measured as the relative error of the whole gradient array,

.. math::

    r = \\frac{\\lVert g_{analytic} - g_{numeric} \\rVert}
             {\\max(\\lVert g_{analytic} \\rVert + \\lVert g_{numeric} \\rVert, 10^{-12})}

For functions with array outputs (activations, layers) the scalar checked is
:math:`f(x) = \\sum_j y_j(x) R_j` with a fixed random :math:`R`: its gradient is exactly the
vector-Jacobian product ``backward(R)``, so every entry of the Jacobian takes part.

Every check casts to float64 first (gradient checks in float32 are meaningless) and raises
:class:`~nnscratch.errors.GradientCheckError` when ``r > tol``, unless ``raise_on_failure=False``.
"""

import numpy as np

from .errors import GradientCheckError

DEFAULT_EPS = 1e-6
DEFAULT_TOL = 1e-6


def numerical_gradient(f, x, eps=DEFAULT_EPS):
    """Central-difference gradient of the scalar function ``f()`` with respect to array ``x``.

    ``x`` is perturbed in place, one element at a time, and restored; ``f`` reads it.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x = x.reshape(-1)  # a view: writing to it perturbs x
    flat_grad = grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = f()
        flat_x[i] = original - eps
        f_minus = f()
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


#: Central differences of a float64 objective of size about 1 carry rounding noise of about
#: 1e-16 / 1e-6 = 1e-10 per entry; a difference below ``NOISE_FLOOR`` per entry (in the 2-norm)
#: is that noise, not a wrong derivative.
NOISE_FLOOR = 1e-8


def relative_error(analytic, numeric):
    """Relative error of two gradient arrays in the 2-norm, with the rounding noise of the
    central differences taken out:

    .. math::

        r = \\frac{\\max(\\lVert a - n \\rVert - \\tau\\sqrt{m},\\ 0)}
                 {\\max(\\lVert a \\rVert + \\lVert n \\rVert,\\ 10^{-12})}

    with :math:`m` entries and :math:`\\tau` = ``NOISE_FLOOR``. Without the floor a gradient
    that is exactly zero (an attention key bias, which softmax ignores) would be compared with
    pure noise and score about 1.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    denom = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)
    excess = np.linalg.norm(analytic - numeric) - NOISE_FLOOR * np.sqrt(max(analytic.size, 1))
    return float(max(excess, 0.0) / denom)


def _verdict(what, errors, tol, raise_on_failure):
    failed = {name: err for name, err in errors.items() if not err <= tol}
    if failed and raise_on_failure:
        detail = ", ".join(f"{name}: {err:.3g}" for name, err in failed.items())
        raise GradientCheckError(
            f"gradient check of {what} failed: relative error above {tol:g} for {detail}"
        )
    return errors


def check_activation(activation, z, eps=DEFAULT_EPS, tol=DEFAULT_TOL, seed=0, raise_on_failure=True):
    """Check ``activation.backward`` against central differences of ``activation.forward`` at ``z``.

    Returns ``{"input": relative_error}``.
    """
    from . import activations

    act = activations.get(activation)
    z = np.array(z, dtype=np.float64)
    projection = np.random.default_rng(seed).standard_normal(z.shape)
    a = act.forward(z)
    analytic = act.backward(z, a, projection)
    numeric = numerical_gradient(lambda: float(np.sum(act.forward(z) * projection)), z, eps)
    return _verdict(f"activation '{act.name}'", {"input": relative_error(analytic, numeric)},
                    tol, raise_on_failure)


def check_loss(loss, y_pred, y_true, eps=DEFAULT_EPS, tol=DEFAULT_TOL, raise_on_failure=True):
    """Check ``loss.gradient`` against central differences of ``loss.value`` at ``y_pred``.

    Returns ``{"y_pred": relative_error}``.
    """
    from . import losses

    fn = losses.get(loss)
    y_pred = np.array(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true)
    if y_true.dtype.kind == "f":
        y_true = y_true.astype(np.float64)
    analytic = fn.gradient(y_pred, y_true)
    numeric = numerical_gradient(lambda: float(fn.value(y_pred, y_true)), y_pred, eps)
    return _verdict(f"loss '{fn.name}'", {"y_pred": relative_error(analytic, numeric)},
                    tol, raise_on_failure)


def _reseed(layer, seed):
    """Give a stochastic layer (dropout) the same random draws on every forward pass."""
    if hasattr(layer, "rng"):
        layer.rng = np.random.default_rng(seed)


def _input_error(first_layer, grad_x, objective, x, eps):
    """Relative error of the input gradient.

    A layer whose input is not differentiable (token ids: ``differentiable_input = False``)
    must return exactly zero; its input is compared with zero instead of perturbed, since
    ids moved by ``eps`` are not ids.
    """
    if not getattr(first_layer, "differentiable_input", True):
        return relative_error(grad_x, np.zeros_like(grad_x))
    return relative_error(grad_x, numerical_gradient(objective, x, eps))


def check_layer(layer, x, training=False, eps=DEFAULT_EPS, tol=DEFAULT_TOL, seed=0,
                raise_on_failure=True, **options):
    """Check a layer's input gradients and every parameter gradient.

    The layer is built (if needed) in float64 and its parameters are cast to float64.
    ``training`` selects the training-mode forward (dropout, batch statistics). Stochastic
    layers are reseeded before every forward pass so the same mask is used throughout.
    ``options`` go to every forward call (attention's ``attention_mask``, ``use_causal_mask``).

    For a layer of several inputs (``multiple_inputs``), ``x`` is the list of its inputs, each
    cast to float64 and checked on its own, reported as ``"input_0"``, ``"input_1"``...; an
    input whose gradient the layer returns as None (not differentiable, such as a mask) is
    left out. Returns ``{"input": err, "<param>": err, ...}`` (``"input_<i>"`` for several).
    """
    several = getattr(layer, "multiple_inputs", False)
    xs = [np.array(item, dtype=np.float64) for item in x] if several else [
        np.array(x, dtype=np.float64)]
    inputs = xs if several else xs[0]
    if not layer.built:
        shapes = [item.shape[1:] for item in xs]
        layer.build(shapes if several else shapes[0], rng=np.random.default_rng(seed),
                    dtype=np.float64)
    for name in layer.params:
        layer.params[name] = np.ascontiguousarray(layer.params[name], dtype=np.float64)
    layer.dtype = np.dtype(np.float64)

    _reseed(layer, seed)
    y = layer.forward(inputs, training=training, **options)
    projection = np.random.default_rng(seed + 1).standard_normal(y.shape)
    grad_x = layer.backward(projection.copy())
    if several and (not isinstance(grad_x, (list, tuple)) or len(grad_x) != len(xs)):
        raise GradientCheckError(f"layer {layer.label} has {len(xs)} inputs, but its backward "
                                 f"returned {type(grad_x).__name__} instead of a list of "
                                 f"{len(xs)} gradients")
    input_grads = dict(zip([f"input_{i}" for i in range(len(xs))], grad_x)) if several else {
        "input": grad_x}
    analytic = {name: np.array(g, dtype=np.float64) for name, g in layer.grads.items()}

    def objective():
        _reseed(layer, seed)
        return float(np.sum(layer.forward(inputs, training=training, **options) * projection))

    errors = {name: _input_error(layer, grad, objective, item, eps)
              for (name, grad), item in zip(input_grads.items(), xs)
              if grad is not None or not several}
    for name, param in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(objective, param, eps))
    return _verdict(f"layer {layer.label}", errors, tol, raise_on_failure)


def check_network(network, x, y, training=False, eps=DEFAULT_EPS, tol=DEFAULT_TOL, seed=0,
                  raise_on_failure=True):
    """Check the gradient of a whole model's loss (including penalties) for its inputs and every
    trainable parameter: a :class:`~nnscratch.Network`, or a :class:`~nnscratch.Model` with
    ``x`` and ``y`` given as lists (or dicts) for several inputs and outputs.

    The model must use ``dtype="float64"``. Returns ``{"<layer>.<param>": err, ...,
    "input": err}`` (``"input_<name>"`` per input for several).
    """
    if network.dtype != np.float64:
        raise GradientCheckError(
            f"gradient checks need a float64 network, got dtype {network.dtype}; "
            "create it with dtype='float64'"
        )
    xs = [np.array(a, dtype=np.float64) for a in network.prepare_inputs(x)]
    ys = network.prepare_targets(y)
    layers = network.layers

    def objective():
        for layer in layers:
            _reseed(layer, seed)
        return float(network.loss_value(xs, ys, training=training))

    for layer in layers:
        _reseed(layer, seed)
    _, grad_x = network.compute_gradients(xs, ys, training=training, return_input_grad=True)
    grad_x = grad_x if isinstance(grad_x, list) else [grad_x]
    names = ["input"] if len(xs) == 1 else [f"input_{n}" for n in network.input_names]
    errors = {}
    for name, tensor, grad, value in zip(names, network.inputs, grad_x, xs):
        readers = [node.layer for node in network.nodes if tensor in node.inputs]
        differentiable = all(getattr(r, "differentiable_input", True) for r in readers)
        if grad is None:
            grad = np.zeros_like(value)
        errors[name] = (relative_error(grad, numerical_gradient(objective, value, eps))
                        if differentiable else relative_error(grad, np.zeros_like(grad)))
    analytic = {name: g.copy() for name, _, g in network.named_parameters()}
    for name, param, _ in network.named_parameters():
        errors[name] = relative_error(analytic[name], numerical_gradient(objective, param, eps))
    return _verdict("network", errors, tol, raise_on_failure)
