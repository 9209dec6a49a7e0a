"""The files the commands write: checked before any work is done, then written atomically.

:func:`check_output` runs before a command reads its data, so a path that cannot or must not be
written is a one-line error at once, never after a whole training. It refuses, in this order:

- a folder, or a path whose folder does not exist or is not writable;
- the command's own inputs (the data file, the model file): the same file by
  :func:`os.path.samefile`, or by resolved path when one of them does not exist yet;
- an existing path that is not a regular file (a named pipe, a device such as ``/dev/null``:
  the atomic rename would replace the device node itself), or a file that this user may not
  replace (another user's file in a folder with the sticky bit, such as ``/tmp``);
- with ``protect_models``, an existing model file (:func:`is_model_file`): predictions and
  figures never replace a trained model, whatever its name.

:func:`write_text` and :func:`write_figure` then write through
:func:`nnscratch.saving.atomic.write_atomic` (a temporary file in the same folder, fsync,
``os.replace``): an interrupted or failed write leaves the old file whole.
"""

import io
import os
import stat

from ..errors import ConfigError


def is_model_file(path):
    """Whether ``path`` starts like a model file (the safetensors layout).

    A model file opens with its header length ``N`` (8 bytes, little-endian), then the header,
    a JSON object: so ``N`` fits in the file and byte 9 is ``{``. Text never looks like this:
    eight printable bytes read as ``N`` exceed 2**61. An unreadable file counts as no model.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(9)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return False
    if len(head) < 9:
        return False
    header_length = int.from_bytes(head[:8], "little")
    return 2 <= header_length <= size - 8 and head[8:9] == b"{"


def _same_file(path, other):
    """Whether two paths name one file (links and spellings such as ``./m.nns`` included)."""
    try:
        return os.path.samefile(path, other)
    except OSError:                                   # one of them does not exist (yet)
        return os.path.realpath(path) == os.path.realpath(other)


def _may_not_replace(folder, info):
    """POSIX sticky folders (``/tmp``): only a file's owner, the folder's owner or root may
    rename onto that file."""
    if os.name != "posix" or os.geteuid() == 0:
        return False
    folder_info = os.stat(folder)
    euid = os.geteuid()
    return bool(folder_info.st_mode & stat.S_ISVTX) and euid not in (info.st_uid,
                                                                     folder_info.st_uid)


def check_output(path, what, inputs=(), protect_models=False):
    """``path`` if the ``what`` (``"model"``, ``"predictions"``...) may be written there.

    ``inputs`` are ``(path, role)`` pairs such as ``(args.data, "data file")``: the output may
    not be any of them. Raises ConfigError (``cannot write the model to 'x.nns': ...``); see
    the module docstring for what is refused.
    """
    path = os.fspath(path)
    refused = f"cannot write the {what} to {path!r}"
    if os.path.isdir(path):
        raise ConfigError(f"{refused}: it is a folder")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"{refused}: folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{refused}: folder {folder!r} is not writable")
    for other, role in inputs:
        if other is not None and _same_file(path, os.fspath(other)):
            raise ConfigError(f"{refused}: it is the {role}")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise ConfigError(f"{refused}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{refused}: it exists and is not a regular file")
    if _may_not_replace(folder, info):
        raise ConfigError(f"{refused}: it belongs to another user, in a folder where only a "
                          "file's owner may replace it")
    if protect_models and is_model_file(path):
        raise ConfigError(f"{refused}: it is a model file; give another name")
    return path


def figure_format(path):
    """The figure format of ``path``'s extension (as matplotlib reads it), or ConfigError.

    Needs matplotlib (MissingDependencyError without it). No extension means matplotlib's
    default, PNG.
    """
    from ..plots import pyplot
    plt = pyplot()
    from matplotlib.backend_bases import FigureCanvasBase
    extension = os.path.splitext(os.fspath(path))[1][1:].lower()
    kind = extension or plt.rcParams["savefig.format"]
    known = FigureCanvasBase.get_supported_filetypes()
    if kind not in known:
        raise ConfigError(f"cannot draw a figure to {os.fspath(path)!r}: {kind!r} is not a figure "
                          f"format; use one of {', '.join(sorted(known))}")
    return kind


def check_figure(path, what, inputs=()):
    """:func:`check_output` for a figure (never onto a model file), then :func:`figure_format`."""
    check_output(path, what, inputs, protect_models=True)
    figure_format(path)
    return os.fspath(path)


def write_text(path, text, what):
    """Write ``text`` (UTF-8) to ``path`` atomically: the complete file or nothing."""
    from ..saving.atomic import write_atomic
    write_atomic(path, [text.encode("utf-8")], what=what)


def write_figure(figure, path, what, dpi=110):
    """Render a matplotlib ``figure`` in memory, then write it to ``path`` atomically; closes it."""
    from ..plots import pyplot
    from ..saving.atomic import write_atomic
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format=figure_format(path), dpi=dpi)
    finally:
        pyplot().close(figure)
    write_atomic(path, [buffer.getbuffer()], what=what)
