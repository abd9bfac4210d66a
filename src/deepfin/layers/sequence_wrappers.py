"""Layers that wrap another over time, with Keras 3's names, arguments and weights: ``Bidirectional`` (a
recurrent layer run forward and backward) and ``TimeDistributed`` (a layer applied to every step)."""

from __future__ import annotations

from deepfin.engine import ops
from deepfin.layers.base import Layer
from deepfin.layers.recurrent import _Recurrent

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """``layer`` over the sequence forward and a twin over it backward (``go_backwards`` flipped), their outputs
    merged by ``merge_mode``: 'concat' (the default), 'sum', 'mul', 'ave', or None (both, as a list). With
    ``return_sequences`` the backward outputs are put back in time order first. Weights: the forward layer's,
    then the backward one's; with ``return_state`` the outputs are followed by the forward then the backward
    states."""

    _wraps_layers = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, _Recurrent):
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
        elif not isinstance(backward_layer, _Recurrent) or backward_layer.go_backwards == layer.go_backwards:
            raise ValueError("backward_layer must be a recurrent layer with go_backwards opposite to layer's.")
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state

    def build(self, input_shape):
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(input_shape)

    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def call(self, inputs, training=None, mask=None):
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
        merged = {"concat": lambda: ops.concatenate([forward, backward], axis=-1), "sum": lambda: forward + backward,
                  "mul": lambda: forward * backward, "ave": lambda: (forward + backward) * 0.5}[self.merge_mode]()
        return [merged, *states] if self.return_state else merged

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        output, states = (shape[0], shape[1:]) if self.return_state else (shape, [])
        if self.merge_mode == "concat":
            output = (*output[:-1], 2 * output[-1])
        elif self.merge_mode is None:
            return [output, output, *states, *states]
        return [output, *states, *states] if self.return_state else output

    def get_config(self):
        from deepfin.layers import serialize

        return {**super().get_config(), "layer": serialize(self.forward_layer), "merge_mode": self.merge_mode,
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        from deepfin.layers import deserialize

        config = dict(config)
        layer, backward = deserialize(config.pop("layer")), deserialize(config.pop("backward_layer"))
        layer.name = layer.name.removeprefix("forward_")
        return cls(layer, backward_layer=backward, **config)


class TimeDistributed(Layer):
    """``layer`` applied to every step of (batch, steps, ...) inputs, with the same weights at every step."""

    _wraps_layers = True

    def __init__(self, layer: Layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed wraps a layer. Received: {layer!r}")
        self.layer = layer

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed takes inputs of at least 3 axes (batch, steps, ...). Received "
                             f"input_shape={tuple(input_shape)}.")
        if not self.layer.built:
            self.layer.build((None, *input_shape[2:]))

    def call(self, inputs, training=None):
        batch, steps = inputs.shape[:2]
        flat = inputs.reshape((batch * steps, *inputs.shape[2:]))
        out = self.layer(flat, training=training)
        return out.reshape((batch, steps, *out.shape[1:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], *inner[1:])

    def get_config(self):
        from deepfin.layers import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        from deepfin.layers import deserialize

        config = dict(config)
        return cls(deserialize(config.pop("layer")), **config)
