"""Training data that arrive batch by batch: a ``PyDataset`` (or Keras 2's ``Sequence``) or a Python iterator
of batches, as ``fit``, ``evaluate`` and ``predict`` take them. Each batch is ``x``, ``(x, y)`` or
``(x, y, sample_weight)``; ``x`` and ``y`` are what the arrays' methods take."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from deepfin.utils.py_dataset import PyDataset


def is_batch_source(x) -> bool:
    """Whether ``x`` gives batches (a PyDataset or an iterator) rather than being the data."""
    return isinstance(x, PyDataset) or (isinstance(x, Iterator) and not isinstance(x, np.ndarray))


class BatchSource:
    """An epoch's batches from ``source``: a PyDataset's ``len`` (or ``steps``) batches by index, or the next
    ``steps`` of an iterator (all it has left when ``steps`` is None)."""

    def __init__(self, source, steps: int | None, label: str = "x"):
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ValueError(f"The number of steps must be a positive integer. Received: {steps!r}")
        self.source, self.label = source, label
        self.indexed = isinstance(source, PyDataset)
        if self.indexed and len(source) < 1:
            raise ValueError(f"{label} is a PyDataset of no batches.")
        self.steps = steps if steps is not None else (len(source) if self.indexed else None)

    def epoch(self) -> Iterator[tuple]:
        """The batches of one epoch, each as ``(x, y, sample_weight)`` (``None`` where absent)."""
        count = self.steps if self.steps is not None else float("inf")
        step = 0
        while step < count:
            if self.indexed:
                batch = self.source[step % len(self.source)]
            else:
                try:
                    batch = next(self.source)
                except StopIteration:
                    return
            yield unpack(batch, self.label)
            step += 1

    def end_epoch(self) -> None:
        if self.indexed:
            self.source.on_epoch_end()


def unpack(batch, label: str = "x") -> tuple:
    """``(x, y, sample_weight)`` from a batch ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if not isinstance(batch, tuple):
        return batch, None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError(f"A batch from {label} must be x, (x, y) or (x, y, sample_weight); received a tuple of "
                         f"{len(batch)}.")
    return tuple(batch) + (None,) * (3 - len(batch))
