"""The NumPy-like ops of ``keras.ops`` over deepfin tensors: math, reductions, shapes, logic, creation.

Each op takes Tensors, NumPy arrays or Python values, broadcasts as NumPy does and returns a
Tensor; the math ops are differentiable (their gradients are checked against PyTorch in
``tests/test_ops.py``). Comparisons, logic, ``argmax`` and the creation ops return tensors
without a gradient. Integers and booleans given to a math op compute in ``floatx()``.
"""

from __future__ import annotations

import numpy as np

from deepfin import backend
from deepfin.engine import ops as engine
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
    a, b = float_pair(x1, x2)
    return a + b


def subtract(x1, x2) -> Tensor:
    a, b = float_pair(x1, x2)
    return a - b


def multiply(x1, x2) -> Tensor:
    a, b = float_pair(x1, x2)
    return a * b


def divide(x1, x2) -> Tensor:
    a, b = float_pair(x1, x2)
    return a / b


true_divide = divide


def negative(x) -> Tensor:
    return -to_float(x)


def power(x1, x2) -> Tensor:
    a, b = float_pair(x1, x2)
    return a ** b


# ------------------------------------------------------------------ elementwise math
def square(x) -> Tensor:
    return engine.square(to_float(x))


def sqrt(x) -> Tensor:
    return engine.sqrt(to_float(x))


def abs(x) -> Tensor:  # noqa: A001  (keras.ops's name)
    return engine.abs(to_float(x))


absolute = abs


def exp(x) -> Tensor:
    return engine.exp(to_float(x))


def log(x) -> Tensor:
    return engine.log(to_float(x))


def log1p(x) -> Tensor:
    return engine.log1p(to_float(x))


def expm1(x) -> Tensor:
    return engine.expm1(to_float(x))


def sign(x) -> Tensor:
    return engine.sign(to_float(x))


def round(x, decimals: int = 0) -> Tensor:  # noqa: A001
    """``x`` rounded half to even (NumPy's and PyTorch's rule); its gradient is zero, so no graph is kept."""
    return Tensor(np.round(data_of(to_float(x)), decimals))


def floor(x) -> Tensor:
    """Largest integer at most ``x``, as floats; no gradient."""
    return Tensor(np.floor(data_of(to_float(x))))


def ceil(x) -> Tensor:
    """Smallest integer at least ``x``, as floats; no gradient."""
    return Tensor(np.ceil(data_of(to_float(x))))


# ------------------------------------------------------------------ reductions
def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    return to_float(x).mean(axis=axis_tuple(axis), keepdims=keepdims)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return to_float(x).sum(axis=axis_tuple(axis), keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False, initial=None) -> Tensor:  # noqa: A001
    """Largest value over ``axis``, and at least ``initial``; tied maxima share the gradient equally."""
    out = to_float(x).max(axis=axis_tuple(axis), keepdims=keepdims)
    return out if initial is None else maximum(out, initial)


def min(x, axis=None, keepdims: bool = False, initial=None) -> Tensor:  # noqa: A001
    """Smallest value over ``axis``, and at most ``initial``; tied minima share the gradient equally."""
    out = -(-to_float(x)).max(axis=axis_tuple(axis), keepdims=keepdims)
    return out if initial is None else minimum(out, initial)


def var(x, axis=None, keepdims: bool = False) -> Tensor:
    """Population variance (divided by n, as Keras and NumPy)."""
    x, axis = to_float(x), axis_tuple(axis)
    return engine.square(x - x.mean(axis=axis, keepdims=True)).mean(axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims: bool = False) -> Tensor:
    """Population standard deviation; its gradient is infinite where every value is the same."""
    return engine.sqrt(var(x, axis=axis, keepdims=keepdims))


def prod(x, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    out = engine.prod(to_float(x), axis=axis_tuple(axis), keepdims=keepdims)
    return out if dtype is None else engine.cast(out, dtype)


def cumsum(x, axis=None, dtype=None) -> Tensor:
    out = engine.cumsum(to_float(x), axis=axis)
    return out if dtype is None else engine.cast(out, dtype)


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed after subtracting the maximum, so finite for any ``x``."""
    x, axis = to_float(x), axis_tuple(axis)
    shift = np.max(x.data, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype)
    total = engine.exp(x - shift).sum(axis=axis, keepdims=keepdims)
    return engine.log(total) + shift.reshape(total.shape)


def argmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the largest value (the first among ties), as int32."""
    return Tensor(np.argmax(data_of(x), axis=axis, keepdims=keepdims).astype(np.int32), dtype=np.int32)


def argmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value (the first among ties), as int32."""
    return Tensor(np.argmin(data_of(x), axis=axis, keepdims=keepdims).astype(np.int32), dtype=np.int32)


# ------------------------------------------------------------------ selection
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; with ``condition`` alone, the indices where it holds.

    The one-argument form returns a tuple of int Tensors, one per axis, as ``np.nonzero``.
    """
    if x1 is None and x2 is None:
        return tuple(Tensor(i, dtype=i.dtype) for i in np.nonzero(data_of(condition)))
    if x1 is None or x2 is None:
        raise ValueError(f"where() needs both x1 and x2, or neither. Received: x1={x1!r:.40}, x2={x2!r:.40}")
    a, b = float_pair(x1, x2)
    return engine.where(data_of(condition), a, b)


def maximum(x1, x2) -> Tensor:
    """Elementwise larger value; at a tie each operand gets half the gradient, as in PyTorch."""
    return engine.maximum(*float_pair(x1, x2))


def minimum(x1, x2) -> Tensor:
    """Elementwise smaller value; at a tie each operand gets half the gradient, as in PyTorch."""
    return engine.minimum(*float_pair(x1, x2))


def clip(x, x_min, x_max) -> Tensor:
    """``x`` limited to ``[x_min, x_max]``; the gradient passes where ``x`` lies within (bounds included)."""
    if np.ndim(x_min) == 0 and np.ndim(x_max) == 0:
        return engine.clip(to_float(x), float(x_min), float(x_max))
    return minimum(maximum(x, x_min), x_max)


# ------------------------------------------------------------------ linear algebra
def matmul(x1, x2) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands, and broadcasting over leading axes."""
    return engine.matmul(*float_pair(x1, x2))


def dot(x1, x2) -> Tensor:
    """Product of scalars, inner product of vectors, otherwise ``matmul`` (as Keras's torch backend)."""
    a, b = float_pair(x1, x2)
    return a * b if a.ndim == 0 or b.ndim == 0 else engine.matmul(a, b)


# ------------------------------------------------------------------ shapes
def concatenate(xs, axis: int = 0) -> Tensor:
    """Tensors joined along an existing ``axis`` (the first by default, as Keras)."""
    if len(xs) == 0:
        raise ValueError("concatenate needs at least one tensor. Received: xs=[]")
    return engine.concatenate([convert_to_tensor(x) for x in xs], axis=axis)


def stack(x, axis: int = 0) -> Tensor:
    """Tensors of one shape joined along a new ``axis``."""
    if len(x) == 0:
        raise ValueError("stack needs at least one tensor. Received: x=[]")
    return engine.stack([convert_to_tensor(t) for t in x], axis=axis)


def expand_dims(x, axis) -> Tensor:
    x = convert_to_tensor(x)
    return x.reshape(np.expand_dims(x.data, axis_tuple(axis)).shape)


def squeeze(x, axis=None) -> Tensor:
    """``x`` without its axes of length 1 (or only ``axis``, which must have length 1)."""
    x = convert_to_tensor(x)
    try:
        shape = np.squeeze(x.data, axis_tuple(axis)).shape
    except ValueError:
        raise ValueError(f"squeeze can only remove axes of length 1. Received: x.shape={x.shape}, "
                         f"axis={axis}") from None
    return x.reshape(shape)


def reshape(x, newshape) -> Tensor:
    return convert_to_tensor(x).reshape(newshape)


def transpose(x, axes=None) -> Tensor:
    """Axes permuted to ``axes`` (reversed when None)."""
    x = convert_to_tensor(x)
    return x.transpose() if axes is None else x.transpose(tuple(axes))


def take(x, indices, axis=None) -> Tensor:
    """Elements at ``indices`` along ``axis`` (of the flattened tensor when None); repeated indices add up
    their gradients."""
    x, indices = convert_to_tensor(x), data_of(indices)
    if axis is None:
        return x.reshape(-1)[indices]
    return x[(slice(None),) * (axis % x.ndim) + (indices,)]


def tile(x, repeats) -> Tensor:
    """``x`` repeated ``repeats`` times along each axis (``np.tile``); the gradient sums the copies."""
    x = convert_to_tensor(x)
    repeats = (int(repeats),) if np.ndim(repeats) == 0 else tuple(int(r) for r in repeats)
    ndim = x.ndim if x.ndim > len(repeats) else len(repeats)
    shape = (1,) * (ndim - x.ndim) + x.shape
    repeats = (1,) * (ndim - len(repeats)) + repeats
    interleaved = x.reshape(tuple(d for n in shape for d in (1, n)))
    copies = engine.broadcast_to(interleaved, tuple(d for r, n in zip(repeats, shape) for d in (r, n)))
    return copies.reshape(tuple(r * n for r, n in zip(repeats, shape)))


def broadcast_to(x, shape) -> Tensor:
    return engine.broadcast_to(convert_to_tensor(x), shape)


# ------------------------------------------------------------------ comparisons and logic (no gradient)
def _boolean(fn, *operands) -> Tensor:
    return Tensor(fn(*(data_of(x) for x in operands)), dtype=bool)


def equal(x1, x2) -> Tensor:
    return _boolean(np.equal, x1, x2)


def not_equal(x1, x2) -> Tensor:
    return _boolean(np.not_equal, x1, x2)


def greater(x1, x2) -> Tensor:
    return _boolean(np.greater, x1, x2)


def greater_equal(x1, x2) -> Tensor:
    return _boolean(np.greater_equal, x1, x2)


def less(x1, x2) -> Tensor:
    return _boolean(np.less, x1, x2)


def less_equal(x1, x2) -> Tensor:
    return _boolean(np.less_equal, x1, x2)


def logical_and(x1, x2) -> Tensor:
    return _boolean(np.logical_and, x1, x2)


def logical_or(x1, x2) -> Tensor:
    return _boolean(np.logical_or, x1, x2)


def logical_not(x) -> Tensor:
    return _boolean(np.logical_not, x)


def all(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Tensor(np.all(data_of(x), axis=axis_tuple(axis), keepdims=keepdims), dtype=bool)


def any(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Tensor(np.any(data_of(x), axis=axis_tuple(axis), keepdims=keepdims), dtype=bool)


# ------------------------------------------------------------------ creation (no gradient)
def _dtype(dtype) -> np.dtype:
    return np.dtype(backend.floatx() if dtype is None else dtype)


def _constant(array: np.ndarray) -> Tensor:
    return Tensor(array, dtype=array.dtype)


def zeros(shape, dtype=None) -> Tensor:
    return _constant(np.zeros(shape, _dtype(dtype)))


def ones(shape, dtype=None) -> Tensor:
    return _constant(np.ones(shape, _dtype(dtype)))


def full(shape, fill_value, dtype=None) -> Tensor:
    return _constant(np.full(shape, data_of(fill_value), _dtype(dtype)))


def zeros_like(x, dtype=None) -> Tensor:
    return _constant(np.zeros(*_shape_and_dtype(x, dtype)))


def ones_like(x, dtype=None) -> Tensor:
    return _constant(np.ones(*_shape_and_dtype(x, dtype)))


def full_like(x, fill_value, dtype=None) -> Tensor:
    shape, dtype = _shape_and_dtype(x, dtype)
    return _constant(np.full(shape, data_of(fill_value), dtype))


def _shape_and_dtype(x, dtype) -> tuple[tuple[int, ...], np.dtype]:
    """``x``'s shape, and ``dtype`` or else ``x``'s dtype, for the ``*_like`` ops."""
    x = convert_to_tensor(x)
    return x.shape, x.dtype if dtype is None else np.dtype(dtype)


def arange(start, stop=None, step=None, dtype=None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``: int32 when every bound is an int, else ``floatx()``."""
    bounds = [v for v in (start, stop, step) if v is not None]
    if dtype is None:
        dtype = np.int32 if np.asarray(bounds).dtype.kind in "iu" else backend.floatx()
    start, stop = (0, start) if stop is None else (start, stop)
    return _constant(np.arange(start, stop, 1 if step is None else step, dtype=np.dtype(dtype)))


def eye(N, M=None, k: int = 0, dtype=None) -> Tensor:  # noqa: N803  (keras.ops's argument names)
    return _constant(np.eye(N, M, k, dtype=_dtype(dtype)))
