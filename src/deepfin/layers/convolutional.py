"""Convolution and pooling over time with Keras 3's names, arguments and weights.

``Conv1D``, ``MaxPooling1D``, ``AveragePooling1D``, ``GlobalAveragePooling1D``, ``GlobalMaxPooling1D``; inputs
(batch, steps, channels) ("channels_last", Keras's default and the only layout here).
"""

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
    """One-dimensional convolution over time: ``activation(convolution(inputs, kernel) + bias)``.

    The ``kernel`` (kernel_size, channels, filters) has taps ``dilation_rate`` steps apart and moves
    ``strides`` steps; the ``bias`` has shape (filters,). Inputs (batch, steps, channels) give outputs
    (batch, new steps, filters), the new length set by ``padding``.

    Parameters
    ----------
    filters : int
        The number of output channels.
    kernel_size : int or tuple of one int
        The number of taps.
    strides : int or tuple of one int, default 1
        The step between windows.
    padding : {"valid", "same", "causal"}, default "valid"
        ``"valid"``: no padding; ``"same"``: zeros on both sides, output length ``ceil(steps / strides)``;
        ``"causal"``: zeros before, so that output step t sees inputs up to t only.
    data_format : None or "channels_last", default None
        Only "channels_last" (batch, steps, channels) is supported.
    dilation_rate : int or tuple of one int, default 1
        The distance between taps.
    groups : int, default 1
        Only 1 is supported.
    activation : str or callable or None, default None
        Applied to the output; None is the identity.
    use_bias : bool, default True
        Whether to add a bias.
    kernel_initializer : str or callable, default "glorot_uniform"
        How the kernel is drawn.
    bias_initializer : str or callable, default "zeros"
        How the bias is set.
    kernel_regularizer : str or callable or None, default None
        A penalty on the kernel, added to the training loss.
    bias_regularizer : str or callable or None, default None
        A penalty on the bias.
    activity_regularizer : None
        Not supported: it must be None.
    kernel_constraint : str or callable or None, default None
        Applied to the kernel after each optimizer update.
    bias_constraint : str or callable or None, default None
        Applied to the bias after each optimizer update.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If an argument is out of range, if ``strides`` and ``dilation_rate`` are both above 1 (as in Keras),
        or if an unsupported ``data_format``, ``groups`` or ``activity_regularizer`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Conv1D
    >>> x = np.zeros((1, 6, 2))
    >>> Conv1D(4, 3)(x).shape
    (1, 4, 4)
    >>> Conv1D(4, 3, padding="causal")(x).shape
    (1, 6, 4)
    """

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
        """Create ``kernel`` (kernel_size, channels, filters) and, with ``use_bias``, ``bias`` (filters,)."""
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
        """Return ``activation(convolution(inputs, kernel) + bias)``."""
        if inputs.ndim != 3 or inputs.shape[-1] != self.kernel.shape[1]:
            raise ValueError(f"Input of shape {inputs.shape} is incompatible with layer '{self.name}': expected "
                             f"(batch, steps, {self.kernel.shape[1]}).")
        if self._fused:
            return convolution.conv1d(inputs, self.kernel, self.bias, self.strides, self.dilation_rate, self.padding,
                                      self._fused)
        return self.activation(convolution.conv1d(inputs, self.kernel, self.bias, self.strides, self.dilation_rate,
                                                  self.padding))

    def compute_output_shape(self, input_shape):
        """Return (batch, output length, filters); the length is ``None`` when the input's is."""
        steps = input_shape[1]
        if steps is not None:
            steps = convolution.output_length(steps, self.kernel_size, self.strides, self.dilation_rate,
                                              self.padding)[0]
        return (input_shape[0], steps, self.filters)

    def get_config(self):
        """Return the constructor arguments in Keras's form (sizes as one-element tuples)."""
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
    """The maximum of each window of ``pool_size`` steps, moved ``strides`` steps (default: ``pool_size``).

    Inputs (batch, steps, channels) give outputs (batch, new steps, channels).

    Parameters
    ----------
    pool_size : int or tuple of one int, default 2
        The window's length.
    strides : int or tuple of one int or None, default None
        The step between windows; ``pool_size`` by default.
    padding : {"valid", "same"}, default "valid"
        ``"valid"``: windows inside the input only; ``"same"``: ``ceil(steps / strides)`` windows.
    data_format : None or "channels_last", default None
        Only "channels_last" is supported.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``pool_size`` or ``strides`` is not a positive integer, or ``padding`` or ``data_format`` is another.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import MaxPooling1D
    >>> MaxPooling1D(2)(np.array([[[1.0], [3.0], [2.0], [5.0]]])).numpy()[0, :, 0]
    array([3., 5.], dtype=float32)
    """


class AveragePooling1D(_Pooling1D):
    """The mean of each window of ``pool_size`` steps, moved ``strides`` steps (default: ``pool_size``).

    With ``padding="same"`` the mean is over the input steps the window covers (the padding is not counted).
    Inputs (batch, steps, channels) give outputs (batch, new steps, channels).

    Parameters
    ----------
    pool_size : int or tuple of one int, default 2
        The window's length.
    strides : int or tuple of one int or None, default None
        The step between windows; ``pool_size`` by default.
    padding : {"valid", "same"}, default "valid"
        ``"valid"``: windows inside the input only; ``"same"``: ``ceil(steps / strides)`` windows.
    data_format : None or "channels_last", default None
        Only "channels_last" is supported.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``pool_size`` or ``strides`` is not a positive integer, or ``padding`` or ``data_format`` is another.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import AveragePooling1D
    >>> AveragePooling1D(2)(np.array([[[1.0], [3.0], [2.0], [5.0]]])).numpy()[0, :, 0]
    array([2. , 3.5], dtype=float32)
    """

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
    """The mean over every step, or over the unmasked ones given a mask, as Keras.

    Inputs (batch, steps, channels) give outputs (batch, channels), or (batch, 1, channels) with ``keepdims``.

    Parameters
    ----------
    data_format : None or "channels_last", default None
        Only "channels_last" is supported.
    keepdims : bool, default False
        Whether to keep the steps axis, of length 1.
    **kwargs
        ``Layer`` arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import GlobalAveragePooling1D
    >>> GlobalAveragePooling1D()(np.array([[[1.0], [3.0], [2.0], [5.0]]])).numpy()
    array([[2.75]], dtype=float32)
    """

    def call(self, inputs, mask=None):
        """Return the mean over the steps, the masked ones left out (a row with none kept gives zeros)."""
        if mask is None:
            return inputs.mean(axis=1, keepdims=self.keepdims)
        weights = np.asarray(mask.data if hasattr(mask, "data") else mask, dtype=inputs.dtype)[..., None]
        total = (inputs * weights).sum(axis=1, keepdims=self.keepdims)
        count = weights.sum(axis=1, keepdims=self.keepdims)
        return total * (1.0 / np.maximum(count, 1.0))


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over every step.

    Inputs (batch, steps, channels) give outputs (batch, channels), or (batch, 1, channels) with ``keepdims``.

    Parameters
    ----------
    data_format : None or "channels_last", default None
        Only "channels_last" is supported.
    keepdims : bool, default False
        Whether to keep the steps axis, of length 1.
    **kwargs
        ``Layer`` arguments.
    """

    def call(self, inputs):
        """Return the maximum over the steps."""
        return inputs.max(axis=1, keepdims=self.keepdims)
