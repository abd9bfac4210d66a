"""Metrics tracked during fit and evaluate, as running means over samples (Keras semantics).

'accuracy' / 'acc' resolve to binary, categorical or sparse categorical accuracy from the loss or from the
shapes of targets and outputs, as Keras does; the history key keeps the spelling the user gave. The
lower-case functions return per-sample values as NumPy arrays; the classes keep state across the batches of
an epoch.
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
    """Share of each sample's outputs on the right side of ``threshold``.

    An output counts as 1 where it is above ``threshold`` and is compared with ``y_true``.

    Parameters
    ----------
    y_true : array_like
        Targets (0 or 1), broadcastable to ``y_pred``'s shape.
    y_pred : array_like
        Predicted probabilities.
    threshold : float, default 0.5
        The cut above which an output is 1.

    Returns
    -------
    np.ndarray
        The per-sample accuracy, averaged over the last axis.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import metrics
    >>> metrics.binary_accuracy([[1], [0], [1]], np.array([[0.8], [0.3], [0.4]]))
    array([1., 1., 0.])
    """
    y_pred = np.asarray(y_pred)
    return np.mean(np.asarray(y_true) == (y_pred > threshold), axis=-1)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Whether each sample's arg-max output is its one-hot target's class.

    Parameters
    ----------
    y_true : array_like
        One-hot targets.
    y_pred : array_like
        Scores (probabilities or logits) of ``y_true``'s shape.

    Returns
    -------
    np.ndarray
        1.0 for a hit, 0.0 for a miss, per sample (float64).
    """
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Whether each sample's arg-max output is its integer class label.

    Parameters
    ----------
    y_true : array_like
        Integer class labels, of ``y_pred``'s shape less the last axis (a trailing axis of 1 is accepted).
    y_pred : array_like
        Scores (probabilities or logits), classes on the last axis.

    Returns
    -------
    np.ndarray
        1.0 for a hit, 0.0 for a miss, per sample (float64).
    """
    labels = np.asarray(y_true).reshape(np.shape(y_pred)[:-1])
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float64)


def _from_loss(fn: Callable) -> Callable:
    def metric(y_true, y_pred):
        """The loss function's per-sample values as a NumPy array (``y_pred`` given as an array)."""
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
    ``add_variable`` (updated with ``assign`` / ``assign_add``), which ``reset_state`` sets to zero. The base
    class keeps a running ``total`` and ``count``, and ``result`` is their quotient.

    Parameters
    ----------
    name : str or None, default None
        The metric's name (the history key); None gives the class name in snake case.
    dtype : str or None, default None
        The default dtype of the variables made by ``add_variable`` (``backend.floatx()`` when None).

    Notes
    -----
    Keras's ``Metric`` takes ``dtype`` before ``name``; deepfin takes ``name`` first: pass both by keyword.

    Examples
    --------
    A metric kept in variables, as Keras 3's guides write one:

    >>> import numpy as np
    >>> from deepfin import metrics
    >>> class MaxError(metrics.Metric):
    ...     def __init__(self, name="max_error", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.worst = self.add_variable(shape=(), initializer="zeros", name="worst")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         error = np.abs(np.asarray(y_pred) - np.asarray(y_true)).max()
    ...         self.worst.assign(max(float(self.worst.numpy()), float(error)))
    ...     def result(self):
    ...         return float(self.worst.numpy())
    >>> metric = MaxError()
    >>> metric([0.0, 1.0], [0.5, 1.0])
    0.5
    >>> metric.reset_state()
    >>> metric.result()
    0.0
    """

    direction: str | None = None  # "up" or "down": how callbacks monitoring it in mode "auto" read it (Keras's)

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or backend.snake_case(type(self).__name__)
        self.dtype = dtype
        self.total, self.count = 0.0, 0.0
        self._variables: list[Variable] = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation: str = "sum",
                     name: str | None = None) -> Variable:
        """A state variable of this metric (not trained), reset to zero by ``reset_state``.

        Parameters
        ----------
        shape : tuple of int, default ()
            The variable's shape.
        initializer : str or initializer, default "zeros"
            Its first value, as ``deepfin.initializers.get`` reads it.
        dtype : str or None, default None
            Its dtype; None gives the metric's ``dtype``, else ``backend.floatx()``.
        aggregation : str, default "sum"
            Accepted for Keras compatibility and unused.
        name : str or None, default None
            Its name; None gives ``"variable_<i>"``. Its ``path`` is ``"<metric name>/<name>"``.

        Returns
        -------
        Variable
            The new, non-trainable variable, also listed in ``variables``.
        """
        shape = tuple(int(d) for d in shape)
        value = initializers.get(initializer)(shape, dtype=dtype or self.dtype or backend.floatx())
        variable = Variable(value, trainable=False, name=name or f"variable_{len(self._variables)}")
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    def add_weight(self, name: str | None = None, shape=(), initializer="zeros", dtype=None,
                   aggregation: str = "sum") -> Variable:
        """Keras 2's name for ``add_variable``, with ``name`` first.

        Parameters
        ----------
        name : str or None, default None
            The variable's name.
        shape : tuple of int, default ()
            The variable's shape.
        initializer : str or initializer, default "zeros"
            Its first value.
        dtype : str or None, default None
            Its dtype.
        aggregation : str, default "sum"
            Accepted and unused.

        Returns
        -------
        Variable
            The new variable.
        """
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    @property
    def variables(self) -> list[Variable]:
        """The state variables made by ``add_variable``, in the order made (a new list)."""
        return list(self._variables)

    def reset_state(self) -> None:
        """Clear the state: the running total and count, and every variable set to zero."""
        self.total, self.count = 0.0, 0.0
        for variable in self._variables:
            variable.data[...] = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Accumulate one batch; subclasses implement it."""
        raise NotImplementedError

    def result(self) -> float:
        """The metric so far: the running total over the count (0.0 before any update)."""
        return self.total / self.count if self.count else 0.0

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Update with one batch and return the result so far, as a Keras metric.

        Parameters
        ----------
        y_true : array_like
            The batch's targets.
        y_pred : array_like
            The batch's predictions.
        sample_weight : array_like or None, default None
            Per-sample weights.

        Returns
        -------
        float
            ``result()`` after the update.
        """
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        """The constructor arguments, as a dict that ``from_config`` takes (the base class: the name)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        """A metric made from ``get_config``'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class MeanMetricWrapper(Metric):
    """Mean over samples of ``fn(y_true, y_pred)``, weighted by ``sample_weight`` if given.

    As Keras's ``MeanMetricWrapper``: ``metrics.get`` wraps a plain function in it.

    Parameters
    ----------
    fn : callable
        ``fn(y_true, y_pred, **kwargs)``, returning per-sample (or per-element) values.
    name : str or None, default None
        The metric's name; None gives ``fn.__name__``.
    dtype : str or None, default None
        As for ``Metric``.
    **kwargs
        Passed to ``fn`` on every update.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import metrics
    >>> def within_one(y_true, y_pred):
    ...     return np.abs(np.asarray(y_pred) - np.asarray(y_true)) <= 1.0
    >>> metric = metrics.MeanMetricWrapper(within_one)
    >>> metric.name
    'within_one'
    >>> metric([0.0, 0.0, 0.0, 0.0], [0.5, 2.0, -0.2, 3.0])
    0.5
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs):
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name or fn.__name__, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add the batch's values of ``fn`` (weighted) to the running total and their count (or weights) to the count.

        ``sample_weight`` gains trailing axes to broadcast against the values.
        """
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
        """The name and the keyword arguments given to the function."""
        return {"name": self.name, **self.fn_kwargs}

    cls_name = "".join(part.capitalize() for part in default_name.split("_"))
    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


BinaryAccuracy = _wrapper(binary_accuracy, "binary_accuracy", """Share of outputs on the right side of ``threshold``.

    As Keras's ``BinaryAccuracy``: the mean of ``binary_accuracy`` over the samples seen.

    Parameters
    ----------
    name : str, default "binary_accuracy"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.
    threshold : float, default 0.5
        The cut above which an output is 1.

    Examples
    --------
    >>> from deepfin import metrics
    >>> accuracy = metrics.BinaryAccuracy()
    >>> accuracy([[1], [0], [1]], [[0.8], [0.3], [0.4]])
    0.6666666666666666
    """)
CategoricalAccuracy = _wrapper(categorical_accuracy, "categorical_accuracy", """Share of arg-max hits, one-hot targets.

    As Keras's ``CategoricalAccuracy``: the mean of ``categorical_accuracy`` over the samples seen.

    Parameters
    ----------
    name : str, default "categorical_accuracy"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.
    """)
SparseCategoricalAccuracy = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy",
                                     """Share of arg-max hits, integer targets.

    As Keras's ``SparseCategoricalAccuracy``: the mean of ``sparse_categorical_accuracy`` over the samples seen.

    Parameters
    ----------
    name : str, default "sparse_categorical_accuracy"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.
    """)
MeanSquaredError = _wrapper(mean_squared_error, "mean_squared_error", """Mean of squared errors.

    As Keras's ``MeanSquaredError`` metric.

    Parameters
    ----------
    name : str, default "mean_squared_error"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.
    """)
MeanAbsoluteError = _wrapper(mean_absolute_error, "mean_absolute_error", """Mean of absolute errors.

    As Keras's ``MeanAbsoluteError`` metric.

    Parameters
    ----------
    name : str, default "mean_absolute_error"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.
    """)
BinaryCrossentropy = _wrapper(binary_crossentropy, "binary_crossentropy", """Mean binary cross-entropy.

    As Keras's ``BinaryCrossentropy`` metric, on probabilities.

    Parameters
    ----------
    name : str, default "binary_crossentropy"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.

    Notes
    -----
    Keras's ``from_logits`` and ``label_smoothing`` are not supported: the function takes no settings.
    """)
CategoricalCrossentropy = _wrapper(categorical_crossentropy, "categorical_crossentropy",
                                   """Mean categorical cross-entropy.

    As Keras's ``CategoricalCrossentropy`` metric, on one-hot targets and probabilities.

    Parameters
    ----------
    name : str, default "categorical_crossentropy"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.

    Notes
    -----
    Keras's ``from_logits``, ``label_smoothing`` and ``axis`` are not supported: the function takes no
    settings.
    """)
SparseCategoricalCrossentropy = _wrapper(sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                                         """Mean sparse categorical cross-entropy.

    As Keras's ``SparseCategoricalCrossentropy`` metric, on integer labels and probabilities.

    Parameters
    ----------
    name : str, default "sparse_categorical_crossentropy"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.

    Notes
    -----
    Keras's ``from_logits`` and ``axis`` are not supported: the function takes no settings.
    """)


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error, as Keras's ``RootMeanSquaredError``.

    Parameters
    ----------
    name : str, default "root_mean_squared_error"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def result(self) -> float:
        """The square root of the running mean squared error."""
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

    Keras approximates the curve with ``num_thresholds`` buckets; this metric keeps the epoch's scores and
    computes the exact area (ROC by one sort, equal to scikit-learn's; PR with scikit-learn's
    ``average_precision_score``), so ``num_thresholds`` is accepted and unused. Several outputs are flattened
    into one binary problem, as Keras's default; integer class labels for a multi-unit output are one-hot
    encoded first. A target above 0.5 counts as positive.

    Parameters
    ----------
    num_thresholds : int, default 200
        Accepted for Keras compatibility and unused.
    curve : {"ROC", "PR"}, default "ROC"
        The curve whose area is computed.
    name : str or None, default None
        The metric's name; None gives ``"auc"``.
    dtype : str or None, default None
        As for ``Metric``.
    **kwargs
        Keras's other arguments (``summation_method``, ``multi_label``, ``from_logits``, ...), accepted and
        ignored.

    Raises
    ------
    ValueError
        If ``curve`` is not ``"ROC"`` or ``"PR"``.

    Examples
    --------
    >>> from deepfin import metrics
    >>> auc = metrics.AUC()
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", name: str | None = None, dtype=None,
                 **kwargs):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"curve must be 'ROC' or 'PR'. Received: curve={curve!r}")
        self.curve, self.num_thresholds = curve, num_thresholds
        super().__init__(name or "auc", dtype)

    def result(self) -> float:
        """The area under the curve of every score seen since the last reset; 0.0 if only one class was seen."""
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
        """The name, ``curve`` and ``num_thresholds``."""
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
    """True positives over predicted positives, at ``thresholds`` (0.5).

    As Keras's ``Precision`` for one threshold: the exact count over the epoch's samples, weighted by
    ``sample_weight``; an output above ``thresholds`` is a predicted positive, a target above 0.5 an actual one.

    Parameters
    ----------
    thresholds : float or None, default None
        The decision threshold; None gives 0.5.
    name : str or None, default None
        The metric's name; None gives ``"precision"``.
    dtype : str or None, default None
        As for ``Metric``.
    **kwargs
        Keras's other arguments (``top_k``, ``class_id``), accepted and ignored.

    Notes
    -----
    Unlike Keras, ``thresholds`` is one number, not a list.
    """

    def result(self) -> float:
        """True positives over predicted positives so far; 0.0 when nothing was predicted positive."""
        tp, fp, _, _ = self._counts()
        return tp / (tp + fp) if tp + fp else 0.0


class Recall(_Confusion):
    """True positives over actual positives, at ``thresholds`` (0.5).

    As Keras's ``Recall`` for one threshold: the exact count over the epoch's samples, weighted by
    ``sample_weight``; an output above ``thresholds`` is a predicted positive, a target above 0.5 an actual one.

    Parameters
    ----------
    thresholds : float or None, default None
        The decision threshold; None gives 0.5.
    name : str or None, default None
        The metric's name; None gives ``"recall"``.
    dtype : str or None, default None
        As for ``Metric``.
    **kwargs
        Keras's other arguments (``top_k``, ``class_id``), accepted and ignored.

    Notes
    -----
    Unlike Keras, ``thresholds`` is one number, not a list.
    """

    def result(self) -> float:
        """True positives over actual positives so far; 0.0 when there was no positive."""
        tp, _, fn, _ = self._counts()
        return tp / (tp + fn) if tp + fn else 0.0


def _count(position: int, default_name: str, doc: str) -> type[_Confusion]:
    def __init__(self, thresholds: float | None = None, name: str | None = None, dtype=None):
        _Confusion.__init__(self, thresholds, name or default_name, dtype)

    def result(self) -> float:
        """The weighted count so far."""
        return self._counts()[position]

    cls_name = "".join(part.capitalize() for part in default_name.split("_"))
    return type(cls_name, (_Confusion,), {"__init__": __init__, "result": result, "__doc__": doc})


TruePositives = _count(0, "true_positives", """Weighted count of positives predicted positive.

    As Keras's ``TruePositives`` for one threshold: an output above ``thresholds`` is predicted positive, a target
    above 0.5 is positive; each sample counts with its ``sample_weight``.

    Parameters
    ----------
    thresholds : float or None, default None
        The decision threshold; None gives 0.5. Unlike Keras, one number, not a list.
    name : str or None, default None
        The metric's name; None gives ``"true_positives"``.
    dtype : str or None, default None
        As for ``Metric``.
    """)
FalsePositives = _count(1, "false_positives", """Weighted count of negatives predicted positive.

    As Keras's ``FalsePositives`` for one threshold: an output above ``thresholds`` is predicted positive, a target
    above 0.5 is positive; each sample counts with its ``sample_weight``.

    Parameters
    ----------
    thresholds : float or None, default None
        The decision threshold; None gives 0.5. Unlike Keras, one number, not a list.
    name : str or None, default None
        The metric's name; None gives ``"false_positives"``.
    dtype : str or None, default None
        As for ``Metric``.
    """)
FalseNegatives = _count(2, "false_negatives", """Weighted count of positives predicted negative.

    As Keras's ``FalseNegatives`` for one threshold: an output above ``thresholds`` is predicted positive, a target
    above 0.5 is positive; each sample counts with its ``sample_weight``.

    Parameters
    ----------
    thresholds : float or None, default None
        The decision threshold; None gives 0.5. Unlike Keras, one number, not a list.
    name : str or None, default None
        The metric's name; None gives ``"false_negatives"``.
    dtype : str or None, default None
        As for ``Metric``.
    """)
TrueNegatives = _count(3, "true_negatives", """Weighted count of negatives predicted negative.

    As Keras's ``TrueNegatives`` for one threshold: an output above ``thresholds`` is predicted positive, a target
    above 0.5 is positive; each sample counts with its ``sample_weight``.

    Parameters
    ----------
    thresholds : float or None, default None
        The decision threshold; None gives 0.5. Unlike Keras, one number, not a list.
    name : str or None, default None
        The metric's name; None gives ``"true_negatives"``.
    dtype : str or None, default None
        As for ``Metric``.
    """)


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight=None)``.

    The loss tracker of a custom training step (``keras.metrics.Mean(name="loss")``), as Keras's ``Mean``.

    Parameters
    ----------
    name : str, default "mean"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.

    Examples
    --------
    >>> from deepfin import metrics
    >>> mean = metrics.Mean()
    >>> mean.update_state([1.0, 3.0])
    >>> mean.update_state(5.0, sample_weight=2.0)
    >>> mean.result()
    3.5
    """

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, values, sample_weight=None) -> None:
        """Add ``values`` (a Tensor, an array or a number) to the running mean.

        ``sample_weight`` is broadcast to the values' shape; every element counts with its weight.
        """
        values = np.asarray(values.data if hasattr(values, "data") else values, dtype=np.float64)
        weights = np.ones_like(values) if sample_weight is None else np.broadcast_to(
            np.asarray(sample_weight, np.float64), values.shape)
        self.total += float((values * weights).sum())
        self.count += float(weights.sum())

    def __call__(self, values, sample_weight=None) -> float:
        """Update with ``values`` and return the mean so far.

        Parameters
        ----------
        values : Tensor, array_like or float
            The values to add.
        sample_weight : array_like or None, default None
            Their weights, broadcast to their shape.

        Returns
        -------
        float
            ``result()`` after the update.
        """
        self.update_state(values, sample_weight)
        return self.result()


class Sum(Mean):
    """The (weighted) sum of the values given to ``update_state(values, sample_weight=None)``.

    As Keras's ``Sum``.

    Parameters
    ----------
    name : str, default "sum"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.
    """

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name, dtype)

    def result(self) -> float:
        """The weighted sum so far."""
        return self.total


class R2Score(Metric):
    """The coefficient of determination of all the samples seen, as Keras's ``R2Score``.

    R^2 is computed per output, then averaged as ``class_aggregation`` says, and adjusted for
    ``num_regressors`` (Keras's and scikit-learn's ``r2_score``). Only sums are kept, so memory does not grow
    with the samples.

    Parameters
    ----------
    class_aggregation : {"uniform_average", "variance_weighted_average", None}, default "uniform_average"
        How the outputs' scores are combined: their mean, their mean weighted by each output's variance of the
        targets, or none (one value per output).
    num_regressors : int, default 0
        The number of regressors for the adjusted R^2; 0 gives the plain R^2.
    name : str, default "r2_score"
        The metric's name.
    dtype : str or None, default None
        As for ``Metric``.

    Raises
    ------
    ValueError
        If ``class_aggregation`` is not one of the three, or ``num_regressors`` is not a non-negative integer.

    Examples
    --------
    >>> from deepfin import metrics
    >>> r2 = metrics.R2Score()
    >>> r2.update_state([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> r2.result()
    0.5
    """

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
        """Clear the sums and the sample count."""
        super().reset_state()
        self._sums = None  # per output: weight, weighted targets, their squares, squared residuals
        self._samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add the batch's weighted sums of targets, squared targets and squared residuals, per output.

        Targets are reshaped to the predictions' shape; ``sample_weight`` has one weight per sample (or per
        output element).
        """
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
        """R^2 of every sample seen since the last reset (0.0 before any).

        A float, or an ``np.ndarray`` of one value per output when ``class_aggregation`` is None. With
        ``num_regressors``, raises ValueError while the samples seen are not more than ``num_regressors + 1``.
        """
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
        """The name, ``class_aggregation`` and ``num_regressors``."""
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

    'accuracy' / 'acc' become binary, categorical or sparse accuracy from the loss (as Keras) or, for other
    losses, from the shapes of targets and outputs; the log key keeps the spelling given.

    Parameters
    ----------
    identifier : str, type, callable or Metric
        A built-in name or alias (``'mse'``, ``'auc'``, ``'r2_score'``, ...) or class name (``'Mean'``), the
        name of a custom object, a Metric subclass, a function ``fn(y_true, y_pred)`` (wrapped in a
        ``MeanMetricWrapper``), or a Metric, returned as it is.
    y_true_shape : tuple or None, default None
        The targets' shape, read for 'accuracy'.
    y_pred_shape : tuple or None, default None
        The outputs' shape, read for 'accuracy': one unit (or None) gives binary accuracy; targets of lower rank
        or with a last axis of 1 give sparse categorical accuracy; otherwise categorical accuracy.
    loss : Loss or None, default None
        The model's loss; a binary, categorical or sparse categorical cross-entropy decides the accuracy.

    Returns
    -------
    Metric
        A new metric named by the name given (an alias keeps its spelling), or ``identifier`` itself.

    Raises
    ------
    ValueError
        If a name is unknown (the message lists the known ones).
    TypeError
        If ``identifier`` is none of the above.

    Examples
    --------
    >>> from deepfin import metrics
    >>> metrics.get("acc", y_true_shape=(32,), y_pred_shape=(32, 10)).fn.__name__
    'sparse_categorical_accuracy'
    >>> metrics.get("mse").name
    'mse'
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
    """A metric as a ``{"class_name": ..., "config": ...}`` dict, which ``deserialize`` reads.

    Parameters
    ----------
    metric : Metric
        The metric to describe.

    Returns
    -------
    dict
        The class name and ``metric.get_config()``.
    """
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict) -> Metric:
    """A built-in metric from ``serialize``'s dict.

    Parameters
    ----------
    config : dict
        ``{"class_name": ..., "config": ...}``.

    Returns
    -------
    Metric
        The metric, made by its class's ``from_config``.

    Raises
    ------
    ValueError
        If the class name is not a built-in metric class (the message lists them).

    Examples
    --------
    >>> from deepfin import metrics
    >>> metrics.deserialize(metrics.serialize(metrics.AUC(curve="PR"))).curve
    'PR'
    """
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
