"""TensorBoard: event files TensorBoard reads, written with tensorboardX (``pip install deepfin[tensorboard]``).

Laid out as Keras lays them out: ``log_dir/train`` and ``log_dir/validation`` runs with
``epoch_loss``, ``epoch_accuracy``, ... scalars, the learning rate as ``epoch_learning_rate``,
a histogram of every weight (tagged by its path, e.g. ``dense/kernel``) every
``histogram_freq`` epochs, and (``write_graph``) the model's graph for the Graphs tab, once, in
``log_dir/train``, grouped by layer as TensorFlow's name scopes group it (see ``tensorboard_graph``).
"""

from __future__ import annotations

import os

from deepfin.callbacks.base import Callback


class TensorBoard(Callback):
    """Log scalars per epoch, weight histograms and the model's graph for TensorBoard.

    As Keras's ``TensorBoard``, in the layout the module docstring describes; each epoch's logs go to the
    ``train`` run, the ``val_`` ones to ``validation``, with the learning rate added when no callback logged it.

    Parameters
    ----------
    log_dir : str or os.PathLike, default "logs"
        The folder of the runs.
    histogram_freq : int, default 0
        Write a histogram of every weight every this many epochs (from epoch 0); 0 writes none.
    write_graph : bool, default True
        Write the graph of a Sequential or functional model when training begins: each layer a name scope
        (``dense/MatMul``, ``dense/BiasAdd``, ``dense/Relu``, the weights ``dense/kernel`` and ``dense/bias``),
        the inputs placeholders. A subclassed model has no graph to write.
    write_images, write_steps_per_second, update_freq, profile_batch, embeddings_freq, embeddings_metadata
        Accepted for Keras compatibility and unused: images, per-batch scalars, profiles and embeddings are not
        written.

    Raises
    ------
    ImportError
        If tensorboardX is not installed.
    ValueError
        If ``histogram_freq`` is not an integer >= 0.
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
        self.write_graph = bool(write_graph)
        self._writers: dict = {}

    def _writer(self, run: str):
        if run not in self._writers:
            from tensorboardX import SummaryWriter

            self._writers[run] = SummaryWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def on_train_begin(self, logs=None):
        """Write the model's graph, with ``write_graph``."""
        if self.write_graph:
            self._write_model_graph()

    def _write_model_graph(self) -> None:
        from tensorboardX.proto import event_pb2

        from deepfin.callbacks.tensorboard_graph import model_graph_def

        graph = model_graph_def(self.model)
        if graph is None:
            return  # a subclassed model: its wiring is Python code, not a graph known before it runs
        writer = self._writer("train")
        writer.file_writer.add_event(event_pb2.Event(graph_def=graph.SerializeToString()))
        writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        """Write the epoch's scalars and, every ``histogram_freq`` epochs, the weights' histograms."""
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
        """Close the event files."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
