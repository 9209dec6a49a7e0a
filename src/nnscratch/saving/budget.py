r"""The memory budget of a load: parameters bounded by the file, activations by a limit.

Both checks walk the *steps* of one sample through the model: ``(where, layer, input shape,
output shape)`` for each layer call, from :func:`chain_steps` for a stack of layers, and for a
graph from its symbolic layer calls (:func:`nnscratch.saving.graph.build_graph`; a layer of
several inputs has a list of input shapes there).

Parameters. A forged architecture (``Dense(10**9)``) must fail before it allocates memory.
With the input shape known, :func:`check_parameters` counts what the layers will create
(:meth:`~nnscratch.layers.base.Layer.param_shapes` for an input shape, once per layer however
often it is called) against the file's tensor bytes before anything is built. While a loaded network is built,
:class:`AllocationGuard` wraps each layer's ``init_param`` (and the layers inside it, found
with :meth:`~nnscratch.layers.base.Layer.sublayers`): before an array is allocated its size is
checked against what is left of the file's tensor bytes. After each top-level layer's
``build`` its parameters and buffers are counted too. The wrappers are removed when the build
is over.

Activations. A layer without parameters can still ask for any amount of memory when it runs: a
1 kB file with ``UpSampling2D(size=(60000, 60000))`` would need 54 GiB per sample at the first
``predict``. :func:`check_activations` follows the sample shape through the layers
(``compute_output_shape``, which allocates nothing) and adds up, per sample,

.. math::

    \text{bytes} = \text{itemsize} \Big( \prod \text{input shape}
        + \sum_{\text{layers}} \big( \prod \text{output shape} + \text{workspace} \big) \Big)

where a layer's workspace is an estimate of what it holds besides its output
(:func:`workspace`): the padded input of a convolution or pooling layer, the unrolled windows
of a convolution (``im2col``: channels x kernel positions x output positions), the gate
pre-activations of a recurrent layer (steps x gates x units), and for a layer of several
inputs what its forward keeps besides the output (attention: queries, keys, values and the
heads x T_q x T_k attention weights). Loading refuses a network over
:data:`MAX_ACTIVATION_BYTES` per sample (1 GiB) unless the caller raises the limit
(``ns.load(path, max_activation_bytes=...)``). A file without an input shape (an unbuilt
network) is measured on the smallest input its layers accept (:func:`smallest_input_bytes`).
"""

import math

from ..errors import NNScratchError

MAX_ACTIVATION_BYTES = 1 << 30      # per sample; ns.load(path, max_activation_bytes=...) changes it
PROBE_RANKS = (1, 2, 3)             # sample ranks tried for an unbuilt network: (F,), (C, L), (C, H, W)
PROBE_SIZES = tuple(2 ** k for k in range(11))   # sizes 1, 2, 4, ..., 1024 along every axis


class AllocationGuard:
    """Refuses to build parameters bigger than the tensor bytes the file holds.

    Parameters
    ----------
    check : FileCheck
        Fails naming the file (:class:`~nnscratch.saving.common.FileCheck`).
    budget : int
        Bytes of tensors in the file.
    itemsize : int
        Bytes per value of the network's dtype.
    """

    def __init__(self, check, budget, itemsize):
        self.check = check
        self.total = budget       # bytes of tensors in the file
        self.requested = 0        # bytes asked of init_param so far
        self.held = 0             # bytes of parameters and buffers of the layers built so far
        self.itemsize = itemsize
        self.patched = []

    def install(self, layers):
        """Wrap the methods of ``layers`` and of every layer inside them."""
        seen = set()
        for layer in layers:
            seen.add(id(layer))
            self.patch(layer, count_after_build=True)
        for layer in layers:
            for inner in layer.sublayers():
                if id(inner) not in seen:
                    seen.add(id(inner))
                    self.patch(inner, count_after_build=False)

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
        """Fail: ``layer`` would need more bytes than the file holds."""
        refuse_parameters(self.check, layer, self.total)

    def remove(self):
        """Take the wrappers off again."""
        for layer in self.patched:
            for attr in ("init_param", "build"):
                layer.__dict__.pop(attr, None)


def refuse_parameters(check, layer, total):
    """Fail: ``layer`` would need more bytes of parameters than the ``total`` the file holds."""
    check.fail(f"layer {layer.label} would need more bytes of parameters than the {total} "
               "bytes of tensors the file holds (a forged or corrupted architecture)")


def chain_steps(layers, input_shape):
    """The steps ``(where, layer, input shape, output shape)`` of one sample shaped
    ``input_shape`` through a stack of ``layers``, one at a time (an iterator: a shape a layer
    refuses raises when that step is reached)."""
    shape = tuple(input_shape)
    for index, layer in enumerate(layers):
        following = tuple(layer.compute_output_shape(shape))
        yield f"layer {index}", layer, shape, following
        shape = following


def check_parameters(steps, itemsize, total, check):
    """Fail, before anything is built, when the parameters the unbuilt layers of ``steps``
    create need more than the ``total`` bytes of tensors in the file."""
    needed, counted, steps = 0, set(), iter(steps)
    while True:
        try:
            step = next(steps, None)
            if step is None:
                return
            layer, in_shape = step[1], step[2]
            if id(layer) in counted:           # a shared layer: its parameters once
                continue
            counted.add(id(layer))
            shapes_of = getattr(layer, "param_shapes", None)   # without it: counted in build
            shapes = shapes_of(in_shape) if shapes_of is not None else {}
            needed += sum(math.prod(s) for s in shapes.values()) * itemsize
        except NNScratchError:
            return          # a shape a layer refuses: building says so, naming the layer
        if needed > total:
            refuse_parameters(check, layer, total)


# -- activations -------------------------------------------------------------------------------

def _padded_size(channels, sizes, pads):
    """``channels x prod(n + p0 + p1)``: one sample padded as ``pads`` says."""
    return channels * math.prod(n + p0 + p1 for n, (p0, p1) in zip(sizes, pads))


def workspace(layer, in_shape, out_shape):
    """Values ``layer`` holds besides its output while it runs on one sample (an estimate).

    - a convolution or pooling layer (``kernel_size`` or ``pool_size``): its padded input (for a
      transposed convolution, the uncropped output), and for a convolution the unrolled windows,
      ``kernel positions x max(C_in x output positions, C_out x input positions)``;
    - a recurrent layer, alone or inside a wrapper (``gates`` and ``units``): the gate
      pre-activations of every step, ``T x gates x units``.
    """
    total = 0
    window = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    if isinstance(window, tuple) and len(in_shape) == len(out_shape) == len(window) + 1:
        explicit = getattr(layer, "explicit_padding", None)
        pads = explicit(in_shape) if explicit is not None else ((0, 0),) * len(window)
        total += max(_padded_size(in_shape[0], in_shape[1:], pads),
                     _padded_size(out_shape[0], out_shape[1:], pads))
        if getattr(layer, "kernel_size", None) is not None:
            total += math.prod(window) * max(in_shape[0] * math.prod(out_shape[1:]),
                                             out_shape[0] * math.prod(in_shape[1:]))
    if getattr(layer, "multiple_inputs", False):
        # several inputs: what the forward keeps besides its output (attention's weights)
        return max(0, layer.forward_values(in_shape) - math.prod(out_shape))
    for inner in (layer, *layer.sublayers()):
        gates, units = getattr(inner, "gates", None), getattr(inner, "units", None)
        if isinstance(gates, int) and isinstance(units, int) and len(in_shape) == 2:
            total += in_shape[0] * gates * units
    return total


def steps_bytes(steps, input_values, itemsize):
    """``[(where, layer, bytes so far), ...]`` along ``steps``, from ``input_values`` values
    of the inputs."""
    total, found = input_values, []
    for where, layer, in_shape, out_shape in steps:
        total += math.prod(out_shape) + workspace(layer, in_shape, out_shape)
        found.append((where, layer, total * itemsize))
    return found


def layer_bytes(layers, input_shape, itemsize):
    """``[(where, layer, bytes so far), ...]`` for one sample shaped ``input_shape`` through a
    stack of ``layers``."""
    return steps_bytes(chain_steps(layers, input_shape), math.prod(input_shape), itemsize)


def activation_bytes(layers, input_shape, itemsize):
    """Bytes of activations (and workspaces) one sample shaped ``input_shape`` needs."""
    steps = layer_bytes(layers, input_shape, itemsize)
    return steps[-1][2] if steps else math.prod(input_shape) * itemsize


def smallest_input_bytes(layers, itemsize):
    """``(input shape, bytes)`` of the cheapest probe input the layers accept, or None.

    Probes every rank in :data:`PROBE_RANKS` with equal sizes from :data:`PROBE_SIZES`; for
    each rank the first size the layers accept counts.
    """
    best = None
    for rank in PROBE_RANKS:
        for size in PROBE_SIZES:
            shape = (size,) * rank
            try:
                needed = activation_bytes(layers, shape, itemsize)
            except Exception:   # the layers refuse this shape (too small, wrong rank): next one
                continue
            if best is None or needed < best[1]:
                best = (shape, needed)
            break
    return best


def _amount(nbytes):
    """``1073741824 bytes (1 GiB)``: bytes, and GiB when that many."""
    return f"{nbytes} bytes" + (f" ({nbytes / 2 ** 30:.3g} GiB)" if nbytes >= 2 ** 30 else "")


def check_activations(layers, input_shape, itemsize, limit, check):
    """Fail (naming the layer) when one sample needs more than ``limit`` bytes of activations
    going through a stack of ``layers``.

    ``input_shape`` is the network's (None for an unbuilt network: then the smallest input its
    layers accept is measured); ``limit`` None means no limit.
    """
    if limit is None:
        return
    probed = ""
    if input_shape is None:
        found = smallest_input_bytes(layers, itemsize)
        if found is None:
            return          # no small input fits: nothing to measure before the first predict
        input_shape = found[0]
        probed = f" (even for the smallest input it accepts, samples shaped {input_shape})"
    _check_totals(layer_bytes(layers, input_shape, itemsize), limit, probed, check)


def check_graph_activations(steps, input_shapes, itemsize, limit, check):
    """:func:`check_activations` for a graph: its ``steps`` from inputs shaped ``input_shapes``."""
    if limit is not None:
        values = sum(math.prod(shape) for shape in input_shapes)
        _check_totals(steps_bytes(steps, values, itemsize), limit, "", check)


def _check_totals(totals, limit, probed, check):
    """Fail at the first step whose running total of bytes is over ``limit``."""
    for where, layer, total in totals:
        if total > limit:
            check.fail(f"{where} ({type(layer).__name__} {layer.label!r}) brings the "
                       f"activations of one sample to {_amount(total)}{probed}, over the limit "
                       f"of {_amount(limit)} per sample (a forged or corrupted architecture, or "
                       "a network this large: load(..., max_activation_bytes=...) raises the "
                       "limit)")
