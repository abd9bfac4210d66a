"""The Model base: a Layer made of layers, with the training API of ``Trainer``."""

from __future__ import annotations

from deepfin.engine.variable import Variable
from deepfin.layers.base import Layer
from deepfin.models.trainer import Trainer


class Model(Trainer, Layer):
    """Base of ``Sequential``: weights are gathered from ``self.layers``, each counted once."""

    @property
    def layers(self) -> list[Layer]:
        raise NotImplementedError

    def _expected_input_shape(self) -> tuple | None:
        """The batch input shape data must fit, when the model knows it."""
        return None

    def _unique(self, attribute: str) -> list[Variable]:
        seen, result = set(), []
        for layer in self.layers:
            for w in getattr(layer, attribute):
                if id(w) not in seen:
                    seen.add(id(w))
                    result.append(w)
        return result

    @property
    def weights(self) -> list[Variable]:
        return self._unique("weights")

    @property
    def trainable_weights(self) -> list[Variable]:
        return self._unique("trainable_weights") if self.trainable else []

    trainable_variables = trainable_weights
    variables = weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in getattr(self, "_layers", []):
            layer.trainable = value

    @property
    def losses(self):
        return [p for layer in self.layers for p in layer.losses]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or position, as Keras."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Model has {len(self.layers)} layers. Received: index={index}")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers: {[l.name for l in self.layers]}.")
