"""Custom objects (layers, activations, losses, metrics) known by name while a model loads.

Two sources, as in Keras: ``custom_object_scope`` (and ``custom_objects=`` arguments) for one block,
and ``register_keras_serializable`` for the whole session. Configs name an object by its short name
(a class's or function's own name); a registered object is also found by ``"package>name"``.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

_SCOPE: ContextVar[dict | None] = ContextVar("deepfin_custom_objects", default=None)
_REGISTERED: dict[str, object] = {}  # "package>name" -> class or function
_NAMES: dict[int, str] = {}  # id(object) -> its registered name


@contextlib.contextmanager
def custom_object_scope(objects: dict | None):
    """Make ``objects`` (name -> class or function) resolvable by name inside the block."""
    token = _SCOPE.set({**(_SCOPE.get() or {}), **(objects or {})})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def register(obj, package: str, name: str | None) -> None:
    """Register ``obj`` for every lookup of the session, as ``package>name``."""
    if not callable(obj):
        raise TypeError(f"Only classes and functions can be registered. Received: {obj!r}")
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"package must be a non-empty string without '>'. Received: package={package!r}")
    registered_name = f"{package}>{name or obj.__name__}"
    _REGISTERED[registered_name] = obj
    _NAMES[id(obj)] = registered_name


def registered_name(obj) -> str:
    """``"package>name"`` for a registered object, else the object's own name."""
    return _NAMES.get(id(obj)) or obj.__name__


def lookup(name: str):
    """The custom object known as ``name`` in the current scope or the registry, or None.

    A short name matching objects registered under several packages is ambiguous and raises.
    """
    scoped = (_SCOPE.get() or {}).get(name)
    if scoped is not None or name in _REGISTERED:
        return scoped if scoped is not None else _REGISTERED[name]
    matches = {id(obj): obj for key, obj in _REGISTERED.items()
               if name in (key.split(">", 1)[1], getattr(obj, "__name__", None))}
    if len(matches) > 1:
        candidates = sorted(key for key, obj in _REGISTERED.items() if id(obj) in matches)
        raise ValueError(
            f"The name {name!r} matches several registered objects: {candidates}. Pass the one meant "
            f"in custom_objects={{{name!r}: ...}}."
        )
    return next(iter(matches.values()), None)
