"""Model state: a Tensor that layers own and optimizers update in place."""

from __future__ import annotations

import numpy as np

from deepfin.engine.tensor import Tensor


class Variable(Tensor):
    """A named weight. Trainable variables require gradients; ``assign`` writes in place.

    Parameters
    ----------
    value : array_like or Tensor
        The initial value (its dtype rules are ``Tensor``'s).
    trainable : bool, default True
        Whether the variable requires gradients and optimizers update it.
    name : str, default "variable"
        The name; ``path`` starts equal to it.
    dtype : str, np.dtype or None, default None
        The dtype of the value.
    regularizer : callable or None, default None
        A penalty on the value, added to the training loss (``deepfin.regularizers``).
    constraint : callable or None, default None
        Applied to the value after each optimizer update (``deepfin.constraints``).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.engine import Variable
    >>> w = Variable(np.zeros(2, dtype=np.float32), name="w")
    >>> w.assign_add([1.0, 2.0])
    >>> w
    <Variable path=w, shape=(2,), dtype=float32>
    >>> w.numpy()
    array([1., 2.], dtype=float32)
    """

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
        """Copy ``value`` into this variable, keeping its shape and dtype.

        Parameters
        ----------
        value : array_like or Tensor
            The new value, of the variable's shape; it is cast to the variable's dtype
            (``same_kind`` casting).

        Raises
        ------
        ValueError
            If the shape differs, or the value holds NaN or inf.
        """
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != self.data.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to variable '{self.path}' "
                f"of shape {self.data.shape}."
            )
        if not np.all(np.isfinite(value)):
            raise ValueError(f"Cannot assign non-finite values (NaN or inf) to '{self.path}'.")
        np.copyto(self.data, value, casting="same_kind")

    def use_storage(self, storage: np.ndarray) -> None:
        """Keep this variable's values in ``storage`` from now on, such as a view of a buffer an optimizer packs
        many small variables into; the current values are copied in first.

        Parameters
        ----------
        storage : np.ndarray
            An array of the variable's shape; ``data`` becomes it (the values cast to its dtype, ``same_kind``).

        Raises
        ------
        ValueError
            If ``storage``'s shape differs from the variable's.
        """
        if storage.shape != self.data.shape:
            raise ValueError(f"Variable '{self.path}' of shape {self.data.shape} cannot keep its values in an array "
                             f"of shape {storage.shape}.")
        if storage is not self.data:
            np.copyto(storage, self.data, casting="same_kind")
            self.data = storage

    def assign_add(self, delta) -> None:
        """Add ``delta`` to this variable in place.

        Parameters
        ----------
        delta : array_like or Tensor
            The amount to add; the sum must keep the variable's shape (see ``assign``).
        """
        self.assign(self.data + np.asarray(delta.data if isinstance(delta, Tensor) else delta))

    def assign_sub(self, delta) -> None:
        """Subtract ``delta`` from this variable in place.

        Parameters
        ----------
        delta : array_like or Tensor
            The amount to subtract; the difference must keep the variable's shape (see ``assign``).
        """
        self.assign(self.data - np.asarray(delta.data if isinstance(delta, Tensor) else delta))

    @property
    def value(self) -> Tensor:
        """The current value, as a constant Tensor (Keras's ``variable.value``)."""
        return Tensor(self.data.copy())

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"
