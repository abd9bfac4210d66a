"""ONNX export: every built-in layer, a functional graph with branches and merges, batch normalization's moving
statistics and a finished run's pipeline, each run by onnxruntime and compared with deepfin's own predictions;
then what is refused, and how the file is written."""

import json
import os
import re
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from deepfin import activations
from deepfin.cli import main
from deepfin.layers import (
    ELU,
    GRU,
    LSTM,
    Activation,
    Add,
    AlphaDropout,
    Average,
    AveragePooling1D,
    BatchNormalization,
    Bidirectional,
    Concatenate,
    Conv1D,
    Dense,
    Dot,
    Dropout,
    Embedding,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Input,
    IntegerLookup,
    Layer,
    LayerNormalization,
    LeakyReLU,
    Masking,
    Maximum,
    Maxout,
    MaxoutDense,
    MaxPooling1D,
    Minimum,
    MultiHeadAttention,
    Multiply,
    Permute,
    ReLU,
    Rescaling,
    Reshape,
    SimpleRNN,
    Softmax,
    Subtract,
    TimeDistributed,
)
from deepfin.models import Model, Sequential

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

def run_onnx(path, feeds: dict) -> list[np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def assert_round_trip(model, tmp_path, shapes, atol=1e-5, dtype="float32"):
    """Export, then compare onnxruntime with ``model.predict`` on random batches of 1 and 17 rows."""
    path = tmp_path / "model.onnx"
    model.export(path, format="onnx")
    proto = onnx.load(path)
    names = [i.name for i in proto.graph.input]
    assert names == [kt.name for kt in model.inputs]
    assert all(i.type.tensor_type.shape.dim[0].dim_param == "batch" for i in proto.graph.input)
    rng = np.random.default_rng(1)
    for batch in (1, 17):
        xs = [rng.normal(scale=2.0, size=(batch, *shape)).astype(dtype) for shape in shapes]
        expected = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        got = run_onnx(path, dict(zip(names, xs)))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.dtype == np.dtype(dtype) and g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=0, atol=atol)
    return proto


@pytest.mark.parametrize("name", activations.names())
def test_dense_with_every_builtin_activation(tmp_path, name):
    model = Sequential([Input((6,)), Dense(5, activation=name)])
    assert_round_trip(model, tmp_path, [(6,)])


LAYERS = {
    "dense_no_bias": lambda: [Dense(4, use_bias=False, activation="tanh")],
    "activation": lambda: [Dense(4), Activation("sigmoid")],
    "relu": lambda: [ReLU()],
    "relu_max_value": lambda: [ReLU(max_value=1.5)],
    "relu_negative_slope": lambda: [ReLU(negative_slope=0.1)],
    "relu_threshold": lambda: [ReLU(threshold=0.3)],
    "relu_all": lambda: [ReLU(max_value=2.0, negative_slope=0.2, threshold=-0.5)],
    "leaky_relu": lambda: [LeakyReLU()],
    "leaky_relu_slope": lambda: [LeakyReLU(negative_slope=0.05)],
    "elu": lambda: [ELU(alpha=0.7)],
    "softmax": lambda: [Softmax()],
    "dropout": lambda: [Dense(4), Dropout(0.5)],
    "batch_normalization": lambda: [BatchNormalization()],
    "batch_normalization_plain": lambda: [BatchNormalization(center=False, scale=False, epsilon=0.1)],
    "maxout": lambda: [Maxout(3, pieces=4)],
    "maxout_one_piece": lambda: [Maxout(2, pieces=1)],
    "maxout_dense": lambda: [MaxoutDense(3, nb_feature=2, bias=False)],
}


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_every_builtin_layer_round_trips(tmp_path, case):
    model = Sequential([Input((6,)), *LAYERS[case]()])
    assert_round_trip(model, tmp_path, [(6,)])


@pytest.mark.parametrize("layers", [
    lambda: [Flatten(), Dense(3)],
    lambda: [Dense(4, activation="relu"), Softmax(axis=1)],
    lambda: [Maxout(2, pieces=3), BatchNormalization()],
], ids=["flatten", "softmax_axis_1", "rank_3_maxout_batch_normalization"])
def test_inputs_of_rank_3(tmp_path, layers):
    model = Sequential([Input((3, 4)), *layers()])
    assert_round_trip(model, tmp_path, [(3, 4)])


@pytest.mark.parametrize("merge", [Add, Subtract, Multiply, Concatenate])
def test_merges(tmp_path, merge):
    a, b = Input((5,), name="a"), Input((5,), name="b")
    model = Model([a, b], merge()([Dense(3, name="left")(a), Dense(3, name="right")(b)]))
    assert_round_trip(model, tmp_path, [(5,), (5,)])


@pytest.mark.parametrize("merge", [Average, Maximum, Minimum])
def test_elementwise_merges_of_three(tmp_path, merge):
    inputs = [Input((4,), name=name) for name in "abc"]
    model = Model(inputs, merge()([Dense(3)(x) for x in inputs]))
    assert_round_trip(model, tmp_path, [(4,)] * 3)


@pytest.mark.parametrize("axes, normalize, shapes", [
    (1, False, [(4,), (4,)]), (-1, True, [(2, 4), (5, 4)]), ((1, 1), False, [(4, 2), (4, 3)]),
    ((2, 1), True, [(3, 4), (4,)]), ((1, 1), False, [(4,), (4, 3)])])
def test_dot(tmp_path, axes, normalize, shapes):
    inputs = [Input(shape, name=name) for shape, name in zip(shapes, "ab")]
    model = Model(inputs, Dense(2)(Dot(axes=axes, normalize=normalize)(inputs)))
    assert_round_trip(model, tmp_path, shapes)


def test_functional_model_with_branches_merges_a_shared_layer_a_nested_model_and_two_outputs(tmp_path):
    prices, extra = Input((8,), name="prices"), Input((3,), name="extra")
    shared = Dense(6, activation="tanh", name="shared")
    left, right = shared(prices), Dense(6, activation="elu")(prices)
    trunk = Concatenate()([Add()([left, right, shared(Dense(8)(prices))]), Dense(4, activation="relu")(extra)])
    tower = Sequential([Input((10,)), BatchNormalization(), Maxout(4, pieces=2), Dropout(0.3)], name="tower")
    hidden = Multiply()([tower(trunk), Dense(4, activation="sigmoid")(extra)])
    up = Dense(1, activation="sigmoid", name="up")(hidden)
    size = Dense(3, activation="softmax", name="size")(Subtract()([hidden, Dense(4)(trunk)]))
    model = Model([prices, extra], [up, size])
    proto = assert_round_trip(model, tmp_path, [(8,), (3,)])
    assert [o.name for o in proto.graph.output] == ["up", "size"]
    kernels = [i.name for i in proto.graph.initializer if i.name.startswith("shared/kernel")]
    assert kernels == ["shared/kernel"]  # a shared layer's weights are stored once


def test_trained_batch_normalization_uses_its_moving_statistics(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(256, 4)) * [1.0, 3.0, 0.5, 2.0] + [2.0, -1.0, 0.5, 4.0]).astype("float32")
    y = (x[:, :1] > 2).astype("float32")
    model = Sequential([Input((4,)), BatchNormalization(momentum=0.5), Dense(3, activation="relu"),
                        BatchNormalization(), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    norm = model.layers[0]
    assert np.abs(norm.moving_mean.numpy()).min() > 0.2 and np.abs(norm.moving_variance.numpy() - 1).max() > 0.5
    assert np.abs(norm.gamma.numpy() - 1).max() > 0 and np.abs(norm.beta.numpy()).max() > 0
    assert_round_trip(model, tmp_path, [(4,)])


def test_float64_model_exports_in_float64(tmp_path, float64):
    model = Sequential([Input((5,)), Dense(4, activation="tanh"), BatchNormalization(), Maxout(3, pieces=2),
                        Dense(2, activation="softmax")])
    proto = assert_round_trip(model, tmp_path, [(5,)], atol=1e-12, dtype="float64")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


# ------------------------------------------------------------------ what is refused, and how the file is written
class Twice(Layer):
    def call(self, inputs):
        return inputs * 2


def test_a_custom_layer_or_activation_is_refused_by_name(tmp_path):
    model = Sequential([Input((3,)), Dense(2), Twice(name="twice")])
    with pytest.raises(ValueError, match="Layer 'twice' of class Twice cannot be exported to ONNX"):
        model.export(tmp_path / "m.onnx", format="onnx")

    def swish(x):
        return x * activations.sigmoid(x)

    model = Sequential([Input((3,)), Dense(2, activation=swish, name="hidden")])
    with pytest.raises(ValueError, match="Layer 'hidden' uses the activation .*swish.*not one of deepfin's own"):
        model.export(tmp_path / "m.onnx", format="onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_subclassed_or_unbuilt_model_is_refused(tmp_path):
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(ValueError, match="needs a Sequential or functional model.*Received: Net"):
        Net().export(tmp_path / "m.onnx", format="onnx")
    with pytest.raises(ValueError, match="has no input shape yet"):
        Sequential([Dense(2)]).export(tmp_path / "m.onnx", format="onnx")


def test_bad_format_and_arguments_are_refused(tmp_path):
    model = Sequential([Input((3,)), Dense(2)])
    with pytest.raises(ValueError, match="format='onnx' only.*Received: format='tf_saved_model'"):
        model.export(tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="Received: format='torch'"):
        model.export(tmp_path / "m.onnx", format="torch")
    with pytest.raises(ValueError, match="opset_version must be an integer from 13.*Received: opset_version=7"):
        model.export(tmp_path / "m.onnx", format="onnx", opset_version=7)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to export"):
        model.export(tmp_path / "m.onnx", format="onnx", dynamic=True)
    assert list(tmp_path.iterdir()) == []


def test_the_file_is_written_atomically_and_checked(tmp_path, monkeypatch):
    model = Sequential([Input((3,)), Dense(2)])
    path = tmp_path / "m.onnx"
    model.export(path, format="onnx", opset_version=13)
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]  # no temporary file left beside it
    proto = onnx.load(path)
    assert proto.opset_import[0].version == 13 and proto.producer_name == "deepfin"
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(onnx.ModelProto, "SerializeToString", fail)
    with pytest.raises(OSError, match="disk full"):
        Sequential([Input((3,)), Dense(5)]).export(path, format="onnx")
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["m.onnx"]


def test_without_onnx_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install deepfin\[onnx\]"):
        Sequential([Input((3,)), Dense(2)]).export(tmp_path / "m.onnx", format="onnx")


# ------------------------------------------------------------------ a finished run's pipeline
QUICK_RUN = ["--quick", "--n-jobs", "1", "--set", "epochs=2", "--set", "bootstrap=20", "--set", "shuffled_folds=2",
             "--set", "tuning_folds=1", "--set", "test_size=60", "--set", "dummies=true",
             "--set", 'grid.activation=["relu"]', "--set", "grid.learning_rate=[0.001]"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["run", *QUICK_RUN, "--out", str(out)]) == 0
    return out


def test_exported_run_fed_raw_features_gives_the_runs_predictions(finished_run, capsys):
    from deepfin.finance import CalendarDummies, RunConfig
    from deepfin.finance.pipeline import workflow

    target = finished_run.parent / "pipeline.onnx"
    assert main(["export", str(finished_run), "--out", str(target)]) == 0
    assert f"Wrote {target}" in capsys.readouterr().out
    proto = onnx.load(target)
    features = json.loads({p.key: p.value for p in proto.metadata_props}["feature_names"])
    steps = json.loads((finished_run / "preprocessing.json").read_text())
    assert features == steps["inputs"] and any(name.startswith("month_") for name in features)  # dummies pass
    assert [i.name for i in proto.graph.input] == ["features"] and [o.name for o in proto.graph.output] == [
        "probability"]
    predictions = pd.read_csv(finished_run / "predictions.csv", parse_dates=["date"])
    last = predictions[predictions["window"] == predictions["window"].max()]
    X = workflow.plan(RunConfig.from_toml(finished_run / "run.toml")).X  # the run's features, from raw returns
    X = X.loc[pd.MultiIndex.from_frame(last[["date", "ticker"]])]
    calendar = steps["calendar"]  # the dummies of the years the last window trained on, as preprocessing.json says
    X = CalendarDummies(calendar["years"], calendar["months"]).fit(X).transform(X)
    assert not any(f"year_{year}" in features for year in set(X.index.get_level_values("date").year))
    X = X[features].to_numpy(dtype="float32")
    clipped = X[:, [features.index(column) for column in steps["clip"]["columns"]]]
    assert ((clipped < steps["clip"]["lower"]) | (clipped > steps["clip"]["upper"])).any()  # the clip matters
    (probability,) = run_onnx(target, {"features": X})
    assert probability.shape == (len(last), 1)
    np.testing.assert_allclose(probability[:, 0], last["probability"], rtol=0, atol=1e-5)  # the CSV keeps 6 digits


def test_export_defaults_to_model_onnx_in_the_run_folder(finished_run):
    assert main(["export", str(finished_run)]) == 0
    assert (finished_run / "model.onnx").is_file()
    assert not [name for name in os.listdir(finished_run) if name.endswith(".tmp")]


@pytest.mark.parametrize("remove, message", [
    (None, "No run folder at .*missing"),
    ("model.keras", "is not a finished deepfin run: it has no model.keras"),
    ("preprocessing.json", "is not a finished deepfin run: it has no preprocessing.json"),
])
def test_export_errors_name_what_is_wrong(finished_run, tmp_path, capsys, remove, message):
    folder = tmp_path / "missing"
    if remove is not None:
        shutil.copytree(finished_run, folder)
        (folder / remove).unlink()
    with pytest.raises(SystemExit) as stop:
        main(["export", str(folder)])
    assert stop.value.code == 2
    assert re.search(f"deepfin export: error: .*{message}", capsys.readouterr().err)


def test_export_without_onnx_says_how_to_install_it(finished_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(SystemExit):
        main(["export", str(finished_run), "--out", str(tmp_path / "m.onnx")])
    assert "pip install deepfin[onnx]" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()



SEQUENCE_MODELS = {
    "lstm": lambda: [LSTM(5), Dense(1)],
    "lstm_sequences": lambda: [LSTM(4, return_sequences=True), GRU(3)],
    "gru": lambda: [GRU(5, bias_initializer="random_normal"), Dense(2)],
    "gru_no_bias": lambda: [GRU(4, use_bias=False)],
    "simple_rnn": lambda: [SimpleRNN(6, return_sequences=True), Flatten()],
    "conv_causal": lambda: [Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
                            MaxPooling1D(2), GlobalAveragePooling1D()],
    "conv_valid_strided": lambda: [Conv1D(3, 2, strides=2), AveragePooling1D(3, strides=1), GlobalMaxPooling1D()],
    "conv_same": lambda: [Conv1D(2, 4, padding="same"), LayerNormalization(), Flatten()],
    "shapes": lambda: [Permute((2, 1)), Reshape((-1,)), Rescaling(0.5, offset=1.0), GaussianNoise(0.1),
                       AlphaDropout(0.1), Dense(2)],
    "lstm_backwards": lambda: [LSTM(4, go_backwards=True, return_sequences=True), SimpleRNN(3, go_backwards=True)],
    "gru_backwards": lambda: [GRU(3, go_backwards=True, bias_initializer="random_normal")],
    "bidirectional_concat": lambda: [Bidirectional(LSTM(4, return_sequences=True)), Bidirectional(GRU(3))],
    "bidirectional_sum_ave_mul": lambda: [Bidirectional(SimpleRNN(3, return_sequences=True), merge_mode="sum"),
                                          Bidirectional(LSTM(2, return_sequences=True), merge_mode="ave"),
                                          Bidirectional(GRU(2), merge_mode="mul")],
    "bidirectional_own_backward_layer": lambda: [Bidirectional(LSTM(3), backward_layer=GRU(3, go_backwards=True))],
    "time_distributed": lambda: [TimeDistributed(Dense(4, activation="tanh")), LSTM(3, return_sequences=True),
                                 TimeDistributed(Dense(1))],
}


@pytest.mark.parametrize("name", list(SEQUENCE_MODELS))
def test_sequence_layers_round_trip(name, tmp_path):
    model = Sequential([Input((8, 3)), *SEQUENCE_MODELS[name]()])
    assert_round_trip(model, tmp_path, [(8, 3)], atol=1e-5)


def test_an_embedding_model_round_trips(tmp_path):
    ids = Input((2,))
    model = Model(ids, Dense(1)(Flatten()(Embedding(10, 3)(ids))))
    path = tmp_path / "embedding.onnx"
    model.export(path, format="onnx")
    x = np.array([[1, 9], [0, 4], [3, 3]], dtype=np.float32)
    np.testing.assert_allclose(run_onnx(path, {model.inputs[0].name: x})[0], model.predict(x, verbose=0), atol=1e-6)


def test_recurrent_export_refuses_what_onnx_cannot_say(tmp_path):
    for layer in (GRU(3, reset_after=False), LSTM(3, activation="relu")):
        model = Sequential([Input((4, 2)), layer])
        with pytest.raises(ValueError, match="ONNX export takes"):
            model.export(tmp_path / "refused.onnx", format="onnx")


def test_bidirectional_with_two_outputs_is_refused(tmp_path):
    inputs = Input((4, 2))
    model = Model(inputs, Bidirectional(LSTM(3), merge_mode=None)(inputs))
    with pytest.raises(ValueError, match="Bidirectional with one output"):
        model.export(tmp_path / "refused.onnx", format="onnx")


def test_a_model_with_masks_is_refused_rather_than_exported_without_them(tmp_path):
    """An exported Embedding(mask_zero=True) -> LSTM model once gave padded rows other outputs than predict."""
    ids = Input((5,))
    model = Model(ids, Dense(1)(LSTM(3)(Embedding(10, 4, mask_zero=True)(ids))))
    with pytest.raises(ValueError, match="mask_zero=True.*carries no masks"):
        model.export(tmp_path / "masked.onnx", format="onnx")
    assert not (tmp_path / "masked.onnx").exists()
    inputs = Input((5, 2))
    with pytest.raises(ValueError, match="Masking.*carries no masks"):
        Model(inputs, LSTM(3)(Masking()(inputs))).export(tmp_path / "masked.onnx", format="onnx")


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_attention_round_trips(tmp_path, causal):
    inputs = Input((6, 4))
    attended = MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal")(
        inputs, inputs, use_causal_mask=causal)
    normed = LayerNormalization()(Add()([inputs, attended]))
    assert_round_trip(Model(inputs, Dense(1)(GlobalAveragePooling1D()(normed))), tmp_path, [(6, 4)])


def test_cross_attention_with_a_key_and_other_widths_round_trips(tmp_path):
    query, value, key = Input((3, 4), name="q"), Input((5, 2), name="v"), Input((5, 6), name="k")
    attended = MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, output_shape=5, use_bias=False)(
        query, value, key)
    assert_round_trip(Model([query, value, key], Flatten()(attended)), tmp_path, [(3, 4), (5, 2), (5, 6)])


@pytest.mark.parametrize("causal", [False, True], ids=["given_mask", "given_and_causal_masks"])
def test_attention_with_a_mask_input_round_trips(tmp_path, causal):
    sequence, allowed = Input((5, 3), name="sequence"), Input((5, 5), name="allowed")
    attended = MultiHeadAttention(num_heads=2, key_dim=2)(sequence, sequence, attention_mask=allowed,
                                                          use_causal_mask=causal)
    model = Model([sequence, allowed], Flatten()(attended))
    path = tmp_path / "masked_attention.onnx"
    model.export(path, format="onnx")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5, 3)).astype(np.float32)
    mask = (rng.random((4, 5, 5)) > 0.4).astype(np.float32)
    mask[:, :, 0] = 1
    got = run_onnx(path, {"sequence": x, "allowed": mask})[0]
    np.testing.assert_allclose(got, model.predict([x, mask], verbose=0), atol=1e-5)


def test_attention_scores_and_an_old_opset_are_refused(tmp_path):
    inputs = Input((4, 2))
    out, _ = MultiHeadAttention(num_heads=1, key_dim=2)(inputs, inputs, return_attention_scores=True)
    with pytest.raises(ValueError, match="without return_attention_scores"):
        Model(inputs, out).export(tmp_path / "scores.onnx", format="onnx")
    causal = Model(inputs, MultiHeadAttention(num_heads=1, key_dim=2)(inputs, inputs, use_causal_mask=True))
    with pytest.raises(ValueError, match="opset_version 14"):
        causal.export(tmp_path / "causal.onnx", format="onnx", opset_version=13)


@pytest.mark.parametrize("mask_token", [None, 0], ids=["oov_only", "with_mask_token"])
def test_an_integer_lookup_round_trips_with_unknown_identifiers(tmp_path, mask_token):
    """PERMNO-like identifiers through IntegerLookup and an Embedding: known ones to their rows, unknown ones (5,
    77777) to the OOV row, the mask token to 0; ONNX-ML's LabelEncoder gives predict's outputs."""
    ids = Input((3,), name="ids")
    lookup = IntegerLookup(vocabulary=[10001, 10107, 14593, 90319], mask_token=mask_token)
    model = Model(ids, Dense(1)(Flatten()(Embedding(lookup.vocabulary_size(), 2)(lookup(ids)))))
    path = tmp_path / "lookup.onnx"
    model.export(path, format="onnx")
    x = np.array([[10001, 14593, 5], [90319, 10107, 77777], [0, 10001, 0]], dtype=np.float32)
    np.testing.assert_allclose(run_onnx(path, {"ids": x})[0], model.predict(x, verbose=0), atol=1e-6)
    assert {op.domain for op in onnx.load(path).opset_import} == {"", "ai.onnx.ml"}


def test_lookups_onnx_cannot_say_are_refused(tmp_path):
    ids = Input((3,))
    for layer, message in ((IntegerLookup(vocabulary=[1, 2], output_mode="one_hot"), "output_mode='int'"),
                           (IntegerLookup(vocabulary=[1, 2], invert=True), "invert=False")):
        with pytest.raises(ValueError, match=message):
            Model(ids, layer(ids)).export(tmp_path / "refused.onnx", format="onnx")
