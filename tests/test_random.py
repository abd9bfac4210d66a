"""deepfin.random: keras.random's functions and SeedGenerator, on deepfin Tensors."""

import inspect
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # for the signature check, which imports Keras

import deepfin  # noqa: E402
from deepfin import Tensor, backend  # noqa: E402
from deepfin import random as dr  # noqa: E402

FLOAT_DRAWS = {
    "normal": lambda **kw: dr.normal((4, 3), **kw),
    "uniform": lambda **kw: dr.uniform((4, 3), **kw),
    "truncated_normal": lambda **kw: dr.truncated_normal((4, 3), **kw),
    "gamma": lambda **kw: dr.gamma((4, 3), 2.0, **kw),
    "beta": lambda **kw: dr.beta((4, 3), 2.0, 3.0, **kw),
    "binomial": lambda **kw: dr.binomial((4, 3), 10, 0.3, **kw),
}
ALL_DRAWS = {
    **FLOAT_DRAWS,
    "randint": lambda **kw: dr.randint((4, 3), 0, 10, **kw),
    "shuffle": lambda **kw: dr.shuffle(np.arange(12.0).reshape(4, 3), **kw),
    "dropout": lambda **kw: dr.dropout(np.ones((4, 3), np.float32), 0.5, **kw),
    "categorical": lambda **kw: dr.categorical(np.zeros((4, 5)), 3, **kw),
}


@pytest.mark.parametrize("name", sorted(FLOAT_DRAWS))
def test_float_draws_have_shape_and_floatx_or_the_dtype_given(name):
    draw = FLOAT_DRAWS[name]
    result = draw()
    assert isinstance(result, Tensor) and result.shape == (4, 3) and result.dtype == np.float32
    assert draw(dtype="float64").dtype == np.float64
    backend.set_floatx("float64")
    assert draw().dtype == np.float64


def test_integer_draws_and_their_dtypes():
    ints = dr.randint((1000,), -3, 4, seed=1)
    assert ints.dtype == np.int32 and ints.shape == (1000,)
    assert ints.data.min() == -3 and ints.data.max() == 3  # maxval excluded, every value reached
    assert dr.randint(5, 0, 2, dtype="int64").dtype == np.int64
    samples = dr.categorical(np.log([[0.2, 0.8], [0.9, 0.1]]), 20_000, seed=2)
    assert samples.dtype == np.int32 and samples.shape == (2, 20_000)
    np.testing.assert_allclose(samples.data.mean(axis=1), [0.8, 0.1], atol=0.01)
    with pytest.raises(ValueError, match="integer dtype"):
        dr.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match="minval must be below maxval"):
        dr.randint((2,), 3, 3)
    with pytest.raises(ValueError, match="2-D tensor"):
        dr.categorical(np.zeros(3), 2)


@pytest.mark.parametrize("name", sorted(ALL_DRAWS))
def test_int_seed_repeats_and_seed_generator_advances_repeatably(name):
    draw = ALL_DRAWS[name]
    assert np.array_equal(draw(seed=5).data, draw(seed=5).data)
    generator, again = dr.SeedGenerator(11), dr.SeedGenerator(11)
    first, second = draw(seed=generator).data, draw(seed=generator).data
    assert not np.array_equal(first, second)  # the generator advanced
    assert np.array_equal(first, draw(seed=again).data) and np.array_equal(second, draw(seed=again).data)


@pytest.mark.parametrize("name", sorted(ALL_DRAWS))
def test_no_seed_uses_the_global_generator_that_set_random_seed_seeds(name):
    draw = ALL_DRAWS[name]
    deepfin.utils.set_random_seed(21)
    first, second = draw().data, draw().data
    assert not np.array_equal(first, second)
    deepfin.utils.set_random_seed(21)
    assert np.array_equal(draw().data, first) and np.array_equal(draw().data, second)


def test_seed_generator_without_seed_follows_the_global_seed():
    deepfin.utils.set_random_seed(4)
    a = dr.normal((3,), seed=dr.SeedGenerator())
    deepfin.utils.set_random_seed(4)
    assert np.array_equal(a.data, dr.normal((3,), seed=dr.SeedGenerator()).data)
    generator = dr.SeedGenerator(8, name="mine")
    assert generator.get_config() == {"seed": 8, "name": "mine"}
    assert dr.SeedGenerator.from_config(generator.get_config()).next() == generator.next()


@pytest.mark.parametrize("seed", ["1", 1.5, True, [1]])
def test_bad_seed_is_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        dr.normal((2,), seed=seed)
    if not isinstance(seed, bool) and not isinstance(seed, list):
        with pytest.raises(ValueError, match=r"Argument `seed` must be an integer. Received: seed="):
            dr.SeedGenerator(seed)


def test_distribution_moments():
    n = 200_000
    normal = dr.normal((n,), mean=2.0, stddev=3.0, seed=0).data
    assert abs(normal.mean() - 2.0) < 0.03 and abs(normal.std() - 3.0) < 0.03
    uniform = dr.uniform((n,), minval=-1.0, maxval=3.0, seed=0).data
    assert uniform.min() >= -1.0 and uniform.max() < 3.0
    assert abs(uniform.mean() - 1.0) < 0.02 and abs(uniform.std() - 4 / np.sqrt(12)) < 0.02
    truncated = dr.truncated_normal((n,), mean=1.0, stddev=0.5, seed=0).data
    assert np.all(np.abs(truncated - 1.0) <= 2 * 0.5)
    assert abs(truncated.mean() - 1.0) < 0.01 and abs(truncated.std() - 0.5 * 0.8796) < 0.005  # truncated at 2 sd
    gamma = dr.gamma((n,), 2.0, seed=0).data
    assert abs(gamma.mean() - 2.0) < 0.03 and abs(gamma.var() - 2.0) < 0.06
    binomial = dr.binomial((n,), 10, 0.3, seed=0).data
    assert np.array_equal(binomial, np.round(binomial)) and abs(binomial.mean() - 3.0) < 0.02


def test_dropout_keeps_the_expectation_and_passes_gradients():
    x = Tensor(np.full((400, 500), 2.0, np.float32), requires_grad=True)
    out = dr.dropout(x, 0.25, seed=3)
    kept = out.data != 0
    assert abs(kept.mean() - 0.75) < 0.005
    np.testing.assert_allclose(out.data[kept], 2.0 / 0.75, rtol=1e-6)
    assert abs(out.data.mean() - 2.0) < 0.02
    out.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75, rtol=1e-6)
    masked = dr.dropout(np.ones((6, 4), np.float32), 0.5, noise_shape=(1, 4), seed=1).data
    assert np.all(masked == masked[0]) and 0 < masked[0].sum() < 8  # one mask for every row
    with pytest.raises(ValueError, match=r"rate must be a float in \[0, 1\). Received: rate=1.0"):
        dr.dropout(x, 1.0)


def test_shuffle_is_a_permutation_along_the_axis():
    x = np.arange(50 * 3).reshape(50, 3)
    rows = dr.shuffle(x, seed=1).data
    assert rows.dtype == x.dtype and not np.array_equal(rows, x)
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))  # whole rows moved, none lost
    columns = dr.shuffle(x.T, axis=1, seed=1).data
    assert np.array_equal(columns, rows.T)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        dr.shuffle(x, axis=2)


def test_signatures_match_keras():
    keras = pytest.importorskip("keras")
    for name in ("normal", "uniform", "truncated_normal", "randint", "shuffle", "dropout", "categorical",
                 "gamma", "beta", "binomial"):
        ours, theirs = inspect.signature(getattr(dr, name)), inspect.signature(getattr(keras.random, name))
        assert [(p.name, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.default) for p in theirs.parameters.values()], name
    assert list(inspect.signature(dr.SeedGenerator).parameters) == \
        list(inspect.signature(keras.random.SeedGenerator).parameters)
