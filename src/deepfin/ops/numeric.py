"""The NumPy-like ops of ``keras.ops`` over deepfin tensors: math, reductions, shapes, logic, creation.

Each op takes Tensors, NumPy arrays or Python values, broadcasts as NumPy does and returns a
Tensor; the math ops are differentiable (their gradients are checked against PyTorch in
``tests/test_ops.py``). Comparisons, logic, ``argmax`` and the creation ops return tensors
without a gradient. Integers and booleans given to a math op compute in ``floatx()``.

Examples
--------
>>> import numpy as np
>>> from deepfin import ops
>>> ops.add(np.array([1.0, 2.0], dtype=np.float32), 1)
Tensor([2. 3.], dtype=float32)
>>> ops.mean([[1.0, 2.0], [3.0, 4.0]], axis=0)
Tensor([2. 3.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from deepfin import backend
from deepfin.engine import functions as engine
from deepfin.engine.tensor import Tensor
from deepfin.ops.core import axis_tuple, convert_to_tensor, data_of, float_pair, to_float

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "negative", "power", "square", "sqrt", "abs",
    "absolute", "exp", "log", "log1p", "expm1", "sign", "round", "floor", "ceil",
    "mean", "sum", "max", "min", "std", "var", "prod", "cumsum", "logsumexp", "argmax", "argmin",
    "where", "maximum", "minimum", "clip", "matmul", "dot",
    "concatenate", "stack", "expand_dims", "squeeze", "reshape", "transpose", "take", "tile", "broadcast_to",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_not", "all", "any",
    "zeros", "ones", "zeros_like", "ones_like", "full", "full_like", "arange", "eye",
]


# ------------------------------------------------------------------ arithmetic
def add(x1, x2) -> Tensor:
    """Add arguments element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy; integers and booleans compute in ``floatx()``, and a
        scalar met with a tensor takes the tensor's dtype.

    Returns
    -------
    Tensor
        ``x1 + x2``, recorded for backpropagation.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.add([1, 2], [3, 4])
    Tensor([4. 6.], dtype=float32)
    """
    a, b = float_pair(x1, x2)
    return a + b


def subtract(x1, x2) -> Tensor:
    """Subtract arguments element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy; integers and booleans compute in ``floatx()``, and a
        scalar met with a tensor takes the tensor's dtype.

    Returns
    -------
    Tensor
        ``x1 - x2``, recorded for backpropagation.
    """
    a, b = float_pair(x1, x2)
    return a - b


def multiply(x1, x2) -> Tensor:
    """Multiply arguments element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy; integers and booleans compute in ``floatx()``, and a
        scalar met with a tensor takes the tensor's dtype.

    Returns
    -------
    Tensor
        ``x1 * x2``, recorded for backpropagation.
    """
    a, b = float_pair(x1, x2)
    return a * b


def divide(x1, x2) -> Tensor:
    """Divide arguments element-wise (true division; ``true_divide`` is the same op).

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy; integers and booleans compute in ``floatx()``, and a
        scalar met with a tensor takes the tensor's dtype.

    Returns
    -------
    Tensor
        ``x1 / x2``, recorded for backpropagation.
    """
    a, b = float_pair(x1, x2)
    return a / b


true_divide = divide


def negative(x) -> Tensor:
    """Numerical negative, element-wise.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``-x``, recorded for backpropagation.
    """
    return -to_float(x)


def power(x1, x2) -> Tensor:
    """First tensor elements raised to powers from the second, element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The bases and the exponents, broadcast as in NumPy; integers and booleans compute in
        ``floatx()``, and a scalar met with a tensor takes the tensor's dtype.

    Returns
    -------
    Tensor
        ``x1 ** x2``, recorded for backpropagation (the exponent's gradient is ``x1 ** x2 * log(x1)``).
    """
    a, b = float_pair(x1, x2)
    return a ** b


# ------------------------------------------------------------------ elementwise math
def square(x) -> Tensor:
    """Return the element-wise square of the input.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``x * x``, recorded for backpropagation.
    """
    return engine.square(to_float(x))


def sqrt(x) -> Tensor:
    """Return the non-negative square root of a tensor, element-wise.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``sqrt(x)``, recorded for backpropagation.
    """
    return engine.sqrt(to_float(x))


def abs(x) -> Tensor:  # noqa: A001  (keras.ops's name)
    """Compute the absolute value element-wise (``absolute`` is the same op).

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``|x|``, recorded for backpropagation (gradient ``sign(x)``, 0 at 0).
    """
    return engine.abs(to_float(x))


absolute = abs


def exp(x) -> Tensor:
    """Calculate the exponential of all elements in the input tensor.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``e ** x``, recorded for backpropagation.
    """
    return engine.exp(to_float(x))


def log(x) -> Tensor:
    """Natural logarithm, element-wise.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``log(x)``, recorded for backpropagation.
    """
    return engine.log(to_float(x))


def log1p(x) -> Tensor:
    """Natural logarithm of one plus ``x``, element-wise.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``log(1 + x)``, accurate for small ``x``, recorded for backpropagation.
    """
    return engine.log1p(to_float(x))


def expm1(x) -> Tensor:
    """Calculate ``exp(x) - 1`` for all elements in the tensor.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``exp(x) - 1``, accurate for small ``x``, recorded for backpropagation.
    """
    return engine.expm1(to_float(x))


def sign(x) -> Tensor:
    """The signs of the elements of ``x``: -1, 0 or 1.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        The signs, as floats; their gradient is 0 everywhere.
    """
    return engine.sign(to_float(x))


def round(x, decimals: int = 0) -> Tensor:  # noqa: A001
    """Evenly round to the given number of decimals.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    decimals : int, default 0
        The number of decimals to keep (negative: to the left of the point).

    Returns
    -------
    Tensor
        ``x`` rounded half to even (NumPy's and PyTorch's rule), as floats; its gradient is zero, so
        no graph is kept.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.round([0.5, 1.5, 2.5])
    Tensor([0. 2. 2.], dtype=float32)
    """
    return Tensor(np.round(data_of(to_float(x)), decimals))


def floor(x) -> Tensor:
    """Return the floor of the input, element-wise.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        The largest integer at most ``x``, as floats, without a gradient.
    """
    return Tensor(np.floor(data_of(to_float(x))))


def ceil(x) -> Tensor:
    """Return the ceiling of the input, element-wise.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        The smallest integer at least ``x``, as floats, without a gradient.
    """
    return Tensor(np.ceil(data_of(to_float(x))))


# ------------------------------------------------------------------ reductions
def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Compute the arithmetic mean along the given axes.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor
        The means, recorded for backpropagation.

    Raises
    ------
    ValueError
        If the axes to average over hold no element.
    """
    return to_float(x).mean(axis=axis_tuple(axis), keepdims=keepdims)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum of a tensor over the given axes.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor
        The sums, recorded for backpropagation.
    """
    return to_float(x).sum(axis=axis_tuple(axis), keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False, initial=None) -> Tensor:  # noqa: A001
    """Return the maximum of a tensor, or maxima along the given axes.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.
    initial : number or None, default None
        A lower bound on the result (``maximum(result, initial)``).

    Returns
    -------
    Tensor
        The maxima, recorded for backpropagation; tied maxima share the gradient equally.
    """
    out = to_float(x).max(axis=axis_tuple(axis), keepdims=keepdims)
    return out if initial is None else maximum(out, initial)


def min(x, axis=None, keepdims: bool = False, initial=None) -> Tensor:  # noqa: A001
    """Return the minimum of a tensor, or minima along the given axes.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.
    initial : number or None, default None
        An upper bound on the result (``minimum(result, initial)``).

    Returns
    -------
    Tensor
        The minima, recorded for backpropagation; tied minima share the gradient equally.
    """
    out = -(-to_float(x)).max(axis=axis_tuple(axis), keepdims=keepdims)
    return out if initial is None else minimum(out, initial)


def var(x, axis=None, keepdims: bool = False) -> Tensor:
    """Compute the variance along the given axes.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor
        The population variance (divided by n, as Keras and NumPy), recorded for backpropagation.
    """
    x, axis = to_float(x), axis_tuple(axis)
    return engine.square(x - x.mean(axis=axis, keepdims=True)).mean(axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims: bool = False) -> Tensor:
    """Compute the standard deviation along the given axes.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor
        The population standard deviation (``sqrt(var(x))``), recorded for backpropagation; its
        gradient is infinite where every value is the same.
    """
    return engine.sqrt(var(x, axis=axis, keepdims=keepdims))


def prod(x, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    """Return the product of tensor elements over the given axes.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.
    dtype : str, np.dtype or None, default None
        The dtype of the result (a cast after the product); ``None`` keeps the input's float dtype.

    Returns
    -------
    Tensor
        The products, recorded for backpropagation, with exact gradients even where a factor is 0.
    """
    out = engine.prod(to_float(x), axis=axis_tuple(axis), keepdims=keepdims)
    return out if dtype is None else engine.cast(out, dtype)


def cumsum(x, axis=None, dtype=None) -> Tensor:
    """Return the cumulative sum of elements along an axis.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int or None, default None
        The axis to sum along; ``None`` sums over the flattened tensor.
    dtype : str, np.dtype or None, default None
        The dtype of the result (a cast after the sum); ``None`` keeps the input's float dtype.

    Returns
    -------
    Tensor
        The running sums, recorded for backpropagation.
    """
    out = engine.cumsum(to_float(x), axis=axis)
    return out if dtype is None else engine.cast(out, dtype)


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """Compute the logarithm of the sum of exponentials of elements in a tensor.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor
        ``log(sum(exp(x)))`` over ``axis``, computed after subtracting the maximum, so finite for any
        ``x``; recorded for backpropagation.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.logsumexp([1000.0, 1000.0])
    Tensor(1000.6932, dtype=float32)
    """
    x, axis = to_float(x), axis_tuple(axis)
    shift = np.max(x.data, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype)
    total = engine.exp(x - shift).sum(axis=axis, keepdims=keepdims)
    return engine.log(total) + shift.reshape(total.shape)


def argmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Return the indices of the maximum values along an axis.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (read as it is, without a cast).
    axis : int or None, default None
        The axis to search; ``None`` searches the flattened tensor.
    keepdims : bool, default False
        Keep the reduced axis with length 1.

    Returns
    -------
    Tensor
        The index of the largest value (the first among ties), as int32, without a gradient.
    """
    return Tensor(np.argmax(data_of(x), axis=axis, keepdims=keepdims).astype(np.int32), dtype=np.int32)


def argmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Return the indices of the minimum values along an axis.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (read as it is, without a cast).
    axis : int or None, default None
        The axis to search; ``None`` searches the flattened tensor.
    keepdims : bool, default False
        Keep the reduced axis with length 1.

    Returns
    -------
    Tensor
        The index of the smallest value (the first among ties), as int32, without a gradient.
    """
    return Tensor(np.argmin(data_of(x), axis=axis, keepdims=keepdims).astype(np.int32), dtype=np.int32)


# ------------------------------------------------------------------ selection
def where(condition, x1=None, x2=None):
    """Return elements chosen from ``x1`` or ``x2`` depending on ``condition``.

    ``x1`` where ``condition`` holds, else ``x2``; with ``condition`` alone, the indices where it holds.

    Parameters
    ----------
    condition : Tensor or array_like
        Read as booleans; it takes no part in the gradient.
    x1, x2 : Tensor, np.ndarray, number or None, default None
        The values taken where ``condition`` is true and where it is false, broadcast together
        (as ``add``'s operands are); give both or neither.

    Returns
    -------
    Tensor or tuple of Tensor
        The selection, recorded for backpropagation (each operand gets the gradient where it was
        taken); the one-argument form returns a tuple of int Tensors, one per axis, as ``np.nonzero``.

    Raises
    ------
    ValueError
        If only one of ``x1`` and ``x2`` is given.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.where([True, False], [1.0, 2.0], 0.0)
    Tensor([1. 0.], dtype=float32)
    """
    if x1 is None and x2 is None:
        return tuple(Tensor(i, dtype=i.dtype) for i in np.nonzero(data_of(condition)))
    if x1 is None or x2 is None:
        raise ValueError(f"where() needs both x1 and x2, or neither. Received: x1={x1!r:.40}, x2={x2!r:.40}")
    a, b = float_pair(x1, x2)
    return engine.where(data_of(condition), a, b)


def maximum(x1, x2) -> Tensor:
    """Element-wise maximum of ``x1`` and ``x2``.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy; integers and booleans compute in ``floatx()``, and a
        scalar met with a tensor takes the tensor's dtype.

    Returns
    -------
    Tensor
        The larger values, recorded for backpropagation; at a tie each operand gets half the gradient,
        as in PyTorch.
    """
    return engine.maximum(*float_pair(x1, x2))


def minimum(x1, x2) -> Tensor:
    """Element-wise minimum of ``x1`` and ``x2``.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy; integers and booleans compute in ``floatx()``, and a
        scalar met with a tensor takes the tensor's dtype.

    Returns
    -------
    Tensor
        The smaller values, recorded for backpropagation; at a tie each operand gets half the gradient,
        as in PyTorch.
    """
    return engine.minimum(*float_pair(x1, x2))


def clip(x, x_min, x_max) -> Tensor:
    """Clip (limit) the values of ``x`` to ``[x_min, x_max]``.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input; integers and booleans compute in ``floatx()``.
    x_min, x_max : Tensor, np.ndarray or number
        The bounds. Scalars (``x_min <= x_max``) clip in one op; arrays broadcast, as
        ``minimum(maximum(x, x_min), x_max)``.

    Returns
    -------
    Tensor
        The clipped values, recorded for backpropagation. With scalar bounds the gradient passes where
        ``x`` lies within them (bounds included); with array bounds a value equal to a bound shares
        its gradient with the bound, as ``maximum`` and ``minimum`` do.

    Raises
    ------
    ValueError
        If scalar bounds have ``x_min > x_max``.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.clip([-2.0, 0.5, 3.0], 0.0, 1.0)
    Tensor([0.  0.5 1. ], dtype=float32)
    """
    if np.ndim(x_min) == 0 and np.ndim(x_max) == 0:
        return engine.clip(to_float(x), float(x_min), float(x_max))
    return minimum(maximum(x, x_min), x_max)


# ------------------------------------------------------------------ linear algebra
def matmul(x1, x2) -> Tensor:
    """Matrix product of two tensors, with NumPy's rules.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or array_like
        The operands, of at least one axis each (leading axes broadcast); integers and booleans
        compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``x1 @ x2`` (1-D operands as ``np.matmul`` takes them), recorded for backpropagation.

    Raises
    ------
    ValueError
        If an operand is 0-dimensional.
    """
    return engine.matmul(*float_pair(x1, x2))


def dot(x1, x2) -> Tensor:
    """Dot product of two tensors.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands; integers and booleans compute in ``floatx()``, and a scalar met with a
        tensor takes the tensor's dtype.

    Returns
    -------
    Tensor
        The product of scalars, the inner product of vectors, otherwise ``matmul`` (as Keras's torch
        backend), recorded for backpropagation.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.dot([1.0, 2.0], [3.0, 4.0])
    Tensor(11., dtype=float32)
    """
    a, b = float_pair(x1, x2)
    return a * b if a.ndim == 0 or b.ndim == 0 else engine.matmul(a, b)


# ------------------------------------------------------------------ shapes
def concatenate(xs, axis: int = 0) -> Tensor:
    """Join a sequence of tensors along an existing axis.

    Parameters
    ----------
    xs : sequence of Tensor, np.ndarray or array_like
        The tensors (converted by ``convert_to_tensor``, so integers stay integers); their shapes
        agree except along ``axis``.
    axis : int, default 0
        The axis to join along (the first by default, as Keras).

    Returns
    -------
    Tensor
        The joined tensor, recorded for backpropagation.

    Raises
    ------
    ValueError
        If ``xs`` is empty.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.concatenate([[1.0], [2.0, 3.0]])
    Tensor([1. 2. 3.], dtype=float32)
    """
    if len(xs) == 0:
        raise ValueError("concatenate needs at least one tensor. Received: xs=[]")
    return engine.concatenate([convert_to_tensor(x) for x in xs], axis=axis)


def stack(x, axis: int = 0) -> Tensor:
    """Join a sequence of tensors along a new axis.

    Parameters
    ----------
    x : sequence of Tensor, np.ndarray or array_like
        The tensors, all of one shape (converted by ``convert_to_tensor``).
    axis : int, default 0
        The position of the new axis.

    Returns
    -------
    Tensor
        The stacked tensor, recorded for backpropagation.

    Raises
    ------
    ValueError
        If ``x`` is empty.
    """
    if len(x) == 0:
        raise ValueError("stack needs at least one tensor. Received: x=[]")
    return engine.stack([convert_to_tensor(t) for t in x], axis=axis)


def expand_dims(x, axis) -> Tensor:
    """Expand the shape of a tensor with axes of length 1.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (converted by ``convert_to_tensor``).
    axis : int, list or tuple of int
        The positions of the new axes in the result.

    Returns
    -------
    Tensor
        ``x`` reshaped, recorded for backpropagation.
    """
    x = convert_to_tensor(x)
    return x.reshape(np.expand_dims(x.data, axis_tuple(axis)).shape)


def squeeze(x, axis=None) -> Tensor:
    """Remove axes of length one from ``x``.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (converted by ``convert_to_tensor``).
    axis : int, list or tuple of int, or None, default None
        The axes to remove, each of length 1; ``None`` removes every axis of length 1.

    Returns
    -------
    Tensor
        ``x`` reshaped, recorded for backpropagation.

    Raises
    ------
    ValueError
        If an axis in ``axis`` does not have length 1.
    """
    x = convert_to_tensor(x)
    try:
        shape = np.squeeze(x.data, axis_tuple(axis)).shape
    except ValueError:
        raise ValueError(f"squeeze can only remove axes of length 1. Received: x.shape={x.shape}, "
                         f"axis={axis}") from None
    return x.reshape(shape)


def reshape(x, newshape) -> Tensor:
    """Give a new shape to a tensor without changing its data.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (converted by ``convert_to_tensor``).
    newshape : int or tuple of int
        The new shape; one entry may be -1.

    Returns
    -------
    Tensor
        ``x`` reshaped, recorded for backpropagation.
    """
    return convert_to_tensor(x).reshape(newshape)


def transpose(x, axes=None) -> Tensor:
    """Return a tensor with axes transposed.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (converted by ``convert_to_tensor``).
    axes : sequence of int or None, default None
        The permutation; ``None`` reverses the axes.

    Returns
    -------
    Tensor
        ``x`` with its axes permuted, recorded for backpropagation.
    """
    x = convert_to_tensor(x)
    return x.transpose() if axes is None else x.transpose(tuple(axes))


def take(x, indices, axis=None) -> Tensor:
    """Take elements from a tensor along an axis.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (converted by ``convert_to_tensor``).
    indices : Tensor or array_like of int
        The indices to take.
    axis : int or None, default None
        The axis to take along; ``None`` takes from the flattened tensor.

    Returns
    -------
    Tensor
        The elements at ``indices``, recorded for backpropagation; repeated indices add up their
        gradients.
    """
    x, indices = convert_to_tensor(x), data_of(indices)
    if axis is None:
        return x.reshape(-1)[indices]
    return x[(slice(None),) * (axis % x.ndim) + (indices,)]


def tile(x, repeats) -> Tensor:
    """Repeat ``x`` the number of times given by ``repeats``, as ``np.tile``.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (converted by ``convert_to_tensor``).
    repeats : int or sequence of int
        The repetitions along each axis, aligned with ``x``'s last axes.

    Returns
    -------
    Tensor
        The tiled tensor, recorded for backpropagation (the gradient sums the copies).

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.tile([1.0, 2.0], 2)
    Tensor([1. 2. 1. 2.], dtype=float32)
    """
    x = convert_to_tensor(x)
    repeats = (int(repeats),) if np.ndim(repeats) == 0 else tuple(int(r) for r in repeats)
    ndim = x.ndim if x.ndim > len(repeats) else len(repeats)
    shape = (1,) * (ndim - x.ndim) + x.shape
    repeats = (1,) * (ndim - len(repeats)) + repeats
    interleaved = x.reshape(tuple(d for n in shape for d in (1, n)))
    copies = engine.broadcast_to(interleaved, tuple(d for r, n in zip(repeats, shape) for d in (r, n)))
    return copies.reshape(tuple(r * n for r, n in zip(repeats, shape)))


def broadcast_to(x, shape) -> Tensor:
    """Broadcast a tensor to a new shape.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The input (converted by ``convert_to_tensor``).
    shape : tuple of int
        The shape to broadcast to, by NumPy's rules.

    Returns
    -------
    Tensor
        A new tensor of ``shape``, recorded for backpropagation (the gradient is summed back).
    """
    return engine.broadcast_to(convert_to_tensor(x), shape)


# ------------------------------------------------------------------ comparisons and logic (no gradient)
def _boolean(fn, *operands) -> Tensor:
    return Tensor(fn(*(data_of(x) for x in operands)), dtype=bool)


def equal(x1, x2) -> Tensor:
    """Return ``x1 == x2`` element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy (compared as given, without a cast).

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return _boolean(np.equal, x1, x2)


def not_equal(x1, x2) -> Tensor:
    """Return ``x1 != x2`` element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy (compared as given, without a cast).

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return _boolean(np.not_equal, x1, x2)


def greater(x1, x2) -> Tensor:
    """Return the truth value of ``x1 > x2`` element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy (compared as given, without a cast).

    Returns
    -------
    Tensor
        Booleans, without a gradient.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.greater([1, 2], 1)
    Tensor([False  True], dtype=bool)
    """
    return _boolean(np.greater, x1, x2)


def greater_equal(x1, x2) -> Tensor:
    """Return the truth value of ``x1 >= x2`` element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy (compared as given, without a cast).

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return _boolean(np.greater_equal, x1, x2)


def less(x1, x2) -> Tensor:
    """Return the truth value of ``x1 < x2`` element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy (compared as given, without a cast).

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return _boolean(np.less, x1, x2)


def less_equal(x1, x2) -> Tensor:
    """Return the truth value of ``x1 <= x2`` element-wise.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy (compared as given, without a cast).

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return _boolean(np.less_equal, x1, x2)


def logical_and(x1, x2) -> Tensor:
    """Compute the element-wise logical AND of the inputs.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy (read as truth values).

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return _boolean(np.logical_and, x1, x2)


def logical_or(x1, x2) -> Tensor:
    """Compute the element-wise logical OR of the inputs.

    Parameters
    ----------
    x1, x2 : Tensor, np.ndarray or number
        The operands, broadcast as in NumPy (read as truth values).

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return _boolean(np.logical_or, x1, x2)


def logical_not(x) -> Tensor:
    """Compute the element-wise logical NOT of the input.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input, read as truth values.

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return _boolean(np.logical_not, x)


def all(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Test whether all elements along the given axes evaluate to True.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input, read as truth values.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return Tensor(np.all(data_of(x), axis=axis_tuple(axis), keepdims=keepdims), dtype=bool)


def any(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Test whether any element along the given axes evaluates to True.

    Parameters
    ----------
    x : Tensor, np.ndarray or number
        The input, read as truth values.
    axis : int, list or tuple of int, or None, default None
        The axes to reduce; ``None`` reduces every axis.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor
        Booleans, without a gradient.
    """
    return Tensor(np.any(data_of(x), axis=axis_tuple(axis), keepdims=keepdims), dtype=bool)


# ------------------------------------------------------------------ creation (no gradient)
def _dtype(dtype) -> np.dtype:
    return np.dtype(backend.floatx() if dtype is None else dtype)


def _constant(array: np.ndarray) -> Tensor:
    return Tensor(array, dtype=array.dtype)


def zeros(shape, dtype=None) -> Tensor:
    """Return a new tensor of the given shape and dtype, filled with zeros.

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` means ``floatx()``.

    Returns
    -------
    Tensor
        A constant tensor, without a gradient.
    """
    return _constant(np.zeros(shape, _dtype(dtype)))


def ones(shape, dtype=None) -> Tensor:
    """Return a new tensor of the given shape and dtype, filled with ones.

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` means ``floatx()``.

    Returns
    -------
    Tensor
        A constant tensor, without a gradient.
    """
    return _constant(np.ones(shape, _dtype(dtype)))


def full(shape, fill_value, dtype=None) -> Tensor:
    """Return a new tensor of the given shape and dtype, filled with ``fill_value``.

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    fill_value : Tensor, np.ndarray or number
        The value, broadcast to ``shape``.
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` means ``floatx()``.

    Returns
    -------
    Tensor
        A constant tensor, without a gradient.
    """
    return _constant(np.full(shape, data_of(fill_value), _dtype(dtype)))


def zeros_like(x, dtype=None) -> Tensor:
    """Return a tensor of zeros with the shape and dtype of ``x``.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The template (its dtype as ``convert_to_tensor`` gives it).
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` takes ``x``'s.

    Returns
    -------
    Tensor
        A constant tensor, without a gradient.
    """
    return _constant(np.zeros(*_shape_and_dtype(x, dtype)))


def ones_like(x, dtype=None) -> Tensor:
    """Return a tensor of ones with the shape and dtype of ``x``.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The template (its dtype as ``convert_to_tensor`` gives it).
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` takes ``x``'s.

    Returns
    -------
    Tensor
        A constant tensor, without a gradient.
    """
    return _constant(np.ones(*_shape_and_dtype(x, dtype)))


def full_like(x, fill_value, dtype=None) -> Tensor:
    """Return a tensor with the shape and dtype of ``x``, filled with ``fill_value``.

    Parameters
    ----------
    x : Tensor, np.ndarray or array_like
        The template (its dtype as ``convert_to_tensor`` gives it).
    fill_value : Tensor, np.ndarray or number
        The value, broadcast to ``x``'s shape.
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` takes ``x``'s.

    Returns
    -------
    Tensor
        A constant tensor, without a gradient.
    """
    shape, dtype = _shape_and_dtype(x, dtype)
    return _constant(np.full(shape, data_of(fill_value), dtype))


def _shape_and_dtype(x, dtype) -> tuple[tuple[int, ...], np.dtype]:
    """``x``'s shape, and ``dtype`` or else ``x``'s dtype, for the ``*_like`` ops."""
    x = convert_to_tensor(x)
    return x.shape, x.dtype if dtype is None else np.dtype(dtype)


def arange(start, stop=None, step=None, dtype=None) -> Tensor:
    """Return evenly spaced values within a given interval.

    Parameters
    ----------
    start : number
        The start of the interval, or its end (from 0) when ``stop`` is None.
    stop : number or None, default None
        The end of the interval, excluded.
    step : number or None, default None
        The spacing; ``None`` means 1.
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` means int32 when every bound given is an int, else ``floatx()``.

    Returns
    -------
    Tensor
        The values in ``[start, stop)``, a constant tensor without a gradient.

    Examples
    --------
    >>> from deepfin import ops
    >>> ops.arange(3)
    Tensor([0 1 2], dtype=int32)
    >>> ops.arange(1, 2, 0.5)
    Tensor([1.  1.5], dtype=float32)
    """
    bounds = [v for v in (start, stop, step) if v is not None]
    if dtype is None:
        dtype = np.int32 if np.asarray(bounds).dtype.kind in "iu" else backend.floatx()
    start, stop = (0, start) if stop is None else (start, stop)
    return _constant(np.arange(start, stop, 1 if step is None else step, dtype=np.dtype(dtype)))


def eye(N, M=None, k: int = 0, dtype=None) -> Tensor:  # noqa: N803  (keras.ops's argument names)
    """Return a 2-D tensor with ones on the diagonal and zeros elsewhere.

    Parameters
    ----------
    N : int
        The number of rows.
    M : int or None, default None
        The number of columns; ``None`` means ``N``.
    k : int, default 0
        The diagonal: 0 the main one, positive above it, negative below.
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` means ``floatx()``.

    Returns
    -------
    Tensor
        A constant tensor, without a gradient.
    """
    return _constant(np.eye(N, M, k, dtype=_dtype(dtype)))
