"""Two moons with hidden layers of 1, 3 and 500 tanh units: under-fit, about right, over-fit.

The experiment of Klaas (2019), *Machine Learning for Finance*, chapter 1. 200 noisy points (make_moons, noise
0.2) for training and 2,000 fresh ones for testing; each network is 2 -> Dense(h, tanh) -> Dense(1, sigmoid),
trained full-batch with Adam (learning rate 0.01) for 3,000 epochs. Klaas's point: one unit cannot bend the
boundary, 500 units fit the noise (training accuracy 1.0, test accuracy below the 3-unit model's). Writes
boundaries.png (the three decision boundaries).
"""

from __future__ import annotations

from deepfin.datasets import two_moons
from deepfin.demos._common import Output, line
from deepfin.layers import Dense
from deepfin.models import Sequential
from deepfin.optimizers import Adam
from deepfin.utils import set_random_seed
from deepfin.viz import plot_decision_boundaries

HIDDEN_SIZES = (1, 3, 500)


def build(hidden_units: int) -> Sequential:
    """Build 2 -> Dense(``hidden_units``, tanh) -> Dense(1, sigmoid), compiled with Adam at 0.01."""
    model = Sequential([Dense(hidden_units, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(learning_rate=0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def run(out=None, quick: bool = False, epochs: int | None = None) -> dict:
    """Run the demo: train the three networks, print their accuracies, write boundaries.png.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plot; None: ``runs/moons``.
    quick : bool, default False
        Train 1,500 epochs rather than 3,000.
    epochs : int or None, default None
        Epochs, instead of those.

    Returns
    -------
    dict
        Hidden units (1, 3, 500) -> ``train_accuracy`` and ``test_accuracy``.
    """
    output = Output(out, "moons")
    epochs = epochs or (1500 if quick else 3000)
    X, y = two_moons(200, noise=0.2, random_state=0)
    X_test, y_test = two_moons(2000, noise=0.2, random_state=1)
    print(f"two moons: 200 training points, 2,000 test points, {epochs} full-batch epochs of Adam")
    models, results = {}, {}
    for hidden_units in HIDDEN_SIZES:
        set_random_seed(0)
        model = build(hidden_units)
        model.fit(X, y, epochs=epochs, batch_size=len(X), verbose=0)
        train_accuracy = model.evaluate(X, y, verbose=0)[1]
        test_accuracy = model.evaluate(X_test, y_test, verbose=0)[1]
        results[hidden_units] = {"train_accuracy": train_accuracy, "test_accuracy": test_accuracy}
        models[f"{hidden_units} hidden unit{'s' if hidden_units > 1 else ''}: test acc {test_accuracy:.3f}"] = model
        line(f"hidden size {hidden_units:>3}: train / test accuracy", f"{train_accuracy:.3f} / {test_accuracy:.3f}")
    output.save(plot_decision_boundaries(models, X, y, title="Two moons: decision boundaries"), "boundaries.png")
    output.announce()
    return results
