"""Maxout: each output unit is the largest of several affine functions of the input."""

from __future__ import annotations

import numpy as np

from deepfin import constraints, initializers, regularizers
from deepfin.engine import ops
from deepfin.layers.base import Layer
from deepfin.layers.core import build_kernel_and_bias, check_input_width


def _check_positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a positive integer. Received: {name}={value!r}"
        )
    return int(value)


class Maxout(Layer):
    """``output[..., j] = max over p of (inputs @ W[:, j, p] + b[j, p])`` (Goodfellow et al., 2013).

    Each of the ``units`` outputs is the largest of ``pieces`` affine functions of the input: a
    learned convex, piecewise-linear activation. The weights are stored as a ``Dense(units *
    pieces)`` would store them (and are initialized the same way): ``kernel`` of shape
    ``(input_dim, units * pieces)`` and ``bias`` of shape ``(units * pieces,)``, where column
    ``j * pieces + p`` is piece ``p`` of unit ``j``; ``kernel.reshape(input_dim, units, pieces)``
    gives ``W`` above. Of pieces that tie for the maximum, the first gets its gradient.

    Keras 1's ``MaxoutDense`` (see below) stored ``W`` as ``(pieces, input_dim, units)`` and ``b``
    as ``(pieces, units)``; ``W.transpose(1, 2, 0).reshape(input_dim, -1)`` and
    ``b.T.reshape(-1)`` convert them.
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
        build_kernel_and_bias(self, input_shape, self.units * self.pieces)

    def _check_input_shape(self, input_shape):
        check_input_width(self, input_shape)

    def call(self, inputs):
        self._check_input_shape(inputs.shape)
        return ops.maxout(ops.dense(inputs, self.kernel, self.bias), self.pieces)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
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
    """Keras 1's spelling of :class:`Maxout`: ``MaxoutDense(output_dim, nb_feature=4, init=...,
    W_regularizer=..., b_regularizer=..., bias=True, input_dim=...)``; it builds a ``Maxout``
    (and saves as one). Keras 1's default of 4 pieces is kept."""
    return Maxout(output_dim, pieces=nb_feature, kernel_initializer=init,
                  kernel_regularizer=W_regularizer, bias_regularizer=b_regularizer, use_bias=bias,
                  **kwargs)
