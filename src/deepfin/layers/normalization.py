"""``BatchNormalization`` and ``LayerNormalization`` with Keras 3's defaults and semantics."""

from __future__ import annotations

from deepfin import constraints, initializers, regularizers
from deepfin._text import shape_str
from deepfin.engine import functions, fused
from deepfin.layers.base import Layer


class BatchNormalization(Layer):
    """Normalize each feature (the last axis) to zero mean and unit variance, then scale and shift.

    ``gamma * (x - mean) / sqrt(variance + epsilon) + beta``. Training uses the batch's mean and (biased)
    variance and moves ``moving_mean`` / ``moving_variance`` towards them by ``1 - momentum``; inference uses
    the moving statistics. A frozen layer (``trainable=False``) always runs in inference mode, as in Keras 3.
    The output has the input's shape. The weights, in order: ``gamma`` (with ``scale``), ``beta`` (with
    ``center``), ``moving_mean`` and ``moving_variance``, each of shape (features,).

    Parameters
    ----------
    axis : int, default -1
        The feature axis; only the last is supported.
    momentum : float, default 0.99
        The weight of the old moving statistics at each training step, in [0, 1).
    epsilon : float, default 1e-3
        Added to the variance, positive.
    center : bool, default True
        Whether to add ``beta``.
    scale : bool, default True
        Whether to multiply by ``gamma``.
    beta_initializer : str or callable, default "zeros"
        How ``beta`` is set.
    gamma_initializer : str or callable, default "ones"
        How ``gamma`` is set.
    moving_mean_initializer : str or callable, default "zeros"
        How ``moving_mean`` is set.
    moving_variance_initializer : str or callable, default "ones"
        How ``moving_variance`` is set.
    beta_regularizer : str or callable or None, default None
        A penalty on ``beta``, added to the training loss.
    gamma_regularizer : str or callable or None, default None
        A penalty on ``gamma``.
    beta_constraint, gamma_constraint : str or Constraint or None, default None
        Applied to ``beta`` and ``gamma`` after each optimizer update (``deepfin.constraints``); a model with a
        constraint trains on the eager engine.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``momentum`` is not in [0, 1) or ``epsilon`` is not positive; when built, if ``axis`` is not the last
        axis or the number of features is unknown.

    Notes
    -----
    Keras 3's ``synchronized`` is not taken.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import BatchNormalization
    >>> layer = BatchNormalization()
    >>> layer(np.array([[1.0, 10.0], [3.0, 30.0]]), training=True).numpy().round(3)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> layer.moving_mean.numpy().round(3)  # 0.01 of the way from 0 to the batch's mean
    array([0.02, 0.2 ], dtype=float32)
    """

    _same_shape_out = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1). Received: momentum={momentum}")
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        """Create ``gamma``, ``beta``, ``moving_mean`` and ``moving_variance`` for the last axis's features."""
        if self.axis not in (-1, len(input_shape) - 1):
            raise ValueError(
                f"Layer '{self.name}' normalizes the last axis only. Received axis={self.axis} for inputs of "
                f"shape {shape_str(input_shape)}."
            )
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"Layer '{self.name}' needs a known last input dimension to build.")
        if self.scale:
            self.gamma = self.add_weight((features,), self.gamma_initializer, regularizer=self.gamma_regularizer,
                                         name="gamma", constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight((features,), self.beta_initializer, regularizer=self.beta_regularizer,
                                        name="beta", constraint=self.beta_constraint)
        self.moving_mean = self.add_weight((features,), self.moving_mean_initializer, trainable=False,
                                           name="moving_mean")
        self.moving_variance = self.add_weight((features,), self.moving_variance_initializer, trainable=False,
                                               name="moving_variance")

    def _check_input_shape(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.moving_mean.shape[0]:
            raise ValueError(
                f"Input of shape {shape_str(input_shape)} is incompatible with layer '{self.name}', built for "
                f"{self.moving_mean.shape[0]} features."
            )

    def call(self, inputs, training=None):
        """Normalize by the batch's statistics (updating the moving ones) in training, else by the moving ones."""
        if training and self.trainable:
            out, mean, var = fused.batch_normalization(inputs, self.gamma, self.beta, self.epsilon)
            keep = self.momentum
            self.moving_mean.data *= keep
            self.moving_mean.data += (1.0 - keep) * mean
            self.moving_variance.data *= keep
            self.moving_variance.data += (1.0 - keep) * var
            return out
        inv = 1.0 / (self.moving_variance.data + self.epsilon) ** 0.5
        out = (inputs - self.moving_mean.data) * inv
        if self.gamma is not None:
            out = out * self.gamma
        if self.beta is not None:
            out = out + self.beta
        return out

    def get_config(self):
        """Return the constructor arguments, initializers and regularizers serialized."""
        return {
            **super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class LayerNormalization(Layer):
    """Normalize each sample over ``axis`` to zero mean and unit (biased) variance, then scale and shift.

    ``gamma * (x - mean) / sqrt(variance + epsilon) + beta``, the statistics taken over ``axis`` (the last by
    default) for each sample, Keras 3's formula. With ``rms_scaling``, divide by the square root of the
    variance plus ``epsilon`` and scale by ``gamma``, without centring (as Keras 3 computes it). ``gamma`` and
    ``beta`` have the shape of the normalized axes. The output has the input's shape.

    Parameters
    ----------
    axis : int or list of int, default -1
        The axes each sample is normalized over; not the batch axis.
    epsilon : float, default 1e-3
        Added to the variance, positive.
    center : bool, default True
        Whether to add ``beta`` (not with ``rms_scaling``).
    scale : bool, default True
        Whether to multiply by ``gamma`` (always with ``rms_scaling``).
    rms_scaling : bool, default False
        Whether to skip the centring, as described above.
    beta_initializer : str or callable, default "zeros"
        How ``beta`` is set.
    gamma_initializer : str or callable, default "ones"
        How ``gamma`` is set.
    beta_regularizer : str or callable or None, default None
        A penalty on ``beta``, added to the training loss.
    gamma_regularizer : str or callable or None, default None
        A penalty on ``gamma``.
    beta_constraint, gamma_constraint : str or Constraint or None, default None
        Applied to ``beta`` and ``gamma`` after each optimizer update (``deepfin.constraints``).
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``epsilon`` is not positive; when built, if ``axis`` is the batch axis, out
        of range, or of unknown size.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import LayerNormalization
    >>> LayerNormalization()(np.array([[1.0, 3.0]])).numpy().round(3)
    array([[-1.,  1.]], dtype=float32)
    """

    _same_shape_out = True
    supports_masking = True

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 rms_scaling: bool = False, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon}")
        self.axis = axis
        self.epsilon, self.center, self.scale, self.rms_scaling = float(epsilon), bool(center), bool(scale), \
            bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        """Check ``axis`` against the input and create ``gamma`` and ``beta`` of the normalized axes' shape."""
        ndim = len(input_shape)
        axes = list(self.axis) if isinstance(self.axis, (list, tuple)) else [self.axis]
        if any(not -ndim <= a < ndim for a in axes) or any(a % ndim == 0 for a in axes):
            raise ValueError(f"Layer '{self.name}' cannot normalize axis {self.axis} of inputs of shape "
                             f"{shape_str(input_shape)} (the batch axis is not one).")
        self._axes = sorted(a % ndim for a in axes)
        shape = tuple(input_shape[a] for a in self._axes)
        if None in shape:
            raise ValueError(f"Layer '{self.name}' needs known sizes on the axes it normalizes. Received "
                             f"input_shape={shape_str(input_shape)}.")
        self._broadcast = tuple(input_shape[a] if a in self._axes else 1 for a in range(1, ndim))
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                         name="gamma", constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape, self.beta_initializer, regularizer=self.beta_regularizer, name="beta",
                                        constraint=self.beta_constraint)

    @property
    def normalized_axes(self) -> tuple[int, ...]:
        """The axes each sample is normalized over (non-negative, batch axis 0), once built."""
        return tuple(self._axes)

    @property
    def parameter_shape(self) -> tuple[int, ...]:
        """``gamma`` and ``beta`` shaped to broadcast against a sample (the batch axis left out), once built."""
        return self._broadcast

    def call(self, inputs):
        """Return the normalized, scaled and shifted ``inputs``."""
        axes = tuple(self._axes)
        centred = inputs - inputs.mean(axis=axes, keepdims=True)
        variance = (centred * centred).mean(axis=axes, keepdims=True)
        outputs = (inputs if self.rms_scaling else centred) / functions.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            outputs = outputs * self.gamma.reshape(self._broadcast)
        if self.beta is not None:
            outputs = outputs + self.beta.reshape(self._broadcast)
        return outputs

    def get_config(self):
        """Return the constructor arguments, initializers and regularizers serialized."""
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}
