"""Custom objects (layers, activations, losses, metrics) known by name while a model loads."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

_SCOPE: ContextVar[dict | None] = ContextVar("deepfin_custom_objects", default=None)


@contextlib.contextmanager
def custom_object_scope(objects: dict | None):
    """Make ``objects`` (name -> class or function) resolvable by name inside the block."""
    token = _SCOPE.set({**(_SCOPE.get() or {}), **(objects or {})})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def lookup(name: str):
    """The custom object registered under ``name``, or None."""
    return (_SCOPE.get() or {}).get(name)
