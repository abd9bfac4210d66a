"""Callbacks inside fit, saving and loading, summary() and the progress display."""

import csv
import io
import os
import zipfile

import numpy as np
import pytest

import deepfin
from deepfin import callbacks, layers
from deepfin.models import Model, Sequential, load_model


def _data(rng, n=120):
    x = rng.normal(size=(n, 4))
    return x, (x[:, 0] - x[:, 1] > 0).astype(float)


def _model(batch_norm=False):
    stack = [layers.Dense(8, activation="relu", input_dim=4)]
    if batch_norm:
        stack.append(layers.BatchNormalization())
    stack += [layers.Dropout(0.1), layers.Dense(1, activation="sigmoid")]
    model = Sequential(stack)
    model.compile(deepfin.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy", "AUC"])
    return model


def test_batchnorm_model_with_best_only_checkpoint_and_csv_log(tmp_path, rng):
    x, y = _data(rng)
    model = _model(batch_norm=True)
    best = tmp_path / "best.keras"
    log = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=8, validation_split=0.25, verbose=0, callbacks=[
        callbacks.ModelCheckpoint(best, monitor="val_auc", save_best_only=True),
        callbacks.CSVLogger(log)])
    val_auc = history.history["val_auc"]
    best_epoch = int(np.argmax(val_auc))  # first epoch with the highest value: later ties do not improve
    with open(log) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(8))
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"}
    np.testing.assert_allclose([float(r["val_auc"]) for r in rows], val_auc)
    restored = load_model(best)
    logs = restored.evaluate(x[90:], y[90:], verbose=0, return_dict=True)
    assert logs["auc"] == pytest.approx(val_auc[best_epoch])


def test_reloaded_model_predicts_bitwise_and_resumes_training(tmp_path, rng):
    x, y = _data(rng)
    model = _model(batch_norm=True)
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "model_file.h5")
    loaded = load_model(tmp_path / "model_file.h5")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    runs = []
    for m in (model, loaded):
        deepfin.utils.set_random_seed(11)  # same dropout masks and shuffling for both
        runs.append(m.fit(x, y, epochs=2, verbose=0).history["loss"])
    assert runs[0] == runs[1]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_functional_model_with_shared_layer_round_trips(tmp_path, rng):
    a, b = deepfin.Input((3,), name="a"), deepfin.Input((3,), name="b")
    shared = layers.Dense(4, activation="tanh")
    merged = layers.Concatenate()([shared(a), shared(b)])
    model = Model([a, b], layers.Dense(1)(merged))
    model.compile("adam", "mse")
    xs = [rng.normal(size=(10, 3)), rng.normal(size=(10, 3))]
    model.fit(xs, rng.normal(size=10), verbose=0)
    model.save(tmp_path / "f.keras")
    loaded = load_model(tmp_path / "f.keras")
    assert len(loaded.weights) == 4
    np.testing.assert_array_equal(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0))


def test_weights_alone_round_trip_by_position_and_by_name(tmp_path, rng):
    model = _model()
    model.save_weights(tmp_path / "w.weights.h5")
    other = _model()
    other.load_weights(tmp_path / "w.weights.h5")
    for p, q in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(p, q)
    deepfin.backend.clear_session()  # same layer names again
    renamed = _model()
    renamed.load_weights(tmp_path / "w.weights.h5", by_name=True)
    np.testing.assert_array_equal(renamed.get_weights()[0], model.get_weights()[0])


def test_custom_loss_and_metric_need_custom_objects(tmp_path, rng):
    def squared(y_true, y_pred):
        return ((y_pred - y_true) ** 2).mean(axis=-1)

    def mean_prediction(y_true, y_pred):
        return np.mean(y_pred, axis=-1)

    model = Sequential([layers.Dense(1, input_dim=2)])
    model.compile("sgd", squared, metrics=[mean_prediction])
    model.fit(rng.normal(size=(8, 2)), rng.normal(size=8), verbose=0)
    model.save(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="custom loss 'squared'.*custom_objects"):
        load_model(tmp_path / "c.keras")
    loaded = load_model(tmp_path / "c.keras", custom_objects={"squared": squared, "mean_prediction": mean_prediction})
    assert loaded.evaluate(np.ones((4, 2)), np.ones(4), verbose=0, return_dict=True).keys() == \
        {"loss", "mean_prediction"}
    assert isinstance(load_model(tmp_path / "c.keras", compile=False), Sequential)


def test_damaged_foreign_and_dangerous_files_are_refused(tmp_path):
    model = _model()
    good = tmp_path / "good.keras"
    model.save(good)
    data = good.read_bytes()
    cases = {
        "truncated.keras": (data[: len(data) // 2], "not a deepfin file"),
        "text.h5": (b"hello", "not a deepfin file"),
        "hdf5.h5": (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "HDF5 file"),
    }
    keras_like = io.BytesIO()
    with zipfile.ZipFile(keras_like, "w") as z:
        z.writestr("metadata.json", '{"keras_version": "3.5"}')
        z.writestr("model.weights.h5", b"")
    cases["keras.keras"] = (keras_like.getvalue(), "Keras .keras file")
    pickled = io.BytesIO()
    np.savez(pickled, **{"0000": np.array([{"evil": 1}], dtype=object)})
    with zipfile.ZipFile(good) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["model.weights.npz"] = pickled.getvalue()
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as z:
        for name, content in parts.items():
            z.writestr(name, content)
    cases["pickle.keras"] = (evil.getvalue(), "which only pickle can read")
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=message):
            load_model(tmp_path / name)


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    model = _model()
    path = tmp_path / "model.keras"
    model.save(path)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", explode)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]  # no temporary file left behind


def test_lambda_scheduler_terminate_and_subclassed_callbacks(rng):
    x, y = _data(rng)
    model = _model()
    seen, rates = [], []

    class Recorder(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, sorted(logs)))

        def on_batch_end(self, batch, logs=None):  # Keras 2's name for the training batch hook
            rates.append(self.model.optimizer.learning_rate)

    model.fit(x, y, epochs=3, batch_size=60, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1)),
        callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append("begin")), Recorder()])
    assert seen[0] == "begin" and [s[0] for s in seen[1:]] == [0, 1, 2]
    assert "learning_rate" in seen[1][1]
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.05, 0.05, 0.1 / 3, 0.1 / 3])
    exploding = Sequential([layers.Dense(1, input_dim=4)])
    exploding.compile(deepfin.optimizers.SGD(1e12), "mse")
    with np.errstate(all="ignore"):
        history = exploding.fit(x * 1e3, y, epochs=5, batch_size=8, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 1  # stopped inside the first epoch
    assert not np.isfinite(history.history["loss"][0])


def test_tensorboard_writes_events_tensorboard_reads(tmp_path, rng):
    pytest.importorskip("tensorboardX")
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = _data(rng)
    model = _model()
    model.fit(x, y, epochs=3, validation_split=0.2, verbose=0,
              callbacks=[callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1)])
    train = accumulator.EventAccumulator(str(tmp_path / "train"), size_guidance={"histograms": 0}).Reload()
    val = accumulator.EventAccumulator(str(tmp_path / "validation")).Reload()
    assert {"epoch_loss", "epoch_accuracy", "epoch_auc", "epoch_learning_rate"} <= set(train.Tags()["scalars"])
    assert [e.step for e in val.Scalars("epoch_loss")] == [0, 1, 2]
    assert np.allclose([e.value for e in val.Scalars("epoch_loss")], model.history.history["val_loss"])
    assert {w.path for w in model.weights} <= set(train.Tags()["histograms"])


def test_summary_prints_the_seed_layout():
    from deepfin.layers import Activation, Dense

    lines = []
    model = Sequential([Dense(units=3, input_shape=(2,), name="hidden"), Activation("sigmoid", name="logistic"),
                        Dense(2, name="output"), Activation("softmax", name="softmax")])
    model.summary(print_fn=lines.append)
    assert lines[2:5] == ["Layer (type)                 Output Shape              Param #", "=" * 65,
                          "hidden (Dense)               (None, 3)                 9"]
    assert lines[-4:-1] == ["Total params: 17", "Trainable params: 17", "Non-trainable params: 0"]
    seed_000 = Sequential([Dense(3, input_dim=2), Activation("tanh"), Dense(1), Activation("sigmoid")])
    seed_001 = Sequential([layers.Dense(512, activation="relu", input_shape=(28 * 28,)),
                           layers.Dense(10, activation="softmax")])
    for model, total in ((seed_000, "13"), (seed_001, "407,050")):
        printed = []
        model.summary(print_fn=printed.append)
        assert printed[-4:-1] == [f"Total params: {total}", f"Trainable params: {total}", "Non-trainable params: 0"]
    big = Sequential([layers.Dense(512, activation="relu", input_shape=(784,)), layers.BatchNormalization(),
                      layers.Dense(10, activation="softmax")])
    big.summary(print_fn=lines.append)
    assert "Total params: 409,098" in lines and "Non-trainable params: 1,024" in lines
    assert any(line.endswith("401,920") for line in lines)
    with pytest.raises(ValueError, match="has not been built"):
        Sequential([layers.Dense(2)]).summary()


def test_verbose_modes_print_keras_lines(capsys, rng):
    x, y = _data(rng, n=64)
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[1].startswith("4/4 - ") and " - loss: " in out[1]
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    from deepfin.utils.progbar import Progbar

    stream = io.StringIO()
    stream.isatty = lambda: True
    bar = Progbar(10, verbose=1, interval=0.0, stream=stream)
    bar.update(5, lambda: {"loss": 0.5})
    bar.finish({"loss": 0.25})
    text = stream.getvalue()
    assert "\r 5/10 " in text and "━" in text and "loss: 0.5000" in text and text.endswith("loss: 0.2500\n")
    assert os.environ.get("TERM") is None or True  # the display never depends on the environment


def test_auto_mode_reads_a_metrics_public_direction():
    """A metric whose name says nothing of its direction sets ``direction``; EarlyStopping and
    ModelCheckpoint in mode 'auto' read it from the model's ``compiled_metrics``."""
    import numpy as np

    from deepfin import callbacks, layers, metrics, models

    class Edge(metrics.Metric):
        direction = "up"

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.total += float(np.mean(np.asarray(y_pred)))
            self.count += 1

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 3)), rng.random((64, 1))
    model = models.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=[Edge(name="edge")])
    stop = callbacks.EarlyStopping(monitor="val_edge", mode="auto", patience=50)
    model.fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[stop])
    assert [key for key, _ in model.compiled_metrics] == ["edge"]
    assert stop.monitor_op(2.0, 1.0)  # larger is better
