"""Differentiable functions on Tensors, and the fused operations of the training hot path.

Every function takes a Tensor (or anything ``as_tensor`` accepts) and returns a Tensor whose
backward function gives the gradient with respect to its inputs. The fused operations
(``dense``, ``dropout``, ``sigmoid_binary_crossentropy``, ``softmax_categorical_crossentropy``,
``softmax_sparse_categorical_crossentropy``) do in one graph node what would otherwise take
several, with the closed-form gradients that Klaas (2019, ch. 1) and Jansen (2020, ch. 17) derive
(``y_hat - y`` for a matched output and loss), and stay finite for any logit.

Examples
--------
>>> import numpy as np
>>> from deepfin.engine import Tensor, ops
>>> z = Tensor(np.array([[0.0, 2.0]]), requires_grad=True)
>>> loss = ops.sigmoid_binary_crossentropy(z, np.array([[0.0, 1.0]]))
>>> loss.backward()
>>> z.grad  # (sigmoid(z) - y) / n
array([[ 0.25      , -0.05960146]])
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from deepfin.engine.tensor import Tensor, as_tensor, matmul, unbroadcast

__all__ = [
    "exp", "log", "sqrt", "abs", "clip", "square", "tanh", "sigmoid", "relu", "leaky_relu",
    "elu", "softplus", "softmax", "log_softmax", "step", "matmul", "dense", "dropout", "maxout",
    "sigmoid_binary_crossentropy", "softmax_categorical_crossentropy",
    "softmax_sparse_categorical_crossentropy", "FUSED_DENSE_ACTIVATIONS", "concatenate",
    "batch_normalization", "log1p", "expm1", "sign", "maximum", "minimum", "where", "cast",
    "prod", "cumsum", "stack", "broadcast_to",
]


def _unary(x, out: np.ndarray, local_grad, logits: tuple[str, Tensor] | None = None) -> Tensor:
    """A tensor for ``out = f(x)`` whose gradient is ``g * local_grad()``."""
    return Tensor.from_op(out, (x,), lambda g: (g * local_grad(),), logits=logits)


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
    return _unary(x, out, lambda: out)


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
    return _unary(x, np.log(x.data), lambda: 1.0 / x.data)


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
    return _unary(x, out, lambda: 0.5 / out)


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
    return _unary(x, np.abs(x.data), lambda: np.sign(x.data))


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
    return _unary(x, x.data * x.data, lambda: 2.0 * x.data)


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
    return _unary(x, np.log1p(x.data), lambda: 1.0 / (1.0 + x.data))


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
    return _unary(x, out, lambda: out + 1.0)


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
    return Tensor.from_op(np.sign(x.data), (x,), lambda g: (np.zeros_like(g),))


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

    return Tensor.from_op(np.maximum(a.data, b.data), (a, b), backward)


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

    return Tensor.from_op(np.minimum(a.data, b.data), (a, b), backward)


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

    return Tensor.from_op(np.where(mask, a.data, b.data), (a, b), backward)


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
    return Tensor.from_op(data, (x,), lambda g: (g.astype(x.dtype),))


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
    return _unary(x, out, lambda: (x.data >= lo) & (x.data <= hi))


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
    return _unary(x, out, lambda: 1.0 - out * out)


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
    return _unary(x, out, lambda: out * (1.0 - out), logits=("sigmoid", x))


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
    return _unary(x, np.maximum(x.data, 0), lambda: x.data > 0)


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
    return _unary(x, out, lambda: np.where(x.data > 0, 1.0, slope).astype(x.dtype))


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
    return _unary(x, out, lambda: np.where(x.data > 0, 1.0, negative + alpha).astype(x.dtype))


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
    return _unary(x, np.logaddexp(0, x.data).astype(x.dtype), lambda: expit(x.data))


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
    out = _softmax(x.data, axis)

    def backward(g):
        return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)

    return Tensor.from_op(out, (x,), backward, logits=("softmax", x) if axis in (-1, x.ndim - 1) else None)


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
    out = x.data - _logsumexp(x.data, axis)

    def backward(g):
        return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

    return Tensor.from_op(out, (x,), backward)


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

    return Tensor.from_op((x.data > 0).astype(x.dtype), (x,), backward)


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

    return Tensor.from_op(out if keepdims else np.squeeze(out, axis=axes), (x,), backward)


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

    return Tensor.from_op(np.cumsum(x.data, axis=axis), (x,), backward)


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

    return Tensor.from_op(np.stack([t.data for t in tensors], axis=axis), tuple(tensors), backward)


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
    return Tensor.from_op(np.broadcast_to(x.data, tuple(shape)).copy(), (x,), lambda g: (g,))


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def _logsumexp(z: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(z, axis=axis, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


# ------------------------------------------------------------------ fused layers
FUSED_DENSE_ACTIVATIONS = (None, "linear", "relu", "tanh")


def dense(x, kernel: Tensor, bias: Tensor | None = None, activation: str | None = None) -> Tensor:
    """``activation(x @ kernel + bias)`` as one node; ``activation`` in FUSED_DENSE_ACTIVATIONS.

    Works for stacked models too: ``kernel`` of shape ``(K, in, out)`` with ``bias`` of shape
    ``(K, 1, out)`` trains K models in one call. No input gradient is computed for data.

    Parameters
    ----------
    x : Tensor or array_like
        The inputs, ``(batch, in)`` (or ``(K, batch, in)``, or any shape ``@`` takes).
    kernel : Tensor
        The weights, ``(in, out)`` or ``(K, in, out)``.
    bias : Tensor or None, default None
        The bias, ``(out,)`` or ``(K, 1, out)``; ``None`` for none.
    activation : {None, 'linear', 'relu', 'tanh'}, default None
        The activation applied in place to the pre-activations.

    Returns
    -------
    Tensor
        The layer's outputs, recorded for backpropagation as a single ``dense`` node.

    Raises
    ------
    ValueError
        If ``activation`` is not one of ``FUSED_DENSE_ACTIVATIONS``.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.engine import Tensor, ops
    >>> kernel = Tensor(np.ones((2, 3)), requires_grad=True)
    >>> y = ops.dense(np.ones((4, 2)), kernel, activation="relu")
    >>> y.shape, y.op
    ((4, 3), 'dense')
    """
    x = as_tensor(x)
    z = x.data @ kernel.data
    if bias is not None:
        z += bias.data
    if activation not in FUSED_DENSE_ACTIVATIONS:
        raise ValueError(
            f"dense() fuses only {FUSED_DENSE_ACTIVATIONS}. Received activation={activation!r}."
        )
    activate_in_place(z, activation)

    def backward(g):
        g = through_activation(g, z, activation)
        gx = gk = None
        if x.requires_grad:
            gx = unbroadcast(g @ _transpose(kernel.data), x.shape)
        if kernel.requires_grad:
            gk = unbroadcast(_transpose(x.data) @ g, kernel.shape)
        if bias is not None and bias.ndim == 1 and g.ndim == 2:
            return gx, gk, g.sum(axis=0)  # Dense's bias: the sum unbroadcast would take, without its shape checks
        return gx, gk, g

    parents = (x, kernel) if bias is None else (x, kernel, bias)
    return Tensor.from_op(z, parents, backward)


def activate_in_place(z: np.ndarray, activation: str | None) -> None:
    """Apply a fused activation (one of FUSED_DENSE_ACTIVATIONS) to the pre-activations ``z`` in place.

    Parameters
    ----------
    z : np.ndarray
        The pre-activations, overwritten by the activations.
    activation : {None, 'linear', 'relu', 'tanh'}
        The activation; ``None`` and ``'linear'`` leave ``z`` as it is.
    """
    if activation == "relu":
        np.maximum(z, 0, out=z)
    elif activation == "tanh":
        np.tanh(z, out=z)


def through_activation(g: np.ndarray, out: np.ndarray, activation: str | None) -> np.ndarray:
    """The gradient ``g`` of a fused activation's output ``out`` carried back to its input.

    Parameters
    ----------
    g : np.ndarray
        The gradient of the activation's output.
    out : np.ndarray
        The activation's output (the derivative of relu and tanh is a function of it).
    activation : {None, 'linear', 'relu', 'tanh'}
        The activation.

    Returns
    -------
    np.ndarray
        The gradient of the pre-activations: ``g`` masked where ``out > 0`` for relu, times
        ``1 - out**2`` for tanh, ``g`` itself otherwise.
    """
    if activation == "relu":
        return g * (out > 0)
    if activation == "tanh":
        return g * (1.0 - out * out)
    return g


def _transpose(a: np.ndarray) -> np.ndarray:
    """Swap the last two axes (``.T`` for a matrix, the cheap common case)."""
    return a.T if a.ndim == 2 else np.swapaxes(a, -1, -2)


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
    return Tensor.from_op(x.data * mask, (x,), lambda g: (g * mask,))


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

    return Tensor.from_op(out, (z,), backward)


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
                        lambda g: tuple(np.split(g, sizes, axis=axis)))


def batch_normalization(x, gamma: Tensor | None, beta: Tensor | None,
                        epsilon: float) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """Normalize over every axis but the last with the batch's own statistics, in one node.

    Computes ``gamma * (x - mean) / sqrt(var + epsilon) + beta``, with the mean and the biased
    variance of each feature over the batch.

    Parameters
    ----------
    x : Tensor or array_like
        The inputs, features on the last axis.
    gamma : Tensor or None
        The scale per feature; ``None`` for none.
    beta : Tensor or None
        The offset per feature; ``None`` for none.
    epsilon : float
        Added to the variance before the square root.

    Returns
    -------
    out : Tensor
        The normalized inputs, recorded for backpropagation.
    mean : np.ndarray
        The batch mean of each feature, for the moving statistics.
    var : np.ndarray
        The batch's (biased) variance of each feature.
    """
    x = as_tensor(x)
    axes = tuple(range(x.ndim - 1))
    n = x.data.size // x.shape[-1]
    mean = x.data.mean(axis=axes)
    centered = x.data - mean
    var = np.mean(centered * centered, axis=axes)
    inv = 1.0 / np.sqrt(var + epsilon)
    x_hat = centered * inv
    out = x_hat * gamma.data if gamma is not None else x_hat.copy()
    if beta is not None:
        out += beta.data

    def backward(g):
        g_hat = g * gamma.data if gamma is not None else g
        gx = inv / n * (n * g_hat - g_hat.sum(axis=axes) - x_hat * (g_hat * x_hat).sum(axis=axes))
        grads = [gx]
        if gamma is not None:
            grads.append((g * x_hat).sum(axis=axes))
        if beta is not None:
            grads.append(g.sum(axis=axes))
        return tuple(grads)

    parents = (x,) + tuple(p for p in (gamma, beta) if p is not None)
    return Tensor.from_op(out, parents, backward), mean, var


# ------------------------------------------------------------------ fused losses
def _reduce_per_sample(per_sample: np.ndarray, sample_weight) -> tuple[float, np.ndarray]:
    """Keras's 'sum_over_batch_size': sum(w * loss) / batch size, and d(result)/d(loss_i)."""
    n = per_sample.size
    if sample_weight is None:
        return float(np.sum(per_sample)) / n, None
    w = np.asarray(sample_weight, dtype=per_sample.dtype)
    w = np.broadcast_to(w.reshape(w.shape + (1,) * (per_sample.ndim - w.ndim)), per_sample.shape)
    return float(np.sum(per_sample * w)) / n, w


def _scalar_loss(value: float, dtype, parents, backward) -> Tensor:
    return Tensor.from_op(np.asarray(value, dtype=dtype), parents, backward)


def sigmoid_binary_crossentropy(logits, y_true, sample_weight=None) -> Tensor:
    """Mean binary cross-entropy of ``sigmoid(logits)``; gradient ``(sigmoid(z) - y) / n``.

    Per sample it averages over the last axis, as Keras does. Computed as
    ``softplus(z) - z * y``, finite for any logit.

    Parameters
    ----------
    logits : Tensor or array_like
        The pre-activations ``z`` of the sigmoid output.
    y_true : array_like
        The targets, of ``logits``' shape (cast to its dtype).
    sample_weight : array_like or None, default None
        A weight per sample; the weighted sum is divided by the number of samples (Keras's
        ``'sum_over_batch_size'``).

    Returns
    -------
    Tensor
        The scalar loss, recorded for backpropagation.
    """
    z = as_tensor(logits)
    y = np.asarray(y_true, dtype=z.dtype)
    elementwise = np.logaddexp(0, z.data) - z.data * y  # softplus(z) - z*y, finite for any z
    scale = 1.0 / elementwise.size  # mean over the last axis, then over samples
    if sample_weight is None:
        value, w = float(np.add.reduce(elementwise, axis=None)) * scale, None
    else:
        per_sample = elementwise.mean(axis=-1) if z.ndim > 1 else elementwise
        value, w = _reduce_per_sample(per_sample, sample_weight)

    def backward(g):
        d = expit(z.data) - y
        d *= float(g) * scale
        if w is not None:
            d *= w[..., np.newaxis] if z.ndim > 1 else w
        return (d,)

    return _scalar_loss(value, z.dtype, (z,), backward)


def softmax_categorical_crossentropy(logits, y_true, axis: int = -1, sample_weight=None) -> Tensor:
    """Mean categorical cross-entropy of ``softmax(logits)``; gradient ``(y_hat - y) / n``.

    Parameters
    ----------
    logits : Tensor or array_like
        The pre-activations of the softmax output.
    y_true : array_like
        The target probabilities (one-hot or soft), of ``logits``' shape.
    axis : int, default -1
        The class axis.
    sample_weight : array_like or None, default None
        A weight per sample; the weighted sum is divided by the number of samples (Keras's
        ``'sum_over_batch_size'``).

    Returns
    -------
    Tensor
        The scalar loss, recorded for backpropagation.
    """
    z = as_tensor(logits)
    y = np.asarray(y_true, dtype=z.dtype)
    log_p = z.data - _logsumexp(z.data, axis)
    per_sample = -np.sum(y * log_p, axis=axis)
    value, w = _reduce_per_sample(per_sample, sample_weight)

    def backward(g):
        d = np.exp(log_p) * np.sum(y, axis=axis, keepdims=True) - y
        d *= float(g) / per_sample.size
        if w is not None:
            d *= np.expand_dims(w, axis)
        return (d,)

    return _scalar_loss(value, z.dtype, (z,), backward)


def softmax_sparse_categorical_crossentropy(logits, labels, sample_weight=None) -> Tensor:
    """Categorical cross-entropy against integer class labels along the last axis.

    Parameters
    ----------
    logits : Tensor or array_like
        The pre-activations of the softmax output, ``(..., classes)``.
    labels : array_like
        The class index of each sample, reshaped to ``logits.shape[:-1]``.
    sample_weight : array_like or None, default None
        A weight per sample; the weighted sum is divided by the number of samples (Keras's
        ``'sum_over_batch_size'``).

    Returns
    -------
    Tensor
        The scalar mean loss, recorded for backpropagation (gradient ``(softmax(z) - onehot) / n``).
    """
    z = as_tensor(logits)
    labels = np.asarray(labels).astype(np.intp, copy=False).reshape(z.shape[:-1])
    log_p = z.data - _logsumexp(z.data, -1)
    picked = np.take_along_axis(log_p, labels[..., np.newaxis], axis=-1)[..., 0]
    value, w = _reduce_per_sample(-picked, sample_weight)

    def backward(g):
        d = np.exp(log_p)
        np.put_along_axis(d, labels[..., np.newaxis],
                          np.take_along_axis(d, labels[..., np.newaxis], axis=-1) - 1, axis=-1)
        d *= float(g) / picked.size
        if w is not None:
            d *= w[..., np.newaxis]
        return (d,)

    return _scalar_loss(value, z.dtype, (z,), backward)
