"""Concentric circles: 2 -> 3 sigmoid units -> 2 softmax, the 17-parameter network of Jansen (2020, ch. 17).

50,000 points (make_circles, factor 0.1, noise 0.1), one-hot targets and binary cross-entropy as Jansen's
Keras code. Trained twice: SGD with momentum 0.5 (Jansen's momentum term; mini-batches of 128 at learning
rate 0.5 instead of its 50,000 full-batch steps, which Jansen says would converge faster) for 10 epochs, and
Jansen's Keras run (RMSprop, 25 epochs, batch 128, validation_split 0.2). Accuracy on the
held-out 20% exceeds 0.99. Writes boundary.png, hidden_3d.png (how the hidden layer lifts the circles
into 3-D where a plane separates them) and history.png.
"""

from __future__ import annotations

import numpy as np

from deepfin.datasets import circles
from deepfin.demos._common import Output, line
from deepfin.layers import Activation, Dense
from deepfin.models import Model, Sequential
from deepfin.optimizers import SGD
from deepfin.utils import set_random_seed, to_categorical
from deepfin.viz import plot_decision_boundary, plot_hidden_representation, plot_history

OPTIMIZERS = {"momentum SGD": (lambda: SGD(learning_rate=0.5, momentum=0.5), 10), "RMSprop": (lambda: "rmsprop", 25)}


def build(optimizer) -> Sequential:
    """Build Jansen (2020, ch. 17)'s Keras model, names and all, compiled with ``optimizer``."""
    model = Sequential([
        Dense(units=3, input_shape=(2,), name="hidden"),
        Activation("sigmoid", name="logistic"),
        Dense(2, name="output"),
        Activation("softmax", name="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def run(out=None, quick: bool = False, n_samples: int | None = None) -> dict:
    """Run the demo: train with both optimizers, print their validation accuracy, write the three plots.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plots; None: ``runs/circles``.
    quick : bool, default False
        Not used: the run is a few seconds.
    n_samples : int or None, default None
        Points, instead of 50,000.

    Returns
    -------
    dict
        Per optimizer ("momentum SGD", "RMSprop"): ``val_accuracy`` (last epoch) and ``epochs``.
    """
    output = Output(out, "circles")
    n_samples = n_samples or 50_000  # a few seconds; fewer points leave RMSprop short of 0.99 in 25 epochs
    X, y = circles(n_samples)
    Y = to_categorical(y)
    print(f"circles: {n_samples:,} points, 17 parameters, validation on the last 20%")
    results, histories, models = {}, {}, {}
    for label, (make_optimizer, epochs) in OPTIMIZERS.items():
        set_random_seed(0)
        model = build(make_optimizer())
        history = model.fit(X, Y, epochs=epochs, validation_split=0.2, batch_size=128, verbose=0)
        results[label] = {"val_accuracy": history.history["val_accuracy"][-1], "epochs": epochs}
        histories[label], models[label] = history, model
        line(f"{label}, {epochs} epochs: validation accuracy", f"{results[label]['val_accuracy']:.4f}")
    model = models["RMSprop"]
    shown = np.random.default_rng(0).choice(n_samples, size=min(n_samples, 3000), replace=False)
    output.save(plot_decision_boundary(model, X[shown], y[shown], title="Circles: decision boundary (RMSprop)"),
                "boundary.png")
    hidden = Model(model.inputs, model.get_layer("logistic").output).predict(X[shown], verbose=0)
    output.save(plot_hidden_representation(hidden, y[shown], title="Hidden layer: the circles lifted into 3-D"),
                "hidden_3d.png")
    output.save(plot_history(histories, title="Circles: loss and accuracy"), "history.png")
    output.announce()
    return results
