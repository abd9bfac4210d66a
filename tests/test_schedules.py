"""deepfin.optimizers.schedules against Keras 3's (values, an optimizer's steps) and through save / load."""

import os

import numpy as np
import pytest

from deepfin import Variable, optimizers
from deepfin.layers import Dense
from deepfin.models import Sequential, load_model
from deepfin.optimizers import schedules

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

CASES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5, staircase=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.2, decay_steps=5, decay_rate=0.3)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.2, decay_steps=5, decay_rate=0.3, staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[10, 40], values=[0.1, 0.01, 0.001])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=50, end_learning_rate=0.001, power=2.0)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=30, power=0.5, cycle=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=60, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=60, warmup_target=0.1, warmup_steps=20)),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_schedule_values_match_keras(name, kwargs):
    ours, theirs = getattr(schedules, name)(**kwargs), getattr(keras.optimizers.schedules, name)(**kwargs)
    steps = range(0, 121)
    expected = [float(keras.ops.convert_to_numpy(theirs(step))) for step in steps]
    np.testing.assert_allclose([ours(step) for step in steps], expected, rtol=1e-5, atol=1e-8)  # Keras: float32


def test_an_optimizer_follows_its_schedule_as_keras_does(rng):
    schedule = dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5)
    ours = optimizers.SGD(learning_rate=schedules.ExponentialDecay(**schedule), momentum=0.9)
    theirs = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(**schedule), momentum=0.9)
    start = rng.standard_normal((4, 3)).astype(np.float32)
    mine, reference = Variable(start.copy()), keras.Variable(start.copy())
    rates = []
    for _ in range(12):
        rates.append(ours.learning_rate)  # the rate the next step uses
        grad = rng.standard_normal((4, 3)).astype(np.float32)
        ours.apply([grad], [mine])
        theirs.apply([keras.ops.convert_to_tensor(grad)], [reference])
    np.testing.assert_allclose(rates, [0.1 * 0.5 ** (step / 3) for step in range(12)], rtol=1e-12)
    np.testing.assert_allclose(mine.data, keras.ops.convert_to_numpy(reference), rtol=1e-5, atol=1e-6)


def test_a_saved_model_keeps_its_schedule(tmp_path, rng):
    model = Sequential([Dense(2, input_dim=3), Dense(1)])
    model.compile(optimizer=optimizers.Adam(schedules.CosineDecay(0.01, 100, alpha=0.2)), loss="mse")
    model.fit(rng.standard_normal((40, 3)), rng.standard_normal(40), epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    assert loaded.optimizer.get_config()["learning_rate"] == model.optimizer.get_config()["learning_rate"]
    assert loaded.optimizer.iterations == model.optimizer.iterations == 10
    assert loaded.optimizer.learning_rate == pytest.approx(model.optimizer.learning_rate, rel=1e-12)
    assert model.optimizer.learning_rate < 0.01


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError, match="1 less than the length of values"):
        schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01])
    with pytest.raises(ValueError, match="decay_steps must be a positive number"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="Unknown learning-rate schedule"):
        optimizers.Adam.from_config({"learning_rate": {"class_name": "os.system", "config": {}}})
