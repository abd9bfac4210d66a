"""Models: ``Sequential``, functional ``Model(inputs, outputs)`` and subclassed ``Model``."""

from deepfin.models.cloning import clone_model
from deepfin.models.functional import Functional
from deepfin.models.model import Model
from deepfin.models.sequential import Sequential
from deepfin.saving import load_model, model_from_json, save_model

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
