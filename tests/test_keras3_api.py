"""The pieces of Keras 3's API that its guides lean on, each against an oracle: ``add_loss`` and nested layers,
outputs given by name, ``Sequential.pop``, confusion-count metrics (scikit-learn), metric state variables,
registered custom objects and JSON configs, and Keras's rule for targets of one rank less."""

import os

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

import deepfin
from deepfin import layers, ops

os.environ.setdefault("KERAS_BACKEND", "torch")


class Penalty(layers.Layer):
    """Passes its input through and adds ``rate * mean(inputs)`` to the loss."""

    def __init__(self, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class Block(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(3, activation="relu")
        self.penalty = Penalty(0.5)

    def call(self, inputs):
        return self.penalty(self.inner(inputs))


def test_add_loss_joins_the_training_and_evaluation_loss_with_its_gradient(float64):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
    model = deepfin.Sequential([deepfin.Input((4,)), Block(), layers.Dense(1)])
    model.compile(optimizer=deepfin.optimizers.SGD(0.1), loss="mse")
    hidden = deepfin.Model(model.inputs, model.layers[0].output).predict(x, verbose=0)
    prediction = model.predict(x, verbose=0)
    expected = np.mean((prediction - y) ** 2) + 0.5 * hidden.mean()
    assert model.evaluate(x, y, batch_size=16, verbose=0) == pytest.approx(expected, rel=1e-12)
    assert len(model.losses) == 1  # recorded by the latest call, not piled up over calls

    kernel = model.layers[0].inner.kernel
    before = kernel.data.copy()
    step = deepfin.optimizers.SGD(0.1)
    plain = deepfin.Sequential([deepfin.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(1)])
    plain.set_weights(model.get_weights())
    plain.compile(optimizer=step, loss="mse")
    model.train_on_batch(x, y)
    plain.train_on_batch(x, y)
    relu_active = (x @ before + model.layers[0].inner.bias.data * 0 > 0)  # bias starts at zero
    penalty_grad = 0.5 * x.T @ relu_active / relu_active.size  # d(0.5 * mean(relu(x W)))/dW
    np.testing.assert_allclose(kernel.data, plain.layers[0].kernel.data - 0.1 * penalty_grad, rtol=1e-10)


def test_nested_layers_are_tracked_for_weights_trainability_and_saving(tmp_path):
    block = Block()
    block(np.ones((2, 5), dtype="float32"))
    assert [w.shape for w in block.weights] == [(5, 3), (3,)]
    block.trainable = False
    assert block.trainable_weights == [] and not block.inner.trainable
    model = deepfin.Sequential([deepfin.Input((5,)), Block(name="block"), layers.Dense(2)])
    model.compile("adam", "mse")
    assert model.count_params() == 5 * 3 + 3 + 3 * 2 + 2


def test_outputs_given_by_name_come_back_by_name_and_survive_saving(tmp_path):
    inputs = deepfin.Input((3,), name="features")
    hidden = layers.Dense(4, activation="relu")(inputs)
    outputs = {"price": layers.Dense(1)(hidden), "side": layers.Dense(2, activation="softmax")(hidden)}
    model = deepfin.Model(inputs, outputs)
    model.compile("adam", loss={"price": "mse", "side": "sparse_categorical_crossentropy"})
    x = np.random.default_rng(1).normal(size=(10, 3)).astype("float32")
    y = {"price": np.zeros((10, 1)), "side": np.arange(10) % 2}
    history = model.fit(x, y, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "price_loss", "side_loss"}
    out = model.predict(x, verbose=0)
    assert list(out) == ["price", "side"] and out["side"].shape == (10, 2)
    assert set(model.predict_on_batch(x)) == {"price", "side"}
    model.save(tmp_path / "named.keras")
    again = deepfin.models.load_model(tmp_path / "named.keras").predict(x, verbose=0)
    np.testing.assert_array_equal(again["price"], out["price"])


def test_sequential_pop_removes_the_last_layer_and_rebuilds():
    model = deepfin.Sequential([deepfin.Input((4,)), layers.Dense(3), layers.Dense(2, name="head")])
    assert model.pop().name == "head"
    assert model.output_shape == (None, 3) and len(model.weights) == 2
    model.pop()
    with pytest.raises(IndexError, match="no layers"):
        model.pop()


@pytest.mark.parametrize("threshold", [None, 0.3])
def test_confusion_counts_equal_scikit_learns(threshold):
    rng = np.random.default_rng(2)
    y, p, w = rng.integers(0, 2, 200), rng.random(200), rng.random(200)
    predicted = p > (0.5 if threshold is None else threshold)
    (tn, fp), (fn, tp) = confusion_matrix(y, predicted, sample_weight=w)
    for cls, expected, name in [(deepfin.metrics.TruePositives, tp, "true_positives"),
                                (deepfin.metrics.FalsePositives, fp, "false_positives"),
                                (deepfin.metrics.FalseNegatives, fn, "false_negatives"),
                                (deepfin.metrics.TrueNegatives, tn, "true_negatives")]:
        metric = cls(thresholds=threshold)
        metric.update_state(y[:120], p[:120], w[:120])
        metric.update_state(y[120:], p[120:], w[120:])
        assert metric.name == name
        assert metric.result() == pytest.approx(expected, rel=1e-12)
        metric.reset_state()
        assert metric.result() == 0.0


def test_metric_state_variables_count_and_reset():
    class Hits(deepfin.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(name="hits", **kwargs)
            self.hits = self.add_variable(shape=(), initializer="zeros", name="hits")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.hits.assign_add(ops.sum(ops.cast(ops.equal(y_true, ops.round(y_pred)), "float32")))

        def result(self):
            return self.hits.value

    metric = Hits()
    metric.update_state(np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.1]))
    metric.update_state(np.array([1.0]), np.array([0.8]))
    assert float(metric.result()) == 3.0
    assert metric.variables[0].path == "hits/hits" and not metric.variables[0].trainable
    metric.reset_state()  # Keras's default: every state variable back to zero
    assert float(metric.result()) == 0.0


def test_sparse_targets_reach_metrics_in_the_shape_given():
    seen = []

    def shape_probe(y_true, y_pred):
        seen.append(np.shape(y_true))
        return np.zeros(len(y_pred))

    model = deepfin.Sequential([deepfin.Input((3,)), layers.Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[shape_probe])
    model.fit(np.ones((6, 3)), np.zeros((6, 1)), batch_size=6, verbose=0)
    assert seen == [(6, 1)]


def test_targets_of_one_rank_less_broadcast_across_the_outputs_as_in_keras():
    """Keras broadcasts a (n, 1) target across k outputs, and a (n,) one where a batch holds one sample (the
    fault-tolerance guide trains so); deepfin reads (n,) as (n, 1) at any batch size."""
    import keras

    x = np.random.default_rng(3).normal(size=(8, 3)).astype("float32")
    y = np.arange(8, dtype="float32")
    weights = [np.full((3, 4), 0.1, "float32"), np.zeros(4, "float32")]
    models = []
    for lib in (deepfin, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4)])
        model.set_weights(weights)
        model.compile(optimizer="sgd", loss="mse")
        models.append(model)
    ours, theirs = models
    expected = theirs.evaluate(x, y[:, None], verbose=0)
    assert theirs.evaluate(x, y, batch_size=1, verbose=0) == pytest.approx(expected, rel=1e-6)
    assert ours.evaluate(x, y[:, None], verbose=0) == pytest.approx(expected, rel=1e-6)
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-6)
    model = deepfin.Sequential([deepfin.Input((3,)), layers.Dense(4)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"Targets of shape \(8, 2\) do not fit"):
        model.fit(x, np.zeros((8, 2)), verbose=0)


def test_registered_objects_load_without_custom_objects_and_ambiguity_is_refused(tmp_path):
    @deepfin.saving.register_keras_serializable(package="test_api")
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    assert deepfin.saving.get_registered_name(Scale) == "test_api>Scale"
    assert deepfin.saving.get_registered_object("test_api>Scale") is Scale
    model = deepfin.Sequential([deepfin.Input((2,)), Scale(3.0)])
    model.save(tmp_path / "scale.keras")
    loaded = deepfin.models.load_model(tmp_path / "scale.keras")
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 2)), verbose=0), [[3.0, 3.0]])
    rebuilt = deepfin.models.model_from_json(model.to_json())
    assert isinstance(rebuilt.layers[0], Scale) and rebuilt.layers[0].factor == 3.0

    @deepfin.saving.register_keras_serializable(package="other_api", name="Scale")
    class OtherScale(Scale):
        pass

    with pytest.raises(ValueError, match=r"matches several registered objects.*other_api>Scale.*test_api>Scale"):
        deepfin.models.model_from_json(model.to_json())
    with deepfin.saving.custom_object_scope({"Scale": Scale}):
        assert isinstance(deepfin.models.model_from_json(model.to_json()).layers[0], Scale)


@pytest.mark.parametrize("text, message", [("{not json", "not valid"), ('{"config": {}}', "'class_name'")])
def test_model_from_json_refuses_what_to_json_did_not_write(text, message):
    with pytest.raises(ValueError, match=message):
        deepfin.models.model_from_json(text)
