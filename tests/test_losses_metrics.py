"""Losses (values, gradients, names, target checks), metrics and initializers."""

import numpy as np
import pytest

from deepfin import Tensor, initializers, losses, metrics, regularizers
from deepfin.engine import functions
from tests.oracle import rel_error

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _probabilities(rng, shape):
    return np.clip(rng.random(shape), 0.05, 0.95)


# name: (deepfin loss, torch loss on (pred, target), y_pred maker, y_true maker)
CASES = {
    "binary_crossentropy": (losses.get("binary_crossentropy"), TF.binary_cross_entropy,
                            lambda r: _probabilities(r, (6, 2)), lambda r: (r.random((6, 2)) > 0.5) * 1.0),
    "bce_from_logits": (losses.BinaryCrossentropy(from_logits=True), TF.binary_cross_entropy_with_logits,
                        lambda r: r.standard_normal((6, 2)), lambda r: (r.random((6, 2)) > 0.5) * 1.0),
    "categorical_crossentropy": (losses.get("categorical_crossentropy"),
                                 lambda p, y: -(y * (p / p.sum(-1, keepdim=True)).log()).sum(-1).mean(),
                                 lambda r: r.dirichlet(np.ones(3), 6), lambda r: np.eye(3)[r.integers(0, 3, 6)]),
    "cce_from_logits": (losses.CategoricalCrossentropy(from_logits=True), TF.cross_entropy,
                        lambda r: r.standard_normal((6, 3)), lambda r: np.eye(3)[r.integers(0, 3, 6)]),
    "mse": (losses.get("mse"), TF.mse_loss, lambda r: r.standard_normal((6, 2)), lambda r: r.standard_normal((6, 2))),
    "mae": (losses.get("mae"), TF.l1_loss, lambda r: r.standard_normal((6, 2)), lambda r: r.standard_normal((6, 2))),
    "huber": (losses.Huber(delta=0.7), lambda p, y: TF.huber_loss(p, y, delta=0.7),
              lambda r: 2 * r.standard_normal((6, 2)), lambda r: r.standard_normal((6, 2))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_value_and_gradient_match_torch(name, rng):
    loss, torch_loss, make_pred, make_true = CASES[name]
    y_pred, y_true = make_pred(rng), make_true(rng)
    p = Tensor(y_pred.copy(), requires_grad=True)
    value = loss(y_true, p)
    value.backward()
    pt = torch.tensor(y_pred, requires_grad=True)
    expected = torch_loss(pt, torch.tensor(y_true))
    expected.backward()
    assert value.shape == ()
    assert abs(float(value.data) - expected.item()) < 1e-12
    assert rel_error(p.grad, pt.grad.numpy()) < 1e-10


def test_sparse_categorical_on_probabilities_matches_torch(rng):
    probs, labels = rng.dirichlet(np.ones(4), 5), rng.integers(0, 4, 5)
    p = Tensor(probs.copy(), requires_grad=True)
    value = losses.get("sparse_categorical_crossentropy")(labels, p)
    value.backward()
    pt = torch.tensor(probs, requires_grad=True)
    expected = TF.nll_loss(pt.log(), torch.tensor(labels))
    expected.backward()
    assert abs(float(value.data) - expected.item()) < 1e-12
    assert rel_error(p.grad, pt.grad.numpy()) < 1e-10


def test_cross_entropy_after_sigmoid_or_softmax_uses_the_logits(rng):
    """A probability of exactly 1 from a saturated sigmoid still gives the exact loss."""
    z = Tensor(np.array([[40.0], [-40.0]]), requires_grad=True)
    value = losses.get("binary_crossentropy")(np.array([[0.0], [1.0]]), functions.sigmoid(z))
    assert np.isclose(float(value.data), 40.0, rtol=1e-12)
    value.backward()
    np.testing.assert_allclose(z.grad, [[0.5], [-0.5]])
    logits = rng.standard_normal((4, 3))
    direct = losses.CategoricalCrossentropy(from_logits=True)(np.eye(3)[[0, 1, 2, 0]], logits)
    fused = losses.get("categorical_crossentropy")(np.eye(3)[[0, 1, 2, 0]], functions.softmax(Tensor(logits)))
    assert np.isclose(float(direct.data), float(fused.data), rtol=1e-12)


def test_probability_losses_clip_like_keras():
    value = losses.get("binary_crossentropy")(np.array([[1.0]]), Tensor(np.array([[0.0]])))
    assert np.isclose(float(value.data), -np.log(1e-7), rtol=1e-6)


def test_per_sample_functions_and_reductions(rng):
    y_true, y_pred = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    per_sample = losses.mean_squared_error(y_true, Tensor(y_pred))
    np.testing.assert_allclose(per_sample.data, ((y_pred - y_true) ** 2).mean(-1))
    assert np.isclose(float(losses.MeanSquaredError(reduction="sum")(y_true, y_pred).data),
                      ((y_pred - y_true) ** 2).mean(-1).sum())
    assert losses.MeanSquaredError(reduction="none")(y_true, y_pred).shape == (5,)


def test_names_aliases_and_functions_resolve():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("MeanAbsoluteError"), losses.MeanAbsoluteError)
    assert isinstance(losses.get(losses.binary_crossentropy), losses.BinaryCrossentropy)
    custom = losses.get(lambda y, p: (p - y).abs().sum(axis=-1))
    assert np.isclose(float(custom(np.zeros((2, 2)), np.ones((2, 2))).data), 2.0)
    with pytest.raises(ValueError, match="Unknown loss: 'msee'. Expected one of"):
        losses.get("msee")


@pytest.mark.parametrize("loss, y, shape, message", [
    ("binary_crossentropy", np.array([0, 2, 1]), (None, 1), r"must lie in \[0, 1\]"),
    ("binary_crossentropy", np.zeros((3, 2)), (None, 1), r"do not fit the model's output shape \(None, 1\)"),
    ("categorical_crossentropy", np.array([0, 2, 1]), (None, 3), "one-hot targets.*sparse_categorical"),
    ("sparse_categorical_crossentropy", np.array([0, 3, 1]), (None, 3), r"labels in \[0, 2\]"),
    ("sparse_categorical_crossentropy", np.array([0.5, 1, 1]), (None, 3), "integer class labels"),
    ("sparse_categorical_crossentropy", np.eye(3), (None, 3), "For one-hot targets use"),
    ("mse", np.array([1.0, np.nan]), (None, 1), "NaN or inf"),
    ("mse", np.array(["a", "b"]), (None, 1), "must be numeric"),
])
def test_targets_that_do_not_fit_the_loss_are_rejected(loss, y, shape, message):
    with pytest.raises(ValueError, match=message):
        losses.get(loss).validate_targets(y, shape)


def test_accuracy_resolves_from_shapes_like_keras():
    binary = metrics.get("accuracy", (4, 1), (4, 1))
    binary.update_state(np.array([[1], [0], [1], [0]]), np.array([[0.9], [0.2], [0.4], [0.6]]))
    assert binary.result() == 0.5 and binary.name == "accuracy"
    sparse = metrics.get("acc", (3,), (3, 2))
    sparse.update_state(np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))
    assert np.isclose(sparse.result(), 2 / 3) and sparse.name == "acc"
    categorical = metrics.get("accuracy", (2, 2), (2, 2))
    categorical.update_state(np.eye(2), np.array([[0.4, 0.6], [0.3, 0.7]]))
    assert categorical.result() == 0.5
    with pytest.raises(ValueError, match="Unknown metric: 'acurracy'"):
        metrics.get("acurracy")


def test_metric_is_a_running_mean_over_samples():
    m = metrics.get("mae")
    m.update_state(np.zeros((3, 1)), np.ones((3, 1)))
    m.update_state(np.zeros((1, 1)), np.full((1, 1), 5.0))
    assert np.isclose(m.result(), (3 * 1 + 5) / 4)


@pytest.mark.parametrize("name, variance", [
    ("glorot_uniform", 2 / (400 + 300)), ("glorot_normal", 2 / (400 + 300)),
    ("he_uniform", 2 / 400), ("he_normal", 2 / 400), ("lecun_normal", 1 / 400),
])
def test_variance_scaling_initializers_have_keras_variances(name, variance):
    values = initializers.get(name)((400, 300))
    assert values.dtype == np.float32
    assert abs(values.var() / variance - 1) < 0.03
    assert abs(values.mean()) < 0.01 * np.sqrt(variance) * 10


def test_simple_initializers():
    assert np.all(initializers.get("zeros")((2, 2)) == 0)
    assert np.all(initializers.Constant(3.0)((2,)) == 3)
    normal = initializers.TruncatedNormal(stddev=1.0, seed=3)((10000,))
    assert np.abs(normal).max() <= 2.0
    uniform = initializers.RandomUniform(-1, 2, seed=1)((5000,))
    assert uniform.min() >= -1 and uniform.max() <= 2
    np.testing.assert_array_equal(initializers.RandomNormal(seed=7)((3,)), initializers.RandomNormal(seed=7)((3,)))
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot'"):
        initializers.get("glorot")


def test_regularizer_penalties():
    w = Tensor(np.array([[1.0, -2.0], [3.0, 0.0]]), requires_grad=True)
    assert np.isclose(float(regularizers.l2(0.1)(w).data), 0.1 * 14)
    assert np.isclose(float(regularizers.l1(0.1)(w).data), 0.1 * 6)
    penalty = regularizers.l1_l2(l1=0.1, l2=0.01)(w)
    assert np.isclose(float(penalty.data), 0.6 + 0.14)
    penalty.backward()
    np.testing.assert_allclose(w.grad, 0.1 * np.sign(w.data) + 0.02 * w.data)
    with pytest.raises(ValueError, match="l2 must be a non-negative number"):
        regularizers.l2(-1.0)
