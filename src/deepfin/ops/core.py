"""Conversions between deepfin tensors, NumPy arrays and Python values, with Keras's dtype rules.

``convert_to_tensor`` keeps a NumPy array's dtype and gives Python values Keras's defaults
(floats ``floatx()``, ints ``int32``). The math ops compute in floats: their inputs go through
``to_float``, which turns integers and booleans into ``floatx()``, and a Python or 0-d NumPy
scalar met with a tensor takes that tensor's dtype, so ``float32 tensor * 2.5`` stays float32.
"""

from __future__ import annotations

import numpy as np

from deepfin import backend
from deepfin.engine import functions as engine
from deepfin.engine.tensor import Tensor

__all__ = ["cast", "convert_to_numpy", "convert_to_tensor", "shape"]


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> Tensor:
    """``x`` as a Tensor: a Tensor passes through (cast to ``dtype`` if given), an array keeps its dtype.

    Python floats (and lists of them) become ``floatx()``, Python ints ``int32``, as in Keras;
    Python booleans stay boolean. ``sparse`` and ``ragged`` tensors do not exist in deepfin.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The value.
    dtype : str, np.dtype or None, default None
        The dtype of the result; a Tensor is cast with ``cast`` (differentiable between floats).
    sparse, ragged : bool or None, default None
        Keras's flags; only a false value is accepted.

    Returns
    -------
    Tensor
        ``x`` itself (a Tensor without ``dtype``), or a new tensor.

    Raises
    ------
    ValueError
        If ``sparse`` or ``ragged`` is true.
    TypeError
        If ``x`` holds something other than numbers (and no ``dtype`` is given).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import ops
    >>> ops.convert_to_tensor([1, 2])
    Tensor([1 2], dtype=int32)
    >>> ops.convert_to_tensor(np.array([1.5]))
    Tensor([1.5], dtype=float64)
    """
    if sparse or ragged:
        raise ValueError(f"deepfin has no sparse or ragged tensors. Received: sparse={sparse}, ragged={ragged}")
    if isinstance(x, Tensor):
        return x if dtype is None else engine.cast(x, dtype)
    if dtype is not None:
        return Tensor(np.asarray(x, dtype=np.dtype(dtype)), dtype=np.dtype(dtype))
    array = _numeric(x, "convert_to_tensor")
    if not isinstance(x, (np.ndarray, np.generic)):
        if array.dtype.kind == "f":
            array = array.astype(backend.floatx())
        elif array.dtype.kind in "iu":
            array = array.astype(np.int32)
    return Tensor(array, dtype=array.dtype)


def convert_to_numpy(x) -> np.ndarray:
    """A NumPy copy of a Tensor, array or Python value.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The value.

    Returns
    -------
    np.ndarray
        A new array; writing into it leaves ``x`` as it was.
    """
    return np.array(x.data if isinstance(x, Tensor) else x)


def cast(x, dtype) -> Tensor:
    """Cast a tensor to the desired dtype.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The value (converted by ``convert_to_tensor`` first).
    dtype : str or np.dtype
        The dtype: a name such as ``'float32'`` or a NumPy dtype.

    Returns
    -------
    Tensor
        ``x`` as ``dtype``; recorded for backpropagation between float dtypes, a constant otherwise.
    """
    return engine.cast(convert_to_tensor(x), dtype)


def shape(x) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple of ints.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The value.

    Returns
    -------
    tuple of int
        Its shape (``()`` for a scalar).
    """
    return tuple(x.shape) if isinstance(x, Tensor) else np.shape(x)


# ------------------------------------------------------------------ helpers for the other op modules
def data_of(x) -> np.ndarray:
    """The array behind a Tensor, or ``x`` as an array.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The value.

    Returns
    -------
    np.ndarray
        ``x.data`` for a Tensor (not a copy), else ``np.asarray(x)``.
    """
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def to_float(x) -> Tensor:
    """``x`` as a float Tensor: float Tensors and arrays as they are, anything else in ``floatx()``.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The value; Python floats (and lists of them) become ``floatx()`` too.

    Returns
    -------
    Tensor
        ``x`` itself when it is a float Tensor; otherwise a float tensor (a new tensor, cut from the
        graph, for an integer or boolean Tensor).

    Raises
    ------
    TypeError
        If ``x`` holds something other than numbers.
    """
    if isinstance(x, Tensor):
        return x if x.data.dtype.kind == "f" else Tensor(x.data.astype(backend.floatx()))
    array = _numeric(x, "an op")
    if array.dtype.kind != "f" or not isinstance(x, (np.ndarray, np.generic)):
        array = array.astype(backend.floatx())
    return Tensor(array)


def float_pair(x1, x2) -> tuple[Tensor, Tensor]:
    """Two operands as float Tensors; a scalar met with a tensor takes the tensor's dtype.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray, number or sequence
        The operands. A Python or 0-d NumPy scalar met with a non-scalar takes its float dtype;
        otherwise each goes through ``to_float``.

    Returns
    -------
    tuple of Tensor
        The two float operands.
    """
    scalar1, scalar2 = _is_scalar(x1), _is_scalar(x2)
    if scalar1 and not scalar2:
        x2 = to_float(x2)
        return Tensor(np.asarray(x1, dtype=x2.dtype)), x2
    if scalar2 and not scalar1:
        x1 = to_float(x1)
        return x1, Tensor(np.asarray(x2, dtype=x1.dtype))
    return to_float(x1), to_float(x2)


def axis_tuple(axis):
    """An axis argument as NumPy takes it: Keras takes an int, a list or a tuple, NumPy an int or a tuple.

    Parameters
    ----------
    axis : int, list or tuple of int, or None
        The axis argument.

    Returns
    -------
    int, tuple of int or None
        A list turned into a tuple; anything else as it is.
    """
    return tuple(axis) if isinstance(axis, list) else axis


def _is_scalar(x) -> bool:
    return not isinstance(x, Tensor) and np.ndim(x) == 0


def _numeric(x, where: str) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where} expects numbers. Received a value of dtype {array.dtype}: {x!r:.80}")
    return array
