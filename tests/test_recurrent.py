"""SimpleRNN, LSTM and GRU: forward and gradients through time equal PyTorch's (float64, gate orders mapped), the
forward equals real Keras 3's with Keras's weights (float32), the compiled loops equal the engine's step-by-step
graph, and the layers train, save and load as Keras's do."""

import contextlib
import os

import numpy as np
import pytest

import deepfin
from deepfin import backend
from deepfin.engine.tensor import Tensor
from deepfin.layers import GRU, LSTM, Dense, SimpleRNN

torch = pytest.importorskip("torch")

LAYERS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}


@contextlib.contextmanager
def _compiled(on: bool):
    previous = backend.compiled()
    backend.set_compiled(on)
    try:
        yield
    finally:
        backend.set_compiled(previous)


def _torch_twin(name: str, layer, features: int):
    """The PyTorch module with ``layer``'s weights: Keras's (in, gates x units) kernels transposed, GRU's gates
    reordered from Keras's [z, r, h] to PyTorch's [r, z, n]."""
    units = layer.units
    kernel, recurrent = layer.kernel.numpy(), layer.recurrent_kernel.numpy()
    module = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[name](
        features, units, batch_first=True, dtype=torch.float64)
    bias_ih = layer.bias.numpy() if layer.bias.ndim == 1 else layer.bias.numpy()[0]
    bias_hh = np.zeros_like(bias_ih) if layer.bias.ndim == 1 else layer.bias.numpy()[1]
    if name == "GRU":
        order = np.r_[units:2 * units, 0:units, 2 * units:3 * units]
        kernel, recurrent, bias_ih, bias_hh = kernel[:, order], recurrent[:, order], bias_ih[order], bias_hh[order]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
        module.bias_ih_l0.copy_(torch.from_numpy(bias_ih.copy()))
        module.bias_hh_l0.copy_(torch.from_numpy(bias_hh.copy()))
    return module, order if name == "GRU" else None


@pytest.mark.parametrize("compiled", [True, False], ids=["kernels", "engine"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_forward_and_gradients_through_time_equal_pytorch(name, compiled, rng):
    batch, steps, features, units = 3, 7, 4, 5
    layer = LAYERS[name](units, return_sequences=True, return_state=True, dtype="float64",
                         bias_initializer="random_normal")
    x = rng.standard_normal((batch, steps, features))
    states = [rng.standard_normal((batch, units)) for _ in range(2 if name == "LSTM" else 1)]
    layer.build((None, steps, features))
    module, order = _torch_twin(name, layer, features)

    x_ours, states_ours = Tensor(x, requires_grad=True), [Tensor(s, requires_grad=True) for s in states]
    with _compiled(compiled):
        sequence, *finals = layer(x_ours, initial_state=states_ours)
    weights = [rng.standard_normal(o.shape) for o in (sequence, *finals)]
    loss = sum(((o * w).sum() for o, w in zip((sequence, *finals), weights)), Tensor(0.0))
    loss.backward()

    x_t = torch.tensor(x, requires_grad=True)
    states_t = [torch.tensor(s[None], requires_grad=True) for s in states]
    out_t, final_t = module(x_t, tuple(states_t) if name == "LSTM" else states_t[0])
    finals_t = [f[0] for f in final_t] if name == "LSTM" else [final_t[0]]
    loss_t = sum((o * torch.from_numpy(w)).sum() for o, w in zip((out_t, *finals_t), weights))
    loss_t.backward()

    for ours, theirs in zip((sequence, *finals), (out_t, *finals_t)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(x_ours.grad, x_t.grad.numpy(), rtol=1e-6, atol=1e-12)
    for ours, theirs in zip(states_ours, states_t):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy()[0], rtol=1e-6, atol=1e-12)
    kernel_grad, recurrent_grad = module.weight_ih_l0.grad.numpy().T, module.weight_hh_l0.grad.numpy().T
    bias_ih_grad, bias_hh_grad = module.bias_ih_l0.grad.numpy(), module.bias_hh_l0.grad.numpy()
    if order is not None:  # back from PyTorch's gate order to Keras's
        back = np.argsort(order)
        kernel_grad, recurrent_grad = kernel_grad[:, back], recurrent_grad[:, back]
        bias_ih_grad, bias_hh_grad = bias_ih_grad[back], bias_hh_grad[back]
    np.testing.assert_allclose(layer.kernel.grad, kernel_grad, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(layer.recurrent_kernel.grad, recurrent_grad, rtol=1e-6, atol=1e-12)
    expected_bias = np.stack([bias_ih_grad, bias_hh_grad]) if name == "GRU" else bias_ih_grad
    np.testing.assert_allclose(layer.bias.grad, expected_bias, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"go_backwards": True}, {"use_bias": False},
                                     {"activation": "relu", "recurrent_activation": "hard_sigmoid"}],
                         ids=["default", "go_backwards", "no_bias", "other_activations"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_forward_equals_keras_with_its_weights(name, options, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if name == "SimpleRNN":
        options = {k: v for k, v in options.items() if k != "recurrent_activation"}
    if options.get("recurrent_activation") not in (None, *deepfin.activations.names()):
        options = {**options, "recurrent_activation": "sigmoid"}
    x = rng.standard_normal((4, 9, 3)).astype(np.float32)
    theirs = getattr(keras.layers, name)(6, return_sequences=True, return_state=True,
                                         bias_initializer="random_normal", **options)
    expected = [keras.ops.convert_to_numpy(o) for o in theirs(x)]
    ours = LAYERS[name](6, return_sequences=True, return_state=True, **options)
    ours.build((None, 9, 3))
    ours.set_weights(theirs.get_weights())
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    for compiled in (True, False):
        with _compiled(compiled):
            for a, b in zip(ours(x), expected):
                np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(LAYERS))
def test_kernels_equal_the_engine_in_float32_with_dropout(name, rng):
    x = rng.standard_normal((16, 30, 3)).astype(np.float32)
    results = []
    for compiled in (True, False):
        layer = LAYERS[name](8, dropout=0.3, seed=5, kernel_initializer=deepfin.initializers.GlorotUniform(seed=1),
                             recurrent_initializer=deepfin.initializers.OrthogonalInitializer(seed=2))
        with _compiled(compiled):
            inputs = Tensor(x, requires_grad=True)
            out = layer(inputs, training=True)
            (out * out).sum().backward()
        results.append([out.numpy(), inputs.grad, *(w.grad for w in layer.weights)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_dropout_masks_follow_keras_semantics(rng):
    x = np.ones((200, 5, 10), np.float32)
    layer = LSTM(4, dropout=0.5, seed=0, return_sequences=True)
    assert np.allclose(layer(x, training=False).numpy(), layer(x).numpy())
    trained = layer(x, training=True).numpy()
    assert not np.allclose(trained, layer(x).numpy())
    # recurrent dropout switches to one mask per gate (Keras's implementation 1), on the engine
    layer = GRU(4, recurrent_dropout=0.5, seed=0)
    assert layer(x, training=True).shape == (200, 4)


def test_orthogonal_initializer_is_orthogonal_and_seeded():
    init = deepfin.initializers.get("orthogonal")
    q = init((6, 24), dtype="float64")
    np.testing.assert_allclose(q @ q.T, np.eye(6), atol=1e-12)
    tall = deepfin.initializers.OrthogonalInitializer(gain=2.0, seed=3)((24, 6), dtype="float64")
    np.testing.assert_allclose(tall.T @ tall, 4 * np.eye(6), atol=1e-12)
    np.testing.assert_array_equal(tall, deepfin.initializers.OrthogonalInitializer(gain=2.0, seed=3)((24, 6),
                                                                                                     "float64"))
    with pytest.raises(ValueError, match="2 or more axes"):
        init((5,))


def test_lstm_learns_a_long_memory_and_saves(tmp_path, rng):
    """The sign of the first of 10 steps decides the label: the model must carry it to the end."""
    x = rng.standard_normal((512, 10, 1)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.float32)
    model = deepfin.Sequential([deepfin.Input((10, 1)), LSTM(8), Dense(1, activation="sigmoid")])
    model.compile(optimizer=deepfin.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    assert max(history.history["accuracy"]) > 0.9  # chance is 0.5: the last steps say nothing of the first
    path = tmp_path / "lstm.keras"
    model.save(path)
    loaded = deepfin.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x[:32], verbose=0), model.predict(x[:32], verbose=0), rtol=1e-6)
    assert loaded.layers[0].get_config() == model.layers[0].get_config()


@pytest.mark.parametrize("name", list(LAYERS))
def test_summary_counts_keras_parameters(name):
    expected = {"SimpleRNN": 6 * 3 + 6 * 6 + 6, "LSTM": 4 * (6 * 3 + 6 * 6 + 6),
                "GRU": 3 * (6 * 3 + 6 * 6) + 2 * 3 * 6}[name]
    model = deepfin.Sequential([deepfin.Input((9, 3)), LAYERS[name](6)])
    assert model.count_params() == expected
    assert model.output_shape == (None, 6)


def test_bad_arguments_are_refused_before_any_work():
    with pytest.raises(ValueError, match="units"):
        LSTM(0)
    with pytest.raises(ValueError, match="dropout"):
        GRU(3, dropout=1.0)
    with pytest.raises(ValueError, match="stateful"):
        LSTM(3, stateful=True)
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        LSTM(3)(np.zeros((4, 3), np.float32))
    layer = LSTM(3)
    layer(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match="expected"):
        layer(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match="initial state"):
        layer(np.zeros((2, 5, 4), np.float32), initial_state=[np.zeros((2, 3))])


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("sequences", [True, False], ids=["sequences", "last"])
def test_bidirectional_equals_keras_with_its_weights(merge_mode, sequences, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = rng.standard_normal((3, 7, 2)).astype(np.float32)
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=sequences, return_state=True),
                                        merge_mode=merge_mode)
    expected = [keras.ops.convert_to_numpy(o) for o in theirs(x)]
    ours = deepfin.layers.Bidirectional(LSTM(4, return_sequences=sequences, return_state=True),
                                        merge_mode=merge_mode)
    ours.build((None, 7, 2))
    ours.set_weights(theirs.get_weights())
    got = ours(x)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)
    shapes = ours.compute_output_shape((None, 7, 2))
    assert [tuple(s) for s in shapes] == [tuple(s) for s in theirs.compute_output_shape((None, 7, 2))]


def test_time_distributed_equals_keras_and_a_bidirectional_model_saves(tmp_path, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(2, activation="tanh"))
    expected = keras.ops.convert_to_numpy(theirs(x))
    ours = deepfin.layers.TimeDistributed(Dense(2, activation="tanh"))
    ours.build((None, 5, 4))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    model = deepfin.Sequential([deepfin.Input((5, 4)), deepfin.layers.Bidirectional(GRU(3, return_sequences=True)),
                                deepfin.layers.TimeDistributed(Dense(1)), deepfin.layers.Flatten()])
    assert model.count_params() == 2 * (3 * (3 * 4 + 3 * 3) + 2 * 3 * 3) + (6 + 1)
    assert model.output_shape == (None, 5)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, rng.standard_normal((3, 5)).astype(np.float32), epochs=2, verbose=0)
    model.save(tmp_path / "bi.keras")
    loaded = deepfin.models.load_model(tmp_path / "bi.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_an_encoder_decoder_passing_states_equals_keras_trains_and_saves(tmp_path, rng):
    """Keras's seq2seq shape: the encoder's final states start the decoder (return_state and initial_state on
    symbolic tensors)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")

    def build(lib, layers):
        encoder_inputs, decoder_inputs = lib.Input((10, 2)), lib.Input((5, 1))
        _, h, c = layers.LSTM(8, return_state=True)(encoder_inputs)
        decoded = layers.LSTM(8, return_sequences=True)(decoder_inputs, initial_state=[h, c])
        outputs = layers.TimeDistributed(layers.Dense(1))(decoded)
        return lib.Model([encoder_inputs, decoder_inputs], outputs)

    x = [rng.standard_normal((16, 10, 2)).astype(np.float32), rng.standard_normal((16, 5, 1)).astype(np.float32)]
    theirs, ours = build(keras, keras.layers), build(deepfin, deepfin.layers)
    assert ours.count_params() == theirs.count_params()
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    ours.compile(optimizer="adam", loss="mse")
    history = ours.fit(x, x[1], epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    ours.save(tmp_path / "seq2seq.keras")
    loaded = deepfin.models.load_model(tmp_path / "seq2seq.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6)
