"""Callbacks that record or react to the logs: CSVLogger, TerminateOnNaN, LambdaCallback."""

from __future__ import annotations

import csv
import math
import os

from deepfin.callbacks.base import Callback


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` and every logged value, flushed as it is written.

    As Keras's ``CSVLogger``: the columns are ``epoch`` and the first epoch's log keys, sorted; a key missing
    from a later epoch is written as ``NA``.

    Parameters
    ----------
    filename : str or os.PathLike
        The CSV file.
    separator : str, default ","
        The field separator.
    append : bool, default False
        Append to an existing file (keeping its columns) instead of overwriting it.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self._file = self._writer = self._keys = None

    def on_train_begin(self, logs=None):
        """Open the file (with ``append``, reading the columns of its header)."""
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._keys = None
        if exists:
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.sep), None)
            self._keys = header[1:] if header else None
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115 (kept open for the run)

    def on_epoch_end(self, epoch, logs=None):
        """Write the epoch's row (the header first, for a new file) and flush it."""
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys], delimiter=self.sep)
            self._writer.writeheader()
        elif self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys], delimiter=self.sep)
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}})
        self._file.flush()

    def on_train_end(self, logs=None):
        """Close the file."""
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    As Keras's ``TerminateOnNaN``: it prints ``Batch <i>: Invalid loss, terminating training`` and sets
    ``model.stop_training``.
    """

    def on_train_batch_end(self, batch, logs=None):
        """Stop the fit if the batch's loss is not finite."""
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    As Keras's ``LambdaCallback``. ``on_batch_begin`` / ``on_batch_end`` (Keras 2's names) are the training
    batch hooks.

    Parameters
    ----------
    **hooks
        Hook names (``on_epoch_end``, ``on_train_batch_begin``, ...) and the functions to call there, with the
        hook's arguments; None leaves a hook alone.

    Raises
    ------
    TypeError
        For a name that is not a hook, or a value that is not callable.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import Sequential, callbacks, layers
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> seen = []
    >>> record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> _ = model.fit(np.ones((8, 2)), np.zeros(8), epochs=2, verbose=0, callbacks=[record])
    >>> seen
    [0, 1]
    """

    _ACCEPTED = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end", "on_train_begin",
                 "on_train_end", "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
                 "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
                 "on_predict_batch_begin", "on_predict_batch_end")

    def __init__(self, **hooks):
        super().__init__()
        unknown = sorted(set(hooks) - set(self._ACCEPTED))
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hooks {unknown}. Accepted: {list(self._ACCEPTED)}.")
        for name, fn in hooks.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback's {name} must be a function. Received: {fn!r}")
                setattr(self, name, fn)
