"""Shape layers with Keras 3's names and arguments: ``Reshape``, ``Permute``, ``RepeatVector`` (``Flatten`` is
in ``deepfin.layers.core``)."""

from __future__ import annotations

import math

import numpy as np

from deepfin.engine import ops
from deepfin.layers.base import Layer


class Reshape(Layer):
    """Each sample to ``target_shape`` (the batch axis left out; one entry may be -1, found from the others)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target = tuple(target_shape) if isinstance(target_shape, (list, tuple)) else (target_shape,)
        if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d == 0 or d < -1 for d in target) \
                or sum(d == -1 for d in target) > 1:
            raise ValueError(f"target_shape must hold positive integers and at most one -1. Received: "
                             f"target_shape={target_shape!r}")
        self.target_shape = tuple(int(d) for d in target)

    def _resolved(self, sample_shape) -> tuple:
        size = math.prod(sample_shape) if None not in sample_shape else None
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 not in self.target_shape:
            if size is not None and size != known:
                raise ValueError(f"Layer '{self.name}' cannot reshape samples of shape {tuple(sample_shape)} "
                                 f"({size} values) to {self.target_shape} ({known}).")
            return self.target_shape
        if size is None:
            return tuple(None if d == -1 else d for d in self.target_shape)
        if size % known:
            raise ValueError(f"Layer '{self.name}' cannot reshape samples of shape {tuple(sample_shape)} to "
                             f"{self.target_shape}: {size} values are not a multiple of {known}.")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0], *self._resolved(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._resolved(tuple(input_shape[1:])))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """The sample axes in the order ``dims`` (numbered from 1, the batch axis staying first): ``Permute((2, 1))``
    swaps steps and features."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"dims must be a permutation of 1..{len(dims)}. Received: dims={dims!r}")
        self.dims = dims

    def call(self, inputs):
        if inputs.ndim != len(self.dims) + 1:
            raise ValueError(f"Layer '{self.name}' permutes {len(self.dims)} sample axes; received inputs of shape "
                             f"{inputs.shape}.")
        return inputs.transpose(0, *self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Each sample (features) repeated ``n`` times: (batch, features) to (batch, n, features)."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"n must be a positive integer. Received: n={n!r}")
        self.n = int(n)

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(f"Layer '{self.name}' takes inputs of shape (batch, features); received {inputs.shape}.")
        return ops.broadcast_to(inputs.reshape((inputs.shape[0], 1, inputs.shape[1])),
                                (inputs.shape[0], self.n, inputs.shape[1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
