"""The memory budget of a load: no parameter array bigger than the bytes the file holds.

A forged architecture (``Dense(10**9)``) must fail before it allocates memory, so while a
loaded network is built, :class:`AllocationGuard` wraps each layer's ``init_param`` (and the
layers inside it, found with :meth:`~nnscratch.layers.base.Layer.sublayers`): before an array
is allocated its size is checked against what is left of the file's tensor bytes. After each
top-level layer's ``build`` its parameters and buffers are counted too. The wrappers are
removed when the build is over.
"""

import math


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
        self.check.fail(f"layer {layer.label} would need more bytes of parameters than the "
                        f"{self.total} bytes of tensors the file holds (a forged or corrupted "
                        "architecture)")

    def remove(self):
        """Take the wrappers off again."""
        for layer in self.patched:
            for attr in ("init_param", "build"):
                layer.__dict__.pop(attr, None)
