"""Weight penalties added to the training loss: ``l1``, ``l2``, ``l1_l2`` (Keras formulas).

A regularizer is called with a weight Tensor and returns a scalar Tensor, recorded for
backpropagation, that the model adds to its loss.

Examples
--------
>>> import numpy as np
>>> from deepfin import regularizers
>>> from deepfin.engine import Tensor
>>> regularizers.L1L2(l1=0.1, l2=0.01)(Tensor(np.array([1.0, -2.0])))
Tensor(0.35, dtype=float64)
>>> regularizers.serialize(regularizers.l2(0.001))
{'class_name': 'L2', 'config': {'l2': 0.001}}
"""

from __future__ import annotations

from deepfin.engine import functions
from deepfin.engine.tensor import Tensor


class Regularizer:
    """Base class: ``regularizer(weight) -> Tensor``, a scalar penalty.

    A subclass implements ``__call__`` and, when its constructor takes arguments, ``get_config``.
    """

    def __call__(self, weight: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor's arguments, as ``from_config`` takes them (none here)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        """A regularizer built from ``get_config``'s dict: ``cls(**config)``."""
        return cls(**config)


def _check_factor(name: str, value) -> float:
    if not isinstance(value, (int, float)) or value < 0 or value != value:
        raise ValueError(f"{name} must be a non-negative number. Received: {name}={value!r}")
    return float(value)


class L1L2(Regularizer):
    """A regularizer that applies both L1 and L2 penalties: ``l1 * sum(|w|) + l2 * sum(w**2)``.

    Parameters
    ----------
    l1 : float, default 0.0
        The L1 factor, a non-negative number.
    l2 : float, default 0.0
        The L2 factor, a non-negative number.

    Raises
    ------
    ValueError
        If a factor is negative, NaN or not a number.
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, weight: Tensor) -> Tensor:
        penalty = None
        if self.l1:
            penalty = functions.abs(weight).sum() * self.l1
        if self.l2:
            term = functions.square(weight).sum() * self.l2
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else weight.sum() * 0.0

    def get_config(self) -> dict:
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """A regularizer that applies an L1 penalty: ``l1 * sum(|w|)``.

    Parameters
    ----------
    l1 : float, default 0.01
        The L1 factor, a non-negative number.
    """

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"l1": self.l1}


class L2(L1L2):
    """A regularizer that applies an L2 penalty: ``l2 * sum(w**2)``.

    Parameters
    ----------
    l2 : float, default 0.01
        The L2 factor, a non-negative number.
    """

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"l2": self.l2}


def l1(l1=0.01) -> L1:  # noqa: A002
    """An L1 regularizer, Keras's lower-case name for ``L1(l1)``.

    Parameters
    ----------
    l1 : float, default 0.01
        The L1 factor.

    Returns
    -------
    L1
        The regularizer.
    """
    return L1(l1)


def l2(l2=0.01) -> L2:
    """An L2 regularizer, Keras's lower-case name for ``L2(l2)``.

    Parameters
    ----------
    l2 : float, default 0.01
        The L2 factor.

    Returns
    -------
    L2
        The regularizer.
    """
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01) -> L1L2:  # noqa: A002  (Keras 2's defaults)
    """An L1 and L2 regularizer, ``L1L2(l1, l2)`` with Keras 2's defaults of 0.01 each.

    Parameters
    ----------
    l1 : float, default 0.01
        The L1 factor.
    l2 : float, default 0.01
        The L2 factor.

    Returns
    -------
    L1L2
        The regularizer.
    """
    return L1L2(l1, l2)


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier) -> Regularizer | None:
    """A regularizer from a name, a serialized dict, a Regularizer, a callable or None.

    Parameters
    ----------
    identifier : str, dict, Regularizer, callable or None
        ``'l1'``, ``'l2'``, ``'L1'``, ``'L2'`` (factor 0.01), ``'l1_l2'`` (0.01 each, as ``l1_l2()``),
        ``'L1L2'`` (0 each, as ``L1L2()``); a ``serialize`` dict; a regularizer or callable
        (returned as it is); or ``None``.

    Returns
    -------
    Regularizer, callable or None
        The regularizer, or ``None`` for ``None``.

    Raises
    ------
    ValueError
        If the name is unknown.
    TypeError
        If ``identifier`` is none of the above.
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown regularizer: {identifier!r}. Expected one of {sorted(_BY_NAME)}.")
        return _BY_NAME[identifier]() if identifier != "l1_l2" else l1_l2()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _BY_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret regularizer: {identifier!r}")


def serialize(regularizer: Regularizer | None) -> dict | None:
    """The dict ``get`` rebuilds ``regularizer`` from.

    Parameters
    ----------
    regularizer : Regularizer or None
        The regularizer.

    Returns
    -------
    dict or None
        ``{'class_name': <its class name>, 'config': regularizer.get_config()}``; ``None`` for ``None``.
    """
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
