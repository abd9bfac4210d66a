"""TensorBoard: event files TensorBoard reads, written with tensorboardX (``pip install deepfin[tensorboard]``).

Laid out as Keras lays them out: ``log_dir/train`` and ``log_dir/validation`` runs with
``epoch_loss``, ``epoch_accuracy``, ... scalars, the learning rate as ``epoch_learning_rate``,
and a histogram of every weight (tagged by its path, e.g. ``dense/kernel``) every
``histogram_freq`` epochs.
"""

from __future__ import annotations

import os

from deepfin.callbacks.base import Callback


class TensorBoard(Callback):
    """Log scalars per epoch and weight histograms for TensorBoard.

    ``write_graph``, ``write_images``, ``write_steps_per_second``, ``update_freq``,
    ``profile_batch`` and the embedding arguments are accepted for Keras compatibility; graphs,
    images, per-batch scalars, profiles and embeddings are not written.
    """

    def __init__(self, log_dir="logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq="epoch",
                 profile_batch=0, embeddings_freq: int = 0, embeddings_metadata=None):
        super().__init__()
        try:
            import tensorboardX  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "The TensorBoard callback writes its files with tensorboardX. Install it with "
                "`pip install deepfin[tensorboard]` (or `pip install tensorboardX`)."
            ) from error
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"histogram_freq must be an integer >= 0. Received: {histogram_freq!r}")
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self._writers: dict = {}

    def _writer(self, run: str):
        if run not in self._writers:
            from tensorboardX import SummaryWriter

            self._writers[run] = SummaryWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs.setdefault("learning_rate", self.model.optimizer.learning_rate)
        for key, value in logs.items():
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(run).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for weight in self.model.weights:
                writer.add_histogram(weight.path, weight.data, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
