"""Noise layers with Keras 3's formulas, active in training only.

``GaussianNoise``, ``GaussianDropout`` and ``AlphaDropout``. Each draws from its own generator when given a
``seed``, else from the library's. Outside training each is the identity; the output has the input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from deepfin import backend
from deepfin.layers.base import Layer


class _Noise(Layer):
    _same_shape_out = True
    supports_masking = True

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    @property
    def generator(self) -> np.random.Generator:
        """The generator the next training call draws from: the layer's own (with a ``seed``) or the library's."""
        return self._rng or backend.rng()

    def get_config(self):
        """Return the layer's config with ``seed``."""
        return {**super().get_config(), "seed": self.seed}


def _rate(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"rate must be a number in [0, 1). Received: rate={value!r}")
    return float(value)


class GaussianNoise(_Noise):
    """Add normal noise of standard deviation ``stddev`` in training (a regularizer for real-valued inputs).

    The output has the input's shape.

    Parameters
    ----------
    stddev : float
        The noise's standard deviation, not negative.
    seed : int or None, default None
        Seeds the layer's own generator; without it the noise comes from the library's.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``stddev`` is not a non-negative number.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import GaussianNoise
    >>> layer = GaussianNoise(0.1, seed=0)
    >>> x = np.ones((2, 3))
    >>> layer(x).numpy()  # inference: the identity
    array([[1., 1., 1.],
           [1., 1., 1.]], dtype=float32)
    >>> bool((layer(x, training=True).numpy() != 1).all())
    True
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"stddev must be a non-negative number. Received: stddev={stddev!r}")
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        """Return ``inputs`` plus noise when ``training``, unchanged otherwise."""
        if not training or self.stddev == 0:
            return inputs
        return inputs + self.generator.normal(0.0, self.stddev, inputs.shape).astype(inputs.dtype)

    def get_config(self):
        """Return the layer's config with ``stddev``."""
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(_Noise):
    """Multiply by normal noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))`` in training.

    The output has the input's shape.

    Parameters
    ----------
    rate : float
        The dropout rate the noise stands for, in [0, 1).
    seed : int or None, default None
        Seeds the layer's own generator; without it the noise comes from the library's.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``rate`` is not a number in [0, 1).
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.rate = _rate(rate)

    def call(self, inputs, training=None):
        """Return ``inputs`` times the noise when ``training``, unchanged otherwise."""
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * self.generator.normal(1.0, stddev, inputs.shape).astype(inputs.dtype)

    def get_config(self):
        """Return the layer's config with ``rate``."""
        return {**super().get_config(), "rate": self.rate}


class AlphaDropout(_Noise):
    """Dropout that keeps a SELU network's mean and variance (Klambauer et al., 2017).

    In training, dropped units are set to SELU's negative saturation, then every unit is moved by the affine
    map that restores the mean and variance. The output has the input's shape.

    Parameters
    ----------
    rate : float
        The probability of dropping a unit, in [0, 1).
    noise_shape : tuple or None, default None
        The shape of the mask drawn, one entry per input axis: ``None`` takes the input's size, 1 shares the
        mask along that axis. By default the input's shape.
    seed : int or None, default None
        Seeds the layer's own generator; without it the mask comes from the library's.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``rate`` is not a number in [0, 1).
    """

    _ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.rate = _rate(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, inputs, training=None):
        """Return ``inputs`` with units dropped and the affine map applied when ``training``."""
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            size if wanted is None else wanted for size, wanted in zip(inputs.shape, self.noise_shape))
        kept = (self.generator.random(shape) >= self.rate).astype(inputs.dtype)
        alpha_p, rate = self._ALPHA_P, self.rate
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        return (inputs * kept + alpha_p * (1 - kept)) * a + b

    def get_config(self):
        """Return the layer's config with ``rate`` and ``noise_shape``."""
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}
