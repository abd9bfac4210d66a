"""fit, evaluate and predict on batches that arrive one by one: a PyDataset (Keras 3's guide's way) and Python
generators, with steps_per_epoch and validation_steps; the same result as the arrays the batches come from."""

import numpy as np
import pytest

import deepfin
from deepfin.layers import Dense
from deepfin.utils import PyDataset


class Batches(PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.epochs_ended = x, y, batch_size, 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _model(seed=0):
    deepfin.utils.set_random_seed(seed)
    model = deepfin.Sequential([deepfin.Input((3,)), Dense(4, activation="tanh"), Dense(1, activation="sigmoid")])
    model.compile(optimizer=deepfin.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def rows(rng):
    x = rng.standard_normal((96, 3)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.float32)


@pytest.mark.parametrize("compiled", [True, False], ids=["kernels", "engine"])
def test_a_py_dataset_trains_as_the_arrays_do(rows, compiled):
    x, y = rows
    previous = deepfin.backend.compiled()
    deepfin.backend.set_compiled(compiled)
    try:
        by_arrays = _model().fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                                 validation_data=(x[:32], y[:32]))
        dataset = Batches(x, y, 16, workers=4, use_multiprocessing=True)
        model = _model()
        by_batches = model.fit(dataset, epochs=3, verbose=0, validation_data=Batches(x[:32], y[:32], 8))
    finally:
        deepfin.backend.set_compiled(previous)
    for key in by_arrays.history:
        np.testing.assert_allclose(by_batches.history[key], by_arrays.history[key], rtol=1e-5, err_msg=key)
    assert dataset.epochs_ended == 3
    np.testing.assert_allclose(model.predict(Batches(x, y, 10), verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert model.evaluate(Batches(x, y, 16), verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)


def test_generators_with_steps(rows):
    x, y = rows

    def forever():
        while True:
            for start in range(0, 96, 32):
                yield x[start:start + 32], y[start:start + 32], np.ones(len(x[start:start + 32]))

    model = _model()
    history = model.fit(forever(), steps_per_epoch=3, epochs=2, verbose=0,
                        validation_data=forever(), validation_steps=1)
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    assert model.predict((x[i:i + 10] for i in range(0, 30, 10)), verbose=0).shape == (30, 1)


def test_an_iterator_that_runs_out_stops_the_fit(rows, capsys):
    x, y = rows
    history = _model().fit(iter([(x[:32], y[:32]), (x[32:64], y[32:64])]), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1
    assert "ran out of data" in capsys.readouterr().out


def test_batch_sources_refuse_separate_targets(rows):
    x, y = rows
    with pytest.raises(ValueError, match="batches hold the targets"):
        _model().fit(Batches(x, y, 16), y)
    with pytest.raises(ValueError, match="positive integer"):
        _model().fit(Batches(x, y, 16), steps_per_epoch=0)
