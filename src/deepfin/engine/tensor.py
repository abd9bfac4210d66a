"""Reverse-mode automatic differentiation on NumPy arrays.

A ``Tensor`` wraps an ``ndarray``. Every differentiable operation returns a new tensor that
remembers its parents and a ``backward`` function mapping the gradient of the output to the
gradients of the parents (the seeds' computational graph and chain rule). ``Tensor.backward()``
walks the graph once in reverse topological order, summing gradients where a tensor is used
more than once and reducing broadcast gradients back to each operand's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from deepfin import backend
from deepfin.engine import graph as _graph

_grad_enabled = True

Backward = Callable[[np.ndarray], Sequence["np.ndarray | None"]]


class no_grad:
    """Context manager (and decorator) under which operations record no graph."""

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


def is_grad_enabled() -> bool:
    return _grad_enabled


class Tensor:
    """An array with an optional gradient, recorded in a graph for backpropagation.

    ``Tensor(data, requires_grad=False, dtype=None)``: float arrays keep their dtype, anything
    else (lists, ints, bools) becomes ``backend.floatx()`` unless ``dtype`` is given.

    Arithmetic between two tensors follows NumPy (float32 with float64 gives float64, as in
    PyTorch). Anything else met in arithmetic (a Python number, a NumPy scalar or array, a list)
    is a constant that takes a float tensor's dtype, so a float64 array never turns a float32
    model's forward and backward passes into float64. An integer or boolean tensor meeting a
    float constant computes in ``floatx()`` (``int_tensor * 1.5`` multiplies by 1.5), and
    meeting an integer constant follows NumPy's integer rules.

    Hashing is by identity, as in PyTorch, and ``==`` compares elementwise. The truth value of a
    one-element tensor is that element's; of any other tensor it is an error (use ``.any()`` or
    ``.all()``), so ``x in [y]`` raises for distinct many-element tensors, as PyTorch does, and
    is True only for ``x`` itself. After ``backward()`` each leaf owns its ``.grad``: no two
    leaves share one array, nor share it with the ``grad`` passed to ``backward``.
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_logits")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to the Tensor's reflected method

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        array = np.asarray(data, dtype=dtype)
        if dtype is None and array.dtype.kind != "f":
            if array.dtype.kind not in "biu":
                raise TypeError(
                    f"Tensor data must be numeric. Received an array of dtype {array.dtype}."
                )
            array = array.astype(backend.floatx())
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"Only float tensors can require gradients. Received dtype {array.dtype}."
            )
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._logits = None  # ('sigmoid' | 'softmax', pre-activation tensor) for fused losses

    def activation_input(self, kind: str) -> Tensor | None:
        """The tensor this one is the ``kind`` activation (``'sigmoid'`` or ``'softmax'``) of, when the op that
        made it recorded so, else ``None``: a cross-entropy reads it to run as one stable op on the logits."""
        return self._logits[1] if self._logits is not None and self._logits[0] == kind else None

    # ------------------------------------------------------------------ graph
    @staticmethod
    def _make(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward) -> Tensor:
        """Result of an operation: attached to the graph when some parent needs a gradient."""
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out._logits = data, None, None
        out.requires_grad, out._parents, out._backward = False, (), None
        if _grad_enabled:
            for p in parents:
                if p.requires_grad:
                    out.requires_grad, out._parents, out._backward = True, parents, backward
                    break
        return out

    def backward(self, grad=None) -> None:
        """Backpropagate from this tensor, adding into ``.grad`` of every leaf that requires it.

        ``grad`` defaults to 1 for a single-element tensor (a loss).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() was called on a tensor that does not require gradients: no input "
                "of the computation had requires_grad=True, or it ran under no_grad()."
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    "backward() without a gradient needs a single-element tensor (a loss). "
                    f"Received shape {self.data.shape}; pass grad= of that shape."
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, self.data.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(
                    f"grad must have the tensor's shape {self.data.shape}. Received {grad.shape}."
                )
        pending = {id(self): grad}
        held = {id(grad): grad}  # arrays someone already holds: the caller's grad, leaves' grads
        for node in _reverse_topological_order(self):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:
                _accumulate_leaf(node, g, held)
                continue
            for parent, parent_grad in zip(node._parents, node._backward(g)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.data.shape:
                    parent_grad = unbroadcast(parent_grad, parent.data.shape)
                if parent._backward is None:  # leaves need no ordering: add straight in
                    _accumulate_leaf(parent, parent_grad, held)
                    continue
                key = id(parent)
                previous = pending.get(key)
                pending[key] = parent_grad if previous is None else previous + parent_grad

    def zero_grad(self) -> None:
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    # --------------------------------------------------- reading the graph
    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from; empty for a leaf or a result outside the graph."""
        return self._parents

    @property
    def grad_fn(self) -> Backward | None:
        """The function that maps this tensor's gradient to its parents' (``None`` for a leaf)."""
        return self._backward

    @property
    def op(self) -> str | None:
        """The name of the operation that made this tensor (``'mul'``, ``'dense'``); ``None`` for a leaf."""
        return None if self._backward is None else _graph.op_name(self._backward)

    # ------------------------------------------------------------- array-like
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def __float__(self) -> float:
        return float(self.data)

    def __bool__(self) -> bool:
        """The truth value of a one-element tensor; any other size is ambiguous and raises."""
        if self.data.size == 1:
            return bool(self.data.item())
        what = "an empty Tensor" if self.data.size == 0 else "a Tensor with more than one element"
        raise ValueError(
            f"The truth value of {what} is ambiguous (shape {self.data.shape}). Use .any() or .all()."
        )

    def any(self, axis=None, keepdims: bool = False) -> Tensor:
        """Whether any element is non-zero (along ``axis``), as a boolean tensor without a gradient."""
        return Tensor(np.any(self.data, axis=axis, keepdims=keepdims), dtype=bool)

    def all(self, axis=None, keepdims: bool = False) -> Tensor:
        """Whether every element is non-zero (along ``axis``), as a boolean tensor without a gradient."""
        return Tensor(np.all(self.data, axis=axis, keepdims=keepdims), dtype=bool)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, prefix='Tensor(')}, dtype={self.dtype}{grad})"

    __hash__ = object.__hash__

    # ------------------------------------------------------------- arithmetic
    def _pair(self, other) -> tuple[Tensor, Tensor]:
        """This tensor and ``other`` as the operands of one arithmetic op, by the class's dtype rule."""
        if isinstance(other, Tensor):
            return self, other
        dtype = self.data.dtype
        if dtype.kind == "f" and isinstance(other, (int, float)):  # the common case
            return self, Tensor(np.asarray(other, dtype=dtype))
        constant = np.asarray(other)
        if constant.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor arithmetic needs numbers. Received a value of dtype {constant.dtype}: {other!r:.80}"
            )
        if dtype.kind == "f":  # a constant takes the tensor's dtype
            return self, Tensor(constant.astype(dtype, copy=False))
        if constant.dtype.kind == "f":  # an integer or boolean tensor meets a float: both in floatx
            floatx = backend.floatx()
            return Tensor(self.data.astype(floatx)), Tensor(constant.astype(floatx, copy=False))
        result = np.result_type(self.data, other)  # integers: NumPy's rules (a Python int adapts)
        a = self if result == dtype else Tensor(self.data.astype(result), dtype=result)
        return a, Tensor(constant.astype(result, copy=False), dtype=result)

    def __add__(self, other) -> Tensor:
        a, b = self._pair(other)
        return Tensor._make(a.data + b.data, (a, b), lambda g: (g, g))

    def __sub__(self, other) -> Tensor:
        a, b = self._pair(other)
        return Tensor._make(a.data - b.data, (a, b), lambda g: (g, -g))

    def __mul__(self, other) -> Tensor:
        a, b = self._pair(other)

        def backward(g):
            return (g * b.data if a.requires_grad else None, g * a.data if b.requires_grad else None)

        return Tensor._make(a.data * b.data, (a, b), backward)

    def __truediv__(self, other) -> Tensor:
        a, b = self._pair(other)
        if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":  # integers divide in floatx, as in PyTorch
            a, b = Tensor(a.data, dtype=backend.floatx()), Tensor(b.data, dtype=backend.floatx())

        def backward(g):
            ga = g / b.data if a.requires_grad else None
            gb = -g * a.data / (b.data * b.data) if b.requires_grad else None
            return ga, gb

        return Tensor._make(a.data / b.data, (a, b), backward)

    def __pow__(self, exponent) -> Tensor:
        a, b = self._pair(exponent)
        out = np.power(a.data, b.data)

        def backward(g):
            ga = g * b.data * np.power(a.data, b.data - 1) if a.requires_grad else None
            gb = g * out * np.log(a.data) if b.requires_grad else None
            return ga, gb

        return Tensor._make(out, (a, b), backward)

    def __neg__(self) -> Tensor:
        return Tensor._make(-self.data, (self,), lambda g: (-g,))

    def __radd__(self, other) -> Tensor:
        a, b = self._pair(other)
        return b + a

    def __rsub__(self, other) -> Tensor:
        a, b = self._pair(other)
        return b - a

    def __rmul__(self, other) -> Tensor:
        a, b = self._pair(other)
        return b * a

    def __rtruediv__(self, other) -> Tensor:
        a, b = self._pair(other)
        return b / a

    def __rpow__(self, other) -> Tensor:
        a, b = self._pair(other)
        return b ** a

    def __matmul__(self, other) -> Tensor:
        return matmul(*self._pair(other))

    def __rmatmul__(self, other) -> Tensor:
        a, b = self._pair(other)
        return matmul(b, a)

    # ------------------------------------------- comparisons (no gradient)
    def _compare(self, other, op) -> Tensor:
        if isinstance(other, Tensor):
            other = other.data
        elif not isinstance(other, (int, float)) and np.asarray(other).dtype.kind not in "biuf":
            return NotImplemented  # None, strings, objects: Python falls back to identity, as PyTorch does
        return Tensor(op(self.data, other), dtype=bool)

    def __lt__(self, other) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    # ---------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        x = self

        def backward(g):
            if not keepdims and axis is not None:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, x.data.shape),)

        return Tensor._make(np.sum(x.data, axis=axis, keepdims=keepdims), (x,), backward)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        axes = range(self.ndim) if axis is None else np.atleast_1d(axis)
        count = int(np.prod([self.data.shape[a] for a in axes]))
        if count == 0:
            raise ValueError(f"mean() over an empty axis is undefined. Received shape {self.shape}.")
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        x = self
        out = np.max(x.data, axis=axis, keepdims=True)

        def backward(g):
            if not keepdims and axis is not None:
                g = np.expand_dims(g, axis)
            mask = x.data == out  # ties share the gradient equally
            return (g * mask / np.sum(mask, axis=axis, keepdims=True, dtype=x.dtype),)

        return Tensor._make(out if keepdims else np.squeeze(out, axis=axis), (x,), backward)

    # -------------------------------------------------------- shape changes
    def reshape(self, *shape) -> Tensor:
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        x = self
        return Tensor._make(x.data.reshape(shape), (x,), lambda g: (g.reshape(x.data.shape),))

    def transpose(self, *axes) -> Tensor:
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(axes) if axes else tuple(reversed(range(self.ndim)))
        inverse = tuple(np.argsort(axes))
        return Tensor._make(self.data.transpose(axes), (self,), lambda g: (g.transpose(inverse),))

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, index) -> Tensor:
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        x = self

        def backward(g):
            full = np.zeros_like(x.data)
            np.add.at(full, index, g)  # repeated indices add up
            return (full,)

        return Tensor._make(x.data[index], (x,), backward)

    # -------------------------------------- elementwise math (see engine.ops)
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def clip(self, min_value=None, max_value=None) -> Tensor:
        return _ops.clip(self, min_value, max_value)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def leaky_relu(self, negative_slope: float = 0.2) -> Tensor:
        return _ops.leaky_relu(self, negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        return _ops.elu(self, alpha)

    def softplus(self) -> Tensor:
        return _ops.softplus(self)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.log_softmax(self, axis)


def as_tensor(value, dtype=None) -> Tensor:
    """``value`` if it is already a Tensor, else a constant Tensor of it."""
    return value if isinstance(value, Tensor) else Tensor(value, dtype=dtype)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's rules: 1-D operands, and broadcasting over leading axes."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul needs operands of at least 1 dimension. Received shapes {a.shape} and {b.shape}."
        )

    def backward(g):
        a2 = a.data if a.ndim > 1 else a.data[np.newaxis, :]
        b2 = b.data if b.ndim > 1 else b.data[:, np.newaxis]
        g2 = g
        if b.ndim == 1:
            g2 = g2[..., np.newaxis]
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if a.requires_grad:
            ga = g2 @ np.swapaxes(b2, -1, -2)
            ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],)) if a.ndim == 1 else ga
            ga = unbroadcast(ga, a.shape)
        if b.requires_grad:
            gb = np.swapaxes(a2, -1, -2) @ g2
            gb = gb[..., 0] if b.ndim == 1 else gb
            gb = unbroadcast(gb, b.shape)
        return ga, gb

    return Tensor._make(a.data @ b.data, (a, b), backward)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast gradient back down to ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _accumulate_leaf(leaf: Tensor, g: np.ndarray, held: dict[int, np.ndarray]) -> None:
    """Add ``g`` into ``leaf.grad``. A leaf owns its ``.grad``: ``g`` is copied only when it is a
    view or an array in ``held`` (the caller's or another leaf's); fresh arrays, the common case,
    are taken as they are. ``held`` gains the array the leaf keeps."""
    if g.dtype != leaf.data.dtype:
        g = g.astype(leaf.data.dtype)
    elif not g.flags.owndata or id(g) in held:
        g = g.copy()
    if leaf.grad is not None:
        g = leaf.grad + g
    leaf.grad = held[id(g)] = g


def _reverse_topological_order(root: Tensor) -> list[Tensor]:
    """Interior nodes reachable from ``root`` (leaves excluded), outputs first.

    Iterative depth-first search, so a graph of any depth stays clear of the recursion limit.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent._backward is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


from deepfin.engine import ops as _ops  # noqa: E402  (ops builds on Tensor)
