"""Metrics tracked during fit and evaluate, as running means over samples (Keras semantics).

'accuracy' / 'acc' resolve to binary, categorical or sparse categorical accuracy from the shapes
of targets and outputs, as Keras does; the history key keeps the spelling the user gave.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from deepfin import _custom, backend, initializers
from deepfin import losses as _losses
from deepfin._ranking import weighted_auc
from deepfin.engine.tensor import as_tensor
from deepfin.engine.variable import Variable


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
    """Stateful metric: ``update_state`` per batch, ``result`` for the epoch, ``reset_state``.

    A subclass keeps its state in attributes or, as Keras 3's guides write it, in variables made by
    ``add_variable`` (updated with ``assign`` / ``assign_add``), which ``reset_state`` sets to zero.
    """

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or backend.snake_case(type(self).__name__)
        self.dtype = dtype
        self.total, self.count = 0.0, 0.0
        self._variables: list[Variable] = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation: str = "sum",
                     name: str | None = None) -> Variable:
        """A state variable of this metric (not trained), reset to zero by ``reset_state``."""
        shape = tuple(int(d) for d in shape)
        value = initializers.get(initializer)(shape, dtype=dtype or self.dtype or backend.floatx())
        variable = Variable(value, trainable=False, name=name or f"variable_{len(self._variables)}")
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    def add_weight(self, name: str | None = None, shape=(), initializer="zeros", dtype=None,
                   aggregation: str = "sum") -> Variable:
        """Keras 2's name for ``add_variable``."""
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0
        for variable in self._variables:
            variable.data[...] = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Update with one batch and return the result so far, as a Keras metric."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class MeanMetricWrapper(Metric):
    """Mean over samples of ``fn(y_true, y_pred)``, weighted by ``sample_weight`` if given."""

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs):
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name or fn.__name__, dtype)

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


def _wrapper(fn: Callable, default_name: str, doc: str) -> type[MeanMetricWrapper]:
    def __init__(self, name: str = default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **kwargs)

    def get_config(self):
        return {"name": self.name, **self.fn_kwargs}

    cls_name = "".join(part.capitalize() for part in default_name.split("_"))
    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


BinaryAccuracy = _wrapper(binary_accuracy, "binary_accuracy", "Share of outputs on the right side of ``threshold``.")
CategoricalAccuracy = _wrapper(categorical_accuracy, "categorical_accuracy", "Share of arg-max hits, one-hot targets.")
SparseCategoricalAccuracy = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy",
                                     "Share of arg-max hits, integer targets.")
MeanSquaredError = _wrapper(mean_squared_error, "mean_squared_error", "Mean of squared errors.")
MeanAbsoluteError = _wrapper(mean_absolute_error, "mean_absolute_error", "Mean of absolute errors.")
BinaryCrossentropy = _wrapper(binary_crossentropy, "binary_crossentropy", "Mean binary cross-entropy.")
CategoricalCrossentropy = _wrapper(categorical_crossentropy, "categorical_crossentropy",
                                   "Mean categorical cross-entropy.")
SparseCategoricalCrossentropy = _wrapper(sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                                         "Mean sparse categorical cross-entropy.")


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class _Collecting(Metric):
    """Keeps every target, score and weight of the epoch: exact, order-free statistics. Targets and scores are
    kept in their own float dtype (a float32 model's scores and labels cost 8 bytes a row, not 24: the
    statistics read the same values), weights only when given."""

    def __init__(self, name: str | None = None, dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self) -> None:
        self._true, self._pred, self._weight = [], [], []

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred, y_true = _float_copy(y_pred), _float_copy(y_true)
        if y_pred.shape[-1] > 1 and y_true.size * y_pred.shape[-1] == y_pred.size:  # class labels: one-hot
            y_true = np.eye(y_pred.shape[-1], dtype=y_pred.dtype)[y_true.astype(np.intp).reshape(y_pred.shape[:-1])]
        self._true.append(y_true.reshape(y_pred.shape).ravel())
        self._pred.append(y_pred.ravel())
        self._weight.append(None if sample_weight is None else np.broadcast_to(
            np.asarray(sample_weight, np.float64).reshape((-1,) + (1,) * (y_pred.ndim - 1)), y_pred.shape).ravel())

    def _arrays(self):
        weights = [np.ones(len(p)) if w is None else w for p, w in zip(self._pred, self._weight)]
        return np.concatenate(self._true), np.concatenate(self._pred), np.concatenate(weights)


def _float_copy(values) -> np.ndarray:
    """A copy of ``values`` (the caller may reuse its buffers), float32 or float64 kept, anything else float64."""
    array = np.asarray(values)
    return np.array(array, dtype=array.dtype if array.dtype in (np.float32, np.float64) else np.float64)


class AUC(_Collecting):
    """Exact area under the ROC curve (or the precision-recall curve, ``curve='PR'``).

    Keras approximates the curve with ``num_thresholds`` buckets; this metric keeps the epoch's
    scores and computes the exact area (ROC by one sort, equal to scikit-learn's; PR with
    scikit-learn), so ``num_thresholds`` is accepted and unused. Several outputs are flattened into
    one binary problem, as Keras's default.
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", name: str | None = None, dtype=None,
                 **kwargs):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"curve must be 'ROC' or 'PR'. Received: curve={curve!r}")
        self.curve, self.num_thresholds = curve, num_thresholds
        super().__init__(name or "auc", dtype)

    def result(self) -> float:
        if not self._true:
            return 0.0
        y, p, w = self._arrays()
        positives = y > 0.5
        if positives.all() or not positives.any():
            return 0.0  # one class only: no curve (Keras's computation gives 0 as well)
        if self.curve == "ROC":
            return weighted_auc(p, positives, w)
        from sklearn import metrics as sk_metrics

        return float(sk_metrics.average_precision_score(positives, p, sample_weight=w))

    def get_config(self) -> dict:
        return {"name": self.name, "curve": self.curve, "num_thresholds": self.num_thresholds}


class _Confusion(_Collecting):
    """Weighted counts of the confusion matrix, an output above ``thresholds`` (0.5) being positive."""

    def __init__(self, thresholds: float | None = None, name: str | None = None, dtype=None, **kwargs):
        self.thresholds = 0.5 if thresholds is None else float(thresholds)
        super().__init__(name, dtype)

    def _counts(self) -> tuple[float, float, float, float]:
        """True positives, false positives, false negatives and true negatives."""
        if not self._true:
            return 0.0, 0.0, 0.0, 0.0
        y, p, w = self._arrays()
        predicted, actual = p > self.thresholds, y > 0.5
        masks = (predicted & actual, predicted & ~actual, ~predicted & actual, ~predicted & ~actual)
        return tuple(float(w[mask].sum()) for mask in masks)

    def get_config(self) -> dict:
        return {"name": self.name, "thresholds": self.thresholds}


class Precision(_Confusion):
    """True positives over predicted positives, at ``thresholds`` (0.5)."""

    def result(self) -> float:
        tp, fp, _, _ = self._counts()
        return tp / (tp + fp) if tp + fp else 0.0


class Recall(_Confusion):
    """True positives over actual positives, at ``thresholds`` (0.5)."""

    def result(self) -> float:
        tp, _, fn, _ = self._counts()
        return tp / (tp + fn) if tp + fn else 0.0


def _count(position: int, default_name: str, doc: str) -> type[_Confusion]:
    def __init__(self, thresholds: float | None = None, name: str | None = None, dtype=None):
        _Confusion.__init__(self, thresholds, name or default_name, dtype)

    def result(self) -> float:
        return self._counts()[position]

    cls_name = "".join(part.capitalize() for part in default_name.split("_"))
    return type(cls_name, (_Confusion,), {"__init__": __init__, "result": result, "__doc__": doc})


TruePositives = _count(0, "true_positives", "Weighted count of positives predicted positive.")
FalsePositives = _count(1, "false_positives", "Weighted count of negatives predicted positive.")
FalseNegatives = _count(2, "false_negatives", "Weighted count of positives predicted negative.")
TrueNegatives = _count(3, "true_negatives", "Weighted count of negatives predicted negative.")


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight=None)``: the loss tracker
    of a custom training step (``keras.metrics.Mean(name="loss")``)."""

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, values, sample_weight=None) -> None:
        values = np.asarray(values.data if hasattr(values, "data") else values, dtype=np.float64)
        weights = np.ones_like(values) if sample_weight is None else np.broadcast_to(
            np.asarray(sample_weight, np.float64), values.shape)
        self.total += float((values * weights).sum())
        self.count += float(weights.sum())

    def __call__(self, values, sample_weight=None) -> float:
        self.update_state(values, sample_weight)
        return self.result()


class Sum(Mean):
    """The (weighted) sum of the values given to ``update_state(values, sample_weight=None)``."""

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name, dtype)

    def result(self) -> float:
        return self.total


class R2Score(Metric):
    """The coefficient of determination of all the samples seen, per output, then averaged as
    ``class_aggregation`` says: 'uniform_average' (the default), 'variance_weighted_average' (weights: each
    output's variance of the targets) or None (one value per output); adjusted for ``num_regressors``
    (Keras's and scikit-learn's ``r2_score``)."""

    _AGGREGATIONS = ("uniform_average", "variance_weighted_average", None)

    def __init__(self, class_aggregation="uniform_average", num_regressors: int = 0, name: str = "r2_score",
                 dtype=None):
        super().__init__(name, dtype)
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(f"class_aggregation must be one of {self._AGGREGATIONS}. Received: {class_aggregation!r}")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(f"num_regressors must be a non-negative integer. Received: {num_regressors!r}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.reset_state()

    def reset_state(self) -> None:
        super().reset_state()
        self._sums = None  # per output: weight, weighted targets, their squares, squared residuals
        self._samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = np.asarray(y_pred.data if hasattr(y_pred, "data") else y_pred, dtype=np.float64)
        y_true = np.asarray(y_true, dtype=np.float64).reshape(y_pred.shape)
        y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
        w = np.ones((len(y_true), 1)) if sample_weight is None else \
            np.asarray(sample_weight, np.float64).reshape(len(y_true), -1)
        w = np.broadcast_to(w, y_true.shape)
        sums = np.stack([w.sum(axis=0), (w * y_true).sum(axis=0), (w * y_true ** 2).sum(axis=0),
                         (w * (y_true - y_pred) ** 2).sum(axis=0)])
        self._sums = sums if self._sums is None else self._sums + sums
        self._samples += len(y_true)

    def result(self):
        if self._sums is None:
            return 0.0
        weight, total, squares, residual = self._sums
        variance = squares - total ** 2 / weight
        raw = 1.0 - residual / variance
        if self.num_regressors:
            if self._samples - self.num_regressors - 1 <= 0:
                raise ValueError(f"R2Score needs more than num_regressors + 1 = {self.num_regressors + 1} samples "
                                 f"for the adjusted score; it has seen {self._samples}.")
            raw = 1.0 - (1.0 - raw) * (self._samples - 1) / (self._samples - self.num_regressors - 1)
        if self.class_aggregation is None:
            return raw
        if self.class_aggregation == "variance_weighted_average":
            return float((raw * variance).sum() / variance.sum())
        return float(raw.mean())

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


_BY_NAME: dict[str, Callable] = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "root_mean_squared_error": RootMeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "auc": AUC, "precision": Precision, "recall": Recall,
    "true_positives": TruePositives, "false_positives": FalsePositives,
    "false_negatives": FalseNegatives, "true_negatives": TrueNegatives, "r2_score": R2Score,
}
_CLASSES = {cls.__name__: cls for cls in (*set(_BY_NAME.values()), Mean, Sum)}
_ACCURACY = ("accuracy", "acc")


def get(identifier, y_true_shape: tuple | None = None, y_pred_shape: tuple | None = None, loss=None) -> Metric:
    """A Metric from a name, a class, a function or a Metric.

    'accuracy' / 'acc' become binary, categorical or sparse accuracy from the loss (as Keras)
    or, for other losses, from the shapes of targets and outputs; the log key keeps the
    spelling given.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in _ACCURACY:
            return MeanMetricWrapper(_accuracy_for(loss, y_true_shape, y_pred_shape), name=identifier)
        cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None and _custom.lookup(identifier) is not None:
            return get(_custom.lookup(identifier), y_true_shape, y_pred_shape, loss)
        if cls is None:
            names = sorted([*_ACCURACY, *_BY_NAME, *_CLASSES])
            raise ValueError(f"Unknown metric: {identifier!r}. Expected one of {names}, a function or a Metric.")
        return cls(name=identifier) if identifier in _BY_NAME else cls()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"Could not interpret metric: {identifier!r}")


def serialize(metric: Metric) -> dict:
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict) -> Metric:
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"Unknown metric class {config.get('class_name')!r}. Known: {sorted(_CLASSES)}.")
    return cls.from_config(config.get("config", {}))


def _accuracy_for(loss, y_true_shape, y_pred_shape) -> Callable:
    by_loss = {_losses.BinaryCrossentropy: binary_accuracy, _losses.CategoricalCrossentropy: categorical_accuracy,
               _losses.SparseCategoricalCrossentropy: sparse_categorical_accuracy}
    if type(loss) in by_loss:
        return by_loss[type(loss)]
    if y_pred_shape is None or y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy
