"""Training data that arrive batch by batch, as ``fit``, ``evaluate`` and ``predict`` take them.

The batches come from a ``PyDataset`` (or Keras 2's ``Sequence``) or a Python iterator. Each batch is ``x``,
``(x, y)`` or ``(x, y, sample_weight)``; ``x`` and ``y`` are what the arrays' methods take.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from deepfin.utils.py_dataset import PyDataset


def is_batch_source(x) -> bool:
    """Tell whether ``x`` gives batches (a PyDataset or an iterator) rather than being the data.

    Parameters
    ----------
    x : object
        What ``fit``, ``evaluate`` or ``predict`` received as ``x``.

    Returns
    -------
    bool
        True for a ``PyDataset`` or an iterator.
    """
    return isinstance(x, PyDataset) or (isinstance(x, Iterator) and not isinstance(x, np.ndarray))


class BatchSource:
    """An epoch's batches from ``source``.

    A PyDataset gives its ``len`` (or ``steps``) batches by index, starting again from its first batch when
    ``steps`` is more; an iterator gives its next ``steps`` batches (all it has left when ``steps`` is None).

    Parameters
    ----------
    source : PyDataset or iterator
        Where the batches come from.
    steps : int or None
        The batches in an epoch; by default a PyDataset's ``len``, or all an iterator has left.
    label : str, default "x"
        How messages name the source.

    Raises
    ------
    ValueError
        If ``steps`` is not a positive integer or the PyDataset has no batches.
    """

    def __init__(self, source, steps: int | None, label: str = "x"):
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ValueError(f"The number of steps must be a positive integer. Received: {steps!r}")
        self.source, self.label = source, label
        self.indexed = isinstance(source, PyDataset)
        if self.indexed and len(source) < 1:
            raise ValueError(f"{label} is a PyDataset of no batches.")
        self.steps = steps if steps is not None else (len(source) if self.indexed else None)

    def epoch(self) -> Iterator[tuple]:
        """Yield the batches of one epoch.

        Yields
        ------
        tuple
            ``(x, y, sample_weight)``, ``None`` where absent.

        Raises
        ------
        ValueError
            If a batch is a tuple of more than 3 or of none.
        """
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
        """Tell a PyDataset the epoch is over (its ``on_epoch_end``, e.g. to reshuffle)."""
        if self.indexed:
            self.source.on_epoch_end()


def unpack(batch, label: str = "x") -> tuple:
    """Return ``(x, y, sample_weight)`` from a batch ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Parameters
    ----------
    batch : object
        A batch; only a tuple is taken apart (a list is ``x`` itself, e.g. several inputs).
    label : str, default "x"
        How messages name the batch's source.

    Returns
    -------
    tuple
        ``(x, y, sample_weight)``, ``None`` where absent.

    Raises
    ------
    ValueError
        If ``batch`` is a tuple of more than 3 or of none.
    """
    if not isinstance(batch, tuple):
        return batch, None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError(f"A batch from {label} must be x, (x, y) or (x, y, sample_weight); received a tuple of "
                         f"{len(batch)}.")
    return tuple(batch) + (None,) * (3 - len(batch))
