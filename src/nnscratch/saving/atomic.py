"""Atomic file writes: a reader sees the complete old file or the complete new one, never a mix.

:func:`write_atomic` writes the new content to a temporary file in the target's own folder
(``.<name>.<pid>.<random>.tmp``), flushes it and ``fsync``\\ s it, renames it onto the target
with :func:`os.replace` (atomic on POSIX and Windows when both are on one file system) and then
``fsync``\\ s the folder so the rename itself survives a power cut. If anything fails, or the
process is interrupted, the temporary file is removed and the target is left as it was.

The new file keeps what the old one had: its mode (a ``0600`` checkpoint stays ``0600``; a new
file gets the mode ``open`` would give, ``0666`` less the umask) and, where the process may set
it, its owner and group. A path that is a symbolic link is written through: the link is
resolved (:func:`os.path.realpath`) and its target replaced, atomically, by a temporary file in
the target's folder, so the link stays a link and points at the new content.

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
import stat

from ..errors import ConfigError, ModelFileError

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


def check_path(path, what="file"):
    """``path`` as a str, or ConfigError when it is not a path at all (None, 3)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise ConfigError(f"the path of the {what} must be a str or os.PathLike, got "
                          f"{type(path).__name__} {path!r}")
    return os.fsdecode(path)


def resolve_target(path, what="file"):
    """The file a write to ``path`` must replace: ``path`` itself, or a symbolic link's target.

    A chain of links is followed to its end (the end may not exist yet: it is created, as
    ``open`` would); a loop of links raises ModelFileError.
    """
    real = os.path.realpath(path)
    if os.path.islink(real):
        raise ModelFileError(f"cannot write {what} {os.fsdecode(path)!r}: it is a symbolic link "
                             "that leads to itself (a loop of links)")
    return real


def _copy_mode(fd, target):
    """Give the temporary file ``fd`` the mode (and owner) of an existing regular ``target``."""
    try:
        old = os.stat(target)
    except OSError:
        return                      # a new file: keep the mode os.open gave (0666 less umask)
    if not stat.S_ISREG(old.st_mode):
        return
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):      # only root (or the group's member) may
            os.fchown(fd, old.st_uid, old.st_gid)
    if hasattr(os, "fchmod"):                 # POSIX; Windows has no such modes to keep
        os.fchmod(fd, stat.S_IMODE(old.st_mode))


def write_atomic(path, chunks, what="file"):
    """Write the byte strings in ``chunks`` to ``path`` atomically (see the module docstring).

    ``chunks`` is any iterable of bytes-like objects, written in order without being joined.
    A ``path`` that is not a path raises :class:`~nnscratch.errors.ConfigError`; OS failures
    (missing folder, no permission, disk full) raise :class:`~nnscratch.errors.ModelFileError`
    naming the path; the target is left untouched.
    """
    path = check_path(path, what)
    target = resolve_target(path, what)
    folder, name = os.path.split(target)
    if not os.path.basename(path) or not name:
        raise ModelFileError(f"cannot write {what} {path!r}: the path names a folder, not a file")
    shown = f"{path!r} (a link to {target!r})" if os.path.islink(path) else repr(path)
    remove_stale_temp_files(target)
    temp = os.path.join(folder, f"{temp_prefix(name)}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as exc:
        raise ModelFileError(f"cannot write {what} {shown}: {exc.strerror or exc} "
                             f"(creating a temporary file in {folder!r})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            _copy_mode(handle.fileno(), target)
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError) and not isinstance(exc, ModelFileError):
            raise ModelFileError(f"cannot write {what} {shown}: {exc.strerror or exc}") from exc
        raise
    _fsync_folder(folder)
