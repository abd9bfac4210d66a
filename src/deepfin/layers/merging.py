"""Layers that merge several inputs, with Keras 3's names, and their functional forms.

``Concatenate``, ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum`` and ``Dot``; the
functions ``concatenate``, ``add``, ... make one and call it on a list of inputs.

Masks pass through as Keras 3 passes them: an elementwise merge keeps a step where any input keeps it (no mask
when an input has none); ``Concatenate`` joins the inputs' masks along its axis, an unmasked input's steps all
kept.
"""

from __future__ import annotations

import numpy as np

from deepfin._text import shape_str
from deepfin.engine import functions
from deepfin.layers.base import Layer


def _values(x) -> np.ndarray:
    return np.asarray(x.data if hasattr(x, "data") else x)


class _Merge(Layer):
    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """Return where any input's mask keeps a step; None unless every input has a mask."""
        if mask is None or any(m is None for m in mask):
            return None
        return np.logical_or.reduce([np.asarray(m, bool) for m in mask])
    def _check_inputs(self, input_shape) -> None:
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) merges a list of at least 2 inputs.")

    def build(self, input_shape):
        """Check that the inputs are a list of at least two, of one shape; there are no weights."""
        self._check_inputs(input_shape)
        self._check_input_shape(input_shape)

    def _check_input_shape(self, input_shape):
        first = input_shape[0]
        for shape in input_shape[1:]:
            if tuple(shape[1:]) != tuple(first[1:]):
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}) needs inputs of one shape. Received "
                    f"{', '.join(shape_str(s) for s in input_shape)}."
                )

    def compute_output_shape(self, input_shape):
        """Return the first input's shape."""
        return tuple(input_shape[0])


class Add(_Merge):
    """Elementwise sum of the inputs.

    Takes a list of at least two inputs of one shape and returns an output of that shape.

    Parameters
    ----------
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If the inputs are not a list of at least two, or their shapes differ (Keras also broadcasts axes of
        length 1; deepfin does not).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Add
    >>> Add()([np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])]).numpy()
    array([[4., 7.]], dtype=float32)
    """

    def call(self, inputs):
        """Return the sum of ``inputs``."""
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """Elementwise difference of two inputs: ``inputs[0] - inputs[1]``.

    Takes a list of exactly two inputs of one shape and returns an output of that shape.

    Parameters
    ----------
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If the inputs are not a list of exactly two, or their shapes differ (Keras also broadcasts axes of
        length 1; deepfin does not).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Subtract
    >>> Subtract()([np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])]).numpy()
    array([[-2., -3.]], dtype=float32)
    """

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"Layer '{self.name}' (Subtract) takes exactly 2 inputs.")

    def call(self, inputs):
        """Return ``inputs[0] - inputs[1]``."""
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of the inputs.

    Takes a list of at least two inputs of one shape and returns an output of that shape.

    Parameters
    ----------
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If the inputs are not a list of at least two, or their shapes differ (Keras also broadcasts axes of
        length 1; deepfin does not).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Multiply
    >>> Multiply()([np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])]).numpy()
    array([[ 3., 10.]], dtype=float32)
    """

    def call(self, inputs):
        """Return the product of ``inputs``."""
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Elementwise mean of the inputs.

    Takes a list of at least two inputs of one shape and returns an output of that shape.

    Parameters
    ----------
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If the inputs are not a list of at least two, or their shapes differ (Keras also broadcasts axes of
        length 1; deepfin does not).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Average
    >>> Average()([np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])]).numpy()
    array([[2. , 3.5]], dtype=float32)
    """

    def call(self, inputs):
        """Return the mean of ``inputs``."""
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out * (1.0 / len(inputs))


class Maximum(_Merge):
    """Elementwise largest of the inputs.

    Takes a list of at least two inputs of one shape and returns an output of that shape. At a tie each input
    gets part of the gradient, as in PyTorch.

    Parameters
    ----------
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If the inputs are not a list of at least two, or their shapes differ (Keras also broadcasts axes of
        length 1; deepfin does not).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Maximum
    >>> Maximum()([np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])]).numpy()
    array([[3., 5.]], dtype=float32)
    """

    def call(self, inputs):
        """Return the elementwise maximum of ``inputs``."""
        out = inputs[0]
        for x in inputs[1:]:
            out = functions.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise smallest of the inputs.

    Takes a list of at least two inputs of one shape and returns an output of that shape.

    Parameters
    ----------
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If the inputs are not a list of at least two, or their shapes differ (Keras also broadcasts axes of
        length 1; deepfin does not).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Minimum
    >>> Minimum()([np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])]).numpy()
    array([[1., 2.]], dtype=float32)
    """

    def call(self, inputs):
        """Return the elementwise minimum of ``inputs``."""
        out = inputs[0]
        for x in inputs[1:]:
            out = functions.minimum(out, x)
        return out


class Dot(_Merge):
    """Dot products of two inputs, sample by sample, along ``axes`` (Keras's ``batch_dot``).

    ``(batch, d) . (batch, d)`` gives ``(batch, 1)``; ``(batch, n, d) . (batch, m, d)`` with ``axes=2`` gives
    ``(batch, n, m)``. The inputs have rank 2 or 3; the output keeps the first input's axes but the one
    contracted, then the second's but the batch and the one contracted (``(batch, 1)`` when nothing else is
    left). ``normalize=True`` divides each input by its L2 norm along its axis first, so the products are cosine
    similarities. Masks are not passed on.

    Parameters
    ----------
    axes : int or tuple of two int
        The axis the products run along: one for both inputs or one each, counted with the batch axis (0);
        negative axes count from the end.
    normalize : bool, default False
        Whether to take the products of L2-normalized inputs.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``axes`` is not an integer or a pair of them; when built, if there are not exactly two inputs, an
        input's rank is not 2 or 3, an axis is the batch axis, or the two axes differ in length.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Dot
    >>> Dot(axes=1)([np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])]).numpy()
    array([[13.]], dtype=float32)
    >>> Dot(axes=2)([np.zeros((2, 4, 3)), np.zeros((2, 5, 3))]).shape
    (2, 4, 5)
    """

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        given = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        if len(given) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in given):
            raise ValueError(f"Dot takes axes as an integer or a pair of integers. Received: axes={axes!r}")
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = bool(normalize)

    def contracted_axes(self, ranks) -> tuple[int, int]:
        """Return the axis of each input the products run along, counted from the batch axis.

        Parameters
        ----------
        ranks : sequence of int
            The two inputs' ranks (batch axis included).

        Returns
        -------
        tuple of int
            The two axes, non-negative.
        """
        given = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return tuple(a % rank for a, rank in zip(given, ranks))

    def build(self, input_shape):
        """Check the inputs and record their ranks (``input_ranks``, for an exporter)."""
        super().build(input_shape)
        self.input_ranks = tuple(len(shape) for shape in input_shape)  # what an exporter needs to know

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"Layer '{self.name}' (Dot) takes exactly 2 inputs.")

    def _check_input_shape(self, input_shape):
        if any(len(shape) not in (2, 3) for shape in input_shape):
            raise ValueError(f"Layer '{self.name}' (Dot) takes inputs of rank 2 or 3. Received "
                             f"{', '.join(shape_str(s) for s in input_shape)}.")
        first, second = self.contracted_axes([len(shape) for shape in input_shape])
        if 0 in (first, second):
            raise ValueError(f"Layer '{self.name}' (Dot) cannot take products along the batch axis: axes="
                             f"{self.axes!r}.")
        a, b = input_shape[0][first], input_shape[1][second]
        if a is not None and b is not None and a != b:
            raise ValueError(f"Layer '{self.name}' (Dot) needs axes of one length: axis {first} of "
                             f"{shape_str(input_shape[0])} and axis {second} of {shape_str(input_shape[1])}.")

    def call(self, inputs):
        """Return the products, as one batched matrix product."""
        x, y = inputs
        first, second = self.contracted_axes([x.ndim, y.ndim])
        if self.normalize:
            x, y = _l2_normalized(x, first), _l2_normalized(y, second)
        # x to (batch, rows, d), y to (batch, d, columns): one batched product
        x = (x.transpose(0, 2, 1) if first == 1 else x) if x.ndim == 3 else x.reshape(-1, 1, x.shape[1])
        y = (y.transpose(0, 2, 1) if second == 2 else y) if y.ndim == 3 else y.reshape(-1, y.shape[1], 1)
        out = x @ y
        return out.reshape(-1, *self.compute_output_shape([tuple(inputs[0].shape), tuple(inputs[1].shape)])[1:])

    def compute_output_shape(self, input_shape):
        """Return the axes left of both inputs, ``(batch, 1)`` when only the batch axis is left."""
        first, second = self.contracted_axes([len(shape) for shape in input_shape])
        kept = [d for i, d in enumerate(input_shape[0]) if i != first] + \
            [d for i, d in enumerate(input_shape[1]) if i not in (0, second)]
        return tuple(kept) if len(kept) > 1 else (kept[0], 1)

    def compute_mask(self, inputs, mask=None):
        """Return None: the products have no steps to mask."""
        return None

    def get_config(self):
        """Return the layer's config with ``axes`` and ``normalize``."""
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalized(x, axis: int):
    """``x / max(||x||, 1e-6)`` along ``axis`` (Keras's ``normalize``: ``x * rsqrt(max(sum(x**2), 1e-12))``)."""
    return x * (1.0 / functions.sqrt(functions.maximum((x * x).sum(axis=axis, keepdims=True), 1e-12)))


class Concatenate(_Merge):
    """Join the inputs along ``axis`` (the last by default).

    The inputs have one rank and match on every axis but ``axis``; the output's ``axis`` is the sum of theirs.

    Parameters
    ----------
    axis : int, default -1
        The axis to join along.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If the inputs are not a list of at least two, their ranks differ, or they differ on another axis.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Concatenate
    >>> Concatenate()([np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])]).numpy()
    array([[1., 2., 3., 5.]], dtype=float32)
    >>> Concatenate(axis=1)([np.zeros((2, 3, 4)), np.zeros((2, 5, 4))]).shape
    (2, 8, 4)
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check_input_shape(self, input_shape):
        first = list(input_shape[0])
        for shape in input_shape[1:]:
            a, b = list(first), list(shape)
            if len(a) != len(b):
                raise ValueError(f"Layer '{self.name}' (Concatenate) needs inputs of one rank.")
            del a[self.axis], b[self.axis]
            if a[1:] != b[1:]:
                raise ValueError(
                    f"Layer '{self.name}' (Concatenate) needs inputs that match except on axis {self.axis}. "
                    f"Received {', '.join(shape_str(s) for s in input_shape)}."
                )

    def call(self, inputs):
        """Return ``inputs`` joined along ``axis``."""
        return functions.concatenate(inputs, self.axis)

    def compute_mask(self, inputs, mask=None):
        """Return the inputs' masks joined along ``axis``, then reduced over the last axis.

        An unmasked input counts as all kept. A concatenation of features keeps a step where any input keeps
        it; one of steps joins the steps' masks. None when no input has a mask.
        """
        if mask is None or all(m is None for m in mask):
            return None
        joined = []
        for x, m in zip(inputs, mask):
            shape = _values(x).shape
            joined.append(np.ones(shape, bool) if m is None else
                          np.broadcast_to(np.asarray(m, bool)[..., None], shape) if np.ndim(m) < len(shape) else
                          np.asarray(m, bool))
        return np.any(np.concatenate(joined, axis=self.axis), axis=-1)

    def compute_output_shape(self, input_shape):
        """Return the first input's shape with ``axis`` the sum of the inputs' (``None`` if one is unknown)."""
        out = list(input_shape[0])
        sizes = [s[self.axis] for s in input_shape]
        out[self.axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def get_config(self):
        """Return the layer's config with ``axis``."""
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis: int = -1, **kwargs):
    """Apply a new ``Concatenate`` layer to ``inputs``, the functional form of ``Concatenate``.

    Parameters
    ----------
    inputs : list of Tensor or np.ndarray or KerasTensor
        The inputs to merge.
    axis : int, default -1
        The axis to join along.
    **kwargs
        ``Layer`` arguments of the new layer (``name``, ...).

    Returns
    -------
    Tensor or KerasTensor
        The merged output, symbolic for symbolic inputs.

    Examples
    --------
    >>> import deepfin
    >>> from deepfin.layers import concatenate
    >>> concatenate([deepfin.Input((2,)), deepfin.Input((3,))]).shape
    (None, 5)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Apply a new ``Add`` layer to ``inputs``, the functional form of ``Add``.

    Parameters
    ----------
    inputs : list of Tensor or np.ndarray or KerasTensor
        The inputs to merge.
    **kwargs
        ``Layer`` arguments of the new layer (``name``, ...).

    Returns
    -------
    Tensor or KerasTensor
        The merged output, symbolic for symbolic inputs.

    Examples
    --------
    >>> import deepfin
    >>> from deepfin.layers import add
    >>> add([deepfin.Input((2,)), deepfin.Input((2,))]).shape
    (None, 2)
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Apply a new ``Subtract`` layer to ``inputs``, the functional form of ``Subtract``.

    Parameters
    ----------
    inputs : list of Tensor or np.ndarray or KerasTensor
        The inputs to merge.
    **kwargs
        ``Layer`` arguments of the new layer (``name``, ...).

    Returns
    -------
    Tensor or KerasTensor
        The merged output, symbolic for symbolic inputs.
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Apply a new ``Multiply`` layer to ``inputs``, the functional form of ``Multiply``.

    Parameters
    ----------
    inputs : list of Tensor or np.ndarray or KerasTensor
        The inputs to merge.
    **kwargs
        ``Layer`` arguments of the new layer (``name``, ...).

    Returns
    -------
    Tensor or KerasTensor
        The merged output, symbolic for symbolic inputs.
    """
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Apply a new ``Average`` layer to ``inputs``, the functional form of ``Average``.

    Parameters
    ----------
    inputs : list of Tensor or np.ndarray or KerasTensor
        The inputs to merge.
    **kwargs
        ``Layer`` arguments of the new layer (``name``, ...).

    Returns
    -------
    Tensor or KerasTensor
        The merged output, symbolic for symbolic inputs.
    """
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Apply a new ``Maximum`` layer to ``inputs``, the functional form of ``Maximum``.

    Parameters
    ----------
    inputs : list of Tensor or np.ndarray or KerasTensor
        The inputs to merge.
    **kwargs
        ``Layer`` arguments of the new layer (``name``, ...).

    Returns
    -------
    Tensor or KerasTensor
        The merged output, symbolic for symbolic inputs.
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Apply a new ``Minimum`` layer to ``inputs``, the functional form of ``Minimum``.

    Parameters
    ----------
    inputs : list of Tensor or np.ndarray or KerasTensor
        The inputs to merge.
    **kwargs
        ``Layer`` arguments of the new layer (``name``, ...).

    Returns
    -------
    Tensor or KerasTensor
        The merged output, symbolic for symbolic inputs.
    """
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes=-1, normalize: bool = False, **kwargs):
    """Apply a new ``Dot`` layer to ``inputs``, the functional form of ``Dot``.

    Parameters
    ----------
    inputs : list of Tensor or np.ndarray or KerasTensor
        The inputs to merge.
    axes : int or tuple of two int, default -1
        The axis the products run along, one for both inputs or one each (batch axis 0).
    normalize : bool, default False
        Whether to take the products of L2-normalized inputs (cosine similarities).
    **kwargs
        ``Layer`` arguments of the new layer (``name``, ...).

    Returns
    -------
    Tensor or KerasTensor
        The merged output, symbolic for symbolic inputs.
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
