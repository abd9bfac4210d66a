"""Optimizers with Keras 3's update formulas and defaults, updating weights in place.

All hyperparameters are kept as Python floats, so a float32 model stays float32 (NumPy 2
promotes ``np.float64 scalar * float32 array`` to float64). Each optimizer keeps its state per
variable, indexed by the variable's position in the list it was built on.
"""

from __future__ import annotations

from deepfin.optimizers import schedules
from deepfin.optimizers.adadelta import Adadelta
from deepfin.optimizers.adagrad import Adagrad
from deepfin.optimizers.adam import Adam
from deepfin.optimizers.base import Optimizer
from deepfin.optimizers.rmsprop import RMSprop
from deepfin.optimizers.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "Optimizer", "RMSprop", "SGD", "get", "schedules", "serialize"]

_BY_NAME: dict[str, type[Optimizer]] = {"sgd": SGD, "adagrad": Adagrad, "adadelta": Adadelta,
                                        "rmsprop": RMSprop, "adam": Adam}
for _cls in (SGD, Adagrad, Adadelta, RMSprop, Adam):
    _BY_NAME[_cls.__name__] = _cls


def get(identifier) -> Optimizer:
    """An optimizer from a name ('adam', 'SGD', ...) with Keras defaults, a config dict, or an instance.

    Parameters
    ----------
    identifier : str, dict or Optimizer
        A name, in any case (``'sgd'``, ``'adagrad'``, ``'adadelta'``, ``'rmsprop'``, ``'adam'``), a
        ``{"class_name": ..., "config": ...}`` dict as ``serialize`` writes it, or an Optimizer, returned as it
        is.

    Returns
    -------
    Optimizer
        A new optimizer, or ``identifier`` itself.

    Raises
    ------
    ValueError
        If a name is unknown (the message lists the known ones).
    TypeError
        If ``identifier`` is none of the above.

    Examples
    --------
    >>> from deepfin import optimizers
    >>> adam = optimizers.get("Adam")
    >>> adam.learning_rate, adam.beta_1
    (0.001, 0.9)
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_NAME.get(identifier.lower())
        if cls is None:
            names = sorted(n for n in _BY_NAME if n.islower())
            raise ValueError(f"Unknown optimizer: {identifier!r}. Expected one of {names} or an Optimizer.")
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _BY_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    raise TypeError(f"Could not interpret optimizer: {identifier!r}. Expected a name or an Optimizer.")


def serialize(optimizer: Optimizer) -> dict:
    """An optimizer as a ``{"class_name": ..., "config": ...}`` dict, which ``get`` turns back into one.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer to describe.

    Returns
    -------
    dict
        The class name and ``optimizer.get_config()``.
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
