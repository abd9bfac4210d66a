"""RMSprop: steps scaled by a moving average of squared gradients (Keras 3's formulas)."""

from __future__ import annotations

import numpy as np

from deepfin.optimizers import compiled
from deepfin.optimizers.base import Optimizer, check_unit, decay_toward_square


class RMSprop(Optimizer):
    """RMSprop: the gradient divided by a moving root mean square of its past values, as Keras's ``RMSprop``.

    Update: ``v = rho * v + (1 - rho) * g**2; w -= lr * g / sqrt(v + epsilon)``. ``centered`` subtracts the
    square of a moving average of the gradient, ``a``, under the root (``sqrt(v - a**2 + epsilon)``); with
    ``momentum`` the step feeds a velocity, ``m = momentum * m + step; w -= m``.

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        As for ``Optimizer``.
    rho : float, default 0.9
        Decay of the moving average of squared gradients; in [0, 1).
    momentum : float, default 0.0
        In [0, 1]; 0 keeps no velocity.
    epsilon : float, default 1e-7
        Added under the square root.
    centered : bool, default False
        Whether to normalize by the estimated variance rather than the second moment.
    **kwargs
        ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name`` or ``lr``, as for ``Optimizer``.

    Raises
    ------
    ValueError
        If ``rho`` is outside [0, 1) or ``momentum`` outside [0, 1], besides ``Optimizer``'s checks.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = check_unit("rho", rho)
        self.momentum = check_unit("momentum", momentum, closed_right=True)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def create_slots(self, value):
        """The velocity, a work buffer, and ``momentum`` and ``average_gradient`` when used."""
        slots = {"velocity": np.zeros_like(value), "scratch": np.empty_like(value)}
        if self.momentum:
            slots["momentum"] = np.zeros_like(value)
        if self.centered:
            slots["average_gradient"] = np.zeros_like(value)
        return slots

    def update_step(self, grad, var, lr, slots):
        """One RMSprop step in place (centered and with momentum as configured)."""
        velocity, scratch = slots["velocity"], slots["scratch"]
        rho = self.rho
        decay_toward_square(velocity, grad, rho, scratch)
        if self.centered:
            average = slots["average_gradient"]
            average *= rho
            average += grad * (1.0 - rho)
            np.multiply(average, average, out=scratch)
            np.subtract(velocity, scratch, out=scratch)
            scratch += self.epsilon
        else:
            np.add(velocity, self.epsilon, out=scratch)
        np.sqrt(scratch, out=scratch)
        np.divide(grad, scratch, out=scratch)
        scratch *= lr
        if self.momentum:
            m = slots["momentum"]
            m *= self.momentum
            m += scratch
            var -= m
        else:
            var -= scratch

    def compiled_form(self):
        """RMSprop's code, its slots in the loop's order and its settings."""
        slots = ("velocity",) + (("momentum",) if self.momentum else ()) + \
            (("average_gradient",) if self.centered else ())
        return self._own_form(RMSprop, compiled.RMSPROP, slots,
                              [self.rho, 1.0 - self.rho, self.momentum, self.epsilon, float(self.centered)])

    def get_config(self):
        """The base config plus ``rho``, ``momentum``, ``epsilon`` and ``centered``."""
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
