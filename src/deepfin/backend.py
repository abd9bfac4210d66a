"""Global settings shared by the whole library: float dtype, random generator, layer names.

Mirrors ``keras.backend``: ``floatx()``, ``set_floatx()``, ``epsilon()``, ``clear_session()``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import defaultdict

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_ALLOWED_FLOATX = ("float16", "float32", "float64")
_name_counts: defaultdict[str, int] = defaultdict(int)
_rng = np.random.default_rng()
_COMPILED = os.environ.get("DEEPFIN_COMPILED", "1").strip().lower() not in ("0", "false", "no", "off")


def floatx() -> str:
    """The default float dtype name ('float32' unless changed)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype: 'float16', 'float32' or 'float64'."""
    global _FLOATX
    if value not in _ALLOWED_FLOATX:
        raise ValueError(f"Unknown floatx type: {value!r}. Expected one of {_ALLOWED_FLOATX}.")
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor used by losses that clip probabilities (1e-7, as Keras)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def compiled() -> bool:
    """Whether models that fit a compiled pattern train on the compiled kernels (``deepfin.kernels``).

    On by default; ``DEEPFIN_COMPILED=0`` in the environment turns it off for a process.
    """
    return _COMPILED


def set_compiled(value: bool) -> None:
    """Train on the compiled kernels where a model fits them (True) or always on the eager engine (False)."""
    global _COMPILED
    if not isinstance(value, bool):
        raise TypeError(f"set_compiled takes True or False. Received: {value!r}")
    _COMPILED = value


def rng() -> np.random.Generator:
    """The generator behind initializers, dropout and shuffling."""
    return _rng


def set_seed(seed: int | None) -> None:
    """Re-seed the library's generator, so that runs repeat."""
    global _rng
    _rng = np.random.default_rng(seed)


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def get_rng_state() -> dict:
    """The library generator's state as a JSON-able dict (``set_rng_state`` puts it back)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Put the library's generator in ``state``, as ``get_rng_state`` returned it: the draws that
    follow repeat those that followed it."""
    global _rng
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if kind not in _BIT_GENERATORS:
        raise ValueError(
            f"state must be a dict from get_rng_state() naming one of NumPy's bit generators "
            f"{_BIT_GENERATORS}. Received: state={state!r}"
        )
    if type(_rng.bit_generator).__name__ != kind:
        _rng = np.random.Generator(getattr(np.random, kind)())
    _rng.bit_generator.state = state


def unique_name(base: str) -> str:
    """Keras-style unique names: 'dense', 'dense_1', 'dense_2', ..."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def snake_case(class_name: str) -> str:
    """'BatchNormalization' -> 'batch_normalization', as Keras names layers."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def clear_session() -> None:
    """Reset layer-name counters, as ``keras.backend.clear_session``."""
    _name_counts.clear()


@contextlib.contextmanager
def seeded(seed: int | None):
    """Run a block with the library's generator seeded by ``seed`` (nothing changes for None),
    then put the previous generator back."""
    global _rng
    if seed is None:
        yield
        return
    previous, _rng = _rng, np.random.default_rng(seed)
    try:
        yield
    finally:
        _rng = previous
