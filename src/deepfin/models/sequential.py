"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from deepfin._text import shape_str
from deepfin.layers.base import Layer
from deepfin.layers.core import InputLayer, KerasTensor
from deepfin.models.model import Model


class Sequential(Model):
    """A plain stack of layers, each feeding the next: ``Sequential([Dense(3, input_dim=2), ...])``.

    The layers are given as a list or added one by one with ``add``. The input shape comes from an
    ``Input``, from the first layer's ``input_shape`` / ``input_dim``, or from the first data the model sees;
    the layers are built as soon as it is known. Masks made by a layer (``Masking``, ``Embedding(mask_zero=
    True)``) are passed on to the layers after it.

    Parameters
    ----------
    layers : list of Layer or None, default None
        The layers, in order; an ``Input`` may come first.
    trainable : bool, default True
        Whether the optimizer updates the model's weights.
    name : str or None, default None
        The model's name; ``sequential``, ``sequential_1``, ... by default.

    Raises
    ------
    TypeError
        If an item is not a layer.
    ValueError
        If two layers have one name, or an ``Input`` is not first.

    Examples
    --------
    >>> import numpy as np
    >>> import deepfin
    >>> from deepfin.layers import Activation, Dense
    >>> model = deepfin.Sequential([Dense(3, input_dim=2), Activation("tanh"), Dense(1)])
    >>> model.output_shape
    (None, 1)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(np.zeros((8, 2)), np.zeros(8), epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
    """

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None):
        super().__init__(trainable=trainable, name=name)
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        """The layers in order (the input layer left out)."""
        return list(self._layers)

    def add(self, layer) -> None:
        """Append a layer (or an ``Input``, which must come first); build the model if its input shape is known.

        Parameters
        ----------
        layer : Layer or KerasTensor
            The layer, or an ``Input`` (its ``InputLayer`` gives the model's input shape).

        Raises
        ------
        TypeError
            If ``layer`` is not a layer.
        ValueError
            If a layer of the model already has its name, or an ``Input`` comes after a layer.
        """
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
        if not self._layers and self._input_layer is None and layer.batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer.batch_input_shape,
                                           name=f"{layer.name}_input")
        self._layers.append(layer)
        self.built = False
        if self._input_layer is not None:
            self.build(self._input_layer.batch_shape)

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove the last layer and return it; the model is rebuilt when its input shape is known.

        Parameters
        ----------
        rebuild : bool, default True
            Whether to rebuild the model (its symbolic outputs) after the removal.

        Returns
        -------
        Layer
            The layer removed.

        Raises
        ------
        IndexError
            If the model has no layers.
        """
        if not self._layers:
            raise IndexError("There are no layers in the model to pop.")
        layer = self._layers.pop()
        self.built = False
        if rebuild and self._layers and self._input_layer is not None:
            self.build(self._input_layer.batch_shape)
        return layer

    @property
    def input_shape(self) -> tuple | None:
        """The model's input shape, batch axis first, or None while it is not known."""
        return None if self._input_layer is None else self._input_layer.batch_shape

    def _expected_input_shapes(self) -> list:
        return [self.input_shape]

    def _input_names(self) -> list[str]:
        return [self._input_layer.name if self._input_layer is not None else "input"]

    def _output_names(self) -> list[str]:
        return [self._layers[-1].name if self._layers else self.name]

    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis first).

        The model also gets ``inputs`` and ``outputs`` and each layer its symbolic ``output``, as in Keras, so
        that ``Model(model.inputs, model.get_layer(name).output)`` extracts a hidden layer.

        Parameters
        ----------
        input_shape : tuple
            The input's shape, batch axis first.

        Raises
        ------
        ValueError
            If no shape is given, or a list of shapes (a Sequential model has one input).
        """
        if input_shape is None:
            raise ValueError("Sequential.build needs an input shape, e.g. build((None, 2)).")
        if isinstance(input_shape, list):
            raise ValueError(f"A Sequential model has one input. Received {len(input_shape)} input shapes.")
        input_shape = tuple(input_shape)
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=input_shape, name=f"{self.name}_input")
        shape = input_shape
        for layer in self._layers:
            layer.ensure_built(shape)
            shape = layer.compute_output_shape(shape)
        self._trace_symbolic()
        self.built = True

    def _trace_symbolic(self) -> None:
        """Give the model ``inputs`` / ``outputs`` and each layer its ``output``, as Keras does.

        Then ``Model(model.inputs, model.get_layer(name).output)`` extracts a hidden layer.
        """
        x = self._input_layer.output
        for layer in self._layers:
            x = layer.output if layer.output is not None and layer.output.parents == [x] else layer(x)
        self.inputs, self.outputs = [self._input_layer.output], [x]

    def compute_output_shape(self, input_shape) -> tuple:
        """Return the last layer's output shape for inputs of ``input_shape``, layer by layer."""
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def output_shape(self) -> tuple:
        """The model's output shape, batch axis first.

        Raises
        ------
        ValueError
            If the model has no input shape yet.
        """
        if self._input_layer is None:
            raise ValueError(f"Model '{self.name}' has no input shape yet, so no output shape.")
        return self.compute_output_shape(self._input_layer.batch_shape)

    def layer_chain(self) -> list[Layer] | None:
        """Return the layers, unless a subclass runs them its own way (overrides ``call``).

        Returns
        -------
        list of Layer or None
            The layers in order, or None for a subclass that overrides ``call``.
        """
        return self.layers if type(self).call is Sequential.call else None

    def call(self, inputs, training=None):
        """Run the layers in order, passing on the masks that layers make."""
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
        """Return ``name``, ``trainable``, the layers serialized and ``build_input_shape``."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [{"class_name": type(l).__name__, "config": l.get_config()} for l in self._layers],
            "build_input_shape": None if self.input_shape is None else list(self.input_shape),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        """Rebuild the model (fresh weights) from ``get_config()``, built when the config has its input shape.

        Parameters
        ----------
        config : dict
            What ``get_config()`` returned.
        custom_objects : dict or None, default None
            Custom layer classes by name.

        Returns
        -------
        Sequential
            The new model.
        """
        from deepfin.layers import deserialize

        model = cls([deserialize(spec, custom_objects) for spec in config["layers"]],
                    trainable=config.get("trainable", True), name=config.get("name"))
        if config.get("build_input_shape") is not None and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model

    def __repr__(self) -> str:
        shape = "unknown" if self.input_shape is None else shape_str(self.input_shape)
        return f"<Sequential name={self.name}, layers={len(self._layers)}, input_shape={shape}>"
