"""Model files: save a network to one file and load it back, safely and atomically; ONNX export.

A model file is a safetensors file (:mod:`.container`), so other tools
(``safetensors.numpy.load_file``) read its weights. It holds:

- tensors ``"<layer>.<key>"``: every layer's parameters and buffers (running statistics),
  in the network's dtype;
- with ``include_optimizer=True`` (the default), the training state needed to resume
  bit-identically (:mod:`.training_state`): tensors ``"optimizer/<parameter>/<state key>"``
  and, in the metadata, the optimizer's step count and the states of every random generator;
- ``__metadata__`` (strings only, as the format requires): ``"format"``: ``"nnscratch"``;
  ``"format_version"``: ``"1"``; ``"architecture"`` (:mod:`.architecture`), a JSON string of
  the layers, loss, optimizer hyperparameters, metrics and user metadata;
  ``"training_state"`` with ``include_optimizer``.

Nothing in a file is executed or imported: layer classes are looked up by name in the layer
table, activations, losses, optimizers and metrics in their registries. A model that uses a
user-registered activation or loss stores its name only; register the same name again before
loading it.

Loading checks everything before it uses anything (the container; then the architecture's JSON
types, that every layer rebuilds from its config, that the tensors are exactly those the
architecture needs, with the right shapes and dtypes, and that the training state fits the
optimizer and generators). Memory stays bounded by the file size (:mod:`.budget`). Every
problem raises :class:`~nnscratch.errors.ModelFileError` saying what is wrong in which file; a
missing file too (it is an ``OSError``).

Saving writes to a temporary file in the same folder, fsyncs it and renames it onto the target
(:mod:`.atomic`): a crash leaves the complete old file or the complete new one, and the next
save removes the temporary files a killed save left behind.

The modules, each writer beside its reader:

=====================  ========================================================================
:mod:`.model_file`     :func:`save`, :func:`load`, :func:`load_bytes`: the pieces put together
:mod:`.container`      the safetensors layout: encode, parse and validate
:mod:`.atomic`         atomic writes (temporary file, fsync, ``os.replace``)
:mod:`.architecture`   layers, loss, optimizer, metrics to JSON and back, by name tables only
:mod:`.training_state` optimizer state, step count, random generators' states
:mod:`.budget`         the allocation guard of a load
:mod:`.common`         strict JSON, the file check that names the file, shared names
:mod:`.onnx`           ONNX export (imported on use; needs the ``onnx`` extra)
=====================  ========================================================================

This package sits below :mod:`nnscratch.network` and never imports it: :func:`load` takes the
class to build (``ns.load(path)`` passes :class:`~nnscratch.network.Network`).
"""

from .model_file import load, load_bytes, save

__all__ = ["save", "load", "load_bytes"]
