"""Metrics tracked during fit and evaluate, as running means over samples (Keras semantics).

'accuracy' / 'acc' resolve to binary, categorical or sparse categorical accuracy from the shapes
of targets and outputs, as Keras does; the history key keeps the spelling the user gave.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from deepfin import losses as _losses
from deepfin.engine.tensor import as_tensor


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    y_pred = np.asarray(y_pred)
    return np.mean(np.asarray(y_true) == (y_pred > threshold), axis=-1)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    labels = np.asarray(y_true).reshape(np.shape(y_pred)[:-1])
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float64)


def _from_loss(fn: Callable) -> Callable:
    def metric(y_true, y_pred):
        return fn(y_true, as_tensor(np.asarray(y_pred))).data

    metric.__name__ = fn.__name__
    return metric


mean_squared_error = _from_loss(_losses.mean_squared_error)
mean_absolute_error = _from_loss(_losses.mean_absolute_error)
binary_crossentropy = _from_loss(_losses.binary_crossentropy)
categorical_crossentropy = _from_loss(_losses.categorical_crossentropy)
sparse_categorical_crossentropy = _from_loss(_losses.sparse_categorical_crossentropy)


class Metric:
    """Stateful metric: ``update_state`` per batch, ``result`` for the epoch, ``reset_state``."""

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Metric):
    """Mean over samples of ``fn(y_true, y_pred)``, weighted by ``sample_weight`` if given."""

    def __init__(self, fn: Callable, name: str | None = None, **kwargs):
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name or fn.__name__)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = np.asarray(self.fn(y_true, y_pred, **self.fn_kwargs), dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            w = np.broadcast_to(np.asarray(sample_weight, np.float64).reshape(
                np.shape(sample_weight) + (1,) * (values.ndim - np.ndim(sample_weight))), values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())


_BY_NAME: dict[str, Callable] = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}
_ACCURACY = ("accuracy", "acc")


def get(identifier, y_true_shape: tuple | None = None, y_pred_shape: tuple | None = None) -> Metric:
    """A Metric from a name, a function or a Metric; shapes settle what 'accuracy' means."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _ACCURACY:
            return MeanMetricWrapper(_accuracy_for(y_true_shape, y_pred_shape), name=identifier)
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown metric: {identifier!r}. Expected one of {sorted([*_ACCURACY, *_BY_NAME])}, "
                "a function or a Metric."
            )
        return MeanMetricWrapper(_BY_NAME[identifier], name=identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"Could not interpret metric: {identifier!r}")


def _accuracy_for(y_true_shape, y_pred_shape) -> Callable:
    if y_pred_shape is None or y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy
