"""Layers with Keras's names: ``from deepfin.layers import Dense, Activation, Dropout``."""

from deepfin import _custom
from deepfin.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from deepfin.layers.attention import MultiHeadAttention
from deepfin.layers.base import Layer
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


# the layer classes a saved model may name (Lambda is left out: its code cannot be saved)
_LAYER_CLASSES = (
    Activation, Add, AlphaDropout, Average, AveragePooling1D, BatchNormalization, Bidirectional, CategoryEncoding,
    Concatenate, Conv1D, Dense, Discretization, Dot, Dropout, ELU, Embedding, Flatten, GRU, GaussianDropout,
    GaussianNoise, GlobalAveragePooling1D, GlobalMaxPooling1D, InputLayer, IntegerLookup, LSTM, LayerNormalization,
    LeakyReLU, Masking, MaxPooling1D, Maximum, Maxout, Minimum, MultiHeadAttention, Multiply, Normalization,
    Permute, ReLU, RepeatVector, Rescaling, Reshape, SimpleRNN, Softmax, StringLookup, Subtract, TimeDistributed,
)


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec: dict, custom_objects: dict | None = None) -> Layer:
    """A layer (or model) from ``{"class_name": ..., "config": ...}``; only known classes are built."""
    from deepfin.models import Functional, Sequential

    known = {cls.__name__: cls for cls in (*_LAYER_CLASSES, Sequential, Functional)}
    name = spec.get("class_name") if isinstance(spec, dict) else None
    cls = (custom_objects or {}).get(name) or _custom.lookup(name) or known.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown layer class {name!r}. Known: {sorted(known)}; pass custom layers as "
            "custom_objects={'Name': Class}."
        )
    config = dict(spec.get("config", {}))
    if cls in (Sequential, Functional):
        return cls.from_config(config, custom_objects)
    return cls.from_config(config)
