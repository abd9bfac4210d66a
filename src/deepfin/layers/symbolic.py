"""Symbolic tensors: what layers return when called on ``Input``, the wiring of functional models."""

from __future__ import annotations

from deepfin._text import shape_str
from deepfin.engine.graph import topological_order


class KerasTensor:
    """A symbolic value: its shape (batch axis first, ``None`` when free), dtype and origin.

    ``_layer`` is the layer that produced it and ``_inputs`` what that layer was called on (a
    KerasTensor, a list of them, or ``None`` for a model input). The outputs of one call of a layer that
    returns several (a recurrent layer's states) share ``_inputs`` and differ by ``index``. Layers make
    KerasTensors when called on ``deepfin.Input``; they are not made directly.

    Parameters
    ----------
    shape : tuple
        The shape, batch axis first.
    dtype : str
        The dtype's name.
    layer : Layer
        The layer whose call produced it.
    inputs : KerasTensor or list of KerasTensor or None
        What the layer was called on; None for a model input.
    name : str or None, default None
        The tensor's name; the layer's by default.
    index : int or None, default None
        Which of the call's outputs, for a layer that returns several.

    Examples
    --------
    >>> import deepfin
    >>> from deepfin.layers import Dense
    >>> x = deepfin.Input(shape=(4,))
    >>> y = Dense(2)(x)
    >>> y.shape, y.ndim
    ((None, 2), 2)
    >>> y.parents == [x]
    True
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
        """The number of axes, the batch axis included."""
        return len(self.shape)

    @property
    def layer(self):
        """The layer whose call produced this tensor (an ``InputLayer`` for a model input)."""
        return self._layer

    @property
    def called_on(self):
        """What the layer was called on, as given: a KerasTensor, a list of them, or ``None`` for a model input."""
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
    """Return every KerasTensor that ``outputs`` depend on, inputs before what is computed from them.

    Parameters
    ----------
    outputs : list of KerasTensor
        The tensors to trace back from.

    Returns
    -------
    list of KerasTensor
        ``outputs`` and their ancestors, each once, in topological order.
    """
    return topological_order(outputs, lambda kt: kt.parents)


def is_symbolic(inputs) -> bool:
    """Tell whether ``inputs`` holds a KerasTensor: a call that builds a functional model rather than computes.

    Parameters
    ----------
    inputs : object
        A value, or a list or tuple of them.

    Returns
    -------
    bool
        True if ``inputs`` is a KerasTensor or a list or tuple holding one.
    """
    if isinstance(inputs, (list, tuple)):
        return any(isinstance(i, KerasTensor) for i in inputs)
    return isinstance(inputs, KerasTensor)
