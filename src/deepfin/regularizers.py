"""Weight penalties added to the training loss: ``l1``, ``l2``, ``l1_l2`` (Keras formulas)."""

from __future__ import annotations

from deepfin.engine import ops
from deepfin.engine.tensor import Tensor


class Regularizer:
    def __call__(self, weight: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)


def _check_factor(name: str, value) -> float:
    if not isinstance(value, (int, float)) or value < 0 or value != value:
        raise ValueError(f"{name} must be a non-negative number. Received: {name}={value!r}")
    return float(value)


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, weight: Tensor) -> Tensor:
        penalty = None
        if self.l1:
            penalty = ops.abs(weight).sum() * self.l1
        if self.l2:
            term = ops.square(weight).sum() * self.l2
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else weight.sum() * 0.0

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


def l1(l1=0.01) -> L1:  # noqa: A002
    return L1(l1)


def l2(l2=0.01) -> L2:
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01) -> L1L2:  # noqa: A002  (Keras 2's defaults)
    return L1L2(l1, l2)


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier) -> Regularizer | None:
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
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
