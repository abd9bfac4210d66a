"""The Model base: a Layer made of layers, with the training API of ``Trainer``.

``Model(inputs, outputs)`` builds a functional model (see ``functional.py``); subclassing
``Model`` and writing ``call`` builds a model from the layers kept as its attributes.
"""

from __future__ import annotations

import numpy as np

from deepfin.engine.tensor import Tensor, no_grad
from deepfin.engine.variable import Variable
from deepfin.layers.base import Layer, tracked_layers, unique_variables
from deepfin.models.trainer import Trainer


class Model(Trainer, Layer):
    """Base of every model; weights are gathered from ``self.layers``, each counted once."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from deepfin.models.functional import Functional

            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype=None):
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype)

    # ------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """The layers kept as attributes (or in lists of attributes), in assignment order."""
        return tracked_layers(self)

    def _expected_input_shapes(self) -> list:
        """Per model input, the batch input shape data must fit, or ``None`` when not known."""
        return [None]

    def _input_names(self) -> list[str]:
        return ["input"]

    def _output_names(self) -> list[str]:
        return [self.name]

    def _call_arrays(self, xs: list[np.ndarray], training: bool) -> list[Tensor]:
        """Run the model on its inputs (one array per model input, cast here to the model's dtype: a batch of
        a memory-mapped array arrives in the file's); one Tensor per output."""
        inputs = [Tensor(x, dtype=self.dtype) for x in xs]
        out = self(inputs[0] if len(inputs) == 1 else inputs, training=training)
        if isinstance(out, dict):
            return list(out.values())
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def layer_chain(self) -> list[Layer] | None:
        """The layers in the order each feeds the next, when the model is nothing but that chain (its
        ``call`` runs them one after another); None otherwise. The compiled kernels run such chains."""
        return None

    def _pack_outputs(self, outputs: list):
        """Per-output results as ``predict`` returns them: one array, or a list (a dict for named outputs)."""
        return outputs[0] if len(outputs) == 1 else outputs

    def build(self, input_shape=None) -> None:
        """Create the weights of a subclassed model by running it once on zeros."""
        if input_shape is None:
            raise ValueError(f"{type(self).__name__}.build needs an input shape, e.g. build((None, 2)).")
        with no_grad():
            self.call(_zeros(input_shape, self.dtype))
        self.built = True

    def compute_output_shape(self, input_shape):
        with no_grad():
            out = self(_zeros(input_shape, self.dtype))
        if isinstance(out, (list, tuple)):
            return [(None,) + o.shape[1:] for o in out]
        return (None,) + out.shape[1:]

    # ------------------------------------------------------------ weights
    def _unique(self, attribute: str) -> list[Variable]:
        return unique_variables(getattr(layer, attribute) for layer in self.layers)

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
        if "_trainable" in vars(self):  # not while Layer.__init__ runs
            for layer in self.layers:
                layer.trainable = value

    @property
    def losses(self):
        """What ``add_loss`` recorded in the model's own latest call, then each layer's losses."""
        return [*self._call_losses, *(p for layer in self.layers for p in layer.losses)]

    def summary(self, line_length: int | None = None, positions=None, print_fn=None, **kwargs) -> None:
        """Print a table of the layers, their output shapes and parameter counts (Keras 2's layout).

        ``print_fn`` receives each line (``print`` by default); ``expand_nested``,
        ``show_trainable`` and ``layer_range`` are accepted for compatibility.
        """
        from deepfin.models.summary import summary_lines

        for line in summary_lines(self, line_length, positions):
            (print_fn or print)(line)

    # ------------------------------------------------------------ saving
    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True, **kwargs) -> None:
        """Save architecture, weights, compile arguments and optimizer state to one file."""
        from deepfin.saving import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        """A model from ``get_config()``: ``Model.from_config`` rebuilds a functional model's graph."""
        if cls is Model and "nodes" in config:
            from deepfin.models.functional import Functional

            return Functional.from_config(config, custom_objects)
        return cls(**config)

    def export(self, filepath, format: str = "tf_saved_model", verbose=None, input_signature=None, **kwargs) -> None:
        """Write the model for inference outside Python, as Keras 3's ``export``: ``format="onnx"`` (the one
        format deepfin writes; needs ``pip install deepfin[onnx]``) gives one ONNX file with a free batch axis,
        dropout as the identity and batch normalization in inference form; ``opset_version=`` picks the opset."""
        from deepfin.export import export_model

        export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON, for ``deepfin.models.model_from_json``."""
        from deepfin.saving import model_to_json

        return model_to_json(self, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, **kwargs) -> None:
        from deepfin.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False, by_name: bool = False, **kwargs) -> None:
        from deepfin.saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

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


def _zeros(input_shape, dtype):
    if isinstance(input_shape, list):
        return [_zeros(s, dtype) for s in input_shape]
    return Tensor(np.zeros((1,) + tuple(1 if d is None else d for d in input_shape[1:]), dtype=dtype))
