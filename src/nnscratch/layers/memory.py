r"""The memory a layer, a network or a batch will need, checked before any of it is allocated.

A layer knows the shapes of its parameters for an input shape before it draws them
(:meth:`~nnscratch.layers.Layer.param_shapes`), so what building and training will hold is
counted first, and a model too large for the machine is refused at once with a
:class:`~nnscratch.errors.ResourceError` (a ``MemoryError``) that names the layer, the bytes
needed and the bytes available, instead of a raw ``MemoryError`` or the operating system's
out-of-memory killer halfway through. For :math:`P` parameters of :math:`s` bytes each and an
optimizer that keeps :math:`k` arrays per parameter (Adam's two moments: :math:`k = 2`):

.. math::

    \text{bytes}_{\text{network}} = s\, P\, (2 + k)
    \qquad\text{(parameters, gradients, optimizer state)}

A forward pass of :math:`N` samples keeps at least the values each layer holds for its
backward (:meth:`~nnscratch.layers.Layer.forward_values`, :math:`m_l` per sample):

.. math::

    \text{bytes}_{\text{batch}} \ge s\, N \sum_l m_l

Needs under :data:`UNCHECKED_BYTES` are not checked. The memory available is read from
``/proc/meminfo`` (``MemAvailable``), lowered to a cgroup's limit where one is set (a
container); where there is no ``/proc``, from ``os.sysconf`` (free pages, else all physical
pages). Where none of these can be read, nothing is refused.
"""

import copy
import math
import os

import numpy as np

from ..errors import ResourceError

#: Needs below this many bytes are let through without reading the memory available.
UNCHECKED_BYTES = 64 << 20

#: Where Linux says how much memory is available (``MemAvailable``, in KiB).
MEMINFO = "/proc/meminfo"

#: A cgroup's memory limit and use: version 2, then version 1.
CGROUP_FILES = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                 "/sys/fs/cgroup/memory/memory.usage_in_bytes"))

# The most arrays per parameter any built-in optimizer keeps (AMSGrad: three), for the quick
# bound under which a network is not checked at all.
_MOST_SLOTS = 3


# -- what the machine has ------------------------------------------------------------------------

def available_memory():
    """Bytes of physical memory available now, or None where the system does not say."""
    found = _meminfo_available()
    if found is None:
        found = _sysconf_bytes("SC_AVPHYS_PAGES") or _sysconf_bytes("SC_PHYS_PAGES")
    room = _cgroup_room()
    if room is not None:
        found = room if found is None else min(found, room)
    return found


def _meminfo_available():
    try:
        with open(MEMINFO) as lines:
            for line in lines:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024            # given in KiB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _sysconf_bytes(pages_name):
    try:
        pages, page_size = os.sysconf(pages_name), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):                 # not on this system
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None


def _cgroup_room():
    """The bytes a cgroup memory limit leaves (limit - use), or None without a limit."""
    for limit_path, usage_path in CGROUP_FILES:
        try:
            with open(limit_path) as f:
                limit = f.read().strip()
            with open(usage_path) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if not limit.isdigit() or int(limit) >= 1 << 60:          # "max", or v1's "unlimited"
            return None
        return max(int(limit) - usage, 0)
    return None


def format_bytes(count):
    """``count`` bytes in binary units and in full: ``"7.28 TiB (8,000,008,000,000 bytes)"``."""
    value, units = float(count), ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    while value >= 1024 and len(units) > 1:
        value /= 1024
        units.pop(0)
    return f"{value:.3g} {units[0]} ({count:,} bytes)"


def _refuse_beyond(needed, message):
    """Raise ResourceError(``message(available)``) when ``needed`` bytes exceed what is available."""
    if needed <= UNCHECKED_BYTES:
        return
    available = available_memory()
    if available is not None and needed > available:
        raise ResourceError(message(available))


def _where(layer):
    return f"{type(layer).__name__} layer {layer.label}"


def planned_count(layer, input_shape):
    """Scalar parameters ``layer`` will have when built for ``input_shape`` (nothing drawn)."""
    return sum(math.prod(shape) for shape in layer.param_shapes(input_shape).values())


# -- what a layer, a network, a batch need -------------------------------------------------------

def check_layer(layer, input_shape, dtype):
    """Refuse to build ``layer`` when its parameters and their gradients would not fit."""
    count = planned_count(layer, input_shape)
    dtype = np.dtype(dtype)
    needed = 2 * count * dtype.itemsize
    _refuse_beyond(needed, lambda available: (
        f"{_where(layer)} needs {format_bytes(needed)} for its {count:,} {dtype.name} parameters "
        f"and their gradients (inputs shaped (N, {', '.join(map(str, input_shape))})), but only "
        f"{format_bytes(available)} of memory is available"))


def check_network(layers, input_shape, dtype, optimizer=None):
    """Refuse to build a stack of ``layers`` whose parameters, gradients and optimizer state
    would not fit; layers already built count only for the optimizer state they will add."""
    dtype = np.dtype(dtype)
    counts, new, shape = [], 0, tuple(input_shape)
    for layer in layers:
        count = layer.count_params() if layer.built else planned_count(layer, shape)
        new += 0 if layer.built else count
        counts.append(count)
        shape = tuple(layer.compute_output_shape(shape))
    total = sum(counts)
    if (2 + _MOST_SLOTS) * total * dtype.itemsize <= UNCHECKED_BYTES:
        return
    slots = optimizer_slots(optimizer, dtype)
    needed = (2 * new + slots * total) * dtype.itemsize
    largest = layers[counts.index(max(counts))]
    _refuse_beyond(needed, lambda available: (
        f"this network needs {format_bytes(needed)} for its {total:,} {dtype.name} parameters, "
        f"their gradients and {slots} array{'' if slots == 1 else 's'} of optimizer state per parameter "
        f"({type(optimizer).__name__}); its largest layer, {_where(largest)}, has "
        f"{max(counts):,} parameters; only {format_bytes(available)} of memory is available"))


def check_batch(layers, input_shape, rows, dtype):
    """Refuse a forward pass of ``rows`` samples whose kept values alone would not fit.

    Returns ``rows``, the largest batch known to fit (a network then checks again only for a
    larger one).
    """
    dtype = np.dtype(dtype)
    kept, shape = [], tuple(input_shape)
    for layer in layers:
        kept.append(layer.forward_values(shape))
        shape = tuple(layer.compute_output_shape(shape))
    needed = rows * sum(kept) * dtype.itemsize
    largest = layers[kept.index(max(kept))]
    _refuse_beyond(needed, lambda available: (
        f"a forward pass of {rows:,} samples needs at least {format_bytes(needed)} for what the "
        f"layers keep for the backward pass ({_where(largest)} alone "
        f"{format_bytes(rows * max(kept) * dtype.itemsize)}), but only {format_bytes(available)} "
        "of memory is available; use a smaller batch_size"))
    return rows


def optimizer_slots(optimizer, dtype):
    """How many arrays shaped like a parameter ``optimizer`` keeps per parameter (its state).

    Found by two steps of a copy on a one-element parameter (a momentum buffer appears at the
    first step), so every optimizer is counted by what it really keeps; 0 without an optimizer.
    The copy starts with its dicts empty (``state``, scratch buffers): what the optimizer holds
    already is not copied.
    """
    if optimizer is None:
        return 0
    param, grad = np.zeros(1, dtype), np.ones(1, dtype)
    try:
        emptied = {id(value): {} for value in vars(optimizer).values() if isinstance(value, dict)}
        probe = copy.deepcopy(optimizer, memo=emptied)
        with np.errstate(all="ignore"):
            for _ in range(2):
                probe.step([("probe", param, grad)])
        state = probe.state.get("probe", {})
    except Exception:             # a user's optimizer that cannot step on a copy: not counted
        return 0
    return sum(1 for value in state.values() if np.shape(value) == param.shape)
