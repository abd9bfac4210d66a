"""BackupAndRestore: an interrupted fit, resumed, equals an uninterrupted one bit for bit."""

import io
import os
import zipfile

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # for the comparison with Keras, imported in its test

import deepfin  # noqa: E402
from deepfin import backend, layers, saving  # noqa: E402
from deepfin.callbacks import BackupAndRestore, Callback  # noqa: E402

EPOCHS = 5
FIT = dict(epochs=EPOCHS, batch_size=16, shuffle=True, validation_split=0.2, verbose=0)


class Interrupt(Callback):
    """Raises at the start of ``epoch`` (or before its ``batch``-th batch), as a crash would."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None
        if batch is not None:
            self.on_train_batch_begin = self._before_batch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if self.batch is None and epoch == self.epoch:
            raise RuntimeError("interrupted")

    def _before_batch(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise RuntimeError("interrupted")


def data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((100, 4)).astype(np.float32)
    return x, (x[:, 0] - x[:, 1] > 0).astype(np.float32)


def make_model(width=8):
    """The same model (same initial weights) on every call; the seed also restarts shuffling and dropout."""
    backend.set_seed(3)
    model = deepfin.Sequential([layers.Input((4,)), layers.Dense(width, activation="relu"), layers.Dropout(0.3),
                                layers.Dense(1, activation="sigmoid")])
    model.compile(deepfin.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return model


def optimizer_arrays(model, path):
    """The optimizer's step count and moments, as a model file stores them."""
    model.save(path)
    with zipfile.ZipFile(path) as archive, np.load(io.BytesIO(archive.read("optimizer.npz"))) as arrays:
        return {key: arrays[key] for key in arrays.files}


def assert_same_state(a, b, tmp_path):
    assert all(np.array_equal(u.data, v.data) for u, v in zip(a.weights, b.weights))
    state_a, state_b = optimizer_arrays(a, tmp_path / "a.keras"), optimizer_arrays(b, tmp_path / "b.keras")
    assert state_a.keys() == state_b.keys() and int(state_a["iterations"]) > 0
    assert all(np.array_equal(state_a[k], state_b[k]) for k in state_a)


@pytest.fixture
def uninterrupted():
    model = make_model()
    return model, model.fit(*data(), **FIT)


@pytest.mark.parametrize("save_freq, interrupt, resumed_epochs", [
    ("epoch", Interrupt(3), [3, 4]),
    (2, Interrupt(2, batch=3), [2, 3, 4]),  # mid-epoch: resumes after batch 2 of epoch 2
    (1, Interrupt(4, batch=0), [4]),  # an integer save_freq backs up after every epoch as well
])
def test_resumed_fit_equals_uninterrupted_fit(tmp_path, uninterrupted, save_freq, interrupt, resumed_epochs):
    full, full_history = uninterrupted
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="interrupted"):
        make_model().fit(*data(), callbacks=[BackupAndRestore(backup_dir, save_freq=save_freq), interrupt], **FIT)
    assert os.listdir(backup_dir) == ["backup.deepfin"]

    resumed = make_model()  # a fresh process would rebuild the model: other weights, another random state
    history = resumed.fit(*data(), callbacks=[BackupAndRestore(backup_dir, save_freq=save_freq)], **FIT)

    assert history.epoch == resumed_epochs
    assert_same_state(full, resumed, tmp_path)
    n = len(resumed_epochs)
    for key in ("loss", "val_loss", "val_accuracy"):
        assert history.history[key] == full_history.history[key][-n:], key
    # accuracy of an epoch resumed in its middle counts only the batches after resuming
    exact_from = 1 if interrupt.batch not in (None, 0) else 0
    assert history.history["accuracy"][exact_from:] == full_history.history["accuracy"][-n + exact_from:]
    assert not backup_dir.exists()


def test_history_epochs_match_keras(tmp_path):
    keras = pytest.importorskip("keras")
    x, y = data()

    def resumed_epochs(lib, interrupt_at, save_freq):
        class KerasInterrupt(lib.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.current = epoch
                if interrupt_at[1] is None and epoch == interrupt_at[0]:
                    raise RuntimeError("interrupted")

            def on_train_batch_begin(self, batch, logs=None):
                if interrupt_at[1] is not None and (self.current, batch) == interrupt_at:
                    raise RuntimeError("interrupted")

        backup_dir = str(tmp_path / f"{lib.__name__}-{save_freq}")
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(1)])
        model.compile(lib.optimizers.SGD(0.01), "mse")
        fit = dict(epochs=4, batch_size=20, verbose=0)
        with pytest.raises(RuntimeError):
            model.fit(x, y, callbacks=[lib.callbacks.BackupAndRestore(backup_dir, save_freq=save_freq),
                                       KerasInterrupt()], **fit)
        history = model.fit(x, y, callbacks=[lib.callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)],
                            **fit)
        return history.epoch, os.path.exists(backup_dir)

    for interrupt_at, save_freq in (((2, None), "epoch"), ((2, 3), 2)):
        assert resumed_epochs(deepfin, interrupt_at, save_freq) == resumed_epochs(keras, interrupt_at, save_freq)


def test_backup_deleted_after_normal_end_or_kept_when_asked(tmp_path):
    x, y = data()
    kept = tmp_path / "kept"
    make_model().fit(x, y, callbacks=[BackupAndRestore(kept, delete_checkpoint=False)], **FIT)
    assert saving.load_backup(make_model(), kept / "backup.deepfin")[0]["epoch"] == EPOCHS

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "notes.txt").write_text("mine")
    make_model().fit(x, y, callbacks=[BackupAndRestore(shared)], **FIT)
    assert os.listdir(shared) == ["notes.txt"]  # the backup goes; the user's files stay


def test_kill_during_backup_leaves_the_previous_backup_whole(tmp_path, uninterrupted, monkeypatch):
    full, full_history = uninterrupted
    x, y = data()
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="interrupted"):
        make_model().fit(x, y, callbacks=[BackupAndRestore(backup_dir), Interrupt(2)], **FIT)

    writestr = zipfile.ZipFile.writestr

    def dying_writestr(archive, name, content, *args, **kwargs):
        writestr(archive, name, content[:len(content) // 2], *args, **kwargs)  # half a file, then the crash
        raise KeyboardInterrupt("killed while writing the backup")

    with monkeypatch.context() as patch:
        patch.setattr(zipfile.ZipFile, "writestr", dying_writestr)
        with pytest.raises(KeyboardInterrupt):
            make_model().fit(x, y, callbacks=[BackupAndRestore(backup_dir)], **FIT)  # dies saving epoch 2
    assert os.listdir(backup_dir) == ["backup.deepfin"]  # no temporary file left behind
    assert saving.load_backup(make_model(), backup_dir / "backup.deepfin")[0]["epoch"] == 2

    resumed = make_model()
    history = resumed.fit(x, y, callbacks=[BackupAndRestore(backup_dir)], **FIT)
    assert history.epoch == [2, 3, 4] and history.history["loss"] == full_history.history["loss"][2:]
    assert_same_state(full, resumed, tmp_path)


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path, uninterrupted):
    full, _ = uninterrupted
    x, y = data()
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        make_model().fit(x, y, callbacks=[BackupAndRestore(backup_dir, double_checkpoint=True), Interrupt(3)], **FIT)
    assert sorted(os.listdir(backup_dir)) == ["backup.deepfin", "backup.deepfin.bkp"]
    (backup_dir / "backup.deepfin").write_bytes(b"damaged")
    resumed = make_model()
    history = resumed.fit(x, y, callbacks=[BackupAndRestore(backup_dir, double_checkpoint=True)], **FIT)
    assert history.epoch == [2, 3, 4]
    assert_same_state(full, resumed, tmp_path)
    assert not backup_dir.exists()


@pytest.mark.parametrize("save_freq", [0, -2, 1.5, True, "batch", None])
def test_bad_save_freq_is_refused(tmp_path, save_freq):
    with pytest.raises(ValueError, match=f"save_freq must be 'epoch' or a positive number of batches. "
                                         f"Received: save_freq={save_freq!r}"):
        BackupAndRestore(tmp_path, save_freq=save_freq)


@pytest.mark.parametrize("backup_dir", ["", None])
def test_empty_backup_dir_is_refused(backup_dir):
    with pytest.raises(ValueError, match="backup_dir must be a directory path"):
        BackupAndRestore(backup_dir)


def test_backup_of_another_architecture_is_refused(tmp_path):
    x, y = data()
    with pytest.raises(RuntimeError):
        make_model().fit(x, y, callbacks=[BackupAndRestore(tmp_path), Interrupt(1)], **FIT)
    other = make_model(width=6)
    other.build((None, 4))
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"cannot resume .* another architecture: it holds 4 weights of shapes "
                                         r"\[\(4, 8\), \(8,\), .*has 4 weights of shapes \[\(4, 6\)"):
        other.fit(x, y, callbacks=[BackupAndRestore(tmp_path)], **FIT)
    assert all(np.array_equal(a, w.data) for a, w in zip(before, other.weights))  # nothing was changed


def test_fit_state_outside_fit_and_bad_resume_point():
    model = make_model()
    with pytest.raises(RuntimeError, match="while fit"):
        model.fit_state()
    with pytest.raises(ValueError, match="needs the epoch's loss sums"):
        model.resume_fit(1, step=2)

    class ResumeTooFar(Callback):
        def on_train_begin(self, logs=None):
            self.model.resume_fit(1, step=9, order=np.arange(80), losses={"loss_sum": 0.0, "part_sums": [], "seen": 0})

    with pytest.raises(ValueError, match="after batch 9 of an epoch of 5 batches"):
        model.fit(*data(), callbacks=[ResumeTooFar()], **FIT)


def test_random_state_round_trip():
    state = backend.get_rng_state()
    first = backend.rng().standard_normal(5)
    backend.set_seed(99)
    backend.set_rng_state(state)
    assert np.array_equal(backend.rng().standard_normal(5), first)
    with pytest.raises(ValueError, match="bit generators"):
        backend.set_rng_state({"bit_generator": "os.system"})


def test_mid_epoch_resume_without_shuffling(tmp_path):
    x, y = data()
    fit = {**FIT, "shuffle": False}
    full = make_model()
    full_history = full.fit(x, y, **fit)
    with pytest.raises(RuntimeError):
        make_model().fit(x, y, callbacks=[BackupAndRestore(tmp_path / "b", save_freq=3), Interrupt(1, batch=4)],
                         **fit)
    resumed = make_model()
    history = resumed.fit(x, y, callbacks=[BackupAndRestore(tmp_path / "b", save_freq=3)], **fit)
    assert history.epoch == [1, 2, 3, 4] and history.history["loss"] == full_history.history["loss"][1:]
    assert_same_state(full, resumed, tmp_path)


def test_damaged_training_state_is_refused(tmp_path):
    model = make_model()
    model.build((None, 4))
    saving.save_backup(model, tmp_path / "backup.deepfin", {"epoch": 1})
    with pytest.raises(ValueError, match=r"cannot resume .* its training state is damaged \(KeyError\('rng'\)\)"):
        make_model().fit(*data(), callbacks=[BackupAndRestore(tmp_path)], **FIT)


def test_a_stack_trains_a_model_with_the_callback_alone(tmp_path):
    from deepfin.tuning.stacked import stack_reason

    reason = stack_reason({"callbacks": [BackupAndRestore(tmp_path / "backup")]})
    assert reason == "its callback BackupAndRestore backs up and resumes a fit of its own"
