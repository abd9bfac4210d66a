"""clone_model gives the same architecture with new weights; a subclassed model's compute_loss is what fit
minimises (on the engine) and what evaluate reports."""

import numpy as np
import pytest

import deepfin
from deepfin.layers import LSTM, Dense
from deepfin.models import clone_model


def test_clone_model_copies_the_architecture_not_the_weights(rng):
    model = deepfin.Sequential([deepfin.Input((6, 2)), LSTM(4), Dense(1)])
    clone = clone_model(model)
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not np.allclose(clone.layers[0].kernel.numpy(), model.layers[0].kernel.numpy())
    inputs = deepfin.Input((3,))
    functional = deepfin.Model(inputs, Dense(2)(Dense(5, activation="relu")(inputs)))
    copied = clone_model(functional)
    assert copied.count_params() == functional.count_params()
    shared = clone_model(model, clone_function=lambda layer: layer)  # the same layers: the same weights
    x = rng.standard_normal((3, 6, 2)).astype(np.float32)
    np.testing.assert_allclose(shared.predict(x, verbose=0), model.predict(x, verbose=0))

    class Custom(deepfin.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="subclassed"):
        clone_model(Custom())


class SmoothPredictions(deepfin.Sequential):
    """Mean squared error plus a penalty on the size of the predictions."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        return loss + 0.5 * (y_pred * y_pred).mean()


def test_an_overridden_compute_loss_is_what_fit_minimises(rng, compiled_kernels):
    x = rng.standard_normal((128, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -1.0, 2.0], np.float32))[:, None]
    model = SmoothPredictions([deepfin.Input((3,)), Dense(1)])
    model.compile(optimizer=deepfin.optimizers.SGD(0.1), loss="mse")
    assert model.training_path == "eager: the model overrides compute_loss"
    model.fit(x, y, epochs=60, batch_size=32, verbose=0)
    # the minimiser of mean (y - w x)^2 + 0.5 mean (w x)^2 shrinks the least-squares weights by 1 / 1.5
    np.testing.assert_allclose(model.layers[0].kernel.numpy()[:, 0], np.array([1.0, -1.0, 2.0]) / 1.5, atol=0.05)
    prediction = model.predict(x, verbose=0)
    expected = np.mean((y - prediction) ** 2) + 0.5 * np.mean(prediction ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-4)
