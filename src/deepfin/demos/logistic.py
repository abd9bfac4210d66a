"""The seed's logistic regressor: NumPy by hand, then deepfin, with identical losses 0.8223 -> 0.2034.

Four rows of three binary features, a sigmoid unit with weights drawn as the seed does
(np.random.seed(1); W = 2*random((3, 1)) - 1; b = 0), binary cross-entropy, 20 full-batch gradient
steps at learning rate 1. deepfin's Dense(1, 'sigmoid') with SGD(learning_rate=1) starts from the same
weights; both loss traces are printed side by side and plotted (loss.png).
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
    """The seed's ``np.random.seed(1); W = 2*np.random.random((3,1)) - 1``, without touching global state."""
    return 2 * np.random.RandomState(1).random_sample((3, 1)) - 1


def numpy_losses(X, y, W, epochs: int = 20, alpha: float = 1.0) -> list[float]:
    """The seed's training loop, line for line: forward pass, loss, derivatives, update."""
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
    """The same model in deepfin (float64, so the traces agree to the last printed digit)."""
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3, dtype="float64")])
    model.set_weights([W, np.zeros(1)])
    model.compile(optimizer=SGD(learning_rate=alpha), loss="binary_crossentropy")
    history = model.fit(X, y, epochs=epochs, batch_size=len(X), shuffle=False, verbose=0)
    return history.history["loss"]


def run(out=None, quick: bool = False) -> dict:
    output = Output(out, "logistic")
    X, y = logistic_toy()
    W = seed_initial_weights()
    by_hand, by_deepfin = numpy_losses(X, y, W), deepfin_losses(X, y, W)
    print("logistic regressor, 4 rows, 20 full-batch steps at learning rate 1")
    print(f"  {'epoch':>5}  {'NumPy (seed)':>14}  {'deepfin':>14}")
    for epoch, (a, b) in enumerate(zip(by_hand, by_deepfin)):
        print(f"  {epoch:>5}  {a:>14.12f}  {b:>14.12f}")
    gap = max(abs(a - b) for a, b in zip(by_hand, by_deepfin))
    line("seed prints", f"{SEED_FIRST_LOSS} -> {SEED_LAST_LOSS}")
    line("largest difference NumPy vs deepfin", f"{gap:.1e}")
    fig = plot_history({"seed's NumPy": {"loss": by_hand}, "deepfin": {"loss": by_deepfin}},
                       title="Logistic regressor: loss per epoch (the two curves coincide)")
    output.save(fig, "loss.png")
    output.announce()
    return {"numpy_losses": by_hand, "deepfin_losses": by_deepfin, "first_loss": by_deepfin[0],
            "last_loss": by_deepfin[-1], "max_difference": gap}
