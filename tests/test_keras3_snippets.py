"""Code in the style of Keras 3's guides, run twice: as written for Keras (real Keras 3 on its PyTorch
backend) and with ``keras`` replaced by ``deepfin`` in the imports, as a new user would try it.

The snippets follow the guides' own code (the functional API, the Sequential model, making new layers
and models via subclassing, training with built-in methods, writing your own callbacks, serialization
and saving, imbalanced classification, fault tolerance with ``BackupAndRestore``), cut to data that
train in a second. Each test asserts what the guide shows (history keys, shapes, parameter counts,
what a resumed run contains) on both libraries, and that deepfin learns as well as Keras where the
snippet trains. The four failures of issue 14 are among them: a loss written with ``keras.ops``, a
learning-rate schedule, ``BackupAndRestore``, and a custom ``Layer`` with ``add_weight`` inside a
``Sequential``.
"""

import os
import re
import textwrap

import numpy as np
import pytest
from sklearn.datasets import load_digits

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import deepfin  # noqa: E402


def deepfin_imports(code: str) -> str:
    """The snippet with its imports changed and nothing else: ``import keras`` becomes ``import deepfin as
    keras``, ``from keras.x import y`` becomes ``from deepfin.x import y``; the body still says ``keras``."""
    code = re.sub(r"^(\s*)import keras$", r"\1import deepfin as keras", code, flags=re.M)
    return re.sub(r"^(\s*)from keras(\.|\s)", r"\1from deepfin\2", code, flags=re.M)


def run(source: str, library: str, folder=None, **data) -> dict:
    """Execute a snippet with ``library``'s imports; returns its namespace."""
    code = textwrap.dedent(source)
    if library == "keras":
        keras.utils.set_random_seed(0)
    else:
        code = deepfin_imports(code)
        assert "import keras" not in code and "from keras" not in code
        deepfin.utils.set_random_seed(0)
    namespace = {"np": np, "folder": str(folder or ""), **data}
    exec(compile(code, f"<Keras 3 snippet for {library}>", "exec"), namespace)  # our own test text
    return namespace


def both(source: str, tmp_path=None, **data) -> tuple[dict, dict]:
    ours = run(source, "deepfin", tmp_path / "deepfin" if tmp_path else None, **data)
    theirs = run(source, "keras", tmp_path / "keras" if tmp_path else None, **data)
    return ours, theirs


@pytest.fixture(scope="module")
def digits():
    """Scikit-learn's digits, scaled to [0, 1], split 1,400 / 397 like the guides' MNIST."""
    bunch = load_digits()
    x = (bunch.data / 16.0).astype("float32")
    y = bunch.target.astype("int64")
    return {"x_train": x[:1400], "y_train": y[:1400], "x_test": x[1400:], "y_test": y[1400:]}


def test_functional_api_mnist_model_trains_evaluates_saves_and_reloads(tmp_path, digits):
    ours, theirs = both("""
        import os
        import keras
        from keras import layers

        inputs = keras.Input(shape=(64,))
        dense = layers.Dense(64, activation="relu")
        x = dense(inputs)
        x = layers.Dense(64, activation="relu")(x)
        outputs = layers.Dense(10)(x)
        model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

        model.compile(
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            optimizer=keras.optimizers.RMSprop(),
            metrics=["accuracy"],
        )
        history = model.fit(x_train, y_train, batch_size=64, epochs=15, validation_split=0.2, verbose=0)
        test_scores = model.evaluate(x_test, y_test, verbose=0)

        os.makedirs(folder, exist_ok=True)
        model.save(os.path.join(folder, "my_model.keras"))
        predictions = model.predict(x_test, verbose=0)
        del model
        model = keras.models.load_model(os.path.join(folder, "my_model.keras"))
        reloaded = model.predict(x_test, verbose=0)
    """, tmp_path, **digits)
    for ns in (ours, theirs):
        assert set(ns["history"].history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert ns["model"].name == "mnist_model"
        assert ns["model"].count_params() == 64 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10
        np.testing.assert_allclose(ns["reloaded"], ns["predictions"], rtol=1e-6, atol=1e-6)
    assert ours["test_scores"][1] >= theirs["test_scores"][1] - 0.03
    assert ours["test_scores"][1] > 0.85


def test_functional_api_multiple_inputs_and_outputs_by_name():
    rng = np.random.default_rng(0)
    data = {"title_data": rng.random((64, 12)).astype("float32"),
            "body_data": rng.random((64, 20)).astype("float32"),
            "tags_data": rng.integers(0, 2, (64, 4)).astype("float32"),
            "priority_targets": rng.random((64, 1)).astype("float32"),
            "dept_targets": rng.integers(0, 2, (64, 3)).astype("float32")}
    ours, theirs = both("""
        import keras
        from keras import layers

        title_input = keras.Input(shape=(12,), name="title")
        body_input = keras.Input(shape=(20,), name="body")
        tags_input = keras.Input(shape=(4,), name="tags")
        title_features = layers.Dense(16, activation="relu")(title_input)
        body_features = layers.Dense(8, activation="relu")(body_input)
        x = layers.concatenate([title_features, body_features, tags_input])
        priority_pred = layers.Dense(1, name="priority")(x)
        department_pred = layers.Dense(3, name="department")(x)
        model = keras.Model(inputs=[title_input, body_input, tags_input],
                            outputs={"priority": priority_pred, "department": department_pred})
        model.compile(
            optimizer=keras.optimizers.RMSprop(1e-3),
            loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
                  "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
            loss_weights={"priority": 1.0, "department": 0.2},
        )
        history = model.fit(
            {"title": title_data, "body": body_data, "tags": tags_data},
            {"priority": priority_targets, "department": dept_targets},
            epochs=2, batch_size=32, verbose=0,
        )
        out = model.predict({"title": title_data, "body": body_data, "tags": tags_data}, verbose=0)
    """, **data)
    for ns in (ours, theirs):
        assert ns["model"].count_params() == 12 * 16 + 16 + 20 * 8 + 8 + 28 * 1 + 1 + 28 * 3 + 3
        assert len(ns["history"].history["loss"]) == 2
    assert set(ours["history"].history) == set(theirs["history"].history)
    assert set(ours["out"]) == set(theirs["out"]) == {"priority", "department"}
    assert ours["out"]["department"].shape == theirs["out"]["department"].shape == (64, 3)


def test_functional_api_shared_layers_and_models_used_as_layers():
    x = np.random.default_rng(1).random((32, 16)).astype("float32")
    ours, theirs = both("""
        import keras
        from keras import layers

        encoder_input = keras.Input(shape=(16,), name="original")
        encoded = layers.Dense(8, activation="relu")(encoder_input)
        encoder_output = layers.Dense(4, activation="relu")(encoded)
        encoder = keras.Model(encoder_input, encoder_output, name="encoder")

        decoder_input = keras.Input(shape=(4,), name="encoded")
        decoded = layers.Dense(8, activation="relu")(decoder_input)
        decoder_output = layers.Dense(16, activation="sigmoid")(decoded)
        decoder = keras.Model(decoder_input, decoder_output, name="decoder")

        autoencoder_input = keras.Input(shape=(16,), name="img")
        encoded_img = encoder(autoencoder_input)
        decoded_img = decoder(encoded_img)
        autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
        autoencoder.compile(optimizer="adam", loss="mse")
        history = autoencoder.fit(x, x, epochs=3, batch_size=8, verbose=0)

        shared = layers.Dense(5, name="shared")
        a = keras.Input(shape=(3,))
        b = keras.Input(shape=(3,))
        twin = keras.Model([a, b], layers.add([shared(a), shared(b)]))
    """, x=x)
    for ns in (ours, theirs):
        assert ns["autoencoder"].count_params() == ns["encoder"].count_params() + ns["decoder"].count_params()
        assert ns["encoder"].count_params() == 16 * 8 + 8 + 8 * 4 + 4
        assert ns["twin"].count_params() == 3 * 5 + 5  # one layer, two calls
        assert len(ns["history"].history["loss"]) == 3


# Keras warns about the guide's own code here
@pytest.mark.filterwarnings("ignore:The structure of `inputs` doesn't match:UserWarning")
def test_sequential_guide_build_pop_and_feature_extraction():
    ours, theirs = both("""
        import keras
        from keras import layers

        model = keras.Sequential(
            [
                layers.Dense(2, activation="relu", name="layer1"),
                layers.Dense(3, activation="relu", name="layer2"),
                layers.Dense(4, name="layer3"),
            ]
        )
        weights_before_build = len(model.weights)
        model.build((None, 4))
        weights_after_build = len(model.weights)
        model.pop()
        layers_after_pop = len(model.layers)

        initial_model = keras.Sequential(
            [
                keras.Input(shape=(6,)),
                layers.Dense(5, activation="relu"),
                layers.Dense(3, activation="relu", name="my_intermediate_layer"),
                layers.Dense(2, activation="relu"),
            ]
        )
        feature_extractor = keras.Model(
            inputs=initial_model.inputs,
            outputs=initial_model.get_layer(name="my_intermediate_layer").output,
        )
        features = feature_extractor(np.ones((1, 6), dtype="float32"))
        all_features = keras.Model(inputs=initial_model.inputs,
                                   outputs=[layer.output for layer in initial_model.layers])
        for layer in initial_model.layers[:-1]:
            layer.trainable = False
        trainable_after_freeze = len(initial_model.trainable_weights)
    """)
    for ns in (ours, theirs):
        assert ns["weights_before_build"] == 0
        assert ns["weights_after_build"] == 6
        assert ns["layers_after_pop"] == 2
        assert tuple(ns["features"].shape) == (1, 3)
        assert len(ns["all_features"].outputs) == 3
        assert ns["trainable_after_freeze"] == 2


LINEAR_LAYER = """
    import keras
    from keras import layers
    from keras import ops

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units})
            return config
"""


def test_custom_layer_with_add_weight_in_sequential_trains_saves_and_loads(tmp_path, digits):
    ours, theirs = both(LINEAR_LAYER + """
    import os
    model = keras.Sequential([keras.Input(shape=(64,)), Linear(32), layers.Activation("relu"), Linear(10),
                              layers.Softmax()])
    shapes = [tuple(w.shape) for w in model.weights]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=10, batch_size=32, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    os.makedirs(folder, exist_ok=True)
    model.save(os.path.join(folder, "linear.keras"))
    loaded = keras.models.load_model(os.path.join(folder, "linear.keras"), custom_objects={"Linear": Linear})
    same = np.allclose(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0), atol=1e-6)
    """, tmp_path, **digits)
    for ns in (ours, theirs):
        assert ns["shapes"] == [(64, 32), (32,), (32, 10), (10,)]  # the second Linear sees 32 inputs
        assert ns["same"]
    assert ours["accuracy"] >= theirs["accuracy"] - 0.03 and ours["accuracy"] > 0.85


def test_subclassed_layers_nest_and_track_weights_and_losses():
    ours, theirs = both(LINEAR_LAYER + """
    class ActivityRegularizationLayer(keras.layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    class MLPBlock(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.regularizer = ActivityRegularizationLayer(1e-2)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = keras.activations.relu(x)
            x = self.regularizer(x)
            return self.linear_3(x)

    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))
    n_weights = len(mlp.weights)
    n_trainable = len(mlp.trainable_weights)
    n_losses = len(mlp.losses)
    """)
    for ns in (ours, theirs):
        assert tuple(ns["y"].shape) == (3, 1)
        assert ns["n_weights"] == ns["n_trainable"] == 4
        assert ns["n_losses"] == 1


def test_subclassed_model_trains_like_the_functional_one(digits):
    ours, theirs = both("""
        import keras
        from keras import layers

        class MLP(keras.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.dense_1 = layers.Dense(64, activation="relu")
                self.dropout = layers.Dropout(0.2)
                self.dense_2 = layers.Dense(10, activation="softmax")

            def call(self, inputs, training=False):
                x = self.dense_1(inputs)
                x = self.dropout(x, training=training)
                return self.dense_2(x)

        model = MLP()
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(),
                      metrics=[keras.metrics.SparseCategoricalAccuracy()])
        history = model.fit(x_train, y_train, batch_size=32, epochs=8, verbose=0)
        results = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    """, **digits)
    assert set(ours["results"]) == set(theirs["results"]) == {"loss", "sparse_categorical_accuracy"}
    assert ours["model"].count_params() == theirs["model"].count_params() == 64 * 64 + 64 + 64 * 10 + 10
    assert ours["results"]["sparse_categorical_accuracy"] >= theirs["results"]["sparse_categorical_accuracy"] - 0.03


def test_custom_loss_functions_written_with_ops(digits):
    ours, theirs = both("""
        import keras
        from keras import layers
        from keras import ops

        def get_uncompiled_model():
            inputs = keras.Input(shape=(64,), name="digits")
            x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
            x = layers.Dense(64, activation="relu", name="dense_2")(x)
            outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
            return keras.Model(inputs=inputs, outputs=outputs)

        def custom_mean_squared_error(y_true, y_pred):
            return ops.mean(ops.square(y_true - y_pred), axis=-1)

        model = get_uncompiled_model()
        model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
        y_train_one_hot = ops.one_hot(y_train, num_classes=10)
        history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=10, verbose=0)

        class CustomMSE(keras.losses.Loss):
            def __init__(self, regularization_factor=0.1, name="custom_mse"):
                super().__init__(name=name)
                self.regularization_factor = regularization_factor

            def call(self, y_true, y_pred):
                mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
                reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
                return mse + reg * self.regularization_factor

        model_2 = get_uncompiled_model()
        model_2.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
        history_2 = model_2.fit(x_train, y_train_one_hot, batch_size=64, epochs=10, verbose=0)
        accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    """, **digits)
    for ns in (ours, theirs):
        losses = ns["history"].history["loss"]
        assert losses[-1] < 0.5 * losses[0]
        assert ns["history_2"].history["loss"][-1] < ns["history_2"].history["loss"][0]
    assert ours["accuracy"] >= theirs["accuracy"] - 0.03 and ours["accuracy"] > 0.85


def test_custom_metric_subclass_with_state_variables(digits):
    ours, theirs = both("""
        import keras
        from keras import layers
        from keras import ops

        class CategoricalTruePositives(keras.metrics.Metric):
            def __init__(self, name="categorical_true_positives", **kwargs):
                super().__init__(name=name, **kwargs)
                self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

            def update_state(self, y_true, y_pred, sample_weight=None):
                y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
                values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
                values = ops.cast(values, "float32")
                if sample_weight is not None:
                    sample_weight = ops.cast(sample_weight, "float32")
                    values = ops.multiply(values, sample_weight)
                self.true_positives.assign_add(ops.sum(values))

            def result(self):
                return self.true_positives.value

            def reset_state(self):
                self.true_positives.assign(0.0)

        inputs = keras.Input(shape=(64,))
        x = layers.Dense(32, activation="relu")(inputs)
        outputs = layers.Dense(10, activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(),
                      metrics=[CategoricalTruePositives()])
        history = model.fit(x_train, y_train.reshape(-1, 1), batch_size=64, epochs=5, verbose=0)
        correct = float(np.sum(np.argmax(model.predict(x_train, verbose=0), axis=1) == y_train))
        evaluated = model.evaluate(x_train, y_train.reshape(-1, 1), batch_size=64, verbose=0, return_dict=True)
    """, **digits)
    for ns in (ours, theirs):
        assert "categorical_true_positives" in ns["history"].history
        # a count summed over the epoch's batches, not a mean: it equals the correct predictions
        assert float(ns["evaluated"]["categorical_true_positives"]) == pytest.approx(ns["correct"])


def test_learning_rate_schedule_drives_the_optimizer():
    x = np.random.default_rng(2).random((96, 5)).astype("float32")
    y = x @ np.arange(1, 6, dtype="float32")[:, None]
    ours, theirs = both("""
        import keras

        initial_learning_rate = 0.1
        lr_schedule = keras.optimizers.schedules.ExponentialDecay(
            initial_learning_rate, decay_steps=3, decay_rate=0.96, staircase=True
        )
        optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
        model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
        model.compile(optimizer=optimizer, loss="mse")
        history = model.fit(x, y, batch_size=32, epochs=4, verbose=0)
        steps = int(optimizer.iterations)
        current = float(lr_schedule(optimizer.iterations))
        cosine = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.1,
                                                        warmup_steps=10)
        warmup = [float(cosine(step)) for step in (0, 5, 10, 55, 110)]
    """, x=x, y=y)
    for ns in (ours, theirs):
        assert ns["steps"] == 12
    assert ours["current"] == pytest.approx(theirs["current"], rel=1e-6)
    np.testing.assert_allclose(ours["warmup"], theirs["warmup"], rtol=1e-5, atol=1e-8)


def test_callbacks_guide_custom_callbacks_and_early_stopping_at_min_loss():
    x = np.random.default_rng(3).random((64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    ours, theirs = both("""
        import keras

        def get_model():
            model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
            model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
                          loss="mean_squared_error", metrics=["mean_absolute_error"])
            return model

        calls = []

        class CustomCallback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                calls.append(("train_begin", sorted(logs or {})))

            def on_epoch_end(self, epoch, logs=None):
                calls.append(("epoch_end", epoch, sorted(logs)))

            def on_test_begin(self, logs=None):
                calls.append(("test_begin",))

            def on_predict_end(self, logs=None):
                calls.append(("predict_end",))

        model = get_model()
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25, callbacks=[CustomCallback()])
        model.evaluate(x, y, batch_size=16, verbose=0, callbacks=[CustomCallback()])
        model.predict(x, batch_size=16, verbose=0, callbacks=[CustomCallback()])

        class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
            def __init__(self, patience=0):
                super().__init__()
                self.patience = patience
                self.best_weights = None

            def on_train_begin(self, logs=None):
                self.wait = 0
                self.stopped_epoch = 0
                self.best = np.inf

            def on_epoch_end(self, epoch, logs=None):
                current = logs.get("loss")
                if np.less(current, self.best):
                    self.best = current
                    self.wait = 0
                    self.best_weights = self.model.get_weights()
                else:
                    self.wait += 1
                    if self.wait >= self.patience:
                        self.stopped_epoch = epoch
                        self.model.stop_training = True
                        self.model.set_weights(self.best_weights)

        class CustomLearningRateScheduler(keras.callbacks.Callback):
            def __init__(self, schedule):
                super().__init__()
                self.schedule = schedule

            def on_epoch_begin(self, epoch, logs=None):
                lr = float(np.array(self.model.optimizer.learning_rate))
                scheduled_lr = self.schedule(epoch, lr)
                self.model.optimizer.learning_rate = scheduled_lr

        model = get_model()
        history = model.fit(x, y, batch_size=16, epochs=30, verbose=0,
                            callbacks=[EarlyStoppingAtMinLoss(patience=2),
                                       CustomLearningRateScheduler(lambda epoch, lr: lr * 0.5)])
        final_lr = float(np.array(model.optimizer.learning_rate))
    """, x=x, y=y)
    assert ours["calls"] == theirs["calls"]
    for ns in (ours, theirs):
        epochs = len(ns["history"].history["loss"])
        assert ns["final_lr"] == pytest.approx(0.1 * 0.5 ** epochs, rel=1e-6)


def test_builtin_callbacks_checkpoint_best_model_and_stop_early(tmp_path, digits):
    ours, theirs = both("""
        import os
        import keras
        from keras import layers

        os.makedirs(folder, exist_ok=True)
        model = keras.Sequential([keras.Input(shape=(64,)), layers.Dense(32, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        callbacks = [
            keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2, verbose=0),
            keras.callbacks.ModelCheckpoint(filepath=os.path.join(folder, "mymodel_{epoch}.keras"),
                                            save_best_only=True, monitor="val_loss", verbose=0),
        ]
        history = model.fit(x_train, y_train, epochs=40, batch_size=64, callbacks=callbacks,
                            validation_split=0.2, verbose=0)
        saved = sorted(os.listdir(folder))
        best = keras.models.load_model(os.path.join(folder, saved[-1]))
    """, tmp_path, **digits)
    for ns in (ours, theirs):
        epochs = len(ns["history"].history["loss"])
        assert epochs < 40  # stopped early
        assert all(name.startswith("mymodel_") and name.endswith(".keras") for name in ns["saved"])
        val = ns["history"].history["val_loss"]
        assert len(ns["saved"]) == sum(v < min(val[:i], default=np.inf) for i, v in enumerate(val))


def test_imbalanced_classification_with_class_weights_and_confusion_metrics():
    rng = np.random.default_rng(4)
    features = rng.normal(size=(3000, 8)).astype("float32")
    targets = (features[:, 0] + 0.5 * features[:, 1] + rng.normal(0, 0.5, 3000) > 2.2).astype("float32")
    ours, theirs = both("""
        import keras

        counts = np.bincount(targets.astype("int64"))
        train_features = features.copy()
        mean = np.mean(train_features, axis=0)
        train_features -= mean
        std = np.std(train_features, axis=0)
        train_features /= std

        model = keras.Sequential(
            [
                keras.Input(shape=train_features.shape[1:]),
                keras.layers.Dense(32, activation="relu"),
                keras.layers.Dense(32, activation="relu"),
                keras.layers.Dropout(0.3),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        metrics = [
            keras.metrics.FalseNegatives(name="fn"),
            keras.metrics.FalsePositives(name="fp"),
            keras.metrics.TrueNegatives(name="tn"),
            keras.metrics.TruePositives(name="tp"),
            keras.metrics.Precision(name="precision"),
            keras.metrics.Recall(name="recall"),
        ]
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)
        weight_for_0 = 1.0 / counts[0]
        weight_for_1 = 1.0 / counts[1]
        class_weight = {0: weight_for_0, 1: weight_for_1}
        history = model.fit(train_features, targets, batch_size=256, epochs=10, verbose=0,
                            class_weight=class_weight)
        results = model.evaluate(train_features, targets, batch_size=256, verbose=0, return_dict=True)
    """, features=features, targets=targets)
    positives = float(targets.sum())
    for ns in (ours, theirs):
        r = ns["results"]
        assert r["tp"] + r["fn"] == pytest.approx(positives)
        assert r["tp"] + r["fn"] + r["tn"] + r["fp"] == pytest.approx(3000)
        assert r["recall"] == pytest.approx(r["tp"] / (r["tp"] + r["fn"]), rel=1e-5)
        assert r["precision"] == pytest.approx(r["tp"] / (r["tp"] + r["fp"]), rel=1e-5)
        assert r["recall"] > 0.8  # the class weights make the rare class count
    assert set(ours["history"].history) == set(theirs["history"].history)


def test_fault_tolerance_backup_and_restore_resumes_where_training_stopped(tmp_path):
    # the guide's inputs (0 to 99) make SGD diverge; NumPy warns of the overflow where PyTorch is silent
    with np.errstate(over="ignore", invalid="ignore"):
        ours, theirs = both(SNIPPET_BACKUP, tmp_path)
    for ns in (ours, theirs):
        assert ns["interrupted"]
        assert ns["epochs_after_resume"] == 6
        assert not ns["backup_left"]


SNIPPET_BACKUP = """
        import os
        import keras

        class InterruptingCallback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == 4:
                    raise RuntimeError("Interrupting!")

        callback = keras.callbacks.BackupAndRestore(backup_dir=os.path.join(folder, "backup"))
        model = keras.models.Sequential([keras.layers.Dense(10)])
        model.compile(keras.optimizers.SGD(), loss="mse")
        try:
            model.fit(np.arange(100).reshape(5, 20), np.zeros(5), epochs=10, batch_size=1,
                      callbacks=[callback, InterruptingCallback()], verbose=0)
            interrupted = False
        except RuntimeError:
            interrupted = True
        history = model.fit(np.arange(100).reshape(5, 20), np.zeros(5), epochs=10, batch_size=1,
                            callbacks=[callback], verbose=0)
        epochs_after_resume = len(history.history["loss"])
        backup_left = os.path.exists(os.path.join(folder, "backup")) and bool(
            os.listdir(os.path.join(folder, "backup")))
"""


def test_serialization_guide_configs_json_weights_and_registered_objects(tmp_path):
    x = np.random.default_rng(5).random((8, 4)).astype("float32")
    ours, theirs = both("""
        import os
        import keras

        os.makedirs(folder, exist_ok=True)

        @keras.saving.register_keras_serializable(package="MyLayers")
        class CustomLayer(keras.layers.Layer):
            def __init__(self, factor, **kwargs):
                super().__init__(**kwargs)
                self.factor = factor

            def call(self, x):
                return x * self.factor

            def get_config(self):
                config = super().get_config()
                config.update({"factor": self.factor})
                return config

        @keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
        def custom_fn(x):
            return x**2

        inputs = keras.Input(shape=(4,))
        hidden = keras.layers.Dense(3)(inputs)
        outputs = CustomLayer(factor=0.5)(keras.layers.Activation(custom_fn)(hidden))
        model = keras.Model(inputs, outputs)
        before = model.predict(x, verbose=0)

        config = model.get_config()
        clone = keras.Model.from_config(config)
        clone.set_weights(model.get_weights())
        from_config = clone.predict(x, verbose=0)

        json_config = model.to_json()
        from_json = keras.models.model_from_json(json_config)
        from_json.set_weights(model.get_weights())
        from_json_out = from_json.predict(x, verbose=0)

        model.save(os.path.join(folder, "custom.keras"))
        reloaded = keras.models.load_model(os.path.join(folder, "custom.keras")).predict(x, verbose=0)

        model.save_weights(os.path.join(folder, "model.weights.h5"))
        fresh = keras.models.model_from_json(json_config)
        fresh.predict(x, verbose=0)  # Keras loads weights only into a model that has run
        fresh.load_weights(os.path.join(folder, "model.weights.h5"))
        from_weights = fresh.predict(x, verbose=0)
        registered_name = keras.saving.get_registered_name(CustomLayer)
    """, tmp_path, x=x)
    for ns in (ours, theirs):
        for name in ("from_config", "from_json_out", "reloaded", "from_weights"):
            np.testing.assert_allclose(ns[name], ns["before"], rtol=1e-6, atol=1e-7)
    assert ours["registered_name"] == theirs["registered_name"] == "MyLayers>CustomLayer"


def test_custom_dropout_layer_with_a_seed_generator():
    ours, theirs = both("""
        import keras
        from keras import layers

        class CustomDropout(layers.Layer):
            def __init__(self, rate, **kwargs):
                super().__init__(**kwargs)
                self.rate = rate
                self.seed_generator = keras.random.SeedGenerator(1337)

            def call(self, inputs, training=None):
                if training:
                    return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
                return inputs

        layer = CustomDropout(0.5)
        x = np.ones((200, 50), dtype="float32")
        train_out = keras.ops.convert_to_numpy(layer(x, training=True))
        second = keras.ops.convert_to_numpy(layer(x, training=True))
        infer_out = keras.ops.convert_to_numpy(layer(x, training=False))
        noise = keras.ops.convert_to_numpy(keras.random.normal((1000, 20), mean=1.0, stddev=2.0, seed=7))
    """)
    for ns in (ours, theirs):
        kept = ns["train_out"] != 0
        assert 0.45 < kept.mean() < 0.55
        np.testing.assert_array_equal(ns["train_out"][kept], 2.0)
        assert not np.array_equal(ns["train_out"], ns["second"])  # the generator advances
        np.testing.assert_array_equal(ns["infer_out"], 1.0)
        assert abs(ns["noise"].mean() - 1.0) < 0.1 and abs(ns["noise"].std() - 2.0) < 0.1


def test_plot_model_from_the_functional_api_guide(tmp_path):
    ours, theirs = both("""
        import os
        import keras
        from keras import layers

        os.makedirs(folder, exist_ok=True)
        inputs = keras.Input(shape=(784,))
        x = layers.Dense(64, activation="relu")(inputs)
        x = layers.Dense(64, activation="relu")(x)
        outputs = layers.Dense(10)(x)
        model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
        try:
            keras.utils.plot_model(model, os.path.join(folder, "my_first_model.png"))
            keras.utils.plot_model(model, os.path.join(folder, "my_first_model_with_shape_info.png"),
                                   show_shapes=True)
            drawn = sorted(os.listdir(folder))
        except ImportError:  # Keras needs pydot and a system Graphviz
            drawn = None
    """, tmp_path)
    assert ours["drawn"] == ["my_first_model.png", "my_first_model_with_shape_info.png"]
    if theirs["drawn"] is not None:
        assert theirs["drawn"] == ours["drawn"]
