"""Convolution and pooling over time with Keras 3's names, arguments and weights: ``Conv1D``, ``MaxPooling1D``,
``AveragePooling1D``, ``GlobalAveragePooling1D``, ``GlobalMaxPooling1D``; inputs (batch, steps, channels)
("channels_last", Keras's default and the only layout here)."""

from __future__ import annotations

import numpy as np

from deepfin import activations, constraints, initializers, regularizers
from deepfin._text import shape_str
from deepfin.engine import convolution
from deepfin.layers.base import Layer

_PADDINGS = ("valid", "same", "causal")


def _positive_int(name: str, value) -> int:
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _channels_last(layer: str, data_format) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer} supports data_format='channels_last' only (batch, steps, channels). "
                         f"Received: data_format={data_format!r}")


def _check_sequences(layer: Layer, input_shape) -> None:
    if len(input_shape) != 3:
        raise ValueError(f"{type(layer).__name__} takes inputs of shape (batch, steps, channels). Received "
                         f"input_shape={shape_str(input_shape)}.")


class Conv1D(Layer):
    """``activation(convolution(inputs, kernel) + bias)`` over time: a ``kernel`` (kernel_size, channels,
    filters) of taps ``dilation_rate`` steps apart, moved ``strides`` steps; ``padding`` 'valid' (no padding),
    'same' (zeros on both sides, output length ceil(steps / strides)) or 'causal' (zeros before: output step t
    sees inputs up to t only)."""

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, groups: int = 1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        _channels_last("Conv1D", data_format)
        if activity_regularizer is not None:
            raise ValueError(f"Conv1D does not support activity_regularizer in deepfin; received "
                             f"{activity_regularizer!r}.")
        if groups != 1:
            raise ValueError(f"Conv1D supports groups=1 only. Received: groups={groups!r}")
        if padding not in _PADDINGS:
            raise ValueError(f"padding must be one of {_PADDINGS}. Received: padding={padding!r}")
        self.filters = _positive_int("filters", filters)
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.strides = _positive_int("strides", strides)
        self.dilation_rate = _positive_int("dilation_rate", dilation_rate)
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError("strides > 1 is not compatible with dilation_rate > 1 (as in Keras).")
        self.padding = padding
        self.activation = activations.get(activation)
        fused = activations.builtin_name(self.activation)
        self._fused = fused if fused in convolution.FUSED_ACTIVATIONS else False  # applied inside the op
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def build(self, input_shape):
        _check_sequences(self, input_shape)
        if input_shape[-1] is None:
            raise ValueError(f"Conv1D needs a known number of channels. Received input_shape={shape_str(input_shape)}.")
        self.kernel = self.add_weight((self.kernel_size, input_shape[-1], self.filters), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel",
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                        name="bias", constraint=self.bias_constraint)

    def _check_input_shape(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] not in (None, self.kernel.shape[1]):
            raise ValueError(f"Input of shape {shape_str(input_shape)} is incompatible with layer '{self.name}': "
                             f"expected (batch, steps, {self.kernel.shape[1]}).")

    def call(self, inputs):
        if inputs.ndim != 3 or inputs.shape[-1] != self.kernel.shape[1]:
            raise ValueError(f"Input of shape {inputs.shape} is incompatible with layer '{self.name}': expected "
                             f"(batch, steps, {self.kernel.shape[1]}).")
        if self._fused:
            return convolution.conv1d(inputs, self.kernel, self.bias, self.strides, self.dilation_rate, self.padding,
                                      self._fused)
        return self.activation(convolution.conv1d(inputs, self.kernel, self.bias, self.strides, self.dilation_rate,
                                                  self.padding))

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        if steps is not None:
            steps = convolution.output_length(steps, self.kernel_size, self.strides, self.dilation_rate,
                                              self.padding)[0]
        return (input_shape[0], steps, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": (self.kernel_size,),
                "strides": (self.strides,), "padding": self.padding, "data_format": "channels_last",
                "dilation_rate": (self.dilation_rate,), "groups": 1,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class _Pooling1D(Layer):
    _kind = "max"

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(type(self).__name__, data_format)
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same'. Received: padding={padding!r}")
        self.pool_size = _positive_int("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else _positive_int("strides", strides)
        self.padding = padding

    def build(self, input_shape):
        _check_sequences(self, input_shape)

    def call(self, inputs):
        return convolution.pool1d(inputs, self.pool_size, self.strides, self.padding, self._kind)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        if steps is not None:
            steps = convolution.output_length(steps, self.pool_size, self.strides, 1, self.padding)[0]
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "pool_size": (self.pool_size,), "strides": (self.strides,),
                "padding": self.padding, "data_format": "channels_last"}


class MaxPooling1D(_Pooling1D):
    """The maximum of each window of ``pool_size`` steps, moved ``strides`` steps (default: ``pool_size``)."""


class AveragePooling1D(_Pooling1D):
    """The mean of each window of ``pool_size`` steps, moved ``strides`` steps (default: ``pool_size``); with
    ``padding='same'`` the mean is over the steps the window covers."""

    _kind = "average"


class _GlobalPooling1D(Layer):
    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        _channels_last(type(self).__name__, data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        _check_sequences(self, input_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, input_shape[2]) if self.keepdims else (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last", "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over every step (over the unmasked ones, given a mask, as Keras): (batch, channels), or
    (batch, 1, channels) with ``keepdims``."""

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs.mean(axis=1, keepdims=self.keepdims)
        weights = np.asarray(mask.data if hasattr(mask, "data") else mask, dtype=inputs.dtype)[..., None]
        total = (inputs * weights).sum(axis=1, keepdims=self.keepdims)
        count = weights.sum(axis=1, keepdims=self.keepdims)
        return total * (1.0 / np.maximum(count, 1.0))


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over every step: (batch, channels), or (batch, 1, channels) with ``keepdims``."""

    def call(self, inputs):
        return inputs.max(axis=1, keepdims=self.keepdims)
