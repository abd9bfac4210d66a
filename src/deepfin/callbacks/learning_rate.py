"""Callbacks that set the optimizer's learning rate: ReduceLROnPlateau, LearningRateScheduler."""

from __future__ import annotations

import inspect

from deepfin.callbacks.base import Callback
from deepfin.callbacks.monitor import MonitorCallback


def _set_learning_rate(model, value, who: str) -> None:
    if model.optimizer.has_schedule:
        raise ValueError(
            f"{who} cannot change a learning rate that is a schedule. Give the optimizer a number instead."
        )
    model.optimizer.learning_rate = float(value)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    As Keras 3's ``ReduceLROnPlateau``; each epoch also logs the learning rate as ``learning_rate``.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The logged quantity to watch.
    factor : float, default 0.1
        The factor applied to the learning rate; in (0, 1).
    patience : int, default 10
        Epochs without improvement after which the rate is reduced.
    verbose : int, default 0
        1 prints a line at each reduction.
    mode : {"auto", "min", "max"}, default "auto"
        Whether the quantity should go down or up (as ``MonitorCallback``).
    min_delta : float, default 1e-4
        The smallest change that counts as an improvement.
    cooldown : int, default 0
        Epochs to wait after a reduction before counting again.
    min_lr : float, default 0.0
        The rate is not reduced below this.
    **kwargs
        Only ``epsilon``, Keras 2's name for ``min_delta``.

    Raises
    ------
    TypeError
        For any other keyword argument.
    ValueError
        If ``factor`` is not in (0, 1) or ``mode`` is not one of the three; at a reduction, if the optimizer's
        learning rate is a schedule.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, **kwargs):
        if "epsilon" in kwargs:  # Keras 2's name for min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments {sorted(kwargs)}.")
        super().__init__(monitor, mode, None, min_delta)
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau needs 0 < factor < 1. Received: factor={factor}")
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)

    def on_train_begin(self, logs=None):
        """Reset the best value, the waiting count and the cooldown."""
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        """Log the learning rate and reduce it after ``patience`` epochs without improvement."""
        logs = logs if logs is not None else {}
        logs["learning_rate"] = self.model.optimizer.learning_rate
        current = self._monitor_value(logs, "Learning rate reduction")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = self.model.optimizer.learning_rate
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    _set_learning_rate(self.model, new, "ReduceLROnPlateau")
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (or ``schedule(epoch)``).

    As Keras's ``LearningRateScheduler``: a function of two or more parameters gets the epoch (from 0) and the
    current rate, one of a single parameter the epoch only. Each epoch also logs the rate as ``learning_rate``.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr)`` or ``schedule(epoch)``, returning the new rate.
    verbose : int, default 0
        1 prints the rate set at each epoch.

    Raises
    ------
    TypeError
        If ``schedule`` is not callable.
    ValueError
        At an epoch's start, if the schedule returns something that is not a number, or the optimizer's
        learning rate is a schedule.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import Sequential, callbacks, layers
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> halving = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / 2**epoch)
    >>> history = model.fit(np.ones((8, 2)), np.zeros(8), epochs=3, verbose=0, callbacks=[halving])
    >>> history.history["learning_rate"]
    [0.1, 0.05, 0.025]
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of (epoch, lr) or (epoch). Received: {schedule!r}")
        self.schedule, self.verbose = schedule, verbose
        try:
            self._takes_lr = len(inspect.signature(schedule).parameters) >= 2
        except (TypeError, ValueError):
            self._takes_lr = True

    def on_epoch_begin(self, epoch, logs=None):
        """Set the learning rate to the schedule's value for this epoch."""
        lr = self.model.optimizer.learning_rate
        value = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
            raise ValueError(f"The schedule must return a number. Received: {value!r}")
        _set_learning_rate(self.model, value, "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(value)}.")

    def on_epoch_end(self, epoch, logs=None):
        """Log the learning rate as ``learning_rate``."""
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate
