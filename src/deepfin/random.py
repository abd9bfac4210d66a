"""Random draws with Keras 3's ``keras.random`` names and signatures, as deepfin Tensors.

Every function takes ``seed``: an int (the same result on every call), a ``SeedGenerator``
(new results on every call, repeating from the generator's seed) or None (the library's global
generator, which ``deepfin.utils.set_random_seed`` seeds). Float results have ``floatx()``'s
dtype unless ``dtype`` is given. The draws are constants, without a gradient, except ``dropout``'s
result.

Examples
--------
>>> from deepfin import random
>>> a, b = random.normal((2,), seed=1), random.normal((2,), seed=1)
>>> bool((a.numpy() == b.numpy()).all()), a.dtype
(True, dtype('float32'))
>>> generator = random.SeedGenerator(42)
>>> x, y = random.uniform((2,), seed=generator), random.uniform((2,), seed=generator)
>>> bool((x.numpy() != y.numpy()).all())
True
"""

from __future__ import annotations

import numpy as np

from deepfin import backend
from deepfin.engine import functions
from deepfin.engine.tensor import Tensor
from deepfin.initializers import truncated_normal_values


class SeedGenerator:
    """A generator of random draws that advances on each use, as ``keras.random.SeedGenerator``.

    Parameters
    ----------
    seed : int or None, default None
        The seed of its NumPy generator; ``None`` draws one from the library's generator.
    name : str or None, default None
        A name, there for Keras compatibility; ``None`` gives a unique ``'seed_generator'`` name.
    **kwargs
        Part of Keras's signature; any keyword argument given raises ``ValueError``.

    Attributes
    ----------
    seed : int
        The seed.
    generator : np.random.Generator
        The generator the ``deepfin.random`` functions draw from when given this object.

    Raises
    ------
    ValueError
        If ``seed`` is not an integer, or a keyword argument is given.
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs):
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        if seed is None:
            seed = int(backend.rng().integers(2**31))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self.seed = int(seed)
        self.name = name or backend.unique_name("seed_generator")
        self.generator = np.random.default_rng(self.seed)

    def next(self, ordered: bool = True) -> int:
        """A fresh int seed drawn from this generator (it advances).

        Parameters
        ----------
        ordered : bool, default True
            Keras's argument; ignored.

        Returns
        -------
        int
            A seed in ``[0, 2**31)``.
        """
        return int(self.generator.integers(2**31))

    def get_config(self) -> dict:
        """The seed and name, as ``from_config`` takes them (a rebuilt generator starts from the seed)."""
        return {"seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> SeedGenerator:
        """A generator built from ``get_config``'s dict: ``cls(**config)``."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name} seed={self.seed}>"


def _generator(seed) -> np.random.Generator:
    if seed is None:
        return backend.rng()
    if isinstance(seed, SeedGenerator):
        return seed.generator
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed!r} (of type {type(seed).__name__})"
    )


def _shape(shape) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in dims):
        raise ValueError(f"shape must be a tuple of non-negative integers. Received: shape={shape!r}")
    return tuple(int(d) for d in dims)


def _float(values: np.ndarray, dtype) -> Tensor:
    dtype = np.dtype(dtype or backend.floatx())
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a float dtype. Received: dtype={dtype.name!r}")
    return Tensor(values.astype(dtype, copy=False))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Draw random samples from a normal (Gaussian) distribution, N(``mean``, ``stddev``²).

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the result (non-negative sizes).
    mean : float, default 0.0
        The mean.
    stddev : float, default 1.0
        The standard deviation.
    dtype : str, np.dtype or None, default None
        A float dtype; ``None`` means ``floatx()``.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The draws.

    Raises
    ------
    ValueError
        If ``shape`` or ``seed`` is invalid, or ``dtype`` is not a float dtype.
    """
    return _float(_generator(seed).normal(float(mean), float(stddev), _shape(shape)), dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Draw samples from a uniform distribution on [``minval``, ``maxval``).

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the result (non-negative sizes).
    minval : float, default 0.0
        The lower bound.
    maxval : float, default 1.0
        The upper bound (excluded).
    dtype : str, np.dtype or None, default None
        A float dtype; ``None`` means ``floatx()``.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The draws.

    Raises
    ------
    ValueError
        If ``shape`` or ``seed`` is invalid, or ``dtype`` is not a float dtype.
    """
    return _float(_generator(seed).uniform(float(minval), float(maxval), _shape(shape)), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Draw samples from a truncated normal distribution.

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the result (non-negative sizes).
    mean : float, default 0.0
        The mean.
    stddev : float, default 1.0
        The standard deviation of the normal before truncation.
    dtype : str, np.dtype or None, default None
        A float dtype; ``None`` means ``floatx()``.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The draws, each redrawn until it lies within two standard deviations of ``mean``.

    Raises
    ------
    ValueError
        If ``shape`` or ``seed`` is invalid, or ``dtype`` is not a float dtype.
    """
    return _float(truncated_normal_values(_generator(seed), _shape(shape), float(mean), float(stddev)), dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Draw random integers uniformly from [``minval``, ``maxval``).

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the result (non-negative sizes).
    minval : int
        The lowest value.
    maxval : int
        The bound above the highest value.
    dtype : str or np.dtype, default "int32"
        An integer dtype.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The integers.

    Raises
    ------
    ValueError
        If ``dtype`` is not an integer dtype, ``minval >= maxval``, or ``shape`` or ``seed`` is invalid.
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise ValueError(f"dtype must be an integer dtype. Received: dtype={dtype.name!r}")
    if not int(minval) < int(maxval):
        raise ValueError(f"minval must be below maxval. Received: minval={minval}, maxval={maxval}")
    return Tensor(_generator(seed).integers(int(minval), int(maxval), _shape(shape), dtype=dtype), dtype=dtype)


def shuffle(x, axis: int = 0, seed=None) -> Tensor:
    """Shuffle the elements of a tensor uniformly at random along an axis.

    Parameters
    ----------
    x : Tensor, np.ndarray or sequence
        The values (their dtype kept, as NumPy reads them).
    axis : int, default 0
        The axis to shuffle along.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        ``x`` with its entries along ``axis`` in a random order, without a gradient.

    Raises
    ------
    ValueError
        If ``axis`` is out of range, or ``seed`` is invalid.
    """
    data = np.asarray(x.data if isinstance(x, Tensor) else x)
    if not -data.ndim <= axis < data.ndim:
        raise ValueError(f"axis {axis} is out of range for an input of shape {data.shape}.")
    order = _generator(seed).permutation(data.shape[axis])
    shuffled = np.take(data, order, axis=axis)
    return Tensor(shuffled, dtype=shuffled.dtype)


def dropout(inputs, rate, noise_shape=None, seed=None) -> Tensor:
    """Randomly set entries to zero with probability ``rate``, scaling the rest by 1/(1-``rate``).

    Parameters
    ----------
    inputs : Tensor or array_like
        The values (a Tensor's dtype, or the dtype ``Tensor`` gives other data).
    rate : float
        The probability of zeroing an entry, in ``[0, 1)``.
    noise_shape : tuple or None, default None
        The shape of the mask, broadcast over ``inputs``; ``None`` entries take the input's size.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The result, recorded for backpropagation (``engine.functions.dropout``).

    Raises
    ------
    ValueError
        If ``rate`` is not a number in ``[0, 1)``, or ``seed`` is invalid.
    """
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"rate must be a float in [0, 1). Received: rate={rate!r}")
    return functions.dropout(inputs, float(rate), _generator(seed), noise_shape)


def categorical(logits, num_samples: int, dtype="int32", seed=None) -> Tensor:
    """Draw samples from a categorical distribution given by logits.

    Parameters
    ----------
    logits : Tensor or array_like
        The unnormalized log-probabilities, (batch, classes).
    num_samples : int
        The number of draws per row.
    dtype : str or np.dtype, default "int32"
        The dtype of the indices.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The class indices, (batch, num_samples), drawn with probabilities ``softmax(logits)`` (by the
        Gumbel-max trick).

    Raises
    ------
    ValueError
        If ``logits`` is not 2-D, or ``seed`` is invalid.
    """
    logits = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError(
            f"`logits` should be a 2-D tensor with shape [batch_size, num_classes]. Received: shape={logits.shape}"
        )
    gumbel = -np.log(-np.log(_generator(seed).uniform(np.finfo(np.float64).tiny, 1.0,
                                                      (logits.shape[0], int(num_samples), logits.shape[1]))))
    return Tensor(np.argmax(logits[:, None, :] + gumbel, axis=-1), dtype=dtype)


def gamma(shape, alpha, dtype=None, seed=None) -> Tensor:
    """Draw random samples from the gamma distribution of shape ``alpha`` (scale 1).

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the result (non-negative sizes).
    alpha : float
        The shape parameter.
    dtype : str, np.dtype or None, default None
        A float dtype; ``None`` means ``floatx()``.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The draws.

    Raises
    ------
    ValueError
        If ``shape`` or ``seed`` is invalid, or ``dtype`` is not a float dtype.
    """
    return _float(_generator(seed).gamma(float(alpha), 1.0, _shape(shape)), dtype)


def beta(shape, alpha, beta, dtype=None, seed=None) -> Tensor:
    """Draw samples from a beta distribution with parameters ``alpha`` and ``beta``.

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the result (non-negative sizes).
    alpha, beta : float or array_like
        The parameters (arrays broadcast to ``shape``).
    dtype : str, np.dtype or None, default None
        A float dtype; ``None`` means ``floatx()``.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The draws.

    Raises
    ------
    ValueError
        If ``shape`` or ``seed`` is invalid, or ``dtype`` is not a float dtype.
    """
    return _float(_generator(seed).beta(np.asarray(alpha, np.float64), np.asarray(beta, np.float64),
                                        _shape(shape)), dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None) -> Tensor:
    """Draw samples from a binomial distribution.

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the result (non-negative sizes).
    counts : int or array_like
        The number of trials (whole numbers; arrays broadcast to ``shape``).
    probabilities : float or array_like
        The probability of success of each trial.
    dtype : str, np.dtype or None, default None
        A float dtype; ``None`` means ``floatx()``.
    seed : int, SeedGenerator or None, default None
        An int gives the same draws on every call; a ``SeedGenerator`` new draws on every call; ``None``
        draws from the library's generator.

    Returns
    -------
    Tensor
        The numbers of successes, as floats (Keras's dtype).

    Raises
    ------
    ValueError
        If ``counts`` are not whole numbers, or ``shape``, ``seed`` or ``dtype`` is invalid.
    """
    counts = np.asarray(counts)
    if not np.all(counts == np.floor(counts)):
        raise ValueError(f"counts must be whole numbers. Received: counts={counts!r}")
    draws = _generator(seed).binomial(counts.astype(np.int64), np.asarray(probabilities, np.float64), _shape(shape))
    return _float(draws, dtype)


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint",
           "shuffle", "truncated_normal", "uniform"]
