"""The engine's sharp edges (issue 15): truth values and membership, gradient ownership, dtypes at the
boundary, the optimizer state a model file keeps, and data of 0 samples."""

import io
import zipfile

import numpy as np
import pytest

import deepfin
from deepfin import layers, optimizers
from deepfin.engine import fused
from deepfin.engine import tensor as tensor_module
from deepfin.engine.tensor import Tensor
from deepfin.tuning.stacked import fit_stack


# ------------------------------------------------------------ truth value and membership (PyTorch's rules)
def test_truth_value_of_one_element_is_its_value():
    assert bool(Tensor(2.0)) and not bool(Tensor([[0.0]]))
    assert Tensor([3.0]) > 2.0


@pytest.mark.parametrize("data, what", [(np.ones(3), "more than one element"), (np.ones((0, 2)), "empty")])
def test_truth_value_of_other_sizes_is_an_error(data, what):
    with pytest.raises(ValueError, match=rf"truth value of .*{what}.*Use \.any\(\) or \.all\(\)"):
        bool(Tensor(data))
    with pytest.raises(ValueError, match="ambiguous"):
        if Tensor(data) == Tensor(data):
            pass


def test_membership_is_identity_then_value_as_in_pytorch():
    x, y = Tensor(np.ones(3)), Tensor(np.ones(3))
    assert x in [x] and [x, y].index(x) == 0  # identity comes first, as Python's `in` does
    with pytest.raises(ValueError, match="ambiguous"):  # torch: "Boolean value of Tensor ... is ambiguous"
        x in [y]  # noqa: B015
    assert Tensor([1.0]) in [Tensor([1.0])] and Tensor([1.0]) not in [Tensor([0.0])]  # one element: its value
    assert len({x, y}) == 2 and {x: 1, y: 2}[y] == 2  # hashing by identity
    assert not (x == None) and (x != None) and x not in [None, "x"]  # noqa: E711


def test_any_and_all():
    t = Tensor([[0.0, 1.0], [0.0, 0.0]])
    assert t.any() and not t.all()
    np.testing.assert_array_equal(t.any(axis=1).data, [True, False])
    assert t.all(axis=0, keepdims=True).shape == (1, 2) and t.any().dtype == bool


def test_models_of_equal_weights_keep_them_apart(tmp_path):
    """Layers, optimizers and saving tell weights apart by identity, not by value."""
    model = deepfin.Sequential([layers.Input((3,)), layers.Dense(2, kernel_initializer="zeros"),
                                layers.Dense(2, kernel_initializer="zeros"), layers.Dense(1)])
    model.compile("adam", "mse")
    assert len(model.weights) == 6 and len(model.trainable_weights) == 6
    x, y = np.ones((4, 3)), np.ones((4, 1))
    model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    loaded = deepfin.models.load_model(tmp_path / "m.keras")
    assert all(np.array_equal(a.data, b.data) for a, b in zip(model.weights, loaded.weights))


# ------------------------------------------------------------ every leaf owns its .grad
def _leaves(*shapes):
    return [Tensor(np.arange(np.prod(s), dtype=np.float32).reshape(s), requires_grad=True) for s in shapes]


def test_leaves_of_one_add_get_their_own_grads():
    a, b = _leaves((2, 3), (2, 3))
    g = np.full((2, 3), 2.0, np.float32)
    (a + b).backward(g)
    assert a.grad is not b.grad and a.grad is not g and b.grad is not g
    assert not np.shares_memory(a.grad, b.grad) and not np.shares_memory(a.grad, g)
    a.grad *= 10  # accumulating into one leaf's grad leaves the others alone
    np.testing.assert_array_equal(b.grad, 2.0)
    np.testing.assert_array_equal(g, 2.0)


def test_a_leaf_as_the_root_does_not_keep_the_callers_grad():
    (a,) = _leaves((3,))
    g = np.ones(3, np.float32)
    a.backward(g)
    assert a.grad is not g and not np.shares_memory(a.grad, g)
    a.backward(g)  # accumulates: a fresh sum, g untouched
    np.testing.assert_array_equal(a.grad, 2.0)
    np.testing.assert_array_equal(g, 1.0)


def test_a_fused_dense_bias_grad_is_not_shared_with_a_sibling_leaf():
    x, kernel, bias, c = _leaves((2, 3), (3, 4), (2, 4), (2, 4))  # a bias of the output's shape gets g itself
    g = np.ones((2, 4), np.float32)
    (fused.dense(x, kernel, bias) + c).backward(g)
    grads = [x.grad, kernel.grad, bias.grad, c.grad]
    assert all(not np.shares_memory(u, v) for i, u in enumerate(grads) for v in grads[i + 1:] + [g])
    np.testing.assert_array_equal(bias.grad, 1.0)


def test_a_leaf_used_twice_sums_its_gradients():
    (a,) = _leaves((3,))
    (a + a).backward(np.ones(3, np.float32))
    np.testing.assert_array_equal(a.grad, 2.0)


# ------------------------------------------------------------ dtypes at the boundary
def test_a_float64_array_meeting_a_float32_tensor_takes_its_dtype():
    (a,) = _leaves((2, 3))
    scale = np.linspace(1, 2, 3)  # float64
    for out in (a * scale, scale * a, a + scale, scale - a, a / scale, scale / (a + 1), a ** np.float64(2.0)):
        assert out.dtype == np.float32
    (a * scale).sum().backward()
    assert a.grad.dtype == np.float32
    np.testing.assert_allclose(a.grad, np.broadcast_to(scale, (2, 3)), rtol=1e-6)
    # two tensors follow NumPy and PyTorch: float32 with float64 is float64
    assert (a + Tensor(np.ones(3))).dtype == np.float64


def test_an_integer_tensor_times_a_float_is_not_truncated():
    i = Tensor(np.array([1, 2, 3]), dtype=np.int64)
    for out in (i * 1.5, 1.5 * i):
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out.data, [1.5, 3.0, 4.5])
    mask = Tensor(np.array([1.0, -1.0])) > 0  # boolean
    np.testing.assert_array_equal((mask * 0.5).data, [0.5, 0.0])
    assert (i * 2).dtype == np.int64 and (i - 1).data.tolist() == [0, 1, 2]  # integers stay integers
    assert (Tensor(np.array([1, 2], np.int32), dtype=np.int32) * 3).dtype == np.int32
    assert (i / 2).dtype == np.float32 and (i ** 0.5).dtype == np.float32
    with pytest.raises(TypeError, match="needs numbers"):
        Tensor(np.ones(2)) + "a"


class Scale(layers.Layer):
    """Multiplies by a fixed float64 NumPy array, as a user's layer might."""

    def call(self, x):
        return x * np.linspace(0.5, 1.5, x.shape[-1])


def _float64_model():
    deepfin.utils.set_random_seed(3)
    model = deepfin.Sequential([layers.Input((5,)), Scale(), layers.Dense(8, activation="relu"),
                                layers.Dropout(0.1), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizers.Adam(0.01), "binary_crossentropy")
    return model


def test_a_float32_model_trained_on_float64_data_stays_float32(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 5)), (rng.random((40, 1)) > 0.5).astype(np.float64)
    w = rng.random(40)
    made, reached = [], []
    real_make, real_accumulate = Tensor.from_op, tensor_module._accumulate_leaf

    def make(data, parents, backward, **settings):
        made.append(data.dtype)
        return real_make(data, parents, lambda g: _checked(backward(g)), **settings)

    def _checked(grads):
        reached.extend(g.dtype for g in grads if g is not None)
        return grads

    def accumulate(leaf, g, *args):
        reached.append(g.dtype)
        return real_accumulate(leaf, g, *args)

    monkeypatch.setattr(Tensor, "from_op", staticmethod(make))
    monkeypatch.setattr(tensor_module, "_accumulate_leaf", accumulate)
    model = _float64_model()
    for step in range(3):
        model.train_on_batch(x[step * 10:(step + 1) * 10], y[step * 10:(step + 1) * 10],
                             sample_weight=w[step * 10:(step + 1) * 10])
        assert set(made) == {np.dtype(np.float32)} and set(reached) == {np.dtype(np.float32)}
        assert all(v.grad.dtype == np.float32 for v in model.trainable_weights)
        assert all(a.dtype == np.float32 for s in model.optimizer.state_slots() for a in s.values())
    model.fit(x, y, sample_weight=w, batch_size=10, epochs=1, verbose=0)
    assert made and reached and set(made) == {np.dtype(np.float32)} and set(reached) == {np.dtype(np.float32)}
    monkeypatch.undo()

    other = _float64_model()  # the same training on float32-cast data ends at the same weights
    x32, y32, w32 = x.astype(np.float32), y.astype(np.float32), w.astype(np.float32)
    for step in range(3):
        other.train_on_batch(x32[step * 10:(step + 1) * 10], y32[step * 10:(step + 1) * 10],
                             sample_weight=w32[step * 10:(step + 1) * 10])
    other.fit(x32, y32, sample_weight=w32, batch_size=10, epochs=1, verbose=0)
    assert all(np.array_equal(a.data, b.data) for a, b in zip(model.weights, other.weights))


# ------------------------------------------------------------ the optimizer state a model file keeps
STATE = [  # our slot names per variable; Keras 3's are momentum, velocity, velocity_hat, accumulated_delta_var
    (optimizers.SGD(), set()),
    (optimizers.SGD(momentum=0.9, nesterov=True), {"momentum"}),
    (optimizers.Adam(), {"m", "v"}),
    (optimizers.Adam(amsgrad=True), {"m", "v", "v_hat"}),
    (optimizers.RMSprop(), {"velocity"}),
    (optimizers.RMSprop(momentum=0.5, centered=True), {"velocity", "momentum", "average_gradient"}),
    (optimizers.Adagrad(), {"accumulator"}),
    (optimizers.Adadelta(), {"accumulated_grad", "accumulated_delta"}),
]
IDS = ["sgd", "sgd-momentum", "adam", "adam-amsgrad", "rmsprop", "rmsprop-centered", "adagrad", "adadelta"]


def _model(optimizer):
    deepfin.utils.set_random_seed(1)
    model = deepfin.Sequential([layers.Input((4,)), layers.Dense(5, activation="relu"),
                                layers.Dense(40_000 // 5, activation="tanh"), layers.Dense(1)])  # packed and not
    model.compile(optimizers.get(optimizers.serialize(optimizer)), "mse")
    return model


def _optimizer_members(path) -> dict[str, bytes]:
    """optimizer.npz of a model file, member by member (the zip's own timestamps left out)."""
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(io.BytesIO(archive.read("optimizer.npz"))) as npz:
        return {name: npz.read(name) for name in npz.namelist()}


@pytest.mark.parametrize("optimizer, names", STATE, ids=IDS)
def test_saved_optimizer_state_is_the_state_alone(optimizer, names, tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)), rng.standard_normal((64, 1))
    model = _model(optimizer)
    model.fit(x[:32], y[:32], batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "a.keras")
    members = _optimizer_members(tmp_path / "a.keras")
    slots = {name.removesuffix(".npy") for name in members} - {"iterations", "variables"}
    assert slots == {f"{i:04d}/{n}" for i in range(len(model.weights)) for n in names}

    loaded = deepfin.models.load_model(tmp_path / "a.keras")  # resumes bit for bit
    model.fit(x[32:], y[32:], batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x[32:], y[32:], batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert all(np.array_equal(a.data, b.data) for a, b in zip(model.weights, loaded.weights))


@pytest.mark.parametrize("optimizer, names", STATE, ids=IDS)
def test_saved_optimizer_state_does_not_depend_on_scratch_memory(optimizer, names, tmp_path, monkeypatch):
    garbage = np.random.default_rng(7)

    def empty_like(a, *args, **kwargs):  # np.empty's memory holds whatever was there before
        return np.full_like(a, garbage.standard_normal())

    monkeypatch.setattr(np, "empty_like", empty_like)
    model = _model(optimizer)
    saved = []
    for name in ("a.keras", "b.keras"):
        model.optimizer.build(model.trainable_weights)  # fresh state, fresh work buffers
        model.save(tmp_path / name)
        saved.append(_optimizer_members(tmp_path / name))
    assert saved[0] == saved[1]


# ------------------------------------------------------------ data of 0 samples
@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch", "predict"])
def test_no_samples_are_refused_before_any_work(method):
    model = deepfin.Sequential([layers.Dense(3), layers.Dense(1)])  # built by the first data it sees
    model.compile("adam", "mse")
    args = (np.zeros((0, 4)),) if method == "predict" else (np.zeros((0, 4)), np.zeros((0, 1)))
    with pytest.raises(ValueError, match=rf"^x has 0 samples; {method}\(\) needs at least one\.$"):
        getattr(model, method)(*args)
    assert not model.built


def test_no_validation_or_training_samples_are_refused():
    model = deepfin.Sequential([layers.Input((4,)), layers.Dense(1)])
    model.compile("adam", "mse")
    x, y = np.zeros((5, 4)), np.zeros((5, 1))
    with pytest.raises(ValueError, match=r"^validation_x has 0 samples; fit\(\) needs at least one"):
        model.fit(x, y, validation_data=(x[:0], y[:0]), verbose=0)
    with pytest.raises(ValueError, match=r"validation_split=0.5 leaves 0 training and 1 validation"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)


def test_a_stack_refuses_no_samples():
    models = []
    for _ in range(2):
        model = deepfin.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"),
                                    layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy")
        models.append(model)
    with pytest.raises(ValueError, match=r"^x has 0 samples; fit\(\) needs at least one"):
        fit_stack(models, np.zeros((0, 4)), np.zeros((0, 1)))
