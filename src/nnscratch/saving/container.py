"""The safetensors container: named tensors plus string metadata, read with full validation.

Layout (the format of the ``safetensors`` package, so other tools read our weights)::

    [8 bytes]  N, the header length, unsigned little-endian
    [N bytes]  UTF-8 JSON object, padded with spaces so that 8 + N is a multiple of 8:
               {"__metadata__": {str: str, ...},
                "<name>": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]}, ...}
    [rest]     the tensors' raw little-endian bytes, C order; offsets count from the first
               byte after the header; the tensors tile the data section with no gap or overlap

:func:`read` trusts nothing: it checks the length field against the real file size (and a
100 MB cap) before reading the header, rejects JSON that is not strict (duplicate keys,
``NaN``), checks each entry's dtype against a whitelist, its shape and offsets for type and
range, its byte length against ``prod(shape) * itemsize``, and that the entries tile the data
section exactly. Nothing is ever allocated from a declared size: tensors are views
(:func:`numpy.frombuffer`) on the bytes actually read. Every problem raises
:class:`~nnscratch.errors.ModelFileError` naming the file and what is wrong.
"""

import json
import math
import os

import numpy as np

from ..checks import is_whole
from ..errors import ConfigError, ModelFileError
from .common import FileCheck, loads_strict, short

MAX_HEADER_BYTES = 100 * 1024 * 1024   # as the safetensors package
MAX_NDIM = 32                          # numpy's limit on array dimensions
METADATA_KEY = "__metadata__"

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
    of strings. Returns ``[header, buffer, buffer, ...]``, ready for ``write_atomic``.
    """
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ConfigError("safetensors metadata must map strings to strings")
    header = {METADATA_KEY: dict(metadata)}
    buffers, offset = [], 0
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
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    raw = text.encode("utf-8")
    raw += b" " * (-len(raw) % 8)      # 8 + N stays a multiple of 8, as safetensors does
    return [len(raw).to_bytes(8, "little"), raw, *buffers]


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def read_bytes(path):
    """The whole file as bytes; a missing or unreadable file raises ModelFileError."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise ModelFileError(f"a model file path must be a str or os.PathLike, got "
                             f"{type(path).__name__} {path!r}")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise ModelFileError(f"no model file at {os.fsdecode(path)!r}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{os.fsdecode(path)!r} is a folder, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {os.fsdecode(path)!r}: "
                             f"{exc.strerror or exc}") from exc


def read(path):
    """``(tensors, metadata)`` of a safetensors file; see :func:`parse`."""
    return parse(read_bytes(path), os.fsdecode(path))


def parse(data, source="<bytes>"):
    """Validate and decode a safetensors byte string.

    Returns ``(tensors, metadata)``: a dict ``name -> read-only array`` (views on ``data``,
    little-endian) in the header's order, and the ``__metadata__`` dict of strings, or None
    when the file has none.
    """
    check = FileCheck(source)
    header_len = _header_length(data, check.fail)
    header = _header(data, header_len, source, check.fail)
    metadata = _metadata(header.pop(METADATA_KEY, None), check.fail)
    data_start = 8 + header_len
    data_len = len(data) - data_start
    entries = [(name, *_check_entry(name, entry, data_len, check.fail))
               for name, entry in header.items()]
    _check_tiling(entries, data_len, check.fail)
    return _views(data, data_start, entries, check.fail), metadata


def _header_length(data, fail):
    """N from the first 8 bytes, checked against the bytes that follow and the size cap."""
    size = len(data)
    if size < 8:
        fail(f"the file has {size} bytes, fewer than the 8-byte header length that starts "
             "every model file")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > size - 8:
        fail(f"the header length field says {header_len} bytes, but only {size - 8} bytes "
             "follow it (the file is truncated or not a model file)")
    if header_len > MAX_HEADER_BYTES:
        fail(f"the header length {header_len} exceeds the {MAX_HEADER_BYTES}-byte limit")
    return header_len


def _header(data, header_len, source, fail):
    """The header: UTF-8 text of one strict JSON object."""
    try:
        text = bytes(data[8:8 + header_len]).decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"the header is not UTF-8 text ({exc.reason} at byte {8 + exc.start})")
    if not text.startswith("{"):
        fail("the header does not start with '{': not a safetensors/nnscratch model file")
    header = loads_strict(text, "header", source)
    if not isinstance(header, dict):
        fail(f"the header must be a JSON object, got {type(header).__name__}")
    return header


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


def _views(data, data_start, entries, fail):
    """``{name: read-only array}``, each a view on ``data`` (nothing allocated from a size)."""
    tensors = {}
    for name, dtype, shape, begin, end in entries:
        count = (end - begin) // dtype.itemsize
        try:
            if count == 0:
                array = np.zeros(shape, dtype)    # no element: nothing is allocated
            else:
                array = np.frombuffer(data, dtype=dtype, count=count,
                                      offset=data_start + begin).reshape(shape)
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

