"""Learning-rate schedules with Keras 3's names, arguments and formulas (``keras.optimizers.schedules``).

A schedule is a callable of the optimizer's step count (0 on the first update) returning the learning rate as a
Python float; pass one as ``learning_rate`` and ``optimizer.learning_rate`` reads the current value. Schedules
serialize with ``get_config`` / ``serialize`` so that a saved model's optimizer keeps its schedule.
"""

from __future__ import annotations

import math


class LearningRateSchedule:
    """The base class: subclasses define ``__call__(step)`` and ``get_config()``.

    Examples
    --------
    >>> from deepfin.optimizers import schedules
    >>> class Halving(schedules.LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 / 2 ** (step // 100)
    ...     def get_config(self):
    ...         return {}
    >>> Halving()(250)
    0.025
    """

    def __call__(self, step) -> float:
        """The learning rate at step count ``step``; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step).")

    def get_config(self) -> dict:
        """The constructor arguments as a dict; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must define get_config().")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        """A schedule made from ``get_config``'s dict."""
        return cls(**config)


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
    return value


class _DecayBySteps(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments and the elapsed fraction of
    ``decay_steps`` (floored with ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, _positive("decay_steps", decay_steps)
        self.decay_rate, self.staircase, self.name = decay_rate, bool(staircase), name or type(self).__name__

    def _elapsed(self, step) -> float:
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_DecayBySteps):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored with ``staircase``).

    As Keras's ``ExponentialDecay``.

    Parameters
    ----------
    initial_learning_rate : float
        The rate at step 0.
    decay_steps : int or float
        The steps over which the rate is multiplied by ``decay_rate``; positive.
    decay_rate : float
        The factor per ``decay_steps``.
    staircase : bool, default False
        Whether to floor ``step / decay_steps``, so the rate drops in steps.
    name : str or None, default None
        The schedule's name; None gives the class name.

    Raises
    ------
    ValueError
        If ``decay_steps`` is not a positive number.

    Examples
    --------
    >>> from deepfin import optimizers
    >>> from deepfin.optimizers import schedules
    >>> schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> schedule(0), schedule(10), schedule(20)
    (0.1, 0.05, 0.025)
    >>> optimizers.SGD(learning_rate=schedule).learning_rate
    0.1
    """

    def __call__(self, step) -> float:
        """The learning rate at step count ``step``."""
        return float(self.initial_learning_rate * self.decay_rate ** self._elapsed(step))


class InverseTimeDecay(_DecayBySteps):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio floored with ``staircase``).

    As Keras's ``InverseTimeDecay``.

    Parameters
    ----------
    initial_learning_rate : float
        The rate at step 0.
    decay_steps : int or float
        The unit of ``step`` in the formula; positive.
    decay_rate : float
        How fast the rate falls.
    staircase : bool, default False
        Whether to floor ``step / decay_steps``.
    name : str or None, default None
        The schedule's name; None gives the class name.

    Raises
    ------
    ValueError
        If ``decay_steps`` is not a positive number.
    """

    def __call__(self, step) -> float:
        """The learning rate at step count ``step``."""
        return float(self.initial_learning_rate / (1 + self.decay_rate * self._elapsed(step)))


class PiecewiseConstantDecay(LearningRateSchedule):
    """Constant rates: ``values[i]`` up to and including step ``boundaries[i]``, then ``values[-1]``.

    As Keras's ``PiecewiseConstantDecay``.

    Parameters
    ----------
    boundaries : sequence of int
        Increasing step counts.
    values : sequence of float
        The rates, one more than the boundaries.
    name : str, default "PiecewiseConstant"
        The schedule's name.

    Raises
    ------
    ValueError
        If ``values`` does not have one more element than ``boundaries``, or the boundaries do not increase.

    Examples
    --------
    >>> from deepfin.optimizers import schedules
    >>> schedule = schedules.PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001])
    >>> schedule(100), schedule(101), schedule(500)
    (0.1, 0.01, 0.001)
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. Received: "
                             f"boundaries={boundaries} of length {len(boundaries)}, values={values} of length "
                             f"{len(values)}.")
        if any(b >= a for a, b in zip(boundaries[1:], boundaries)):
            raise ValueError(f"boundaries must increase. Received: boundaries={boundaries}")
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step) -> float:
        """The learning rate at step count ``step``."""
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict:
        """``boundaries``, ``values`` and ``name``."""
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """A polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``.

    The rate follows ``(initial_learning_rate - end_learning_rate) * (1 - step / decay_steps) ** power +
    end_learning_rate``, then stays constant; with ``cycle`` the decay restarts over a multiple of ``decay_steps``
    (the smallest one that is at least ``step``). As Keras's ``PolynomialDecay``.

    Parameters
    ----------
    initial_learning_rate : float
        The rate at step 0.
    decay_steps : int or float
        The length of the decay; positive.
    end_learning_rate : float, default 0.0001
        The rate at the end of the decay.
    power : float, default 1.0
        The polynomial's power; 1 is a linear decay.
    cycle : bool, default False
        Whether to restart the decay past ``decay_steps``.
    name : str, default "PolynomialDecay"
        The schedule's name.

    Raises
    ------
    ValueError
        If ``decay_steps`` is not a positive number.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, _positive("decay_steps", decay_steps)
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, bool(cycle), name

    def __call__(self, step) -> float:
        """The learning rate at step count ``step``."""
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps = decay_steps * max(1, math.ceil(step / decay_steps))
        else:
            step = min(step, decay_steps)
        fraction = 1 - step / decay_steps
        return float((self.initial_learning_rate - self.end_learning_rate) * fraction ** self.power
                     + self.end_learning_rate)

    def get_config(self) -> dict:
        """The constructor arguments as a dict."""
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """A cosine decay, optionally after a linear warmup (Loshchilov and Hutter), as Keras's ``CosineDecay``.

    With ``warmup_target`` the rate rises linearly from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``; then it decays over ``decay_steps`` along ``0.5 * (1 + cos(pi * progress))`` to ``alpha``
    times the rate it started from, and stays there.

    Parameters
    ----------
    initial_learning_rate : float
        The rate at step 0.
    decay_steps : int or float
        The length of the cosine decay; positive.
    alpha : float, default 0.0
        The final rate as a fraction of the rate the decay started from.
    name : str, default "CosineDecay"
        The schedule's name.
    warmup_target : float or None, default None
        The rate at the end of the warmup; None means no warmup.
    warmup_steps : int, default 0
        The length of the warmup.

    Raises
    ------
    ValueError
        If ``decay_steps`` is not a positive number.

    Examples
    --------
    >>> from deepfin.optimizers import schedules
    >>> schedule = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)
    >>> schedule(5), schedule(10), round(schedule(60), 6), schedule(200)
    (0.05, 0.1, 0.05, 0.0)
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, _positive("decay_steps", decay_steps)
        self.alpha, self.name, self.warmup_target, self.warmup_steps = alpha, name, warmup_target, warmup_steps

    def __call__(self, step) -> float:
        """The learning rate at step count ``step``."""
        if self.warmup_target is None:
            start = self.initial_learning_rate
        elif step < self.warmup_steps:
            return float(self.initial_learning_rate
                         + (self.warmup_target - self.initial_learning_rate) * step / self.warmup_steps)
        else:
            start = self.warmup_target
        progress = min(step - self.warmup_steps, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return float(start * ((1 - self.alpha) * cosine + self.alpha))

    def get_config(self) -> dict:
        """The constructor arguments as a dict."""
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                          PolynomialDecay, CosineDecay)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """A schedule as a ``{"class_name": ..., "config": ...}`` dict, which ``deserialize`` reads.

    Parameters
    ----------
    schedule : LearningRateSchedule
        The schedule to describe.

    Returns
    -------
    dict
        The class name and ``schedule.get_config()``.
    """
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict) -> LearningRateSchedule:
    """A schedule from ``serialize``'s dict; only the built-in schedules are known.

    Parameters
    ----------
    config : dict
        ``{"class_name": ..., "config": ...}``.

    Returns
    -------
    LearningRateSchedule
        The schedule.

    Raises
    ------
    ValueError
        If ``config`` is not a dict naming a built-in schedule.
    """
    cls = _BY_NAME.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"Unknown learning-rate schedule: {config!r}. Expected one of {sorted(_BY_NAME)}.")
    return cls.from_config(config.get("config", {}))
