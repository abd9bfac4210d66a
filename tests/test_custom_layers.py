"""A Keras 3 guide's custom layer (``add_weight`` in ``build``, ``call``, no ``compute_output_shape``) in Sequential
and functional models: the next layer is built for its real output width (it was built for its input width
before: these tests failed then), it trains, and it saves and loads with ``custom_objects``."""

import numpy as np
import pytest

import deepfin
from deepfin import layers
from deepfin.models import load_model


class Linear(layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return inputs @ self.w + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@pytest.fixture
def data(rng):
    X = rng.standard_normal((64, 4))
    return X, X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1


def test_a_custom_layer_in_sequential_feeds_the_next_layer_its_width(data):
    X, y = data
    model = deepfin.Sequential([deepfin.Input((4,)), Linear(8), layers.Dense(1)])
    assert [tuple(w.shape) for w in model.weights] == [(4, 8), (8,), (8, 1), (1,)]
    assert model.compute_output_shape((None, 4)) == (None, 1)
    model.compile(optimizer=deepfin.optimizers.Adam(0.05), loss="mse")
    history = model.fit(X, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


def test_a_custom_layer_in_a_functional_model_saves_and_loads(data, tmp_path):
    X, y = data
    inputs = deepfin.Input((4,))
    outputs = layers.Dense(1)(Linear(6, name="linear")(inputs))
    model = deepfin.Model(inputs, outputs)
    assert model.get_layer("linear").output.shape == (None, 6)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, y, epochs=2, verbose=0)
    model.save(tmp_path / "custom.keras")
    loaded = load_model(tmp_path / "custom.keras", custom_objects={"Linear": Linear})
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
