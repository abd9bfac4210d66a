"""MultiHeadAttention: forward equal to real Keras 3's with Keras's weights (self- and cross-attention, masks,
the causal mask, the scores, output_shape), gradients equal to finite differences (float64), and a small
transformer block that trains and saves in a functional model."""

import os

import numpy as np
import pytest

import deepfin
from deepfin.engine.tensor import Tensor
from deepfin.layers import Dense, LayerNormalization, MultiHeadAttention

CASES = [
    ({}, {}, "self"),
    ({"value_dim": 3, "output_shape": 5}, {}, "cross"),
    ({}, {"use_causal_mask": True}, "self"),
    ({"use_bias": False}, {"attention_mask": "random"}, "cross"),
    ({}, {"attention_mask": "random", "use_causal_mask": True, "return_attention_scores": True}, "self"),
]


@pytest.mark.parametrize("options, call, kind", CASES, ids=[f"{kind}-{sorted(o)}-{sorted(c)}"
                                                             for o, c, kind in CASES])
def test_forward_equals_keras_with_its_weights(options, call, kind, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    query = rng.standard_normal((2, 5, 6)).astype(np.float32)
    value = query if kind == "self" else rng.standard_normal((2, 4, 3)).astype(np.float32)
    if call.get("attention_mask") == "random":
        call = {**call, "attention_mask": rng.random((2, 5, value.shape[1])) > 0.3}
        call["attention_mask"][:, :, 0] = True  # every query attends to something
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, bias_initializer="random_normal", **options)
    expected = theirs(query, value, **call)
    expected = [keras.ops.convert_to_numpy(e) for e in expected] if isinstance(expected, tuple) else \
        [keras.ops.convert_to_numpy(expected)]
    ours = MultiHeadAttention(num_heads=2, key_dim=4, **options)
    ours.build([(None, 5, 6), (None, *value.shape[1:])])
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    got = ours(query, value, **call)
    got = got if isinstance(got, list) else [got]
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)


def test_gradients_equal_finite_differences(rng):
    layer = MultiHeadAttention(num_heads=2, key_dim=3, dtype="float64", bias_initializer="random_normal")
    x = rng.standard_normal((2, 4, 5))
    weights = rng.standard_normal((2, 4, 5))

    def loss(values):
        return float((layer(values, values, use_causal_mask=True).numpy() * weights).sum())

    inputs = Tensor(x, requires_grad=True)
    (layer(inputs, inputs, use_causal_mask=True) * weights).sum().backward()
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += 1e-6
        down[index] -= 1e-6
        numeric[index] = (loss(up) - loss(down)) / 2e-6
    np.testing.assert_allclose(inputs.grad, numeric, rtol=1e-5, atol=1e-8)
    kernel = layer.query_kernel
    analytic = kernel.grad.copy()
    for index in [(0, 0, 0), (4, 1, 2)]:
        original = kernel.data[index]
        kernel.data[index] = original + 1e-6
        up = loss(x)
        kernel.data[index] = original - 1e-6
        down = loss(x)
        kernel.data[index] = original
        assert analytic[index] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-8)


def test_a_transformer_block_trains_and_saves_in_a_functional_model(tmp_path, rng):
    """Does the last step's sign repeat the sign of step 3? Attention must find step 3."""
    x = rng.standard_normal((512, 8, 4)).astype(np.float32)
    y = (x[:, 3, 0] > 0).astype(np.float32)
    inputs = deepfin.Input((8, 4))
    attended = MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
    block = LayerNormalization()(deepfin.layers.Add()([inputs, attended]))
    outputs = Dense(1, activation="sigmoid")(deepfin.layers.Flatten()(block))
    model = deepfin.Model(inputs, outputs)
    model.compile(optimizer=deepfin.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    model.save(tmp_path / "transformer.keras")
    loaded = deepfin.models.load_model(tmp_path / "transformer.keras")
    np.testing.assert_allclose(loaded.predict(x[:16], verbose=0), model.predict(x[:16], verbose=0), rtol=1e-6)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="steps axis"):
        MultiHeadAttention(2, 4, attention_axes=(1, 2))
    layer = MultiHeadAttention(2, 4)
    x = np.zeros((1, 3, 4), np.float32)
    with pytest.raises(ValueError, match="attention_mask must have shape"):
        layer(x, x, attention_mask=np.ones((1, 2, 3)))


def test_masks_from_an_embedding_reach_attention_as_in_keras(rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    ids = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 5], [0, 0, 7, 1, 2]])

    def build(lib, layers):
        inputs = lib.Input((5,))
        embedded = layers.Embedding(10, 4, mask_zero=True)(inputs)
        attended = layers.MultiHeadAttention(num_heads=2, key_dim=3)(embedded, embedded)
        return lib.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(attended)))

    theirs, ours = build(keras, keras.layers), build(deepfin, deepfin.layers)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0), rtol=1e-5, atol=1e-6)
    layer = MultiHeadAttention(2, 3)
    query, value = rng.standard_normal((2, 4, 3)).astype(np.float32), rng.standard_normal((2, 6, 3)).astype(np.float32)
    hidden = np.array([[True] * 4 + [False] * 2] * 2)
    changed = value.copy()
    changed[:, 4:] += 5.0  # the masked steps' keys and values cannot reach any output
    np.testing.assert_allclose(layer(query, changed, value_mask=hidden).numpy(),
                               layer(query, value, value_mask=hidden).numpy(), rtol=1e-6)
    assert not np.allclose(layer(query, changed).numpy(), layer(query, value).numpy())


def _causal_model(lib):
    inputs = lib.Input((5, 6))
    attended, scores = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4, bias_initializer="random_normal")(
        inputs, inputs, use_causal_mask=True, return_attention_scores=True)
    return lib.Model(inputs, [lib.layers.Dense(1)(attended), scores])


def test_a_functional_model_runs_attention_with_the_options_it_was_called_with(tmp_path, rng):
    """use_causal_mask and return_attention_scores given when the model was built hold when it runs (the causal
    mask was once dropped on replay) and after saving: the outputs and scores equal Keras 3's with its weights."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = rng.standard_normal((3, 5, 6)).astype(np.float32)
    theirs, ours = _causal_model(keras), _causal_model(deepfin)
    assert [tuple(o.shape) for o in ours.outputs] == [(None, 5, 1), (None, 2, 5, 5)]
    ours.set_weights(theirs.get_weights())
    expected = theirs.predict(x, verbose=0)
    ours.save(tmp_path / "causal.keras")
    for model in (ours, deepfin.models.load_model(tmp_path / "causal.keras")):
        for got, want in zip(model.predict(x, verbose=0), expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_saved_call_option_that_is_not_a_switch_is_refused(tmp_path):
    config = _causal_model(deepfin).get_config()
    node = next(n for n in config["nodes"] if "arguments" in n)
    node["arguments"] = {"attention_mask": [[1, 0]]}
    with pytest.raises(ValueError, match="expected switches"):
        deepfin.Model.from_config(config)


def _masked_by_input(lib):
    sequence, allowed = lib.Input((5, 6)), lib.Input((5, 5))
    attended = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4, bias_initializer="random_normal")(
        sequence, sequence, attention_mask=allowed)
    return lib.Model([sequence, allowed], lib.layers.Dense(1)(attended))


def test_an_attention_mask_given_as_a_model_input_works_as_in_keras(tmp_path, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = rng.standard_normal((3, 5, 6)).astype(np.float32)
    allowed = (rng.random((3, 5, 5)) > 0.4).astype(np.float32)
    allowed[:, :, 0] = 1  # every query attends to something
    theirs, ours = _masked_by_input(keras), _masked_by_input(deepfin)
    ours.set_weights(theirs.get_weights())
    expected = theirs.predict([x, allowed], verbose=0)
    ours.save(tmp_path / "masked.keras")
    for model in (ours, deepfin.models.load_model(tmp_path / "masked.keras")):
        np.testing.assert_allclose(model.predict([x, allowed], verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert np.abs(ours.predict([x, np.ones_like(allowed)], verbose=0) - expected).max() > 1e-3  # the mask matters
    with pytest.raises(TypeError, match="must be a symbolic tensor"):
        MultiHeadAttention(2, 4)(deepfin.Input((5, 6)), deepfin.Input((5, 6)), attention_mask=np.ones((1, 5, 5)))
