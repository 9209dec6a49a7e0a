"""Update rules (gradient descent and its descendants) and learning-rate schedules.

The base class :class:`Optimizer` owns the loop over parameters, gradient clipping, the step
counter and the learning rate (a number or a schedule of the step); a subclass writes only its
update rule, ``update(param, grad, state, lr)``, which changes ``param`` in place. State
(velocities, moments) is kept by the parameter array itself (``opt.state_for(param)``; by name,
read-only, in ``opt.state``) and created lazily with the parameter's shape on its first update;
the name (``"dense_0.W"``) serves to save and restore it. One optimizer keeps one step count:
it may update several models' parameters as one set, stepped together, but refuses to be
stepped by two models' training steps in turn (see :class:`Optimizer`).

Update rules and defaults follow the algorithms that torch.optim documents; each class's
docstring writes its whole algorithm out. ``self.iterations`` counts the calls to ``step`` (one
per batch); inside ``update`` it is the step number :math:`t = 1, 2, \\dots` of the formulas, and
Adam-style bias corrections use it.

Keyword names follow Keras where Keras has one, the same across all optimizers:

=================================  ============================  ==================================
nnscratch                          torch.optim                   used by
=================================  ============================  ==================================
``learning_rate``                  ``lr``                        all (a number or a schedule)
``beta_1``, ``beta_2``             ``betas=(beta_1, beta_2)``    Adam, AdamW, Adamax, NAdam, RAdam,
                                                                 Lion
``epsilon``                        ``eps``                       all but SGD and Lion
``rho``                            ``alpha``                     RMSprop
``rho``                            ``rho``                       Adadelta
``momentum``                       ``momentum``                  SGD, RMSprop
``weight_decay``                   ``weight_decay``              all
``dampening``, ``nesterov``        same                          SGD
``amsgrad``                        same                          Adam, AdamW
``centered``                       same                          RMSprop
``initial_accumulator_value``      same                          Adagrad
``lr_decay``                       same                          Adagrad
``momentum_decay``                 same                          NAdam
``decoupled_weight_decay``         same                          Adam, NAdam, RAdam
=================================  ============================  ==================================

``weight_decay`` is torch's: an L2 term :math:`\\lambda \\theta` added to the gradient, except in
AdamW and Lion (and with ``decoupled_weight_decay=True``), where the parameter shrinks directly,
:math:`\\theta \\leftarrow \\theta - \\gamma \\lambda \\theta` (Keras applies its ``weight_decay``
that way in every optimizer). The defaults are torch's; Keras's differ (e.g. its Adam
``epsilon=1e-7``, its SGD ``learning_rate=0.01``).

All updates happen in place (``param -= ...``) through scratch arrays that the optimizer reuses
from step to step, so a step allocates nothing the size of a parameter once the state exists,
and float32 parameters and state stay float32.

Every hyperparameter goes through :mod:`nnscratch.checks`: a number given as a string, a bool or
NaN is refused with a :class:`~nnscratch.errors.ConfigError` naming the class, the argument and
the value.

One family per module: :mod:`.base` (:class:`Optimizer`), :mod:`.sgd`, :mod:`.adaptive`
(Adagrad, Adadelta, RMSprop), :mod:`.adam` (Adam, AdamW, Adamax, NAdam, RAdam), :mod:`.lion`,
and :mod:`.schedules` (the learning-rate schedules, ``nnscratch.schedules``). This module holds
the optimizers' name table, :data:`REGISTRY`, with ``get`` and ``names``.
"""

from ..errors import ConfigError
from ..registry import Registry
from . import schedules
from .adam import Adam, Adamax, AdamFamily, AdamW, NAdam, RAdam
from .adaptive import Adadelta, Adagrad, RMSprop
from .base import Optimizer
from .lion import Lion
from .sgd import SGD

REGISTRY = Registry("optimizer", Optimizer)


def names():
    """The registered optimizer names, sorted."""
    return REGISTRY.names()


def get(identifier, **defaults):
    """An optimizer from a name (``"adam"``), a config dict, an Optimizer class or instance.

    A dict is ``get_config()``'s output: ``{"name": "adam", "learning_rate": 1e-3, ...}``; a
    ``learning_rate`` that is itself a dict is read as a schedule (``nnscratch.schedules.get``).
    ``defaults`` fill in hyperparameters the identifier leaves out. An unknown name, or anything
    else, is a ConfigError listing the known names; a hyperparameter the optimizer does not take
    is a ConfigError listing those it takes.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    config = {}
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        cls = identifier
    else:
        if isinstance(identifier, dict):
            config = dict(identifier)
            identifier = config.pop("name", None)
        cls = REGISTRY.lookup(identifier)[1]
    config = {**defaults, **config}
    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = schedules.get(config["learning_rate"])
    takes = getattr(cls, "hyperparameters", None)          # None: an entry added by a user
    unknown = [] if takes is None else sorted(set(config) - set(takes))
    if unknown:
        raise ConfigError(f"{cls.__name__} got unknown hyperparameter(s) {', '.join(unknown)}; "
                          f"it takes: {', '.join(sorted(takes))}")
    return cls(**config)


__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "AdamFamily", "Adam", "AdamW",
           "Adamax", "NAdam", "RAdam", "Lion", "REGISTRY", "get", "names", "schedules"]
