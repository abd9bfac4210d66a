"""Layers that wrap another over time, with Keras 3's names, arguments and weights.

``Bidirectional`` (a recurrent layer run forward and backward) and ``TimeDistributed`` (a layer applied to
every step).
"""

from __future__ import annotations

from deepfin.engine import functions
from deepfin.layers.base import Layer
from deepfin.layers.recurrent import GRU, LSTM, SimpleRNN

_RECURRENT = (SimpleRNN, LSTM, GRU)  # the layers Bidirectional runs both ways

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Run a recurrent layer over the sequence forward and a twin of it backward, and merge their outputs.

    The twin is ``layer`` with ``go_backwards`` flipped; the outputs are merged by ``merge_mode``: 'concat' (the
    default), 'sum', 'mul', 'ave', or None (both, as a list). With ``return_sequences`` the backward outputs
    are put back in time order first. Weights: the forward layer's, then the backward one's; with
    ``return_state`` the outputs are followed by the forward then the backward states. The output has the
    wrapped layer's shape, its last axis doubled with 'concat'.

    Parameters
    ----------
    layer : SimpleRNN or LSTM or GRU
        The recurrent layer; the wrapper builds its forward copy (``forward_<name>``) from its config, and takes
        ``return_sequences`` and ``return_state`` from it.
    merge_mode : {"concat", "sum", "mul", "ave", None}, default "concat"
        How the two outputs are combined.
    weights : None
        Not supported: call ``set_weights`` once the layer is built.
    backward_layer : SimpleRNN or LSTM or GRU or None, default None
        The backward layer, with ``go_backwards`` opposite to ``layer``'s; by default a copy of ``layer``
        (``backward_<name>``).
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``layer`` is not a recurrent layer, ``merge_mode`` is another, ``weights`` is given, or
        ``backward_layer`` is not a recurrent layer running the other way.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import LSTM, Bidirectional
    >>> x = np.zeros((2, 5, 3))
    >>> Bidirectional(LSTM(4, return_sequences=True))(x).shape
    (2, 5, 8)
    >>> Bidirectional(LSTM(4), merge_mode="sum")(x).shape
    (2, 4)
    """

    _wraps_layers = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, _RECURRENT):
            raise ValueError(f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU). Received: {layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {_MERGE_MODES}. Received: merge_mode={merge_mode!r}")
        if weights is not None:
            raise ValueError("Bidirectional(weights=...) is not supported; call set_weights once it is built.")
        config = layer.get_config()
        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{layer.name}"})
        if backward_layer is None:
            backward_layer = type(layer).from_config({**config, "name": f"backward_{layer.name}",
                                                      "go_backwards": not layer.go_backwards})
        elif not isinstance(backward_layer, _RECURRENT) or backward_layer.go_backwards == layer.go_backwards:
            raise ValueError("backward_layer must be a recurrent layer with go_backwards opposite to layer's.")
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state

    def build(self, input_shape):
        """Build the forward and the backward layer."""
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(input_shape)

    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """Return the input's mask for a sequence of outputs (``return_sequences``), else none."""
        return mask if self.return_sequences else None

    def call(self, inputs, training=None, mask=None):
        """Run both layers and merge their outputs (then the states, with ``return_state``)."""
        forward = self.forward_layer(inputs, training=training, mask=mask)
        backward = self.backward_layer(inputs, training=training, mask=mask)
        states = []
        if self.return_state:
            forward, *forward_states = forward
            backward, *backward_states = backward
            states = [*forward_states, *backward_states]
        if self.return_sequences:
            backward = backward[:, ::-1]
        if self.merge_mode is None:
            return [forward, backward, *states]
        merged = {"concat": lambda: functions.concatenate([forward, backward], axis=-1),
                  "sum": lambda: forward + backward, "mul": lambda: forward * backward,
                  "ave": lambda: (forward + backward) * 0.5}[self.merge_mode]()
        return [merged, *states] if self.return_state else merged

    def compute_output_shape(self, input_shape):
        """Return the merged output's shape (and the states' shapes with ``return_state``)."""
        shape = self.forward_layer.compute_output_shape(input_shape)
        output, states = (shape[0], shape[1:]) if self.return_state else (shape, [])
        if self.merge_mode == "concat":
            output = (*output[:-1], 2 * output[-1])
        elif self.merge_mode is None:
            return [output, output, *states, *states]
        return [output, *states, *states] if self.return_state else output

    def get_config(self):
        """Return the layer's config with the forward and backward layers serialized and ``merge_mode``."""
        from deepfin.layers import serialize

        return {**super().get_config(), "layer": serialize(self.forward_layer), "merge_mode": self.merge_mode,
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        """Rebuild the wrapper and both layers from ``get_config()``."""
        from deepfin.layers import deserialize

        config = dict(config)
        layer, backward = deserialize(config.pop("layer")), deserialize(config.pop("backward_layer"))
        layer.name = layer.name.removeprefix("forward_")
        return cls(layer, backward_layer=backward, **config)


class TimeDistributed(Layer):
    """Apply ``layer`` to every step of (batch, steps, ...) inputs, with the same weights at every step.

    The steps are folded into the batch axis, so (batch, steps, ...) inputs give (batch, steps, ...) outputs,
    the trailing axes the wrapped layer's output's.

    Parameters
    ----------
    layer : Layer
        The layer applied at each step; built for inputs of one step, (batch, ...).
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``layer`` is not a layer; when built, if the inputs have fewer than 3 axes.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Dense, TimeDistributed
    >>> TimeDistributed(Dense(2))(np.zeros((4, 5, 3))).shape
    (4, 5, 2)
    """

    _wraps_layers = True

    def __init__(self, layer: Layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed wraps a layer. Received: {layer!r}")
        self.layer = layer

    def build(self, input_shape):
        """Build the wrapped layer for inputs of one step."""
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed takes inputs of at least 3 axes (batch, steps, ...). Received "
                             f"input_shape={tuple(input_shape)}.")
        if not self.layer.built:
            self.layer.build((None, *input_shape[2:]))

    def call(self, inputs, training=None):
        """Return the wrapped layer's outputs at every step."""
        batch, steps = inputs.shape[:2]
        flat = inputs.reshape((batch * steps, *inputs.shape[2:]))
        out = self.layer(flat, training=training)
        return out.reshape((batch, steps, *out.shape[1:]))

    def compute_output_shape(self, input_shape):
        """Return (batch, steps) followed by the wrapped layer's output shape for one step."""
        inner = self.layer.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], *inner[1:])

    def get_config(self):
        """Return the layer's config with the wrapped layer serialized."""
        from deepfin.layers import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        """Rebuild the wrapper and the wrapped layer from ``get_config()``."""
        from deepfin.layers import deserialize

        config = dict(config)
        return cls(deserialize(config.pop("layer")), **config)
