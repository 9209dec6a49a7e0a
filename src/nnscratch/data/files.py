"""Rows of a memory-mapped array read from its file, without mapping the pages into memory.

Reading rows of an ``np.memmap`` (or ``np.load(path, mmap_mode="r")``) through the mapping
maps every page it touches into the process, and those pages stay: one epoch over a file
larger than memory would make the process's resident size grow to the size of the file.
:class:`FileRows` reads the same bytes with positioned reads (``os.preadv``) into a buffer of
one batch instead. The rows wanted are sorted, each run of consecutive rows is one read
(:func:`~nnscratch.data.batching.index_runs`), and the rows are put back in the order asked
for. The operating system still caches the file, as free memory allows, outside the process.
"""

import mmap
import os

import numpy as np

from ..errors import DataError
from .batching import index_runs

#: modes of ``np.memmap`` whose data is the file's: "c" (copy on write) may hold changes
#: that only the mapping sees, so such an array is read through its mapping instead
FILE_MODES = ("r", "r+", "w+")


def file_backed(array):
    """Whether ``array`` is a memory-mapped array whose rows :class:`FileRows` can read."""
    return (isinstance(array, np.memmap) and hasattr(os, "preadv")
            and getattr(array, "filename", None) is not None
            and getattr(array, "_mmap", None) is not None and array.mode in FILE_MODES
            and array.ndim >= 1 and array.size > 0 and array.dtype.kind != "O"
            and (array.ndim == 1 or array[:1].flags.c_contiguous))


def file_position(array):
    """The byte position in its file of ``array[0]`` (a view of a memmap too).

    NumPy maps the file from ``offset`` rounded down to the allocation granularity; a view
    keeps the offset of the array it came from, and its first element lies as far into the
    mapping as its address is from the mapping's start.
    """
    mapped = np.frombuffer(array._mmap, dtype=np.uint8)
    start = array.offset - array.offset % mmap.ALLOCATIONGRANULARITY
    return start + (array.ctypes.data - mapped.ctypes.data)


class FileRows:
    """Reads rows of the memory-mapped ``array`` from its file (see the module docstring)."""

    def __init__(self, array):
        self.path = array.filename
        self.dtype = array.dtype
        self.row_shape = array.shape[1:]
        self.row_bytes = array.dtype.itemsize * int(np.prod(self.row_shape, dtype=np.int64))
        self.stride = array.strides[0]
        self.first = file_position(array)
        self._fd = None
        try:
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise DataError(f"cannot open {self.path}, the file of a memory-mapped array, to "
                            f"read its rows: {exc}") from None

    def read(self, indices):
        """The rows at ``indices`` (valid, 1-D), in that order, as a new array."""
        order = np.argsort(indices, kind="stable")
        wanted = indices[order]
        rows = np.empty((len(wanted),) + self.row_shape, dtype=self.dtype)
        raw = memoryview(rows.reshape(-1).view(np.uint8))
        if self.stride == self.row_bytes:          # rows back to back: a run is one block
            starts, stops = index_runs(wanted)
        else:                                      # a strided view: one read per row
            starts = np.arange(len(wanted))
            stops = starts + 1
        size = self.row_bytes
        positions = (self.first + wanted[starts].astype(np.int64) * self.stride).tolist()
        for start, stop, position in zip(starts.tolist(), stops.tolist(), positions):
            got = os.preadv(self._fd, [raw[start * size:stop * size]], position)
            if got != (stop - start) * size:
                raise DataError(f"reading rows {wanted[start]}..{wanted[stop - 1]} of {self.path} "
                                f"gave {got} of {(stop - start) * size} bytes; the file is "
                                "shorter than its array (changed since it was mapped?)")
        if np.all(order[1:] > order[:-1]):         # asked for in sorted order already
            return rows
        result = np.empty_like(rows)
        result[order] = rows
        return result

    def close(self):
        """Close the file (also done when the reader is garbage collected)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self):
        self.close()
