"""Activation functions by Keras name: ``activations.get('relu')(x)``."""

from __future__ import annotations

from collections.abc import Callable

from deepfin import _custom
from deepfin.engine import ops
from deepfin.engine.tensor import Tensor, as_tensor


def linear(x) -> Tensor:
    return as_tensor(x)


def sigmoid(x) -> Tensor:
    return ops.sigmoid(x)


def tanh(x) -> Tensor:
    return ops.tanh(x)


def relu(x) -> Tensor:
    return ops.relu(x)


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    return ops.leaky_relu(x, negative_slope)


def elu(x, alpha: float = 1.0) -> Tensor:
    return ops.elu(x, alpha)


def softplus(x) -> Tensor:
    return ops.softplus(x)


def softmax(x, axis: int = -1) -> Tensor:
    return ops.softmax(x, axis)


def log_softmax(x, axis: int = -1) -> Tensor:
    return ops.log_softmax(x, axis)


def step(x) -> Tensor:
    """The McCulloch-Pitts neuron's threshold: 1 if x > 0 else 0 (no gradient)."""
    return ops.step(x)


_ACTIVATIONS: dict[str, Callable] = {
    f.__name__: f
    for f in (linear, sigmoid, tanh, relu, leaky_relu, elu, softplus, softmax, log_softmax, step)
}


def get(identifier) -> Callable:
    """An activation from a name, a function, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _ACTIVATIONS.get(identifier) or _custom.lookup(identifier) or _ACTIVATIONS[identifier]
        except KeyError:
            raise ValueError(
                f"Unknown activation: {identifier!r}. Expected one of {sorted(_ACTIVATIONS)} "
                "or a callable."
            ) from None
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a string, a callable or None. Received: {identifier!r}")


def names() -> list[str]:
    """The names of the built-in activations, as ``get`` takes them."""
    return sorted(_ACTIVATIONS)


def builtin_name(activation) -> str | None:
    """The name of ``activation`` when it is one of the built-in activations (not a look-alike), else ``None``."""
    name = getattr(activation, "__name__", None)
    return name if _ACTIVATIONS.get(name) is activation else None


def serialize(activation: Callable) -> str:
    """The name under which ``get`` finds ``activation`` (for configs)."""
    name = getattr(activation, "__name__", None)
    if not name or name == "<lambda>" or name in _ACTIVATIONS and _ACTIVATIONS[name] is not activation:
        raise ValueError(f"Cannot serialize activation {activation!r}: give it a unique function name.")
    return name
