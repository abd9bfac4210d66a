"""Losses with Keras's names and reductions.

``losses.get(name)`` returns a ``Loss`` object: ``loss(y_true, y_pred)`` is a scalar Tensor, the
mean over the batch ('sum_over_batch_size'). The lower-case functions return per-sample
losses, as Keras's do. A cross-entropy whose ``y_pred`` came out of a sigmoid or softmax works
on the logits directly: exact for any logit, with the gradient ``y_hat - y``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from deepfin import _custom, backend
from deepfin._text import shape_str
from deepfin.engine import ops
from deepfin.engine.tensor import Tensor, as_tensor

_REDUCTIONS = ("sum_over_batch_size", "sum", "none", None)


# ------------------------------------------------------------ per-sample functions
def binary_crossentropy(y_true, y_pred, from_logits: bool = False) -> Tensor:
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    logits = y_pred if from_logits else y_pred.activation_input("sigmoid")
    if logits is not None:
        elementwise = ops.softplus(logits) - logits * y
    else:
        eps = backend.epsilon()
        p = ops.clip(y_pred, eps, 1.0 - eps)
        elementwise = -(ops.log(p) * y + ops.log(1.0 - p) * (1.0 - y))
    return elementwise.mean(axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1) -> Tensor:
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    logits = y_pred if from_logits else y_pred.activation_input("softmax")
    if logits is not None:
        return -(ops.log_softmax(logits, axis) * y).sum(axis=axis)
    eps = backend.epsilon()
    p = ops.clip(y_pred / y_pred.sum(axis=axis, keepdims=True), eps, 1.0 - eps)
    return -(ops.log(p) * y).sum(axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> Tensor:
    y_pred = as_tensor(y_pred)
    labels = np.asarray(y_true).astype(np.intp).reshape(y_pred.shape[:-1])
    rows = np.indices(labels.shape)
    logits = y_pred if from_logits else y_pred.activation_input("softmax")
    if logits is not None:
        return -ops.log_softmax(logits)[(*rows, labels)]
    eps = backend.epsilon()
    return -ops.log(ops.clip(y_pred[(*rows, labels)], eps, 1.0 - eps))


def mean_squared_error(y_true, y_pred) -> Tensor:
    diff = as_tensor(y_pred) - np.asarray(y_true, dtype=as_tensor(y_pred).dtype)
    return (diff * diff).mean(axis=-1)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    y_pred = as_tensor(y_pred)
    return ops.abs(y_pred - np.asarray(y_true, dtype=y_pred.dtype)).mean(axis=-1)


def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """0.5 e**2 where |e| <= delta, else delta * (|e| - 0.5 delta), averaged over the last axis."""
    y_pred = as_tensor(y_pred)
    error = ops.abs(y_pred - np.asarray(y_true, dtype=y_pred.dtype))
    quadratic = ops.clip(error, 0.0, float(delta))
    return (quadratic * quadratic * 0.5 + (error - quadratic) * float(delta)).mean(axis=-1)


def log_cosh(y_true, y_pred) -> Tensor:
    """log(cosh(e)) of the error e, as Keras computes it (e + softplus(-2 e) - log 2), averaged over the last
    axis: about e**2 / 2 for small errors and |e| - log 2 for large ones."""
    y_pred = as_tensor(y_pred)
    error = y_pred - np.asarray(y_true, dtype=y_pred.dtype)
    return (error + ops.softplus(error * -2.0) - float(np.log(2.0))).mean(axis=-1)


def poisson(y_true, y_pred) -> Tensor:
    """``y_pred - y_true log(y_pred + epsilon)``, averaged over the last axis (counts: trades, defaults)."""
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    return (y_pred - ops.log(y_pred + backend.epsilon()) * y).mean(axis=-1)


def kl_divergence(y_true, y_pred) -> Tensor:
    """``sum(y_true log(y_true / y_pred))`` over the last axis, both clipped to [epsilon, 1] as in Keras."""
    y_pred = as_tensor(y_pred)
    eps = backend.epsilon()
    y = np.clip(np.asarray(y_true, dtype=y_pred.dtype), eps, 1.0)
    return (ops.log(ops.clip(y_pred, eps, 1.0) * (1.0 / y)) * -y).sum(axis=-1)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0) -> Tensor:
    """Binary cross-entropy times ``(1 - p_t) ** gamma`` (Lin et al., 2017: confident, right predictions count
    less), and with ``apply_class_balancing`` times ``alpha`` for positives and ``1 - alpha`` for negatives;
    averaged over the last axis, Keras's formula."""
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    eps = backend.epsilon()
    clipped = ops.clip(p, eps, 1.0 - eps)
    bce = -(ops.log(clipped) * y + ops.log(1.0 - clipped) * (1.0 - y))
    p_t = p * y + (1.0 - p) * (1.0 - y)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = focal * (y * alpha + (1.0 - y) * (1.0 - alpha))
    return focal.mean(axis=-1)


def categorical_focal_crossentropy(y_true, y_pred, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Categorical cross-entropy with each class's term times ``alpha (1 - p) ** gamma``, Keras's formula."""
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y.shape[axis]
    p = ops.softmax(y_pred, axis) if from_logits else y_pred
    eps = backend.epsilon()
    p = ops.clip(p / p.sum(axis=axis, keepdims=True), eps, 1.0 - eps)
    return ((1.0 - p) ** gamma * alpha * ops.log(p) * -y).sum(axis=axis)


# ------------------------------------------------------------ Loss objects
class Loss:
    """Base loss: ``call(y_true, y_pred)`` gives per-sample losses (``y_true`` a Tensor of ``y_pred``'s
    dtype), ``__call__`` reduces them to a scalar."""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid reduction: {reduction!r}. Expected one of {_REDUCTIONS}.")
        self.name = name or backend.snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        y_pred = as_tensor(y_pred)
        per_sample = self.call(_targets(y_true, y_pred.dtype), y_pred)
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=per_sample.dtype)
            per_sample = per_sample * w.reshape(w.shape + (1,) * (per_sample.ndim - w.ndim))
        if self.reduction in ("none", None):
            return per_sample
        total = per_sample.sum()
        return total if self.reduction == "sum" else total * (1.0 / max(per_sample.size, 1))

    def validate_targets(self, y: np.ndarray, output_shape: tuple) -> np.ndarray:
        """Targets as the loss needs them for outputs of ``output_shape`` (batch axis first).

        A last axis of 1 (or none) broadcasts across the outputs, as in Keras. Raises ValueError
        naming the loss, the targets' shape and what was expected.
        """
        y = _numeric(y, self.name)
        if y.ndim == len(output_shape) - 1:  # Keras's rule: one rank less gains a last axis of 1,
            y = y.reshape(y.shape + (1,))     # which broadcasts across the outputs
        if tuple(y.shape[1:-1]) != tuple(output_shape[1:-1]) or y.shape[-1] not in (1, output_shape[-1]):
            raise ValueError(
                f"Targets of shape {y.shape} do not fit the model's output shape "
                f"{shape_str(output_shape)} for loss '{self.name}'. Expected targets of shape "
                f"(n, {', '.join(str(d) for d in output_shape[1:])})."
            )
        return y

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)


def _targets(y_true, dtype) -> Tensor:
    """Targets as a Tensor of the predictions' dtype, as Keras converts them before ``call``: float64
    targets must not turn a float32 model's loss and backward pass into float64."""
    if isinstance(y_true, Tensor) and y_true.dtype == dtype:
        return y_true
    return Tensor(np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true, dtype=dtype))


def _numeric(y, loss_name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise ValueError(f"Targets for loss '{loss_name}' must be numeric. Received dtype {y.dtype}.")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"Targets for loss '{loss_name}' contain NaN or inf.")
    return y


def _check_probabilities(y: np.ndarray, loss_name: str) -> None:
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(
            f"Targets for loss '{loss_name}' must lie in [0, 1] (class labels or probabilities). "
            f"Received values from {y.min()} to {y.max()}."
        )


class _Crossentropy(Loss):
    """A cross-entropy that runs as one fused op on logits when it has them (from_logits, or a
    ``y_pred`` that came out of the matching ``activation``) and the reduction is the mean."""

    activation = ""

    def _fused(self, logits: Tensor, y_true, sample_weight) -> Tensor:
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred)
        logits = y_pred if self.from_logits else y_pred.activation_input(self.activation)
        if logits is not None and self.reduction == "sum_over_batch_size":
            return self._fused(logits, y_true, sample_weight)
        return super().__call__(y_true, y_pred, sample_weight)


class BinaryCrossentropy(_Crossentropy):
    activation = "sigmoid"

    def __init__(self, from_logits: bool = False, name="binary_crossentropy", reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, self.from_logits)

    def _fused(self, logits, y_true, sample_weight):
        return ops.sigmoid_binary_crossentropy(logits, y_true, sample_weight)

    def validate_targets(self, y, output_shape):
        y = super().validate_targets(y, output_shape)
        _check_probabilities(y, self.name)
        return y

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class CategoricalCrossentropy(_Crossentropy):
    activation = "softmax"

    def __init__(self, from_logits: bool = False, axis: int = -1, name="categorical_crossentropy",
                 reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits, self.axis = from_logits, axis

    def call(self, y_true, y_pred):
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.axis)

    def _fused(self, logits, y_true, sample_weight):
        return ops.softmax_categorical_crossentropy(logits, y_true, self.axis, sample_weight)

    def validate_targets(self, y, output_shape):
        y_array = np.asarray(y)
        if output_shape[-1] not in (None, 1) and (
            y_array.ndim == len(output_shape) - 1 or y_array.shape[-1:] == (1,)
        ):
            raise ValueError(
                f"Loss '{self.name}' expects one-hot targets of shape (n, {output_shape[-1]}). "
                f"Received class labels of shape {y_array.shape}. Use "
                "loss='sparse_categorical_crossentropy' or deepfin.utils.to_categorical(y)."
            )
        y = super().validate_targets(y, output_shape)
        _check_probabilities(y, self.name)
        return y

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "axis": self.axis}


class SparseCategoricalCrossentropy(_Crossentropy):
    activation = "softmax"

    def __init__(self, from_logits: bool = False, name="sparse_categorical_crossentropy",
                 reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def _fused(self, logits, y_true, sample_weight):
        return ops.softmax_sparse_categorical_crossentropy(logits, y_true, sample_weight)

    def validate_targets(self, y, output_shape):
        y = _numeric(y, self.name)
        label_shape = tuple(output_shape[1:-1])
        labels = y.reshape(y.shape[:-1]) if y.ndim == len(output_shape) and y.shape[-1] == 1 else y
        if tuple(labels.shape[1:]) != label_shape:
            hint = " For one-hot targets use loss='categorical_crossentropy'." if y.ndim == len(output_shape) else ""
            raise ValueError(
                f"Loss '{self.name}' expects integer class labels of shape {shape_str(('n',) + label_shape)}. "
                f"Received targets of shape {y.shape}.{hint}"
            )
        classes = output_shape[-1]
        if y.size and (np.any(y != np.round(y)) or y.min() < 0 or y.max() >= classes):
            raise ValueError(
                f"Loss '{self.name}' expects integer class labels in [0, {classes - 1}] for an "
                f"output of {classes} classes. Received values from {y.min()} to {y.max()}."
            )
        return y.astype(np.intp)  # in the shape given, (n,) or (n, 1): metrics see the targets as Keras's do

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class MeanSquaredError(Loss):
    def __init__(self, name="mean_squared_error", reduction="sum_over_batch_size"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)


class MeanAbsoluteError(Loss):
    def __init__(self, name="mean_absolute_error", reduction="sum_over_batch_size"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)


class Huber(Loss):
    def __init__(self, delta: float = 1.0, name="huber_loss", reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        if delta <= 0:
            raise ValueError(f"delta must be positive. Received: delta={delta}")
        self.delta = delta

    def call(self, y_true, y_pred):
        return huber(y_true, y_pred, self.delta)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class _Wrapped(Loss):
    """A built-in per-sample function with its settings (the losses below)."""

    _function: Callable = None
    _defaults: dict = {}

    def __init__(self, name: str | None = None, reduction="sum_over_batch_size", **settings):
        super().__init__(name or self._function.__name__, reduction)
        unknown = sorted(set(settings) - set(self._defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} takes no {', '.join(unknown)}.")
        self.settings = {**self._defaults, **settings}
        for key in ("alpha", "label_smoothing"):
            if key in self.settings and not 0 <= self.settings[key] <= 1:
                raise ValueError(f"{key} must be in [0, 1]. Received: {key}={self.settings[key]!r}")
        if self.settings.get("gamma", 0) < 0:
            raise ValueError(f"gamma must be non-negative. Received: gamma={self.settings['gamma']!r}")

    def call(self, y_true, y_pred):
        return type(self)._function(y_true, y_pred, **self.settings)

    def get_config(self):
        return {**super().get_config(), **self.settings}


def _loss_class(function: Callable, name: str, doc: str, **defaults) -> type[Loss]:
    return type(name, (_Wrapped,), {"_function": staticmethod(function), "_defaults": defaults, "__doc__": doc})


LogCosh = _loss_class(log_cosh, "LogCosh", "Mean log(cosh(error)): squared for small errors, absolute for large.")
Poisson = _loss_class(poisson, "Poisson", "Mean Poisson deviance term, for counts.")
KLDivergence = _loss_class(kl_divergence, "KLDivergence", "Kullback-Leibler divergence of y_pred from y_true.")
BinaryFocalCrossentropy = _loss_class(
    binary_focal_crossentropy, "BinaryFocalCrossentropy", "Focal binary cross-entropy (Lin et al., 2017).",
    apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0)
CategoricalFocalCrossentropy = _loss_class(
    categorical_focal_crossentropy, "CategoricalFocalCrossentropy", "Focal categorical cross-entropy.",
    alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0)


class LossFunctionWrapper(Loss):
    """A Loss around a user function ``fn(y_true, y_pred)`` that returns per-sample losses or one number.

    ``fn`` gets the targets as a Tensor of ``y_pred``'s dtype, as every ``Loss.call`` does.
    """

    def __init__(self, fn: Callable, name: str | None = None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return as_tensor(self.fn(y_true, y_pred, **self.fn_kwargs))


# ------------------------------------------------------------ lookup
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_BY_NAME: dict[str, type[Loss]] = {
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh, "logcosh": LogCosh, "poisson": Poisson,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "binary_focal_crossentropy": BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossentropy,
}
for _cls in set(_BY_NAME.values()):
    _BY_NAME[_cls.__name__] = _cls
_BY_FUNCTION = {
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError, huber: Huber,
    log_cosh: LogCosh, poisson: Poisson, kl_divergence: KLDivergence,
    binary_focal_crossentropy: BinaryFocalCrossentropy, categorical_focal_crossentropy: CategoricalFocalCrossentropy,
}


def get(identifier) -> Loss:
    """A Loss object from a name ('mse', 'binary_crossentropy', ...), a class, or a function."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        custom = _custom.lookup(identifier)
        if identifier not in _BY_NAME and custom is not None:
            return get(custom)
        if identifier not in _BY_NAME:
            names = sorted(n for n in _BY_NAME if n.islower())
            raise ValueError(f"Unknown loss: {identifier!r}. Expected one of {names}.")
        return _BY_NAME[identifier]()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _BY_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    if callable(identifier):
        known = _BY_FUNCTION.get(identifier)
        return known() if known else LossFunctionWrapper(identifier)
    raise TypeError(f"Could not interpret loss: {identifier!r}. Expected a name, a Loss or a function.")


def serialize(loss: Loss) -> dict:
    return {"class_name": type(loss).__name__, "config": loss.get_config()}
