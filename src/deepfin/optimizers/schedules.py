"""Learning-rate schedules with Keras 3's names, arguments and formulas (``keras.optimizers.schedules``).

A schedule is a callable of the optimizer's step count (0 on the first update) returning the learning rate as a
Python float; pass one as ``learning_rate`` and ``optimizer.learning_rate`` reads the current value. Schedules
serialize with ``get_config`` / ``serialize`` so that a saved model's optimizer keeps its schedule.
"""

from __future__ import annotations

import math


class LearningRateSchedule:
    """The base class: subclasses define ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step).")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config().")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
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
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored with ``staircase``)."""

    def __call__(self, step) -> float:
        return float(self.initial_learning_rate * self.decay_rate ** self._elapsed(step))


class InverseTimeDecay(_DecayBySteps):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio floored with ``staircase``)."""

    def __call__(self, step) -> float:
        return float(self.initial_learning_rate / (1 + self.decay_rate * self._elapsed(step)))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` up to and including step ``boundaries[0]``, ``values[i]`` up to ``boundaries[i]``, then
    ``values[-1]``."""

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
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps`` along ``(1 - step /
    decay_steps) ** power``, then constant; with ``cycle`` the decay restarts over a multiple of ``decay_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, _positive("decay_steps", decay_steps)
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, bool(cycle), name

    def __call__(self, step) -> float:
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps = decay_steps * max(1, math.ceil(step / decay_steps))
        else:
            step = min(step, decay_steps)
        fraction = 1 - step / decay_steps
        return float((self.initial_learning_rate - self.end_learning_rate) * fraction ** self.power
                     + self.end_learning_rate)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Optionally a linear warmup from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then
    a cosine decay over ``decay_steps`` to ``alpha`` times the rate it started from (Loshchilov and Hutter)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, _positive("decay_steps", decay_steps)
        self.alpha, self.name, self.warmup_target, self.warmup_steps = alpha, name, warmup_target, warmup_steps

    def __call__(self, step) -> float:
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
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                          PolynomialDecay, CosineDecay)}


def serialize(schedule: LearningRateSchedule) -> dict:
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict) -> LearningRateSchedule:
    """A schedule from ``serialize``'s dict; only the built-in schedules are known."""
    cls = _BY_NAME.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"Unknown learning-rate schedule: {config!r}. Expected one of {sorted(_BY_NAME)}.")
    return cls.from_config(config.get("config", {}))
