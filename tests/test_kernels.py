"""The compiled kernels against the eager engine (the reference) and PyTorch.

Every compiled pattern is trained twice from the same seed, once on the kernels and once with them switched off:
the losses of each epoch and the weights after several epochs must agree within 1e-5 (float32) or 1e-10
(float64), dropout and shuffling included. Gradients of each compiled layer come out of one plain SGD step of
rate 1 in float64 (the step is minus the gradient) and must equal the engine's and PyTorch's.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest

from deepfin import backend, callbacks, layers, optimizers, regularizers
from deepfin.models import Model, Sequential
from deepfin.optimizers import schedules

pytestmark = pytest.mark.usefixtures("compiled_kernels")  # what runs on the kernels, and why not

RNG = np.random.default_rng(7)
X = RNG.standard_normal((300, 6))
LOGIT = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
Y_BINARY = (LOGIT + RNG.standard_normal(300) > 0).astype(float).reshape(-1, 1)
Y_CLASS = np.digitize(LOGIT, [-0.7, 0.7])
Y_ONEHOT = np.eye(3)[Y_CLASS]
Y_REAL = np.stack([np.tanh(LOGIT), 0.5 * X[:, 4]], axis=1)


def _dense_net(hidden="relu", out="sigmoid", units=1, **kwargs):
    return [layers.Dense(8, activation=hidden, input_dim=6, **kwargs), layers.Dropout(0.25), layers.Dense(5),
            layers.Activation(hidden), layers.Dense(units, activation=out)]


def _maxout_net(out_units=3):  # the Krauss, Do & Huck network in small: maxout layers, dropout, softmax
    return [layers.Dropout(0.1, input_dim=6), layers.Maxout(7, pieces=2), layers.Dropout(0.5),
            layers.Maxout(5, pieces=3), layers.Dense(out_units, activation="softmax")]


def _batch_norm_net():
    return [layers.Dense(8, input_dim=6), layers.BatchNormalization(), layers.Activation("relu"),
            layers.Dense(4, activation="tanh"), layers.BatchNormalization(center=False, momentum=0.9),
            layers.Dense(1, activation="sigmoid")]


# name: (layers, loss, targets, optimizer, fit extras)
PATTERNS = {
    "asset_adam": (lambda: _dense_net(), "binary_crossentropy", Y_BINARY, lambda: optimizers.Adam(0.01), {}),
    "maxout_softmax_rmsprop": (_maxout_net, "categorical_crossentropy", Y_ONEHOT, lambda: optimizers.RMSprop(0.01), {}),
    "sparse_sgd_nesterov": (lambda: _dense_net("tanh", "softmax", 3), "sparse_categorical_crossentropy", Y_CLASS,
                            lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True), {}),
    "batch_norm_adagrad": (_batch_norm_net, "binary_crossentropy", Y_BINARY, lambda: optimizers.Adagrad(0.05), {}),
    "mse_adadelta": (lambda: _dense_net("elu", "tanh", 2), "mse", Y_REAL, lambda: optimizers.Adadelta(1.0), {}),
    "mse_linear_sgd": (lambda: _dense_net("softplus", None, 2), "mean_squared_error", Y_REAL,
                       lambda: optimizers.SGD(0.02), {}),
    "logits_bce_momentum": (lambda: _dense_net("leaky_relu", None), "BinaryCrossentropy(from_logits)", Y_BINARY,
                            lambda: optimizers.SGD(0.05, momentum=0.5), {}),
    "logits_cce_amsgrad": (lambda: _dense_net("sigmoid", "linear", 3), "CategoricalCrossentropy(from_logits)",
                           Y_ONEHOT, lambda: optimizers.Adam(0.01, amsgrad=True), {}),
    "softmax_hidden_centered": (lambda: _dense_net("softmax", "sigmoid"), "binary_crossentropy", Y_BINARY,
                                lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True), {}),
    "log_softmax_hidden_linear": (lambda: _dense_net("log_softmax", "sigmoid"), "binary_crossentropy", Y_BINARY,
                                  lambda: optimizers.Adam(0.01), {}),
    "l1_l2_schedule": (lambda: _dense_net(kernel_regularizer=regularizers.L1L2(1e-3, 1e-2),
                                          bias_regularizer=regularizers.L2(1e-3)),
                       "binary_crossentropy", Y_BINARY,
                       lambda: optimizers.Adam(schedules.ExponentialDecay(0.02, 5, 0.9)), {}),
    "sample_and_class_weights": (lambda: _dense_net(), "binary_crossentropy", Y_BINARY,
                                 lambda: optimizers.Adam(0.01),
                                 {"sample_weight": RNG.uniform(0.5, 2.0, 300), "class_weight": {0: 1.0, 1: 3.0}}),
}


@contextlib.contextmanager
def _engine(compiled: bool, floatx: str = "float32"):
    """Models built and trained in the block run on the kernels (``compiled``) or the eager engine, in
    ``floatx``; both settings go back to what they were after it."""
    previous = backend.compiled(), backend.floatx()
    backend.set_compiled(compiled)
    backend.set_floatx(floatx)
    try:
        yield
    finally:
        backend.set_compiled(previous[0])
        backend.set_floatx(previous[1])


def _loss(spec):
    from deepfin import losses
    if spec.endswith("(from_logits)"):
        return getattr(losses, spec.split("(")[0])(from_logits=True)
    return spec


def _train(pattern: str, compiled: bool, dtype: str, epochs: int = 3, extra_callbacks=()):
    make_layers, loss, y, make_optimizer, extras = PATTERNS[pattern]
    with _engine(compiled, dtype):
        backend.set_seed(3)
        model = Sequential(make_layers())
        model.compile(optimizer=make_optimizer(), loss=_loss(loss), metrics=["accuracy"] if y is not Y_REAL else [])
        path = model.training_path
        history = model.fit(X, y, batch_size=32, epochs=epochs, validation_split=0.2, verbose=0,
                            callbacks=list(extra_callbacks), **extras)
        return model, history.history, path


def _close(a, b, rtol):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.abs(b).max(), 1e-3)
    assert np.abs(a - b).max() <= rtol * scale, f"max difference {np.abs(a - b).max():.3g} at scale {scale:.3g}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_a_seeded_fit_is_the_same_on_both_paths(pattern, dtype):
    rtol = 1e-5 if dtype == "float32" else 1e-10
    compiled, compiled_history, path = _train(pattern, True, dtype)
    eager, eager_history, eager_path = _train(pattern, False, dtype)
    assert path == "compiled" and eager_path.startswith("eager: the compiled kernels are off")
    assert compiled.dtype == dtype
    assert sorted(compiled_history) == sorted(eager_history)
    for key in eager_history:
        _close(compiled_history[key], eager_history[key], rtol)
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        assert a.dtype == b.dtype == np.dtype(dtype)
        _close(a, b, rtol)
    assert compiled.optimizer.iterations == eager.optimizer.iterations == 3 * 8
    for slots_a, slots_b in zip(compiled.optimizer.state_slots(), eager.optimizer.state_slots()):
        for name in slots_b:
            _close(slots_a[name], slots_b[name], rtol * 10)
    _close(compiled.predict(X, verbose=0), eager.predict(X, verbose=0), rtol)
    _close(compiled.evaluate(X, PATTERNS[pattern][2], verbose=0), eager.evaluate(X, PATTERNS[pattern][2], verbose=0),
           rtol)


def test_batch_callbacks_see_every_step_and_change_nothing():
    seen = []
    probe = callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    chunked, chunked_history, _ = _train("asset_adam", True, "float32")
    per_batch, per_batch_history, _ = _train("asset_adam", True, "float32", extra_callbacks=[probe])
    assert len(seen) == 3 * 8
    assert chunked_history["loss"] == per_batch_history["loss"]
    for a, b in zip(chunked.get_weights(), per_batch.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_train_on_batch_and_predict_on_batch_are_the_same_on_both_paths():
    results = {}
    for compiled in (True, False):
        with _engine(compiled):
            backend.set_seed(11)
            model = Sequential(_dense_net())
            model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
            logs = [model.train_on_batch(X[i:i + 50], Y_BINARY[i:i + 50], return_dict=True) for i in range(0, 300, 50)]
            results[compiled] = (logs, model.predict_on_batch(X), model.test_on_batch(X, Y_BINARY), model.get_weights())
    (logs_c, pred_c, test_c, weights_c), (logs_e, pred_e, test_e, weights_e) = results[True], results[False]
    for a, b in zip(logs_c, logs_e):
        _close([a["loss"], a["accuracy"]], [b["loss"], b["accuracy"]], 1e-5)
    _close(pred_c, pred_e, 1e-5)
    _close(test_c, test_e, 1e-5)
    for a, b in zip(weights_c, weights_e):
        _close(a, b, 1e-5)


def _gradients_by_sgd_step(net_layers, loss, y, compiled: bool):
    """The gradient of every trainable weight, as minus one SGD step of rate 1 (float64)."""
    with _engine(compiled, "float64"):
        backend.set_seed(5)
        model = Sequential(net_layers())
        model.compile(optimizer=optimizers.SGD(1.0), loss=loss)
        before = [w.data.copy() for w in model.trainable_weights]
        model.train_on_batch(X[:40], y[:40])
        return model, before, [b - w.data for w, b in zip(model.trainable_weights, before)]


def _torch_gradients(model, before, y, loss):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(w, requires_grad=True) for w in before]
    h, k = torch.tensor(X[:40]), 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Dense", "Maxout"):
            h = h @ params[k] + params[k + 1]
            k += 2
            if kind == "Maxout":
                h = h.reshape(h.shape[0], layer.units, layer.pieces).max(dim=-1).values
            else:
                h = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda t: t,
                     "elu": torch.nn.functional.elu, "softplus": torch.nn.functional.softplus,
                     "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.2),
                     "softmax": lambda t: torch.softmax(t, -1)}[layer.activation.__name__](h)
        elif kind == "BatchNormalization":
            mean, var = h.mean(0), h.var(0, unbiased=False)
            h = (h - mean) / torch.sqrt(var + layer.epsilon) * params[k] + params[k + 1]
            k += 2
        elif kind == "Activation":
            h = {"relu": torch.relu, "tanh": torch.tanh}[layer.activation.__name__](h)
    target = torch.tensor(y[:40], dtype=torch.float64)
    if loss == "binary_crossentropy":
        value = torch.nn.functional.binary_cross_entropy(h, target)
    else:
        value = -(target * torch.log(h)).sum(-1).mean()
    value.backward()
    return [p.grad.numpy() for p in params]


@pytest.mark.parametrize("net_layers, loss, y", [
    (lambda: [layers.Dense(7, activation=a, input_dim=6) for a in ["elu"]] + [
        layers.Dense(6, activation="softplus"), layers.Dense(5, activation="leaky_relu"),
        layers.Dense(4, activation="tanh"), layers.Dense(4, activation="softmax"),
        layers.Dense(1, activation="sigmoid")], "binary_crossentropy", Y_BINARY),
    (lambda: [layers.Maxout(5, pieces=3, input_dim=6), layers.Maxout(4, pieces=2),
              layers.Dense(3, activation="softmax")], "categorical_crossentropy", Y_ONEHOT),
    (lambda: [layers.Dense(5, input_dim=6), layers.BatchNormalization(), layers.Activation("relu"),
              layers.Dense(1, activation="sigmoid")], "binary_crossentropy", Y_BINARY),
], ids=["dense_activations", "maxout", "batch_norm"])
def test_compiled_gradients_equal_the_engines_and_pytorchs(net_layers, loss, y):
    model, before, compiled = _gradients_by_sgd_step(net_layers, loss, y, True)
    _, _, eager = _gradients_by_sgd_step(net_layers, loss, y, False)
    reference = _torch_gradients(model, before, y, loss)
    for c, e, t in zip(compiled, eager, reference):
        _close(c, t, 1e-9)
        _close(e, t, 1e-9)


class _Doubling(layers.Dense):
    def call(self, inputs):
        return super().call(inputs) * 2.0


@pytest.mark.parametrize("make, reason", [
    (lambda: Sequential([_Doubling(3, input_dim=6), layers.Dense(1, activation="sigmoid")]),
     "is a _Doubling, which the kernels do not run"),
    (lambda: Sequential([layers.Dense(3, input_dim=6, activation="step"), layers.Dense(1, activation="sigmoid")]),
     "has the activation 'step', which the kernels lack"),
    (lambda: Sequential([layers.Dense(3, input_dim=6), layers.Dense(1)]),
     "its BinaryCrossentropy takes an output that is not a sigmoid"),
], ids=["custom_layer", "step", "clipped_probabilities"])
def test_other_models_run_on_the_eager_engine_and_say_why(make, reason):
    backend.clear_session()
    model = make()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    assert model.training_path.startswith("eager: ") and reason in model.training_path
    if "step" not in reason:  # the step activation has no gradient: the engine refuses to train it
        history = model.fit(X, Y_BINARY, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def _functional_chain():
    inputs = layers.Input((6,))
    hidden = layers.Dropout(0.3)(layers.Dense(5, activation="relu")(inputs))
    return Model(inputs, layers.Dense(1, activation="sigmoid")(hidden))


def test_a_functional_chain_trains_on_the_kernels_as_its_sequential_twin_does():
    """``Model(inputs, outputs)`` over one chain of layers is compiled, with the weights and dropout draws of the
    same layers in a ``Sequential``."""
    trained = []
    for make in (_functional_chain, lambda: Sequential([layers.Input((6,)), layers.Dense(5, activation="relu"),
                                                        layers.Dropout(0.3), layers.Dense(1, activation="sigmoid")])):
        backend.clear_session()
        backend.set_seed(3)
        model = make()
        model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy")
        assert model.training_path == "compiled"
        history = model.fit(X, Y_BINARY, batch_size=32, epochs=3, verbose=0)
        trained.append((history.history["loss"], model.get_weights()))
    (functional_loss, functional_weights), (sequential_loss, sequential_weights) = trained
    np.testing.assert_array_equal(functional_loss, sequential_loss)
    for a, b in zip(functional_weights, sequential_weights):
        np.testing.assert_array_equal(a, b)


def _branching():
    inputs = layers.Input((6,))
    hidden = layers.Dense(5, activation="relu")(inputs)
    return Model(inputs, layers.Dense(1, activation="sigmoid")(layers.Concatenate()([inputs, hidden])))


def _shared_layer():
    inputs, square = layers.Input((6,)), layers.Dense(6, activation="relu")
    return Model(inputs, layers.Dense(1, activation="sigmoid")(square(square(inputs))))


@pytest.mark.parametrize("make", [_branching, _shared_layer], ids=["branching", "shared_layer"])
def test_functional_models_that_are_not_one_chain_run_eager(make):
    model = make()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    assert model.training_path == "eager: it is a Functional model whose layers are not one chain"


def test_clipping_optimizers_run_eager():
    model = Sequential(_dense_net())
    model.compile(optimizer=optimizers.Adam(clipnorm=1.0), loss="binary_crossentropy")
    assert model.training_path == "eager: its optimizer clips gradients"


def test_the_environment_variable_turns_the_kernels_off():
    code = ("from deepfin import backend, layers; from deepfin.models import Sequential; "
            "m = Sequential([layers.Dense(1, activation='sigmoid', input_dim=3)]); "
            "m.compile(loss='binary_crossentropy'); print(backend.compiled(), m.training_path)")
    for value, expected in (("0", "False eager: the compiled kernels are off"), ("1", "True compiled")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "DEEPFIN_COMPILED": value}).stdout
        assert out.startswith(expected)


def test_set_compiled_refuses_a_non_boolean():
    with pytest.raises(TypeError, match="set_compiled takes True or False. Received: 'no'"):
        backend.set_compiled("no")


def test_summary_says_which_path(capsys):
    model = Sequential(_dense_net())
    model.summary()
    assert "Training path" not in capsys.readouterr().out  # not compiled: nothing to say yet
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.summary()
    assert "Training path: compiled" in capsys.readouterr().out
    model.compile(optimizer=optimizers.SGD(clipvalue=1.0), loss="binary_crossentropy")
    model.summary()
    assert "Training path: eager: its optimizer clips gradients" in capsys.readouterr().out


def test_dropout_draws_are_held_for_a_chunk_not_the_data():
    import tracemalloc

    model = Sequential(_dense_net())
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.repeat(X, 4000, axis=0).astype(np.float32)  # 1.2 million rows, 29 MB
    y = np.repeat(Y_BINARY, 4000, axis=0).astype(np.float32)
    model.fit(x[:1000], y[:1000], batch_size=1000, epochs=1, verbose=0)  # kernels loaded, buffers made
    tracemalloc.start()
    model.fit(x, y, batch_size=1000, epochs=1, verbose=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    draws_for_the_data = len(x) * 13 * 4  # a float32 uniform per row and unit of both Dropout layers: 62 MB
    assert peak < draws_for_the_data / 2


def test_optimizer_settings_changed_between_fits_are_used():
    weights = {}
    for compiled in (True, False):
        with _engine(compiled):
            backend.set_seed(2)
            model = Sequential(_dense_net())
            model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy")
            model.fit(X, Y_BINARY, epochs=1, verbose=0)
            model.optimizer.beta_1, model.optimizer.learning_rate = 0.5, 0.05
            model.fit(X, Y_BINARY, epochs=1, verbose=0)
            weights[compiled] = model.get_weights()
    for a, b in zip(weights[True], weights[False]):
        _close(a, b, 1e-5)
