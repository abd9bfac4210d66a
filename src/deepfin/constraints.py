"""Weight constraints, Keras's: applied to a weight after each optimizer update.

They are given as ``kernel_constraint=`` and ``bias_constraint=`` of ``Dense`` and ``Maxout``. ``MaxNorm``,
``MinMaxNorm``, ``NonNeg`` and ``UnitNorm``, with Keras's formulas, names and defaults; a constraint is any
callable from a weight's array to its new value.

Models with a constraint train on the eager engine (the compiled kernels apply none).

Examples
--------
>>> import numpy as np
>>> from deepfin import constraints
>>> constraints.MaxNorm(1.0)(np.array([[3.0], [4.0]])).round(6)
array([[0.6],
       [0.8]])
>>> constraints.serialize(constraints.get("max_norm"))
{'class_name': 'MaxNorm', 'config': {'max_value': 2.0, 'axis': 0}}
"""

from __future__ import annotations

import numpy as np

_EPSILON = 1e-7  # Keras's backend epsilon, in the norms' denominators


class Constraint:
    """Base constraint: ``constraint(w)`` returns the weight's new value (an array of ``w``'s shape).

    The base class returns ``w`` unchanged. A subclass implements ``__call__`` and, when its
    constructor takes arguments, ``get_config``.
    """

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return w

    def get_config(self) -> dict:
        """The constructor's arguments, as ``from_config`` takes them (none here)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        """A constraint built from ``get_config``'s dict: ``cls(**config)``."""
        return cls(**config)


def _norms(w: np.ndarray, axis) -> np.ndarray:
    """The L2 norms of ``w`` along ``axis`` (an axis or a list of them, as Keras takes), kept as axes of size 1."""
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """MaxNorm weight constraint: rescale each slice whose L2 norm exceeds ``max_value`` down to it.

    Computes ``w * clip(norm, 0, max_value) / (epsilon + norm)``, the norms taken along ``axis``
    (with the default 0, over each column of a Dense kernel: the weights into one unit), ``epsilon``
    being Keras's 1e-7. Also named ``max_norm``.

    Parameters
    ----------
    max_value : float, default 2.0
        The largest norm kept.
    axis : int or list of int, default 0
        The axes the norms are taken along.
    """

    def __init__(self, max_value: float = 2.0, axis=0):
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return (w * (np.clip(norms, 0, self.max_value) / (_EPSILON + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """MinMaxNorm weight constraint: keep each slice's L2 norm between ``min_value`` and ``max_value``.

    Each norm moves ``rate`` of the way to its clipped value: ``w * desired / (epsilon + norm)``,
    with ``desired = rate * clip(norm, min_value, max_value) + (1 - rate) * norm``. Also named
    ``min_max_norm``.

    Parameters
    ----------
    min_value : float, default 0.0
        The smallest norm kept.
    max_value : float, default 1.0
        The largest norm kept.
    rate : float, default 1.0
        The fraction of the way each norm moves (1: all the way).
    axis : int or list of int, default 0
        The axes the norms are taken along.
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = float(min_value), float(max_value), float(rate), axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return (w * (desired / (_EPSILON + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Non-negative weight constraint: set negative weights to zero (also named ``non_neg``)."""

    def __call__(self, w):
        return w * (w >= 0).astype(w.dtype)


class UnitNorm(Constraint):
    """UnitNorm weight constraint: scale each slice along ``axis`` to L2 norm 1: ``w / (epsilon + norm)``.

    Also named ``unit_norm``.

    Parameters
    ----------
    axis : int or list of int, default 0
        The axes the norms are taken along.
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return (w / (_EPSILON + _norms(w, self.axis))).astype(w.dtype, copy=False)

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"axis": self.axis}


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm  # Keras's lower-case names

_BY_NAME = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
            "MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm}


def get(identifier) -> Constraint | None:
    """A constraint from a name (with Keras's defaults), a serialized dict, a Constraint or a callable.

    Parameters
    ----------
    identifier : str, dict, Constraint, callable or None
        A snake-case or class name (``'max_norm'``, ``'MaxNorm'`` ...), a ``serialize`` dict, a
        constraint or callable (returned as it is), or ``None``.

    Returns
    -------
    Constraint, callable or None
        The constraint, or ``None`` for ``None``.

    Raises
    ------
    ValueError
        If the name, or a dict's ``class_name``, is unknown.
    TypeError
        If ``identifier`` is none of the above.
    """
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown constraint: {identifier!r}. Expected one of {sorted(_BY_NAME)}.")
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        if identifier["class_name"] not in _BY_NAME:
            raise ValueError(f"Unknown constraint: {identifier['class_name']!r}. Expected one of {sorted(_BY_NAME)}.")
        return _BY_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret constraint: {identifier!r}. Expected a name, a Constraint or a callable.")


def serialize(constraint) -> dict | None:
    """The dict ``get`` rebuilds ``constraint`` from.

    Parameters
    ----------
    constraint : Constraint or None
        The constraint.

    Returns
    -------
    dict or None
        ``{'class_name': <its class name>, 'config': constraint.get_config()}``; ``None`` for ``None``.
    """
    if constraint is None:
        return None
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}
