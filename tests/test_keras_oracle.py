"""Real Keras 3 (on its PyTorch backend) as the oracle: optimizer steps and a whole fit."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import deepfin  # noqa: E402
from deepfin import Variable, optimizers  # noqa: E402

CASES = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),  # at the default 0.001, 50 steps move less than the tolerance
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-5}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_optimizer_steps_match_keras(name, kwargs, rng):
    shapes = [(5, 3), (3,), (300, 200)]
    initial = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [Variable(w.copy()) for w in initial]
    theirs = [keras.Variable(w.copy()) for w in initial]
    our_opt, their_opt = getattr(optimizers, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs)
    for _ in range(50):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        our_opt.apply(grads, ours)
        their_opt.apply([keras.ops.convert_to_tensor(g) for g in grads], theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, keras.ops.convert_to_numpy(b), rtol=2e-5, atol=2e-6)


def test_fit_history_matches_keras(rng):
    x = rng.standard_normal((96, 4)).astype(np.float32)
    y = (x[:, 0] - x[:, 2] > 0).astype(np.float32)

    def build(lib, layers):
        model = lib.Sequential([lib.Input((4,)), layers.Dense(8, activation="tanh"),
                                layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=lib.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                      metrics=["accuracy"])
        return model

    ours, theirs = build(deepfin, deepfin.layers), build(keras, keras.layers)
    theirs.set_weights(ours.get_weights())
    fit = dict(epochs=5, batch_size=16, shuffle=False, validation_split=0.25, verbose=0)
    our_history, their_history = ours.fit(x, y, **fit).history, theirs.fit(x, y, **fit).history
    assert set(our_history) == set(their_history)
    for key in our_history:
        np.testing.assert_allclose(our_history[key], their_history[key], rtol=1e-4, err_msg=key)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


STATE_CASES = CASES + [("SGD", {}), ("SGD", {"momentum": 0.9}), ("Adam", {}), ("RMSprop", {})]
KERAS_SLOT_NAMES = {"m": "momentum", "v": "velocity", "v_hat": "velocity_hat",
                    "accumulated_delta": "accumulated_delta_var"}  # ours that Keras spells otherwise


@pytest.mark.parametrize("name, kwargs", STATE_CASES, ids=[f"{n}-{sorted(k)}" for n, k in STATE_CASES])
def test_optimizer_state_is_what_keras_keeps(name, kwargs):
    """Per variable, the state a model file saves is Keras's optimizer variables (less iteration and
    learning rate): no work buffers."""
    initial = [np.zeros((3, 2), np.float32), np.zeros(2, np.float32)]
    ours = getattr(optimizers, name)(**kwargs)
    ours.build([Variable(w) for w in initial])
    theirs = getattr(keras.optimizers, name)(**kwargs)
    theirs.build([keras.Variable(w, name=f"w{i}") for i, w in enumerate(initial)])
    for i, slots in enumerate(ours.state_slots()):
        expected = sorted(v.path.split("/")[-1].removeprefix(f"w{i}_") for v in theirs.variables
                          if v.path.split("/")[-1].startswith(f"w{i}_"))
        assert sorted(KERAS_SLOT_NAMES.get(k, k) for k in slots) == expected


def test_default_names_follow_keras_snake_case():
    """Layers, metrics and losses are named as Keras names them (``LSTM`` -> ``lstm``, ``SimpleRNN`` ->
    ``simple_rnn``, ``Conv1D`` -> ``conv1d``), not with an underscore before every capital (``l_s_t_m``)."""
    from keras.src.utils.naming import to_snake_case

    import deepfin
    from deepfin import layers, losses, metrics
    from deepfin.backend import snake_case

    names = [name for module in (layers, losses, metrics) for name in dir(module)
             if isinstance(getattr(module, name), type) and name[0].isupper()]
    assert len(names) > 80
    assert {n: snake_case(n) for n in names} == {n: to_snake_case(n) for n in names}
    deepfin.backend.clear_session()
    assert layers.LSTM(3).name == "lstm" and layers.Conv1D(2, 3).name == "conv1d"
