"""Adagrad: steps scaled by the root of each weight's summed squared gradients (Keras 3's formulas)."""

from __future__ import annotations

import numpy as np

from deepfin.optimizers import compiled
from deepfin.optimizers.base import Optimizer


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates that shrink with the accumulated squared gradients, as Keras's ``Adagrad``.

    Update: ``a += g**2; w -= lr * g / sqrt(a + epsilon)``.

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        As for ``Optimizer``.
    initial_accumulator_value : float, default 0.1
        The accumulators' first value; non-negative.
    epsilon : float, default 1e-7
        Added to the accumulator under the square root.
    **kwargs
        ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name`` or ``lr``, as for ``Optimizer``.

    Raises
    ------
    ValueError
        If ``initial_accumulator_value`` is negative, besides ``Optimizer``'s checks.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if initial_accumulator_value < 0:
            raise ValueError(
                "initial_accumulator_value must be non-negative. "
                f"Received: initial_accumulator_value={initial_accumulator_value}"
            )
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def create_slots(self, value):
        """The accumulator (filled with ``initial_accumulator_value``) and a work buffer."""
        return {"accumulator": np.full_like(value, self.initial_accumulator_value),
                "scratch": np.empty_like(value)}

    def update_step(self, grad, var, lr, slots):
        """``a += g**2; w -= lr * g / sqrt(a + epsilon)``, in place."""
        acc, scratch = slots["accumulator"], slots["scratch"]
        np.multiply(grad, grad, out=scratch)
        acc += scratch
        np.add(acc, self.epsilon, out=scratch)
        np.sqrt(scratch, out=scratch)
        np.divide(grad, scratch, out=scratch)
        scratch *= lr
        var -= scratch

    def compiled_form(self):
        """Adagrad's code, its accumulator slot and ``[epsilon]``."""
        return self._own_form(Adagrad, compiled.ADAGRAD, ("accumulator",), [self.epsilon])

    def get_config(self):
        """The base config plus ``initial_accumulator_value`` and ``epsilon``."""
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
