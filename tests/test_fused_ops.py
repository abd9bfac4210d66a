"""Fused hot-path operations against PyTorch, finite differences and the seeds' formulas."""

import warnings

import numpy as np
import pytest

from deepfin import Tensor
from deepfin.engine import functions, fused
from tests.oracle import deepfin_value_and_grads, numeric_grad, rel_error, torch_value_and_grads

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
@pytest.mark.parametrize("shapes", [
    [(6, 4), (4, 3), (3,)],          # one model
    [(6, 4), (5, 4, 3), (5, 1, 3)],  # five stacked models sharing the input
    [(5, 6, 4), (5, 4, 3), (5, 1, 3)],  # five models, each with its own batch
])
def test_dense_matches_torch_and_finite_differences(activation, shapes, rng):
    arrays = [rng.standard_normal(s) for s in shapes]
    act = {None: lambda z: z, "relu": torch.relu, "tanh": torch.tanh}[activation]
    upstream = rng.standard_normal(np.broadcast_shapes(shapes[0][:-1] + (1,), shapes[1][:-2] + (1, 1))[:-1] + (3,))
    value, grads = deepfin_value_and_grads(lambda x, k, b: fused.dense(x, k, b, activation), arrays, upstream)
    t_value, t_grads = torch_value_and_grads(lambda x, k, b: act(x @ k + b), arrays, upstream)
    assert rel_error(value, t_value) < 1e-12
    for i, (g, tg) in enumerate(zip(grads, t_grads)):
        assert g.shape == shapes[i]
        assert rel_error(g, tg) < 1e-10

        def weighted(*a):
            return upstream * fused.dense(*[Tensor(v) for v in a], activation).data

        assert rel_error(g, numeric_grad(weighted, [a.copy() for a in arrays], i)) < 1e-6


def test_dense_skips_the_input_gradient_for_data(rng):
    x = Tensor(rng.standard_normal((4, 3)))
    k = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    fused.dense(x, k, None, "relu").sum().backward()
    assert x.grad is None and k.grad.shape == (3, 2)


def test_dense_rejects_an_activation_it_cannot_fuse():
    with pytest.raises(ValueError, match="fuses only"):
        fused.dense(Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2))), None, "softmax")


def test_dropout_is_inverted_and_its_gradient_uses_the_same_mask(rng):
    x = Tensor(np.ones((2000, 50)), requires_grad=True)
    out = functions.dropout(x, 0.3, np.random.default_rng(0))
    kept = out.data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out.data[kept], 1 / 0.7)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


LOSS_CASES = {
    "binary": (
        lambda z, y: fused.sigmoid_binary_crossentropy(z, y),
        lambda z, y: torch.nn.functional.binary_cross_entropy_with_logits(z, y),
        lambda rng: (rng.standard_normal((8, 3)), (rng.random((8, 3)) > 0.5).astype(float)),
    ),
    "categorical": (
        lambda z, y: fused.softmax_categorical_crossentropy(z, y),
        lambda z, y: torch.nn.functional.cross_entropy(z, y),
        lambda rng: (rng.standard_normal((8, 4)), np.eye(4)[rng.integers(0, 4, 8)]),
    ),
    "categorical_soft_labels": (
        lambda z, y: fused.softmax_categorical_crossentropy(z, y),
        lambda z, y: torch.nn.functional.cross_entropy(z, y),
        lambda rng: (rng.standard_normal((8, 4)), rng.dirichlet(np.ones(4), 8)),
    ),
    "sparse": (
        lambda z, y: fused.softmax_sparse_categorical_crossentropy(z, y),
        lambda z, y: torch.nn.functional.cross_entropy(z, torch.as_tensor(y).long()),
        lambda rng: (rng.standard_normal((8, 4)), rng.integers(0, 4, 8)),
    ),
}


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_fused_losses_match_torch(name, rng):
    fn, torch_fn, sample = LOSS_CASES[name]
    z, y = sample(rng)
    zt = Tensor(z.copy(), requires_grad=True)
    loss = fn(zt, y)
    loss.backward()
    zz = torch.tensor(z, requires_grad=True)
    tloss = torch_fn(zz, torch.tensor(y) if name != "sparse" else y)
    tloss.backward()
    assert abs(float(loss.data) - tloss.item()) < 1e-12
    assert rel_error(zt.grad, zz.grad.numpy()) < 1e-10


def test_matched_output_and_loss_give_y_hat_minus_y(rng):
    """The seeds' derivation: d(loss)/d(logits) = (y_hat - y) / n."""
    z, y = rng.standard_normal((5, 1)), np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
    zt = Tensor(z, requires_grad=True)
    fused.sigmoid_binary_crossentropy(zt, y).backward()
    np.testing.assert_allclose(zt.grad, (1 / (1 + np.exp(-z)) - y) / 5, rtol=1e-12)
    z, labels = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    zt = Tensor(z, requires_grad=True)
    fused.softmax_categorical_crossentropy(zt, np.eye(3)[labels]).backward()
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(zt.grad, (p - np.eye(3)[labels]) / 5, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_losses_are_finite_for_extreme_logits(dtype):
    z = np.array([[-1e4], [1e4], [-50.0], [50.0]], dtype)
    y = np.array([[1.0], [0.0], [0.0], [1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zt = Tensor(z, requires_grad=True)
        loss = fused.sigmoid_binary_crossentropy(zt, y)
        loss.backward()
        # two confidently wrong samples of 1e4 each, two right ones of ~e^-50
        assert np.isclose(float(loss.data), (2e4 + 2 * np.log1p(np.exp(-50.0))) / 4, rtol=1e-6)
        np.testing.assert_allclose(zt.grad, [[-0.25], [0.25], [0.0], [0.0]], atol=1e-12)
        zc = Tensor(np.array([[1e4, -1e4, 0.0]], dtype), requires_grad=True)
        loss = fused.softmax_sparse_categorical_crossentropy(zc, [1])
        loss.backward()
        assert np.isclose(float(loss.data), 2e4, rtol=1e-6) and np.all(np.isfinite(zc.grad))


def test_sample_weights_follow_keras_sum_over_batch_size(rng):
    z, y, w = rng.standard_normal((6, 1)), (rng.random((6, 1)) > 0.5) * 1.0, rng.random(6)
    per_sample = np.logaddexp(0, z[:, 0]) - z[:, 0] * y[:, 0]
    zt = Tensor(z, requires_grad=True)
    loss = fused.sigmoid_binary_crossentropy(zt, y, sample_weight=w)
    assert np.isclose(float(loss.data), np.sum(per_sample * w) / 6)
    loss.backward()
    np.testing.assert_allclose(zt.grad[:, 0], (1 / (1 + np.exp(-z[:, 0])) - y[:, 0]) * w / 6)
