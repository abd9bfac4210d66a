"""Adam and AMSGrad (Keras 3's formulas)."""

from __future__ import annotations

import math

import numpy as np

from deepfin.optimizers import compiled
from deepfin.optimizers.base import Optimizer, check_unit


class Adam(Optimizer):
    """Adam: moving averages of the gradient and its square, bias-corrected, as Keras's ``Adam``.

    Update: ``m += (g - m) * (1 - beta_1); v += (g**2 - v) * (1 - beta_2); w -= alpha * m / (sqrt(v) + epsilon)``,
    with ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` at step ``t`` (Keras's 'epsilon hat' form).
    ``amsgrad`` uses the running maximum of ``v`` in its place.

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        As for ``Optimizer``.
    beta_1 : float, default 0.9
        Decay of the first moment; in [0, 1).
    beta_2 : float, default 0.999
        Decay of the second moment; in [0, 1).
    epsilon : float, default 1e-7
        Added to ``sqrt(v)``.
    amsgrad : bool, default False
        Whether to use the AMSGrad variant.
    **kwargs
        ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name`` or ``lr``, as for ``Optimizer``.

    Raises
    ------
    ValueError
        If ``beta_1`` or ``beta_2`` is outside [0, 1), besides ``Optimizer``'s checks.

    Examples
    --------
    The first step moves every weight by about ``lr`` against its gradient's sign:

    >>> import numpy as np
    >>> from deepfin import Variable, optimizers
    >>> w = Variable(np.array([1.0, 1.0]))
    >>> adam = optimizers.Adam(learning_rate=0.01)
    >>> _ = adam.apply([np.array([3.0, -0.5])], [w])
    >>> np.round(w.numpy(), 4)
    array([0.99, 1.01])
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_unit("beta_1", beta_1)
        self.beta_2 = check_unit("beta_2", beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def create_slots(self, value):
        """The moments ``m`` and ``v``, two work buffers and ``v_hat`` with ``amsgrad``."""
        slots = {"m": np.zeros_like(value), "v": np.zeros_like(value),
                 "scratch": np.empty_like(value), "scratch2": np.empty_like(value)}
        if self.amsgrad:
            slots["v_hat"] = np.zeros_like(value)
        return slots

    def update_step(self, grad, var, lr, slots):
        """One Adam step in place, at the step count ``iterations`` (which counts this step)."""
        t = self.iterations  # already counts this step
        alpha = lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        m, v, s, s2 = slots["m"], slots["v"], slots["scratch"], slots["scratch2"]
        np.subtract(grad, m, out=s)
        s *= 1.0 - self.beta_1
        m += s
        np.multiply(grad, grad, out=s)
        s -= v
        s *= 1.0 - self.beta_2
        v += s
        if self.amsgrad:
            np.maximum(slots["v_hat"], v, out=slots["v_hat"])
            v = slots["v_hat"]
        np.sqrt(v, out=s)
        s += self.epsilon
        np.multiply(m, alpha, out=s2)
        s2 /= s
        var -= s2

    def compiled_form(self):
        """Adam's code, its moment slots and ``[1 - beta_1, 1 - beta_2, epsilon, amsgrad]``."""
        return self._own_form(Adam, compiled.ADAM, ("m", "v") + (("v_hat",) if self.amsgrad else ()),
                              [1.0 - self.beta_1, 1.0 - self.beta_2, self.epsilon, float(self.amsgrad)])

    def compiled_rate(self, lr, step):
        """Adam's ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` at ``t = step``."""
        return lr * math.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step)

    def get_config(self):
        """The base config plus ``beta_1``, ``beta_2``, ``epsilon`` and ``amsgrad``."""
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
