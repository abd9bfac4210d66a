"""make_classification (5,000 x 20): Della Lunga (2022)'s 20 -> 10 tanh -> 1 sigmoid network, by hand and in deepfin.

Della Lunga's NumPy network from lecture 1 of *Introduction to Machine Learning for Finance* (weights
~ N(0, 0.01^2), biases 0, full-batch gradient descent on the mean binary cross-entropy) against deepfin's
Dense(10, 'tanh') -> Dense(1, 'sigmoid') started from the same weights with SGD at the same learning rate:
the loss traces agree to rounding, then train (first 4,000 rows) and test (last 1,000) accuracy. Writes
history.png (both traces) and roc.png (test set).
"""

from __future__ import annotations

import numpy as np

from deepfin.datasets import classification
from deepfin.demos._common import Output, line
from deepfin.layers import Dense
from deepfin.models import Sequential
from deepfin.optimizers import SGD
from deepfin.viz import plot_history, plot_roc

LEARNING_RATE = 0.5


def init_weights(n_input: int, n_hidden: int, n_output: int, seed: int = 0) -> dict:
    """Draw the weights as Della Lunga (2022)'s ``init_weights`` does, from a private generator.

    Parameters
    ----------
    n_input, n_hidden, n_output : int
        The layers' sizes.
    seed : int, default 0
        The seed of the generator (``np.random.RandomState``).

    Returns
    -------
    dict
        ``W1`` (n_hidden, n_input) and ``W2`` (n_output, n_hidden), N(0, 0.01^2); ``b1`` and ``b2`` zero
        columns.
    """
    rng = np.random.RandomState(seed)
    return {"W1": rng.randn(n_hidden, n_input) * 0.01, "b1": np.zeros((n_hidden, 1)),
            "W2": rng.randn(n_output, n_hidden) * 0.01, "b2": np.zeros((n_output, 1))}


def numpy_losses(X, y, params: dict, epochs: int, lr: float = LEARNING_RATE) -> list[float]:
    """Train Della Lunga (2022)'s NumPy network: forward, loss, backward and update, samples stacked column-wise.

    Parameters
    ----------
    X : np.ndarray
        Rows of features.
    y : np.ndarray
        0/1 labels.
    params : dict
        ``init_weights``'s (copied, not changed).
    epochs : int
        Full-batch gradient steps.
    lr : float, default LEARNING_RATE
        The learning rate.

    Returns
    -------
    list of float
        The mean binary cross-entropy before each step.
    """
    p = {k: v.copy() for k, v in params.items()}
    X, Y, m = X.T, y.reshape(1, -1), X.shape[0]
    losses = []
    for _ in range(epochs):
        A1 = np.tanh(p["W1"] @ X + p["b1"])
        A2 = 1 / (1 + np.exp(-(p["W2"] @ A1 + p["b2"])))
        losses.append(float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m))
        DL2 = A2 - Y
        DL1 = (p["W2"].T @ DL2) * (1 - A1**2)
        grads = {"W2": DL2 @ A1.T / m, "b2": DL2.sum(axis=1, keepdims=True) / m,
                 "W1": DL1 @ X.T / m, "b1": DL1.sum(axis=1, keepdims=True) / m}
        for key in p:
            p[key] -= lr * grads[key]
    return losses


def build(params: dict) -> Sequential:
    """Build deepfin's version from the same weights, its kernels (in, out) the transposes of Della Lunga's matrices."""
    model = Sequential([Dense(10, activation="tanh", input_dim=20, dtype="float64"),
                        Dense(1, activation="sigmoid", dtype="float64")])
    model.set_weights([params["W1"].T, params["b1"].ravel(), params["W2"].T, params["b2"].ravel()])
    model.compile(optimizer=SGD(learning_rate=LEARNING_RATE), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def run(out=None, quick: bool = False, epochs: int | None = None) -> dict:
    """Run the demo: train both versions from the same weights, print the traces and accuracies, write the plots.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plots; None: ``runs/classification``.
    quick : bool, default False
        Train 300 full-batch steps rather than 1,000.
    epochs : int or None, default None
        Steps, instead of those.

    Returns
    -------
    dict
        ``max_difference`` (between the two loss traces), ``train_accuracy``, ``test_accuracy``,
        ``first_loss`` and ``last_loss`` (deepfin's).
    """
    output = Output(out, "classification")
    epochs = epochs or (300 if quick else 1000)
    X, y = classification()
    X_train, X_test, y_train, y_test = X[:4000], X[4000:], y[:4000], y[4000:]
    params = init_weights(20, 10, 1)
    by_hand = numpy_losses(X_train, y_train, params, epochs)
    model = build(params)
    history = model.fit(X_train, y_train, epochs=epochs, batch_size=len(X_train), shuffle=False, verbose=0)
    by_deepfin = history.history["loss"]
    gap = max(abs(a - b) for a, b in zip(by_hand, by_deepfin))
    train_accuracy = model.evaluate(X_train, y_train, verbose=0)[1]
    test_accuracy = model.evaluate(X_test, y_test, verbose=0)[1]
    print(f"make_classification: 4,000 training and 1,000 test rows, {epochs} full-batch steps at lr {LEARNING_RATE}")
    line("loss, first -> last (NumPy)", f"{by_hand[0]:.6f} -> {by_hand[-1]:.6f}")
    line("loss, first -> last (deepfin)", f"{by_deepfin[0]:.6f} -> {by_deepfin[-1]:.6f}")
    line("largest difference NumPy vs deepfin", f"{gap:.1e}")
    line("train / test accuracy", f"{train_accuracy:.4f} / {test_accuracy:.4f}")
    output.save(plot_history({"Della Lunga's NumPy": {"loss": by_hand}, "deepfin": history},
                             title="make_classification: training curves (NumPy and deepfin coincide)"),
                "history.png")
    output.save(plot_roc(y_test, model.predict(X_test, verbose=0), name="20-10-1 network",
                         title="Test-set ROC curve"), "roc.png")
    output.announce()
    return {"max_difference": gap, "train_accuracy": train_accuracy, "test_accuracy": test_accuracy,
            "first_loss": by_deepfin[0], "last_loss": by_deepfin[-1]}
