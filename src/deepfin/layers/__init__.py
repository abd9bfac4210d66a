"""Layers with Keras's names: ``from deepfin.layers import Dense, Activation, Dropout``."""

from deepfin.layers.base import Layer
from deepfin.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, KerasTensor

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "KerasTensor", "Layer"]
