"""Models: ``Sequential`` (functional models and saving come with the full model API)."""

from deepfin.models.model import Model
from deepfin.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
