"""A ceiling on the weights that layers may create while a model is rebuilt from a file.

A file's config may declare ``Dense(10**12)``: building it would allocate terabytes before its weights were
compared with the file's. ``weight_budget(n)`` lets the layers built inside it create at most ``n`` values
in all (the file's own weights hold that many, and a model that needs more cannot be the one saved);
``claim(shape, name)``, which ``Layer.add_weight`` calls before it allocates, raises ``ValueError`` past
the ceiling. Outside a budget, ``claim`` does nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

_LEFT: contextvars.ContextVar[list | None] = contextvars.ContextVar("deepfin_weight_budget", default=None)


@contextlib.contextmanager
def weight_budget(values: int):
    """Inside it, layers may create weights of ``values`` values in all."""
    token = _LEFT.set([int(values), int(values)])
    try:
        yield
    finally:
        _LEFT.reset(token)


def claim(shape: tuple[int, ...], name: str) -> None:
    """Take the values of a weight of ``shape`` from the budget; a ``ValueError`` naming it when they do not fit
    (the size is computed in Python integers: no overflow)."""
    budget = _LEFT.get()
    if budget is None:
        return
    size = math.prod(shape)
    if any(d < 0 for d in shape) or size > budget[0]:
        raise ValueError(f"weight '{name}' of shape {shape} would bring the model to {budget[1] - budget[0] + size:,} "
                         f"values, more than the file's weights hold ({budget[1]:,} values in all): the architecture "
                         "does not match the weights. Refused before allocating.")
    budget[0] -= size
