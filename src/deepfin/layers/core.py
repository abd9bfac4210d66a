"""Core layers with Keras 3's names and arguments.

``Input``, ``InputLayer``, ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``Lambda`` and ``Masking``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from deepfin import activations, backend, constraints, initializers, regularizers
from deepfin._text import shape_str
from deepfin.engine import functions, fused
from deepfin.layers.base import Layer
from deepfin.layers.symbolic import KerasTensor


class InputLayer(Layer):
    """The entry point of a model: holds the batch input shape.

    ``deepfin.Input`` makes one and returns its symbolic ``output``; a ``Sequential`` model makes one from its
    first layer's ``input_shape``. The layer is built when it is made and passes its input on unchanged.

    Parameters
    ----------
    shape : tuple or int or None, default None
        The shape of one sample, the batch axis left out.
    batch_size : int or None, default None
        The batch axis put in front of ``shape``, free by default.
    dtype : str or None, default None
        The input's dtype, ``deepfin.backend.floatx()`` by default.
    batch_shape : tuple or None, default None
        The whole shape, batch axis first, in place of ``shape``.
    name : str or None, default None
        The layer's name, which is also the model input's name.
    **kwargs
        Other ``Layer`` arguments.

    Raises
    ------
    ValueError
        If neither ``shape`` nor ``batch_shape`` is given, if both are, or if a sample dimension is not a
        positive integer.

    Notes
    -----
    Keras 3's ``sparse``, ``input_tensor`` and ``optional`` are not taken.
    """

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
        """Return ``inputs`` unchanged."""
        return inputs

    def get_config(self):
        """Return the layer's ``name``, ``dtype`` and ``batch_shape``."""
        return {"name": self.name, "dtype": self.dtype, "batch_shape": list(self.batch_shape)}


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None) -> KerasTensor:
    """Make a symbolic model input of ``shape`` (without the batch axis), as ``keras.Input``.

    Layers called on it return symbolic tensors; ``Model(inputs, outputs)`` makes a functional model of the
    graph between them.

    Parameters
    ----------
    shape : tuple or int or None, default None
        The shape of one sample, the batch axis left out (``None`` for an axis of any length).
    batch_size : int or None, default None
        The batch axis, free by default.
    name : str or None, default None
        The input's name (its ``InputLayer``'s); ``input_layer``, ``input_layer_1``, ... by default.
    dtype : str or None, default None
        The input's dtype, ``deepfin.backend.floatx()`` by default.
    batch_shape : tuple or None, default None
        The whole shape, batch axis first, in place of ``shape``.

    Returns
    -------
    KerasTensor
        The symbolic input, of shape ``(batch_size, *shape)``.

    Raises
    ------
    ValueError
        If neither ``shape`` nor ``batch_shape`` is given, or if a dimension is not a positive integer.

    Examples
    --------
    >>> import deepfin
    >>> from deepfin.layers import Dense
    >>> inputs = deepfin.Input(shape=(4,))
    >>> inputs.shape
    (None, 4)
    >>> model = deepfin.Model(inputs, Dense(1)(inputs))
    >>> model.output_shape
    (None, 1)
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                      name=name).output


class Dense(Layer):
    """The densely connected layer: ``activation(inputs @ kernel + bias)``.

    The ``kernel`` of shape ``(input_dim, units)`` and the ``bias`` of shape ``(units,)`` are made on the first
    call, from the input's last axis. Inputs of shape ``(batch, ..., input_dim)`` give outputs of shape
    ``(batch, ..., units)``.

    Parameters
    ----------
    units : int
        The number of outputs, a positive integer.
    activation : str or callable or None, default None
        Applied to the output, by name (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"softmax"``, ...) or as a
        function of a Tensor; None is the identity.
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
    kernel_constraint : str or callable or None, default None
        Applied to the kernel after each optimizer update.
    bias_constraint : str or callable or None, default None
        Applied to the bias after each optimizer update.
    **kwargs
        ``Layer`` arguments (``name``, ``input_shape``, ``input_dim``, ...).

    Raises
    ------
    ValueError
        If ``units`` is not a positive integer, or (when called) if the input's last axis is not the one the
        layer was built for.

    Notes
    -----
    Keras 3's ``activity_regularizer`` and ``lora_rank`` are not taken. With no activation, ``"linear"``,
    ``"relu"`` or ``"tanh"``, the product, the bias and the activation run as one operation of the engine.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Dense
    >>> layer = Dense(2, kernel_initializer="ones")
    >>> layer(np.array([[1.0, 2.0, 3.0]])).numpy()
    array([[6., 6.]], dtype=float32)
    >>> layer.kernel.shape, layer.bias.shape
    ((3, 2), (2,))
    """

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
        self._fused = name if name in fused.FUSED_DENSE_ACTIVATIONS else False
        self.kernel = self.bias = None

    def build(self, input_shape):
        """Create ``kernel`` (last input dimension, ``units``) and, with ``use_bias``, ``bias`` (``units``,)."""
        build_kernel_and_bias(self, input_shape, self.units)

    def _check_input_shape(self, input_shape):
        check_input_width(self, input_shape)

    def call(self, inputs):
        """Return ``activation(inputs @ kernel + bias)``."""
        if inputs.shape[-1] != self.kernel.shape[-2]:
            raise ValueError(
                f"Input of shape {inputs.shape} is incompatible with layer '{self.name}': "
                f"expected a last axis of size {self.kernel.shape[-2]}, as the layer was built "
                f"for inputs of shape (None, {self.kernel.shape[-2]})."
            )
        if self._fused:
            return fused.dense(inputs, self.kernel, self.bias, self._fused)
        return self.activation(fused.dense(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        """Return the input shape with its last axis replaced by ``units``."""
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        """Return the constructor arguments, initializers, regularizers and constraints serialized."""
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
    """Give ``layer`` a ``kernel`` and, if it ``use_bias``, a ``bias`` (``Dense`` and ``Maxout`` share this).

    The kernel has shape (last input dimension, ``width``) and the bias (``width``,); both are made from the
    layer's initializers, regularizers and constraints.

    Parameters
    ----------
    layer : Layer
        A layer with ``kernel_initializer``, ``kernel_regularizer``, ``kernel_constraint``, ``use_bias`` and
        the same for the bias.
    input_shape : tuple
        The input's shape, batch axis first.
    width : int
        The kernel's number of columns.

    Raises
    ------
    ValueError
        If the input's last dimension is not known.
    """
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
    """Refuse an input whose last axis is not the one ``layer``'s kernel was built for.

    Parameters
    ----------
    layer : Layer
        A built layer with a ``kernel`` of shape (input dimension, width).
    input_shape : tuple
        The input's shape; a last axis of ``None`` passes.

    Raises
    ------
    ValueError
        If the last axis differs from the kernel's first.
    """
    if input_shape[-1] is not None and input_shape[-1] != layer.kernel.shape[-2]:
        raise ValueError(
            f"Input of shape {shape_str(input_shape)} is incompatible with layer '{layer.name}': "
            f"expected a last axis of size {layer.kernel.shape[-2]}, as the layer was built "
            f"for inputs of shape (None, {layer.kernel.shape[-2]})."
        )


class Activation(Layer):
    """Apply an activation function, given by name or as a callable.

    The output has the input's shape.

    Parameters
    ----------
    activation : str or callable or None
        A built-in activation by name (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"softmax"``, ...), a registered
        custom one, or a function of a Tensor; None is the identity.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``activation`` names no known activation.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Activation
    >>> Activation("relu")(np.array([[-1.0, 2.0]])).numpy()
    array([[0., 2.]], dtype=float32)
    """

    _same_shape_out = True
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        """Return ``activation(inputs)``."""
        return self.activation(inputs)

    def get_config(self):
        """Return the layer's config with the activation serialized."""
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Inverted dropout: in training, zero a fraction ``rate`` of units and scale the rest.

    Each unit is dropped with probability ``rate`` and the kept ones are multiplied by ``1 / (1 - rate)``, so
    the expected output equals the input; outside training the layer is the identity. The output has the
    input's shape.

    Parameters
    ----------
    rate : float
        The probability of dropping a unit, in [0, 1).
    noise_shape : tuple or None, default None
        The shape of the mask drawn, one entry per input axis: ``None`` takes the input's size, 1 shares the
        mask along that axis (``(None, 1, None)`` drops the same features at every step of a sequence). By
        default the input's shape.
    seed : int or None, default None
        Seeds the layer's own generator; without it the masks come from the library's (``deepfin.backend.rng()``).
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``rate`` is not a number in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Dropout
    >>> layer = Dropout(0.5, seed=0)
    >>> x = np.ones((1, 6))
    >>> layer(x).numpy()  # inference: the identity
    array([[1., 1., 1., 1., 1., 1.]], dtype=float32)
    >>> np.unique(layer(x, training=True).numpy())  # zeros, and ones scaled by 1 / (1 - 0.5)
    array([0., 2.], dtype=float32)
    """

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
        """The generator the next training call draws its mask from.

        The layer's own (with a ``seed``) or the library's (``deepfin.backend.rng()``).
        """
        return self._rng or backend.rng()

    def call(self, inputs, training=None):
        """Drop units when ``training``; return ``inputs`` unchanged otherwise."""
        if not training or self.rate == 0:
            return inputs
        return functions.dropout(inputs, self.rate, self.generator, self.noise_shape)

    def get_config(self):
        """Return the layer's config with ``rate``, ``seed`` and ``noise_shape``."""
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class Flatten(Layer):
    """Flatten every axis but the batch axis.

    Inputs of shape ``(batch, d1, d2, ...)`` give outputs of shape ``(batch, d1 * d2 * ...)``.

    Parameters
    ----------
    **kwargs
        ``Layer`` arguments.

    Notes
    -----
    Keras 3's ``data_format`` is not taken: the axes are flattened in the order they come.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Flatten
    >>> Flatten()(np.zeros((2, 3, 4))).shape
    (2, 12)
    """

    def call(self, inputs):
        """Return ``inputs`` reshaped to (batch, -1)."""
        return inputs.reshape((inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        """Return (batch, product of the other axes), ``None`` if one of them is unknown."""
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))


class Lambda(Layer):
    """Wrap ``function(inputs, **arguments)`` as a layer; the function may take ``training``.

    Its output shape is found by calling it, or given as ``output_shape``. A Lambda layer cannot be saved:
    loading it would mean running code read from a file; write a ``Layer`` subclass and pass it as
    ``custom_objects`` instead.

    Parameters
    ----------
    function : callable
        Takes the input Tensor (a list of them for several inputs), the ``arguments`` as keywords, and
        ``training`` if its signature names it; returns the output.
    output_shape : tuple or callable or None, default None
        The output shape without the batch axis, or a function from the input shape (batch axis first) to
        the output shape; by default it is found by running the layer.
    mask : None
        Must be None: deepfin's ``Lambda`` makes no masks.
    arguments : dict or None, default None
        Keyword arguments passed to ``function``.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    TypeError
        If ``function`` is not callable.
    ValueError
        If ``mask`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Lambda
    >>> Lambda(lambda x, factor: x * factor, arguments={"factor": 2.0})(np.array([[1.0, 2.0]])).numpy()
    array([[2., 4.]], dtype=float32)
    """

    saveable = False  # its code cannot be saved: deserialize does not build it from a file

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda needs a callable. Received: {function!r}")
        if mask is not None:
            raise ValueError("Lambda(mask=...) needs masks, which deepfin's layers do not carry yet.")
        self.function, self.output_shape_given, self.arguments = function, output_shape, dict(arguments or {})
        self._takes_training = "training" in inspect.signature(function).parameters

    def call(self, inputs, training=None):
        """Return ``function(inputs, **arguments)``, with ``training`` if the function takes it."""
        if self._takes_training:
            return self.function(inputs, training=training, **self.arguments)
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        """Return the ``output_shape`` given (after the input's batch axis), or the shape found by a call."""
        if self.output_shape_given is None:
            return super().compute_output_shape(input_shape)
        if callable(self.output_shape_given):
            return tuple(self.output_shape_given(input_shape))
        return (input_shape[0], *tuple(self.output_shape_given))

    def get_config(self):
        """Refuse: a Lambda layer cannot be saved.

        Raises
        ------
        ValueError
            Always; write the function as a ``Layer`` subclass and load it with ``custom_objects``.
        """
        raise ValueError(f"Lambda layer '{self.name}' cannot be saved: loading it would run code read from the "
                         "file. Write the function as a Layer subclass and load it with custom_objects.")


class Masking(Layer):
    """Mark the steps of (batch, steps, features) inputs whose every feature equals ``mask_value`` as padding.

    Those steps are zeroed, and the layers after it that read masks (recurrent ones,
    ``GlobalAveragePooling1D``, ``MultiHeadAttention``) skip them, as Keras's ``Masking`` does. The output has
    the input's shape.

    Parameters
    ----------
    mask_value : float, default 0.0
        The value that marks a padded step.
    **kwargs
        ``Layer`` arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import LSTM, Masking
    >>> from deepfin.models import Sequential
    >>> x = np.array([[[1.0], [2.0], [0.0]]])  # the last step is padding
    >>> model = Sequential([Masking(0.0, input_shape=(None, 1)), LSTM(2)])
    >>> np.allclose(model.predict(x, verbose=0), model.predict(x[:, :2], verbose=0))
    True
    """

    _same_shape_out = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs, mask=None):
        """Return where any feature of a step differs from ``mask_value``: (batch, steps) booleans."""
        values = inputs.data if hasattr(inputs, "data") else np.asarray(inputs)
        return np.any(values != self.mask_value, axis=-1)

    def call(self, inputs):
        """Return ``inputs`` with the masked steps zeroed."""
        keep = self.compute_mask(inputs)
        return inputs * keep[..., None].astype(inputs.dtype)

    def get_config(self):
        """Return the layer's config with ``mask_value``."""
        return {**super().get_config(), "mask_value": self.mask_value}
