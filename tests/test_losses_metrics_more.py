"""The rest of Keras 3's everyday losses and metrics: LogCosh, Poisson, KLDivergence and the focal
cross-entropies equal Keras's (float32) and their gradients the finite differences'; R2Score equals
scikit-learn's r2_score for every aggregation; Mean and Sum track values as Keras's do."""

import os

import numpy as np
import pytest
from sklearn.metrics import r2_score

import deepfin
from deepfin import losses, metrics
from deepfin.engine.tensor import Tensor

CASES = [
    ("LogCosh", {}, "real"), ("Poisson", {}, "positive"), ("KLDivergence", {}, "distribution"),
    ("BinaryFocalCrossentropy", {}, "probability"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5}, "probability"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "real"),
    ("CategoricalFocalCrossentropy", {}, "distribution"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "gamma": 3.0}, "real"),
]


def _pair(kind: str, rng):
    shape = (6, 4)
    if kind == "real":
        return rng.integers(0, 2, shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    if kind == "positive":
        return rng.poisson(2.0, shape).astype(np.float32), rng.uniform(0.5, 3, shape).astype(np.float32)
    if kind == "probability":
        return rng.integers(0, 2, shape).astype(np.float32), rng.uniform(0.05, 0.95, shape).astype(np.float32)
    y_true = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)]
    p = rng.uniform(0.1, 1, shape).astype(np.float32)
    return y_true, p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("name, options, kind", CASES, ids=[f"{n}-{sorted(o)}" for n, o, _ in CASES])
def test_losses_equal_keras(name, options, kind, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    y_true, y_pred = _pair(kind, rng)
    theirs = getattr(keras.losses, name)(reduction=None, **options)
    ours = getattr(losses, name)(reduction=None, **options)
    np.testing.assert_allclose(ours(y_true, y_pred).numpy(), keras.ops.convert_to_numpy(theirs(y_true, y_pred)),
                               rtol=1e-5, atol=1e-6)
    assert losses.get(losses.serialize(ours)).get_config() == ours.get_config()


@pytest.mark.parametrize("name, options, kind", CASES, ids=[f"{n}-{sorted(o)}" for n, o, _ in CASES])
def test_loss_gradients_equal_finite_differences(name, options, kind, rng):
    y_true, y_pred = (a.astype(np.float64) for a in _pair(kind, rng))
    loss = getattr(losses, name)(**options)
    inputs = Tensor(y_pred, requires_grad=True)
    loss(y_true, inputs).backward()
    numeric = np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        for sign in (1, -1):
            moved = y_pred.copy()
            moved[index] += sign * 1e-6
            numeric[index] += sign * loss(y_true, moved).item() / 2e-6
    np.testing.assert_allclose(inputs.grad, numeric, rtol=1e-5, atol=1e-8)


def test_losses_by_their_keras_names():
    for name, cls in (("log_cosh", losses.LogCosh), ("poisson", losses.Poisson), ("kld", losses.KLDivergence),
                      ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy),
                      ("categorical_focal_crossentropy", losses.CategoricalFocalCrossentropy)):
        assert isinstance(losses.get(name), cls)
    with pytest.raises(ValueError, match="gamma"):
        losses.BinaryFocalCrossentropy(gamma=-1)
    with pytest.raises(TypeError, match="takes no"):
        losses.LogCosh(delta=2)


@pytest.mark.parametrize("aggregation", ["uniform_average", "variance_weighted_average", None])
def test_r2_score_equals_scikit_learn_over_batches(aggregation, rng):
    y_true = rng.standard_normal((90, 3)) * [1.0, 3.0, 0.5]
    y_pred = y_true + rng.standard_normal((90, 3))
    weights = rng.uniform(0.5, 2.0, 90)
    metric = metrics.R2Score(class_aggregation=aggregation)
    for part in np.array_split(np.arange(90), 4):
        metric.update_state(y_true[part], y_pred[part], sample_weight=weights[part])
    expected = r2_score(y_true, y_pred, sample_weight=weights,
                        multioutput={None: "raw_values", "variance_weighted_average": "variance_weighted"}.get(
                            aggregation, aggregation))
    np.testing.assert_allclose(metric.result(), expected, rtol=1e-10)
    adjusted = metrics.R2Score(num_regressors=5)
    adjusted.update_state(y_true, y_pred)
    plain = r2_score(y_true, y_pred)
    assert adjusted.result() == pytest.approx(1 - (1 - plain) * 89 / (90 - 5 - 1))


def test_mean_and_sum_track_values_and_r2_works_in_fit(rng):
    mean, total = metrics.Mean(name="loss"), metrics.Sum()
    for values, weights in (([1.0, 3.0], None), ([5.0], [3.0])):
        mean.update_state(values, sample_weight=weights)
        total.update_state(values, sample_weight=weights)
    assert mean.result() == pytest.approx((1 + 3 + 15) / 5) and total.result() == pytest.approx(19.0)
    mean.reset_state()
    assert mean.result() == 0.0
    x = rng.standard_normal((256, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5], np.float32) + 0.1 * rng.standard_normal(256).astype(np.float32)
    model = deepfin.Sequential([deepfin.Input((3,)), deepfin.layers.Dense(1)])
    model.compile(optimizer=deepfin.optimizers.Adam(0.05), loss="log_cosh", metrics=["r2_score"])
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["r2_score"][-1] > 0.95
