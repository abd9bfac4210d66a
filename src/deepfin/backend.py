"""Global settings shared by the whole library: float dtype, random generator, layer names.

Mirrors ``keras.backend``: ``floatx()``, ``set_floatx()``, ``epsilon()``, ``clear_session()``.

Examples
--------
>>> from deepfin import backend
>>> backend.floatx()
'float32'
>>> with backend.seeded(0):
...     first = backend.rng().random()
>>> with backend.seeded(0):
...     second = backend.rng().random()
>>> first == second
True
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
    """The default float dtype name ('float32' unless changed).

    Returns
    -------
    str
        ``'float16'``, ``'float32'`` or ``'float64'``.
    """
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype: 'float16', 'float32' or 'float64'.

    Parameters
    ----------
    value : str
        The dtype's name.

    Raises
    ------
    ValueError
        If ``value`` is not one of the three names.
    """
    global _FLOATX
    if value not in _ALLOWED_FLOATX:
        raise ValueError(f"Unknown floatx type: {value!r}. Expected one of {_ALLOWED_FLOATX}.")
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor used by losses that clip probabilities (1e-7, as Keras).

    Returns
    -------
    float
        The value ``set_epsilon`` last set, 1e-7 by default.
    """
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor that ``epsilon()`` returns.

    Parameters
    ----------
    value : float
        The new value.
    """
    global _EPSILON
    _EPSILON = float(value)


def compiled() -> bool:
    """Whether models that fit a compiled pattern train on the compiled kernels (``deepfin.kernels``).

    On by default; ``DEEPFIN_COMPILED=0`` (or ``false``, ``no``, ``off``) in the environment turns it
    off for a process.

    Returns
    -------
    bool
        The setting.
    """
    return _COMPILED


def set_compiled(value: bool) -> None:
    """Train on the compiled kernels where a model fits them (True) or always on the eager engine (False).

    Parameters
    ----------
    value : bool
        The setting.

    Raises
    ------
    TypeError
        If ``value`` is not a bool.
    """
    global _COMPILED
    if not isinstance(value, bool):
        raise TypeError(f"set_compiled takes True or False. Received: {value!r}")
    _COMPILED = value


def rng() -> np.random.Generator:
    """The generator behind initializers, dropout and shuffling.

    Returns
    -------
    np.random.Generator
        The library's generator (``set_seed`` replaces it, so read it afresh rather than keep it).
    """
    return _rng


def set_seed(seed: int | None) -> None:
    """Re-seed the library's generator, so that runs repeat.

    Parameters
    ----------
    seed : int or None
        The seed of a new generator; ``None`` seeds it from the operating system.
    """
    global _rng
    _rng = np.random.default_rng(seed)


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def get_rng_state() -> dict:
    """The library generator's state as a JSON-able dict (``set_rng_state`` puts it back).

    Returns
    -------
    dict
        The bit generator's state, as ``np.random.BitGenerator.state`` gives it.
    """
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Put the library's generator in ``state``, as ``get_rng_state`` returned it.

    The draws that follow repeat those that followed ``get_rng_state``.

    Parameters
    ----------
    state : dict
        A state from ``get_rng_state``, naming one of NumPy's bit generators (PCG64, PCG64DXSM,
        MT19937, Philox, SFC64).

    Raises
    ------
    ValueError
        If ``state`` is not such a dict.
    """
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
    """Keras-style unique names: 'dense', 'dense_1', 'dense_2', ...

    Parameters
    ----------
    base : str
        The base name.

    Returns
    -------
    str
        ``base`` the first time, then ``base_1``, ``base_2`` ... until ``clear_session()``.
    """
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def snake_case(class_name: str) -> str:
    """'BatchNormalization' -> 'batch_normalization', as Keras names layers.

    Keras's rule (``keras.src.utils.naming.to_snake_case``): an underscore before a capitalised word and between
    a lower-case letter and a capital, so runs of capitals stay one word: ``LSTM`` -> ``lstm``, ``SimpleRNN`` ->
    ``simple_rnn``, ``Conv1D`` -> ``conv1d``, ``ReLU`` -> ``re_lu``, ``KLDivergence`` -> ``kl_divergence``.

    Parameters
    ----------
    class_name : str
        A CamelCase name.

    Returns
    -------
    str
        The name in snake case, lower case.

    Examples
    --------
    >>> snake_case("GlobalAveragePooling1D"), snake_case("LSTM"), snake_case("LeakyReLU")
    ('global_average_pooling1d', 'lstm', 'leaky_re_lu')
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def clear_session() -> None:
    """Reset layer-name counters, as ``keras.backend.clear_session``."""
    _name_counts.clear()


@contextlib.contextmanager
def seeded(seed: int | None):
    """Run a block with the library's generator seeded by ``seed``, then put the previous generator back.

    Parameters
    ----------
    seed : int or None
        The seed of the generator inside the block; ``None`` changes nothing.

    Yields
    ------
    None
    """
    global _rng
    if seed is None:
        yield
        return
    previous, _rng = _rng, np.random.default_rng(seed)
    try:
        yield
    finally:
        _rng = previous
