"""Core layers: Input, InputLayer, Dense, Activation, Dropout, Flatten, Lambda, Masking."""

from __future__ import annotations

import inspect
import math

import numpy as np

from deepfin import activations, backend, constraints, initializers, regularizers
from deepfin._text import shape_str
from deepfin.engine import ops
from deepfin.layers.base import Layer
from deepfin.layers.symbolic import KerasTensor


class InputLayer(Layer):
    """The entry point of a model: holds the batch input shape."""

    _same_shape_out = True

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, **kwargs):
        if shape is None and batch_shape is None:
            raise ValueError("InputLayer needs shape= (without the batch axis) or batch_shape=.")
        super().__init__(name=name, dtype=dtype, input_shape=shape, batch_input_shape=batch_shape,
                         batch_size=batch_size, **kwargs)
        self.batch_shape = self._batch_input_shape
        self.built = True
        self.output = KerasTensor(self.batch_shape, self.dtype, self, None, name=self.name)

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "batch_shape": list(self.batch_shape)}


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None) -> KerasTensor:
    """A symbolic model input of ``shape`` (without the batch axis), as ``keras.Input``."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                      name=name).output


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``, the densely connected layer."""

    supports_masking = True

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. Received: units={units!r}"
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        name = activations.builtin_name(self.activation)
        self._fused = name if name in ops.FUSED_DENSE_ACTIVATIONS else False
        self.kernel = self.bias = None

    def build(self, input_shape):
        build_kernel_and_bias(self, input_shape, self.units)

    def _check_input_shape(self, input_shape):
        check_input_width(self, input_shape)

    def call(self, inputs):
        if inputs.shape[-1] != self.kernel.shape[-2]:
            raise ValueError(
                f"Input of shape {inputs.shape} is incompatible with layer '{self.name}': "
                f"expected a last axis of size {self.kernel.shape[-2]}, as the layer was built "
                f"for inputs of shape (None, {self.kernel.shape[-2]})."
            )
        if self._fused:
            return ops.dense(inputs, self.kernel, self.bias, self._fused)
        return self.activation(ops.dense(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


def build_kernel_and_bias(layer: Layer, input_shape, width: int) -> None:
    """Give ``layer`` a ``kernel`` of shape (last input dimension, ``width``) and, if it ``use_bias``, a ``bias``
    of shape (``width``,), from its initializers, regularizers and constraints (Dense and Maxout share this)."""
    in_dim = input_shape[-1]
    if in_dim is None:
        raise ValueError(
            f"Layer '{layer.name}' needs a known last input dimension to build. Received "
            f"input_shape={shape_str(input_shape)}."
        )
    layer.kernel = layer.add_weight((in_dim, width), layer.kernel_initializer, regularizer=layer.kernel_regularizer,
                                    name="kernel", constraint=layer.kernel_constraint)
    if layer.use_bias:
        layer.bias = layer.add_weight((width,), layer.bias_initializer, regularizer=layer.bias_regularizer,
                                      name="bias", constraint=layer.bias_constraint)


def check_input_width(layer: Layer, input_shape) -> None:
    """Refuse an input whose last axis is not the one ``layer``'s kernel was built for."""
    if input_shape[-1] is not None and input_shape[-1] != layer.kernel.shape[-2]:
        raise ValueError(
            f"Input of shape {shape_str(input_shape)} is incompatible with layer '{layer.name}': "
            f"expected a last axis of size {layer.kernel.shape[-2]}, as the layer was built "
            f"for inputs of shape (None, {layer.kernel.shape[-2]})."
        )


class Activation(Layer):
    """Applies an activation function by name or callable."""

    _same_shape_out = True
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Inverted dropout: in training, zero a fraction ``rate`` of units and scale the rest."""

    _same_shape_out = True
    supports_masking = True

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value in [0, 1). Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    @property
    def generator(self) -> np.random.Generator:
        """The generator the next training call draws its mask from: the layer's own (with a ``seed``) or
        the library's (``deepfin.backend.rng()``)."""
        return self._rng or backend.rng()

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        return ops.dropout(inputs, self.rate, self.generator, self.noise_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class Flatten(Layer):
    """Flattens every axis but the batch axis."""

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))


class Lambda(Layer):
    """``function(inputs, **arguments)`` as a layer (it may take ``training``). Its output shape is found by
    calling it, or given as ``output_shape`` (without the batch axis, or a function of the input shape). A Lambda
    layer cannot be saved: loading it would mean running code read from a file; write a ``Layer`` subclass and
    pass it as ``custom_objects`` instead."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda needs a callable. Received: {function!r}")
        if mask is not None:
            raise ValueError("Lambda(mask=...) needs masks, which deepfin's layers do not carry yet.")
        self.function, self.output_shape_given, self.arguments = function, output_shape, dict(arguments or {})
        self._takes_training = "training" in inspect.signature(function).parameters

    def call(self, inputs, training=None):
        if self._takes_training:
            return self.function(inputs, training=training, **self.arguments)
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self.output_shape_given is None:
            return super().compute_output_shape(input_shape)
        if callable(self.output_shape_given):
            return tuple(self.output_shape_given(input_shape))
        return (input_shape[0], *tuple(self.output_shape_given))

    def get_config(self):
        raise ValueError(f"Lambda layer '{self.name}' cannot be saved: loading it would run code read from the "
                         "file. Write the function as a Layer subclass and load it with custom_objects.")


class Masking(Layer):
    """Marks the steps of (batch, steps, features) inputs whose every feature equals ``mask_value`` as padding:
    they are zeroed, and the layers after it that read masks (recurrent ones, ``GlobalAveragePooling1D``) skip
    them, as Keras's ``Masking`` does."""

    _same_shape_out = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs, mask=None):
        values = inputs.data if hasattr(inputs, "data") else np.asarray(inputs)
        return np.any(values != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = self.compute_mask(inputs)
        return inputs * keep[..., None].astype(inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
