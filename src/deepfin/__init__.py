"""deepfin: training, tuning and honest evaluation of neural networks for finance.

Keras-compatible models on a lean NumPy autodiff engine::

    from deepfin.models import Model, Sequential
    from deepfin.layers import Dense, Activation
"""

from deepfin import (
    activations,
    backend,
    callbacks,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    utils,
)
from deepfin._heap import keep_freed_memory
from deepfin.engine import Tensor, Variable, no_grad
from deepfin.layers import Input
from deepfin.models import Model, Sequential
from deepfin.utils import check_gradients

keep_freed_memory()  # a training step's work arrays come from memory the process holds (deepfin._heap)

__version__ = "0.1.0"

__all__ = [
    "Input", "Model", "Sequential", "Tensor", "Variable", "activations", "backend", "callbacks",
    "check_gradients", "constraints", "initializers", "layers", "losses", "metrics", "models", "no_grad",
    "ops", "optimizers", "random", "regularizers", "utils",
]
