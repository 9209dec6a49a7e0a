"""Atomic file writes: a reader sees the complete old file or the complete new one, never a mix.

:func:`write_atomic` writes the new content to a temporary file in the target's own folder
(``.<name>.<pid>.<random>.tmp``), flushes it and ``fsync``\\ s it, renames it onto the target
with :func:`os.replace` (atomic on POSIX and Windows when both are on one file system) and then
``fsync``\\ s the folder so the rename itself survives a power cut. If anything fails, or the
process is interrupted, the temporary file is removed and the target is left as it was.

A process killed mid-write (``SIGKILL``, power loss) cannot clean up after itself; the next
write to the same target removes such leftovers: temporary files that match the target's own
pattern and whose writing process no longer exists. Temporary files of processes that are
still alive (another process saving to the same target right now) are left alone.
"""

import contextlib
import hashlib
import os
import re
import secrets

from ..errors import ModelFileError

# Folder entries longer than this are refused by most file systems (NAME_MAX = 255 bytes).
_MAX_PREFIX_CHARS = 100


def temp_prefix(target_name):
    """The ``.<name>`` part of the temporary files for ``target_name``, short enough for any FS."""
    if len(target_name) > _MAX_PREFIX_CHARS:
        digest = hashlib.sha1(target_name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        target_name = f"{target_name[:80]}-{digest}"
    return "." + target_name


def temp_pattern(target_name):
    """A regular expression matching the temporary files of ``target_name``; group 1 is the pid."""
    return re.compile(re.escape(temp_prefix(target_name)) + r"\.([0-9]+)\.[0-9a-f]{16}\.tmp")


def _process_alive(pid):
    """Whether a process with this id exists (POSIX); on other systems assume it does."""
    if os.name != "posix":
        return True   # Windows: an open file cannot be deleted anyway, so removal is safe to try
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)   # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except OSError:        # PermissionError: it exists but belongs to someone else
        return True
    return True


def remove_stale_temp_files(path):
    """Delete leftovers of killed writes to ``path``; returns the names removed."""
    folder, name = os.path.split(os.path.abspath(path))
    pattern = temp_pattern(name)
    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match is None:
            continue
        pid = int(match.group(1))
        if _process_alive(pid):
            continue
        try:
            os.unlink(os.path.join(folder, entry))
            removed.append(entry)
        except OSError:
            pass   # gone already, or still open (Windows): a later write will try again
    return removed


def _fsync_folder(folder):
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path, chunks, what="file"):
    """Write the byte strings in ``chunks`` to ``path`` atomically (see the module docstring).

    ``chunks`` is any iterable of bytes-like objects, written in order without being joined.
    OS failures (missing folder, no permission, disk full) raise
    :class:`~nnscratch.errors.ModelFileError` naming the path; the target is left untouched.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    if not name:
        raise ModelFileError(f"cannot write {what} {path!r}: the path names a folder, not a file")
    remove_stale_temp_files(path)
    temp = os.path.join(folder, f"{temp_prefix(name)}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as exc:
        raise ModelFileError(f"cannot write {what} {path!r}: {exc.strerror or exc} "
                             f"(creating a temporary file in {folder!r})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError) and not isinstance(exc, ModelFileError):
            raise ModelFileError(f"cannot write {what} {path!r}: {exc.strerror or exc}") from exc
        raise
    _fsync_folder(folder)
