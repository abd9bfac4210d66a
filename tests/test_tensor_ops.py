"""Every Tensor operation against finite differences and PyTorch autograd, in float64."""

import numpy as np
import pytest

from deepfin import Tensor, no_grad
from deepfin.engine import functions
from tests.oracle import deepfin_value_and_grads, numeric_grad, rel_error, torch_value_and_grads

torch = pytest.importorskip("torch")
F = torch.nn.functional

# name: (deepfin function, torch function, input shapes, input sampler)
positive = "positive"
CASES = {
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)], None),
    "sub_broadcast": (lambda a, b: a - b, lambda a, b: a - b, [(2, 1, 4), (3, 1)], None),
    "mul_broadcast": (lambda a, b: a * b, lambda a, b: a * b, [(3, 4), (3, 1)], None),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (1, 4)], positive),
    "pow_scalar": (lambda a: a ** 3, lambda a: a ** 3, [(5,)], None),
    "pow_tensor": (lambda a, b: a ** b, lambda a, b: a ** b, [(4,), (4,)], positive),
    "neg": (lambda a: -a, lambda a: -a, [(2, 3)], None),
    "rsub_rdiv": (lambda a: 2.0 - 3.0 / a, lambda a: 2.0 - 3.0 / a, [(4,)], positive),
    "matmul_2d": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)], None),
    "matmul_batched_broadcast": (lambda a, b: a @ b, lambda a, b: a @ b, [(5, 4), (2, 4, 3)], None),
    "matmul_vector_right": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)], None),
    "matmul_vector_left": (lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (2, 4, 3)], None),
    "sum_all": (lambda a: a.sum(), lambda a: a.sum(), [(3, 4)], None),
    "sum_axis": (lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), [(3, 4, 2)], None),
    "sum_keepdims": (lambda a: a.sum(axis=(0, 2), keepdims=True),
                     lambda a: a.sum(dim=(0, 2), keepdim=True), [(3, 4, 2)], None),
    "mean_axis": (lambda a: a.mean(axis=-1), lambda a: a.mean(dim=-1), [(3, 4)], None),
    "mean_all": (lambda a: a.mean(), lambda a: a.mean(), [(3, 4)], None),
    "max_axis": (lambda a: a.max(axis=1), lambda a: a.amax(dim=1), [(3, 5)], None),
    "max_keepdims": (lambda a: a.max(axis=0, keepdims=True), lambda a: a.amax(dim=0, keepdim=True),
                     [(4, 3)], None),
    "reshape": (lambda a: a.reshape(6, 2) * Tensor(np.arange(12.0).reshape(6, 2)),
                lambda a: a.reshape(6, 2) * torch.arange(12.0, dtype=torch.float64).reshape(6, 2),
                [(3, 4)], None),
    "transpose_T": (lambda a: a.T @ a, lambda a: a.T @ a, [(3, 4)], None),
    "transpose_axes": (lambda a: a.transpose(2, 0, 1), lambda a: a.permute(2, 0, 1), [(2, 3, 4)], None),
    "getitem_slice": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(4, 5)], None),
    "getitem_repeated_index": (lambda a: a[np.array([0, 2, 0, 0])],
                               lambda a: a[torch.tensor([0, 2, 0, 0])], [(3, 2)], None),
    "exp": (lambda a: a.exp(), torch.exp, [(3, 4)], None),
    "log": (lambda a: a.log(), torch.log, [(3, 4)], positive),
    "sqrt": (lambda a: a.sqrt(), torch.sqrt, [(3, 4)], positive),
    "abs": (lambda a: a.abs(), torch.abs, [(3, 4)], None),
    "clip": (lambda a: a.clip(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), [(4, 5)], None),
    "tanh": (lambda a: a.tanh(), torch.tanh, [(3, 4)], None),
    "sigmoid": (lambda a: a.sigmoid(), torch.sigmoid, [(3, 4)], None),
    "relu": (lambda a: a.relu(), torch.relu, [(3, 4)], None),
    "leaky_relu": (lambda a: a.leaky_relu(0.3), lambda a: F.leaky_relu(a, 0.3), [(3, 4)], None),
    "elu": (lambda a: a.elu(0.7), lambda a: F.elu(a, 0.7), [(3, 4)], None),
    "softplus": (lambda a: a.softplus(), F.softplus, [(3, 4)], None),
    "softmax": (lambda a: a.softmax(), lambda a: torch.softmax(a, -1), [(3, 4)], None),
    "softmax_axis0": (lambda a: a.softmax(axis=0), lambda a: torch.softmax(a, 0), [(3, 4)], None),
    "log_softmax": (lambda a: a.log_softmax(), lambda a: torch.log_softmax(a, -1), [(3, 4)], None),
    "square": (functions.square, torch.square, [(3, 4)], None),
    "reuse_one_tensor": (lambda a: a * a + a.exp() * a, lambda a: a * a + a.exp() * a, [(3, 2)], None),
    "chain": (lambda a, b: ((a @ b).tanh() * 2.0).sum(axis=0).softmax(),
              lambda a, b: torch.softmax(((a @ b).tanh() * 2.0).sum(0), -1), [(3, 4), (4, 2)], None),
}


def _inputs(shapes, sampler, rng):
    arrays = [rng.standard_normal(s) for s in shapes]
    if sampler == positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    else:  # keep away from kinks (relu, abs, clip) where finite differences are undefined
        arrays = [np.where(np.abs(a) < 0.05, a + 0.2, a) for a in arrays]
        arrays = [np.where(np.abs(np.abs(a) - 0.5) < 0.05, a + 0.2, a) for a in arrays]
        arrays = [np.where(np.abs(a - 0.7) < 0.05, a + 0.2, a) for a in arrays]
    return arrays


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_torch_and_finite_differences(name, rng):
    fn, torch_fn, shapes, sampler = CASES[name]
    arrays = _inputs(shapes, sampler, rng)
    value, grads = deepfin_value_and_grads(fn, arrays)
    upstream = rng.standard_normal(value.shape)  # a non-uniform upstream gradient
    value, grads = deepfin_value_and_grads(fn, arrays, upstream)
    t_value, t_grads = torch_value_and_grads(torch_fn, arrays, upstream)
    assert value.shape == t_value.shape
    assert rel_error(value, t_value) < 1e-12
    for i, (g, tg) in enumerate(zip(grads, t_grads)):
        assert g.shape == arrays[i].shape
        assert rel_error(g, tg) < 1e-10, f"input {i}"

        def weighted(*a):
            with no_grad():
                return upstream * fn(*[Tensor(x) for x in a]).data

        assert rel_error(g, numeric_grad(weighted, [a.copy() for a in arrays], i)) < 1e-6


def test_gradients_accumulate_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0 + 2.0, 3.0 + 4.0])


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, 1.0001**20_000), rtol=1e-9)


def test_no_grad_records_nothing():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    with no_grad():
        out = (w @ w).sum()
    assert not out.requires_grad and out._parents == ()
    with pytest.raises(RuntimeError, match="does not require gradients"):
        out.backward()


def test_comparisons_give_boolean_tensors_without_gradient():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    assert (x > 0).data.tolist() == [False, False, True]
    assert (x <= 0).data.tolist() == [True, True, False]
    assert (x == 0).data.tolist() == [False, True, False]
    assert not (x > 0).requires_grad


def test_float32_stays_float32():
    x = Tensor(np.ones((4, 3), np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    out = ((x @ w) * 2.5 + 1).sigmoid().log_softmax().sum() / 3
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_constructor_rules():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.zeros(2, np.float64)).dtype == np.float64
    with pytest.raises(TypeError, match="numeric"):
        Tensor(np.array(["a"]))
    with pytest.raises(TypeError, match="float"):
        Tensor(np.array([1, 2]), requires_grad=True, dtype=np.int64)


def test_backward_needs_a_scalar_or_an_explicit_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="single-element"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match="shape"):
        (x * 2.0).backward(np.ones(4))


def test_step_activation_is_forward_only():
    x = Tensor(np.array([-1.0, 0.0, 0.5]), requires_grad=True)
    out = functions.step(x)
    assert out.data.tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(RuntimeError, match="no useful gradient"):
        out.sum().backward()


@pytest.mark.parametrize("bad", [(None, None), (1.0, -1.0)])
def test_clip_rejects_bad_bounds(bad):
    with pytest.raises(ValueError, match="clip"):
        Tensor(np.ones(2)).clip(*bad)
