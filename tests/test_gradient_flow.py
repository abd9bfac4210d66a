"""GradientFlow: gradient norms against a hand-computed backward pass, dead and saturated units on networks
built to have them, and its logs in History, CSVLogger, TensorBoard and the stacked trainer."""

import csv

import numpy as np
import pytest

import deepfin
from deepfin import callbacks
from deepfin.callbacks import GradientFlow
from deepfin.initializers import Constant
from deepfin.layers import Activation, Dense, Input, ReLU
from deepfin.models import Model, Sequential
from deepfin.optimizers import SGD
from deepfin.tuning.stacked import stack_reason


def _data(rng, n=40):
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x[:, :1] + x[:, 1:2] > 0).astype("float32")
    return x, y


def _hand_gradients(x, y, w1, b1, w2, b2):
    """Gradients (kernel 1, bias 1, kernel 2, bias 2) of relu -> sigmoid under mean binary cross-entropy,
    by the chain rule in NumPy."""
    h = np.maximum(x @ w1 + b1, 0.0)
    p = 1.0 / (1.0 + np.exp(-(h @ w2 + b2)))
    dz2 = (p - y) / len(x)
    dz1 = (dz2 @ w2.T) * (h > 0)
    return x.T @ dz1, dz1.sum(axis=0), h.T @ dz2, dz2.sum(axis=0)


def test_gradient_norms_are_the_epoch_mean_of_each_batch_kernel_gradient_norm(rng, float64):
    x, y = _data(rng)
    model = Sequential([Dense(4, activation="relu", input_dim=3, name="hidden"),
                        Dense(1, activation="sigmoid", name="out")])
    model.compile(SGD(learning_rate=0.5), "binary_crossentropy")
    w1, b1, w2, b2 = (w.copy() for w in model.get_weights())
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[GradientFlow()])
    norms = {"hidden": [], "out": []}
    for start in range(0, len(x), 16):  # three batches, with the SGD update after each, by hand
        xb, yb = x[start:start + 16], y[start:start + 16]
        g1, gb1, g2, gb2 = _hand_gradients(xb, yb, w1, b1, w2, b2)
        norms["hidden"].append(np.linalg.norm(g1))
        norms["out"].append(np.linalg.norm(g2))
        w1, b1, w2, b2 = w1 - 0.5 * g1, b1 - 0.5 * gb1, w2 - 0.5 * g2, b2 - 0.5 * gb2
    assert np.allclose(model.get_weights()[0], w1)  # the hand computation follows the same path
    for name, values in norms.items():
        assert history.history[f"grad_norm/{name}"] == [pytest.approx(np.mean(values), rel=1e-9)]
    assert not any(key.startswith(("dead_relu/", "saturated/")) for key in history.history)  # no probe given


def test_dead_relu_share_counts_units_zero_on_every_probe_row(rng):
    x, y = _data(rng)
    x = np.abs(x)
    model = Sequential([Dense(4, activation="relu", input_dim=3, kernel_initializer="ones", name="half_dead"),
                        Dense(3, kernel_initializer="ones", bias_initializer=Constant(-100.0), name="linear"),
                        ReLU(name="all_dead"),
                        Dense(2, activation="relu", kernel_initializer="ones", bias_initializer="ones", name="alive"),
                        Dense(1, activation="sigmoid", name="out")])
    model.get_layer("half_dead").set_weights([np.ones((3, 4)), np.array([-100.0, -100.0, 1.0, 1.0])])
    model.compile(SGD(learning_rate=1e-6), "binary_crossentropy")
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[GradientFlow(x)])
    logs = history.history
    assert logs["dead_relu/half_dead"] == [0.5, 0.5]  # two units below -97 on every row, two above 1
    assert logs["dead_relu/all_dead"] == [1.0, 1.0]
    assert logs["dead_relu/alive"] == [0.0, 0.0]
    assert "dead_relu/linear" not in logs and "dead_relu/out" not in logs
    assert logs["grad_norm/out"][0] > 0.01  # the output layer learns from the constant 'alive' units ...
    for name in ("half_dead", "linear", "alive"):  # ... and nothing reaches past the dead layer
        assert logs[f"grad_norm/{name}"] == [0.0, 0.0]


def test_saturated_share_counts_sigmoid_and_tanh_units_beyond_the_band_on_most_rows():
    x = np.ones((60, 2), "float32")
    x[30:, 0] = -1.0  # column 0: +1 on 30 rows, then -1 on 30; column 1: always 1
    y = (x[:, :1] > 0).astype("float32")
    inputs = Input((2,))
    # sigmoid units: 100 on every row (saturated), 50 x0 + 50 (100 or 0: saturated where x0 = +1), 0.1 (not)
    sig = Dense(3, activation="sigmoid", name="sig",
                kernel_initializer=Constant(np.array([[0.0, 50.0, 0.0], [100.0, 50.0, 0.1]])))(inputs)
    # tanh units: tanh(9 * sigmoid(100)) = tanh(9), saturated; tanh(0.1 * sigmoid(0.1)), not
    tanh = Dense(2, activation="tanh", name="tanh",
                 kernel_initializer=Constant(np.array([[9.0, 0.0], [0.0, 0.0], [0.0, 0.1]])))(sig)
    outputs = Dense(1, activation="sigmoid", name="out")(Activation("tanh", name="squash")(tanh))
    model = Model(inputs, outputs)
    model.compile(SGD(learning_rate=1e-6), "binary_crossentropy")
    flow = GradientFlow(x[:45])  # 30 rows of +1 and 15 of -1: the middle unit is saturated on 2/3 of them
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[flow])
    logs = history.history
    assert logs["saturated/sig"] == [pytest.approx(2 / 3)]
    assert logs["saturated/tanh"] == [0.5]
    assert logs["saturated/squash"] == [0.0]  # tanh(tanh(9)) = tanh(1)
    assert set(logs) == {"loss", "grad_norm/sig", "grad_norm/tanh", "grad_norm/out", "saturated/sig",
                         "saturated/tanh", "saturated/squash", "saturated/out"}
    flow.x = x[15:]  # 15 rows of +1 and 30 of -1: saturated on 1/3 of the rows is not most of them
    assert flow.activation_shares()["saturated/sig"] == pytest.approx(1 / 3)


def test_keys_reach_history_csv_and_tensorboard_and_leave_early_stopping_alone(tmp_path, rng):
    pytest.importorskip("tensorboardX")
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = _data(rng)
    model = Sequential([Dense(4, activation="relu", input_dim=3, name="hidden"),
                        Dense(1, activation="sigmoid", name="out")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=1)
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[GradientFlow(x[:10]), stopper, callbacks.CSVLogger(tmp_path / "log.csv"),
                                   callbacks.TensorBoard(log_dir=tmp_path / "tb")])
    expected = {"grad_norm/hidden", "grad_norm/out", "dead_relu/hidden", "saturated/out"}
    epochs = len(history.history["loss"])
    assert expected <= set(history.history)
    assert all(len(history.history[key]) == epochs for key in expected)
    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert expected <= set(rows[0]) and len(rows) == epochs
    assert float(rows[-1]["grad_norm/hidden"]) == pytest.approx(history.history["grad_norm/hidden"][-1])
    train = accumulator.EventAccumulator(str(tmp_path / "tb" / "train")).Reload()
    assert {f"epoch_{key}" for key in expected} <= set(train.Tags()["scalars"])
    assert [e.value for e in train.Scalars("epoch_grad_norm/out")] == pytest.approx(history.history["grad_norm/out"])
    assert stopper.monitor == "val_loss" and "val_loss" in history.history


def test_progress_bar_prints_the_values(rng, capsys):
    x, y = _data(rng)
    model = Sequential([Dense(2, activation="tanh", input_dim=3, name="hidden"), Dense(1, name="out")])
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=2, callbacks=[GradientFlow(x)])
    assert " - grad_norm/hidden: " in capsys.readouterr().out  # as Keras's bar prints every logged value


def test_a_stack_trains_a_model_with_the_callback_alone():
    assert stack_reason({"callbacks": [GradientFlow()]}) == "its callback GradientFlow acts on every batch"


def test_a_subclassed_model_records_gradients_but_cannot_be_probed(rng):
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(3, activation="relu", name="hidden")
            self.out = Dense(1, name="out")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    x, y = _data(rng)
    model = Net()
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[GradientFlow()])
    assert set(history.history) == {"loss", "grad_norm/hidden", "grad_norm/out"}
    with pytest.raises(ValueError, match="probe needs a model with symbolic inputs .* Pass no probe"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[GradientFlow(x)])


def test_the_callback_changes_nothing_about_training(rng):
    x, y = _data(rng)
    weights = []
    previous = deepfin.backend.compiled()
    deepfin.backend.set_compiled(False)  # the callback moves a fit to the eager engine: compare bit for bit there
    try:
        for extra in ([], [GradientFlow(x)]):
            deepfin.utils.set_random_seed(3)
            model = Sequential([Dense(4, activation="relu", input_dim=3), Dense(1, activation="sigmoid")])
            model.compile("adam", "binary_crossentropy")
            model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=extra)
            weights.append(model.get_weights())
    finally:
        deepfin.backend.set_compiled(previous)
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


class _CountedAUC(deepfin.metrics.AUC):
    calls = 0

    def result(self):
        _CountedAUC.calls += 1
        return super().result()


@pytest.mark.parametrize("make", [lambda tmp: GradientFlow(), lambda tmp: callbacks.BackupAndRestore(tmp, save_freq=2)],
                         ids=["GradientFlow", "BackupAndRestore"])
def test_batch_hooks_that_read_no_logs_do_not_compute_the_metrics_every_batch(rng, tmp_path, make):
    """An exact AUC sorts every row of the epoch so far: computed after each batch, an epoch is quadratic. Batch
    logs are built only for a callback that reads them."""
    x, y = _data(rng, n=64)

    def fit(*extra):
        deepfin.utils.set_random_seed(0)
        model = Sequential([Input((x.shape[1],)), Dense(4, activation="relu"), Dense(1, activation="sigmoid")])
        model.compile(SGD(0.1), "binary_crossentropy", metrics=[_CountedAUC()])
        _CountedAUC.calls = 0
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[*extra])
        return _CountedAUC.calls

    alone = fit()
    assert fit(make(tmp_path / "backup")) == alone == 2  # once an epoch
    seen = []
    reading = callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(logs))
    assert fit(make(tmp_path / "other"), reading) == alone + 2 * 8 and "auc" in seen[0]  # and after each batch
