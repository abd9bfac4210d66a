"""Weight initializers with Keras's names, defaults and variance-scaling formulas.

An initializer is called with a shape (and optionally a dtype, ``floatx()`` by default) and returns a
NumPy array. The variance-scaling family draws with a variance of ``scale / fan``:

- ``GlorotUniform``, ``GlorotNormal``: ``scale=1``, ``fan = (fan_in + fan_out) / 2`` (Glorot & Bengio, 2010);
- ``HeUniform``, ``HeNormal``: ``scale=2``, ``fan = fan_in`` (He et al., 2015);
- ``LecunUniform``, ``LecunNormal``: ``scale=1``, ``fan = fan_in``.

The uniform ones draw from ``[-limit, limit]`` with ``limit = sqrt(3 * scale / fan)``, the normal ones
from a normal truncated at two standard deviations, rescaled to the variance.

Examples
--------
>>> from deepfin import initializers
>>> type(initializers.get("he_normal")).__name__
'HeNormal'
>>> w = initializers.GlorotUniform(seed=0)((64, 32))
>>> w.shape, w.dtype, bool(abs(w).max() <= (6 / 96) ** 0.5)
((64, 32), dtype('float32'), True)
"""

from __future__ import annotations

import math

import numpy as np

from deepfin import backend

# Keras draws 'normal' variance scaling from a normal truncated at 2 std, whose std this is.
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """Keras's fan_in and fan_out: (in, out) for a kernel, receptive field times channels above.

    Parameters
    ----------
    shape : tuple of int
        The weight's shape: ``(in, out)`` for a Dense kernel, ``(taps..., in, out)`` for a convolution's.

    Returns
    -------
    fan_in, fan_out : float
        ``shape[-2]`` and ``shape[-1]``, each times the product of the axes before them; both
        ``shape[0]`` for a 1-D shape, both 1 for a scalar.

    Examples
    --------
    >>> from deepfin.initializers import compute_fans
    >>> compute_fans((3, 4, 5))
    (12.0, 15.0)
    """
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive_field = math.prod(shape[:-2])
    return float(shape[-2] * receptive_field), float(shape[-1] * receptive_field)


class Initializer:
    """Base class: ``initializer(shape, dtype=None) -> ndarray``.

    A subclass implements ``__call__`` and, when its constructor takes arguments, ``get_config``.
    """

    def __call__(self, shape, dtype=None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor's arguments, as ``from_config`` takes them (none here)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        """An initializer built from ``get_config``'s dict: ``cls(**config)``."""
        return cls(**config)

    def _generator(self) -> np.random.Generator:
        seed = getattr(self, "seed", None)
        return backend.rng() if seed is None else np.random.default_rng(seed)


def _dtype(dtype) -> np.dtype:
    return np.dtype(dtype or backend.floatx())


def truncated_normal_values(rng: np.random.Generator, shape, mean: float, stddev: float) -> np.ndarray:
    """Normal values redrawn until all lie within 2 standard deviations of the mean (Keras's truncation).

    ``deepfin.random.truncated_normal`` draws with it too.

    Parameters
    ----------
    rng : np.random.Generator
        The generator to draw from.
    shape : int or tuple of int
        The shape of the result.
    mean : float
        The mean.
    stddev : float
        The standard deviation of the normal before truncation.

    Returns
    -------
    np.ndarray
        A float64 array of ``shape``, every value within ``2 * stddev`` of ``mean``.
    """
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return mean + stddev * values


class Zeros(Initializer):
    """Initializer that generates arrays initialized to 0."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, _dtype(dtype))


class Ones(Initializer):
    """Initializer that generates arrays initialized to 1."""

    def __call__(self, shape, dtype=None):
        return np.ones(shape, _dtype(dtype))


class Constant(Initializer):
    """Initializer that generates arrays filled with a constant value.

    Parameters
    ----------
    value : float, default 0.0
        The value (anything ``np.full`` broadcasts to the shape).
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, _dtype(dtype))

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"value": self.value}


class RandomNormal(Initializer):
    """Random normal initializer: draws from a normal distribution with the given parameters.

    Parameters
    ----------
    mean : float, default 0.0
        The mean.
    stddev : float, default 0.05
        The standard deviation.
    seed : int or None, default None
        An int draws the same values on every call (a fresh generator seeded with it); ``None``
        draws from the library's generator (``deepfin.backend.rng()``).
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return self._generator().normal(self.mean, self.stddev, shape).astype(_dtype(dtype))

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Random uniform initializer: draws from a uniform distribution on ``[minval, maxval)``.

    Parameters
    ----------
    minval : float, default -0.05
        The lower bound.
    maxval : float, default 0.05
        The upper bound (excluded).
    seed : int or None, default None
        An int draws the same values on every call (a fresh generator seeded with it); ``None``
        draws from the library's generator (``deepfin.backend.rng()``).
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        return self._generator().uniform(self.minval, self.maxval, shape).astype(_dtype(dtype))

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Initializer that generates a truncated normal distribution.

    The values are drawn as ``RandomNormal``'s, except that values more than two standard
    deviations from the mean are discarded and redrawn.

    Parameters
    ----------
    mean : float, default 0.0
        The mean.
    stddev : float, default 0.05
        The standard deviation of the normal before truncation.
    seed : int or None, default None
        An int draws the same values on every call (a fresh generator seeded with it); ``None``
        draws from the library's generator (``deepfin.backend.rng()``).
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        values = truncated_normal_values(self._generator(), shape, self.mean, self.stddev)
        return values.astype(_dtype(dtype))

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class OrthogonalInitializer(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, by Keras's formula (also named ``Orthogonal``).

    The QR decomposition of a normal matrix of shape (rows, columns), rows being the product of every
    axis but the last, with ``q``'s columns signed by ``r``'s diagonal, reshaped to the requested
    shape. The recurrent layers' default for their recurrent kernels.

    Parameters
    ----------
    gain : float, default 1.0
        The factor the matrix is multiplied by.
    seed : int or None, default None
        An int draws the same values on every call (a fresh generator seeded with it); ``None``
        draws from the library's generator (``deepfin.backend.rng()``).

    Raises
    ------
    ValueError
        When called with a shape of fewer than 2 axes.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"The orthogonal initializer needs a shape of 2 or more axes. Received: {shape}")
        rows, columns = math.prod(shape[:-1]), shape[-1]
        q, r = np.linalg.qr(self._generator().standard_normal((max(rows, columns), min(rows, columns))))
        q *= np.sign(np.diag(r))
        if rows < columns:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"gain": self.gain, "seed": self.seed}


Orthogonal = OrthogonalInitializer


class VarianceScaling(Initializer):
    """Initializer that adapts its scale to the shape of the weights: variance ``scale / fan``.

    The family behind Glorot, He and LeCun initialization. ``fan`` is the number of input units
    (``mode='fan_in'``), of output units (``'fan_out'``) or their average (``'fan_avg'``), as
    ``compute_fans`` counts them, and at least 1. ``'uniform'`` draws from ``[-limit, limit]`` with
    ``limit = sqrt(3 * scale / fan)``; ``'untruncated_normal'`` from a normal of standard deviation
    ``sqrt(scale / fan)``; ``'truncated_normal'`` from a normal truncated at two standard deviations,
    whose standard deviation after truncation is ``sqrt(scale / fan)``.

    Parameters
    ----------
    scale : float, default 1.0
        The scaling factor, positive.
    mode : {'fan_in', 'fan_out', 'fan_avg'}, default 'fan_in'
        The fan the variance divides by.
    distribution : {'truncated_normal', 'untruncated_normal', 'uniform'}, default 'truncated_normal'
        The distribution to draw from.
    seed : int or None, default None
        An int draws the same values on every call (a fresh generator seeded with it); ``None``
        draws from the library's generator (``deepfin.backend.rng()``).

    Raises
    ------
    ValueError
        If ``scale`` is not positive, or ``mode`` or ``distribution`` is unknown.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0:
            raise ValueError(f"scale must be positive. Received: scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {self._MODES}. Received: mode={mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"distribution must be one of {self._DISTRIBUTIONS}. "
                f"Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(tuple(shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        rng = self._generator()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, shape)
        elif self.distribution == "truncated_normal":
            values = truncated_normal_values(rng, shape, 0.0, math.sqrt(variance) / _TRUNCATED_STD)
        else:
            values = rng.normal(0.0, math.sqrt(variance), shape)
        return values.astype(_dtype(dtype))

    def get_config(self):
        """The constructor's arguments, as ``from_config`` takes them."""
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _variance_scaling(name, scale, mode, distribution):
    class Named(VarianceScaling):
        def __init__(self, seed=None):
            super().__init__(scale, mode, distribution, seed)

        def get_config(self):
            return {"seed": self.seed}

    Named.__name__ = Named.__qualname__ = name
    Named.__doc__ = (
        f"The {name} initializer: ``VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})``."
        "\n\n    Parameters\n    ----------\n    seed : int or None, default None\n"
        "        An int draws the same values on every call (a fresh generator seeded with it); ``None``\n"
        "        draws from the library's generator (``deepfin.backend.rng()``).\n    "
    )
    return Named


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")

_BY_NAME: dict[str, type[Initializer]] = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": OrthogonalInitializer,
}
for _cls in set(_BY_NAME.values()):
    _BY_NAME[_cls.__name__] = _cls
_BY_NAME["Orthogonal"] = OrthogonalInitializer


def get(identifier) -> Initializer:
    """An initializer from a name ('he_normal' or 'HeNormal'), an instance or a callable.

    Parameters
    ----------
    identifier : str, Initializer, dict or callable
        A snake-case or class name (a new instance with the defaults), an initializer (returned as
        it is), a ``serialize`` dict (``{'class_name': ..., 'config': ...}``), or any callable
        ``(shape, dtype=None) -> ndarray``.

    Returns
    -------
    Initializer or callable
        The initializer.

    Raises
    ------
    ValueError
        If the name is unknown.
    TypeError
        If ``identifier`` is none of the above.
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]()
        except KeyError:
            names = sorted(n for n in _BY_NAME if n.islower())
            raise ValueError(f"Unknown initializer: {identifier!r}. Expected one of {names}.") from None
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _BY_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret initializer: {identifier!r}")


def serialize(initializer: Initializer) -> dict:
    """The dict ``get`` rebuilds ``initializer`` from.

    Parameters
    ----------
    initializer : Initializer
        The initializer.

    Returns
    -------
    dict
        ``{'class_name': <its class name>, 'config': initializer.get_config()}``.
    """
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
