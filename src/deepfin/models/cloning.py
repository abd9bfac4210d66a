"""``clone_model``: a model of the same architecture with new weights, Keras's ``keras.models.clone_model``."""

from __future__ import annotations

from collections.abc import Callable

from deepfin.layers import Layer, deserialize, serialize
from deepfin.models.functional import Functional
from deepfin.models.sequential import Sequential


def clone_model(model, input_tensors=None, clone_function: Callable[[Layer], Layer] | None = None,
                custom_objects: dict | None = None):
    """Make a new model built as ``model`` is, each layer made afresh from its config.

    The new layers have new weights, drawn by their initializers; for a Sequential model ``clone_function(layer)``
    may make each layer instead (it may return the layer itself to share it). The clone is not compiled.
    Subclassed models have no config to clone from: build a new instance of the class instead.

    Parameters
    ----------
    model : Sequential or Functional
        The model to clone.
    input_tensors : None
        Not supported: the clone takes the model's inputs.
    clone_function : callable or None, default None
        ``clone_function(layer)`` returns the clone's layer (Sequential models only).
    custom_objects : dict or None, default None
        Custom layer classes by name.

    Returns
    -------
    Sequential or Functional
        The new model, built when ``model``'s input shape is known.

    Raises
    ------
    ValueError
        If ``input_tensors`` is given, ``clone_function`` is given for a functional model, or ``model`` is a
        subclassed model.

    Examples
    --------
    >>> import deepfin
    >>> from deepfin.layers import Dense
    >>> from deepfin.models import clone_model
    >>> model = deepfin.Sequential([Dense(3, input_dim=2), Dense(1)])
    >>> clone = clone_model(model)
    >>> clone.output_shape, clone.compiled
    ((None, 1), False)
    """
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
