"""The base class of every optimizer: the loop over parameters, clipping, the step count, the
learning rate and the per-parameter state.

A subclass writes only its update rule, ``update(param, grad, state, lr)``, which changes
``param`` in place, and the state it needs, ``init_state(param)``. The attributes and methods
other modules rely on are defined here:

- ``step(named_parameters, packed=None, model=None)``: what the training loop calls once per
  batch (a model passes itself as ``model``);
- ``learning_rate`` (a number or a schedule; the learning-rate callbacks set a number) and
  ``current_learning_rate()``;
- ``iterations`` (the step count), and the state of each parameter, kept by the parameter array
  itself: ``state_for(param)``, ``load_state(params, states)`` (which a checkpoint uses, by
  parameter name), ``state`` (a read-only view by name) and ``init_state``, whose keys a loaded
  checkpoint must have;
- ``get_config()``, from which ``nnscratch.optimizers.get`` rebuilds the optimizer.

:func:`keep` checks a subclass's hyperparameters and keeps them as attributes (the schedules use it
too). The helpers for update rules (scratch arrays, L2 and decoupled weight decay, moving averages)
take every hyperparameter they use as an argument, so that this class reads no attribute that
only some optimizers have.
"""

import threading
import weakref

import numpy as np

from .. import checks, threads
from ..errors import ShapeError
from ..registry import Configurable
from .state import ParameterStates


# -- the ranges hyperparameters take, one rule each (all through nnscratch.checks) -----------------
def positive(value, what):
    """``value`` as a float > 0: a learning rate, an epsilon, a clipping threshold, a factor."""
    return checks.number(value, what, low=0, low_open=True)


def non_negative(value, what):
    """``value`` as a float >= 0: a weight decay, a learning-rate decay."""
    return checks.number(value, what, low=0)


def fraction(value, what):
    """``value`` as a float in [0, 1): a beta, a momentum, a smoothing constant."""
    return checks.number(value, what, low=0, high=1, high_open=True)


def unit_interval(value, what):
    """``value`` as a float in [0, 1]: a dampening."""
    return checks.number(value, what, low=0, high=1)


def keep(owner, rule, **values):
    """Check each ``name=value`` with ``rule`` and keep the result as ``owner.name``.

    ``rule(value, what)`` is one of the checks above (or in :mod:`nnscratch.checks`); ``what``
    names the class and the argument, so ``keep(self, fraction, beta_1=beta_1)`` in Adam refuses
    ``beta_1=1.0`` with ``Adam beta_1 must be a number in [0, 1), got 1.0``. Hyperparameters are
    kept under their own names because :class:`~nnscratch.registry.Configurable` reads them back
    from there for ``get_config`` and ``repr``.
    """
    for name, value in values.items():
        setattr(owner, name, rule(value, f"{type(owner).__name__} {name}"))


#: optimizer -> {thread id: its copy for that thread} (see Optimizer._thread_copy)
_THREAD_COPIES = weakref.WeakKeyDictionary()


class Optimizer(ParameterStates, Configurable):
    """Base class: the loop over parameters, clipping, the step count and the learning rate.

    Clipping changes the gradient arrays in place, before the update rule sees them (and before
    any weight decay is added to them).

    A subclass sets ``name`` (its registry key) and ``hyperparameters``: these three followed by
    its own constructor arguments, kept as attributes of the same names (see
    :class:`~nnscratch.registry.Configurable`).

    **State.** Each parameter's state (momenta, moments) is kept by the parameter array itself,
    not by its name, and made by ``init_state`` with the array's shape on its first update:
    :meth:`state_for` finds it; ``state`` shows it by name, read-only. The name a parameter
    comes with serves only to save and restore its state (``load_state``) and in messages.

    **One optimizer, one set of parameters, one step count.** A call to :meth:`step` is one
    step, whichever parameters it updates. So one optimizer may train the parameters of
    several models as one set, stepped together, as one torch.optim optimizer over several
    modules does: ``opt.step(a.named_parameters() + b.named_parameters())`` once per round is
    exactly one optimizer over the union (for an element-wise rule without ``clipnorm``, the
    same numbers as one optimizer per model), even where the two models name their
    parameters alike. What it refuses: training two models by turns, each with its own
    training steps (``fit``, ``train_step``): the step count that the bias corrections and the
    learning-rate schedule read would advance once per model, twice a round. The first
    model whose training step the optimizer takes binds it; a training step of another model
    is a :class:`~nnscratch.errors.ConfigError` naming both, before anything changes. Give
    each model its own optimizer (``ns.optimizers.get(opt.get_config())`` makes a fresh one
    alike). A deep copy of a model comes with its own copy of the optimizer, bound to the
    copy. Within its model the set may change: a frozen layer's parameters are left out, an
    unfrozen layer's come in with fresh state, and an array a layer replaced starts anew.

    Parameters
    ----------
    learning_rate : float or schedule
        A positive number, or a callable ``schedule(step) -> float`` (see
        ``nnscratch.schedules``) called with ``step = self.iterations`` (0 for the first step).
    clipnorm : float, optional
        Rescale all gradients together so their global L2 norm is at most ``clipnorm``:
        :math:`g \\leftarrow g \\cdot \\min(1, c / \\lVert g \\rVert_2)` (torch's
        ``clip_grad_norm_`` over all parameters).
    clipvalue : float, optional
        Clip every gradient entry to ``[-clipvalue, clipvalue]``; applied before ``clipnorm``.
    """

    name = None
    hyperparameters = ("learning_rate", "clipnorm", "clipvalue")
    # True where ``update`` treats each element on its own, keeps all its state in arrays
    # shaped like the parameter (made by ``init_state``) and changes no attribute: a large
    # parameter may then be updated in parts side by side (see _update_in_parts), and packed
    # parameters all in one call (see _flat_state)
    elementwise_update = False

    def __init__(self, learning_rate=0.01, clipnorm=None, clipvalue=None):
        super().__init__()        # the per-parameter state (see nnscratch.optimizers.state)
        owner = type(self).__name__
        if callable(learning_rate):
            self.learning_rate = learning_rate
        else:
            self.learning_rate = positive(learning_rate, f"{owner} learning_rate")
        self.clipnorm = None if clipnorm is None else positive(clipnorm, f"{owner} clipnorm")
        self.clipvalue = None if clipvalue is None else positive(clipvalue, f"{owner} clipvalue")
        self.iterations = 0       # steps taken; t = iterations inside update()
        self._scratch = {}        # (dtype, slot) -> flat scratch buffer, see _work
        self._views = {}          # (shape, dtype, slot) -> view of a scratch buffer, see _work
        self._flat = {}           # the packed parameters' state as one array, see _flat_state

    def current_learning_rate(self):
        """The learning rate for the step about to be taken."""
        if callable(self.learning_rate):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    def clip(self, grads):
        """Apply ``clipvalue`` then ``clipnorm`` to a list of gradient arrays, in place."""
        if self.clipvalue is not None:
            for g in grads:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm is not None:
            total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))   # ||g||_2, global
            if total > self.clipnorm:
                scale = self.clipnorm / total                                   # c / ||g||_2
                for g in grads:
                    g *= g.dtype.type(scale)

    def step(self, named_parameters, packed=None, model=None):
        """Update every ``(name, param, grad)`` in place with the rule of this optimizer.

        ``packed``: optionally ``(params, grads)``, two arrays that hold all of the parameters
        and gradients of ``named_parameters`` (the views are into them, as a Network packs
        them). A rule for which :meth:`elementwise_stateless` holds then updates all of them in
        one call, which is the same computation with fewer, larger operations; so does one with
        ``elementwise_update``, over its state packed alike (:meth:`_flat_state`).

        ``model``: the model whose training step this is (``train_step`` passes itself). The
        first binds the optimizer; another is refused (see the class docstring). A direct call
        without it is one step over exactly the parameters given.
        """
        if type(named_parameters) is not list:
            named_parameters = list(named_parameters)
        by_model = model is not None
        if by_model and (self._model is None or self._model[0]() is not model):
            self._bind(model, named_parameters)          # refuses a second model
        if packed is not None and self.elementwise_stateless():
            self._step_packed(named_parameters, *packed, by_model)
            return
        states = self._states(named_parameters, by_model)
        for name, param, grad in named_parameters:       # all checked before any changes
            if grad.shape != param.shape:
                raise ShapeError(f"{type(self).__name__}: the gradient of '{name}' is shaped "
                                 f"{grad.shape}, its parameter {param.shape}")
        flat = None
        if packed is not None and self.elementwise_update:
            flat = self._flat_state(named_parameters, states, packed[0])
        if self.clipnorm is not None or self.clipvalue is not None:
            self.clip([g for _, _, g in named_parameters])
        lr = self.current_learning_rate()
        self.iterations += 1
        if flat is not None:            # every parameter in one call: the same numbers
            self._update_in_parts(*packed, flat, lr)
            return
        update = self._update_in_parts if self.elementwise_update else self.update
        for (_, param, grad), state in zip(named_parameters, states):
            update(param, grad, state, lr)

    def _flat_state(self, named_parameters, states, params):
        """The states of the packed parameters as one flat array per key, shaped like
        ``params``, for an element-wise rule (``elementwise_update``) to update them all in one
        call; None unless the parameters are exactly the parts of ``params``.

        Made at the first such step: each parameter's state is copied in, and its state dict
        then holds views of the flat arrays, so ``state_for``, ``state`` and a checkpoint see
        them as before. Kept while every state dict holds those views (after ``load_state``
        put other arrays in, they are copied in anew).
        """
        kept = self._flat
        if kept.get("params") is params and len(kept["views"]) == len(states) and all(
                state.get(key) is view for state, views in zip(states, kept["views"])
                for key, view in views.items()):
            return kept["state"]
        if params.ndim != 1 or not params.flags.c_contiguous:
            return None
        offsets, end = [], 0
        for _, param, _ in named_parameters:
            offset, rest = divmod(param.ctypes.data - params.ctypes.data, params.itemsize)
            if rest or param.dtype != params.dtype or not param.flags.c_contiguous:
                return None
            offsets.append(offset)
        for offset, (_, param, _) in sorted(zip(offsets, named_parameters), key=lambda p: p[0]):
            if offset != end:                            # gaps or overlaps: not the packing
                return None
            end += param.size
        flat = self.init_state(params)
        if end != params.size or not flat or any(
                set(state) != set(flat) or any(np.shape(v) != param.shape for v in state.values())
                for (_, param, _), state in zip(named_parameters, states)):
            return None
        views = []
        for offset, (_, param, _), state in zip(offsets, named_parameters, states):
            part = {key: value[offset:offset + param.size].reshape(param.shape)
                    for key, value in flat.items()}
            for key, view in part.items():
                view[...] = state[key]
                state[key] = view
            views.append(part)
        self._flat = {"params": params, "state": flat, "views": views}
        return flat

    def __getstate__(self):
        """For a copy or a pickle: the flat state is left out, since the copies of its views
        are views of nothing (a copy makes its own, see :meth:`_flat_state`)."""
        return {**super().__getstate__(), "_flat": {}}

    def _update_in_parts(self, param, grad, state, lr):
        """:meth:`update` on the flat parts of one parameter, side by side on the threads of
        :func:`nnscratch.threads.split` (the same numbers: the rule is element-wise). With one
        thread, or fewer than :data:`~nnscratch.threads.SPLIT_MIN` elements, it is the plain
        call. Each thread updates with a copy of this optimizer that has its own scratch arrays."""
        arrays = [param, grad, *state.values()]
        if param.size < threads.SPLIT_MIN or threads.pool_threads() < 2 or not all(
                type(a) is np.ndarray and a.shape == param.shape and a.flags.c_contiguous
                for a in arrays):
            self.update(param, grad, state, lr)
            return
        flat = [a.reshape(-1) for a in arrays]
        keys = list(state)
        main = threading.get_ident()

        def part(start, stop):
            worker = self if threading.get_ident() == main else self._thread_copy()
            p, g, *s = (a[start:stop] for a in flat)
            worker.update(p, g, dict(zip(keys, s)), lr)

        threads.split(param.size, part, param.size)

    def _thread_copy(self):
        """This optimizer for a worker thread: every attribute as this one has it now (the
        settings, changed or not since the last step, and the step count), its own scratch
        arrays (made once per thread)."""
        copies = _THREAD_COPIES.setdefault(self, {})
        worker = copies.get(threading.get_ident())
        if worker is None:
            worker = copies[threading.get_ident()] = type(self).__new__(type(self))
            scratch = {"_scratch": {}, "_views": {}}
        else:
            scratch = {"_scratch": worker._scratch, "_views": worker._views}
        vars(worker).update(vars(self), **scratch)
        return worker

    def _step_packed(self, named_parameters, params, grads, by_model):
        """:meth:`step` on the two packed arrays at once (see ``packed`` there)."""
        if len(self._slots) < len(named_parameters):     # the per-parameter (empty) states, once
            self._add_slots(named_parameters, by_model)
        if self.clipnorm is not None or self.clipvalue is not None:
            self.clip([grads])                # one array: the same global norm and values
        lr = self.current_learning_rate()
        self.iterations += 1
        self.update(params, grads, {}, lr)

    def elementwise_stateless(self):
        """Whether the rule, with these hyperparameters, treats each element on its own and
        keeps no state: then all parameters can be updated as one array (see :meth:`step`)."""
        return False

    def init_state(self, param):
        """The per-parameter state (e.g. zero moments shaped like ``param``)."""
        return {}

    def update(self, param, grad, state, lr):
        """Change ``param`` in place given its gradient, its state and the learning rate."""
        raise NotImplementedError

    # -- helpers for update rules ----------------------------------------------------------
    def _work(self, like, slot=0):
        """A scratch array shaped and typed like ``like``, reused across parameters and steps.

        One flat buffer per (dtype, slot), as large as the largest parameter seen, is viewed
        with each parameter's shape, so the hot loop allocates nothing. Different slots never
        overlap; the contents are garbage until written. The view for each shape is made once
        and kept (a view made before the buffer grew keeps the old buffer alive: still scratch).
        """
        view = self._views.get((like.shape, like.dtype, slot))
        if view is None:          # first use of this shape: slice it from the flat buffer, once
            key = (like.dtype.str, slot)
            flat = self._scratch.get(key)
            if flat is None or flat.size < like.size:
                flat = self._scratch[key] = np.empty(like.size, dtype=like.dtype)
            view = self._views[(like.shape, like.dtype, slot)] = flat[:like.size].reshape(like.shape)
        return view

    def _l2_gradient(self, param, grad, weight_decay):
        """:math:`g + \\lambda \\theta` (torch's ``weight_decay``), leaving ``grad`` untouched.

        The sum goes to scratch slot 1; with :math:`\\lambda = 0` ``grad`` itself comes back.
        """
        if not weight_decay:
            return grad
        out = self._work(param, slot=1)
        np.multiply(param, param.dtype.type(weight_decay), out=out)
        out += grad
        return out

    @staticmethod
    def _decoupled_decay(param, lr, weight_decay):
        """AdamW's decay, in place: :math:`\\theta \\leftarrow (1 - \\gamma \\lambda) \\theta`."""
        if weight_decay:
            param *= param.dtype.type(1.0 - lr * weight_decay)

    @staticmethod
    def _ema(avg, value, decay, work):
        """:math:`a \\leftarrow \\beta a + (1 - \\beta) v` in place (``work`` is scratch)."""
        avg *= avg.dtype.type(decay)
        np.multiply(value, avg.dtype.type(1.0 - decay), out=work)
        avg += work

    @staticmethod
    def _ema_square(avg, value, decay, work):
        """:math:`a \\leftarrow \\beta a + (1 - \\beta) v^2` in place (``work`` is scratch)."""
        avg *= avg.dtype.type(decay)
        np.multiply(value, value, out=work)
        work *= avg.dtype.type(1.0 - decay)
        avg += work

    # -- configuration ---------------------------------------------------------------------
    def get_config(self):
        """Hyperparameters (JSON-safe) that recreate this optimizer with ``optimizers.get``.

        A schedule is written as its own config; ``clipnorm`` and ``clipvalue`` only when set.
        """
        config = super().get_config()
        if hasattr(self.learning_rate, "get_config"):
            config["learning_rate"] = self.learning_rate.get_config()
        for key in ("clipnorm", "clipvalue"):
            if config[key] is None:
                del config[key]
        return config
