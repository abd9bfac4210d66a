"""Layers and Sequential models: building, the training loop, the graph oracle, bad input."""

import numpy as np
import pytest

import deepfin
from deepfin import Tensor, backend, losses, regularizers
from deepfin.layers import Activation, Dense, Dropout, Flatten, Input
from deepfin.models import Sequential
from deepfin.optimizers import SGD
from tests.oracle import rel_error


def _binary_data(rng, n=64, d=4):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)


# ------------------------------------------------------------------ layers
def test_layers_get_keras_names():
    assert [Dense(1).name, Dense(1).name, Activation("relu").name, Dropout(0.1).name] == [
        "dense", "dense_1", "activation", "dropout"]
    backend.clear_session()
    assert Dense(2, name="hidden").name == "hidden" and Dense(2).name == "dense"


def test_dense_builds_weights_in_keras_order_and_config(rng):
    layer = Dense(3, activation="tanh", kernel_regularizer=regularizers.l2(0.01))
    out = layer(rng.standard_normal((5, 4)))
    assert out.shape == (5, 3) and layer.built
    assert [w.path for w in layer.weights] == ["dense/kernel", "dense/bias"]
    assert [w.shape for w in layer.trainable_weights] == [(4, 3), (3,)]
    assert layer.count_params() == 15
    config = layer.get_config()
    assert config["units"] == 3 and config["activation"] == "tanh"
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    clone = Dense.from_config({**config, "name": "clone"})
    assert clone.units == 3 and clone.activation is layer.activation


def test_dense_works_on_higher_rank_inputs(rng):
    out = Dense(2)(rng.standard_normal((3, 5, 4)))
    assert out.shape == (3, 5, 2)


def test_dropout_only_in_training(rng):
    x = np.ones((200, 50), np.float32)
    layer = Dropout(0.5)
    np.testing.assert_array_equal(layer(x).data, x)
    trained = layer(x, training=True).data
    assert set(np.unique(trained)) == {0.0, 2.0}


def test_flatten_and_frozen_layers(rng):
    assert Flatten()(rng.standard_normal((2, 3, 4))).shape == (2, 12)
    layer = Dense(2)
    layer(rng.standard_normal((1, 3)))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


@pytest.mark.parametrize("make, error, message", [
    (lambda: Dense(0), ValueError, "Received: units=0"),
    (lambda: Dense(2.5), ValueError, "units=2.5"),
    (lambda: Dense(2, activation="relux"), ValueError, "Unknown activation: 'relux'"),
    (lambda: Dense(2, kernel_initializer="glorot"), ValueError, "Unknown initializer"),
    (lambda: Dense(2, units2=3), TypeError, "Unrecognized keyword arguments"),
    (lambda: Dropout(1.5), ValueError, r"rate=1.5"),
    (lambda: Dense(2, input_shape=(0,)), ValueError, "positive integer dimensions"),
    (lambda: Dense(2).count_params(), ValueError, "isn't built"),
])
def test_bad_layer_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_dense_names_itself_and_both_shapes_on_a_mismatch(rng):
    layer = Dense(2, name="hidden")
    layer(rng.standard_normal((1, 3)))
    with pytest.raises(ValueError, match=r"shape \(4, 5\) is incompatible with layer 'hidden'.*size 3"):
        layer(rng.standard_normal((4, 5)))


# ------------------------------------------------------------------ seed numbers
def test_seed_parameter_counts():
    a = Sequential([Dense(3, input_dim=2), Activation("tanh"), Dense(1), Activation("sigmoid")])
    b = Sequential([Dense(units=3, input_shape=(2,), name="hidden"), Activation("sigmoid", name="logistic"),
                    Dense(2, name="output"), Activation("softmax", name="softmax")])
    network = Sequential()
    network.add(Dense(512, activation="relu", input_shape=(28 * 28,)))
    network.add(Dense(10, activation="softmax"))
    assert (a.count_params(), b.count_params(), network.count_params()) == (13, 17, 407_050)
    assert [layer.count_params() for layer in network.layers] == [401_920, 5130]


def test_seed_bank_forward_pass():
    """Two children and three accounts through the seed's fixed weights predict 9 transactions."""
    model = Sequential([Dense(2, use_bias=False, activation="linear", input_dim=2), Dense(1, use_bias=False)])
    model.set_weights([np.array([[1, -1], [1, 1]]), np.array([[2], [-1]])])
    hidden = model.layers[0](np.array([[2.0, 3.0]]))
    np.testing.assert_array_equal(hidden.data, [[5, 1]])
    assert model.predict(np.array([[2, 3]]), verbose=0)[0, 0] == 9


def test_seed_slope_example():
    """weights [1, 2], input [3, 4], target 6: the squared-error gradient is [30, 40]."""
    model = Sequential([Dense(1, use_bias=False, input_dim=2)])
    model.set_weights([np.array([[1.0], [2.0]])])
    loss = losses.get("mse")(np.array([[6.0]]), model(Tensor(np.array([[3.0, 4.0]]))))
    loss.backward()
    np.testing.assert_allclose(model.trainable_weights[0].grad, [[30.0], [40.0]])
    updated = model.get_weights()[0] - 0.01 * model.trainable_weights[0].grad
    assert np.isclose((updated[:, 0] * [3, 4]).sum() - 6, 2.5)


SEED_LOSSES = [0.822322582088, 0.722897448125, 0.646837651208, 0.584116122241, 0.530908161024,
               0.48523717872, 0.445747750118, 0.411391164148, 0.381326093762, 0.354869998127,
               0.331466036109, 0.310657702141, 0.292068863232, 0.275387990352, 0.260355695915,
               0.246754868981, 0.234402844624, 0.22314516463, 0.21285058467, 0.203407060401]


@pytest.mark.parametrize("floatx, digits", [("float32", 6), ("float64", 11)])
def test_seed_logistic_regressor_reproduces_the_printed_losses(floatx, digits):
    backend.set_floatx(floatx)
    np.random.seed(1)
    x = np.array([[0, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]])
    y = np.array([[0, 1, 1, 0]]).T
    w = 2 * np.random.random((3, 1)) - 1
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3)])
    model.set_weights([w, np.zeros(1)])
    model.compile(optimizer=SGD(lr=1), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=20, batch_size=4, verbose=0)
    np.testing.assert_allclose(history.history["loss"], SEED_LOSSES, rtol=0, atol=0.5 * 10**-digits)


# ------------------------------------------------------------------ the graph oracle
def test_model_call_builds_a_graph_whose_gradients_match_torch(float64, rng):
    torch = pytest.importorskip("torch")
    x, y = rng.standard_normal((16, 5)), (rng.random((16, 1)) > 0.5) * 1.0
    model = Sequential([Dense(8, activation="relu", input_dim=5, kernel_regularizer=regularizers.l2(0.01)),
                        Dense(6, activation="tanh"), Dense(4, activation="elu"), Dense(1, activation="sigmoid")])
    loss = losses.get("binary_crossentropy")(y, model(Tensor(x)))
    for penalty in model.losses:
        loss = loss + penalty
    loss.backward()
    weights = model.get_weights()
    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    h = torch.relu(torch.tensor(x) @ tw[0] + tw[1])
    h = torch.tanh(h @ tw[2] + tw[3])
    h = torch.nn.functional.elu(h @ tw[4] + tw[5])
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(h @ tw[6] + tw[7], torch.tensor(y))
    tloss = tloss + 0.01 * (tw[0] ** 2).sum()
    tloss.backward()
    assert abs(float(loss.data) - tloss.item()) < 1e-12
    for w, t in zip(model.trainable_weights, tw):
        assert rel_error(w.grad, t.grad.numpy()) < 1e-10, w.path


def test_check_gradients_passes_for_a_correct_model(rng):
    x, y = rng.standard_normal((12, 3)), rng.integers(0, 3, 12)
    model = Sequential([Dense(5, activation="tanh", input_dim=3, kernel_regularizer=regularizers.l1_l2(0.01, 0.01)),
                        Dense(4, activation="softplus"), Dropout(0.5), Dense(3, activation="softmax")])
    errors = deepfin.check_gradients(model, x, y, loss="sparse_categorical_crossentropy")
    assert set(errors) == {w.path for w in model.trainable_weights}
    assert max(errors.values()) < 1e-6
    assert model.trainable_weights[0].dtype == np.float32  # restored afterwards


def test_check_gradients_catches_a_wrong_gradient(rng):
    def wrong_square(x):  # forward x**2, backward claims 3x
        return Tensor.from_op(x.data * x.data, (x,), lambda g: (g * 3.0 * x.data,), op="wrong_square")

    model = Sequential([Dense(3, activation=wrong_square, input_dim=2), Dense(1)])
    errors = deepfin.utils.check_gradients(model, rng.standard_normal((6, 2)), rng.standard_normal(6), loss="mse")
    assert errors["dense/kernel"] > 0.1 and errors["dense_1/kernel"] < 1e-6


# ------------------------------------------------------------------ training loop
def test_input_shape_from_input_input_dim_input_shape_or_data(rng):
    x, y = _binary_data(rng)
    for first in ([Input((4,))], []):
        model = Sequential([*first, Dense(3, activation="relu"), Dense(1, activation="sigmoid")])
        assert model.built == bool(first)
        model.compile("adam", "binary_crossentropy")
        model.fit(x, y, epochs=1, verbose=0)
        assert model.built and model.output_shape == (None, 1)
    assert Sequential([Dense(2, input_shape=(4,))]).input_shape == (None, 4)


def test_fit_learns_and_reports_keras_history_keys(rng):
    x, y = _binary_data(rng, n=400)
    model = Sequential([Dense(16, activation="relu", input_dim=4), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=30, batch_size=32, validation_split=0.25, verbose=0)
    assert list(history.history) == ["loss", "acc", "val_loss", "val_acc"]
    assert len(history.history["loss"]) == 30 and history.epoch == list(range(30))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_acc"][-1] > 0.9
    assert model.history is history


def test_validation_split_holds_out_the_last_samples(rng):
    x, y = _binary_data(rng, n=100)
    model = Sequential([Dense(1, activation="sigmoid", input_dim=4)])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    held_out = model.evaluate(x[80:], y[80:], verbose=0, return_dict=True)
    assert np.isclose(history.history["val_loss"][-1], held_out["loss"])
    assert np.isclose(history.history["val_accuracy"][-1], held_out["accuracy"])
    via_data = model.evaluate(x[80:], y[80:], verbose=0)
    assert np.isclose(via_data[0], held_out["loss"])


def test_training_repeats_with_the_same_seed(rng):
    x, y = _binary_data(rng)

    def run():
        deepfin.utils.set_random_seed(5)
        model = Sequential([Dense(8, activation="relu", input_dim=4), Dropout(0.3), Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy")
        return model.fit(x, y, epochs=3, verbose=0).history["loss"]

    assert run() == run()


def test_reported_loss_includes_the_weight_penalty(rng):
    x, y = _binary_data(rng, n=8)
    model = Sequential([Dense(1, activation="sigmoid", input_dim=4, kernel_regularizer=regularizers.l2(0.5))])
    model.compile(optimizer=SGD(learning_rate=0.0), loss="binary_crossentropy")
    kernel = model.get_weights()[0]
    p = 1 / (1 + np.exp(-(x @ kernel)))[:, 0]
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    history = model.fit(x, y, batch_size=8, verbose=0)
    assert np.isclose(history.history["loss"][0], bce + 0.5 * np.sum(kernel**2), rtol=1e-5)


def test_predict_is_batched_graph_free_and_deterministic(rng):
    x, _ = _binary_data(rng, n=100)
    model = Sequential([Dense(8, activation="relu", input_dim=4), Dropout(0.5), Dense(2, activation="softmax")])
    out = model.predict(x, batch_size=7, verbose=0)
    np.testing.assert_allclose(out, model.predict(x, batch_size=1000, verbose=0), rtol=1e-6)
    assert out.shape == (100, 2) and isinstance(out, np.ndarray)
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-6)


def test_multiclass_with_one_hot_and_sparse_labels(rng):
    x = rng.standard_normal((300, 2)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    for loss, y in [("sparse_categorical_crossentropy", labels),
                    ("categorical_crossentropy", deepfin.utils.to_categorical(labels))]:
        model = Sequential([Dense(16, activation="relu", input_dim=2), Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        history = model.fit(x, y, epochs=40, verbose=0)
        assert history.history["accuracy"][-1] > 0.9, loss


def test_float64_models(float64, rng):
    model = Sequential([Dense(2, input_dim=3)])
    assert model.trainable_weights[0].dtype == np.float64
    assert model.predict(rng.standard_normal((2, 3)), verbose=0).dtype == np.float64


def test_set_weights_checks_everything_before_writing():
    model = Sequential([Dense(2, input_dim=3), Dense(1)])
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"'dense_1/kernel' has shape \(2, 1\).*\(3, 1\)"):
        model.layers[1].set_weights([np.ones((3, 1)), np.ones(1)])
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        model.layers[0].set_weights([np.ones((3, 2))])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call, error, message", [
    (lambda m, x, y: Sequential([Dense(1, input_dim=4)]).fit(x, y), RuntimeError, "must call compile"),
    (lambda m, x, y: m.fit(np.where(x > 1, np.nan, x), y), ValueError, "NaN or inf"),
    (lambda m, x, y: m.fit(x[:, :3], y), ValueError, r"x of shape \(64, 3\) does not fit model.*\(None, 4\)"),
    (lambda m, x, y: m.fit(x, y[:10]), ValueError, "x has 64, y has 10 samples"),
    (lambda m, x, y: m.fit(x, y * 3), ValueError, r"must lie in \[0, 1\]"),
    (lambda m, x, y: m.fit(x, y, batch_size=0), ValueError, "batch_size=0"),
    (lambda m, x, y: m.fit(x, y, epochs=-1), ValueError, "epochs=-1"),
    (lambda m, x, y: m.fit(x, y, validation_split=1.5), ValueError, "validation_split"),
    (lambda m, x, y: m.fit(x, y, validation_data=(x,)), ValueError, "validation_data must be a tuple"),
    (lambda m, x, y: m.fit(x, y, verbose=3), ValueError, "verbose=3"),
    (lambda m, x, y: m.fit(x.astype(str), y), ValueError, "must hold numbers"),
    (lambda m, x, y: m.predict(x[:, :2]), ValueError, "does not fit model"),
    (lambda m, x, y: m.compile(loss="bce_typo"), ValueError, "Unknown loss: 'bce_typo'"),
    (lambda m, x, y: m.compile(loss="mse", metrics=["acurracy"]), ValueError, "Unknown metric"),
    (lambda m, x, y: m.add("dense"), TypeError, "Only Layer instances"),
    (lambda m, x, y: m.add(Dense(1, name="dense")), ValueError, "unique names"),
])
def test_bad_input_to_the_model_is_named(call, error, message, rng):
    x, y = _binary_data(rng)
    model = Sequential([Dense(1, activation="sigmoid", input_dim=4)])
    model.compile("sgd", "binary_crossentropy")
    with pytest.raises(error, match=message):
        call(model, x, y)


def test_check_gradients_uses_the_compiled_loss_and_needs_one(rng):
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = Sequential([Dense(4, activation="relu", input_dim=3), Dense(2)])
    with pytest.raises(ValueError, match="needs a loss"):
        deepfin.check_gradients(model, x, y)
    model.compile(optimizer="adam", loss="huber")
    assert max(deepfin.check_gradients(model, x, y).values()) < 1e-6


def test_penalty_applies_when_the_model_is_built_by_its_first_data(rng):
    x, y = _binary_data(rng, n=8)
    model = Sequential([Dense(1, activation="sigmoid", kernel_regularizer=regularizers.l2(0.5))])
    model.compile(optimizer=SGD(learning_rate=0.0), loss="binary_crossentropy")
    loss = model.fit(x, y, batch_size=8, verbose=0).history["loss"][0]
    kernel = model.get_weights()[0]
    p = 1 / (1 + np.exp(-(x @ kernel)))[:, 0]
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert np.isclose(loss, bce + 0.5 * np.sum(kernel**2), rtol=1e-5)
