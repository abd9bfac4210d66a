"""``clone_model``: a model of the same architecture with new weights, Keras's ``keras.models.clone_model``."""

from __future__ import annotations

from collections.abc import Callable

from deepfin.layers import Layer, deserialize, serialize
from deepfin.models.functional import Functional
from deepfin.models.sequential import Sequential


def clone_model(model, input_tensors=None, clone_function: Callable[[Layer], Layer] | None = None,
                custom_objects: dict | None = None):
    """A new model built as ``model`` is, each layer made afresh from its config (new weights, drawn by its
    initializers), or by ``clone_function(layer)`` (a Sequential model's layers only; it may return the layer
    itself to share it). The clone is not compiled. Subclassed models have no config to clone from: build a new
    instance of the class instead."""
    if input_tensors is not None:
        raise ValueError("clone_model(input_tensors=...) is not supported; the clone takes the model's inputs.")
    if isinstance(model, Sequential):
        clone = clone_function or (lambda layer: deserialize(serialize(layer), custom_objects))
        copied = Sequential([clone(layer) for layer in model.layers], trainable=model.trainable, name=model.name)
        if model.input_shape is not None:
            copied.build(model.input_shape)
        return copied
    if isinstance(model, Functional):
        if clone_function is not None:
            raise ValueError("clone_function is supported for Sequential models; a functional model is cloned from "
                             "its config.")
        return Functional.from_config(model.get_config(), custom_objects)
    raise ValueError(f"clone_model clones Sequential and functional models; {type(model).__name__} is a subclassed "
                     "model: make a new instance of its class.")
