"""Differentiable functions on Tensors: the engine's primitive operations.

Every function takes a Tensor (or anything ``as_tensor`` accepts) and returns a Tensor whose backward function
gives the gradient with respect to its inputs. ``Tensor``'s methods (``x.exp()``, ``x.sum()``) call them. The
fused operations of the training hot path (a dense layer with its activation, batch normalization, the
cross-entropies on logits) are in ``deepfin.engine.fused``.

Examples
--------
>>> import numpy as np
>>> from deepfin.engine import Tensor, functions
>>> x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
>>> functions.tanh(x).sum().backward()
>>> x.grad  # 1 - tanh(x) ** 2
array([1.        , 0.41997434])
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from deepfin.engine.tensor import Tensor, as_tensor, matmul

__all__ = [
    "exp", "log", "sqrt", "abs", "clip", "square", "tanh", "sigmoid", "relu", "leaky_relu",
    "elu", "softplus", "softmax", "log_softmax", "step", "matmul", "dropout", "maxout",
    "concatenate",
    "log1p", "expm1", "sign", "maximum", "minimum", "where", "cast",
    "prod", "cumsum", "stack", "broadcast_to",
]


def _unary(x, out: np.ndarray, local_grad, *, op: str, attributes: dict | None = None,
           logits: tuple[str, Tensor] | None = None) -> Tensor:
    """A tensor for ``out = f(x)`` whose gradient is ``g * local_grad()``, made by the operation ``op``."""
    return Tensor.from_op(out, (x,), lambda g: (g * local_grad(),), op=op, attributes=attributes, logits=logits)


# ------------------------------------------------------------------ elementwise math
def exp(x) -> Tensor:
    """Elementwise exponential ``e ** x``.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        ``exp(x)``, recorded for backpropagation.
    """
    x = as_tensor(x)
    out = np.exp(x.data)
    return _unary(x, out, lambda: out, op="exp")


def log(x) -> Tensor:
    """Elementwise natural logarithm.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        ``log(x)``, recorded for backpropagation (gradient ``1 / x``).
    """
    x = as_tensor(x)
    return _unary(x, np.log(x.data), lambda: 1.0 / x.data, op="log")


def sqrt(x) -> Tensor:
    """Elementwise non-negative square root.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        ``sqrt(x)``, recorded for backpropagation (gradient ``0.5 / sqrt(x)``).
    """
    x = as_tensor(x)
    out = np.sqrt(x.data)
    return _unary(x, out, lambda: 0.5 / out, op="sqrt")


def abs(x) -> Tensor:  # noqa: A001  (mirrors numpy and keras.ops)
    """Elementwise absolute value.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        ``|x|``, recorded for backpropagation (gradient ``sign(x)``, 0 at 0).
    """
    x = as_tensor(x)
    return _unary(x, np.abs(x.data), lambda: np.sign(x.data), op="abs")


def square(x) -> Tensor:
    """Elementwise square.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        ``x * x``, recorded for backpropagation.
    """
    x = as_tensor(x)
    return _unary(x, x.data * x.data, lambda: 2.0 * x.data, op="square")


def log1p(x) -> Tensor:
    """Elementwise ``log(1 + x)``, accurate for small ``x``.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        ``log1p(x)``, recorded for backpropagation.
    """
    x = as_tensor(x)
    return _unary(x, np.log1p(x.data), lambda: 1.0 / (1.0 + x.data), op="log1p")


def expm1(x) -> Tensor:
    """Elementwise ``exp(x) - 1``, accurate for small ``x``.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        ``expm1(x)``, recorded for backpropagation.
    """
    x = as_tensor(x)
    out = np.expm1(x.data)
    return _unary(x, out, lambda: out + 1.0, op="expm1")


def sign(x) -> Tensor:
    """Elementwise sign: -1, 0 or 1.

    Its gradient is 0 everywhere (as PyTorch defines it at 0 too).

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        The signs, in ``x``'s dtype.
    """
    x = as_tensor(x)
    return Tensor.from_op(np.sign(x.data), (x,), lambda g: (np.zeros_like(g),), op="sign")


def maximum(a, b) -> Tensor:
    """Elementwise larger of ``a`` and ``b`` (broadcast); where they tie each gets half the gradient.

    Parameters
    ----------
    a, b : Tensor or array_like
        The operands; they broadcast as in NumPy.

    Returns
    -------
    Tensor
        The maxima, recorded for backpropagation: the gradient goes to the larger operand.
    """
    a, b = as_tensor(a), as_tensor(b)

    def backward(g):
        return _split_at_ties(g, a.data > b.data, a.data == b.data)

    return Tensor.from_op(np.maximum(a.data, b.data), (a, b), backward, op="maximum")


def minimum(a, b) -> Tensor:
    """Elementwise smaller of ``a`` and ``b`` (broadcast); where they tie each gets half the gradient.

    Parameters
    ----------
    a, b : Tensor or array_like
        The operands; they broadcast as in NumPy.

    Returns
    -------
    Tensor
        The minima, recorded for backpropagation: the gradient goes to the smaller operand.
    """
    a, b = as_tensor(a), as_tensor(b)

    def backward(g):
        return _split_at_ties(g, a.data < b.data, a.data == b.data)

    return Tensor.from_op(np.minimum(a.data, b.data), (a, b), backward, op="minimum")


def _split_at_ties(g: np.ndarray, first_wins: np.ndarray, ties: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradients of a pick between two operands: all to the winner, half each at a tie (PyTorch's rule)."""
    g_first = np.where(first_wins, g, np.where(ties, 0.5 * g, 0))
    return g_first, g - g_first


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (all three broadcast).

    Parameters
    ----------
    condition : Tensor or array_like
        Read as booleans; it takes no part in the gradient.
    a, b : Tensor or array_like
        The values taken where ``condition`` is true and where it is false.

    Returns
    -------
    Tensor
        The selection, recorded for backpropagation: each operand gets the gradient where it was taken.
    """
    mask = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = as_tensor(a), as_tensor(b)

    def backward(g):
        return np.where(mask, g, 0), np.where(mask, 0, g)

    return Tensor.from_op(np.where(mask, a.data, b.data), (a, b), backward, op="where")


def cast(x, dtype) -> Tensor:
    """``x`` as ``dtype``; between float dtypes the gradient flows back, cast to ``x``'s dtype.

    Parameters
    ----------
    x : Tensor or array_like
        The input.
    dtype : str or np.dtype
        The new dtype.

    Returns
    -------
    Tensor
        ``x`` itself when it has ``dtype`` already; a tensor recorded for backpropagation when both
        dtypes are floats; otherwise a constant (no gradient through integers or booleans).
    """
    x, dtype = as_tensor(x), np.dtype(dtype)
    if dtype == x.dtype:
        return x
    data = x.data.astype(dtype)
    if dtype.kind != "f" or x.dtype.kind != "f":
        return Tensor(data, dtype=dtype)  # no gradient through integers or booleans
    return Tensor.from_op(data, (x,), lambda g: (g.astype(x.dtype),), op="cast")


def clip(x, min_value=None, max_value=None) -> Tensor:
    """Clip to ``[min_value, max_value]``; the gradient passes where the value was kept.

    Parameters
    ----------
    x : Tensor or array_like
        The input.
    min_value, max_value : float or None, default None
        The bounds; ``None`` leaves that side open.

    Returns
    -------
    Tensor
        The clipped values, recorded for backpropagation; the gradient is zero where a bound
        replaced the value (values equal to a bound keep theirs).

    Raises
    ------
    ValueError
        If both bounds are ``None``, or ``min_value > max_value``.
    """
    x = as_tensor(x)
    if min_value is None and max_value is None:
        raise ValueError("clip needs min_value, max_value or both. Received neither.")
    lo = -np.inf if min_value is None else min_value
    hi = np.inf if max_value is None else max_value
    if lo > hi:
        raise ValueError(f"clip needs min_value <= max_value. Received {lo} > {hi}.")
    out = np.clip(x.data, lo, hi)
    return _unary(x, out, lambda: (x.data >= lo) & (x.data <= hi), op="clip")


# ------------------------------------------------------------------ activations
def tanh(x) -> Tensor:
    """Elementwise hyperbolic tangent.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        ``tanh(x)``, recorded for backpropagation (gradient ``1 - tanh(x)**2``).
    """
    x = as_tensor(x)
    out = np.tanh(x.data)
    return _unary(x, out, lambda: 1.0 - out * out, op="tanh")


def sigmoid(x) -> Tensor:
    """Elementwise logistic function ``1 / (1 + exp(-x))``.

    The result remembers its logits so a cross-entropy can fuse with it (``Tensor.activation_input``).

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        The probabilities, recorded for backpropagation (gradient ``s * (1 - s)``).
    """
    x = as_tensor(x)
    out = expit(x.data)
    return _unary(x, out, lambda: out * (1.0 - out), logits=("sigmoid", x), op="sigmoid")


def relu(x) -> Tensor:
    """Elementwise rectified linear unit ``max(x, 0)``.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        The activations, recorded for backpropagation (gradient 1 where ``x > 0``, else 0).
    """
    x = as_tensor(x)
    return _unary(x, np.maximum(x.data, 0), lambda: x.data > 0, op="relu")


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """Elementwise leaky rectified linear unit: ``x`` where ``x > 0``, else ``negative_slope * x``.

    Parameters
    ----------
    x : Tensor or array_like
        The input.
    negative_slope : float, default 0.2
        The slope below 0.

    Returns
    -------
    Tensor
        The activations, recorded for backpropagation.
    """
    x = as_tensor(x)
    slope = float(negative_slope)
    out = np.where(x.data > 0, x.data, slope * x.data)
    return _unary(x, out, lambda: np.where(x.data > 0, 1.0, slope).astype(x.dtype), op="leaky_relu",
                  attributes={"negative_slope": negative_slope})


def elu(x, alpha: float = 1.0) -> Tensor:
    """Elementwise exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Parameters
    ----------
    x : Tensor or array_like
        The input.
    alpha : float, default 1.0
        The scale of the negative part.

    Returns
    -------
    Tensor
        The activations, recorded for backpropagation.
    """
    x = as_tensor(x)
    alpha = float(alpha)
    negative = alpha * np.expm1(np.minimum(x.data, 0))
    out = np.where(x.data > 0, x.data, negative)
    return _unary(x, out, lambda: np.where(x.data > 0, 1.0, negative + alpha).astype(x.dtype), op="elu",
                  attributes={"alpha": alpha})


def softplus(x) -> Tensor:
    """Elementwise ``log(1 + exp(x))``, computed as ``logaddexp(0, x)``.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        The activations, in ``x``'s dtype, recorded for backpropagation (gradient ``sigmoid(x)``).
    """
    x = as_tensor(x)
    return _unary(x, np.logaddexp(0, x.data).astype(x.dtype), lambda: expit(x.data), op="softplus")


def softmax(x, axis: int = -1) -> Tensor:
    """Softmax along ``axis``; along the last axis it remembers its logits for fused losses.

    Parameters
    ----------
    x : Tensor or array_like
        The logits.
    axis : int, default -1
        The axis whose entries sum to 1.

    Returns
    -------
    Tensor
        ``exp(x) / sum(exp(x), axis)`` (computed after subtracting the maximum), recorded for
        backpropagation.
    """
    x = as_tensor(x)
    out = softmax_array(x.data, axis)

    def backward(g):
        return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)

    return Tensor.from_op(out, (x,), backward, op="softmax", attributes={"axis": axis},
                          logits=("softmax", x) if axis in (-1, x.ndim - 1) else None)


def log_softmax(x, axis: int = -1) -> Tensor:
    """Logarithm of the softmax along ``axis``, computed stably as ``x - logsumexp(x)``.

    Parameters
    ----------
    x : Tensor or array_like
        The logits.
    axis : int, default -1
        The axis to normalize along.

    Returns
    -------
    Tensor
        The log-probabilities, recorded for backpropagation.
    """
    x = as_tensor(x)
    out = x.data - logsumexp_array(x.data, axis)

    def backward(g):
        return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

    return Tensor.from_op(out, (x,), backward, op="log_softmax", attributes={"axis": axis})


def step(x) -> Tensor:
    """McCulloch-Pitts threshold unit: 1 where ``x > 0``, else 0. Forward only.

    The step function of the McCulloch-Pitts neuron as Della Lunga (2022, lecture 1) presents it.

    Parameters
    ----------
    x : Tensor or array_like
        The input.

    Returns
    -------
    Tensor
        The 0/1 outputs, in ``x``'s dtype. Calling ``backward()`` through it raises
        ``RuntimeError``: the step has no useful gradient.
    """
    x = as_tensor(x)

    def backward(g):
        raise RuntimeError(
            "The step activation has no useful gradient (it is 0 almost everywhere), so it "
            "cannot be trained by backpropagation. Use 'sigmoid' or 'tanh' for a trainable layer."
        )

    return Tensor.from_op((x.data > 0).astype(x.dtype), (x,), backward, op="step")


# ------------------------------------------------------------------ reductions and shapes
def prod(x, axis=None, keepdims: bool = False) -> Tensor:
    """Product over ``axis`` (an int, a tuple or None for all); exact gradients even where a factor is 0.

    Each element's gradient is the product of the others, from exclusive running products taken
    from both ends, not ``out / x``.

    Parameters
    ----------
    x : Tensor or array_like
        The input.
    axis : int, tuple of int or None, default None
        The axes to multiply over; ``None`` multiplies every element.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor
        The products, recorded for backpropagation.
    """
    x = as_tensor(x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(int(a) % x.ndim for a in np.atleast_1d(axis))
    out = np.prod(x.data, axis=axes, keepdims=True)

    def backward(g):
        if not keepdims:
            g = np.reshape(g, out.shape)
        inner = range(-len(axes), 0)
        moved = np.moveaxis(x.data, axes, inner)
        flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
        ones = np.ones_like(flat[..., :1])
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = np.moveaxis((before * after).reshape(moved.shape), inner, axes)
        return (g * others,)

    return Tensor.from_op(out if keepdims else np.squeeze(out, axis=axes), (x,), backward, op="prod",
                          attributes={"axis": axis, "keepdims": keepdims})


def cumsum(x, axis: int | None = None) -> Tensor:
    """Running sum along ``axis`` (over the flattened tensor when None).

    Parameters
    ----------
    x : Tensor or array_like
        The input.
    axis : int or None, default None
        The axis to sum along; ``None`` flattens ``x`` first.

    Returns
    -------
    Tensor
        The cumulative sums, recorded for backpropagation (the gradient is the reversed running sum).
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0

    def backward(g):
        return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)

    return Tensor.from_op(np.cumsum(x.data, axis=axis), (x,), backward, op="cumsum", attributes={"axis": axis})


def stack(tensors, axis: int = 0) -> Tensor:
    """Tensors of one shape joined along a new ``axis``; each gets its slice of the gradient back.

    Parameters
    ----------
    tensors : sequence of Tensor or array_like
        The tensors, all of one shape.
    axis : int, default 0
        The position of the new axis.

    Returns
    -------
    Tensor
        The stacked tensor, recorded for backpropagation.
    """
    tensors = [as_tensor(t) for t in tensors]

    def backward(g):
        return tuple(np.moveaxis(g, axis, 0))

    return Tensor.from_op(np.stack([t.data for t in tensors], axis=axis), tuple(tensors), backward, op="stack",
                          attributes={"axis": axis})


def broadcast_to(x, shape) -> Tensor:
    """``x`` repeated to ``shape`` by NumPy's broadcasting rules; the gradient is summed back (by the engine).

    Parameters
    ----------
    x : Tensor or array_like
        The input.
    shape : tuple of int
        The shape to broadcast to.

    Returns
    -------
    Tensor
        A new array of ``shape`` (a copy, not a broadcast view), recorded for backpropagation.
    """
    x = as_tensor(x)
    return Tensor.from_op(np.broadcast_to(x.data, tuple(shape)).copy(), (x,), lambda g: (g,), op="broadcast_to")


def softmax_array(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """The softmax of the array ``z`` along ``axis``, computed stably (no gradient: NumPy in, NumPy out)."""
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def logsumexp_array(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(sum(exp(z)))`` of the array ``z`` along ``axis`` (keeping it), computed stably (NumPy in and out)."""
    m = np.max(z, axis=axis, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


def dropout(x, rate: float, rng: np.random.Generator, noise_shape=None) -> Tensor:
    """Inverted dropout: zero each unit with probability ``rate``, scale the rest by 1/(1-rate).

    Parameters
    ----------
    x : Tensor or array_like
        The inputs.
    rate : float
        The probability of dropping a unit, in ``[0, 1)``.
    rng : np.random.Generator
        The generator the uniform draws come from (in ``x``'s dtype when it is float32 or
        float64, else float32).
    noise_shape : tuple or None, default None
        The shape of the mask, broadcast over ``x``; ``None`` entries take ``x``'s size on that
        axis. ``None`` draws one number per element.

    Returns
    -------
    Tensor
        ``x`` times the mask, recorded for backpropagation (the gradient is masked and scaled alike).
    """
    x = as_tensor(x)
    shape = x.shape if noise_shape is None else tuple(
        d if n is None else n for d, n in zip(x.shape, noise_shape)
    )
    draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
    keep = rng.random(shape, dtype=draw_dtype) >= rate
    mask = np.multiply(keep, 1.0 / (1.0 - rate), dtype=x.dtype)
    return Tensor.from_op(x.data * mask, (x,), lambda g: (g * mask,), op="dropout")


def maxout(z, pieces: int) -> Tensor:
    """The largest of each run of ``pieces`` consecutive values on the last axis.

    Column ``j * pieces + p`` is piece ``p`` of unit ``j``; the gradient goes to the first of the
    pieces that reach the maximum. Computed with strided slices and elementwise maxima: a reduction
    over a short last axis is many times slower in NumPy.

    Parameters
    ----------
    z : Tensor or array_like
        The pre-activations, ``(..., units * pieces)``.
    pieces : int
        The number of pieces per unit.

    Returns
    -------
    Tensor
        The unit outputs, ``(..., units)``, recorded for backpropagation.
    """
    z = as_tensor(z)
    out = z.data[..., 0::pieces].copy()
    winner = np.zeros(out.shape, dtype=np.intp) if pieces > 1 else None
    for p in range(1, pieces):
        piece = z.data[..., p::pieces]
        higher = piece > out
        np.copyto(out, piece, where=higher)
        winner[higher] = p

    def backward(g):
        grad = np.zeros_like(z.data)
        for p in range(pieces):
            grad[..., p::pieces] = g if winner is None else np.where(winner == p, g, 0)
        return (grad,)

    return Tensor.from_op(out, (z,), backward, op="maxout")


def concatenate(tensors, axis: int = -1) -> Tensor:
    """Join tensors along ``axis``; each gets its slice of the gradient back.

    Parameters
    ----------
    tensors : sequence of Tensor or array_like
        The tensors; their shapes agree except along ``axis``.
    axis : int, default -1
        The existing axis to join along.

    Returns
    -------
    Tensor
        The joined tensor, recorded for backpropagation.
    """
    tensors = [as_tensor(t) for t in tensors]
    sizes = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return Tensor.from_op(np.concatenate([t.data for t in tensors], axis=axis), tuple(tensors),
                          lambda g: tuple(np.split(g, sizes, axis=axis)), op="concatenate", attributes={"axis": axis})
