"""Embedding, LayerNormalization, the shape, noise and Rescaling layers and Lambda: forward equal to real Keras 3's
with Keras's weights (float32), gradients equal to PyTorch's (float64), the noise layers' statistics in training
and identity in inference, configs that round-trip, and errors before any work."""

import os

import numpy as np
import pytest

import deepfin
from deepfin.engine.tensor import Tensor
from deepfin.layers import (
    AlphaDropout,
    Dense,
    Embedding,
    GaussianDropout,
    GaussianNoise,
    Lambda,
    LayerNormalization,
    Permute,
    RepeatVector,
    Rescaling,
    Reshape,
)

torch = pytest.importorskip("torch")

KERAS_CASES = [
    ("Embedding", dict(input_dim=7, output_dim=3), "ids"),
    ("LayerNormalization", dict(), "seq"),
    ("LayerNormalization", dict(axis=[1, 2], epsilon=1e-5), "seq"),
    ("LayerNormalization", dict(rms_scaling=True), "seq"),
    ("LayerNormalization", dict(center=False, gamma_initializer="random_normal"), "seq"),
    ("Reshape", dict(target_shape=(3, -1)), "seq"),
    ("Permute", dict(dims=(2, 1)), "seq"),
    ("RepeatVector", dict(n=4), "flat"),
    ("Rescaling", dict(scale=0.5, offset=1.0), "seq"),
]


def _inputs(kind: str, rng) -> np.ndarray:
    if kind == "ids":
        return rng.integers(0, 7, size=(5, 4)).astype(np.int64)
    if kind == "flat":
        return rng.standard_normal((5, 6)).astype(np.float32)
    return rng.standard_normal((5, 4, 6)).astype(np.float32)


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")  # Keras 3.10+ deprecates it; 3.5 has it
@pytest.mark.parametrize("name, options, kind", KERAS_CASES, ids=[f"{n}-{sorted(o)}" for n, o, _ in KERAS_CASES])
def test_forward_equals_keras(name, options, kind, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = _inputs(kind, rng)
    theirs = getattr(keras.layers, name)(**options)
    expected = keras.ops.convert_to_numpy(theirs(x))
    ours = getattr(deepfin.layers, name)(**options)
    ours.build((None, *x.shape[1:]))
    ours.set_weights(theirs.get_weights())
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert ours.compute_output_shape((None, *x.shape[1:])) == tuple(theirs.compute_output_shape((None, *x.shape[1:])))
    again = type(ours).from_config(ours.get_config())
    again.build((None, *x.shape[1:]))
    again.set_weights(ours.get_weights())
    np.testing.assert_allclose(again(x).numpy(), ours(x).numpy())


def test_layer_normalization_gradients_equal_pytorch(rng):
    layer = LayerNormalization(epsilon=1e-5, dtype="float64", gamma_initializer="random_normal",
                               beta_initializer="random_normal")
    x = rng.standard_normal((3, 5, 8))
    inputs = Tensor(x, requires_grad=True)
    out = layer(inputs)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    x_t = torch.tensor(x, requires_grad=True)
    gamma = torch.tensor(layer.gamma.numpy(), requires_grad=True)
    beta = torch.tensor(layer.beta.numpy(), requires_grad=True)
    out_t = torch.nn.functional.layer_norm(x_t, (8,), gamma, beta, 1e-5)
    (out_t * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    for ours, theirs in ((inputs.grad, x_t.grad), (layer.gamma.grad, gamma.grad), (layer.beta.grad, beta.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-6, atol=1e-12)


def test_embedding_gradient_adds_repeated_identifiers_as_pytorch_does(rng):
    layer = Embedding(6, 3, dtype="float64")
    ids = np.array([[0, 2, 2], [5, 2, 0]])
    out = layer(ids)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    table = torch.tensor(layer.embeddings.numpy(), requires_grad=True)
    (torch.nn.functional.embedding(torch.from_numpy(ids), table) * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(layer.embeddings.grad, table.grad.numpy(), rtol=1e-12)


def test_an_embedding_model_learns_identifier_effects(rng):
    """Each of 20 tickers has its own mean return sign; the model must learn it from the identifier alone."""
    ids = rng.integers(0, 20, 2000)
    effect = np.where(np.arange(20) % 2 == 0, 1.0, 0.0)
    y = (rng.random(2000) < 0.2 + 0.6 * effect[ids]).astype(np.float32)
    model = deepfin.Sequential([deepfin.Input((1,)), Embedding(20, 4), deepfin.layers.Flatten(),
                                Dense(1, activation="sigmoid")])
    model.compile(optimizer=deepfin.optimizers.Adam(0.05), loss="binary_crossentropy")
    model.fit(ids[:, None], y, epochs=10, batch_size=64, verbose=0)
    predicted = model.predict(np.arange(20)[:, None], verbose=0)[:, 0]
    assert np.all((predicted > 0.5) == (effect == 1))


def test_noise_layers_are_identities_in_inference_and_have_keras_statistics():
    x = np.full((400, 500), 2.0, np.float32)
    for layer in (GaussianNoise(0.3, seed=1), GaussianDropout(0.2, seed=1), AlphaDropout(0.2, seed=1)):
        np.testing.assert_array_equal(layer(x).numpy(), x)
    noisy = GaussianNoise(0.3, seed=1)(x, training=True).numpy()
    assert abs(noisy.mean() - 2.0) < 0.01 and abs(noisy.std() - 0.3) < 0.01
    scaled = GaussianDropout(0.2, seed=1)(x, training=True).numpy()
    assert abs(scaled.mean() - 2.0) < 0.01 and abs(scaled.std() - 2.0 * np.sqrt(0.2 / 0.8)) < 0.01
    selu_like = np.random.default_rng(0).standard_normal((400, 500)).astype(np.float32)
    dropped = AlphaDropout(0.2, seed=1)(selu_like, training=True).numpy()
    assert abs(dropped.mean()) < 0.01 and abs(dropped.std() - 1.0) < 0.02  # mean 0, variance 1 kept


def test_lambda_runs_and_refuses_to_be_saved(tmp_path, rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    layer = Lambda(lambda t, factor: t * factor, arguments={"factor": 3.0})
    np.testing.assert_allclose(layer(x).numpy(), 3 * x)
    model = deepfin.Sequential([deepfin.Input((6,)), layer, Dense(1)])
    assert model.output_shape == (None, 1)
    with pytest.raises(ValueError, match="cannot be saved"):
        model.save(tmp_path / "lambda.keras")
    assert not (tmp_path / "lambda.keras").exists()


def test_shape_layers_refuse_impossible_shapes():
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match="cannot reshape"):
        Reshape((5,))(np.zeros((2, 6), np.float32))
    with pytest.raises(ValueError, match="permutation"):
        Permute((1, 3))
    with pytest.raises(ValueError, match="batch, features"):
        RepeatVector(2)(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="identifiers in"):
        Embedding(3, 2)(np.array([[0, 3]]))
    with pytest.raises(ValueError, match="whole numbers"):
        Embedding(3, 2)(np.array([[0.5]]))
    with pytest.raises(ValueError, match="scale"):
        Rescaling("x")


@pytest.mark.parametrize("axis", [-1, None, (1, 2)], ids=["features", "one", "steps_and_features"])
def test_normalization_adapts_inverts_and_saves_as_keras(axis, tmp_path, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    data = (rng.standard_normal((200, 4, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, -1.0]).astype(np.float32)
    theirs = keras.layers.Normalization(axis=axis)
    theirs.adapt(data)
    ours = deepfin.layers.Normalization(axis=axis)
    ours.adapt(iter(np.array_split(data, 7)))  # batch by batch, as from a generator
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    for a, b in zip(ours.get_weights()[:2], theirs.get_weights()[:2]):  # mean and variance
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # count: the values each statistic was taken over (Keras 3.15's adapt leaves its count at 0)
    assert ours.get_weights()[2] == data.size / ours.get_weights()[0].size
    np.testing.assert_allclose(ours(data).numpy(), keras.ops.convert_to_numpy(theirs(data)), rtol=1e-4, atol=1e-5)
    back = deepfin.layers.Normalization(axis=axis, invert=True)
    back.build((None, 4, 3))
    back.set_weights(ours.get_weights())
    np.testing.assert_allclose(back(ours(data)).numpy(), data, rtol=1e-4, atol=1e-4)
    model = deepfin.Sequential([deepfin.Input((4, 3)), ours, deepfin.layers.Flatten(), Dense(1)])
    model.save(tmp_path / "normalized.keras")
    loaded = deepfin.models.load_model(tmp_path / "normalized.keras")
    np.testing.assert_allclose(loaded.predict(data[:5], verbose=0), model.predict(data[:5], verbose=0), rtol=1e-6)


def test_normalization_with_given_statistics_and_bad_input():
    layer = deepfin.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    np.testing.assert_allclose(layer(np.array([[3.0, 8.0]], np.float32)).numpy(), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="nothing to adapt"):
        layer.adapt(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="both mean and variance"):
        deepfin.layers.Normalization(mean=[1.0])
