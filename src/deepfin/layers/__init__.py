"""Layers with Keras's names: ``from deepfin.layers import Dense, Activation, Dropout``."""

import inspect

from deepfin import _custom
from deepfin.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from deepfin.layers.attention import MultiHeadAttention
from deepfin.layers.base import Layer, saveable_class, saveable_class_names
from deepfin.layers.convolutional import (
    AveragePooling1D,
    Conv1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from deepfin.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Masking
from deepfin.layers.embedding import Embedding
from deepfin.layers.maxout import Maxout, MaxoutDense
from deepfin.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from deepfin.layers.noise import AlphaDropout, GaussianDropout, GaussianNoise
from deepfin.layers.normalization import BatchNormalization, LayerNormalization
from deepfin.layers.preprocessing import (
    CategoryEncoding,
    Discretization,
    IntegerLookup,
    Normalization,
    Rescaling,
    StringLookup,
)
from deepfin.layers.recurrent import GRU, LSTM, SimpleRNN
from deepfin.layers.reshaping import Permute, RepeatVector, Reshape
from deepfin.layers.sequence_wrappers import Bidirectional, TimeDistributed
from deepfin.layers.symbolic import KerasTensor

__all__ = [
    "Activation", "Add", "AlphaDropout", "Average", "AveragePooling1D", "BatchNormalization", "Bidirectional",
    "CategoryEncoding", "Concatenate", "Conv1D", "Dense", "Discretization", "Dot", "Dropout", "ELU", "Embedding",
    "Flatten", "GRU", "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Input",
    "InputLayer", "IntegerLookup", "KerasTensor", "LSTM", "Lambda", "Layer", "LayerNormalization", "LeakyReLU",
    "Masking", "MaxPooling1D", "Maximum", "Maxout", "MaxoutDense", "Minimum", "MultiHeadAttention", "Multiply",
    "Normalization", "Permute", "ReLU", "RepeatVector", "Rescaling", "Reshape", "SimpleRNN", "Softmax",
    "StringLookup", "Subtract", "TimeDistributed", "add", "average", "concatenate", "deserialize", "dot", "maximum",
    "minimum", "multiply", "serialize", "subtract",
]


def serialize(layer: Layer) -> dict:
    """Describe a layer (or model) as ``{"class_name": ..., "config": ...}``, Keras's ``serialize``.

    Parameters
    ----------
    layer : Layer
        The layer or model to describe.

    Returns
    -------
    dict
        ``{"class_name": type(layer).__name__, "config": layer.get_config()}``; ``deserialize`` takes it back.

    Examples
    --------
    >>> from deepfin.layers import Dense, deserialize, serialize
    >>> spec = serialize(Dense(4, name="hidden"))
    >>> spec["class_name"], spec["config"]["units"]
    ('Dense', 4)
    >>> deserialize(spec).units
    4
    """
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec: dict, custom_objects: dict | None = None) -> Layer:
    """Build a layer (or model) from ``{"class_name": ..., "config": ...}``; only known classes are built.

    The class is looked up in ``custom_objects``, then among the classes registered with
    ``deepfin.saving.register_keras_serializable`` or in a ``custom_object_scope``, then among deepfin's own
    layers and models. ``Lambda`` is not among them: its code cannot be saved.

    Parameters
    ----------
    spec : dict
        What ``serialize`` (or a saved model's config) gives: ``{"class_name": ..., "config": ...}``.
    custom_objects : dict or None, default None
        Custom layer classes by name, ``{"Name": Class}``.

    Returns
    -------
    Layer
        A new layer (fresh weights), or a ``Sequential`` or functional model.

    Raises
    ------
    ValueError
        If ``class_name`` names no known class.
    """
    name = spec.get("class_name") if isinstance(spec, dict) else None
    cls = (custom_objects or {}).get(name) or _custom.lookup(name) or (saveable_class(name) if name else None)
    if cls is None:
        raise ValueError(
            f"Unknown layer class {name!r}. Known: {saveable_class_names()}; pass custom layers as "
            "custom_objects={'Name': Class}."
        )
    config = dict(spec.get("config", {}))
    if "custom_objects" in inspect.signature(cls.from_config).parameters:  # models: their layers may be custom
        return cls.from_config(config, custom_objects)
    return cls.from_config(config)
