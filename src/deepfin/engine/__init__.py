"""The autodiff engine: ``Tensor``, ``no_grad``, the differentiable ``functions`` and the ``fused`` operations."""

from deepfin.engine import functions, fused
from deepfin.engine.tensor import Tensor, as_tensor, is_grad_enabled, matmul, no_grad
from deepfin.engine.variable import Variable

__all__ = ["Tensor", "Variable", "as_tensor", "functions", "fused", "is_grad_enabled", "matmul", "no_grad"]
