"""Discretization and CategoryEncoding equal real Keras 3's (every output mode); IntegerLookup and StringLookup
(which need TensorFlow in Keras, so Keras cannot run them here) give the outputs Keras's documentation prints
for its own examples; every state round-trips through the config."""

import os

import numpy as np
import pytest

import deepfin
from deepfin.layers import CategoryEncoding, Discretization, IntegerLookup, StringLookup


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_and_category_encoding_equal_keras(mode, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    values = rng.standard_normal((5, 1 if mode == "one_hot" else 4)).astype(np.float32)
    ours = Discretization(bin_boundaries=[-1.0, 0.0, 0.5], output_mode=mode)(values).numpy()
    theirs = keras.layers.Discretization(bin_boundaries=[-1.0, 0.0, 0.5], output_mode=mode)(values)
    np.testing.assert_array_equal(ours, keras.ops.convert_to_numpy(theirs))
    if mode != "int":
        ids = rng.integers(0, 6, (5, 1 if mode == "one_hot" else 3))
        ours = CategoryEncoding(num_tokens=6, output_mode=mode)(ids).numpy()
        theirs = keras.layers.CategoryEncoding(num_tokens=6, output_mode=mode)(ids)
        np.testing.assert_array_equal(ours, keras.ops.convert_to_numpy(theirs))


def test_discretization_adapts_to_quantiles_and_round_trips(rng):
    values = rng.standard_normal(10_000)
    layer = Discretization(num_bins=4)
    layer.adapt(np.array_split(values, 5))
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(values, [0.25, 0.5, 0.75]))
    counts = np.bincount(layer(values).numpy(), minlength=4)
    assert counts.min() >= 2_490 and counts.max() <= 2_510
    again = Discretization.from_config(layer.get_config())
    np.testing.assert_array_equal(again(values).numpy(), layer(values).numpy())
    with pytest.raises(ValueError, match="not both"):
        Discretization(bin_boundaries=[0.0], num_bins=2)


def test_integer_lookup_follows_keras_documented_examples():
    vocab, data = [12, 36, 1138, 42], np.array([[12, 1138, 42], [42, 1000, 36]])
    layer = IntegerLookup(vocabulary=vocab)
    np.testing.assert_array_equal(layer(data).numpy(), [[1, 3, 4], [4, 0, 2]])
    assert layer.get_vocabulary() == [-1, 12, 36, 1138, 42]
    adapted = IntegerLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]  # by frequency, ties by descending token
    np.testing.assert_array_equal(adapted(data).numpy(), [[5, 2, 1], [1, 3, 4]])
    masked = IntegerLookup(vocabulary=vocab, mask_token=0)
    np.testing.assert_array_equal(masked(np.array([[12, 1138, 42], [42, 0, 36]])).numpy(), [[2, 4, 5], [5, 0, 3]])
    inverse = IntegerLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(inverse(np.array([[1, 3, 4], [4, 0, 2]])).numpy(), [[12, 1138, 42], [42, -1, 36]])
    one_hot = IntegerLookup(vocabulary=vocab, output_mode="one_hot")(np.array([12, 36, 1138, 42, 7])).numpy()
    np.testing.assert_array_equal(one_hot, np.eye(5)[[1, 2, 3, 4, 0]])
    again = IntegerLookup.from_config(adapted.get_config())
    np.testing.assert_array_equal(again(data).numpy(), adapted(data).numpy())


def test_string_lookup_follows_keras_documented_examples():
    data = np.array([["a", "c", "d"], ["d", "z", "b"]])
    layer = StringLookup(vocabulary=["a", "b", "c", "d"])
    np.testing.assert_array_equal(layer(data).numpy(), [[1, 3, 4], [4, 0, 2]])
    adapted = StringLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(StringLookup(vocabulary=["a", "b", "c", "d"], invert=True)(
        np.array([[1, 3, 4], [4, 0, 2]])).numpy(), [["a", "c", "d"], ["d", "[UNK]", "b"]])
    multi_hot = StringLookup(vocabulary=["a", "b", "c", "d"], output_mode="multi_hot")(data).numpy()
    np.testing.assert_array_equal(multi_hot, [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    strict = StringLookup(vocabulary=["a"], num_oov_indices=0)
    with pytest.raises(ValueError, match="outside its vocabulary"):
        strict(np.array(["b"]))


def test_an_integer_lookup_feeds_an_embedding_in_a_model(rng, tmp_path):
    permnos = rng.choice([10107, 14593, 84788, 90319], size=(64, 1))
    lookup = IntegerLookup()
    lookup.adapt(permnos)
    model = deepfin.Sequential([deepfin.Input((1,)), lookup, deepfin.layers.Embedding(lookup.vocabulary_size(), 3),
                                deepfin.layers.Flatten(), deepfin.layers.Dense(1)])
    assert model.predict(permnos, verbose=0).shape == (64, 1)
    model.save(tmp_path / "lookup.keras")
    loaded = deepfin.models.load_model(tmp_path / "lookup.keras")
    np.testing.assert_allclose(loaded.predict(permnos, verbose=0), model.predict(permnos, verbose=0), rtol=1e-6)
