"""Symbolic tensors: what layers return when called on ``Input``, the wiring of functional models."""

from __future__ import annotations

from deepfin._text import shape_str
from deepfin.engine.graph import topological_order


class KerasTensor:
    """A symbolic value: its shape (batch axis first, ``None`` when free), dtype and origin.

    ``_layer`` is the layer that produced it and ``_inputs`` what that layer was called on (a
    KerasTensor, a list of them, or ``None`` for a model input). The outputs of one call of a layer that
    returns several (a recurrent layer's states) share ``_inputs`` and differ by ``index``.
    """

    def __init__(self, shape: tuple, dtype: str, layer, inputs, name: str | None = None, index: int | None = None):
        self.shape, self.dtype = tuple(shape), dtype
        self._layer, self._inputs = layer, inputs
        self.name = name or layer.name
        self.index = index  # which of the call's outputs, for a layer that returns several (else None)
        # the call's keyword options that a model passes again when it runs the layer (MultiHeadAttention's
        # use_causal_mask and return_attention_scores), saved with the model
        self.call_arguments: dict = {}

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def layer(self):
        """The layer whose call produced this tensor (an ``InputLayer`` for a model input)."""
        return self._layer

    @property
    def called_on(self):
        """What the layer was called on, as it was given: a KerasTensor, a list of them, or ``None`` for a model
        input."""
        return self._inputs

    @property
    def parents(self) -> list[KerasTensor]:
        """The symbolic tensors the layer was called on, in order (empty for a model input)."""
        if self._inputs is None:
            return []
        return list(self._inputs) if isinstance(self._inputs, list) else [self._inputs]

    def __repr__(self) -> str:
        return f"<KerasTensor shape={shape_str(self.shape)}, dtype={self.dtype}, name={self.name}>"


def trace(outputs: list[KerasTensor]) -> list[KerasTensor]:
    """Every KerasTensor that ``outputs`` depend on, inputs before what is computed from them."""
    return topological_order(outputs, lambda kt: kt.parents)


def is_symbolic(inputs) -> bool:
    """Whether ``inputs`` (a value, or a list or tuple of them) holds a KerasTensor: a call that builds a
    functional model rather than computes."""
    if isinstance(inputs, (list, tuple)):
        return any(isinstance(i, KerasTensor) for i in inputs)
    return isinstance(inputs, KerasTensor)
