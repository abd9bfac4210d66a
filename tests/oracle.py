"""Oracles for gradient tests: central finite differences and PyTorch autograd."""

from __future__ import annotations

import numpy as np

from deepfin import Tensor


def numeric_grad(f, arrays: list[np.ndarray], index: int, eps: float = 1e-6) -> np.ndarray:
    """d sum(f(*arrays)) / d arrays[index] by central differences (float64)."""
    x = arrays[index]
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = float(np.sum(f(*arrays)))
        flat[i] = saved - eps
        minus = float(np.sum(f(*arrays)))
        flat[i] = saved
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def deepfin_value_and_grads(fn, arrays: list[np.ndarray], weights: np.ndarray | None = None):
    """Forward value and d sum(w * fn(...)) / d input for each input, with deepfin."""
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*tensors)
    upstream = np.ones_like(out.data) if weights is None else weights
    out.backward(upstream)
    return out.data, [t.grad for t in tensors]


def torch_value_and_grads(fn, arrays: list[np.ndarray], weights: np.ndarray | None = None):
    import torch

    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    upstream = torch.ones_like(out) if weights is None else torch.tensor(weights)
    out.backward(upstream)
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference relative to the largest magnitude (0 when both are 0)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0), 1e-300)
    return float(np.abs(a - b).max(initial=0) / scale)
