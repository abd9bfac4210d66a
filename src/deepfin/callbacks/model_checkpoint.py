"""ModelCheckpoint: save the model (or its weights) during training, optionally only the best."""

from __future__ import annotations

import os

from deepfin.callbacks.monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save to ``filepath`` every epoch (or every ``save_freq`` batches).

    As Keras 3's ``ModelCheckpoint``. Every save is atomic: a crash mid-save leaves the previous file whole.

    Parameters
    ----------
    filepath : str or os.PathLike
        Where to save; it may hold ``{epoch:02d}`` (counted from 1), ``{batch}`` and logged values such as
        ``{val_loss:.2f}``. Missing folders are created.
    monitor : str, default "val_loss"
        The logged quantity ``save_best_only`` watches.
    verbose : int, default 0
        1 prints a line at each save (and, with ``save_best_only``, when the quantity did not improve).
    save_best_only : bool, default False
        Save only when ``monitor`` improves (beyond ``initial_value_threshold``, when given).
    save_weights_only : bool, default False
        Save with ``model.save_weights`` rather than ``model.save``.
    mode : {"auto", "min", "max"}, default "auto"
        Whether the quantity should go down or up (as ``MonitorCallback``).
    save_freq : "epoch" or int, default "epoch"
        Save after every epoch, or every ``save_freq`` batches.
    initial_value_threshold : float or None, default None
        With ``save_best_only``, the value a first save must beat.

    Raises
    ------
    ValueError
        If ``save_freq`` is neither ``"epoch"`` nor a positive integer, or ``mode`` is not one of the three.
    KeyError
        At a save, if ``filepath`` names a value that is not in the logs.
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold, 0.0)
        self.filepath = os.fspath(filepath)
        self.verbose, self.save_best_only, self.save_weights_only = verbose, save_best_only, save_weights_only
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or a positive number of batches. Received: {save_freq!r}")
        self.save_freq = save_freq
        self._epoch, self._batches = 0, 0
        if save_freq != "epoch":
            self.on_train_batch_end = self._on_batch_end  # batch logs only when they are needed

    def on_epoch_begin(self, epoch, logs=None):
        """Note the epoch, for the batch-wise saves' file names."""
        self._epoch = epoch

    def _on_batch_end(self, batch, logs=None):
        self._batches += 1
        if self._batches >= self.save_freq:
            self._batches = 0
            self._save(self._epoch, logs, batch)

    def on_epoch_end(self, epoch, logs=None):
        """Save (with ``save_best_only``, only if improved) when ``save_freq`` is ``"epoch"``."""
        if self.save_freq == "epoch":
            self._save(epoch, logs)

    def _save(self, epoch: int, logs, batch=None) -> None:
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, batch=batch, **logs)
        except KeyError as missing:
            raise KeyError(
                f"ModelCheckpoint filepath {self.filepath!r} names {missing}, which is not in the logs. "
                f"Available: epoch, batch, {', '.join(logs)}."
            ) from None
        if self.save_best_only:
            current = self._monitor_value(logs, "Can save best model only with it; saving")
            if current is None:
                return
            if not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                was = "-inf/inf" if self.best is None else f"{self.best:.5f}"
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {was} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
