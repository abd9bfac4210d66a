"""Random draws with Keras 3's ``keras.random`` names and signatures, as deepfin Tensors.

Every function takes ``seed``: an int (the same result on every call), a ``SeedGenerator``
(new results on every call, repeating from the generator's seed) or None (the library's global
generator, which ``deepfin.utils.set_random_seed`` seeds). Float results have ``floatx()``'s
dtype unless ``dtype`` is given.
"""

from __future__ import annotations

import numpy as np

from deepfin import backend
from deepfin.engine import ops
from deepfin.engine.tensor import Tensor
from deepfin.initializers import truncated_normal_values


class SeedGenerator:
    """A generator of random draws that advances on each use, as ``keras.random.SeedGenerator``.

    ``seed`` is an int, or None to draw one from the global generator; ``name`` is there for Keras
    compatibility.
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
        """A fresh int seed drawn from this generator (it advances)."""
        return int(self.generator.integers(2**31))

    def get_config(self) -> dict:
        return {"seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> SeedGenerator:
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
    """Draws from the normal distribution N(``mean``, ``stddev``²)."""
    return _float(_generator(seed).normal(float(mean), float(stddev), _shape(shape)), dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Draws from the uniform distribution on [``minval``, ``maxval``)."""
    return _float(_generator(seed).uniform(float(minval), float(maxval), _shape(shape)), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal draws, each redrawn until it lies within two standard deviations of ``mean``."""
    return _float(truncated_normal_values(_generator(seed), _shape(shape), float(mean), float(stddev)), dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers drawn uniformly from [``minval``, ``maxval``)."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise ValueError(f"dtype must be an integer dtype. Received: dtype={dtype.name!r}")
    if not int(minval) < int(maxval):
        raise ValueError(f"minval must be below maxval. Received: minval={minval}, maxval={maxval}")
    return Tensor(_generator(seed).integers(int(minval), int(maxval), _shape(shape), dtype=dtype), dtype=dtype)


def shuffle(x, axis: int = 0, seed=None) -> Tensor:
    """``x`` with its entries along ``axis`` in a random order."""
    data = np.asarray(x.data if isinstance(x, Tensor) else x)
    if not -data.ndim <= axis < data.ndim:
        raise ValueError(f"axis {axis} is out of range for an input of shape {data.shape}.")
    order = _generator(seed).permutation(data.shape[axis])
    shuffled = np.take(data, order, axis=axis)
    return Tensor(shuffled, dtype=shuffled.dtype)


def dropout(inputs, rate, noise_shape=None, seed=None) -> Tensor:
    """Zero each entry with probability ``rate`` and scale the rest by 1/(1-``rate``) (differentiable)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"rate must be a float in [0, 1). Received: rate={rate!r}")
    return ops.dropout(inputs, float(rate), _generator(seed), noise_shape)


def categorical(logits, num_samples: int, dtype="int32", seed=None) -> Tensor:
    """``num_samples`` class indices per row of ``logits`` (batch, classes), drawn with softmax probabilities."""
    logits = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError(
            f"`logits` should be a 2-D tensor with shape [batch_size, num_classes]. Received: shape={logits.shape}"
        )
    gumbel = -np.log(-np.log(_generator(seed).uniform(np.finfo(np.float64).tiny, 1.0,
                                                      (logits.shape[0], int(num_samples), logits.shape[1]))))
    return Tensor(np.argmax(logits[:, None, :] + gumbel, axis=-1), dtype=dtype)


def gamma(shape, alpha, dtype=None, seed=None) -> Tensor:
    """Draws from the gamma distribution of shape ``alpha`` (scale 1)."""
    return _float(_generator(seed).gamma(float(alpha), 1.0, _shape(shape)), dtype)


def beta(shape, alpha, beta, dtype=None, seed=None) -> Tensor:
    """Draws from the beta distribution with parameters ``alpha`` and ``beta``."""
    return _float(_generator(seed).beta(np.asarray(alpha, np.float64), np.asarray(beta, np.float64),
                                        _shape(shape)), dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None) -> Tensor:
    """Successes in ``counts`` trials of success probability ``probabilities``, as floats (Keras's dtype)."""
    counts = np.asarray(counts)
    if not np.all(counts == np.floor(counts)):
        raise ValueError(f"counts must be whole numbers. Received: counts={counts!r}")
    draws = _generator(seed).binomial(counts.astype(np.int64), np.asarray(probabilities, np.float64), _shape(shape))
    return _float(draws, dtype)


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint",
           "shuffle", "truncated_normal", "uniform"]
