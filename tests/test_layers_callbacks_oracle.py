"""BatchNormalization, activation layers and the monitoring callbacks against PyTorch and real Keras 3."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

import deepfin  # noqa: E402
from deepfin import Tensor, callbacks, layers  # noqa: E402
from deepfin.engine import fused  # noqa: E402


def test_batch_normalization_gradients_match_pytorch(float64, rng):
    x, g = rng.normal(2.0, 3.0, (16, 5)), rng.normal(size=(16, 5))
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    expected = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-3)
    expected.backward(torch.tensor(g))
    ours_x, ours_g, ours_b = (Tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out, mean, var = fused.batch_normalization(ours_x, ours_g, ours_b, 1e-3)
    out.backward(g)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10)
    for ours, theirs in ((ours_x, tx), (ours_g, tg), (ours_b, tb)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(var, x.var(axis=0))


def test_batch_normalization_model_trains_like_keras(rng):
    x = rng.standard_normal((64, 4)).astype(np.float32) * 3 + 1
    y = (x[:, 0] > 1).astype(np.float32)

    def build(lib):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(6), lib.layers.BatchNormalization(),
                                lib.layers.LeakyReLU(negative_slope=0.1), lib.layers.Dense(1, activation="sigmoid")])
        model.compile(lib.optimizers.SGD(0.05), "binary_crossentropy", metrics=["accuracy"])
        return model

    ours, theirs = build(deepfin), build(keras)
    ours.set_weights([w.astype(np.float32) for w in theirs.get_weights()])
    h_ours = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    h_theirs = theirs.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h_ours["loss"], h_theirs["loss"], rtol=2e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # moving statistics included
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("name, kwargs", [("ReLU", {}), ("ReLU", {"max_value": 1.0, "negative_slope": 0.1}),
                                          ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {"alpha": 0.7})])
def test_activation_layers_match_keras(name, kwargs, rng):
    x = rng.normal(0, 2, (50, 3)).astype(np.float32)
    ours = getattr(layers, name)(**kwargs)(Tensor(x)).data
    theirs = keras.ops.convert_to_numpy(getattr(keras.layers, name)(**kwargs)(x))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


class _Holder:
    """The little a monitoring callback needs from a model."""

    def __init__(self, optimizer):
        self.optimizer, self.stop_training, self.metrics = optimizer, False, []
        self.step = 0

    def get_weights(self):
        return [np.array([self.step])]

    def set_weights(self, weights):
        self.restored = int(weights[0][0])


LOSSES = [1.0, 0.8, 0.81, 0.79, 0.795, 0.9, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75]


@pytest.mark.parametrize("kwargs", [
    {"patience": 2}, {"patience": 2, "min_delta": 0.02}, {"patience": 1, "baseline": 0.78},
    {"patience": 0}, {"patience": 3, "start_from_epoch": 4, "restore_best_weights": True},
    {"patience": 2, "mode": "max", "restore_best_weights": True},
])
def test_early_stopping_stops_where_keras_stops(kwargs):
    results = []
    for lib in (deepfin, keras):
        cb = lib.callbacks.EarlyStopping(monitor="val_loss", **kwargs)
        holder = _Holder(None)
        cb.set_model(holder)
        cb.on_train_begin()
        for epoch, loss in enumerate(LOSSES):
            holder.step = epoch
            cb.on_epoch_end(epoch, {"val_loss": loss})
            if holder.stop_training:
                break
        cb.on_train_end()
        results.append((epoch, cb.stopped_epoch, cb.best_epoch, cb.best, getattr(holder, "restored", None)))
    assert results[0] == results[1]


@pytest.mark.parametrize("kwargs", [{"patience": 1, "factor": 0.5}, {"patience": 2, "cooldown": 1, "min_lr": 0.02},
                                    {"patience": 1, "min_delta": 0.05, "factor": 0.2}])
def test_reduce_lr_on_plateau_follows_keras(kwargs):
    trajectories = []
    for lib, optimizer in ((deepfin, deepfin.optimizers.SGD(0.1)), (keras, keras.optimizers.SGD(0.1))):
        cb = lib.callbacks.ReduceLROnPlateau(monitor="val_loss", mode="min", **kwargs)
        cb.set_model(_Holder(optimizer))
        cb.on_train_begin()
        lrs = []
        for epoch, loss in enumerate(LOSSES):
            cb.on_epoch_end(epoch, {"val_loss": loss})
            lrs.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
        trajectories.append(lrs)
    np.testing.assert_allclose(trajectories[0], trajectories[1], rtol=1e-6)


def test_monitor_that_is_not_logged_warns_with_the_available_keys():
    cb = callbacks.EarlyStopping(monitor="val_auc")
    cb.set_model(_Holder(None))
    cb.on_train_begin()
    with pytest.warns(UserWarning, match="`val_auc` which is not available. Available metrics are: loss,auc"):
        cb.on_epoch_end(0, {"loss": 0.5, "auc": 0.7})


def test_functional_model_with_logits_and_metric_objects_trains_like_keras(rng):
    x = rng.standard_normal((60, 5)).astype(np.float32)
    labels = (np.abs(x[:, :3]).argmax(axis=1)).astype(np.int64)

    def build(lib):
        inputs = lib.Input((5,), name="features")
        hidden = lib.layers.Dense(8, activation="tanh", name="hidden")(inputs)
        logits = lib.layers.Dense(3, name="logits")(hidden)
        model = lib.Model(inputs, logits)
        model.compile(lib.optimizers.Adam(0.01), lib.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[lib.metrics.SparseCategoricalAccuracy(name="acc")])
        return model

    ours, theirs = build(deepfin), build(keras)
    ours.set_weights(theirs.get_weights())
    h_ours = ours.fit(x, labels, batch_size=20, epochs=4, shuffle=False, verbose=0, validation_split=0.25).history
    h_theirs = theirs.fit(x, labels, batch_size=20, epochs=4, shuffle=False, verbose=0, validation_split=0.25).history
    for key in ("loss", "acc", "val_loss", "val_acc"):
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-4, atol=1e-6)
    lines = []
    ours.summary(print_fn=lines.append)
    assert "features (InputLayer)" in lines[4] and "Total params: 75" in lines
