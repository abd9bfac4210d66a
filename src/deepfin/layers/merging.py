"""Layers that merge several inputs: Concatenate, Add, Subtract, Multiply."""

from __future__ import annotations

from deepfin._text import shape_str
from deepfin.engine import ops
from deepfin.layers.base import Layer


class _Merge(Layer):
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
