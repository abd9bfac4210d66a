"""Functional and subclassed models, several inputs and outputs, the *_on_batch methods, class_weight."""

import numpy as np
import pytest
from sklearn import metrics as sk

import deepfin
from deepfin import layers
from deepfin.models import Model, Sequential


def _two_input_model():
    a, b = deepfin.Input((3,), name="a"), deepfin.Input((2,), name="b")
    shared = layers.Dense(4, activation="tanh", name="shared")
    h_a = shared(a)
    h_b = shared(layers.Dense(3, name="lift")(b))
    p = layers.Dense(1, activation="sigmoid", name="p")(h_a)
    r = layers.Dense(1, name="r")(h_b)
    return Model([a, b], [p, r])


def test_functional_model_matches_the_sequential_one_with_the_same_weights(rng):
    x, y = rng.normal(size=(64, 4)), rng.integers(0, 2, 64).astype(float)
    seq = Sequential([layers.Dense(5, activation="relu", input_dim=4), layers.Dense(1, activation="sigmoid")])
    inputs = deepfin.Input((4,))
    outputs = layers.Dense(1, activation="sigmoid")(layers.Dense(5, activation="relu")(inputs))
    fun = Model(inputs=inputs, outputs=outputs)
    fun.set_weights(seq.get_weights())
    for m in (seq, fun):
        m.compile(deepfin.optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose(fun.predict(x, verbose=0), seq.predict(x, verbose=0), rtol=1e-6)
    h1 = seq.fit(x, y, epochs=3, shuffle=False, verbose=0).history
    h2 = fun.fit(x, y, epochs=3, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-6)
    np.testing.assert_allclose(h1["accuracy"], h2["accuracy"])


def test_shared_layer_weights_are_counted_once_and_inputs_come_first():
    model = _two_input_model()
    assert [l.name for l in model.layers][:2] == ["a", "b"]
    assert model.count_params() == (3 * 4 + 4) + (2 * 3 + 3) + (4 + 1) + (4 + 1)
    assert len(model.weights) == 8


def test_multi_output_loss_is_the_weighted_sum_of_the_output_losses(rng):
    model = _two_input_model()
    model.compile("sgd", {"p": "binary_crossentropy", "r": "mse"}, loss_weights={"p": 1.0, "r": 0.25},
                  metrics={"p": ["accuracy"]})
    xa, xb = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    ya, yb = rng.integers(0, 2, 40).astype(float), rng.normal(size=40)
    logs = model.evaluate({"a": xa, "b": xb}, [ya, yb], verbose=0, return_dict=True)
    p, r = model.predict([xa, xb], verbose=0)
    bce = sk.log_loss(ya, p[:, 0].astype(float), labels=[0, 1])
    mse = np.mean((r[:, 0] - yb) ** 2)
    assert logs["p_loss"] == pytest.approx(bce, rel=1e-4)
    assert logs["r_loss"] == pytest.approx(mse, rel=1e-4)
    assert logs["loss"] == pytest.approx(bce + 0.25 * mse, rel=1e-4)
    assert logs["p_accuracy"] == pytest.approx(np.mean((p[:, 0] > 0.5) == ya))
    history = model.fit([xa, xb], {"p": ya, "r": yb}, epochs=2, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "p_loss", "r_loss", "p_accuracy",
                                    "val_loss", "val_p_loss", "val_r_loss", "val_p_accuracy"}


def test_subclassed_model_trains_and_tracks_its_layers(rng):
    class TwoLayer(Model):
        def __init__(self):
            super().__init__(name="two_layer")
            self.hidden = layers.Dense(8, activation="relu")
            self.out = layers.Dense(1)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    x = rng.normal(size=(128, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    model = TwoLayer()
    model.compile(deepfin.optimizers.Adam(0.01), "mse")
    history = model.fit(x, y, epochs=30, verbose=0)
    assert len(model.weights) == 4
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


def test_train_on_batch_steps_once_and_reports_that_batch(rng):
    x, y = rng.normal(size=(16, 4)), rng.integers(0, 2, 16).astype(float)
    model = Sequential([layers.Dense(1, activation="sigmoid", input_dim=4)])
    model.compile(deepfin.optimizers.SGD(0.5), "binary_crossentropy", metrics=["accuracy"])
    before = model.test_on_batch(x, y)
    loss, acc = model.train_on_batch(x, y)
    assert loss == pytest.approx(before[0], rel=1e-6)  # loss of the batch before the step
    after = model.test_on_batch(x, y, return_dict=True)
    assert after["loss"] < loss
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x, verbose=0))
    assert model.optimizer.iterations == 1


def test_class_weight_equals_the_matching_sample_weight(rng):
    x, y = rng.normal(size=(50, 3)), rng.integers(0, 2, 50).astype(float)

    def trained(**kwargs):
        deepfin.utils.set_random_seed(3)
        model = Sequential([layers.Dense(1, activation="sigmoid", input_dim=3)])
        model.compile("sgd", "binary_crossentropy")
        return model.fit(x, y, epochs=2, verbose=0, **kwargs).history["loss"]

    weighted = trained(class_weight={0: 1.0, 1: 3.0})
    np.testing.assert_allclose(weighted, trained(sample_weight=np.where(y == 1, 3.0, 1.0)), rtol=1e-6)
    assert not np.allclose(weighted, trained())


@pytest.mark.parametrize("make, oracle", [
    (lambda: deepfin.metrics.AUC(), lambda y, p, w: sk.roc_auc_score(y, p, sample_weight=w)),
    (lambda: deepfin.metrics.AUC(curve="PR"), lambda y, p, w: sk.average_precision_score(y, p, sample_weight=w)),
    (lambda: deepfin.metrics.Precision(), lambda y, p, w: sk.precision_score(y, p > 0.5, sample_weight=w)),
    (lambda: deepfin.metrics.Recall(), lambda y, p, w: sk.recall_score(y, p > 0.5, sample_weight=w)),
])
def test_epoch_metrics_accumulated_over_batches_match_scikit_learn(make, oracle, rng):
    y, p, w = rng.integers(0, 2, 300), rng.uniform(size=300), rng.uniform(0.5, 2, 300)
    metric = make()
    for start in range(0, 300, 64):
        metric.update_state(y[start:start + 64, None], p[start:start + 64, None], w[start:start + 64])
    assert metric.result() == pytest.approx(oracle(y, p, w), rel=1e-12)
    metric.reset_state()
    assert metric.result() == 0.0


def test_accuracy_follows_the_loss_and_names_keep_the_users_spelling(rng):
    x = rng.normal(size=(30, 4))
    labels = rng.integers(0, 3, 30)
    model = Sequential([layers.Dense(3, activation="softmax", input_dim=4)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc", "AUC"])
    logs = model.evaluate(x, labels, verbose=0, return_dict=True)
    predicted = np.argmax(model.predict(x, verbose=0), axis=1)
    assert logs["acc"] == pytest.approx(np.mean(predicted == labels))
    assert set(logs) == {"loss", "acc", "auc"}


def test_functional_errors_name_what_is_wrong():
    a = deepfin.Input((3,))
    dense = layers.Dense(2, name="d")
    dense(a)
    with pytest.raises(ValueError, match=r"Input of shape \(None, 4\) is incompatible with layer 'd'.*size 3"):
        dense(deepfin.Input((4,)))
    with pytest.raises(TypeError, match="symbolic tensors"):
        Model(a, np.zeros(3))
    other = deepfin.Input((3,), name="other")
    with pytest.raises(ValueError, match="depend on input 'other'"):
        Model(a, layers.Dense(1)(other))
    model = _two_input_model()
    model.compile("sgd", ["binary_crossentropy", "mse"])
    with pytest.raises(ValueError, match=r"2 inputs \(\['a', 'b'\]\)"):
        model.predict(np.zeros((4, 3)), verbose=0)
    with pytest.raises(ValueError, match=r"keys \['a', 'b'\]. Missing: \['b'\]"):
        model.predict({"a": np.zeros((4, 3))}, verbose=0)
    with pytest.raises(ValueError, match="not output names"):
        model.compile("sgd", {"q": "mse"})
