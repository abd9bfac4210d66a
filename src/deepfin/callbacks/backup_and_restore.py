"""BackupAndRestore: back up a running fit, and resume it after an interruption exactly where it stopped."""

from __future__ import annotations

import os

from deepfin import backend
from deepfin.callbacks.base import Callback

_LATEST, _PREVIOUS = "backup.deepfin", "backup.deepfin.bkp"


class BackupAndRestore(Callback):
    """Back up the training state to ``backup_dir``; a new fit with it resumes where the last one stopped.

    Each backup holds the weights, the optimizer state (moments and step count), the learning rate, the
    library's random generator (shuffling, dropout) and where the fit stood, in one deepfin zip file (JSON and
    ``.npz``, read without pickle) that replaces the previous one atomically: an interruption mid-write leaves
    the previous backup whole. When a fit begins and a backup exists, the model is put back in that state and
    the fit starts there, so the resumed run equals an uninterrupted one bit for bit; its ``History`` holds the
    epochs run after resuming, as Keras's does.

    Parameters
    ----------
    backup_dir : str or os.PathLike
        The directory for the backup (``backup.deepfin``); give each training run its own.
    save_freq : "epoch" or int, default "epoch"
        With ``"epoch"`` it backs up after every epoch, and the fit resumes at the epoch after the last one
        finished. An integer ``n`` backs up every ``n`` batches (and after every epoch), and a fit interrupted
        inside an epoch resumes inside it, after the last batch backed up, with that epoch's sample order and
        loss sums (Keras restarts the interrupted epoch instead); the compiled metrics of that one epoch then
        cover only the batches run after resuming, while its loss, like everything else, is exact.
    double_checkpoint : bool, default False
        Keep the previous backup as well (``backup.deepfin.bkp``) and fall back to it when the latest cannot
        be read.
    delete_checkpoint : bool, default True
        Remove the backup when the fit ends normally (also after early stopping), as Keras does, and the
        directory too when nothing else is left in it.

    Raises
    ------
    ValueError
        If ``backup_dir`` is empty or ``save_freq`` is neither ``"epoch"`` nor a positive integer; at the start
        of a fit, if the backup cannot be read or does not fit the model.

    Notes
    -----
    The model must be the one that was backed up (the same layers and weight shapes) and the fit must get the
    same data and arguments. Layers with their own seed (``Dropout(seed=...)``) keep their own generator, which
    the backup does not hold: leave their ``seed`` unset for an exact resume.
    """

    reads_batch_logs = False  # its batch hook counts batches

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"backup_dir must be a directory path. Received: backup_dir={backup_dir!r}")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError(
                f"save_freq must be 'epoch' or a positive number of batches. Received: save_freq={save_freq!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint = save_freq, bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._latest = os.path.join(self.backup_dir, _LATEST)
        self._previous = os.path.join(self.backup_dir, _PREVIOUS)
        self._batches = 0
        if save_freq != "epoch":
            self.on_train_batch_end = self._on_batch_end  # batch hooks only when they are needed

    # ------------------------------------------------------------ restoring
    def on_train_begin(self, logs=None):
        """Restore the model, the optimizer, the random generator and the fit's position from a backup, if one exists.

        Falls back to the previous backup when the latest cannot be read; raises ValueError when neither can.
        """
        self._batches = 0
        paths = [p for p in (self._latest, self._previous) if os.path.exists(p)]
        if not paths:
            return
        try:
            state, arrays = self.model.load_backup(paths[0])
        except ValueError as error:
            if len(paths) == 1:
                raise self._cannot_resume(error) from error
            try:  # the latest backup is damaged: the previous one may do
                state, arrays = self.model.load_backup(paths[1])
            except ValueError:
                raise self._cannot_resume(error) from error
        try:
            self._restore(state, arrays)
        except (KeyError, TypeError, ValueError) as error:
            raise self._cannot_resume(ValueError(f"its training state is damaged ({error!r}).")) from error

    def _restore(self, state: dict, arrays: dict) -> None:
        backend.set_rng_state(state["rng"])
        rate = state["learning_rate"]
        if rate is not None and not self.model.optimizer.has_schedule:
            self.model.optimizer.learning_rate = rate
        self.model.resume_fit(state["epoch"], state["step"], arrays.get("order"), state["losses"])

    def _cannot_resume(self, error: Exception) -> ValueError:
        return ValueError(
            f"BackupAndRestore cannot resume from the backup in {self.backup_dir!r}: {error} "
            "A backup_dir serves one model and one training run; to start afresh, delete the directory "
            "or give another backup_dir."
        )

    # ------------------------------------------------------------ backing up
    def on_epoch_end(self, epoch, logs=None):
        """Back up the state, to resume at the next epoch."""
        self._save({"epoch": epoch + 1, "step": 0, "losses": None}, {})

    def _on_batch_end(self, batch, logs=None):
        self._batches += 1
        if self._batches >= self.save_freq:
            position = self.model.fit_state()
            order = position.pop("order")
            self._save(position, {} if order is None else {"order": order})

    def _save(self, position: dict, arrays: dict) -> None:
        self._batches = 0
        optimizer = self.model.optimizer  # a schedule follows the step count, saved with the optimizer state
        state = {**position, "rng": backend.get_rng_state(),
                 "learning_rate": None if optimizer.has_schedule else optimizer.learning_rate}
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._latest):
            os.replace(self._latest, self._previous)
        self.model.save_backup(self._latest, state, arrays)

    def on_train_end(self, logs=None):
        """With ``delete_checkpoint``, remove the backups and the directory if it is empty."""
        if not self.delete_checkpoint:
            return
        for path in (self._latest, self._previous):
            if os.path.exists(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)  # only when empty: the directory may hold the user's files
        except OSError:
            pass
