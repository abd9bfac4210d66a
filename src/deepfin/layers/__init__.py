"""Layers with Keras's names: ``from deepfin.layers import Dense, Activation, Dropout``."""

from deepfin import _custom
from deepfin.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from deepfin.layers.base import Layer
from deepfin.layers.convolutional import (
    AveragePooling1D,
    Conv1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from deepfin.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer
from deepfin.layers.maxout import Maxout, MaxoutDense
from deepfin.layers.merging import Add, Concatenate, Multiply, Subtract, add, concatenate
from deepfin.layers.normalization import BatchNormalization
from deepfin.layers.recurrent import GRU, LSTM, SimpleRNN
from deepfin.layers.symbolic import KerasTensor

__all__ = [
    "ELU", "GRU", "LSTM", "Activation", "Add", "AveragePooling1D", "Conv1D", "GlobalAveragePooling1D",
    "GlobalMaxPooling1D", "MaxPooling1D", "BatchNormalization", "Concatenate", "Dense", "Dropout", "Flatten",
    "Input", "InputLayer", "KerasTensor", "Layer", "LeakyReLU", "Maxout", "MaxoutDense", "Multiply", "ReLU",
    "SimpleRNN", "Softmax", "Subtract", "add", "concatenate", "deserialize", "serialize",
]


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec: dict, custom_objects: dict | None = None) -> Layer:
    """A layer (or model) from ``{"class_name": ..., "config": ...}``; only known classes are built."""
    from deepfin.models import Functional, Sequential

    known = {cls.__name__: cls for cls in (
        Activation, Add, AveragePooling1D, Conv1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D,
        BatchNormalization, Concatenate, Dense, Dropout, ELU, Flatten, GRU, InputLayer, LSTM,
        LeakyReLU, Maxout, Multiply, ReLU, SimpleRNN, Softmax, Subtract, Sequential, Functional)}
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
