"""What EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share: watching one logged quantity."""

from __future__ import annotations

import operator
import warnings

from deepfin.callbacks.base import Callback

_UP = ("acc", "auc", "precision", "recall", "f1", "r2", "sharpe")
_DOWN = ("loss", "error", "crossentropy", "mse", "mae", "mape", "hinge")


class MonitorCallback(Callback):
    """Tracks the best value of ``monitor`` in ``mode`` ('min', 'max' or 'auto'), as Keras.

    'auto' reads the direction from the metric's own direction where it has one, else from its name ('loss' and
    errors go down; accuracy, AUC, precision, recall, R^2 and Sharpe ratios go up) and fails, as Keras does,
    when it cannot tell. The base of ``EarlyStopping``, ``ModelCheckpoint`` and ``ReduceLROnPlateau``.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The logged quantity to watch.
    mode : {"auto", "min", "max"}, default "auto"
        Whether the quantity should go down or up.
    baseline : float or None, default None
        A value to beat; also the first ``best``.
    min_delta : float, default 0.0
        The smallest change that counts as an improvement (its sign is ignored).

    Raises
    ------
    ValueError
        If ``mode`` is not one of the three; on first use, if ``mode="auto"`` cannot tell the direction.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline=None, min_delta: float = 0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
        self.monitor, self.mode = monitor, mode
        self.baseline = baseline
        self.best = baseline
        self.min_delta = abs(float(min_delta))
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        mode = self.mode
        if mode == "auto":
            mode = _direction(self.monitor, self.model)
        self.monitor_op = operator.lt if mode == "min" else operator.gt
        self._signed_delta = -self.min_delta if mode == "min" else self.min_delta

    def _is_improvement(self, value, reference) -> bool:
        if self.monitor_op is None:
            self._set_monitor_op()
        if reference is None:
            return True
        return bool(self.monitor_op(value - self._signed_delta, reference))

    def _monitor_value(self, logs: dict | None, action: str):
        """The monitored value from ``logs``; warns with the available keys when it is missing."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{action} is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs or {})}",
                stacklevel=3,
            )
        return value


def _direction(monitor: str, model) -> str:
    name = monitor.removeprefix("val_")
    for key, metric in getattr(model, "compiled_metrics", None) or []:
        if key == name and getattr(metric, "direction", None):
            return "max" if metric.direction == "up" else "min"
    lowered = name.lower()
    if lowered == "loss" or lowered.endswith("_loss"):
        return "min"
    if any(word in lowered for word in _UP):
        return "max"
    if any(word in lowered for word in _DOWN):
        return "min"
    raise ValueError(
        f"Cannot tell whether monitor={monitor!r} should be maximized or minimized. Pass mode='max' "
        "to keep the highest value or mode='min' to keep the lowest."
    )
