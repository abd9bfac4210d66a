"""Layers that merge several inputs: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot.

Masks pass through as Keras 3 passes them: an elementwise merge keeps a step where any input keeps it (no mask
when an input has none); ``Concatenate`` joins the inputs' masks along its axis, an unmasked input's steps all
kept.
"""

from __future__ import annotations

import numpy as np

from deepfin._text import shape_str
from deepfin.engine import ops
from deepfin.layers.base import Layer


def _values(x) -> np.ndarray:
    return np.asarray(x.data if hasattr(x, "data") else x)


class _Merge(Layer):
    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """Where any input's mask keeps a step; None unless every input has a mask."""
        if mask is None or any(m is None for m in mask):
            return None
        return np.logical_or.reduce([np.asarray(m, bool) for m in mask])
    def _check_inputs(self, input_shape) -> None:
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) merges a list of at least 2 inputs.")

    def build(self, input_shape):
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
        return tuple(input_shape[0])


class Add(_Merge):
    """Elementwise sum of the inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """``inputs[0] - inputs[1]``."""

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"Layer '{self.name}' (Subtract) takes exactly 2 inputs.")

    def call(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of the inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Elementwise mean of the inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out * (1.0 / len(inputs))


class Maximum(_Merge):
    """Elementwise largest of the inputs (at a tie each gets part of the gradient, as in PyTorch)."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise smallest of the inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.minimum(out, x)
        return out


class Dot(_Merge):
    """Dot products of two inputs, sample by sample, along ``axes`` (one axis for both or one each, counted with
    the batch axis; Keras's ``batch_dot``): ``(batch, d) . (batch, d)`` gives ``(batch, 1)``, ``(batch, n, d) .
    (batch, m, d)`` with ``axes=2`` gives ``(batch, n, m)``. ``normalize=True`` divides each input by its L2
    norm along its axis first, so the products are cosine similarities. Inputs of rank 2 or 3."""

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        given = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        if len(given) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in given):
            raise ValueError(f"Dot takes axes as an integer or a pair of integers. Received: axes={axes!r}")
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = bool(normalize)

    def contracted_axes(self, ranks) -> tuple[int, int]:
        """The axis of each input the products run along, counted from the batch axis, for inputs of ``ranks``."""
        given = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return tuple(a % rank for a, rank in zip(given, ranks))

    def build(self, input_shape):
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
        first, second = self.contracted_axes([len(shape) for shape in input_shape])
        kept = [d for i, d in enumerate(input_shape[0]) if i != first] + \
            [d for i, d in enumerate(input_shape[1]) if i not in (0, second)]
        return tuple(kept) if len(kept) > 1 else (kept[0], 1)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalized(x, axis: int):
    """``x / max(||x||, 1e-6)`` along ``axis`` (Keras's ``normalize``: ``x * rsqrt(max(sum(x**2), 1e-12))``)."""
    return x * (1.0 / ops.sqrt(ops.maximum((x * x).sum(axis=axis, keepdims=True), 1e-12)))


class Concatenate(_Merge):
    """Join the inputs along ``axis`` (the last by default)."""

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
        return ops.concatenate(inputs, self.axis)

    def compute_mask(self, inputs, mask=None):
        """The inputs' masks joined along ``axis`` (an unmasked input counts as all kept), then reduced over the
        last axis: a concatenation of features keeps a step where any input keeps it, one of steps joins the
        steps' masks."""
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
        out = list(input_shape[0])
        sizes = [s[self.axis] for s in input_shape]
        out[self.axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis: int = -1, **kwargs):
    """Functional form of ``Concatenate``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Functional form of ``Add``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of ``Subtract``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes=-1, normalize: bool = False, **kwargs):
    """Functional form of ``Dot``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
