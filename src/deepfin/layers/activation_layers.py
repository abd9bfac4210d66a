"""Activations as layers, with their parameters: ReLU, LeakyReLU, ELU, Softmax."""

from __future__ import annotations

from deepfin.engine import ops
from deepfin.layers.base import Layer


class ReLU(Layer):
    """``min(max(x, 0), max_value)`` below ``threshold`` slope ``negative_slope``; Keras defaults give max(x, 0)."""

    _same_shape_out = True

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"max_value must be >= 0. Received: max_value={max_value}")
        if negative_slope < 0:
            raise ValueError(f"negative_slope must be >= 0. Received: negative_slope={negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, float(negative_slope), float(threshold)

    def call(self, inputs):
        if self.max_value is None and self.negative_slope == 0 and self.threshold == 0:
            return ops.relu(inputs)
        shifted = inputs - self.threshold
        out = ops.relu(shifted) + self.threshold * (inputs > self.threshold).data
        if self.negative_slope:
            out = out - ops.relu(-shifted) * self.negative_slope
        if self.max_value is not None:
            out = ops.clip(out, None, self.max_value)
        return out

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (Keras 3 default 0.3; ``alpha`` is Keras 2's name)."""

    _same_shape_out = True

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""

    _same_shape_out = True

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return ops.elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax over ``axis``."""

    _same_shape_out = True

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        return ops.softmax(inputs, self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
