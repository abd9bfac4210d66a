"""Masks, as Keras 3 carries them: Masking and Embedding(mask_zero=True) mark padding; recurrent layers keep
their states over masked steps and GlobalAveragePooling1D averages the real steps only; the outputs equal real
Keras 3's with Keras's weights, in Sequential and functional models, and gradients do not flow into padding."""

import os

import numpy as np
import pytest

import deepfin
from deepfin.engine.tensor import Tensor
from deepfin.layers import GRU, LSTM, Dense, GlobalAveragePooling1D, Masking, SimpleRNN

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")


def _padded(rng):
    x = rng.standard_normal((4, 7, 3)).astype(np.float32)
    x[0, 5:] = 0.0  # a short series, padded at the end
    x[1, :2] = 0.0  # padded at the start
    x[2, 3] = 0.0   # a hole
    return x


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("backwards", [False, True], ids=["forward", "go_backwards"])
def test_masking_then_recurrent_equals_keras(layer, sequences, backwards, rng):
    x = _padded(rng)
    options = {"return_sequences": sequences, "go_backwards": backwards}
    theirs = keras.Sequential([keras.Input((7, 3)), keras.layers.Masking(),
                               getattr(keras.layers, layer)(5, bias_initializer="random_normal", **options)])
    ours = deepfin.Sequential([deepfin.Input((7, 3)), Masking(),
                               {"LSTM": LSTM, "GRU": GRU, "SimpleRNN": SimpleRNN}[layer](5, **options)])
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_embedding_mask_zero_and_masked_average_equal_keras(rng):
    ids = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 5], [0, 0, 0, 7, 1]])

    def build(lib, layers):
        inputs = lib.Input((5,))
        embedded = layers.Embedding(10, 4, mask_zero=True)(inputs)
        sequence = layers.LSTM(3, return_sequences=True)(embedded)
        return lib.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(sequence)))

    theirs = build(keras, keras.layers)
    ours = build(deepfin, deepfin.layers)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0), rtol=1e-5, atol=1e-6)
    assert ours.layers[1].get_config()["mask_zero"] is True


def test_padding_gets_no_gradient_and_a_masked_model_trains(rng):
    x = _padded(rng)
    inputs = Tensor(x, requires_grad=True)
    layer = LSTM(4, dtype="float32")
    out = layer(inputs, mask=np.any(x != 0, axis=-1))
    out.sum().backward()
    assert np.all(inputs.grad[0, 5:] == 0) and np.all(inputs.grad[1, :2] == 0)  # padding does not matter
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.float32)
    model = deepfin.Sequential([deepfin.Input((7, 3)), Masking(), GRU(4), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert GlobalAveragePooling1D()(x, mask=np.ones((4, 7), bool)).shape == (4, 3)


def test_a_mask_of_the_wrong_shape_is_refused(rng):
    with pytest.raises(ValueError, match="expected \\(batch, steps\\)"):
        LSTM(2)(_padded(rng), mask=np.ones((4, 6), bool))


@pytest.mark.parametrize("layer_class", [LSTM, GRU, SimpleRNN])
@pytest.mark.parametrize("backwards", [False, True], ids=["forward", "go_backwards"])
def test_compiled_loops_take_masks_as_the_step_by_step_graph_does(layer_class, backwards, rng, float64):
    """Outputs, final states and every gradient (inputs, weights, initial states) of a masked recurrent layer: the
    compiled loops equal the engine's step-by-step graph (float64)."""
    x = _padded(rng).astype(np.float64)
    mask = np.any(x != 0, axis=-1)
    initial = [rng.standard_normal((4, 5)) for _ in range(2 if layer_class is LSTM else 1)]
    results, previous = [], deepfin.backend.compiled()
    for compiled in (True, False):
        deepfin.backend.set_compiled(compiled)
        try:
            deepfin.utils.set_random_seed(1)
            layer = layer_class(5, return_sequences=True, return_state=True, go_backwards=backwards,
                                bias_initializer="random_normal")
            inputs, states = Tensor(x, requires_grad=True), [Tensor(s, requires_grad=True) for s in initial]
            sequence, *finals = layer(inputs, initial_state=states, mask=mask)
            weights = rng.standard_normal(sequence.shape) if not results else results[0][-1]
            ((sequence * weights).sum() + sum((f * f).sum() for f in finals)).backward()
            results.append([sequence.numpy(), *[f.numpy() for f in finals], inputs.grad, *[s.grad for s in states],
                            *[w.grad for w in layer.trainable_weights], weights])
        finally:
            deepfin.backend.set_compiled(previous)
    for compiled, stepwise in zip(*results):
        np.testing.assert_allclose(compiled, stepwise, rtol=1e-9, atol=1e-12)
