"""Optimizer trajectories against Keras 3's update formulas, written out here independently."""

import math

import numpy as np
import pytest

from deepfin import Variable, backend, optimizers

STEPS = 200


def keras_sgd(lr=0.01, momentum=0.0, nesterov=False):
    def step(w, g, state, t):
        if not momentum:
            return w - lr * g
        m = state.get("m", np.zeros_like(w))
        m = momentum * m - lr * g
        state["m"] = m
        return w + (momentum * m - lr * g if nesterov else m)
    return step


def keras_adagrad(lr=0.001, initial=0.1, eps=1e-7):
    def step(w, g, state, t):
        a = state.get("a", np.full_like(w, initial)) + g * g
        state["a"] = a
        return w - lr * g / np.sqrt(a + eps)
    return step


def keras_rmsprop(lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def step(w, g, state, t):
        v = rho * state.get("v", np.zeros_like(w)) + (1 - rho) * g * g
        state["v"] = v
        if centered:
            avg = rho * state.get("avg", np.zeros_like(w)) + (1 - rho) * g
            state["avg"] = avg
            denominator = v - avg * avg + eps
        else:
            denominator = v + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum:
            m = momentum * state.get("m", np.zeros_like(w)) + increment
            state["m"] = m
            return w - m
        return w - increment
    return step


def keras_adadelta(lr=0.001, rho=0.95, eps=1e-7):
    def step(w, g, state, t):
        acc_grad = rho * state.get("acc_grad", np.zeros_like(w)) + (1 - rho) * g * g
        delta = -np.sqrt(state.get("acc_delta", np.zeros_like(w)) + eps) * g / np.sqrt(acc_grad + eps)
        state["acc_grad"] = acc_grad
        state["acc_delta"] = rho * state.get("acc_delta", np.zeros_like(w)) + (1 - rho) * delta * delta
        return w + lr * delta
    return step


def keras_adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    def step(w, g, state, t):
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        m = state.get("m", np.zeros_like(w))
        v = state.get("v", np.zeros_like(w))
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        state["m"], state["v"] = m, v
        if amsgrad:
            v = np.maximum(state.get("vhat", np.zeros_like(w)), v)
            state["vhat"] = v
        return w - m * alpha / (np.sqrt(v) + eps)
    return step


CASES = {
    "sgd": (optimizers.SGD, {}, keras_sgd()),
    "sgd_lr_alias": (optimizers.SGD, {"lr": 0.5}, keras_sgd(lr=0.5)),
    "sgd_momentum": (optimizers.SGD, {"learning_rate": 0.05, "momentum": 0.9}, keras_sgd(0.05, 0.9)),
    "sgd_nesterov": (optimizers.SGD, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
                     keras_sgd(0.05, 0.9, True)),
    "adagrad": (optimizers.Adagrad, {"learning_rate": 0.1}, keras_adagrad(0.1)),
    "adadelta": (optimizers.Adadelta, {}, keras_adadelta()),
    "adadelta_lr_rho_epsilon": (optimizers.Adadelta, {"lr": 1.0, "rho": 0.9, "epsilon": 1e-5},
                                keras_adadelta(1.0, 0.9, 1e-5)),
    "rmsprop": (optimizers.RMSprop, {}, keras_rmsprop()),
    "rmsprop_momentum_centered": (optimizers.RMSprop, {"momentum": 0.5, "centered": True, "rho": 0.8},
                                  keras_rmsprop(rho=0.8, momentum=0.5, centered=True)),
    "adam": (optimizers.Adam, {"learning_rate": 0.01}, keras_adam(0.01)),
    "adam_amsgrad": (optimizers.Adam, {"learning_rate": 0.01, "amsgrad": True, "beta_2": 0.9},
                     keras_adam(0.01, b2=0.9, amsgrad=True)),
}
# small variables are packed into one buffer; the large one is updated on its own
SHAPES = [(3, 4), (4,), (1,), (200, 200)]


@pytest.fixture(params=[True, False], ids=["compiled", "numpy"])
def update_path(request):
    """Each optimizer both ways: its compiled loop (``optimizers.compiled``) and its NumPy ``update_step``."""
    previous = backend.compiled()
    backend.set_compiled(request.param)
    yield request.param
    backend.set_compiled(previous)


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_keras_formulas(name, rng, update_path):
    cls, kwargs, reference = CASES[name]
    initial = [rng.standard_normal(s) for s in SHAPES]
    variables = [Variable(w.copy(), name=f"w{i}") for i, w in enumerate(initial)]
    optimizer = cls(**kwargs)
    expected = [w.copy() for w in initial]
    states = [{} for _ in SHAPES]
    for t in range(1, STEPS + 1):
        grads = [rng.standard_normal(s) * (1 + 0.5 * np.sin(t)) for s in SHAPES]
        optimizer.apply(grads, variables)
        expected = [reference(w, g, st, t) for w, g, st in zip(expected, grads, states)]
    assert optimizer.iterations == STEPS
    for v, e in zip(variables, expected):
        np.testing.assert_allclose(v.data, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", [optimizers.Adam, optimizers.Adadelta])
def test_float32_updates_stay_float32(cls, rng):
    variables = [Variable(rng.standard_normal((3, 3)).astype(np.float32)) for _ in range(2)]
    opt = cls()
    for _ in range(3):
        opt.apply([np.ones((3, 3), np.float32)] * 2, variables)
    assert all(v.dtype == np.float32 for v in variables)
    assert all(s.dtype == np.float32 for slots in opt._slots for s in slots.values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_compiled_update_rounds_as_numpy_does(name, rng):
    """The compiled loop and the NumPy formulas agree on float32 variables to float32 rounding, step by step."""
    cls, kwargs, _ = CASES[name]
    initial = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[(rng.standard_normal(s) * (1 + np.sin(t))).astype(np.float32) for s in SHAPES] for t in range(50)]
    trained, previous = [], backend.compiled()
    for compiled in (True, False):
        backend.set_compiled(compiled)
        variables = [Variable(w.copy()) for w in initial]
        optimizer = cls(**kwargs)
        for step in grads:
            optimizer.apply(step, variables)
        trained.append([v.data for v in variables])
    backend.set_compiled(previous)
    for compiled, numpy in zip(*trained):
        assert compiled.dtype == np.float32
        np.testing.assert_allclose(compiled, numpy, rtol=1e-5, atol=1e-6)


def test_a_subclass_with_its_own_update_step_runs_it():
    """A subclass that writes its own ``update_step`` has no compiled form: its formula runs, not Adam's loop."""
    class SignAdam(optimizers.Adam):
        def update_step(self, grad, var, lr, slots):
            var -= lr * np.sign(grad)

    assert optimizers.Adam().compiled_form() is not None and SignAdam().compiled_form() is None
    variables = [Variable(np.zeros(3)), Variable(np.zeros(2)), Variable(np.zeros((200, 200)))]
    SignAdam(learning_rate=0.5).apply([np.full(3, 2.0), np.full(2, -3.0), np.ones((200, 200))], variables)
    np.testing.assert_array_equal(variables[0].data, -0.5)
    np.testing.assert_array_equal(variables[1].data, 0.5)
    np.testing.assert_array_equal(variables[2].data, -0.5)


def test_packed_variables_follow_set_weights_and_rebinding():
    a, b = Variable(np.zeros(3)), Variable(np.zeros(2))
    opt = optimizers.SGD(learning_rate=1.0)
    opt.apply([np.ones(3), np.ones(2)], [a, b])
    a.assign(np.full(3, 10.0))          # in place: the packed buffer sees it
    b.data = np.full(2, 5.0)            # rebound from outside: taken back into the buffer
    opt.apply([np.ones(3), np.ones(2)], [a, b])
    np.testing.assert_allclose(a.data, 9.0)
    np.testing.assert_allclose(b.data, 4.0)


def test_partial_gradients_update_only_their_variables():
    a, b = Variable(np.zeros(3)), Variable(np.zeros(2))
    opt = optimizers.SGD(learning_rate=1.0)
    opt.build([a, b])
    opt.apply([np.ones(2)], [b])
    np.testing.assert_allclose(a.data, 0.0)
    np.testing.assert_allclose(b.data, -1.0)


@pytest.mark.parametrize("clip, expected", [
    ({"clipvalue": 0.5}, [-0.5, 0.5]),
    ({"clipnorm": 1.0}, [-0.6, 0.8]),
    ({"global_clipnorm": 1.0}, [-0.6, 0.8]),
])
def test_gradient_clipping(clip, expected):
    w = Variable(np.zeros(2))
    optimizers.SGD(learning_rate=1.0, **clip).apply([np.array([3.0, -4.0])], [w])
    np.testing.assert_allclose(w.data, expected)


def test_learning_rate_schedule_and_setter():
    w = Variable(np.zeros(1))
    opt = optimizers.SGD(learning_rate=lambda step: 1.0 / (step + 1))
    for _ in range(3):
        opt.apply([np.ones(1)], [w])
    np.testing.assert_allclose(w.data, -(1 + 1 / 2 + 1 / 3))
    opt = optimizers.Adam()
    opt.lr = 0.5
    assert opt.learning_rate == 0.5 and isinstance(opt.learning_rate, float)


def test_lookup_by_name_with_keras_defaults():
    assert optimizers.get("sgd").learning_rate == 0.01
    assert optimizers.get("Adam").epsilon == 1e-7
    assert optimizers.get("rmsprop").rho == 0.9
    assert optimizers.get("adagrad").initial_accumulator_value == 0.1
    for name in ("adadelta", "Adadelta"):
        adadelta = optimizers.get(name)
        assert isinstance(adadelta, optimizers.Adadelta)
        assert (adadelta.learning_rate, adadelta.rho, adadelta.epsilon) == (0.001, 0.95, 1e-7)
    config = optimizers.serialize(optimizers.Adadelta(learning_rate=0.5, rho=0.8))
    restored = optimizers.get(config)
    assert (restored.learning_rate, restored.rho) == (0.5, 0.8)


@pytest.mark.parametrize("make, message", [
    (lambda: optimizers.get("adamw_typo"), "Unknown optimizer: 'adamw_typo'. Expected one of"),
    (lambda: optimizers.SGD(learning_rate=-1), "learning_rate"),
    (lambda: optimizers.SGD(momentum=1.5), "momentum"),
    (lambda: optimizers.Adam(beta_1=1.0), "beta_1"),
    (lambda: optimizers.Adadelta(rho=1.0), r"Received: rho=1\.0"),
    (lambda: optimizers.SGD(decay=0.1), "unexpected keyword"),
    (lambda: optimizers.SGD(clipnorm=1, clipvalue=1), "at most one"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_foreign_variable_and_wrong_gradient_shape_are_rejected():
    w, other = Variable(np.zeros(2), name="w"), Variable(np.zeros(2), name="other")
    opt = optimizers.SGD()
    opt.build([w])
    with pytest.raises(ValueError, match="not one this optimizer was built for"):
        opt.apply([np.ones(2)], [other])
    with pytest.raises(ValueError, match=r"shape \(3,\) does not fit variable 'w'"):
        opt.apply([np.ones(3)], [w])
