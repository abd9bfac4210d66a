"""Activations as layers, with their parameters and Keras 3's names: ``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax``.

Each returns an output of its input's shape.
"""

from __future__ import annotations

from deepfin.engine import functions
from deepfin.layers.base import Layer


class ReLU(Layer):
    """The rectified linear unit with Keras's options; with the defaults, ``max(x, 0)``.

    With threshold ``t``, ``max_value`` ``m`` and ``negative_slope`` ``a``: ``f(x) = min(x, m)`` for ``x > t``
    and ``a * (x - t)`` otherwise. The output has the input's shape.

    Parameters
    ----------
    max_value : float or None, default None
        The largest output (no limit for None); not negative.
    negative_slope : float, default 0.0
        The slope below the threshold; not negative.
    threshold : float, default 0.0
        Where the unit starts to pass its input on.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``max_value`` or ``negative_slope`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import ReLU
    >>> ReLU(max_value=6.0)(np.array([[-1.0, 3.0, 8.0]])).numpy()
    array([[0., 3., 6.]], dtype=float32)
    >>> ReLU(negative_slope=0.5)(np.array([[-2.0, 3.0]])).numpy()
    array([[-1.,  3.]], dtype=float32)
    """

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
        """Return the rectified ``inputs``."""
        if self.max_value is None and self.negative_slope == 0 and self.threshold == 0:
            return functions.relu(inputs)
        shifted = inputs - self.threshold
        out = functions.relu(shifted) + self.threshold * (inputs > self.threshold).data
        if self.negative_slope:
            out = out - functions.relu(-shifted) * self.negative_slope
        if self.max_value is not None:
            out = functions.clip(out, None, self.max_value)
        return out

    def get_config(self):
        """Return the layer's config with ``max_value``, ``negative_slope`` and ``threshold``."""
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """The leaky rectified linear unit: ``x`` for x > 0, ``negative_slope * x`` otherwise.

    The output has the input's shape.

    Parameters
    ----------
    negative_slope : float, default 0.3
        The slope for x <= 0 (Keras 3's default).
    **kwargs
        ``Layer`` arguments; ``alpha``, Keras 2's name of ``negative_slope``, is taken in its place.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import LeakyReLU
    >>> LeakyReLU(negative_slope=0.5)(np.array([[-2.0, 3.0]])).numpy()
    array([[-1.,  3.]], dtype=float32)
    """

    _same_shape_out = True

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        """Return ``inputs`` where positive, ``negative_slope * inputs`` elsewhere."""
        return functions.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        """Return the layer's config with ``negative_slope``."""
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """The exponential linear unit: ``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    The output has the input's shape.

    Parameters
    ----------
    alpha : float, default 1.0
        The scale of the negative part (its limit is ``-alpha``).
    **kwargs
        ``Layer`` arguments.
    """

    _same_shape_out = True

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        """Return the ELU of ``inputs``."""
        return functions.elu(inputs, self.alpha)

    def get_config(self):
        """Return the layer's config with ``alpha``."""
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax over ``axis``: ``exp(x) / sum(exp(x))``, so that the outputs along it are positive and sum to 1.

    The output has the input's shape.

    Parameters
    ----------
    axis : int, default -1
        The axis normalized.
    **kwargs
        ``Layer`` arguments.

    Notes
    -----
    Keras's ``Softmax`` takes a ``mask`` in its call; deepfin's applies none.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Softmax
    >>> Softmax()(np.array([[0.0, 0.0]])).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """

    _same_shape_out = True

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        """Return the softmax of ``inputs`` over ``axis``."""
        return functions.softmax(inputs, self.axis)

    def get_config(self):
        """Return the layer's config with ``axis``."""
        return {**super().get_config(), "axis": self.axis}
