"""``PyDataset``: batches made by Python code, Keras 3's ``keras.utils.PyDataset`` (Keras 2's ``Sequence``).

A subclass gives ``__len__`` (batches in an epoch) and ``__getitem__(index)`` (one batch: ``x``, ``(x, y)`` or
``(x, y, sample_weight)``), and may override ``on_epoch_end``. ``Model.fit``, ``evaluate`` and ``predict`` take
one, or any Python iterator of batches, where they take arrays. deepfin reads the batches in the calling
thread, in order: ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted and unused.
"""

from __future__ import annotations


class PyDataset:
    """Base class of a dataset of batches made on demand (see the module's docstring)."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index) -> batch.")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__() -> number of batches.")

    @property
    def num_batches(self) -> int | None:
        """The batches in an epoch (Keras 3's name for ``len``)."""
        return len(self)

    def on_epoch_end(self) -> None:
        """Called after each epoch (shuffle here)."""


Sequence = PyDataset  # Keras 2's name
