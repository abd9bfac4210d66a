"""The neural-network ops of ``keras.ops``: activations, one-hot encoding and elementwise cross-entropies.

The cross-entropies return what Keras's do, before any reduction: ``binary_crossentropy`` one value
per element, the categorical ones one value per sample (summed over ``axis``). Probabilities are
clipped to ``[epsilon, 1 - epsilon]`` as Keras does; with ``from_logits=True`` they are computed
from the logits, exactly for any value.
"""

from __future__ import annotations

import numpy as np

from deepfin import backend
from deepfin.engine import ops as engine
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
    return engine.sigmoid(to_float(x))


def tanh(x) -> Tensor:
    return engine.tanh(to_float(x))


def relu(x) -> Tensor:
    return engine.relu(to_float(x))


def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return engine.clip(to_float(x), 0.0, 6.0)


def elu(x, alpha: float = 1.0) -> Tensor:
    return engine.elu(to_float(x), alpha)


def selu(x) -> Tensor:
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017)."""
    return engine.elu(to_float(x), _SELU_ALPHA) * _SELU_SCALE


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    return engine.leaky_relu(to_float(x), negative_slope)


def softplus(x) -> Tensor:
    return engine.softplus(to_float(x))


def silu(x) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    x = to_float(x)
    return x * engine.sigmoid(x)


def softmax(x, axis: int = -1) -> Tensor:
    return engine.softmax(to_float(x), axis)


def log_softmax(x, axis: int = -1) -> Tensor:
    return engine.log_softmax(to_float(x), axis)


def one_hot(x, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False) -> Tensor:
    """Integer labels as one-hot vectors along a new ``axis``; labels outside ``[0, num_classes)`` give zeros."""
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
    """Binary cross-entropy per element (no mean over the last axis, unlike ``losses.binary_crossentropy``)."""
    output = to_float(output)
    target = _like(target, output)
    if from_logits:
        return engine.softplus(output) - output * target
    eps = backend.epsilon()
    p = engine.clip(output, eps, 1.0 - eps)
    return -(target * engine.log(p) + (1.0 - target) * engine.log(1.0 - p))


def categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """Categorical cross-entropy per sample, against probability (one-hot) targets along ``axis``."""
    output = to_float(output)
    return -(_like(target, output) * _log_probabilities(output, from_logits, axis)).sum(axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """Categorical cross-entropy per sample, against integer class labels (a trailing axis of 1 is dropped)."""
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
