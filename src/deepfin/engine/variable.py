"""Model state: a Tensor that layers own and optimizers update in place."""

from __future__ import annotations

import numpy as np

from deepfin.engine.tensor import Tensor


class Variable(Tensor):
    """A named weight. Trainable variables require gradients; ``assign`` writes in place."""

    __slots__ = ("name", "path", "trainable", "regularizer", "constraint")

    def __init__(self, value, trainable: bool = True, name: str = "variable", dtype=None,
                 regularizer=None, constraint=None):
        super().__init__(value, requires_grad=trainable, dtype=dtype)
        self.name = name
        self.path = name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint  # applied to the value after each optimizer update (deepfin.constraints)

    def assign(self, value) -> None:
        """Copy ``value`` into this variable, keeping its shape and dtype."""
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != self.data.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to variable '{self.path}' "
                f"of shape {self.data.shape}."
            )
        if not np.all(np.isfinite(value)):
            raise ValueError(f"Cannot assign non-finite values (NaN or inf) to '{self.path}'.")
        np.copyto(self.data, value, casting="same_kind")

    def assign_add(self, delta) -> None:
        """Add ``delta`` to this variable in place."""
        self.assign(self.data + np.asarray(delta.data if isinstance(delta, Tensor) else delta))

    def assign_sub(self, delta) -> None:
        """Subtract ``delta`` from this variable in place."""
        self.assign(self.data - np.asarray(delta.data if isinstance(delta, Tensor) else delta))

    @property
    def value(self) -> Tensor:
        """The current value, as a constant Tensor (Keras's ``variable.value``)."""
        return Tensor(self.data.copy())

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"
