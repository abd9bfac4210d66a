"""Fused operations of the training hot path: one graph node for what would take several.

``dense`` (a layer's product, bias and activation), ``batch_normalization``, and the cross-entropies on logits
(``sigmoid_binary_crossentropy``, ``softmax_categorical_crossentropy``,
``softmax_sparse_categorical_crossentropy``), with the closed-form gradients that Klaas (2019, ch. 1) and Jansen
(2020, ch. 17) derive (``y_hat - y`` for a matched output and loss); they stay finite for any logit.

Examples
--------
>>> import numpy as np
>>> from deepfin.engine import Tensor, fused
>>> z = Tensor(np.array([[0.0, 2.0]]), requires_grad=True)
>>> loss = fused.sigmoid_binary_crossentropy(z, np.array([[0.0, 1.0]]))
>>> loss.backward()
>>> z.grad  # (sigmoid(z) - y) / n
array([[ 0.25      , -0.05960146]])
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from deepfin.engine.functions import logsumexp_array
from deepfin.engine.tensor import Tensor, as_tensor, unbroadcast

__all__ = ["FUSED_DENSE_ACTIVATIONS", "activate_in_place", "batch_normalization", "dense",
           "sigmoid_binary_crossentropy", "softmax_categorical_crossentropy",
           "softmax_sparse_categorical_crossentropy", "through_activation"]


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
    >>> from deepfin.engine import Tensor, fused
    >>> kernel = Tensor(np.ones((2, 3)), requires_grad=True)
    >>> y = fused.dense(np.ones((4, 2)), kernel, activation="relu")
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
    return Tensor.from_op(z, parents, backward, op="dense", attributes={"activation": activation})


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
    return Tensor.from_op(out, parents, backward, op="batch_normalization"), mean, var


# ------------------------------------------------------------------ fused losses
def _reduce_per_sample(per_sample: np.ndarray, sample_weight) -> tuple[float, np.ndarray]:
    """Keras's 'sum_over_batch_size': sum(w * loss) / batch size, and d(result)/d(loss_i)."""
    n = per_sample.size
    if sample_weight is None:
        return float(np.sum(per_sample)) / n, None
    w = np.asarray(sample_weight, dtype=per_sample.dtype)
    w = np.broadcast_to(w.reshape(w.shape + (1,) * (per_sample.ndim - w.ndim)), per_sample.shape)
    return float(np.sum(per_sample * w)) / n, w


def _scalar_loss(value: float, dtype, parents, backward, *, op: str, attributes: dict | None = None) -> Tensor:
    return Tensor.from_op(np.asarray(value, dtype=dtype), parents, backward, op=op, attributes=attributes)


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

    return _scalar_loss(value, z.dtype, (z,), backward, op="sigmoid_binary_crossentropy")


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
    log_p = z.data - logsumexp_array(z.data, axis)
    per_sample = -np.sum(y * log_p, axis=axis)
    value, w = _reduce_per_sample(per_sample, sample_weight)

    def backward(g):
        d = np.exp(log_p) * np.sum(y, axis=axis, keepdims=True) - y
        d *= float(g) / per_sample.size
        if w is not None:
            d *= np.expand_dims(w, axis)
        return (d,)

    return _scalar_loss(value, z.dtype, (z,), backward, op="softmax_categorical_crossentropy",
                        attributes={"axis": axis})


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
    log_p = z.data - logsumexp_array(z.data, -1)
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

    return _scalar_loss(value, z.dtype, (z,), backward, op="softmax_sparse_categorical_crossentropy")
