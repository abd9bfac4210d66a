"""BatchNormalization and LayerNormalization with Keras 3's defaults and semantics."""

from __future__ import annotations

from deepfin import initializers, regularizers
from deepfin._text import shape_str
from deepfin.engine import ops
from deepfin.layers.base import Layer


class BatchNormalization(Layer):
    """Normalize each feature (the last axis) to zero mean and unit variance, then scale and shift.

    Training uses the batch's mean and (biased) variance and moves ``moving_mean`` /
    ``moving_variance`` towards them by ``1 - momentum``; inference uses the moving statistics.
    A frozen layer (``trainable=False``) always runs in inference mode, as in Keras 3.
    """

    _same_shape_out = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, **kwargs):
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
        self.gamma = self.beta = None

    def build(self, input_shape):
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
                                         name="gamma")
        if self.center:
            self.beta = self.add_weight((features,), self.beta_initializer, regularizer=self.beta_regularizer,
                                        name="beta")
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
        if training and self.trainable:
            out, mean, var = ops.batch_normalization(inputs, self.gamma, self.beta, self.epsilon)
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
        return {
            **super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
        }


class LayerNormalization(Layer):
    """Normalize each sample over ``axis`` (the last by default; an int or a list of ints) to zero mean and unit
    (biased) variance, then scale by ``gamma`` and shift by ``beta``, Keras 3's formula. With ``rms_scaling``,
    divide by the square root of the variance plus ``epsilon`` and scale by ``gamma``, without centring (as
    Keras 3 computes it)."""

    _same_shape_out = True
    supports_masking = True

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 rms_scaling: bool = False, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        if beta_constraint is not None or gamma_constraint is not None:
            raise ValueError("LayerNormalization does not support constraints in deepfin.")
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon}")
        self.axis = axis
        self.epsilon, self.center, self.scale, self.rms_scaling = float(epsilon), bool(center), bool(scale), \
            bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = None

    def build(self, input_shape):
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
                                         name="gamma")
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape, self.beta_initializer, regularizer=self.beta_regularizer, name="beta")

    @property
    def normalized_axes(self) -> tuple[int, ...]:
        """The axes each sample is normalized over (non-negative, batch axis 0), once built."""
        return tuple(self._axes)

    @property
    def parameter_shape(self) -> tuple[int, ...]:
        """``gamma`` and ``beta`` shaped to broadcast against a sample (the batch axis left out), once built."""
        return self._broadcast

    def call(self, inputs):
        axes = tuple(self._axes)
        centred = inputs - inputs.mean(axis=axes, keepdims=True)
        variance = (centred * centred).mean(axis=axes, keepdims=True)
        outputs = (inputs if self.rms_scaling else centred) / ops.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            outputs = outputs * self.gamma.reshape(self._broadcast)
        if self.beta is not None:
            outputs = outputs + self.beta.reshape(self._broadcast)
        return outputs

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}
