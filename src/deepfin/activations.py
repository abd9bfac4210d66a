"""Activation functions by Keras name: ``activations.get('relu')(x)``.

Each function takes a Tensor (or anything ``Tensor`` converts) and returns a Tensor recorded for
backpropagation, except ``step``, which has no gradient. ``get`` resolves a name, a function or
``None``; ``serialize`` gives the name a config stores.

Examples
--------
>>> import numpy as np
>>> from deepfin import activations
>>> activations.get("relu")(np.array([-1.0, 2.0]))
Tensor([0. 2.], dtype=float64)
>>> activations.serialize(activations.tanh)
'tanh'
"""

from __future__ import annotations

from collections.abc import Callable

from deepfin import _custom
from deepfin.engine import functions
from deepfin.engine.tensor import Tensor, as_tensor


def linear(x) -> Tensor:
    """Linear activation function (pass-through).

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).

    Returns
    -------
    Tensor
        ``x`` unmodified, as a Tensor (``x`` itself when it is one).
    """
    return as_tensor(x)


def sigmoid(x) -> Tensor:
    """Sigmoid activation function, ``1 / (1 + exp(-x))``.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).

    Returns
    -------
    Tensor
        The activations, recorded for backpropagation; they remember their logits, so that a
        binary cross-entropy on them runs as one stable op.
    """
    return functions.sigmoid(x)


def tanh(x) -> Tensor:
    """Hyperbolic tangent activation function.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).

    Returns
    -------
    Tensor
        ``tanh(x)``, recorded for backpropagation.
    """
    return functions.tanh(x)


def relu(x) -> Tensor:
    """Rectified linear unit activation function, ``max(x, 0)``.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).

    Returns
    -------
    Tensor
        The activations, recorded for backpropagation.
    """
    return functions.relu(x)


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """Leaky rectified linear unit activation function.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).
    negative_slope : float, default 0.2
        The slope below 0.

    Returns
    -------
    Tensor
        ``x`` where ``x > 0``, else ``negative_slope * x``, recorded for backpropagation.
    """
    return functions.leaky_relu(x, negative_slope)


def elu(x, alpha: float = 1.0) -> Tensor:
    """Exponential Linear Unit activation function.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).
    alpha : float, default 1.0
        The scale of the negative part.

    Returns
    -------
    Tensor
        ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``, recorded for backpropagation.
    """
    return functions.elu(x, alpha)


def softplus(x) -> Tensor:
    """Softplus activation function, ``log(exp(x) + 1)``.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).

    Returns
    -------
    Tensor
        The activations, recorded for backpropagation.
    """
    return functions.softplus(x)


def softmax(x, axis: int = -1) -> Tensor:
    """Softmax activation function: a vector of values to a probability distribution.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).
    axis : int, default -1
        The axis whose entries sum to 1.

    Returns
    -------
    Tensor
        ``exp(x) / sum(exp(x), axis)``, recorded for backpropagation; along the last axis it remembers
        its logits, so that a categorical cross-entropy on it runs as one stable op.
    """
    return functions.softmax(x, axis)


def log_softmax(x, axis: int = -1) -> Tensor:
    """Log-softmax activation function.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).
    axis : int, default -1
        The axis to normalize along.

    Returns
    -------
    Tensor
        ``x - log(sum(exp(x), axis))``, recorded for backpropagation.
    """
    return functions.log_softmax(x, axis)


def step(x) -> Tensor:
    """The McCulloch-Pitts neuron's threshold: 1 if x > 0 else 0 (no gradient).

    The step function of the McCulloch-Pitts neuron, as Della Lunga (2022, lecture 1) presents it.
    A layer with it cannot be trained by backpropagation.

    Parameters
    ----------
    x : Tensor or array_like
        The input (integer and boolean data become ``floatx()``, as ``Tensor`` converts them).

    Returns
    -------
    Tensor
        The 0/1 outputs; ``backward()`` through them raises ``RuntimeError``.
    """
    return functions.step(x)


_ACTIVATIONS: dict[str, Callable] = {
    f.__name__: f
    for f in (linear, sigmoid, tanh, relu, leaky_relu, elu, softplus, softmax, log_softmax, step)
}


def get(identifier) -> Callable:
    """An activation from a name, a function, or None (linear).

    Parameters
    ----------
    identifier : str, callable or None
        A built-in name (see ``names()``), the name of a custom object in scope or registered
        (``deepfin.saving.custom_object_scope``, ``register_keras_serializable``), a function, or
        ``None``.

    Returns
    -------
    callable
        The function: ``linear`` for ``None``, ``identifier`` itself for a callable.

    Raises
    ------
    ValueError
        If the name is unknown.
    TypeError
        If ``identifier`` is neither a string, a callable nor ``None``.
    """
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
    """The names of the built-in activations, as ``get`` takes them.

    Returns
    -------
    list of str
        The names, sorted.
    """
    return sorted(_ACTIVATIONS)


def builtin_name(activation) -> str | None:
    """The name of ``activation`` when it is one of the built-in activations (not a look-alike), else ``None``.

    Parameters
    ----------
    activation : callable
        The function.

    Returns
    -------
    str or None
        Its name, when the built-in function of that name is ``activation`` itself.
    """
    name = getattr(activation, "__name__", None)
    return name if _ACTIVATIONS.get(name) is activation else None


def serialize(activation: Callable) -> str:
    """The name under which ``get`` finds ``activation`` (for configs).

    Parameters
    ----------
    activation : callable
        A built-in activation, or a custom function with a name of its own.

    Returns
    -------
    str
        The function's ``__name__``.

    Raises
    ------
    ValueError
        If the function has no usable name (a lambda), or its name is a built-in's that it is not.
    """
    name = getattr(activation, "__name__", None)
    if not name or name == "<lambda>" or name in _ACTIVATIONS and _ACTIVATIONS[name] is not activation:
        raise ValueError(f"Cannot serialize activation {activation!r}: give it a unique function name.")
    return name
