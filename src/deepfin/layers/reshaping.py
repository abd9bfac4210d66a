"""Shape layers with Keras 3's names and arguments: ``Reshape``, ``Permute``, ``RepeatVector``.

``Flatten`` is in ``deepfin.layers.core``.
"""

from __future__ import annotations

import math

import numpy as np

from deepfin.engine import functions
from deepfin.layers.base import Layer


class Reshape(Layer):
    """Reshape each sample to ``target_shape``, the batch axis kept.

    Inputs (batch, ...) give outputs (batch, *target_shape), the -1 entry (if any) found from the sample's
    size.

    Parameters
    ----------
    target_shape : tuple of int or int
        The shape of a sample, the batch axis left out: positive integers, at most one of them -1.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``target_shape`` holds anything else; when built or called, if a sample's size does not fit it.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Reshape
    >>> Reshape((3, -1))(np.zeros((2, 12))).shape
    (2, 3, 4)
    """

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
        """Return ``inputs`` reshaped to (batch, *target_shape)."""
        return inputs.reshape((inputs.shape[0], *self._resolved(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        """Return (batch, *target_shape), the -1 entry found (``None`` when the sample's size is unknown)."""
        return (input_shape[0], *self._resolved(tuple(input_shape[1:])))

    def get_config(self):
        """Return the layer's config with ``target_shape``."""
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Put the sample axes in the order ``dims``, the batch axis staying first.

    The axes are numbered from 1: ``Permute((2, 1))`` swaps steps and features, (batch, steps, features) to
    (batch, features, steps).

    Parameters
    ----------
    dims : tuple of int
        A permutation of 1, ..., the number of sample axes.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``dims`` is not such a permutation; when called, if the inputs have another number of axes.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Permute
    >>> Permute((2, 1))(np.zeros((2, 5, 3))).shape
    (2, 3, 5)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"dims must be a permutation of 1..{len(dims)}. Received: dims={dims!r}")
        self.dims = dims

    def call(self, inputs):
        """Return ``inputs`` with the sample axes permuted."""
        if inputs.ndim != len(self.dims) + 1:
            raise ValueError(f"Layer '{self.name}' permutes {len(self.dims)} sample axes; received inputs of shape "
                             f"{inputs.shape}.")
        return inputs.transpose(0, *self.dims)

    def compute_output_shape(self, input_shape):
        """Return the input shape with the sample axes in the order ``dims``."""
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        """Return the layer's config with ``dims``."""
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Repeat each sample (a vector of features) ``n`` times: (batch, features) to (batch, n, features).

    Parameters
    ----------
    n : int
        The number of repetitions, a positive integer.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer; when called, if the inputs are not (batch, features).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import RepeatVector
    >>> RepeatVector(3)(np.array([[1.0, 2.0]])).numpy()
    array([[[1., 2.],
            [1., 2.],
            [1., 2.]]], dtype=float32)
    """

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"n must be a positive integer. Received: n={n!r}")
        self.n = int(n)

    def call(self, inputs):
        """Return ``inputs`` repeated along a new axis 1."""
        if inputs.ndim != 2:
            raise ValueError(f"Layer '{self.name}' takes inputs of shape (batch, features); received {inputs.shape}.")
        return functions.broadcast_to(inputs.reshape((inputs.shape[0], 1, inputs.shape[1])),
                                (inputs.shape[0], self.n, inputs.shape[1]))

    def compute_output_shape(self, input_shape):
        """Return (batch, n, features)."""
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        """Return the layer's config with ``n``."""
        return {**super().get_config(), "n": self.n}
