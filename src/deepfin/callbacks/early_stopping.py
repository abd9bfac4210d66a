"""EarlyStopping: stop when the monitored quantity stops improving (Keras 3's rules)."""

from __future__ import annotations

from deepfin.callbacks.monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training after ``patience`` epochs without an improvement of ``monitor``, as Keras 3's ``EarlyStopping``.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The logged quantity to watch.
    min_delta : float, default 0
        The smallest change that counts as an improvement (its sign is ignored).
    patience : int, default 0
        Epochs without improvement after which training stops.
    verbose : int, default 0
        1 prints a line when training stops and when the best weights are restored.
    mode : {"auto", "min", "max"}, default "auto"
        Whether the quantity should go down or up; ``"auto"`` reads it from the name, as ``MonitorCallback``
        does.
    baseline : float or None, default None
        With a baseline, the waiting only restarts once the baseline is beaten.
    restore_best_weights : bool, default False
        Whether the model ends with the weights of its best epoch.
    start_from_epoch : int, default 0
        Epochs before this one are not watched.

    Raises
    ------
    ValueError
        If ``mode`` is not one of the three; at the first watched epoch, if ``mode="auto"`` cannot tell the
        direction.

    Warns
    -----
    UserWarning
        When ``monitor`` is not in an epoch's logs; that epoch is skipped.

    Examples
    --------
    With a learning rate of 0 the loss never improves, and training stops after ``patience`` more epochs:

    >>> import numpy as np
    >>> from deepfin import Sequential, callbacks, layers, optimizers
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    >>> stop = callbacks.EarlyStopping(monitor="loss", patience=2)
    >>> history = model.fit(np.ones((8, 2)), np.zeros(8), epochs=10, verbose=0, callbacks=[stop])
    >>> history.epoch
    [0, 1, 2]
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline=None, restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__(monitor, mode, baseline, min_delta)
        self.patience, self.verbose = int(patience), verbose
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, int(start_from_epoch)

    def on_train_begin(self, logs=None):
        """Reset the waiting count, the best value and the best weights."""
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        """Compare the epoch's value with the best; stop the fit after ``patience`` epochs without improvement."""
        current = self._monitor_value(logs, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        """Report the stop (with ``verbose``) and, with ``restore_best_weights``, restore the best epoch's weights."""
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
