"""LivePlot redraws the learning curves after each epoch: a PNG file rewritten atomically outside Jupyter,
one display updated in place inside it; one panel per metric with History's values."""

import hashlib
import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

from deepfin.callbacks import LambdaCallback, LivePlot, live_plot
from deepfin.layers import Dense
from deepfin.models import Sequential
from tests.pictures import assert_not_blank


@pytest.fixture
def data(rng):
    x = rng.normal(size=(64, 3)).astype("float32")
    return x, (x[:, 0] > 0).astype("float32")


def make_model():
    model = Sequential([Dense(4, activation="relu", input_dim=3), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def lines(axes):
    """{label prefix: (x, y)} of one panel."""
    return {line.get_label().split(":")[0]: (list(line.get_xdata()), list(line.get_ydata())) for line in axes.lines}


def test_the_png_is_rewritten_by_rename_after_each_epoch(data, tmp_path):
    out, kept = tmp_path / "out", tmp_path / "kept"
    out.mkdir(), kept.mkdir()
    path = out / "curves.png"
    seen = []

    def look(epoch, logs):
        os.link(path, kept / f"{epoch}.png")  # holds each epoch's file, so its inode cannot be reused
        seen.append((path.stat().st_ino, sorted(os.listdir(out))))

    make_model().fit(*data, epochs=3, batch_size=16, verbose=0,
                     callbacks=[LivePlot(to_file=path), LambdaCallback(on_epoch_end=look)])
    assert len({inode for inode, _ in seen}) == 3        # a new file renamed over the old one each epoch
    assert all(listing == ["curves.png"] for _, listing in seen)  # no temporary file left beside it
    pictures = [(kept / f"{epoch}.png").read_bytes() for epoch in range(3)]
    assert len({hashlib.sha256(picture).digest() for picture in pictures}) == 3   # a new picture each time
    for epoch in range(3):
        assert_not_blank(kept / f"{epoch}.png")             # each one whole
    assert plt.imread(path).shape[:2] == (400, 1200)      # two 6 x 4 inch panels at 100 dpi


def test_one_panel_per_metric_with_the_values_history_records(data, tmp_path):
    plot = LivePlot(to_file=tmp_path / "p.png")
    history = make_model().fit(*data, epochs=3, batch_size=16, verbose=0, validation_split=0.25, callbacks=[plot])
    assert plot.panels() == ["loss", "accuracy"]
    assert [ax.get_title() for ax in plot.figure.axes] == ["loss", "accuracy"]
    for ax in plot.figure.axes:
        name = ax.get_title()
        drawn = lines(ax)
        assert drawn["training"] == ([1, 2, 3], pytest.approx(history.history[name]))
        assert drawn["validation"] == ([1, 2, 3], pytest.approx(history.history["val_" + name]))
        assert ax.get_xlabel() == "epoch"
        latest = [line.get_label() for line in ax.lines]
        assert latest[0] == f"training: {history.history[name][-1]:.4f}"     # the latest value in the legend
    assert plot.epochs == [0, 1, 2]


def test_validation_every_other_epoch_and_a_resumed_fit(data, tmp_path):
    model, plot = make_model(), LivePlot(to_file=tmp_path / "p.png")
    history = model.fit(*data, epochs=5, batch_size=16, verbose=0, validation_split=0.25, validation_freq=2,
                        callbacks=[plot])
    loss = lines(plot.figure.axes[0])
    assert loss["training"][0] == [1, 2, 3, 4, 5]
    assert loss["validation"] == ([2, 4], pytest.approx(history.history["val_loss"]))
    model.fit(*data, epochs=7, initial_epoch=5, batch_size=16, verbose=0, validation_split=0.25, callbacks=[plot])
    assert lines(plot.figure.axes[0])["training"][0] == [1, 2, 3, 4, 5, 6, 7]   # the curves go on
    assert lines(plot.figure.axes[0])["validation"][0] == [2, 4, 6, 7]
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(*data, epochs=2, batch_size=16, verbose=0, callbacks=[plot])           # from epoch 0: afresh
    assert plot.panels() == ["loss"]
    assert lines(plot.figure.axes[0]) == {"training": ([1, 2], pytest.approx(model.history.history["loss"]))}


def test_a_fresh_callback_on_a_resumed_fit_starts_at_its_first_epoch(data, tmp_path):
    plot = LivePlot(to_file=tmp_path / "p.png")
    make_model().fit(*data, epochs=4, initial_epoch=2, batch_size=16, verbose=0, callbacks=[plot])
    assert lines(plot.figure.axes[0])["training"][0] == [3, 4]
    assert plot.figure.texts[0].get_text() == "epoch 4/4"


def test_chosen_metrics_size_and_columns(data, tmp_path):
    plot = LivePlot(metrics=["val_loss"], to_file=tmp_path / "new" / "p.png", figsize=(4, 3))
    make_model().fit(*data, epochs=2, batch_size=16, verbose=0, validation_split=0.25, callbacks=[plot])
    assert [ax.get_title() for ax in plot.figure.axes] == ["loss"]          # val_loss names the loss panel
    assert set(lines(plot.figure.axes[0])) == {"training", "validation"}
    assert tuple(plot.figure.get_size_inches()) == (4, 3)
    assert plt.imread(tmp_path / "new" / "p.png").shape[:2] == (300, 400)   # its folder made as needed
    stacked = LivePlot(to_file=tmp_path / "s.png", max_cols=1)
    make_model().fit(*data, epochs=1, batch_size=16, verbose=0, callbacks=[stacked])
    assert [ax.get_subplotspec().get_geometry()[:2] for ax in stacked.figure.axes] == [(2, 1), (2, 1)]


def test_every_number_in_the_logs_gets_a_panel_and_other_values_none(tmp_path):
    plot = LivePlot(to_file=tmp_path / "p.png", max_cols=3)
    plot.on_train_begin()
    plot.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.2, "learning_rate": np.float32(0.01), "note": "x",
                          "flag": True, "val_mae": 0.5})
    assert plot.panels() == ["loss", "learning_rate", "mae"]
    assert set(lines(plot.figure.axes[2])) == {"validation"}            # a validation-only metric
    assert_not_blank(tmp_path / "p.png")


def test_outside_a_notebook_it_writes_live_loss_png_in_the_current_folder(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not live_plot.in_notebook()
    make_model().fit(*data, epochs=1, batch_size=16, verbose=0, callbacks=[LivePlot()])
    assert os.listdir(tmp_path) == ["live_loss.png"]
    assert_not_blank(tmp_path / "live_loss.png")


def test_no_pyplot_figure_is_left_open(data, tmp_path):
    before = plt.get_fignums()
    plot = LivePlot(to_file=tmp_path / "p.png")
    make_model().fit(*data, epochs=2, batch_size=16, verbose=0, callbacks=[plot])
    assert plt.get_fignums() == before
    assert plot.figure is not None                                       # the final figure stays to look at


class FakeDisplay:
    """IPython's display: records calls and returns a handle whose updates it records too."""

    def __init__(self):
        self.calls, self.updates = [], []

    def __call__(self, *objs, **kwargs):
        self.calls.append((objs, kwargs))
        return self

    def update(self, obj, **kwargs):
        self.updates.append(obj)


def test_in_a_notebook_one_display_is_updated_once_per_epoch(data, tmp_path, monkeypatch):
    ipython_display = pytest.importorskip("IPython.display")
    fake = FakeDisplay()
    monkeypatch.setattr(live_plot, "in_notebook", lambda: True)
    monkeypatch.setattr(ipython_display, "display", fake)
    monkeypatch.chdir(tmp_path)
    make_model().fit(*data, epochs=3, batch_size=16, verbose=0, validation_split=0.25, callbacks=[LivePlot()])
    assert fake.calls == [((), {"display_id": True})]                   # one output, made before epoch 1
    assert len(fake.updates) == 3
    assert all(isinstance(image, ipython_display.Image) and image.data[:8] == b"\x89PNG\r\n\x1a\n"
               for image in fake.updates)
    assert len({image.data for image in fake.updates}) == 3
    assert os.listdir(tmp_path) == []                                   # inline only: no file unless to_file


def test_inline_with_a_file_does_both_and_inline_false_only_the_file(data, tmp_path, monkeypatch):
    ipython_display = pytest.importorskip("IPython.display")
    fake = FakeDisplay()
    monkeypatch.setattr(live_plot, "in_notebook", lambda: True)
    monkeypatch.setattr(ipython_display, "display", fake)
    make_model().fit(*data, epochs=2, batch_size=16, verbose=0,
                     callbacks=[LivePlot(to_file=tmp_path / "a.png"), LivePlot(to_file=tmp_path / "b.png",
                                                                                inline=False)])
    assert len(fake.calls) == 1 and len(fake.updates) == 2
    assert fake.updates[-1].data == (tmp_path / "a.png").read_bytes()
    assert (tmp_path / "b.png").is_file()


@pytest.mark.parametrize("kwargs, message", [
    ({"max_cols": 0}, "max_cols must be an integer >= 1. Received: max_cols=0"),
    ({"figsize": (0, 3)}, "figsize must be None or (width, height) in inches, both > 0. Received: figsize=(0, 3)"),
    ({"figsize": "big"}, "Received: figsize='big'"),
    ({"metrics": []}, "metrics must be None or a non-empty list of metric names"),
    ({"inline": "yes"}, "inline must be True, False or None (detect Jupyter). Received: inline='yes'"),
])
def test_bad_arguments_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError) as error:
        LivePlot(**kwargs)
    assert message in str(error.value)


def test_a_metric_that_is_not_logged_is_named_with_what_is(data, tmp_path):
    with pytest.raises(ValueError, match=r"not in the epoch logs: \['auc'\]. Logged: \['loss', 'accuracy'\]"):
        make_model().fit(*data, epochs=1, verbose=0, callbacks=[LivePlot(metrics="auc", to_file=tmp_path / "p.png")])
