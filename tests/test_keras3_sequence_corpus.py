"""Keras 3 scripts of the kind a quant writes for sequence models, each run twice: on real Keras 3 (its PyTorch
backend) and with ``keras`` replaced by ``deepfin`` in the imports (``tests/test_keras3_snippets.py``'s
harness). Every script must run on both; each test asserts what the script shows (shapes, parameter counts,
history keys, a saved model that reloads) on both libraries, and that deepfin learns where the script trains.
"""

import numpy as np
import pytest

from tests.test_keras3_snippets import both

rng = np.random.default_rng(0)
RETURNS = rng.standard_normal((256, 30, 1)).astype("float32") * 0.02
REVERSAL = (RETURNS[:, -1, 0] < 0).astype("float32")  # tomorrow's move reverses today's: the last step decides


def _same(ours, theirs, *names):
    for name in names:
        a, b = ours[name], theirs[name]
        if isinstance(a, (list, tuple)):
            assert [np.shape(x) for x in a] == [np.shape(x) for x in b], name
        else:
            assert np.shape(a) == np.shape(b), name


def test_lstm_on_return_windows():
    ours, theirs = both("""
        import keras
        from keras import layers
        model = keras.Sequential([keras.Input((30, 1)), layers.LSTM(16), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
        params = model.count_params()
        out = model.predict(x[:5], verbose=0)
    """, x=RETURNS / RETURNS.std(), y=REVERSAL)  # standardised returns, as Fischer and Krauss feed them
    assert ours["params"] == theirs["params"] == 4 * (16 + 16 * 16 + 16) + 17
    _same(ours, theirs, "out")
    assert ours["history"].history["accuracy"][-1] > 0.9
    assert ours["history"].history["accuracy"][-1] >= theirs["history"].history["accuracy"][-1] - 0.05


def test_stacked_grus_with_dropout():
    ours, theirs = both("""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((30, 1)),
            layers.GRU(12, return_sequences=True, dropout=0.1),
            layers.GRU(8, recurrent_dropout=0.1),
            layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
        params = model.count_params()
        weights = [w.shape for w in model.get_weights()]
    """, x=RETURNS, y=REVERSAL)
    assert ours["params"] == theirs["params"]
    assert [tuple(w) for w in ours["weights"]] == [tuple(w) for w in theirs["weights"]]


def test_encoder_decoder_spread_forecast():
    spread = np.cumsum(RETURNS, axis=1)
    ours, theirs = both("""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((30, 1)),
            layers.LSTM(16),                          # encoder
            layers.RepeatVector(5),                   # five steps ahead
            layers.LSTM(16, return_sequences=True),   # decoder
            layers.TimeDistributed(layers.Dense(1)),
        ])
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        forecast = model.predict(x[:4], verbose=0)
    """, x=spread, y=spread[:, -5:, :])
    _same(ours, theirs, "forecast")
    assert ours["forecast"].shape == (4, 5, 1)
    assert ours["history"].history["loss"][-1] < ours["history"].history["loss"][0]


def test_causal_conv1d_volatility_model():
    volatility = np.abs(RETURNS).mean(axis=1)
    ours, theirs = both("""
        import keras
        from keras import layers
        inputs = keras.Input((30, 1))
        x = layers.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu")(inputs)
        x = layers.Conv1D(8, 3, padding="causal", dilation_rate=4, activation="relu")(x)
        x = layers.GlobalAveragePooling1D()(x)
        outputs = layers.Dense(1, activation="softplus")(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        history = model.fit(r, v, epochs=5, batch_size=32, verbose=0)
        params = model.count_params()
    """, r=RETURNS, v=volatility)
    assert ours["params"] == theirs["params"] == (3 * 8 + 8) + (3 * 8 * 8 + 8) + 9


def test_a_py_dataset_feeds_fit():
    ours, theirs = both("""
        import keras
        from keras import layers

        class Windows(keras.utils.PyDataset):
            def __init__(self, x, y, batch_size, **kwargs):
                super().__init__(**kwargs)
                self.x, self.y, self.batch_size = x, y, batch_size
            def __len__(self):
                return len(self.x) // self.batch_size
            def __getitem__(self, i):
                rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
                return self.x[rows], self.y[rows]

        model = keras.Sequential([keras.Input((30, 1)), layers.SimpleRNN(8), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(Windows(x, y, 32), epochs=3, verbose=0, validation_data=Windows(x[:64], y[:64], 32))
        keys = sorted(history.history)
    """, x=RETURNS, y=REVERSAL)
    assert ours["keys"] == theirs["keys"] == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_normalization_adapted_and_saved(tmp_path):
    factors = (rng.standard_normal((200, 4)) * [1, 10, 0.1, 5] + [0, 3, 1, -2]).astype("float32")
    ours, theirs = both("""
        import os
        import keras
        from keras import layers
        norm = layers.Normalization()
        norm.adapt(f)
        model = keras.Sequential([keras.Input((4,)), norm, layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(f, f[:, :1], epochs=2, verbose=0)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "normalized.keras")
        model.save(path)
        again = keras.models.load_model(path).predict(f[:3], verbose=0)
        before = model.predict(f[:3], verbose=0)
        scaled = norm(f).numpy() if hasattr(norm(f), "numpy") else None
    """, tmp_path, f=factors)
    for ns in (ours, theirs):
        np.testing.assert_allclose(ns["again"], ns["before"], rtol=1e-5)
    scaled = np.asarray(ours["norm"](factors).numpy())
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled.std(axis=0), 1, atol=1e-3)


def test_ticker_embedding_beside_factor_inputs():
    tickers = rng.integers(0, 20, (256, 1))
    factors = rng.standard_normal((256, 3)).astype("float32")
    y = ((tickers[:, 0] % 2) * 0.01 + factors[:, :1].sum(axis=1) * 0.001).astype("float32")
    ours, theirs = both("""
        import keras
        from keras import layers
        ticker = keras.Input((1,), name="ticker")
        factor = keras.Input((3,), name="factors")
        embedded = layers.Flatten()(layers.Embedding(20, 4)(ticker))
        x = layers.Concatenate()([embedded, factor])
        x = layers.Dense(8, activation="relu")(x)
        model = keras.Model([ticker, factor], layers.Dense(1)(x))
        model.compile(optimizer="adam", loss="huber", metrics=[keras.metrics.R2Score()])
        history = model.fit([t, f], y, epochs=3, batch_size=32, verbose=0)
        params = model.count_params()
    """, t=tickers, f=factors, y=y)
    assert ours["params"] == theirs["params"] == 20 * 4 + (7 * 8 + 8) + 9
    assert sorted(ours["history"].history) == sorted(theirs["history"].history)


def test_layer_normalization_and_noise_layers():
    ours, theirs = both("""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((30, 1)),
            layers.GaussianNoise(0.01),
            layers.LSTM(8, return_sequences=True),
            layers.LayerNormalization(),
            layers.GaussianDropout(0.1),
            layers.Flatten(),
            layers.AlphaDropout(0.1),
            layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        history = model.fit(x, y, epochs=2, verbose=0)
        inference = model.predict(x[:4], verbose=0)
        again = model.predict(x[:4], verbose=0)
    """, x=RETURNS, y=REVERSAL)
    for ns in (ours, theirs):
        np.testing.assert_allclose(ns["inference"], ns["again"])  # noise only in training


def test_reshape_permute_and_lambda():
    ours, theirs = both("""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((30,)),
            layers.Reshape((30, 1)),
            layers.Permute((2, 1)),
            layers.Lambda(lambda t: t * 100.0),
            layers.Permute((2, 1)),
            layers.Conv1D(2, 5),
            layers.MaxPooling1D(2),
            layers.Flatten(),
            layers.Dense(1),
        ])
        shape = model.output_shape
        out = model.predict(x[:, :, 0], verbose=0)
    """, x=RETURNS)
    assert tuple(ours["shape"]) == tuple(theirs["shape"]) == (None, 1)
    _same(ours, theirs, "out")


def test_a_small_transformer_block():
    ours, theirs = both("""
        import keras
        from keras import layers
        inputs = keras.Input((30, 1))
        x = layers.Dense(8)(inputs)
        attended = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1)(x, x, use_causal_mask=True)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, attended]))
        ff = layers.Dense(16, activation="relu")(x)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, layers.Dense(8)(ff)]))
        outputs = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x_train, y, epochs=3, batch_size=32, verbose=0)
        params = model.count_params()
    """, x_train=RETURNS * 50, y=REVERSAL)
    assert ours["params"] == theirs["params"]


@pytest.mark.parametrize("loss", ["keras.losses.BinaryFocalCrossentropy(gamma=2.0)", "'binary_focal_crossentropy'",
                                  "keras.losses.LogCosh()", "keras.losses.Huber(delta=0.5)", "'poisson'"])
def test_losses_by_object_and_name(loss):
    ours, theirs = both(f"""
        import keras
        from keras import layers
        model = keras.Sequential([keras.Input((30, 1)), layers.GRU(4), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss={loss})
        history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
        first = model.evaluate(x, y, verbose=0)
    """, x=RETURNS, y=REVERSAL)
    assert np.isfinite(ours["first"]) and np.isfinite(theirs["first"])


def test_bidirectional_lstm_with_states():
    ours, theirs = both("""
        import keras
        from keras import layers
        layer = layers.Bidirectional(layers.LSTM(6, return_sequences=True, return_state=True))
        outputs = layer(x[:4])
        shapes = [tuple(o.shape) for o in outputs]
        params = layer.count_params()
    """, x=RETURNS)
    assert ours["shapes"] == theirs["shapes"] == [(4, 30, 12), (4, 6), (4, 6), (4, 6), (4, 6)]
    assert ours["params"] == theirs["params"]


def test_a_subclassed_model_that_overrides_compute_loss():
    ours, theirs = both("""
        import keras
        from keras import layers

        class Smooth(keras.Sequential):
            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
                loss = super().compute_loss(x, y, y_pred, sample_weight, training)
                return loss + 0.1 * keras.ops.mean(y_pred * y_pred)

        model = Smooth([keras.Input((30, 1)), layers.LSTM(4), layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
        loss = model.evaluate(x, y, verbose=0)
    """, x=RETURNS, y=REVERSAL)
    assert np.isfinite(ours["loss"]) and np.isfinite(theirs["loss"])


def test_clone_model_and_initial_states_on_arrays():
    ours, theirs = both("""
        import keras
        from keras import layers
        model = keras.Sequential([keras.Input((30, 1)), layers.LSTM(5), layers.Dense(1)])
        clone = keras.models.clone_model(model)
        same_shapes = [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
        lstm = layers.LSTM(5, return_state=True)
        h0, c0 = np.zeros((4, 5), "float32"), np.ones((4, 5), "float32")
        output, h, c = lstm(x[:4], initial_state=[h0, c0])
        shapes = [tuple(t.shape) for t in (output, h, c)]
    """, x=RETURNS)
    assert ours["same_shapes"] and theirs["same_shapes"]
    assert ours["shapes"] == theirs["shapes"] == [(4, 5)] * 3


def test_generators_with_steps_per_epoch():
    ours, theirs = both("""
        import keras
        from keras import layers

        def batches():
            while True:
                for start in range(0, len(x), 32):
                    yield x[start:start + 32], y[start:start + 32]

        model = keras.Sequential([keras.Input((30, 1)), layers.Conv1D(4, 3), layers.GlobalMaxPooling1D(),
                                  layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        history = model.fit(batches(), steps_per_epoch=8, epochs=2, verbose=0)
        epochs = len(history.history["loss"])
    """, x=RETURNS, y=REVERSAL)
    assert ours["epochs"] == theirs["epochs"] == 2
