r"""Activations as ONNX nodes: one small converter per built-in activation.

Each converter takes the builder, the input tensor name, the activation object and a name
hint, and returns the output tensor name. Where ONNX (opset 17) has the function as one
operator it is used; the others are written out from their formulas:

==================  ===========================================================================
activation          ONNX
==================  ===========================================================================
identity            nothing (the input passes through)
binary_step         ``Cast(GreaterOrEqual(x, 0))``, so :math:`f(0) = 1` as in nnscratch
sigmoid, tanh       ``Sigmoid``, ``Tanh``
hard_sigmoid        ``HardSigmoid(alpha=1/6, beta=1/2)`` (PyTorch's definition)
log_sigmoid         :math:`-\operatorname{Softplus}(-x)`
hard_tanh, relu6    ``Clip(x, -1, 1)``, ``Clip(x, 0, 6)``
tanhshrink          :math:`x - \tanh x`
softsign, arctan    ``Softsign``, ``Atan``
relu, leaky_relu    ``Relu``, ``LeakyRelu(alpha)``
elu, selu, celu     ``Elu(alpha)``, ``Selu`` (nnscratch's constants), ``Celu(alpha)``
gelu                exact: :math:`\tfrac12 x (1 + \operatorname{erf}(x / \sqrt 2))` with ``Erf``
gelu_tanh           :math:`\tfrac12 x (1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))` (also
                    ``gelu`` with ``approximate="tanh"``)
silu                :math:`x \, \sigma(x)`
hard_swish          ``HardSwish``
mish                :math:`x \tanh(\operatorname{Softplus}(x))`
softplus            ``Softplus``; with ``beta``: :math:`\operatorname{Softplus}(\beta x) / \beta`
squareplus          :math:`(x + \sqrt{x^2 + b}) / 2`
bent_identity       :math:`(\sqrt{x^2 + 1} - 1) / 2 + x`
softshrink          ``Shrink(lambd, bias=lambd)``
hardshrink          ``Shrink(lambd, bias=0)``
gaussian            :math:`\exp(-x^2)`
softmax             ``Softmax(axis=-1)``
log_softmax         ``LogSoftmax(axis=-1)``
softmin             ``Softmax(-x, axis=-1)``
==================  ===========================================================================

The formulas are the textbook forms, not the cancellation-free ones the NumPy kernels use
(for example ``squareplus`` at large negative ``x``): they agree to float32 rounding for inputs
of ordinary size. A user-registered activation (:func:`nnscratch.activations.register`) is
NumPy code that ONNX cannot run; it raises :class:`~nnscratch.errors.ExportError`, as does
any activation class defined outside nnscratch.
"""

import math

from ... import activations as act_module
from ...errors import ExportError


def _unary(op_type, **attributes):
    def convert(b, x, activation, hint):
        return b.op(op_type, [x], hint, **attributes)
    convert.__doc__ = f"``{op_type}`` node."
    return convert


def _identity(b, x, activation, hint):
    """:math:`f(x) = x`: no node."""
    return x


def _binary_step(b, x, activation, hint):
    """:math:`f(x) = [x \\ge 0]` as 0.0 / 1.0."""
    return b.op("Cast", [b.op("GreaterOrEqual", [x, b.scalar(0.0)], hint)], hint, to=b.FLOAT)


def _clip(low, high):
    def convert(b, x, activation, hint):
        return b.op("Clip", [x, b.scalar(low), b.scalar(high)], hint)
    convert.__doc__ = f":math:`\\min(\\max(x, {low:g}), {high:g})`."
    return convert


def _leaky_relu(b, x, activation, hint):
    """``LeakyRelu``: :math:`x` for :math:`x > 0`, else :math:`\\alpha x`."""
    return b.op("LeakyRelu", [x], hint, alpha=activation.alpha)


def _elu(b, x, activation, hint):
    """``Elu``: :math:`\\alpha(e^x - 1)` for :math:`x \\le 0`."""
    return b.op("Elu", [x], hint, alpha=activation.alpha)


def _selu(b, x, activation, hint):
    """``Selu`` with the self-normalizing constants nnscratch uses."""
    return b.op("Selu", [x], hint, alpha=activation.ALPHA, gamma=activation.SCALE)


def _celu(b, x, activation, hint):
    """``Celu``: :math:`\\max(0, x) + \\min(0, \\alpha(e^{x/\\alpha} - 1))`."""
    return b.op("Celu", [x], hint, alpha=activation.alpha)


def _hard_sigmoid(b, x, activation, hint):
    """``HardSigmoid``: :math:`\\max(0, \\min(1, x/6 + 1/2))`."""
    return b.op("HardSigmoid", [x], hint, alpha=1.0 / 6.0, beta=0.5)


def _log_sigmoid(b, x, activation, hint):
    """:math:`\\log\\sigma(x) = -\\operatorname{softplus}(-x)`."""
    return b.op("Neg", [b.op("Softplus", [b.op("Neg", [x], hint)], hint)], hint)


def _tanhshrink(b, x, activation, hint):
    """:math:`x - \\tanh x`."""
    return b.op("Sub", [x, b.op("Tanh", [x], hint)], hint)


def _silu(b, x, activation, hint):
    """:math:`x \\sigma(x)`."""
    return b.op("Mul", [x, b.op("Sigmoid", [x], hint)], hint)


def _mish(b, x, activation, hint):
    """:math:`x \\tanh(\\operatorname{softplus}(x))`."""
    return b.op("Mul", [x, b.op("Tanh", [b.op("Softplus", [x], hint)], hint)], hint)


def _softplus(b, x, activation, hint):
    """:math:`\\log(1 + e^{\\beta x}) / \\beta`."""
    if activation.beta == 1.0:
        return b.op("Softplus", [x], hint)
    scaled = b.op("Mul", [x, b.scalar(activation.beta)], hint)
    return b.op("Div", [b.op("Softplus", [scaled], hint), b.scalar(activation.beta)], hint)


def _square_plus(b, x, constant, hint):
    """:math:`\\sqrt{x^2 + c}`."""
    return b.op("Sqrt", [b.op("Add", [b.op("Mul", [x, x], hint), b.scalar(constant)], hint)], hint)


def _squareplus(b, x, activation, hint):
    """:math:`(x + \\sqrt{x^2 + b}) / 2`."""
    root = _square_plus(b, x, activation.b, hint)
    return b.op("Mul", [b.op("Add", [x, root], hint), b.scalar(0.5)], hint)


def _bent_identity(b, x, activation, hint):
    """:math:`(\\sqrt{x^2 + 1} - 1) / 2 + x`."""
    root = _square_plus(b, x, 1.0, hint)
    half = b.op("Mul", [b.op("Sub", [root, b.scalar(1.0)], hint), b.scalar(0.5)], hint)
    return b.op("Add", [half, x], hint)


def _softshrink(b, x, activation, hint):
    """``Shrink``: :math:`x \\mp \\lambda` outside :math:`[-\\lambda, \\lambda]`, else 0."""
    return b.op("Shrink", [x], hint, lambd=activation.lambd, bias=activation.lambd)


def _hardshrink(b, x, activation, hint):
    """``Shrink`` with no bias: :math:`x` outside :math:`[-\\lambda, \\lambda]`, else 0."""
    return b.op("Shrink", [x], hint, lambd=activation.lambd, bias=0.0)


def _gaussian(b, x, activation, hint):
    """:math:`e^{-x^2}`."""
    return b.op("Exp", [b.op("Neg", [b.op("Mul", [x, x], hint)], hint)], hint)


def _gelu_exact(b, x, hint):
    """:math:`\\tfrac12 x (1 + \\operatorname{erf}(x / \\sqrt 2))`."""
    erf = b.op("Erf", [b.op("Mul", [x, b.scalar(1.0 / math.sqrt(2.0))], hint)], hint)
    half_x = b.op("Mul", [x, b.scalar(0.5)], hint)
    return b.op("Mul", [half_x, b.op("Add", [erf, b.scalar(1.0)], hint)], hint)


def _gelu_tanh(b, x, hint):
    """:math:`\\tfrac12 x (1 + \\tanh(\\sqrt{2/\\pi}(x + 0.044715 x^3)))`."""
    cube = b.op("Mul", [b.op("Mul", [x, x], hint), x], hint)
    inner = b.op("Add", [x, b.op("Mul", [cube, b.scalar(0.044715)], hint)], hint)
    u = b.op("Mul", [inner, b.scalar(math.sqrt(2.0 / math.pi))], hint)
    half_x = b.op("Mul", [x, b.scalar(0.5)], hint)
    return b.op("Mul", [half_x, b.op("Add", [b.op("Tanh", [u], hint), b.scalar(1.0)], hint)], hint)


def _gelu(b, x, activation, hint):
    """GELU, exact or with the tanh approximation, as the activation says."""
    if activation.approximate == "tanh":
        return _gelu_tanh(b, x, hint)
    return _gelu_exact(b, x, hint)


def _softmin(b, x, activation, hint):
    """:math:`\\operatorname{softmax}(-x)` over the last axis."""
    return b.op("Softmax", [b.op("Neg", [x], hint)], hint, axis=-1)


# name -> converter(builder, x, activation, hint) -> output name
CONVERTERS = {
    "identity": _identity,
    "binary_step": _binary_step,
    "sigmoid": _unary("Sigmoid"),
    "hard_sigmoid": _hard_sigmoid,
    "log_sigmoid": _log_sigmoid,
    "tanh": _unary("Tanh"),
    "hard_tanh": _clip(-1.0, 1.0),
    "tanhshrink": _tanhshrink,
    "softsign": _unary("Softsign"),
    "arctan": _unary("Atan"),
    "relu": _unary("Relu"),
    "relu6": _clip(0.0, 6.0),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "selu": _selu,
    "celu": _celu,
    "gelu": _gelu,
    "gelu_tanh": _gelu,
    "silu": _silu,
    "hard_swish": _unary("HardSwish"),
    "mish": _mish,
    "softplus": _softplus,
    "squareplus": _squareplus,
    "bent_identity": _bent_identity,
    "softshrink": _softshrink,
    "hardshrink": _hardshrink,
    "gaussian": _gaussian,
    "softmax": _unary("Softmax", axis=-1),
    "log_softmax": _unary("LogSoftmax", axis=-1),
    "softmin": _softmin,
}


def exportable(activation):
    """Whether ``activation`` (an Activation object) has an ONNX form."""
    return (type(activation).__module__.startswith(act_module.__name__ + ".")
            and not isinstance(activation, act_module.UserActivation)
            and activation.name in CONVERTERS)


def convert_activation(b, x, activation, hint, where):
    """Append ``activation`` applied to tensor ``x``; ``where`` names the layer for errors."""
    if not exportable(activation):
        if isinstance(activation, act_module.UserActivation):
            why = "it is a user-registered NumPy function, which ONNX cannot run"
        else:
            why = "it has no ONNX form here (only nnscratch's built-in activations export)"
        raise ExportError(f"cannot export activation '{activation.name}' of {where}: {why}; "
                          f"exportable activations: {', '.join(sorted(CONVERTERS))}")
    return CONVERTERS[activation.name](b, x, activation, hint)
