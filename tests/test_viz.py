"""deepfin.viz: every plot returns its figure, saves a real PNG atomically, and refuses wrong shapes."""

import os

import numpy as np
import pytest
from matplotlib.figure import Figure

from deepfin import viz
from deepfin.layers import Dense
from deepfin.models import Sequential, load_model
from tests.pictures import assert_not_blank


@pytest.fixture
def classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = Sequential([Dense(8, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y, epochs=5, validation_split=0.25, verbose=0)
    return model, X, y, history


def test_every_plot_returns_a_figure_and_saves_a_picture(classifier, tmp_path):
    model, X, y, history = classifier
    hidden = np.random.default_rng(1).random((50, 3))
    kernel = np.random.default_rng(2).normal(size=(64, 10))
    figures = {
        "history.png": viz.plot_history(history, path=tmp_path / "history.png"),
        "runs.png": viz.plot_history({"a": history, "b": history.history}, path=tmp_path / "runs.png"),
        "boundary.png": viz.plot_decision_boundary(model, X, y, path=tmp_path / "boundary.png"),
        "boundaries.png": viz.plot_decision_boundaries({"one": model, "two": model}, X, y,
                                                       path=tmp_path / "boundaries.png"),
        "hidden.png": viz.plot_hidden_representation(hidden, hidden[:, 0] > 0.5, path=tmp_path / "hidden.png"),
        "confusion.png": viz.plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], path=tmp_path / "confusion.png"),
        "weights.png": viz.plot_dense_weights(kernel, (8, 8), path=tmp_path / "weights.png"),
        "fit.png": viz.plot_function_fit(np.arange(10), np.arange(10) ** 2, {"guess": np.arange(10) * 9},
                                         path=tmp_path / "fit.png"),
        "roc.png": viz.plot_roc(y, model.predict(X, verbose=0), path=tmp_path / "roc.png"),
    }
    for filename, fig in figures.items():
        assert isinstance(fig, Figure)
        assert_not_blank(tmp_path / filename)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(figures)  # no temporary files left behind


def test_history_plot_draws_training_and_validation_per_quantity(classifier):
    *_, history = classifier
    fig = viz.plot_history(history)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in fig.axes[0].lines] == ["training", "validation"]
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), history.history["val_loss"])


def test_decision_boundary_colours_follow_the_model(classifier):
    model, X, y, _ = classifier
    labels = viz.predicted_labels(model.predict(X, verbose=0))
    assert set(np.unique(labels)) <= {0, 1}
    np.testing.assert_array_equal(viz.predicted_labels(np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]])), [1, 0])


def test_confusion_matrix_writes_the_counts():
    fig = viz.plot_confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 1])
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["0", "1", "1", "3"]


def test_dense_weights_accepts_a_layer():
    layer = Dense(4)
    layer.build((None, 9))
    fig = viz.plot_dense_weights(layer, (3, 3))
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 4
    np.testing.assert_allclose(images[2], layer.get_weights()[0][:, 2].reshape(3, 3))


@pytest.mark.parametrize("call, message", [
    (lambda: viz.plot_hidden_representation(np.zeros((5, 2)), np.zeros(5)), "3 units"),
    (lambda: viz.plot_dense_weights(np.zeros((10, 3)), (3, 3)), "inputs = 9"),
    (lambda: viz.plot_history({}), "no logged quantities"),
    (lambda: viz.plot_history(42), "History"),
])
def test_wrong_inputs_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_decision_boundary_needs_two_features():
    model = Sequential([Dense(1, input_dim=3)])
    with pytest.raises(ValueError, match="2 input features"):
        viz.plot_decision_boundary(model, np.zeros((4, 3)), np.zeros(4))


def test_a_failed_save_leaves_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "plot.png"
    target.write_bytes(b"the user's earlier plot")
    fig = viz.plot_function_fit([0, 1], [0, 1], {})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        viz.save_figure(fig, target)
    assert target.read_bytes() == b"the user's earlier plot"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_saved_pictures_and_models_are_readable_like_any_new_file(tmp_path):
    mask = os.umask(0o022)
    try:
        viz.save_figure(viz.plot_function_fit([0, 1], [0, 1], {}), tmp_path / "plot.png")
        model = Sequential([Dense(1, input_dim=2)])
        model.save(tmp_path / "model.keras")
    finally:
        os.umask(mask)
    assert (tmp_path / "plot.png").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "model.keras").stat().st_mode & 0o777 == 0o644
    assert load_model(tmp_path / "model.keras").count_params() == 3
