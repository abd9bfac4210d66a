"""Loss bookkeeping of fit and train_on_batch: size-weighted running means, per output, checked
against each batch's losses computed in NumPy from the model's predictions before its step."""

import numpy as np
import pytest

import deepfin
from deepfin import layers
from deepfin.models import Model


def _two_output_model():
    a = deepfin.Input((3,), name="a")
    h = layers.Dense(4, activation="tanh")(a)
    model = Model(a, [layers.Dense(1, activation="sigmoid", name="p")(h), layers.Dense(1, name="r")(h)])
    model.compile(deepfin.optimizers.SGD(0.3), ["binary_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                  metrics=[["accuracy"], []])
    return model


def _batch_logs(model, x, y):
    """One batch's losses and accuracy at ``model``'s current weights, computed here in NumPy."""
    p, r = (out[:, 0].astype(np.float64) for out in model.predict_on_batch(x))
    p = np.clip(p, 1e-7, 1 - 1e-7)
    bce = -np.mean(y[0] * np.log(p) + (1 - y[0]) * np.log(1 - p))
    mse = np.mean((r - y[1]) ** 2)
    return {"loss": bce + 0.5 * mse, "p_loss": bce, "r_loss": mse, "p_accuracy": np.mean((p > 0.5) == y[0])}


def _weighted_means(per_batch, sizes, keys):
    return {k: sum(logs[k] * n for logs, n in zip(per_batch, sizes)) / sum(sizes) for k in keys}


def test_train_on_batch_without_reset_reports_size_weighted_means_over_its_calls(rng):
    model = _two_output_model()
    x, y = rng.normal(size=(20, 3)), [rng.integers(0, 2, 20).astype(float), rng.normal(size=20)]
    sizes, per_batch, start = [5, 12, 3], [], 0
    for i, n in enumerate(sizes):
        xb, yb = x[start:start + n], [t[start:start + n] for t in y]
        per_batch.append(_batch_logs(model, xb, yb))  # the step reports the loss before it
        logs = model.train_on_batch(xb, yb, reset_metrics=i == 0, return_dict=True)
        start += n
        expected = _weighted_means(per_batch, sizes[:i + 1], ["loss", "p_loss", "r_loss", "p_accuracy"])
        assert list(logs) == ["loss", "p_loss", "r_loss", "p_accuracy"]
        for key, value in expected.items():
            assert logs[key] == pytest.approx(value, rel=1e-5), (i, key)
    alone = _batch_logs(model, x[:4], [t[:4] for t in y])
    fresh = model.train_on_batch(x[:4], [t[:4] for t in y], return_dict=True)  # reset_metrics=True restarts
    assert fresh == pytest.approx(alone, rel=1e-5)


def test_fit_batch_logs_are_running_size_weighted_means_and_the_epoch_log_is_the_last(rng):
    model = _two_output_model()
    x, y = rng.normal(size=(23, 3)), [rng.integers(0, 2, 23).astype(float), rng.normal(size=23)]
    per_batch, batch_logs = [], []

    class Record(deepfin.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            index = slice(8 * batch, 8 * batch + 8)
            per_batch.append(_batch_logs(self.model, x[index], [t[index] for t in y]))

        def on_train_batch_end(self, batch, logs=None):
            batch_logs.append(dict(logs))

    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[Record()])
    sizes = [8, 8, 7]
    assert len(batch_logs) == 3
    for i, logs in enumerate(batch_logs):
        expected = _weighted_means(per_batch[:i + 1], sizes[:i + 1], ["loss", "p_loss", "r_loss"])
        assert logs == pytest.approx({**expected, "p_accuracy": logs["p_accuracy"]}, rel=1e-5), i
    assert {k: v[0] for k, v in history.history.items()} == batch_logs[-1]


def test_reset_metrics_restarts_the_loss_train_on_batch_accumulates(rng):
    """Keras 3: the loss and the metrics accumulate over train_on_batch(reset_metrics=False) until
    reset_metrics(); the loss used to keep accumulating past it (this test failed then)."""
    model = _two_output_model()
    x, y = rng.normal(size=(12, 3)), [rng.integers(0, 2, 12).astype(float), rng.normal(size=12)]
    model.train_on_batch(x[:8], [t[:8] for t in y], return_dict=True)
    model.reset_metrics()
    alone = _batch_logs(model, x[8:], [t[8:] for t in y])
    logs = model.train_on_batch(x[8:], [t[8:] for t in y], reset_metrics=False, return_dict=True)
    assert logs == pytest.approx(alone, rel=1e-5)


def test_compile_settings_are_readable_per_output():
    """``output_losses``, ``output_loss_weights`` and ``output_metric_specs`` give what ``compile`` was asked for,
    output by output (what saving writes), and copies: changing them changes nothing."""
    inputs = deepfin.Input((3,))
    model = Model(inputs, [layers.Dense(1, name="a")(inputs), layers.Dense(2, name="b")(inputs)])
    assert model.output_losses is None and model.output_metric_specs == []
    model.compile(loss={"b": "mse", "a": "binary_crossentropy"}, loss_weights={"a": 2.0, "b": 0.5},
                  metrics={"a": ["accuracy"]})
    assert [type(loss) for loss in model.output_losses] == [deepfin.losses.BinaryCrossentropy,
                                                             deepfin.losses.MeanSquaredError]
    assert model.output_loss_weights == [2.0, 0.5]
    assert model.output_metric_specs == [["accuracy"], []]
    model.output_losses.clear()
    model.output_metric_specs[0].append("mae")
    assert len(model.output_losses) == 2 and model.output_metric_specs == [["accuracy"], []]
