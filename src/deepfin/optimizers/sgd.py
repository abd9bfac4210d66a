"""Stochastic gradient descent, with momentum and Nesterov's variant (Keras 3's formulas)."""

from __future__ import annotations

import numpy as np

from deepfin.optimizers import compiled
from deepfin.optimizers.base import Optimizer, check_unit


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum, as Keras's ``SGD``.

    Update: ``v = momentum * v - lr * g; w += v`` (or Nesterov: ``w += momentum * v - lr * g``); without
    momentum, ``w -= lr * g``.

    Parameters
    ----------
    learning_rate : float or callable, default 0.01
        As for ``Optimizer``.
    momentum : float, default 0.0
        In [0, 1]; 0 keeps no velocity.
    nesterov : bool, default False
        Whether to use Nesterov momentum.
    **kwargs
        ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name`` or ``lr``, as for ``Optimizer``.

    Raises
    ------
    ValueError
        If ``momentum`` is outside [0, 1], besides ``Optimizer``'s checks.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import Variable, optimizers
    >>> w = Variable(np.array([1.0]))
    >>> sgd = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     _ = sgd.apply([np.array([1.0])], [w])
    >>> np.round(w.numpy(), 6)
    array([0.71])
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_unit("momentum", momentum, closed_right=True)
        self.nesterov = bool(nesterov)

    def create_slots(self, value):
        """A velocity (``momentum``) and a work buffer when ``momentum`` is non-zero, else none."""
        return {"momentum": np.zeros_like(value), "scratch": np.empty_like(value)} if self.momentum else {}

    def update_step(self, grad, var, lr, slots):
        """``v = momentum * v - lr * g; w += v`` (Nesterov: ``w += momentum * v - lr * g``), in place."""
        if not self.momentum:
            var -= grad * lr
            return
        m, scratch = slots["momentum"], slots["scratch"]
        np.multiply(grad, lr, out=scratch)
        m *= self.momentum
        m -= scratch
        if self.nesterov:
            var += m * self.momentum - scratch
        else:
            var += m

    def compiled_form(self):
        """SGD's code, its velocity slot (with momentum) and ``[momentum, nesterov]``."""
        return self._own_form(SGD, compiled.SGD, ("momentum",) if self.momentum else (),
                              [self.momentum, float(self.nesterov)])

    def get_config(self):
        """The base config plus ``momentum`` and ``nesterov``."""
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
