"""Maxout: each output unit is the largest of several affine functions of the input."""

from __future__ import annotations

import numpy as np

from deepfin import constraints, initializers, regularizers
from deepfin.engine import functions, fused
from deepfin.layers.base import Layer
from deepfin.layers.core import build_kernel_and_bias, check_input_width


def _check_positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a positive integer. Received: {name}={value!r}"
        )
    return int(value)


class Maxout(Layer):
    """The maxout layer: ``output[..., j] = max over p of (inputs @ W[:, j, p] + b[j, p])``.

    Each of the ``units`` outputs is the largest of ``pieces`` affine functions of the input: a
    learned convex, piecewise-linear activation (Goodfellow et al., 2013). The weights are stored as a
    ``Dense(units * pieces)`` would store them (and are initialized the same way): ``kernel`` of shape
    ``(input_dim, units * pieces)`` and ``bias`` of shape ``(units * pieces,)``, where column
    ``j * pieces + p`` is piece ``p`` of unit ``j``; ``kernel.reshape(input_dim, units, pieces)``
    gives ``W`` above. Of pieces that tie for the maximum, the first gets its gradient. Inputs of shape
    ``(batch, ..., input_dim)`` give outputs of shape ``(batch, ..., units)``.

    Keras 1's ``MaxoutDense`` (see below) stored ``W`` as ``(pieces, input_dim, units)`` and ``b``
    as ``(pieces, units)``; ``W.transpose(1, 2, 0).reshape(input_dim, -1)`` and
    ``b.T.reshape(-1)`` convert them. Keras 3 has no maxout layer.

    Parameters
    ----------
    units : int
        The number of outputs, a positive integer.
    pieces : int, default 2
        The number of affine functions per output, a positive integer.
    kernel_initializer : str or callable, default "glorot_uniform"
        How the kernel is drawn.
    bias_initializer : str or callable, default "zeros"
        How the bias is set.
    kernel_regularizer : str or callable or None, default None
        A penalty on the kernel, added to the training loss.
    bias_regularizer : str or callable or None, default None
        A penalty on the bias.
    use_bias : bool, default True
        Whether to add a bias.
    kernel_constraint : str or callable or None, default None
        Applied to the kernel after each optimizer update.
    bias_constraint : str or callable or None, default None
        Applied to the bias after each optimizer update.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``units`` or ``pieces`` is not a positive integer.

    See Also
    --------
    MaxoutDense : Keras 1's spelling.

    Examples
    --------
    One unit of two pieces, ``x`` and ``-x``, is the absolute value:

    >>> import numpy as np
    >>> from deepfin.layers import Maxout
    >>> layer = Maxout(1, pieces=2)
    >>> layer.build((None, 1))
    >>> layer.set_weights([np.array([[1.0, -1.0]]), np.zeros(2)])
    >>> layer(np.array([[2.0], [-3.0]])).numpy()
    array([[2.],
           [3.]], dtype=float32)
    """

    def __init__(self, units: int, pieces: int = 2, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 use_bias: bool = True, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _check_positive("units", units)
        self.pieces = _check_positive("pieces", pieces)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def build(self, input_shape):
        """Create ``kernel`` (input_dim, units * pieces) and, with ``use_bias``, ``bias`` (units * pieces,)."""
        build_kernel_and_bias(self, input_shape, self.units * self.pieces)

    def _check_input_shape(self, input_shape):
        check_input_width(self, input_shape)

    def call(self, inputs):
        """Return the largest piece of each unit."""
        self._check_input_shape(inputs.shape)
        return functions.maxout(fused.dense(inputs, self.kernel, self.bias), self.pieces)

    def compute_output_shape(self, input_shape):
        """Return the input shape with its last axis replaced by ``units``."""
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        """Return the constructor arguments, initializers, regularizers and constraints serialized."""
        return {
            **super().get_config(),
            "units": self.units,
            "pieces": self.pieces,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


def MaxoutDense(output_dim: int, nb_feature: int = 4, init="glorot_uniform", W_regularizer=None,
                b_regularizer=None, bias: bool = True, **kwargs) -> Maxout:
    """Build a :class:`Maxout` from Keras 1's ``MaxoutDense`` arguments.

    ``MaxoutDense(output_dim, nb_feature=4, init=..., W_regularizer=..., b_regularizer=..., bias=True,
    input_dim=...)`` builds a ``Maxout`` (and saves as one). Keras 1's default of 4 pieces is kept.

    Parameters
    ----------
    output_dim : int
        The number of outputs (``Maxout``'s ``units``).
    nb_feature : int, default 4
        The number of pieces per output.
    init : str or callable, default "glorot_uniform"
        The kernel's initializer.
    W_regularizer : str or callable or None, default None
        A penalty on the kernel.
    b_regularizer : str or callable or None, default None
        A penalty on the bias.
    bias : bool, default True
        Whether to add a bias.
    **kwargs
        Other ``Maxout`` and ``Layer`` arguments (``input_dim``, ``name``, ...).

    Returns
    -------
    Maxout
        The layer.

    Examples
    --------
    >>> from deepfin.layers import MaxoutDense
    >>> layer = MaxoutDense(3, input_dim=5)
    >>> type(layer).__name__, layer.units, layer.pieces
    ('Maxout', 3, 4)
    """
    return Maxout(output_dim, pieces=nb_feature, kernel_initializer=init,
                  kernel_regularizer=W_regularizer, bias_regularizer=b_regularizer, use_bias=bias,
                  **kwargs)
