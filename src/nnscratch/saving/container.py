"""The safetensors container: named tensors plus string metadata, read with full validation.

Layout (the format of the ``safetensors`` package, so other tools read our weights)::

    [8 bytes]  N, the header length, unsigned little-endian
    [N bytes]  UTF-8 JSON object, padded with spaces so that 8 + N is a multiple of 8:
               {"__metadata__": {str: str, ...},
                "<name>": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]}, ...}
    [rest]     the data section: the tensors' raw little-endian bytes, C order; offsets count
               from the first byte after the header; the tensors tile it with no gap or overlap

The checksum: :func:`encode` stores ``__metadata__["tensors_sha256"]``, the SHA-256
(:func:`hashlib.sha256`, 64 lowercase hex digits) of the whole data section, that is of the
file's bytes from offset ``8 + N`` to its end. Reading verifies it when it is there, so a flipped
bit in any weight is found; files written by other tools have none and load unverified.

:func:`read` trusts nothing and reads in order, never more than it has checked: it opens only a
regular file (not a folder, a device such as ``/dev/zero``, a FIFO or a socket), reads the
8-byte length and checks it against the file's real size (:func:`os.fstat`) and the
:data:`MAX_HEADER_BYTES` cap, reads the header and counts its JSON structure (braces, brackets,
commas) before parsing it, rejects JSON that is not strict (duplicate keys, ``NaN``) and more
than :data:`MAX_TENSORS` entries, checks each entry's dtype against a whitelist, its shape and
offsets for type and range, its byte length against ``prod(shape) * itemsize``, and that the
entries tile the data section exactly; only then does it read the data section and verify the
checksum. Nothing is ever allocated from a declared size: tensors are views
(:func:`numpy.frombuffer`) on the bytes actually read. Every problem raises
:class:`~nnscratch.errors.ModelFileError` naming the file and what is wrong.
"""

import hashlib
import json
import math
import os
import stat

import numpy as np

from ..checks import is_whole
from ..errors import ConfigError, ModelFileError
from .common import FileCheck, loads_strict, short

MAX_HEADER_BYTES = 32 * 1024 * 1024    # a header of 100,000 tensors takes about 15 MB
MAX_TENSORS = 100_000                  # entries in one file
MAX_JSON_OBJECTS = 4 * MAX_TENSORS     # '{' in the header text, the architecture's included
MAX_JSON_ITEMS = 20 * MAX_TENSORS      # '{', '[' and ',' together: bounds what parsing builds
MAX_NDIM = 32                          # numpy's limit on array dimensions
METADATA_KEY = "__metadata__"
CHECKSUM_KEY = "tensors_sha256"        # in __metadata__: SHA-256 of the data section
_HEX = frozenset("0123456789abcdef")

# safetensors dtype name -> little-endian numpy dtype (no bfloat16/float8: numpy lacks them)
DTYPES = {
    "BOOL": np.dtype("?"), "U8": np.dtype("u1"), "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"), "I32": np.dtype("<i4"), "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8"),
}
_NAME_OF = {(dt.kind, dt.itemsize): name for name, dt in DTYPES.items()}


def dtype_name(dtype):
    """The safetensors name (``"F32"``...) of a numpy dtype, or ConfigError if it has none."""
    dtype = np.dtype(dtype)
    name = _NAME_OF.get((dtype.kind, dtype.itemsize))
    if name is None:
        raise ConfigError(f"cannot store arrays of dtype {dtype} in a model file; supported: "
                          f"{', '.join(DTYPES)}")
    return name


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def encode(tensors, metadata):
    """The header bytes and the tensors' byte buffers of a file holding ``tensors``.

    ``tensors`` is a list of ``(name, array)`` pairs, stored in that order; ``metadata`` a dict
    of strings; :data:`CHECKSUM_KEY` is added to it (replaced if it is there). Returns
    ``[header, buffer, buffer, ...]``, ready for ``write_atomic``.
    """
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ConfigError("safetensors metadata must map strings to strings")
    header = {METADATA_KEY: {k: v for k, v in metadata.items() if k != CHECKSUM_KEY}}
    buffers, offset, digest = [], 0, hashlib.sha256()
    for name, array in tensors:
        if not isinstance(name, str) or name == METADATA_KEY:
            raise ConfigError(f"invalid tensor name {name!r}")
        if name in header:
            raise ConfigError(f"two tensors are named {name!r}; tensor names must be unique")
        array = np.asarray(array)
        little = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
        data = np.ascontiguousarray(array, dtype=little)
        header[name] = {"dtype": dtype_name(array.dtype), "shape": list(array.shape),
                        "data_offsets": [offset, offset + data.nbytes]}
        offset += data.nbytes
        buffers.append(memoryview(data).cast("B") if data.nbytes else b"")
        digest.update(buffers[-1])
    header[METADATA_KEY][CHECKSUM_KEY] = digest.hexdigest()
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    raw = text.encode("utf-8")
    raw += b" " * (-len(raw) % 8)      # 8 + N stays a multiple of 8, as safetensors does
    return [len(raw).to_bytes(8, "little"), raw, *buffers]


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def _opened(path):
    """``(file object, name, size)`` of a regular file opened for reading, or ModelFileError.

    ``O_NONBLOCK`` keeps the open of a FIFO from waiting for a writer; the file's type is then
    checked on the open descriptor (:func:`os.fstat`), so nothing can swap it in between.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise ModelFileError(f"a model file path must be a str or os.PathLike, got "
                             f"{type(path).__name__} {path!r}")
    name = os.fsdecode(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ModelFileError(f"no model file at {name!r}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{name!r} is a folder, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {name!r}: {exc.strerror or exc}") from exc
    info = os.fstat(fd)
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
        raise ModelFileError(f"{name!r} is {kind}, not a model file")
    return os.fdopen(fd, "rb", buffering=0), name, info.st_size


def read(path):
    """``(tensors, metadata)`` of a safetensors file, read in checked steps; see :func:`parse`."""
    handle, name, size = _opened(path)
    check = FileCheck(name)

    def read_exactly(count):
        buffer = bytearray(count)
        view, got = memoryview(buffer), 0
        while got < count:
            n = handle.readinto(view[got:])
            if not n:
                check.fail(f"the file ended {count - got} bytes early: it changed while it was "
                           "being read")
            got += n
        return buffer

    with handle:
        return _decode(size, read_exactly, check)


def parse(data, source="<bytes>"):
    """Validate and decode a safetensors byte string.

    Returns ``(tensors, metadata)``: a dict ``name -> read-only array`` (views on ``data``,
    little-endian) in the header's order, and the ``__metadata__`` dict of strings, or None
    when the file has none. A checksum in the metadata has been verified.
    """
    view, position = memoryview(data).cast("B"), 0

    def next_bytes(count):
        nonlocal position
        position += count
        return view[position - count:position]

    return _decode(len(view), next_bytes, FileCheck(source))


def _decode(size, read, check):
    """The steps of :func:`parse` on a file of ``size`` bytes whose bytes ``read(n)`` gives in order."""
    fail = check.fail
    if size < 8:
        fail(f"the file has {size} bytes, fewer than the 8-byte header length that starts "
             "every model file")
    header_len = _header_length(read(8), size, fail)
    header = _header(read(header_len), check)
    metadata = _metadata(header.pop(METADATA_KEY, None), fail)
    _check_count(len(header), fail)
    data_len = size - 8 - header_len
    entries = [(name, *_check_entry(name, entry, data_len, fail))
               for name, entry in header.items()]
    _check_tiling(entries, data_len, fail)
    data = read(data_len)
    _check_sum(metadata, data, fail)
    return _views(data, entries, fail), metadata


def _header_length(first, size, fail):
    """N from the first 8 bytes, checked against the bytes that follow and the size cap."""
    header_len = int.from_bytes(first, "little")
    if header_len > size - 8:
        fail(f"the header length field says {header_len} bytes, but only {size - 8} bytes "
             "follow it (the file is truncated or not a model file)")
    if header_len > MAX_HEADER_BYTES:
        fail(f"the header length {header_len} exceeds the {MAX_HEADER_BYTES}-byte limit")
    return header_len


def _header(raw, check):
    """The header: UTF-8 text of one strict JSON object, its structure counted before parsing."""
    try:
        text = str(raw, "utf-8")
    except UnicodeDecodeError as exc:
        check.fail(f"the header is not UTF-8 text ({exc.reason} at byte {8 + exc.start})")
    if not text.startswith("{"):
        check.fail("the header does not start with '{': not a safetensors/nnscratch model file")
    _check_count(text.count('"data_offsets"'), check.fail)   # quick; counted again once parsed
    objects = text.count("{")
    items = objects + text.count("[") + text.count(",")
    if objects > MAX_JSON_OBJECTS or items > MAX_JSON_ITEMS:
        check.fail(f"the header holds {objects} JSON objects and {items} JSON values, more than "
                   f"the {MAX_JSON_OBJECTS} and {MAX_JSON_ITEMS} that {MAX_TENSORS} tensor "
                   "entries and their architecture may need (a forged header)")
    header = loads_strict(text, "header", check.source)
    if not isinstance(header, dict):
        check.fail(f"the header must be a JSON object, got {type(header).__name__}")
    return header


def _check_count(entries, fail):
    """Fail when the header lists more than :data:`MAX_TENSORS` tensors."""
    if entries > MAX_TENSORS:
        fail(f"the header lists {entries} tensors, more than the {MAX_TENSORS} tensor entries a "
             "model file may hold")


def _check_sum(metadata, data, fail):
    """Verify the data section against :data:`CHECKSUM_KEY` when the metadata has one."""
    if metadata is None or CHECKSUM_KEY not in metadata:
        return
    stored = metadata[CHECKSUM_KEY]
    if len(stored) != 64 or not set(stored) <= _HEX:
        fail(f"{METADATA_KEY} {CHECKSUM_KEY} must be 64 lowercase hex digits (a SHA-256), got "
             f"{short(stored, 80)}")
    if hashlib.sha256(data).hexdigest() != stored:
        fail(f"checksum mismatch: the SHA-256 of the tensor bytes is not the {CHECKSUM_KEY} "
             "stored with them, so the weights are not those that were saved (the file is "
             "corrupted; a tool that changed the weights on purpose must remove that key)")


def _metadata(metadata, fail):
    """The ``__metadata__`` entry: None, or an object of strings."""
    if metadata is not None:
        if not isinstance(metadata, dict):
            fail(f"{METADATA_KEY} must be a JSON object, got {type(metadata).__name__}")
        for key, value in metadata.items():
            if not isinstance(value, str):
                fail(f"{METADATA_KEY} values must be strings, but {key!r} holds a "
                     f"{type(value).__name__}")
    return metadata


def _views(data, entries, fail):
    """``{name: read-only array}``, each a view on ``data`` (nothing allocated from a size)."""
    tensors = {}
    for name, dtype, shape, begin, end in entries:
        count = (end - begin) // dtype.itemsize
        try:
            if count == 0:
                array = np.zeros(shape, dtype)    # no element: nothing is allocated
            else:
                array = np.frombuffer(data, dtype=dtype, count=count,
                                      offset=begin).reshape(shape)
        except (ValueError, MemoryError) as exc:
            fail(f"tensor {name!r} of shape {shape} cannot be represented: {short(exc)}")
        array.flags.writeable = False
        tensors[name] = array
    return tensors


def _check_entry(name, entry, data_len, fail):
    """``(dtype, shape, begin, end)`` of one header entry, or fail saying what is wrong."""
    label = f"tensor {short(name, 80)}"
    if not isinstance(entry, dict):
        fail(f"{label}: its header entry must be a JSON object, got {type(entry).__name__}")
    keys = set(entry)
    expected = {"dtype", "shape", "data_offsets"}
    if keys != expected:
        missing, extra = sorted(expected - keys), sorted(keys - expected)
        fail(f"{label}: its header entry needs exactly the keys dtype, shape, data_offsets"
             + (f"; missing {', '.join(missing)}" if missing else "")
             + (f"; unexpected {', '.join(map(repr, extra))}" if extra else ""))
    dtype_str = entry["dtype"]
    if not isinstance(dtype_str, str) or dtype_str not in DTYPES:
        fail(f"{label}: dtype {short(dtype_str, 40)} is not one of {', '.join(DTYPES)}")
    dtype = DTYPES[dtype_str]
    shape = entry["shape"]
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(is_whole(s) and s >= 0 for s in shape)):
        fail(f"{label}: shape must be a list of at most {MAX_NDIM} non-negative integers, "
             f"got {short(shape, 80)}")
    offsets = entry["data_offsets"]
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(is_whole(o) and o >= 0 for o in offsets)):
        fail(f"{label}: data_offsets must be two non-negative integers [begin, end], got "
             f"{short(offsets, 80)}")
    begin, end = offsets
    if begin > end:
        fail(f"{label}: data_offsets [{begin}, {end}] end before they begin")
    if end > data_len:
        fail(f"{label}: data_offsets [{begin}, {end}] run past the end of the data section, "
             f"which has {data_len} bytes")
    expected_bytes = math.prod(shape) * dtype.itemsize
    if end - begin != expected_bytes:
        fail(f"{label}: shape {shape} of {dtype_str} needs {expected_bytes} bytes, but "
             f"data_offsets [{begin}, {end}] hold {end - begin}")
    return dtype, tuple(shape), begin, end


def _check_tiling(entries, data_len, fail):
    """The tensors must cover the data section exactly: no overlap, no gap, nothing after."""
    position, previous = 0, None
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin < position:
            fail(f"tensor {short(name, 80)} (bytes {begin}..{end}) overlaps tensor "
                 f"{short(previous, 80)} (which ends at byte {position})")
        if begin > position:
            fail(f"the data section has a gap of {begin - position} unused bytes at offset "
                 f"{position}")
        if end > begin:
            position, previous = end, name
    if position != data_len:
        fail(f"the tensors cover {position} bytes but the data section has {data_len} "
             "(trailing bytes)")

