"""Utilities: gradient checks, one-hot labels, seeding, pictures of a model and of the engine's graph."""

from __future__ import annotations

import random

import numpy as np

from deepfin import backend
from deepfin.utils.gradient_check import check_gradients
from deepfin.utils.py_dataset import PyDataset, Sequence


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """One-hot encode integer class labels, as ``keras.utils.to_categorical``.

    Parameters
    ----------
    y : array_like
        Integer class labels (floats with integer values are accepted); a last axis of 1 is dropped.
    num_classes : int or None, default None
        The number of classes; None gives the largest label plus one.
    dtype : str or np.dtype, default "float32"
        The result's dtype (Keras 2's argument; Keras 3 takes none).

    Returns
    -------
    np.ndarray
        The labels' shape plus a last axis of ``num_classes``.

    Raises
    ------
    ValueError
        If a label is not an integer, is negative, or does not fit ``num_classes``.

    Examples
    --------
    >>> from deepfin import utils
    >>> utils.to_categorical([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    labels = np.asarray(y)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
        raise ValueError("to_categorical needs integer class labels. Received non-integer values.")
    labels = labels.astype(np.intp)
    if labels.size and labels.min() < 0:
        raise ValueError(f"Class labels must be non-negative. Received a minimum of {labels.min()}.")
    needed = int(labels.max()) + 1 if labels.size else 0
    num_classes = needed if num_classes is None else int(num_classes)
    if needed > num_classes:
        raise ValueError(f"Label {needed - 1} does not fit num_classes={num_classes}.")
    return np.eye(num_classes, dtype=dtype)[labels]


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale ``x`` to unit ``order``-norm along ``axis``; all-zero slices stay zero (as Keras).

    Parameters
    ----------
    x : array_like
        Numbers.
    axis : int, default -1
        The axis along which the norms are taken.
    order : int, default 2
        The norm's order, as ``np.linalg.norm``'s ``ord``.

    Returns
    -------
    np.ndarray
        ``x`` divided by its norms, in a float dtype (at least float32).

    Raises
    ------
    ValueError
        If ``x`` is not numeric.

    Examples
    --------
    >>> from deepfin import utils
    >>> utils.normalize([[3.0, 4.0], [0.0, 0.0]])
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"normalize needs numbers. Received an array of dtype {array.dtype}.")
    array = array.astype(np.result_type(array.dtype, np.float32), copy=False)
    norm = np.atleast_1d(np.linalg.norm(array, ord=order, axis=axis))
    norm[norm == 0] = 1
    return array / np.expand_dims(norm, axis)


def set_random_seed(seed: int) -> None:
    """Seed deepfin's generator and Python's and NumPy's global ones: runs repeat exactly.

    Parameters
    ----------
    seed : int
        A non-negative integer (NumPy's global generator gets it modulo 2**32).

    Raises
    ------
    ValueError
        If ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import utils
    >>> utils.set_random_seed(7)
    >>> first = np.random.rand()
    >>> utils.set_random_seed(7)
    >>> np.random.rand() == first
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Received: seed={seed!r}")
    backend.set_seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    random.seed(int(seed))


def __getattr__(name: str):
    """``plot_model`` and ``draw_graph`` load matplotlib, so they are imported when first asked for."""
    if name == "plot_model":
        from deepfin.utils.model_visualization import plot_model

        return plot_model
    if name == "draw_graph":
        from deepfin.utils.computational_graph import draw_graph

        return draw_graph
    raise AttributeError(f"module 'deepfin.utils' has no attribute {name!r}")


__all__ = ["PyDataset", "Sequence", "check_gradients", "draw_graph", "normalize", "plot_model", "set_random_seed",
           "to_categorical"]
