"""Klaas (2019)'s logistic regressor: NumPy by hand, then deepfin, with identical losses 0.8223 -> 0.2034.

From chapter 1 of Klaas, *Machine Learning for Finance*. Four rows of three binary features, a sigmoid unit
with weights drawn as Klaas does (np.random.seed(1); W = 2*random((3, 1)) - 1; b = 0), binary cross-entropy,
20 full-batch gradient steps at learning rate 1. deepfin's Dense(1, 'sigmoid') with SGD(learning_rate=1)
starts from the same weights; both loss traces are printed side by side and plotted (loss.png).
"""

from __future__ import annotations

import numpy as np

from deepfin.datasets import logistic_toy
from deepfin.demos._common import Output, line
from deepfin.layers import Dense
from deepfin.models import Sequential
from deepfin.optimizers import SGD
from deepfin.viz import plot_history

SEED_FIRST_LOSS, SEED_LAST_LOSS = 0.822322582088, 0.203407060401


def seed_initial_weights() -> np.ndarray:
    """Draw Klaas (2019)'s weights, ``np.random.seed(1); W = 2*np.random.random((3,1)) - 1``, leaving global state.

    Examples
    --------
    >>> seed_initial_weights().ravel().round(4).tolist()
    [-0.166, 0.4406, -0.9998]
    """
    return 2 * np.random.RandomState(1).random_sample((3, 1)) - 1


def numpy_losses(X, y, W, epochs: int = 20, alpha: float = 1.0) -> list[float]:
    """Run Klaas (2019)'s training loop, line for line: forward pass, loss, derivatives, update.

    Parameters
    ----------
    X : np.ndarray
        The rows, (4, 3).
    y : np.ndarray
        Their labels, (4, 1).
    W : np.ndarray
        The initial weights, (3, 1) (copied, not changed); the bias starts at 0.
    epochs : int, default 20
        Full-batch gradient steps.
    alpha : float, default 1.0
        The learning rate.

    Returns
    -------
    list of float
        The binary cross-entropy before each step.

    Examples
    --------
    >>> from deepfin.datasets import logistic_toy
    >>> losses = numpy_losses(*logistic_toy(), seed_initial_weights())
    >>> round(losses[0], 12), round(losses[-1], 12)
    (0.822322582088, 0.203407060401)
    """
    W, b, N = W.copy(), 0.0, y.shape[0]
    losses = []
    for _ in range(epochs):
        A = 1 / (1 + np.exp(-(X.dot(W) + b)))
        losses.append(float(-1 / N * np.sum(y * np.log(A) + (1 - y) * np.log(1 - A))))
        dz = A - y
        W -= alpha * 1 / N * np.dot(X.T, dz)
        b -= alpha * 1 / N * np.sum(dz, axis=0, keepdims=True)
    return losses


def deepfin_losses(X, y, W, epochs: int = 20, alpha: float = 1.0) -> list[float]:
    """Train the same model in deepfin (float64, so the traces agree to the last printed digit); returns the losses."""
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3, dtype="float64")])
    model.set_weights([W, np.zeros(1)])
    model.compile(optimizer=SGD(learning_rate=alpha), loss="binary_crossentropy")
    history = model.fit(X, y, epochs=epochs, batch_size=len(X), shuffle=False, verbose=0)
    return history.history["loss"]


def run(out=None, quick: bool = False) -> dict:
    """Run the demo: both loss traces side by side, and loss.png.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plot; None: ``runs/logistic``.
    quick : bool, default False
        Not used: the run is 20 steps.

    Returns
    -------
    dict
        ``numpy_losses``, ``deepfin_losses``, ``first_loss`` and ``last_loss`` (deepfin's) and
        ``max_difference`` between the traces.
    """
    output = Output(out, "logistic")
    X, y = logistic_toy()
    W = seed_initial_weights()
    by_hand, by_deepfin = numpy_losses(X, y, W), deepfin_losses(X, y, W)
    print("logistic regressor, 4 rows, 20 full-batch steps at learning rate 1")
    print(f"  {'epoch':>5}  {'NumPy (Klaas)':>14}  {'deepfin':>14}")
    for epoch, (a, b) in enumerate(zip(by_hand, by_deepfin)):
        print(f"  {epoch:>5}  {a:>14.12f}  {b:>14.12f}")
    gap = max(abs(a - b) for a, b in zip(by_hand, by_deepfin))
    line("Klaas (2019) prints", f"{SEED_FIRST_LOSS} -> {SEED_LAST_LOSS}")
    line("largest difference NumPy vs deepfin", f"{gap:.1e}")
    fig = plot_history({"Klaas's NumPy": {"loss": by_hand}, "deepfin": {"loss": by_deepfin}},
                       title="Logistic regressor: loss per epoch (the two curves coincide)")
    output.save(fig, "loss.png")
    output.announce()
    return {"numpy_losses": by_hand, "deepfin_losses": by_deepfin, "first_loss": by_deepfin[0],
            "last_loss": by_deepfin[-1], "max_difference": gap}
