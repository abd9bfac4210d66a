"""Reverse-mode automatic differentiation on NumPy arrays.

A ``Tensor`` wraps an ``ndarray``. Every differentiable operation returns a new tensor that
remembers its parents and a ``backward`` function mapping the gradient of the output to the
gradients of the parents: the computational graph and the chain rule of backpropagation, as
Klaas (2019, ch. 1) presents them. ``Tensor.backward()``
walks the graph once in reverse topological order, summing gradients where a tensor is used
more than once and reducing broadcast gradients back to each operand's shape.

Examples
--------
>>> from deepfin.engine import Tensor
>>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> loss = (x * x).sum()
>>> loss.backward()
>>> x.grad
array([2., 4., 6.])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from deepfin import backend

_grad_enabled = True

Backward = Callable[[np.ndarray], Sequence["np.ndarray | None"]]


class no_grad:
    """Context manager (and decorator) under which operations record no graph.

    Inside the block, results of operations have ``requires_grad=False`` and keep no parents, so
    nothing is kept for ``backward()``; the previous setting comes back on exit, so blocks nest.
    Used as a decorator (``@no_grad()``), it runs the whole function that way.

    Examples
    --------
    >>> from deepfin.engine import Tensor, no_grad
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     y = x * 2.0
    >>> y.requires_grad
    False
    """

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
    """Whether operations record the graph now (``False`` inside ``no_grad``).

    Returns
    -------
    bool
        ``True`` unless a ``no_grad`` block is running.
    """
    return _grad_enabled


class Tensor:
    """An array with an optional gradient, recorded in a graph for backpropagation.

    Float data keep their dtype (a list of Python floats, being float64 to NumPy, gives a
    float64 tensor); integer and boolean data (lists, ints, bools, integer arrays) become
    ``backend.floatx()`` unless ``dtype`` is given.

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

    Parameters
    ----------
    data : array_like or Tensor
        The values: a Tensor (its array is taken), an ndarray, a list or a number.
    requires_grad : bool, default False
        Whether ``backward()`` fills this tensor's ``.grad``; only float tensors can.
    dtype : str, np.dtype or None, default None
        The dtype of the array; by default, float data keep theirs and other data become
        ``floatx()``.

    Attributes
    ----------
    data : np.ndarray
        The values.
    grad : np.ndarray or None
        The gradient ``backward()`` accumulated, of ``data``'s shape and dtype; ``None`` before.
    requires_grad : bool
        Whether the tensor is a leaf that wants a gradient, or a result computed from one.

    Raises
    ------
    TypeError
        If the data are not numeric, or ``requires_grad`` is set for a non-float dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.engine import Tensor
    >>> Tensor(np.array([1, 2]))
    Tensor([1. 2.], dtype=float32)
    >>> w = Tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    >>> y = (w * 2.0).sum()
    >>> y.op
    'sum'
    >>> y.backward()
    >>> w.grad
    array([2., 2.], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_logits", "_op", "_attributes")
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
        self._op, self._attributes = None, None  # the operation that made it, and its settings (from_op)

    def activation_input(self, kind: str) -> Tensor | None:
        """The logits this tensor is the ``kind`` activation of, when the op that made it recorded them.

        A cross-entropy reads them to run as one stable op on the logits.

        Parameters
        ----------
        kind : {'sigmoid', 'softmax'}
            The activation asked about.

        Returns
        -------
        Tensor or None
            The pre-activation tensor, or ``None`` when this tensor is not that activation's result.
        """
        return self._logits[1] if self._logits is not None and self._logits[0] == kind else None

    # ------------------------------------------------------------------ graph
    @staticmethod
    def from_op(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward, *, op: str,
                attributes: dict | None = None, logits: tuple[str, Tensor] | None = None) -> Tensor:
        """The result of an operation, attached to the graph when some parent needs a gradient.

        Parameters
        ----------
        data : np.ndarray
            The result's values (kept as they are, not copied).
        parents : tuple of Tensor
            The operation's inputs.
        backward : callable
            Maps the result's gradient to a tuple of its parents' gradients (``None`` for one that needs none).
        op : str
            The operation's name (``'mul'``, ``'dense'``), which the graph views and TensorBoard show.
        attributes : dict, optional
            The settings the operation was made with (``{'axis': 1}``, ``{'activation': 'relu'}``).
        logits : (str, Tensor), optional
            ``('sigmoid', x)`` or ``('softmax', x)`` when the result is that activation of ``x``: a cross-entropy
            reads them (``activation_input``) to run as one stable op on the logits.

        Returns
        -------
        Tensor
            The result; recorded (with ``parents`` and ``backward``) only while gradients are recorded and some
            parent requires one.
        """
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out._logits, out._op, out._attributes = data, None, logits, op, attributes
        out.requires_grad, out._parents, out._backward = False, (), None
        if _grad_enabled:
            for p in parents:
                if p.requires_grad:
                    out.requires_grad, out._parents, out._backward = True, parents, backward
                    break
        return out

    def backward(self, grad=None) -> None:
        """Backpropagate from this tensor, adding into ``.grad`` of every leaf that requires it.

        The graph is walked once, in reverse topological order; a leaf's gradient is added to what
        its ``.grad`` already holds (call ``zero_grad()`` to start again).

        Parameters
        ----------
        grad : array_like, Tensor or None, default None
            The gradient of this tensor, of its shape (cast to its dtype); ``None`` means 1, for a
            single-element tensor (a loss).

        Raises
        ------
        RuntimeError
            If this tensor does not require gradients (no input of its computation did, or it
            ran under ``no_grad``).
        ValueError
            If ``grad`` is ``None`` for a tensor of more than one element, or has another shape.
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
        """Forget the accumulated gradient (``.grad`` becomes ``None``)."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph.

        Returns
        -------
        Tensor
            ``Tensor(self.data)``: without parents and with ``requires_grad=False``. A float tensor's
            result shares this one's array; an integer or boolean tensor's becomes ``floatx()``, by
            ``Tensor``'s conversion rule.
        """
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
        """The name of the operation that made this tensor (``'mul'``, ``'dense'``); ``None`` for a leaf or a
        result outside the graph."""
        return None if self._backward is None else self._op

    @property
    def op_attributes(self) -> dict:
        """The settings of the operation that made this tensor (``{'axis': 1}``); empty for a leaf or a result
        outside the graph."""
        return {} if self._backward is None else dict(self._attributes or {})

    # ------------------------------------------------------------- array-like
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the array, a tuple of ints."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the array."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The array behind this tensor (not a copy).

        Returns
        -------
        np.ndarray
            ``self.data``: writing into it changes the tensor.
        """
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python number.

        Returns
        -------
        float, int or bool
            The element, as ``np.ndarray.item`` gives it.

        Raises
        ------
        ValueError
            If the tensor has more than one element.
        """
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
        """Whether any element is non-zero (along ``axis``), as a boolean tensor without a gradient.

        Parameters
        ----------
        axis : int, tuple of int or None, default None
            The axes to reduce; ``None`` reduces all.
        keepdims : bool, default False
            Keep the reduced axes with length 1.

        Returns
        -------
        Tensor
            A boolean tensor.
        """
        return Tensor(np.any(self.data, axis=axis, keepdims=keepdims), dtype=bool)

    def all(self, axis=None, keepdims: bool = False) -> Tensor:
        """Whether every element is non-zero (along ``axis``), as a boolean tensor without a gradient.

        Parameters
        ----------
        axis : int, tuple of int or None, default None
            The axes to reduce; ``None`` reduces all.
        keepdims : bool, default False
            Keep the reduced axes with length 1.

        Returns
        -------
        Tensor
            A boolean tensor.
        """
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
        return Tensor.from_op(a.data + b.data, (a, b), lambda g: (g, g), op="add")

    def __sub__(self, other) -> Tensor:
        a, b = self._pair(other)
        return Tensor.from_op(a.data - b.data, (a, b), lambda g: (g, -g), op="sub")

    def __mul__(self, other) -> Tensor:
        a, b = self._pair(other)

        def backward(g):
            return (g * b.data if a.requires_grad else None, g * a.data if b.requires_grad else None)

        return Tensor.from_op(a.data * b.data, (a, b), backward, op="mul")

    def __truediv__(self, other) -> Tensor:
        a, b = self._pair(other)
        if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":  # integers divide in floatx, as in PyTorch
            a, b = Tensor(a.data, dtype=backend.floatx()), Tensor(b.data, dtype=backend.floatx())

        def backward(g):
            ga = g / b.data if a.requires_grad else None
            gb = -g * a.data / (b.data * b.data) if b.requires_grad else None
            return ga, gb

        return Tensor.from_op(a.data / b.data, (a, b), backward, op="div")

    def __pow__(self, exponent) -> Tensor:
        a, b = self._pair(exponent)
        out = np.power(a.data, b.data)

        def backward(g):
            ga = g * b.data * np.power(a.data, b.data - 1) if a.requires_grad else None
            gb = g * out * np.log(a.data) if b.requires_grad else None
            return ga, gb

        return Tensor.from_op(out, (a, b), backward, op="pow")

    def __neg__(self) -> Tensor:
        return Tensor.from_op(-self.data, (self,), lambda g: (-g,), op="neg")

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
        """Sum of the elements over ``axis``, recorded for backpropagation.

        Parameters
        ----------
        axis : int, tuple of int or None, default None
            The axes to sum over; ``None`` sums every element.
        keepdims : bool, default False
            Keep the summed axes with length 1.

        Returns
        -------
        Tensor
            The sums; the gradient of each element is the gradient of its sum.
        """
        x = self

        def backward(g):
            if not keepdims and axis is not None:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, x.data.shape),)

        return Tensor.from_op(np.sum(x.data, axis=axis, keepdims=keepdims), (x,), backward, op="sum",
                              attributes={"axis": axis, "keepdims": keepdims})

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        """Arithmetic mean over ``axis``, recorded for backpropagation (the sum times 1/count).

        Parameters
        ----------
        axis : int, tuple of int or None, default None
            The axes to average over; ``None`` averages every element.
        keepdims : bool, default False
            Keep the averaged axes with length 1.

        Returns
        -------
        Tensor
            The means.

        Raises
        ------
        ValueError
            If the axes to average over hold no element.
        """
        axes = range(self.ndim) if axis is None else np.atleast_1d(axis)
        count = int(np.prod([self.data.shape[a] for a in axes]))
        if count == 0:
            raise ValueError(f"mean() over an empty axis is undefined. Received shape {self.shape}.")
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        """Largest element over ``axis``, recorded for backpropagation.

        Elements that tie for the maximum share its gradient equally.

        Parameters
        ----------
        axis : int, tuple of int or None, default None
            The axes to reduce; ``None`` reduces all.
        keepdims : bool, default False
            Keep the reduced axes with length 1.

        Returns
        -------
        Tensor
            The maxima.
        """
        x = self
        out = np.max(x.data, axis=axis, keepdims=True)

        def backward(g):
            if not keepdims and axis is not None:
                g = np.expand_dims(g, axis)
            mask = x.data == out  # ties share the gradient equally
            return (g * mask / np.sum(mask, axis=axis, keepdims=True, dtype=x.dtype),)

        return Tensor.from_op(out if keepdims else np.squeeze(out, axis=axis), (x,), backward, op="max",
                              attributes={"axis": axis, "keepdims": keepdims})

    # -------------------------------------------------------- shape changes
    def reshape(self, *shape) -> Tensor:
        """The same elements in a new shape, recorded for backpropagation.

        Parameters
        ----------
        *shape : int or tuple of int
            The new shape, as ints (``x.reshape(2, 3)``) or one tuple (``x.reshape((2, 3))``); one
            entry may be -1, as in NumPy.

        Returns
        -------
        Tensor
            The reshaped tensor; its gradient is reshaped back.
        """
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        x = self
        return Tensor.from_op(x.data.reshape(shape), (x,), lambda g: (g.reshape(x.data.shape),), op="reshape")

    def transpose(self, *axes) -> Tensor:
        """The tensor with its axes permuted, recorded for backpropagation.

        Parameters
        ----------
        *axes : int or tuple of int
            The permutation, as ints or one tuple; none reverses the axes.

        Returns
        -------
        Tensor
            The transposed tensor; its gradient is permuted back.
        """
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(axes) if axes else tuple(reversed(range(self.ndim)))
        inverse = tuple(np.argsort(axes))
        return Tensor.from_op(self.data.transpose(axes), (self,), lambda g: (g.transpose(inverse),), op="transpose")

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (``transpose()``), recorded for backpropagation."""
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

        return Tensor.from_op(x.data[index], (x,), backward, op="slice")

    # -------------------------------------- elementwise math (see engine.functions)
    def exp(self) -> Tensor:
        """Elementwise ``e ** x`` (``engine.functions.exp``), recorded for backpropagation.

        Returns
        -------
        Tensor
            Of this tensor's shape.
        """
        return _functions.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm (``engine.functions.log``), recorded for backpropagation.

        Returns
        -------
        Tensor
            Of this tensor's shape.
        """
        return _functions.log(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root (``engine.functions.sqrt``), recorded for backpropagation.

        Returns
        -------
        Tensor
            Of this tensor's shape.
        """
        return _functions.sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (``engine.functions.abs``), recorded for backpropagation.

        Returns
        -------
        Tensor
            Of this tensor's shape.
        """
        return _functions.abs(self)

    def clip(self, min_value=None, max_value=None) -> Tensor:
        """The values limited to ``[min_value, max_value]`` (``engine.functions.clip``), recorded for backpropagation.

        Parameters
        ----------
        min_value, max_value : float or None, default None
            The bounds; either may be ``None`` (no bound on that side), not both.

        Returns
        -------
        Tensor
            The clipped tensor; the gradient passes where the value lies within the bounds.
        """
        return _functions.clip(self, min_value, max_value)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent (``engine.functions.tanh``), recorded for backpropagation.

        Returns
        -------
        Tensor
            Of this tensor's shape.
        """
        return _functions.tanh(self)

    def sigmoid(self) -> Tensor:
        """Elementwise logistic function (``engine.functions.sigmoid``), recorded for backpropagation.

        ``1 / (1 + exp(-x))``; the result remembers its logits, so that a cross-entropy can fuse with it.

        Returns
        -------
        Tensor
            Of this tensor's shape.
        """
        return _functions.sigmoid(self)

    def relu(self) -> Tensor:
        """Elementwise ``max(x, 0)`` (``engine.functions.relu``), recorded for backpropagation.

        Returns
        -------
        Tensor
            Of this tensor's shape.
        """
        return _functions.relu(self)

    def leaky_relu(self, negative_slope: float = 0.2) -> Tensor:
        """Elementwise ``x`` for ``x > 0``, else ``negative_slope * x`` (``engine.functions.leaky_relu``).

        Parameters
        ----------
        negative_slope : float, default 0.2
            The slope below 0.

        Returns
        -------
        Tensor
            The activations, recorded for backpropagation.
        """
        return _functions.leaky_relu(self, negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        """Elementwise ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)`` (``engine.functions.elu``).

        Parameters
        ----------
        alpha : float, default 1.0
            The scale of the negative part.

        Returns
        -------
        Tensor
            The activations, recorded for backpropagation.
        """
        return _functions.elu(self, alpha)

    def softplus(self) -> Tensor:
        """Elementwise ``log(1 + exp(x))`` (``engine.functions.softplus``), recorded for backpropagation.

        Returns
        -------
        Tensor
            Of this tensor's shape.
        """
        return _functions.softplus(self)

    def softmax(self, axis: int = -1) -> Tensor:
        """Softmax along ``axis`` (``engine.functions.softmax``), recorded for backpropagation.

        Parameters
        ----------
        axis : int, default -1
            The axis whose entries sum to 1.

        Returns
        -------
        Tensor
            The probabilities.
        """
        return _functions.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """Logarithm of the softmax along ``axis`` (``engine.functions.log_softmax``), recorded for backpropagation.

        Parameters
        ----------
        axis : int, default -1
            The axis to normalize along.

        Returns
        -------
        Tensor
            ``x - log(sum(exp(x), axis))``.
        """
        return _functions.log_softmax(self, axis)


def as_tensor(value, dtype=None) -> Tensor:
    """``value`` if it is already a Tensor, else a constant Tensor of it.

    Parameters
    ----------
    value : Tensor or array_like
        The value.
    dtype : str, np.dtype or None, default None
        The dtype of a new tensor (ignored when ``value`` is a Tensor).

    Returns
    -------
    Tensor
        ``value`` itself, or ``Tensor(value, dtype=dtype)``.
    """
    return value if isinstance(value, Tensor) else Tensor(value, dtype=dtype)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's rules: 1-D operands, and broadcasting over leading axes.

    Parameters
    ----------
    a, b : Tensor or array_like
        The operands, of at least one axis each.

    Returns
    -------
    Tensor
        The matrix product, recorded for backpropagation.

    Raises
    ------
    ValueError
        If an operand is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.engine import Tensor, matmul
    >>> matmul(Tensor(np.eye(2)), Tensor(np.array([1.0, 2.0])))
    Tensor([1. 2.], dtype=float64)
    """
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

    return Tensor.from_op(a.data @ b.data, (a, b), backward, op="matmul")


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast gradient back down to ``shape``.

    Parameters
    ----------
    grad : np.ndarray
        The gradient of a result that ``shape`` was broadcast into.
    shape : tuple of int
        The operand's shape.

    Returns
    -------
    np.ndarray
        ``grad`` summed over the leading axes the broadcast added and over the axes where
        ``shape`` has length 1; ``grad`` itself when the shapes already match.
    """
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
    """Add ``g`` into ``leaf.grad``.

    A leaf owns its ``.grad``: ``g`` is copied only when it is a view or an array in ``held`` (the
    caller's or another leaf's); fresh arrays, the common case, are taken as they are. ``held``
    gains the array the leaf keeps.
    """
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


from deepfin.engine import functions as _functions  # noqa: E402  (the functions build on Tensor)
