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
from deepfin.engine import functions, fused
from deepfin.engine.tensor import Tensor, as_tensor

_REDUCTIONS = ("sum_over_batch_size", "sum", "none", None)


# ------------------------------------------------------------ per-sample functions
def binary_crossentropy(y_true, y_pred, from_logits: bool = False) -> Tensor:
    """Binary cross-entropy of each sample, averaged over the last axis.

    When ``y_pred`` holds logits (``from_logits=True``) or came out of a sigmoid activation, the loss is
    computed on the logits as ``softplus(z) - z * y``: exact for any logit, with the gradient ``y_hat - y``.
    Otherwise the probabilities are clipped to ``[epsilon, 1 - epsilon]`` (``deepfin.backend.epsilon()``)
    before the logarithms.

    Parameters
    ----------
    y_true : array_like
        Targets in [0, 1] (labels or probabilities), broadcastable to ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predicted probabilities, or logits when ``from_logits`` is True.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less the last axis.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import losses
    >>> loss = losses.binary_crossentropy([[1.0], [0.0]], np.array([[0.5], [0.5]]))
    >>> np.round(loss.numpy(), 4)
    array([0.6931, 0.6931])
    """
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    logits = y_pred if from_logits else y_pred.activation_input("sigmoid")
    if logits is not None:
        elementwise = functions.softplus(logits) - logits * y
    else:
        eps = backend.epsilon()
        p = functions.clip(y_pred, eps, 1.0 - eps)
        elementwise = -(functions.log(p) * y + functions.log(1.0 - p) * (1.0 - y))
    return elementwise.mean(axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1) -> Tensor:
    """Categorical cross-entropy of each sample, summed over the class axis.

    On logits (``from_logits=True``, or a ``y_pred`` that came out of a softmax activation) the loss is
    ``-sum(y * log_softmax(z))``. Otherwise ``y_pred`` is first divided by its sum over ``axis`` and clipped to
    ``[epsilon, 1 - epsilon]``, as Keras does.

    Parameters
    ----------
    y_true : array_like
        One-hot targets (or class probabilities) of ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predicted class probabilities, or logits when ``from_logits`` is True.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    axis : int, default -1
        The class axis.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less ``axis``.
    """
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    logits = y_pred if from_logits else y_pred.activation_input("softmax")
    if logits is not None:
        return -(functions.log_softmax(logits, axis) * y).sum(axis=axis)
    eps = backend.epsilon()
    p = functions.clip(y_pred / y_pred.sum(axis=axis, keepdims=True), eps, 1.0 - eps)
    return -(functions.log(p) * y).sum(axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> Tensor:
    """Categorical cross-entropy of each sample, from integer class labels.

    On logits (``from_logits=True``, or a ``y_pred`` that came out of a softmax activation) the loss is
    ``-log_softmax(z)`` at each label; otherwise ``-log`` of the labelled class's probability, clipped to
    ``[epsilon, 1 - epsilon]``. The class axis is the last one.

    Parameters
    ----------
    y_true : array_like
        Integer class labels, of ``y_pred``'s shape less the last axis (a trailing axis of 1 is accepted).
    y_pred : Tensor or array_like
        Predicted class probabilities, or logits when ``from_logits`` is True.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less the last axis.
    """
    y_pred = as_tensor(y_pred)
    labels = np.asarray(y_true).astype(np.intp).reshape(y_pred.shape[:-1])
    rows = np.indices(labels.shape)
    logits = y_pred if from_logits else y_pred.activation_input("softmax")
    if logits is not None:
        return -functions.log_softmax(logits)[(*rows, labels)]
    eps = backend.epsilon()
    return -functions.log(functions.clip(y_pred[(*rows, labels)], eps, 1.0 - eps))


def mean_squared_error(y_true, y_pred) -> Tensor:
    """Squared error of each sample, averaged over the last axis.

    Parameters
    ----------
    y_true : array_like
        Targets, broadcastable to ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predictions.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less the last axis.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import losses
    >>> losses.mean_squared_error([[0.0, 1.0], [1.0, 1.0]], np.array([[1.0, 1.0], [1.0, 3.0]])).numpy()
    array([0.5, 2. ])
    """
    diff = as_tensor(y_pred) - np.asarray(y_true, dtype=as_tensor(y_pred).dtype)
    return (diff * diff).mean(axis=-1)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """Absolute error of each sample, averaged over the last axis.

    Parameters
    ----------
    y_true : array_like
        Targets, broadcastable to ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predictions.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less the last axis.
    """
    y_pred = as_tensor(y_pred)
    return functions.abs(y_pred - np.asarray(y_true, dtype=y_pred.dtype)).mean(axis=-1)


def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """Huber loss of each sample, averaged over the last axis.

    For the error ``e = y_pred - y_true`` each element contributes ``0.5 * e**2`` where ``|e| <= delta``, else
    ``delta * (|e| - 0.5 * delta)``.

    Parameters
    ----------
    y_true : array_like
        Targets, broadcastable to ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predictions.
    delta : float, default 1.0
        Where the loss turns from quadratic to linear.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less the last axis.
    """
    y_pred = as_tensor(y_pred)
    error = functions.abs(y_pred - np.asarray(y_true, dtype=y_pred.dtype))
    quadratic = functions.clip(error, 0.0, float(delta))
    return (quadratic * quadratic * 0.5 + (error - quadratic) * float(delta)).mean(axis=-1)


def log_cosh(y_true, y_pred) -> Tensor:
    """``log(cosh(e))`` of the error ``e``, averaged over the last axis.

    Computed as Keras computes it, ``e + softplus(-2 e) - log 2``: about ``e**2 / 2`` for small errors and
    ``|e| - log 2`` for large ones.

    Parameters
    ----------
    y_true : array_like
        Targets, broadcastable to ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predictions.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less the last axis.
    """
    y_pred = as_tensor(y_pred)
    error = y_pred - np.asarray(y_true, dtype=y_pred.dtype)
    return (error + functions.softplus(error * -2.0) - float(np.log(2.0))).mean(axis=-1)


def poisson(y_true, y_pred) -> Tensor:
    """Poisson loss ``y_pred - y_true * log(y_pred + epsilon)``, averaged over the last axis.

    For counts (trades, defaults): ``y_pred`` is the predicted rate and must be positive.

    Parameters
    ----------
    y_true : array_like
        Observed counts, broadcastable to ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predicted rates.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less the last axis.
    """
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    return (y_pred - functions.log(y_pred + backend.epsilon()) * y).mean(axis=-1)


def kl_divergence(y_true, y_pred) -> Tensor:
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))`` over the last axis.

    Both distributions are clipped to ``[epsilon, 1]`` first, as in Keras.

    Parameters
    ----------
    y_true : array_like
        The reference distribution, broadcastable to ``y_pred``'s shape.
    y_pred : Tensor or array_like
        The predicted distribution.

    Returns
    -------
    Tensor
        The per-sample divergences: ``y_pred``'s shape less the last axis.
    """
    y_pred = as_tensor(y_pred)
    eps = backend.epsilon()
    y = np.clip(np.asarray(y_true, dtype=y_pred.dtype), eps, 1.0)
    return (functions.log(functions.clip(y_pred, eps, 1.0) * (1.0 / y)) * -y).sum(axis=-1)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0) -> Tensor:
    """Focal binary cross-entropy of each sample, averaged over the last axis (Keras's formula).

    The binary cross-entropy of each output is multiplied by ``(1 - p_t) ** gamma``, where ``p_t`` is the
    probability given to the true class (Lin et al., 2017): confident, right predictions count less. With
    ``apply_class_balancing`` it is further multiplied by ``alpha`` for positives and ``1 - alpha`` for negatives.
    Unlike ``binary_crossentropy`` it does not read the logits of a sigmoid output: probabilities are clipped to
    ``[epsilon, 1 - epsilon]``.

    Parameters
    ----------
    y_true : array_like
        Targets in [0, 1], broadcastable to ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predicted probabilities, or logits when ``from_logits`` is True.
    apply_class_balancing : bool, default False
        Whether to weight positives by ``alpha`` and negatives by ``1 - alpha``.
    alpha : float, default 0.25
        The positives' weight under class balancing.
    gamma : float, default 2.0
        The focusing exponent; 0 gives the (balanced) binary cross-entropy.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits (a sigmoid is applied first).
    label_smoothing : float, default 0.0
        Targets are moved towards 0.5: ``y * (1 - label_smoothing) + 0.5 * label_smoothing``.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less the last axis.
    """
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = functions.sigmoid(y_pred) if from_logits else y_pred
    eps = backend.epsilon()
    clipped = functions.clip(p, eps, 1.0 - eps)
    bce = -(functions.log(clipped) * y + functions.log(1.0 - clipped) * (1.0 - y))
    p_t = p * y + (1.0 - p) * (1.0 - y)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = focal * (y * alpha + (1.0 - y) * (1.0 - alpha))
    return focal.mean(axis=-1)


def categorical_focal_crossentropy(y_true, y_pred, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Focal categorical cross-entropy of each sample, summed over the class axis (Keras's formula).

    Each class's cross-entropy term ``-y * log(p)`` is multiplied by ``alpha * (1 - p) ** gamma``. ``y_pred`` is
    divided by its sum over ``axis`` and clipped to ``[epsilon, 1 - epsilon]`` first.

    Parameters
    ----------
    y_true : array_like
        One-hot targets (or class probabilities) of ``y_pred``'s shape.
    y_pred : Tensor or array_like
        Predicted class probabilities, or logits when ``from_logits`` is True.
    alpha : float, default 0.25
        Weight of every class's term.
    gamma : float, default 2.0
        The focusing exponent.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits (a softmax over ``axis`` is applied first).
    label_smoothing : float, default 0.0
        Targets are moved towards uniform: ``y * (1 - label_smoothing) + label_smoothing / num_classes``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    Tensor
        The per-sample losses: ``y_pred``'s shape less ``axis``.
    """
    y_pred = as_tensor(y_pred)
    y = np.asarray(y_true, dtype=y_pred.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y.shape[axis]
    p = functions.softmax(y_pred, axis) if from_logits else y_pred
    eps = backend.epsilon()
    p = functions.clip(p / p.sum(axis=axis, keepdims=True), eps, 1.0 - eps)
    return ((1.0 - p) ** gamma * alpha * functions.log(p) * -y).sum(axis=axis)


# ------------------------------------------------------------ Loss objects
class Loss:
    """Base class of the losses, as Keras's ``keras.losses.Loss``.

    A subclass implements ``call(y_true, y_pred)``, which returns per-sample losses (``y_true`` arrives as a
    Tensor of ``y_pred``'s dtype); calling the loss weights them by ``sample_weight`` and reduces them to a
    scalar.

    Parameters
    ----------
    name : str or None, default None
        The loss's name; None gives the class name in snake case.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        How the (weighted) per-sample losses are reduced: their mean over the samples, their sum, or none (the
        per-sample losses are returned).

    Raises
    ------
    ValueError
        If ``reduction`` is not one of the four above.

    Notes
    -----
    Differences from Keras: no ``dtype`` argument, and no ``"mean"`` or ``"mean_with_sample_weight"``
    reduction. deepfin's built-in losses take ``name`` before ``reduction``, Keras's take ``reduction`` first:
    pass both by keyword.

    Examples
    --------
    A custom loss implements ``call``:

    >>> import numpy as np
    >>> from deepfin import losses, ops
    >>> class MeanFourthPower(losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         error = y_pred - y_true
    ...         return functions.mean(error * error * error * error, axis=-1)
    >>> loss = MeanFourthPower()
    >>> loss.name
    'mean_fourth_power'
    >>> float(loss(np.zeros((2, 1)), np.array([[1.0], [2.0]])))
    8.5
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid reduction: {reduction!r}. Expected one of {_REDUCTIONS}.")
        self.name = name or backend.snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred) -> Tensor:
        """Per-sample losses of a batch; subclasses implement it."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        """The loss of a batch, weighted by ``sample_weight`` and reduced as ``reduction`` says.

        Parameters
        ----------
        y_true : array_like or Tensor
            Targets; converted to a Tensor of ``y_pred``'s dtype before ``call``.
        y_pred : Tensor or array_like
            Predictions.
        sample_weight : array_like or None, default None
            One weight per sample (or per leading element of the per-sample losses); it multiplies the per-sample
            losses before the reduction. The mean divides by the number of per-sample losses, not by the weights'
            sum, as Keras's ``"sum_over_batch_size"`` does.

        Returns
        -------
        Tensor
            A scalar, or the per-sample losses when ``reduction`` is ``"none"`` or None.
        """
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

        Targets of one rank less than the outputs gain a last axis of 1, and a last axis of 1 broadcasts across the
        outputs, as in Keras.

        Parameters
        ----------
        y : array_like
            The targets given to ``fit`` or ``evaluate``.
        output_shape : tuple
            The model's output shape, batch axis first.

        Returns
        -------
        np.ndarray
            The targets, reshaped where needed.

        Raises
        ------
        ValueError
            If the targets are not numeric, hold NaN or inf, or do not fit ``output_shape``; the message names the
            loss, the targets' shape and what was expected.
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
        """The constructor arguments, as a dict that ``from_config`` takes."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        """A loss made from ``get_config``'s dict."""
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
    """Binary cross-entropy, as Keras's ``BinaryCrossentropy``.

    With the default reduction, logits (``from_logits=True``, or a ``y_pred`` that came out of a sigmoid
    activation) go through one fused op, exact for any logit. Targets must lie in [0, 1].

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    name : str, default "binary_crossentropy"
        The loss's name.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.

    Notes
    -----
    Keras's ``label_smoothing``, ``axis`` and ``dtype`` arguments are not taken.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import losses
    >>> bce = losses.BinaryCrossentropy()
    >>> round(float(bce([[1.0], [0.0]], np.array([[0.5], [0.5]]))), 4)
    0.6931
    """
    activation = "sigmoid"

    def __init__(self, from_logits: bool = False, name="binary_crossentropy", reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        """Per-sample losses: ``binary_crossentropy(y_true, y_pred, from_logits)``."""
        return binary_crossentropy(y_true, y_pred, self.from_logits)

    def _fused(self, logits, y_true, sample_weight):
        return fused.sigmoid_binary_crossentropy(logits, y_true, sample_weight)

    def validate_targets(self, y, output_shape):
        """Targets checked as ``Loss.validate_targets`` does, and to lie in [0, 1].

        Raises ValueError for targets outside [0, 1], besides the base class's checks.
        """
        y = super().validate_targets(y, output_shape)
        _check_probabilities(y, self.name)
        return y

    def get_config(self):
        """The base config plus ``from_logits``."""
        return {**super().get_config(), "from_logits": self.from_logits}


class CategoricalCrossentropy(_Crossentropy):
    """Categorical cross-entropy on one-hot targets, as Keras's ``CategoricalCrossentropy``.

    With the default reduction, logits (``from_logits=True``, or a ``y_pred`` that came out of a softmax
    activation) go through one fused op. Integer class labels are refused when the output has more than one
    unit: the error points to ``sparse_categorical_crossentropy`` and ``deepfin.utils.to_categorical``.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    axis : int, default -1
        The class axis.
    name : str, default "categorical_crossentropy"
        The loss's name.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.

    Notes
    -----
    Keras's ``label_smoothing`` and ``dtype`` arguments are not taken.
    """
    activation = "softmax"

    def __init__(self, from_logits: bool = False, axis: int = -1, name="categorical_crossentropy",
                 reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits, self.axis = from_logits, axis

    def call(self, y_true, y_pred):
        """Per-sample losses: ``categorical_crossentropy(y_true, y_pred, from_logits, axis)``."""
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.axis)

    def _fused(self, logits, y_true, sample_weight):
        return fused.softmax_categorical_crossentropy(logits, y_true, self.axis, sample_weight)

    def validate_targets(self, y, output_shape):
        """Targets checked as ``Loss.validate_targets`` does, one-hot and in [0, 1].

        Raises ValueError for class labels given to a multi-unit output (with a hint to the sparse loss) and for
        values outside [0, 1], besides the base class's checks.
        """
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
        """The base config plus ``from_logits`` and ``axis``."""
        return {**super().get_config(), "from_logits": self.from_logits, "axis": self.axis}


class SparseCategoricalCrossentropy(_Crossentropy):
    """Categorical cross-entropy on integer class labels, as Keras's ``SparseCategoricalCrossentropy``.

    With the default reduction, logits (``from_logits=True``, or a ``y_pred`` that came out of a softmax
    activation) go through one fused op. The class axis is the last one.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    name : str, default "sparse_categorical_crossentropy"
        The loss's name.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.

    Notes
    -----
    Keras's ``ignore_class`` and ``dtype`` arguments are not taken.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import losses
    >>> loss = losses.SparseCategoricalCrossentropy()
    >>> round(float(loss([0, 1], np.array([[0.5, 0.5], [0.5, 0.5]]))), 4)
    0.6931
    """
    activation = "softmax"

    def __init__(self, from_logits: bool = False, name="sparse_categorical_crossentropy",
                 reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        """Per-sample losses: ``sparse_categorical_crossentropy(y_true, y_pred, from_logits)``."""
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def _fused(self, logits, y_true, sample_weight):
        return fused.softmax_sparse_categorical_crossentropy(logits, y_true, sample_weight)

    def validate_targets(self, y, output_shape):
        """Targets checked to be integer class labels of the output's classes.

        Labels of shape ``(n,)`` or ``(n, 1)`` (for a 2-D output) are kept in the shape given, as ``np.intp``.
        Raises ValueError for non-numeric targets, NaN or inf, a shape that does not fit (with a hint to the
        categorical loss for one-hot targets), and values that are not integers in ``[0, classes - 1]``.
        """
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
        """The base config plus ``from_logits``."""
        return {**super().get_config(), "from_logits": self.from_logits}


class MeanSquaredError(Loss):
    """Mean squared error, as Keras's ``MeanSquaredError``.

    Parameters
    ----------
    name : str, default "mean_squared_error"
        The loss's name.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import losses
    >>> float(losses.MeanSquaredError()([[0.0], [1.0]], np.array([[1.0], [3.0]])))
    2.5
    >>> losses.MeanSquaredError(reduction="none")([[0.0], [1.0]], np.array([[1.0], [3.0]])).numpy()
    array([1., 4.])
    """
    def __init__(self, name="mean_squared_error", reduction="sum_over_batch_size"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        """Per-sample losses: ``mean_squared_error(y_true, y_pred)``."""
        return mean_squared_error(y_true, y_pred)


class MeanAbsoluteError(Loss):
    """Mean absolute error, as Keras's ``MeanAbsoluteError``.

    Parameters
    ----------
    name : str, default "mean_absolute_error"
        The loss's name.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.
    """
    def __init__(self, name="mean_absolute_error", reduction="sum_over_batch_size"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        """Per-sample losses: ``mean_absolute_error(y_true, y_pred)``."""
        return mean_absolute_error(y_true, y_pred)


class Huber(Loss):
    """Huber loss, as Keras's ``Huber``: quadratic for errors up to ``delta``, linear beyond.

    Parameters
    ----------
    delta : float, default 1.0
        Where the loss turns from quadratic to linear.
    name : str, default "huber_loss"
        The loss's name.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.

    Raises
    ------
    ValueError
        If ``delta`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import losses
    >>> float(losses.Huber(delta=1.0)([[0.0], [0.0]], np.array([[0.5], [2.0]])))
    0.8125
    """
    def __init__(self, delta: float = 1.0, name="huber_loss", reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        if delta <= 0:
            raise ValueError(f"delta must be positive. Received: delta={delta}")
        self.delta = delta

    def call(self, y_true, y_pred):
        """Per-sample losses: ``huber(y_true, y_pred, delta)``."""
        return huber(y_true, y_pred, self.delta)

    def get_config(self):
        """The base config plus ``delta``."""
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


LogCosh = _loss_class(log_cosh, "LogCosh", """Mean log(cosh(error)): squared for small errors, absolute for large.

    As Keras's ``LogCosh``; the per-sample function is ``log_cosh``.

    Parameters
    ----------
    name : str or None, default None
        The loss's name; None gives ``"log_cosh"``.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.
    """)
Poisson = _loss_class(poisson, "Poisson", """Mean Poisson deviance term, for counts.

    As Keras's ``Poisson``: ``y_pred - y_true * log(y_pred + epsilon)`` (see ``poisson``).

    Parameters
    ----------
    name : str or None, default None
        The loss's name; None gives ``"poisson"``.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.
    """)
KLDivergence = _loss_class(kl_divergence, "KLDivergence", """Kullback-Leibler divergence of y_pred from y_true.

    As Keras's ``KLDivergence``; the per-sample function is ``kl_divergence``.

    Parameters
    ----------
    name : str or None, default None
        The loss's name; None gives ``"kl_divergence"``.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.
    """)
BinaryFocalCrossentropy = _loss_class(
    binary_focal_crossentropy, "BinaryFocalCrossentropy", """Focal binary cross-entropy (Lin et al., 2017).

    As Keras's ``BinaryFocalCrossentropy``; the formula is ``binary_focal_crossentropy``'s.

    Parameters
    ----------
    apply_class_balancing : bool, default False
        Whether to weight positives by ``alpha`` and negatives by ``1 - alpha``.
    alpha : float, default 0.25
        The positives' weight under class balancing; in [0, 1].
    gamma : float, default 2.0
        The focusing exponent; non-negative.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits.
    label_smoothing : float, default 0.0
        In [0, 1]; targets are moved towards 0.5.
    name : str or None, default None
        The loss's name; None gives ``"binary_focal_crossentropy"``.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.

    Raises
    ------
    TypeError
        For a keyword argument not listed here (Keras's ``axis`` and ``dtype`` are not taken).
    ValueError
        If ``alpha`` or ``label_smoothing`` is outside [0, 1], or ``gamma`` is negative.
    """,
    apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0)
CategoricalFocalCrossentropy = _loss_class(
    categorical_focal_crossentropy, "CategoricalFocalCrossentropy", """Focal categorical cross-entropy.

    As Keras's ``CategoricalFocalCrossentropy``; the formula is ``categorical_focal_crossentropy``'s, on the
    last axis.

    Parameters
    ----------
    alpha : float, default 0.25
        Weight of every class's term; in [0, 1].
    gamma : float, default 2.0
        The focusing exponent; non-negative.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits.
    label_smoothing : float, default 0.0
        In [0, 1]; targets are moved towards uniform.
    name : str or None, default None
        The loss's name; None gives ``"categorical_focal_crossentropy"``.
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.

    Raises
    ------
    TypeError
        For a keyword argument not listed here (Keras's ``axis`` and ``dtype`` are not taken).
    ValueError
        If ``alpha`` or ``label_smoothing`` is outside [0, 1], or ``gamma`` is negative.
    """,
    alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0)


class LossFunctionWrapper(Loss):
    """A Loss around a user function ``fn(y_true, y_pred)`` that returns per-sample losses or one number.

    ``fn`` gets the targets as a Tensor of ``y_pred``'s dtype, as every ``Loss.call`` does. ``losses.get``
    wraps a plain function in it.

    Parameters
    ----------
    fn : callable
        ``fn(y_true, y_pred, **kwargs)``, returning a Tensor or array.
    name : str or None, default None
        The loss's name; None gives ``fn.__name__`` (or ``"loss"``).
    reduction : {"sum_over_batch_size", "sum", "none", None}, default "sum_over_batch_size"
        As for ``Loss``.
    **kwargs
        Passed to ``fn`` on every call.

    Notes
    -----
    Keras's ``dtype`` argument is not taken, and ``get_config`` does not record ``fn`` or its arguments.
    """

    def __init__(self, fn: Callable, name: str | None = None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        """Per-sample losses: ``fn(y_true, y_pred, **kwargs)`` as a Tensor."""
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
    """A Loss object from a name, a class, a config dict, a function or a Loss.

    Parameters
    ----------
    identifier : str, type, dict, callable or Loss
        A built-in name or alias (``'mse'``, ``'binary_crossentropy'``, ``'huber'``, ...), the name of a
        custom object (``custom_object_scope``, ``register_keras_serializable``), a Loss subclass, a
        ``{"class_name": ..., "config": ...}`` dict as ``serialize`` writes it, a per-sample function (a
        built-in one gives its class, any other a ``LossFunctionWrapper``), or a Loss, returned as it is.

    Returns
    -------
    Loss
        A new loss object with its default settings, or ``identifier`` itself.

    Raises
    ------
    ValueError
        If a name is unknown (the message lists the known ones).
    TypeError
        If ``identifier`` is none of the above.

    Examples
    --------
    >>> from deepfin import losses
    >>> type(losses.get("mse")).__name__
    'MeanSquaredError'
    >>> losses.get("binary_crossentropy").from_logits
    False
    """
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
    """A loss as a ``{"class_name": ..., "config": ...}`` dict, which ``get`` turns back into a loss.

    Parameters
    ----------
    loss : Loss
        The loss to describe.

    Returns
    -------
    dict
        The class name and ``loss.get_config()``.

    Examples
    --------
    >>> from deepfin import losses
    >>> losses.serialize(losses.Huber(delta=2.0))
    {'class_name': 'Huber', 'config': {'name': 'huber_loss', 'reduction': 'sum_over_batch_size', 'delta': 2.0}}
    """
    return {"class_name": type(loss).__name__, "config": loss.get_config()}
