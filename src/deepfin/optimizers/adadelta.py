"""Adadelta: steps scaled by moving averages of past steps and gradients (Keras 3's formulas)."""

from __future__ import annotations

import numpy as np

from deepfin.optimizers import compiled
from deepfin.optimizers.base import Optimizer, check_unit, decay_toward_square


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of moving RMS of past steps and of gradients, as Keras's ``Adadelta``.

    Update: ``a = rho * a + (1 - rho) * g**2; d = -sqrt(b + epsilon) * g / sqrt(a + epsilon);
    b = rho * b + (1 - rho) * d**2; w += lr * d`` (Keras 3's form, with its learning rate of 0.001).

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        As for ``Optimizer``.
    rho : float, default 0.95
        Decay of both moving averages; in [0, 1).
    epsilon : float, default 1e-7
        Added under both square roots.
    **kwargs
        ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name`` or ``lr``, as for ``Optimizer``.

    Raises
    ------
    ValueError
        If ``rho`` is outside [0, 1), besides ``Optimizer``'s checks.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = check_unit("rho", rho)
        self.epsilon = float(epsilon)

    def create_slots(self, value):
        """The accumulated squared gradients and steps, and two work buffers."""
        return {"accumulated_grad": np.zeros_like(value), "accumulated_delta": np.zeros_like(value),
                "scratch": np.empty_like(value), "scratch2": np.empty_like(value)}

    def update_step(self, grad, var, lr, slots):
        """One Adadelta step in place."""
        acc_grad, acc_delta = slots["accumulated_grad"], slots["accumulated_delta"]
        s, s2 = slots["scratch"], slots["scratch2"]
        rho = self.rho
        decay_toward_square(acc_grad, grad, rho, s)
        np.add(acc_delta, self.epsilon, out=s)
        np.sqrt(s, out=s)
        s *= grad
        np.add(acc_grad, self.epsilon, out=s2)
        np.sqrt(s2, out=s2)
        s /= s2  # s = -delta
        decay_toward_square(acc_delta, s, rho, s2)
        s *= lr
        var -= s

    def compiled_form(self):
        """Adadelta's code, its two accumulator slots and ``[rho, 1 - rho, epsilon]``."""
        return self._own_form(Adadelta, compiled.ADADELTA, ("accumulated_grad", "accumulated_delta"),
                              [self.rho, 1.0 - self.rho, self.epsilon])

    def get_config(self):
        """The base config plus ``rho`` and ``epsilon``."""
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
