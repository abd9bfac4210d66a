"""Weight constraints (``deepfin.constraints``) against Keras 3's: each formula on random weights, and one SGD step
of a model with constrained Dense weights from Keras's weights gives Keras's weights; constrained models train on
the engine (the kernels apply none) and save their constraints."""

import os

import numpy as np
import pytest

import deepfin
from deepfin import constraints, layers

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

CASES = {
    "max_norm": ({"max_value": 0.7}, "MaxNorm"),
    "max_norm_axis_1": ({"max_value": 1.3, "axis": 1}, "MaxNorm"),
    "min_max_norm": ({"min_value": 0.8, "max_value": 1.1, "rate": 0.5}, "MinMaxNorm"),
    "non_neg": ({}, "NonNeg"),
    "unit_norm": ({}, "UnitNorm"),
    "unit_norm_axes": ({"axis": [0, 1]}, "UnitNorm"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_constraint_equals_keras(case, rng):
    kwargs, name = CASES[case]
    w = rng.standard_normal((5, 4, 3)).astype(np.float32) if "axes" in case else \
        rng.standard_normal((5, 4)).astype(np.float32)
    ours = getattr(constraints, name)(**kwargs)(w)
    theirs = keras.ops.convert_to_numpy(getattr(keras.constraints, name)(**kwargs)(w))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def _model(lib, kernel_constraint, bias_constraint):
    return lib.Sequential([lib.Input((6,)), lib.layers.Dense(4, activation="tanh", kernel_constraint=kernel_constraint,
                                                             bias_constraint=bias_constraint,
                                                             bias_initializer="random_normal"),
                           lib.layers.Dense(1, activation="sigmoid")])


@pytest.mark.parametrize("kernel, bias", [("max_norm", "non_neg"), ("unit_norm", None), ("non_neg", "max_norm")])
def test_a_training_step_applies_the_constraints_as_keras_does(kernel, bias, rng, compiled_kernels):
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    theirs = _model(keras, kernel, bias)
    theirs.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    ours = _model(deepfin, kernel, bias)
    ours.compile(optimizer=deepfin.optimizers.SGD(0.5), loss="binary_crossentropy")
    ours.set_weights(theirs.get_weights())
    assert ours.training_path == "eager: layer 'dense' constrains a weight"
    for model in (theirs, ours):
        model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_constraints_are_saved_named_and_refused_when_unknown(tmp_path):
    model = deepfin.Sequential([deepfin.Input((3,)),
                                layers.Dense(2, kernel_constraint=constraints.MaxNorm(1.5, axis=1)),
                                layers.Maxout(2, bias_constraint="non_neg")])
    model.compile(loss="mse")
    model.save(tmp_path / "constrained.keras")
    loaded = deepfin.models.load_model(tmp_path / "constrained.keras")
    kernel_constraint = loaded.layers[0].kernel_constraint
    assert isinstance(kernel_constraint, constraints.MaxNorm) and kernel_constraint.get_config() == \
        {"max_value": 1.5, "axis": 1}
    assert isinstance(loaded.layers[1].bias_constraint, constraints.NonNeg)
    with pytest.raises(ValueError, match="Unknown constraint: 'max'"):
        layers.Dense(2, kernel_constraint="max")


SEQUENCE_MODELS = {  # name: (layers of a library, the input)
    "conv1d": (lambda L: [L.Conv1D(3, 2, kernel_constraint="non_neg", bias_constraint="max_norm",
                                   bias_initializer="random_normal"), L.GlobalAveragePooling1D()], (7, 2)),
    "lstm": (lambda L: [L.LSTM(3, kernel_constraint="max_norm", recurrent_constraint="unit_norm",
                               bias_constraint="non_neg")], (7, 2)),
    "embedding": (lambda L: [L.Embedding(10, 3, embeddings_constraint="unit_norm"), L.Flatten()], (4,)),
}


@pytest.mark.parametrize("name", sorted(SEQUENCE_MODELS))
def test_sequence_layers_constraints_train_as_keras_does(name, rng):
    make, shape = SEQUENCE_MODELS[name]
    x = rng.integers(0, 10, (16, *shape)).astype(np.float32) if name == "embedding" else \
        rng.standard_normal((16, *shape)).astype(np.float32)
    y = (rng.random(16) > 0.5).astype(np.float32)
    trained = []
    for lib in (keras, deepfin):
        model = lib.Sequential([lib.Input(shape), *make(lib.layers), lib.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss="binary_crossentropy")
        if trained:
            model.set_weights(trained[0][0])
        start = model.get_weights()
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        trained.append((start, model.get_weights()))
    for a, b in zip(trained[1][1], trained[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    config = deepfin.layers.serialize(deepfin.Sequential([deepfin.Input(shape), *make(deepfin.layers)]).layers[0])
    assert any(key.endswith("constraint") and value is not None for key, value in config["config"].items())


@pytest.mark.parametrize("layer", ["BatchNormalization", "LayerNormalization"])
def test_normalization_constraints_train_and_save_as_keras_does(layer, rng, tmp_path):
    """``beta_constraint`` and ``gamma_constraint`` of the normalization layers (refused before): three SGD steps
    from Keras's weights give Keras's weights, the constraints holding, and they are saved with the model."""
    x = rng.standard_normal((32, 5)).astype(np.float32) * 3.0
    y = (x[:, 0] > 0).astype(np.float32)

    def model(lib):
        norm = getattr(lib.layers, layer)(gamma_constraint="non_neg", beta_constraint=lib.constraints.MaxNorm(0.05),
                                         gamma_initializer="random_normal", beta_initializer="random_normal")
        return lib.Sequential([lib.Input((5,)), lib.layers.Dense(5, activation="tanh"), norm,
                               lib.layers.Dense(1, activation="sigmoid")])

    theirs, ours = model(keras), model(deepfin)
    theirs.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    ours.compile(optimizer=deepfin.optimizers.SGD(0.5), loss="binary_crossentropy")
    ours.set_weights(theirs.get_weights())
    for trained in (theirs, ours):
        trained.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    gamma, beta = ours.layers[1].gamma.numpy(), ours.layers[1].beta.numpy()
    assert (gamma >= 0).all() and np.linalg.norm(beta) <= 0.05 + 1e-6
    ours.save(tmp_path / "normalized.keras")
    loaded = deepfin.models.load_model(tmp_path / "normalized.keras").layers[1]
    assert isinstance(loaded.gamma_constraint, constraints.NonNeg)
    assert loaded.beta_constraint.get_config()["max_value"] == 0.05


def test_attention_constraints_train_and_save_as_keras_does(rng, tmp_path):
    """``kernel_constraint`` and ``bias_constraint`` of ``MultiHeadAttention`` (refused before) hold every
    projection's kernel and bias: three SGD steps from Keras's weights give Keras's weights, and they are saved."""
    x = rng.standard_normal((16, 4, 3)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.float32)

    def model(lib):
        inputs = lib.Input((4, 3))
        attended = lib.layers.MultiHeadAttention(2, 2, kernel_constraint=lib.constraints.MaxNorm(0.5),
                                                 bias_constraint="non_neg", bias_initializer="random_normal")(
            inputs, inputs)
        pooled = lib.layers.GlobalAveragePooling1D()(attended)
        return lib.Model(inputs, lib.layers.Dense(1, activation="sigmoid")(pooled))

    theirs, ours = model(keras), model(deepfin)
    theirs.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    ours.compile(optimizer=deepfin.optimizers.SGD(0.5), loss="binary_crossentropy")
    ours.set_weights(theirs.get_weights())
    for trained in (theirs, ours):
        trained.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    attention = ours.layers[1]
    assert (attention.query_bias.numpy() >= 0).all() and (attention.output_bias.numpy() >= 0).all()
    assert np.sqrt((attention.query_kernel.numpy() ** 2).sum(axis=0)).max() <= 0.5 + 1e-6
    ours.save(tmp_path / "attention.keras")
    loaded = deepfin.models.load_model(tmp_path / "attention.keras").layers[1]
    assert isinstance(loaded.bias_constraint, constraints.NonNeg) and loaded.kernel_constraint.max_value == 0.5
