"""Preprocessing layers with Keras 3's names and arguments: ``Rescaling``, ``Normalization``."""

from __future__ import annotations

import numpy as np

from deepfin.layers.base import Layer


class Rescaling(Layer):
    """``inputs * scale + offset`` (e.g. ``Rescaling(1 / 255)``, or ``Rescaling(100)`` for returns in percent)."""

    _same_shape_out = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number. Received: {name}={value!r}")
        self.scale, self.offset = float(scale), float(offset)

    def call(self, inputs):
        return inputs * self.scale + self.offset

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """``(inputs - mean) / sqrt(variance)`` per feature along ``axis`` (an int, a list, or None for one mean
    and variance), from ``mean`` and ``variance`` given or learned by ``adapt(data)``; ``invert=True`` undoes
    it (``inputs * sqrt(variance) + mean``, to put a prediction back on the targets' scale). The adapted
    ``mean``, ``variance`` and ``count`` are the layer's (non-trainable) weights, saved with the model as
    Keras saves them. The standard deviation is floored at 1e-7, Keras's epsilon."""

    _same_shape_out = True

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization takes both mean and variance, or neither (then call adapt).")
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        self.input_mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.input_variance = None if variance is None else np.asarray(variance, dtype=np.float64)
        if self.input_variance is not None and (self.input_variance < 0).any():
            raise ValueError("Normalization's variance must be non-negative.")
        self.invert = bool(invert)
        self.mean = self.variance = self.count = None

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis) or any(a % ndim == 0 for a in self.axis):
            raise ValueError(f"Normalization's axis {self.axis} does not fit inputs of shape {tuple(input_shape)} "
                             "(the batch axis cannot be kept).")
        self._keep = tuple(sorted(a % ndim for a in self.axis))
        shape = tuple(input_shape[a] for a in self._keep)
        if None in shape:
            raise ValueError(f"Normalization needs known sizes on the axes it keeps. Received input_shape="
                             f"{tuple(input_shape)}.")
        self._reduce = tuple(a for a in range(ndim) if a not in self._keep)
        self._broadcast = tuple(input_shape[a] if a in self._keep else 1 for a in range(1, ndim))
        if self.input_mean is None:
            self.mean = self.add_weight(shape, "zeros", trainable=False, name="mean")
            self.variance = self.add_weight(shape, "ones", trainable=False, name="variance")
            self.count = self.add_weight((), "zeros", trainable=False, name="count")

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the mean and (biased) variance of ``data``: an array, or an iterable of batches (a generator,
        a ``PyDataset``), taking at most ``steps`` batches. Sums run in float64, batch by batch."""
        if self.input_mean is not None:
            raise ValueError("This Normalization was given its mean and variance; it has nothing to adapt.")
        batches = [np.asarray(data)] if isinstance(data, np.ndarray) or not _iterable(data) else \
            (np.asarray(b[0] if isinstance(b, tuple) else b) for b in data)
        total = squares = None
        count = 0
        for number, batch in enumerate(batches):
            if steps is not None and number >= steps:
                break
            if not self.built:
                self.build((None, *batch.shape[1:]))
            values = batch.astype(np.float64)
            total = values.sum(axis=self._reduce) + (0 if total is None else total)
            squares = (values * values).sum(axis=self._reduce) + (0 if squares is None else squares)
            count += values.size // max(1, int(np.prod([values.shape[a] for a in self._keep])))
        if not count:
            raise ValueError("Normalization.adapt received no data.")
        mean = total / count
        self.mean.assign(mean)
        self.variance.assign(np.maximum(squares / count - mean * mean, 0.0))
        self.count.assign(count)

    def _statistics(self) -> tuple[np.ndarray, np.ndarray]:
        if self.input_mean is not None:
            mean, variance = self.input_mean, self.input_variance
        else:
            mean, variance = self.mean.data, self.variance.data
        shape = self._broadcast if np.ndim(mean) else ()
        return (np.reshape(mean, shape).astype(self.dtype), np.reshape(variance, shape).astype(self.dtype))

    def call(self, inputs):
        mean, variance = self._statistics()
        deviation = np.maximum(np.sqrt(variance), np.asarray(1e-7, variance.dtype))
        return inputs * deviation + mean if self.invert else (inputs - mean) / deviation

    def get_config(self):
        return {**super().get_config(), "axis": list(self.axis) if self.axis else None, "invert": self.invert,
                "mean": None if self.input_mean is None else self.input_mean.tolist(),
                "variance": None if self.input_variance is None else self.input_variance.tolist()}


def _iterable(data) -> bool:
    try:
        iter(data)
    except TypeError:
        return False
    return True
