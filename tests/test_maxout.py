"""Maxout (and Keras 1's MaxoutDense): forward, gradients, training, config and saving."""

import numpy as np
import pytest

import deepfin
from deepfin import Tensor, layers, optimizers, regularizers
from deepfin.layers import Dense, Dropout, Input, Maxout, MaxoutDense
from deepfin.models import Model, Sequential, load_model
from tests.oracle import numeric_grad, rel_error, torch_value_and_grads


def maxout_reference(x, kernel, bias, units, pieces):
    """max over p of (x @ W[:, j, p] + b[j, p]), with W and b in the layer's documented layout."""
    w = kernel.reshape(kernel.shape[0], units, pieces)
    return np.max(np.einsum("...i,ijp->...jp", x, w) + bias.reshape(units, pieces), axis=-1)


def _layer_value_and_grads(layer, x, upstream):
    """Output and the gradients of sum(upstream * output) for input, kernel and bias."""
    xt = Tensor(x.copy(), requires_grad=True)
    out = layer(xt)
    out.backward(upstream)
    return out.data, [xt.grad, layer.kernel.grad, layer.bias.grad]


# ------------------------------------------------------------------ forward
def test_forward_matches_numpy_reference(rng):
    layer = Maxout(3, pieces=4, bias_initializer="random_normal")
    x = rng.standard_normal((6, 5)).astype(np.float32)
    out = layer(x)
    assert out.shape == (6, 3) and out.dtype == np.float32
    assert [w.path for w in layer.weights] == ["maxout/kernel", "maxout/bias"]
    assert [w.shape for w in layer.weights] == [(5, 12), (12,)]
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out.data, maxout_reference(x, kernel, bias, 3, 4), rtol=1e-6, atol=1e-6)
    # higher-rank inputs: the maxout acts on the last axis
    x3 = rng.standard_normal((2, 7, 5)).astype(np.float32)
    np.testing.assert_allclose(layer(x3).data, maxout_reference(x3, kernel, bias, 3, 4), rtol=1e-6, atol=1e-6)


def test_keras1_weight_layout_converts_as_documented(float64, rng):
    pieces, in_dim, units = 4, 5, 3
    w1, b1 = rng.standard_normal((pieces, in_dim, units)), rng.standard_normal((pieces, units))
    layer = MaxoutDense(units, input_dim=in_dim)
    layer(np.zeros((1, in_dim)))
    layer.set_weights([w1.transpose(1, 2, 0).reshape(in_dim, -1), b1.T.reshape(-1)])
    x = rng.standard_normal((8, in_dim))
    keras1 = np.max(np.stack([x @ w1[f] + b1[f] for f in range(pieces)]), axis=0)
    np.testing.assert_allclose(layer(x).data, keras1, rtol=1e-12)


def test_symbolic_shapes_and_input_check(rng):
    inputs = Input((7, 4))
    outputs = Maxout(3, pieces=2)(inputs)
    assert outputs.shape == (None, 7, 3)
    model = Model(inputs, outputs)
    assert model.predict(rng.standard_normal((2, 7, 4)), verbose=0).shape == (2, 7, 3)
    assert Maxout(5).compute_output_shape((None, 4)) == (None, 5)
    layer = Maxout(2, name="mx")
    layer(rng.standard_normal((1, 3)))
    with pytest.raises(ValueError, match=r"shape \(4, 5\) is incompatible with layer 'mx'.*size 3"):
        layer(rng.standard_normal((4, 5)))
    with pytest.raises(ValueError, match=r"shape \(None, 5\) is incompatible with layer 'mx'"):
        layer(Input((5,)))


# ------------------------------------------------------------------ gradients
def test_gradients_match_central_differences(float64, rng):
    units, pieces = 3, 4
    layer = Maxout(units, pieces, bias_initializer="random_normal")
    x = rng.standard_normal((5, 6))
    layer(x)
    kernel, bias = layer.get_weights()
    upstream = rng.standard_normal((5, units))
    value, grads = _layer_value_and_grads(layer, x, upstream)
    arrays = [x.copy(), kernel.copy(), bias.copy()]

    def weighted(*a):
        return upstream * maxout_reference(*a, units, pieces)

    np.testing.assert_allclose(value, maxout_reference(x, kernel, bias, units, pieces), rtol=1e-12)
    for index, grad in enumerate(grads):
        expected = numeric_grad(weighted, arrays, index)
        assert rel_error(grad, expected) < 1e-7, ["input", "kernel", "bias"][index]
    # each unit's gradient goes, whole, to its pieces
    np.testing.assert_allclose(grads[2].reshape(units, pieces).sum(axis=-1), upstream.sum(axis=0), rtol=1e-12)


def test_gradients_match_torch(float64, rng):
    pytest.importorskip("torch")
    units, pieces = 4, 3
    layer = Maxout(units, pieces, bias_initializer="random_normal")
    x = rng.standard_normal((7, 5))
    layer(x)
    kernel, bias = layer.get_weights()
    upstream = rng.standard_normal((7, units))
    value, grads = _layer_value_and_grads(layer, x, upstream)

    def torch_maxout(x, kernel, bias):
        return (x @ kernel + bias).reshape(x.shape[0], units, pieces).max(dim=-1).values

    t_value, t_grads = torch_value_and_grads(torch_maxout, [x, kernel, bias], upstream)
    assert rel_error(value, t_value) < 1e-12
    for name, ours, theirs in zip(["input", "kernel", "bias"], grads, t_grads):
        assert rel_error(ours, theirs) < 1e-12, name


def test_float32_gradient_stays_float32_through_the_max(rng):
    z = Tensor(rng.standard_normal((4, 3, 2)).astype(np.float32), requires_grad=True)
    (grad,) = z.max(axis=-1)._backward(np.ones((4, 3), np.float32))
    assert grad.dtype == np.float32


# ------------------------------------------------------------------ training
def _separable(rng, n=240):
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, (x[:, 0] - 0.5 * x[:, 2] > 0).astype(np.int64)


def _maxout_model():
    model = Sequential([Maxout(31, 2, input_dim=4), Dropout(0.2), Maxout(10, 2),
                        Dense(2, activation="softmax")])
    # Adadelta's usual rate of 1.0 (Keras 1's default); Keras 3's 0.001 barely moves in 20 epochs
    model.compile(optimizers.Adadelta(learning_rate=1.0), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_maxout_stack_trains_with_adadelta(rng):
    x, y = _separable(rng)
    model = _maxout_model()
    assert model.output_shape == (None, 2)
    assert model.count_params() == (4 * 62 + 62) + (31 * 20 + 20) + (10 * 2 + 2)
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] > 0.9


def test_weight_penalties_count_in_the_loss(rng):
    x, y = _separable(rng, n=16)
    plain = Sequential([Maxout(3, 2, input_dim=4), Dense(2, activation="softmax")])
    penalized = Sequential([Maxout(3, 2, input_dim=4, kernel_regularizer=regularizers.l1(0.1),
                                   bias_regularizer=regularizers.l2(0.2), bias_initializer="ones"),
                            Dense(2, activation="softmax")])
    plain.set_weights(penalized.get_weights())
    assert len(penalized.layers[0].losses) == 2
    losses = []
    for model in (plain, penalized):
        model.compile(optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy")
        losses.append(model.fit(x, y, batch_size=16, verbose=0).history["loss"][0])
    kernel = penalized.get_weights()[0]
    expected = 0.1 * np.sum(np.abs(kernel)) + 0.2 * 6
    assert losses[1] - losses[0] == pytest.approx(expected, rel=1e-5)


# ------------------------------------------------------------------ spelling, config, saving
def test_maxoutdense_builds_an_equal_layer(rng):
    old = MaxoutDense(5, input_dim=3)
    assert isinstance(old, Maxout) and old.pieces == 4  # Keras 1's default nb_feature
    old = MaxoutDense(5, nb_feature=3, init="he_normal", W_regularizer=regularizers.l1(0.01),
                      b_regularizer=regularizers.l2(0.02), input_dim=3, name="old")
    new = Maxout(5, pieces=3, kernel_initializer="he_normal", kernel_regularizer=regularizers.l1(0.01),
                 bias_regularizer=regularizers.l2(0.02), input_dim=3, name="new")
    assert {**old.get_config(), "name": "new"} == new.get_config()
    x = rng.standard_normal((4, 3))
    deepfin.utils.set_random_seed(3)
    old_out = old(x).data
    deepfin.utils.set_random_seed(3)
    np.testing.assert_array_equal(new(x).data, old_out)
    assert not MaxoutDense(2, bias=False).use_bias


def test_config_round_trip():
    layer = Maxout(4, pieces=3, use_bias=False, kernel_regularizer=regularizers.l2(0.01), name="mx")
    config = layer.get_config()
    assert (config["units"], config["pieces"], config["use_bias"]) == (4, 3, False)
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    clone = layers.deserialize(layers.serialize(layer))
    assert isinstance(clone, Maxout) and clone.get_config() == config
    clone(np.zeros((2, 5)))
    assert [w.shape for w in clone.weights] == [(5, 12)]


@pytest.mark.parametrize("make, error, message", [
    (lambda: Maxout(0), ValueError, "Received: units=0"),
    (lambda: Maxout(2.5), ValueError, "Received: units=2.5"),
    (lambda: Maxout(3, pieces=0), ValueError, "Received: pieces=0"),
    (lambda: Maxout(3, pieces=True), ValueError, "Received: pieces=True"),
    (lambda: MaxoutDense(3, nb_feature=0), ValueError, "Received: pieces=0"),
    (lambda: Maxout(3, activation="relu"), TypeError, "Unrecognized keyword arguments"),
    (lambda: Maxout(3, kernel_initializer="glorot"), ValueError, "Unknown initializer"),
])
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_save_and_load_round_trip_keeps_predictions_and_optimizer(tmp_path, rng):
    x, y = _separable(rng, n=64)
    model = _maxout_model()
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "maxout.keras")
    loaded = load_model(tmp_path / "maxout.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == ["Maxout", "Dropout", "Maxout", "Dense"]
    assert loaded.layers[2].pieces == 2 and loaded.layers[2].units == 10
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.optimizer, optimizers.Adadelta) and loaded.optimizer.learning_rate == 1.0
    runs = []
    for m in (model, loaded):
        deepfin.utils.set_random_seed(11)  # same dropout masks and shuffling for both
        runs.append(m.fit(x, y, epochs=2, verbose=0).history["loss"])
    assert runs[0] == runs[1]
