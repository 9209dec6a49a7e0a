"""An optimizer's per-parameter state, kept by the parameter array itself, and the one model
whose training steps it takes.

:class:`ParameterStates` is a base of :class:`~nnscratch.optimizers.Optimizer`. Each parameter
the optimizer has updated has a :class:`Slot`: the array (a reference, so that no other array
can take its ``id`` while the state lives), the name it came with, and its state (``{key:
array}``, made by ``init_state`` on its first update). The slots sit in the dict ``_slots``,
keyed by ``id(param)``; the name serves only to save and restore the state and in messages.

The rules (the Optimizer docstring gives them to users):

- one optimizer updates any set of parameter arrays, several models' included, as one set with
  one step count: a call to ``step`` is one step;
- a model's training step (``step(..., model=m)``, as ``fit`` takes it) binds the optimizer to
  ``m``; a training step of another model is refused with a ConfigError, since models taking
  turns would advance the one step count once per model and round;
- an array new to the optimizer that a model's step passes under the name of an array an
  earlier step of that model updated replaced that array in the model: its state starts anew
  and the old array's state is dropped.
"""

import copy
import types
import weakref

from ..errors import ConfigError


class Slot:
    """One parameter's entry: the array itself, its name, its state, and whether a model's
    training step (rather than a direct call of ``step``) brought it."""

    __slots__ = ("by_model", "name", "param", "state")

    def __init__(self, param, name, state, by_model):
        self.param, self.name, self.state, self.by_model = param, name, state, by_model


def model_label(model):
    """``Network 'encoder'``, or ``the Network at 0x7f...`` for a model without a name."""
    name = getattr(model, "name", None)
    kind = type(model).__name__
    return f"{kind} {name!r}" if name else f"the {kind} at {id(model):#x}"


def some_names(names, limit=3):
    """``dense_0.W, dense_0.b, dense_1.W, ...``: the first few names of a list."""
    names = list(names)
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


class ParameterStates:
    """The per-parameter state of an optimizer, kept by the parameter array itself."""

    def __init__(self):
        self._slots = {}          # id(param) -> Slot
        self._model = None        # (weak reference, label) of the model bound by its steps

    @property
    def state(self):
        """Each parameter's state by its name, read-only: ``{"dense_0.W": {"exp_avg": ...}}``.

        Two arrays of one name (a step over the parameters of two models built alike) cannot
        both be shown by name: that is a ConfigError, and :meth:`state_for` finds each.
        """
        by_name = {}
        for slot in self._slots.values():
            if slot.name in by_name:
                raise ConfigError(f"{type(self).__name__} holds the state of two different "
                                  f"arrays named {slot.name!r} (parameters of two models?), so "
                                  "its state cannot be shown by name; use state_for(param)")
            by_name[slot.name] = slot.state
        return types.MappingProxyType(by_name)

    def state_for(self, param):
        """The state (``{key: value}``) of the array ``param``, or None before its first update."""
        slot = self._slots.get(id(param))       # a slot keeps its array: the id is that array's
        return None if slot is None else slot.state

    def load_state(self, params, states, model=None):
        """Replace all state: ``states[name]`` becomes the state of the array ``params[name]``.

        What restoring a checkpoint does (names are how a file refers to parameters). The
        arrays are taken as one model's, as if its training steps had made the state; with
        ``model``, the optimizer is bound to it (see the module docstring).
        """
        self._slots = {id(params[name]): Slot(params[name], name, state, True)
                       for name, state in states.items()}
        if model is not None:
            self._model = (weakref.ref(model), model_label(model))

    # -- inside step -------------------------------------------------------------------------
    def _bind(self, model, named_parameters):
        """Bind this optimizer to ``model`` at its first training step; refuse another model."""
        if self._model is None:
            self._model = (weakref.ref(model), model_label(model))
            self._add_slots(named_parameters, True)       # its (empty) states, as one set
            return
        ref, label = self._model
        bound = ref()
        if bound is model:
            return
        if bound is not None:
            label = model_label(bound)                    # its name may have changed
        theirs = some_names(s.name for s in self._slots.values() if s.by_model)
        ours = some_names(name for name, _, _ in named_parameters)
        cls = type(self).__name__
        raise ConfigError(
            f"this {cls} already trains {label} (parameters {theirs}), so {model_label(model)} "
            f"(parameters {ours}) cannot train with it too: an optimizer keeps one step count "
            "(its bias corrections and learning-rate schedule), which two models taking turns "
            "would advance twice a round. Give each model its own optimizer, e.g. "
            "ns.optimizers.get(optimizer.get_config()); to train the parameters of several "
            "models as one set, call optimizer.step(a.named_parameters() + "
            "b.named_parameters()) once per round")

    def _states(self, named_parameters, by_model):
        """The state of each ``(name, param, grad)``, in order, made for arrays new to it."""
        slots = self._slots
        try:
            return [slots[id(param)].state for _, param, _ in named_parameters]
        except KeyError:                                  # a parameter's first update
            return self._add_slots(named_parameters, by_model)

    def _add_slots(self, named_parameters, by_model):
        """Make the slot of every new array of ``named_parameters``; returns all their states.

        In a model's step (``by_model``) a new array under the name of one this model's steps
        updated before replaced it: that slot goes (see the module docstring).
        """
        slots = self._slots
        replaced = {s.name: key for key, s in slots.items() if s.by_model} if by_model else {}
        for name, param, _ in named_parameters:
            if id(param) not in slots:
                if name in replaced:
                    del slots[replaced.pop(name)]
                slots[id(param)] = Slot(param, name, self.init_state(param), by_model)
        return [slots[id(param)].state for _, param, _ in named_parameters]

    # -- copies ------------------------------------------------------------------------------
    def __getstate__(self):
        """For a copy or a pickle: everything but the binding (a weak reference)."""
        return {**vars(self), "_model": None}

    def __setstate__(self, saved):
        vars(self).update(saved)
        self._slots = {id(slot.param): slot for slot in self._slots.values()}   # new arrays

    def __deepcopy__(self, memo):
        """A deep copy; made as part of a copy of its model, it is bound to that copy.

        The slots come with the copies of their arrays (the copies the model's copy holds,
        through ``memo``) and are keyed anew by them.
        """
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        copied.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        bound = None if self._model is None else self._model[0]()
        if bound is not None and id(bound) in memo:      # the model is being copied too
            copied._model = (weakref.ref(memo[id(bound)]), self._model[1])
        return copied
