"""The autodiff engine: ``Tensor``, ``no_grad`` and the differentiable ``ops``."""

from deepfin.engine import ops
from deepfin.engine.tensor import Tensor, as_tensor, is_grad_enabled, matmul, no_grad
from deepfin.engine.variable import Variable

__all__ = ["Tensor", "Variable", "as_tensor", "is_grad_enabled", "matmul", "no_grad", "ops"]
