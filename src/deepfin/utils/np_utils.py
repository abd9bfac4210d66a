"""Keras 2's ``keras.utils.np_utils`` path: ``from deepfin.utils.np_utils import to_categorical``."""

from deepfin.utils import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]
