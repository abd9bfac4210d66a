"""Sequential: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from deepfin._text import shape_str
from deepfin.layers.base import Layer
from deepfin.layers.core import InputLayer, KerasTensor
from deepfin.models.model import Model


class Sequential(Model):
    """``Sequential([Dense(3, input_dim=2), Activation('tanh'), ...])`` or built with ``add``.

    The input shape comes from an ``Input``, from the first layer's ``input_shape`` /
    ``input_dim``, or from the first data the model sees; layers are built as soon as it is known.
    """

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None):
        super().__init__(trainable=trainable, name=name)
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def add(self, layer) -> None:
        """Append a layer (or an ``Input``, which must come first)."""
        if isinstance(layer, KerasTensor):
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("An Input can only be the first thing added to a Sequential model.")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Only Layer instances can be added to a Sequential model. Received: {layer!r} "
                f"of type {type(layer).__name__}."
            )
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model."
            )
        if not self._layers and self._input_layer is None and layer._batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer._batch_input_shape,
                                           name=f"{layer.name}_input")
        self._layers.append(layer)
        self.built = False
        if self._input_layer is not None:
            self.build(self._input_layer.batch_shape)

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove the last layer and return it; the model is rebuilt when its input shape is known."""
        if not self._layers:
            raise IndexError("There are no layers in the model to pop.")
        layer = self._layers.pop()
        self.built = False
        if rebuild and self._layers and self._input_layer is not None:
            self.build(self._input_layer.batch_shape)
        return layer

    @property
    def input_shape(self) -> tuple | None:
        return None if self._input_layer is None else self._input_layer.batch_shape

    def _expected_input_shapes(self) -> list:
        return [self.input_shape]

    def _input_names(self) -> list[str]:
        return [self._input_layer.name if self._input_layer is not None else "input"]

    def _output_names(self) -> list[str]:
        return [self._layers[-1].name if self._layers else self.name]

    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis first)."""
        if input_shape is None:
            raise ValueError("Sequential.build needs an input shape, e.g. build((None, 2)).")
        if isinstance(input_shape, list):
            raise ValueError(f"A Sequential model has one input. Received {len(input_shape)} input shapes.")
        input_shape = tuple(input_shape)
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=input_shape, name=f"{self.name}_input")
        shape = input_shape
        for layer in self._layers:
            layer._maybe_build(shape)
            shape = layer.compute_output_shape(shape)
        self._trace_symbolic()
        self.built = True

    def _trace_symbolic(self) -> None:
        """Give the model ``inputs`` / ``outputs`` and each layer its ``output``, as Keras does, so that
        ``Model(model.inputs, model.get_layer(name).output)`` extracts a hidden layer."""
        x = self._input_layer.output
        for layer in self._layers:
            x = layer.output if layer.output is not None and layer.output.parents == [x] else layer(x)
        self.inputs, self.outputs = [self._input_layer.output], [x]

    def compute_output_shape(self, input_shape) -> tuple:
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def output_shape(self) -> tuple:
        if self._input_layer is None:
            raise ValueError(f"Model '{self.name}' has no input shape yet, so no output shape.")
        return self.compute_output_shape(self._input_layer.batch_shape)

    def layer_chain(self) -> list[Layer] | None:
        """The layers, unless a subclass runs them its own way (overrides ``call``)."""
        return self.layers if type(self).call is Sequential.call else None

    def call(self, inputs, training=None):
        x, mask = inputs, None
        for layer in self._layers:
            if mask is None:
                out = layer(x, training=training)
                mask = layer.compute_mask(x) if layer.makes_masks else None
            else:
                out = layer(x, training=training, mask=mask)
                mask = layer.compute_mask(x, mask)
            x = out
        return x

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [{"class_name": type(l).__name__, "config": l.get_config()} for l in self._layers],
            "build_input_shape": None if self.input_shape is None else list(self.input_shape),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        from deepfin.layers import deserialize

        model = cls([deserialize(spec, custom_objects) for spec in config["layers"]],
                    trainable=config.get("trainable", True), name=config.get("name"))
        if config.get("build_input_shape") is not None and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model

    def __repr__(self) -> str:
        shape = "unknown" if self.input_shape is None else shape_str(self.input_shape)
        return f"<Sequential name={self.name}, layers={len(self._layers)}, input_shape={shape}>"
