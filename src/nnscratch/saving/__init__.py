"""Model files: save a model to one file and load it back, safely and atomically; ONNX export.

A model file is a safetensors file (:mod:`.container`), so other tools
(``safetensors.numpy.load_file``) read its weights. It holds:

- tensors ``"<layer>.<key>"``: every layer's parameters and buffers (running statistics),
  in the network's dtype;
- with ``include_optimizer=True`` (the default), the training state needed to resume
  bit-identically (:mod:`.training_state`): tensors ``"optimizer/<parameter>/<state key>"``
  and, in the metadata, the optimizer's step count and the states of every random generator;
- ``__metadata__`` (strings only, as the format requires): ``"format"``: ``"nnscratch"``;
  ``"format_version"``: ``"1"``; ``"architecture"`` (:mod:`.architecture`), a JSON string of
  the layers, loss, optimizer hyperparameters, metrics and user metadata (at most 32 levels
  deep and 4 MiB); for a graph model (:class:`~nnscratch.Model`) also its graph: inputs, one
  entry per layer call, outputs with their losses, loss weights and metrics (:mod:`.graph`);
  ``"training_state"`` with ``include_optimizer``; ``"tensors_sha256"``, the SHA-256 of the
  data section (every byte after the header), verified by every load (:mod:`.container`; a
  file written by another tool without it loads unverified, and the loaded network's
  ``checksum`` is then None).

Nothing in a file is executed or imported: layer classes are looked up by name in the layer
table, activations, losses, optimizers and metrics in their registries. A model that uses a
user-registered activation or loss stores its name only; register the same name again before
loading it.

Loading checks everything before it uses anything (a regular file; the container, read in
checked steps and against its checksum; then the architecture's JSON types, a graph's
structure (names, references, no cycle), that every layer rebuilds from its config, that the
tensors are exactly those the architecture needs, with the
right shapes and dtypes and finite values, and that the training state fits the optimizer and
generators). Memory stays bounded (:mod:`.budget`): parameters by the file size, the
activations of one sample by ``max_activation_bytes`` (1 GiB unless the caller says
otherwise), so a small forged file cannot ask for gigabytes at the first ``predict``. Every
problem raises :class:`~nnscratch.errors.ModelFileError` saying what is wrong in which file; a
missing file too (it is an ``OSError``).

NaN and infinite values are refused by :func:`save` (``DataError``), by :func:`load`
(``ModelFileError``) and by ``Network.set_weights``; each takes ``allow_nonfinite=True`` for
those who need to keep them.

Saving writes to a temporary file in the same folder, fsyncs it and renames it onto the target
(:mod:`.atomic`): a crash leaves the complete old file or the complete new one, and the next
save removes the temporary files a killed save left behind. The file keeps its mode, and a
symbolic link is written through (its target is replaced; the link stays).

The modules, each writer beside its reader:

=====================  ========================================================================
:mod:`.model_file`     :func:`save`, :func:`load`, :func:`load_bytes`: the pieces put together
:mod:`.container`      the safetensors layout: encode, parse and validate
:mod:`.atomic`         atomic writes (temporary file, fsync, ``os.replace``)
:mod:`.architecture`   layers, loss, optimizer, metrics to JSON and back, by name tables only
:mod:`.graph`          a graph model's inputs, layer calls and outputs to JSON, checked, and back
:mod:`.training_state` optimizer state, step count, random generators' states
:mod:`.budget`         the memory budget of a load: parameters and activations
:mod:`.common`         strict JSON, metadata bounds, NaN checks, the file check, shared names
:mod:`.onnx`           ONNX export (imported on use; needs the ``onnx`` extra)
=====================  ========================================================================

This package sits below :mod:`nnscratch.models` and never imports it: :func:`load` takes the
classes to build, one for a stack of layers and one for a graph (``ns.load(path)`` passes
:class:`~nnscratch.Network` and :class:`~nnscratch.Model`, and returns a Network for a stack
file, a Model for a graph file).
"""

from .model_file import load, load_bytes, save

__all__ = ["save", "load", "load_bytes"]
