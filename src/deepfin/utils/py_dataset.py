"""``PyDataset``: batches made by Python code, Keras 3's ``keras.utils.PyDataset`` (Keras 2's ``Sequence``).

A subclass gives ``__len__`` (batches in an epoch) and ``__getitem__(index)`` (one batch: ``x``, ``(x, y)`` or
``(x, y, sample_weight)``), and may override ``on_epoch_end``. ``Model.fit``, ``evaluate`` and ``predict`` take
one, or any Python iterator of batches, where they take arrays. deepfin reads the batches in the calling
thread, in order: ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted and unused.
"""

from __future__ import annotations


class PyDataset:
    """Base class of a dataset of batches made on demand (see the module's docstring).

    Parameters
    ----------
    workers : int, default 1
        Accepted for Keras compatibility and unused.
    use_multiprocessing : bool, default False
        Accepted and unused.
    max_queue_size : int, default 10
        Accepted and unused.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import Sequential, layers, utils
    >>> class Batches(utils.PyDataset):
    ...     def __init__(self, x, y, batch_size):
    ...         super().__init__()
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return -(-len(self.x) // self.batch_size)
    ...     def __getitem__(self, index):
    ...         rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
    ...         return self.x[rows], self.y[rows]
    >>> data = Batches(np.ones((10, 2)), np.zeros(10), batch_size=4)
    >>> data.num_batches
    3
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> len(model.fit(data, epochs=2, verbose=0).history["loss"])
    2
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    def __getitem__(self, index: int):
        """Batch ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index) -> batch.")

    def __len__(self) -> int:
        """The number of batches in an epoch; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement __len__() -> number of batches.")

    @property
    def num_batches(self) -> int | None:
        """The batches in an epoch (Keras 3's name for ``len``)."""
        return len(self)

    def on_epoch_end(self) -> None:
        """Called after each epoch (shuffle here)."""


Sequence = PyDataset  # Keras 2's name
