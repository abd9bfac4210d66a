"""The base of every optimizer: hyperparameters, clipping, slots, packing small variables, the compiled form.

All hyperparameters are kept as Python floats, so a float32 model stays float32 (NumPy 2
promotes ``np.float64 scalar * float32 array`` to float64). Each optimizer keeps its state per
variable, indexed by the variable's position in the list it was built on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from deepfin import backend
from deepfin.engine.tensor import Tensor
from deepfin.engine.variable import Variable
from deepfin.optimizers import compiled, schedules

_BASE_KWARGS = ("clipnorm", "clipvalue", "global_clipnorm", "name")
_PACK_BELOW = 32_768  # elements: below this, copying a gradient costs less than a separate update
_COMPILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class Optimizer:
    """Base optimizer: ``apply(grads, variables)`` or ``apply_gradients(zip(grads, variables))``.

    ``learning_rate`` may be a float or a callable of the step count (a schedule, such as those of
    ``deepfin.optimizers.schedules``); ``lr`` is accepted as Keras 2's spelling. The optimizer builds its state
    on the first ``apply`` and updates the variables' arrays in place. A subclass defines ``create_slots``
    (its per-variable state) and ``update_step``.

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        A non-negative finite number, a schedule (a callable of the step count) or a serialized schedule (a
        dict, as a saved model's config holds it).
    clipnorm : float or None, default None
        Clip each gradient to this L2 norm.
    clipvalue : float or None, default None
        Clip each gradient element to ``[-clipvalue, clipvalue]``.
    global_clipnorm : float or None, default None
        Scale all gradients together so that their joint L2 norm is at most this.
    name : str or None, default None
        The optimizer's name; None gives the class name in lower case.
    **kwargs
        Only ``lr``, Keras 2's name for ``learning_rate``.

    Raises
    ------
    TypeError
        For any other keyword argument.
    ValueError
        If more than one of ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` is given, or the learning rate
        is negative, not finite or not a number.

    Notes
    -----
    Differences from Keras 3: no ``weight_decay``, ``use_ema``, ``loss_scale_factor`` or
    ``gradient_accumulation_steps``; the state lives in NumPy arrays (``state_slots``), not in variables; and a
    subclass's ``update_step`` takes the state as a fourth argument, ``update_step(grad, var, lr, slots)``, with
    ``create_slots`` in place of Keras's ``build`` and ``add_variable_from_reference``.
    """

    scratch_slots: tuple[str, ...] = ("scratch", "scratch2")  # work buffers, written before read each step

    def __init__(self, learning_rate: float | Callable = 0.001, *, name: str | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, **kwargs):
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments {sorted(kwargs)}. "
                f"Accepted: learning_rate (or lr), {', '.join(_BASE_KWARGS)} and the optimizer's own."
            )
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Pass at most one of clipnorm, clipvalue and global_clipnorm.")
        self.name = name or type(self).__name__.lower()
        self.learning_rate = learning_rate
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.built = False
        self._variables: list[Variable] = []
        self._index: dict[int, int] = {}

    # ------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The learning rate at the current step, as a Python float.

        Setting it takes a non-negative finite number, a schedule or a serialized schedule (a dict). ``lr`` is the
        same property, Keras 2's name.
        """
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        """Set the learning rate: a number, a schedule or a serialized schedule (a dict).

        Raises ValueError for a negative, infinite or non-numeric value.
        """
        if isinstance(value, dict):  # a serialized schedule, from a saved model's config
            value = schedules.deserialize(value)
        if not callable(value):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(
                    f"learning_rate must be a non-negative finite number or a schedule. "
                    f"Received: learning_rate={value!r}"
                )
            value = float(value)
        self._learning_rate = value

    lr = learning_rate  # Keras 2's name

    def learning_rate_at(self, step: int) -> float:
        """The learning rate at step count ``step`` (a schedule's value there), as a Python float.

        Parameters
        ----------
        step : int
            The step count (0 before the first update).

        Returns
        -------
        float
            The learning rate at that step.
        """
        lr = self._learning_rate
        return float(lr(step)) if callable(lr) else lr

    # ------------------------------------------------------------ applying
    def build(self, variables: Sequence[Variable]) -> None:
        """Create the optimizer's state for ``variables``.

        Small variables of one dtype are packed into one contiguous buffer (each variable's ``data`` becomes a view
        of it), so that one update covers them all: for the small models of finance, the per-call overhead of NumPy
        outweighs the arithmetic.

        Parameters
        ----------
        variables : sequence of Variable
            The variables to optimize; their order is the order of ``state_slots``.
        """
        self._variables = list(variables)
        self._index = {id(v): i for i, v in enumerate(self._variables)}
        self._slots = [None] * len(self._variables)
        self._slot_rows = [None] * len(self._variables)
        small = [i for i, v in enumerate(self._variables) if v.size < _PACK_BELOW]
        dtypes = {self._variables[i].dtype for i in small}
        self._packed = _Packed(self, small) if len(small) > 1 and len(dtypes) == 1 else None
        for i, v in enumerate(self._variables):
            if self._slots[i] is None:
                self._slots[i], self._slot_rows[i] = self._create_state(v.data)
        self.built = True

    def _create_state(self, value: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """``create_slots(value)`` and, when the optimizer has a compiled form, its state slots as the rows of
        one array (the slots become views of them) for ``compiled.update``; else None."""
        slots = self.create_slots(value)
        form = self.compiled_form()
        if form is None or value.dtype not in _COMPILED_DTYPES or not value.flags.c_contiguous:
            return slots, None
        names = form[1]
        rows = np.empty((len(names), value.size), value.dtype)
        for row, name in enumerate(names):
            rows[row] = slots[name].ravel()
            slots[name] = rows[row].reshape(value.shape)
        return slots, rows

    def create_slots(self, value: np.ndarray) -> dict[str, np.ndarray]:
        """The arrays ``update_step`` keeps for a variable of ``value``'s shape.

        They are its state (moments, accumulators) and work buffers, named in ``scratch_slots``, that save
        allocations. The base optimizer keeps none.

        Parameters
        ----------
        value : np.ndarray
            The variable's value (its shape and dtype are what matter).

        Returns
        -------
        dict of str to np.ndarray
            The arrays by slot name.
        """
        return {}

    @property
    def model_variables(self) -> list[Variable]:
        """The variables the optimizer was built for, in build order (empty before it is built)."""
        return list(self._variables)

    @property
    def has_schedule(self) -> bool:
        """Whether the learning rate is a schedule (a callable of the step) rather than a number."""
        return callable(self._learning_rate)

    def state_slots(self) -> list[dict[str, np.ndarray]]:
        """The state of each variable the optimizer was built for, in build order, by slot name.

        These are the arrays a saved model keeps (Keras's optimizer variables, less the step count); writing into
        them restores a state. Work buffers are left out: every step rewrites them before reading, so they hold
        nothing worth saving.

        Returns
        -------
        list of dict of str to np.ndarray
            One dict per variable; empty before the optimizer is built.
        """
        if not self.built:
            return []
        return [{k: a for k, a in slots.items() if k not in self.scratch_slots} for slots in self._slots]

    def apply_gradients(self, grads_and_vars) -> int:
        """One update from ``(gradient, variable)`` pairs, as Keras's ``apply_gradients``.

        Parameters
        ----------
        grads_and_vars : iterable of (array_like or Tensor, Variable)
            The gradients and their variables, e.g. ``zip(grads, variables)``.

        Returns
        -------
        int
            The new step count.
        """
        grads, variables = zip(*grads_and_vars)
        return self.apply(grads, variables)

    def apply(self, grads: Sequence[np.ndarray], variables: Sequence[Variable] | None = None) -> int:
        """One update of every variable with its gradient; returns the new step count.

        The gradients are clipped as the optimizer's settings say, the learning rate is read at the current step,
        the step count is increased, each variable is updated in place and then, where it has a ``constraint``,
        projected, as Keras applies constraints.

        Parameters
        ----------
        grads : sequence of np.ndarray or Tensor
            One gradient per variable, of its shape.
        variables : sequence of Variable or None, default None
            The variables; None means those the optimizer was built for. The first call builds the optimizer for
            them.

        Returns
        -------
        int
            The new step count (``iterations``).

        Raises
        ------
        ValueError
            If the numbers of gradients and variables differ, a variable is not one the optimizer was built for, or
            a gradient's shape differs from its variable's.

        Examples
        --------
        >>> import numpy as np
        >>> from deepfin import Variable, optimizers
        >>> w = Variable(np.array([1.0, 2.0]))
        >>> sgd = optimizers.SGD(learning_rate=0.1)
        >>> sgd.apply([np.array([1.0, -1.0])], [w])
        1
        >>> w.numpy()
        array([0.9, 2.1])
        """
        if variables is None:
            variables = self._variables
        if not self.built:
            self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Got {len(grads)} gradients for {len(variables)} variables.")
        grad_at = {}
        for grad, variable in zip(grads, variables):
            index = self._index.get(id(variable))
            if index is None:
                raise ValueError(
                    f"Variable '{variable.path}' is not one this optimizer was built for. Build "
                    "a new optimizer (or call build()) for a new set of variables."
                )
            grad = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
            if grad.shape != variable.data.shape:
                raise ValueError(
                    f"Gradient of shape {grad.shape} does not fit variable '{variable.path}' "
                    f"of shape {variable.data.shape}."
                )
            grad_at[index] = grad
        if self.clipnorm or self.clipvalue or self.global_clipnorm:
            grad_at = dict(zip(grad_at, self._clip(list(grad_at.values()))))
        lr = self.learning_rate
        self.iterations += 1
        done = self._packed.update(grad_at, lr) if self._packed is not None else ()
        for index, grad in grad_at.items():
            if index not in done:
                self._step(grad, self._variables[index].data, lr, self._slots[index], self._slot_rows[index])
        for index in grad_at:  # constraints act on the updated values, as Keras applies them
            variable = self._variables[index]
            if getattr(variable, "constraint", None) is not None:
                np.copyto(variable.data, variable.constraint(variable.data))
        return self.iterations

    def update_step(self, grad: np.ndarray, var: np.ndarray, lr: float, slots: dict) -> None:
        """One update of ``var`` in place with its gradient, in NumPy: the optimizer's formula as written.

        Parameters
        ----------
        grad : np.ndarray
            The (clipped) gradient.
        var : np.ndarray
            The variable's array, updated in place.
        lr : float
            The learning rate of this step.
        slots : dict of str to np.ndarray
            The variable's arrays made by ``create_slots``.
        """
        raise NotImplementedError

    def compiled_form(self) -> tuple[int, tuple[str, ...], list[float]] | None:
        """The optimizer as ``compiled.update`` runs it, or None when it has none.

        Returns
        -------
        tuple of (int, tuple of str, list of float) or None
            Its code there, the names of its state slots in the loop's order and its settings; None for an
            optimizer without one (a subclass that writes its own ``update_step``).
        """
        return None

    def compiled_rate(self, lr: float, step: int) -> float:
        """The rate ``compiled.update`` takes at step count ``step`` for learning rate ``lr``.

        It is the learning rate itself, except where the formula folds more into it (Adam).

        Parameters
        ----------
        lr : float
            The learning rate of the step.
        step : int
            The step count, counting that step.

        Returns
        -------
        float
            The rate passed to ``compiled.update``.
        """
        return lr

    def _own_form(self, cls: type[Optimizer], code: int, slots: tuple[str, ...],
                  settings: list[float]) -> tuple[int, tuple[str, ...], list[float]] | None:
        """``cls``'s compiled form for this optimizer, unless its class replaces ``cls.update_step``."""
        return (code, slots, settings) if type(self).update_step is cls.update_step else None

    def _step(self, grad: np.ndarray, var: np.ndarray, lr: float, slots: dict, rows: np.ndarray | None) -> None:
        """One update of ``var``: compiled (one pass) where it has slot ``rows`` and the kernels are on, else
        ``update_step``."""
        form = self.compiled_form() if rows is not None and backend.compiled() else None
        if form is None or len(form[1]) != len(rows) or not var.flags.c_contiguous:
            self.update_step(grad, var, lr, slots)
            return
        dtype = var.dtype
        compiled.update(form[0], np.array(form[2], dtype), dtype.type(self.compiled_rate(lr, self.iterations)),
                        var.reshape(-1), np.ascontiguousarray(grad, dtype).reshape(-1), rows)

    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            return [g * min(1.0, self.clipnorm / max(float(np.linalg.norm(g)), 1e-12)) for g in grads]
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
            return [g * min(1.0, self.global_clipnorm / max(norm, 1e-12)) for g in grads]
        return grads

    # ------------------------------------------------------------ config
    def get_config(self) -> dict:
        """The constructor arguments as a dict that ``from_config`` takes.

        A schedule is serialized; a learning rate that is another callable is recorded as None.
        """
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        return {"name": self.name, "learning_rate": lr if not callable(lr) else None,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        """An optimizer made from ``get_config``'s dict."""
        return cls(**config)


class _Packed:
    """Small variables sharing one buffer, with the optimizer's state for them likewise packed."""

    def __init__(self, optimizer: Optimizer, indices: list[int]):
        variables = [optimizer._variables[i] for i in indices]
        self.indices = indices
        self.params = np.concatenate([v.data.ravel() for v in variables])
        self.grad = np.empty_like(self.params)
        self.slots, self.rows = optimizer._create_state(self.params)
        self.views, offset = [], 0
        for i, v in zip(indices, variables):
            segment = slice(offset, offset + v.size)
            v.use_storage(self.params[segment].reshape(v.shape))
            self.views.append(v.data)
            optimizer._slots[i] = {k: a[segment].reshape(v.shape) for k, a in self.slots.items()}
            offset += v.size
        self.optimizer = optimizer
        self.members = frozenset(indices)

    def update(self, grad_at: dict, lr: float) -> frozenset:
        """Update every member at once if all have gradients; returns the indices updated."""
        if not self.members.issubset(grad_at):
            return frozenset()
        variables = self.optimizer._variables
        for i, view in zip(self.indices, self.views):
            if variables[i].data is not view:  # rebound from outside: take its value back in
                variables[i].use_storage(view)
        np.concatenate([grad_at[i] for i in self.indices], axis=None, out=self.grad)
        self.optimizer._step(self.grad, self.params, lr, self.slots, self.rows)
        return self.members


def check_unit(name: str, value: float, closed_right: bool = False) -> float:
    """A hyperparameter checked to lie in [0, 1) (or [0, 1] with ``closed_right``), as a Python float.

    Parameters
    ----------
    name : str
        The hyperparameter's name, for the error.
    value : float
        Its value.
    closed_right : bool, default False
        Whether 1 is allowed.

    Returns
    -------
    float
        ``value`` as a Python float.

    Raises
    ------
    ValueError
        If ``value`` is not a number in the interval (a bool is not one).
    """
    ok = 0 <= value <= 1 if closed_right else 0 <= value < 1
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok:
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{name} must be a float in {interval}. Received: {name}={value!r}")
    return float(value)


def decay_toward_square(average: np.ndarray, value: np.ndarray, rho: float, scratch: np.ndarray) -> None:
    """``average = rho * average + (1 - rho) * value**2`` in place (``scratch``: a buffer of the same shape)."""
    average *= rho
    np.multiply(value, value, out=scratch)
    scratch *= 1.0 - rho
    average += scratch
