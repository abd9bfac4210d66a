"""The neural-network ops of ``keras.ops``: activations, one-hot encoding and elementwise cross-entropies.

The cross-entropies return what Keras's do, before any reduction: ``binary_crossentropy`` one value
per element, the categorical ones one value per sample (summed over ``axis``). Probabilities are
clipped to ``[epsilon, 1 - epsilon]`` as Keras does; with ``from_logits=True`` they are computed
from the logits, exactly for any value.

Examples
--------
>>> from deepfin import ops
>>> ops.softmax([0.0, 0.0])
Tensor([0.5 0.5], dtype=float32)
>>> ops.binary_crossentropy([1.0, 0.0], [0.0, 0.0], from_logits=True)
Tensor([0.6931472 0.6931472], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from deepfin import backend
from deepfin.engine import functions as engine
from deepfin.engine.tensor import Tensor
from deepfin.ops.core import data_of, to_float

__all__ = [
    "sigmoid", "tanh", "relu", "relu6", "elu", "selu", "leaky_relu", "softplus", "silu", "softmax",
    "log_softmax", "one_hot", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy",
]

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


# ------------------------------------------------------------------ activations
def sigmoid(x) -> Tensor:
    """Sigmoid activation function, ``1 / (1 + exp(-x))``.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        The activations, recorded for backpropagation (they remember their logits, for fused losses).
    """
    return engine.sigmoid(to_float(x))


def tanh(x) -> Tensor:
    """Hyperbolic tangent, element-wise.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``tanh(x)``, recorded for backpropagation.
    """
    return engine.tanh(to_float(x))


def relu(x) -> Tensor:
    """Rectified linear unit activation function, ``max(x, 0)``.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        The activations, recorded for backpropagation.
    """
    return engine.relu(to_float(x))


def relu6(x) -> Tensor:
    """Rectified linear unit activation function with an upper bound of 6.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``min(max(x, 0), 6)``, recorded for backpropagation (the gradient passes on ``[0, 6]``).
    """
    return engine.clip(to_float(x), 0.0, 6.0)


def elu(x, alpha: float = 1.0) -> Tensor:
    """Exponential Linear Unit activation function.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.
    alpha : float, default 1.0
        The scale of the negative part.

    Returns
    -------
    Tensor
        ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``, recorded for backpropagation.
    """
    return engine.elu(to_float(x), alpha)


def selu(x) -> Tensor:
    """Scaled Exponential Linear Unit (SELU) activation function.

    The self-normalizing constants of Klambauer et al. (2017), "Self-Normalizing Neural Networks"
    (NeurIPS): ``alpha = 1.67326...``, ``scale = 1.05070...``.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``scale * elu(x, alpha)``, recorded for backpropagation.
    """
    return engine.elu(to_float(x), _SELU_ALPHA) * _SELU_SCALE


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """Leaky version of a rectified linear unit activation function.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.
    negative_slope : float, default 0.2
        The slope below 0.

    Returns
    -------
    Tensor
        ``x`` where ``x > 0``, else ``negative_slope * x``, recorded for backpropagation.
    """
    return engine.leaky_relu(to_float(x), negative_slope)


def softplus(x) -> Tensor:
    """Softplus activation function, ``log(exp(x) + 1)``.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        The activations (computed as ``logaddexp(0, x)``), recorded for backpropagation.
    """
    return engine.softplus(to_float(x))


def silu(x) -> Tensor:
    """Sigmoid Linear Unit (SiLU) activation function, also known as Swish.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.

    Returns
    -------
    Tensor
        ``x * sigmoid(x)``, recorded for backpropagation.
    """
    x = to_float(x)
    return x * engine.sigmoid(x)


def softmax(x, axis: int = -1) -> Tensor:
    """Softmax activation function.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.
    axis : int, default -1
        The axis whose entries sum to 1.

    Returns
    -------
    Tensor
        ``exp(x) / sum(exp(x), axis)``, computed stably, recorded for backpropagation (along the last
        axis the result remembers its logits, for fused losses).
    """
    return engine.softmax(to_float(x), axis)


def log_softmax(x, axis: int = -1) -> Tensor:
    """Log-softmax activation function.

    Parameters
    ----------
    x : Tensor, np.ndarray, number or sequence
        The input; integers and booleans compute in ``floatx()``.
    axis : int, default -1
        The axis to normalize along.

    Returns
    -------
    Tensor
        ``x - log(sum(exp(x), axis))``, recorded for backpropagation.
    """
    return engine.log_softmax(to_float(x), axis)


def one_hot(x, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False) -> Tensor:
    """Convert integer labels into one-hot vectors along a new axis.

    Parameters
    ----------
    x : Tensor, np.ndarray or sequence of int
        The class labels.
    num_classes : int
        The number of classes; labels outside ``[0, num_classes)`` give vectors of zeros.
    axis : int, default -1
        The position of the new axis.
    dtype : str, np.dtype or None, default None
        The dtype; ``None`` means ``floatx()``.
    sparse : bool, default False
        Keras's flag; only ``False`` is accepted.

    Returns
    -------
    Tensor
        A constant tensor of ``x``'s shape with an axis of ``num_classes`` added.

    Raises
    ------
    ValueError
        If ``sparse`` is true.
    TypeError
        If the labels are not integers.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import ops
    >>> ops.one_hot(np.array([0, 2, 5]), 3)
    Tensor([[1. 0. 0.]
            [0. 0. 1.]
            [0. 0. 0.]], dtype=float32)
    """
    if sparse:
        raise ValueError("deepfin has no sparse tensors. Received: sparse=True")
    labels = np.asarray(data_of(x))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot expects integer class labels. Received dtype {labels.dtype}.")
    encoded = labels[..., np.newaxis] == np.arange(int(num_classes))
    encoded = np.moveaxis(encoded, -1, axis).astype(backend.floatx() if dtype is None else dtype)
    return Tensor(encoded, dtype=encoded.dtype)


# ------------------------------------------------------------------ cross-entropies
def binary_crossentropy(target, output, from_logits: bool = False) -> Tensor:
    """Compute the binary cross-entropy between ``target`` and ``output``, per element.

    Parameters
    ----------
    target : Tensor, np.ndarray, number or sequence
        The targets in ``[0, 1]``, cast to ``output``'s dtype.
    output : Tensor, np.ndarray, number or sequence
        Probabilities, or logits when ``from_logits``.
    from_logits : bool, default False
        Whether ``output`` holds logits.

    Returns
    -------
    Tensor
        The loss of each element (no mean over the last axis, unlike ``losses.binary_crossentropy``),
        recorded for backpropagation. Probabilities are clipped to ``[epsilon, 1 - epsilon]``; logits
        give ``softplus(z) - z * target``, exact for any value.
    """
    output = to_float(output)
    target = _like(target, output)
    if from_logits:
        return engine.softplus(output) - output * target
    eps = backend.epsilon()
    p = engine.clip(output, eps, 1.0 - eps)
    return -(target * engine.log(p) + (1.0 - target) * engine.log(1.0 - p))


def categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """Compute the categorical cross-entropy between ``target`` and ``output``, per sample.

    Parameters
    ----------
    target : Tensor, np.ndarray or sequence
        The target probabilities (one-hot or soft) along ``axis``, cast to ``output``'s dtype.
    output : Tensor, np.ndarray or sequence
        Probabilities (rescaled to sum to 1 along ``axis``, then clipped to ``[epsilon, 1 - epsilon]``,
        as Keras does), or logits when ``from_logits``.
    from_logits : bool, default False
        Whether ``output`` holds logits (then a log-softmax, exact for any value).
    axis : int, default -1
        The class axis.

    Returns
    -------
    Tensor
        The loss of each sample (summed over ``axis``), recorded for backpropagation.
    """
    output = to_float(output)
    return -(_like(target, output) * _log_probabilities(output, from_logits, axis)).sum(axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """Compute the categorical cross-entropy against integer class labels, per sample.

    Parameters
    ----------
    target : Tensor, np.ndarray or sequence of int
        The class labels; a trailing axis of length 1 (when ``target`` has ``output``'s rank) is dropped.
    output : Tensor, np.ndarray or sequence
        Probabilities (rescaled and clipped as in ``categorical_crossentropy``), or logits when
        ``from_logits``.
    from_logits : bool, default False
        Whether ``output`` holds logits.
    axis : int, default -1
        The class axis.

    Returns
    -------
    Tensor
        The loss of each sample, recorded for backpropagation.
    """
    output = to_float(output)
    labels = np.asarray(data_of(target))
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    picked = one_hot(labels.astype(np.intp), output.shape[axis], axis=axis, dtype=output.dtype)
    return -(picked * _log_probabilities(output, from_logits, axis)).sum(axis=axis)


def _log_probabilities(output: Tensor, from_logits: bool, axis: int) -> Tensor:
    """Log-softmax of logits, or the log of probabilities rescaled to sum to 1 and clipped, as Keras."""
    if from_logits:
        return engine.log_softmax(output, axis)
    eps = backend.epsilon()
    return engine.log(engine.clip(output / output.sum(axis=axis, keepdims=True), eps, 1.0 - eps))


def _like(target, output: Tensor) -> Tensor:
    """Targets in the output's dtype, so float64 labels do not turn a float32 computation into float64."""
    if isinstance(target, Tensor):
        return engine.cast(target, output.dtype)
    return Tensor(np.asarray(target, dtype=output.dtype))
