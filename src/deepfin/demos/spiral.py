"""Three spirals: softmax regression fails, one hidden layer of 30 ReLU units reaches >= 0.97.

The experiment of *Machine Learning in Finance* (2019, Module 5): its 900 points (3 arms of 300, its own
generator with np.random.seed(0)). First its linear softmax classifier (100 full-batch gradient steps at
learning rate 0.1), then its hidden layer of 30 ReLU units trained full-batch with Adam for 3,000 epochs
(Module 5 reaches 0.977 training accuracy), then its Keras version on a held-out split (10% test, 20% of the
rest for validation, batch 10, 100 epochs). Writes boundaries.png (linear and hidden-layer classifiers side by
side) and history.png.
"""

from __future__ import annotations

from sklearn.model_selection import train_test_split

from deepfin.datasets import spirals
from deepfin.demos._common import Output, line
from deepfin.layers import Dense
from deepfin.models import Sequential
from deepfin.optimizers import SGD
from deepfin.utils import set_random_seed, to_categorical
from deepfin.viz import plot_decision_boundaries, plot_history


def linear_model() -> Sequential:
    """Build the linear softmax classifier: 2 -> 3 softmax, SGD at 0.1."""
    model = Sequential([Dense(3, activation="softmax", input_dim=2)])
    model.compile(optimizer=SGD(learning_rate=0.1), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def hidden_layer_model() -> Sequential:
    """Build the hidden-layer model: 30 ReLU units -> 3 softmax, Adam (built on its first input)."""
    model = Sequential([Dense(units=30, activation="relu"), Dense(units=3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def run(out=None, quick: bool = False, epochs: int | None = None) -> dict:
    """Run the demo: the linear and hidden-layer models on every point, then the Keras-style split; two plots.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plots; None: ``runs/spiral``.
    quick : bool, default False
        Not used.
    epochs : int or None, default None
        Full-batch epochs of the hidden-layer model, instead of 3,000.

    Returns
    -------
    dict
        ``linear_accuracy`` and ``hidden_accuracy`` (on every point), ``test_accuracy`` (the Keras-style
        model's, on the held-out 10%).
    """
    output = Output(out, "spiral")
    epochs = epochs or 3000
    X, y = spirals(num_classes=3, points_per_class=300, random_state=0)
    T = to_categorical(y)
    print("spirals: 900 points in 3 classes; full-batch training on all of them, then a held-out split")
    set_random_seed(0)
    linear = linear_model()
    linear.fit(X, T, epochs=100, batch_size=len(X), verbose=0)
    linear_accuracy = linear.evaluate(X, T, verbose=0)[1]
    line("softmax regression, 100 steps: accuracy", f"{linear_accuracy:.4f}")
    set_random_seed(0)
    hidden = hidden_layer_model()
    history = hidden.fit(X, T, epochs=epochs, batch_size=len(X), verbose=0)
    hidden_accuracy = hidden.evaluate(X, T, verbose=0)[1]
    line(f"30 ReLU units, {epochs} Adam steps: accuracy", f"{hidden_accuracy:.4f}   (Module 5: 0.9767)")

    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.1, random_state=42)
    x_train, x_val, y_train, y_val = train_test_split(x_train, y_train, test_size=0.2, random_state=42)
    set_random_seed(0)
    keras_way = hidden_layer_model()
    keras_history = keras_way.fit(x_train, to_categorical(y_train, 3),
                                  validation_data=(x_val, to_categorical(y_val, 3)),
                                  epochs=100, batch_size=10, verbose=0)
    test_accuracy = keras_way.evaluate(x_test, to_categorical(y_test, 3), verbose=0)[1]
    line("Keras-style split, batch 10: test accuracy", f"{test_accuracy:.4f}   ({len(x_test)} held-out points)")
    output.save(plot_decision_boundaries({f"softmax regression: {linear_accuracy:.3f}": linear,
                                          f"30 ReLU units: {hidden_accuracy:.3f}": hidden}, X, y,
                                         title="Spirals: predicted classes"), "boundaries.png")
    output.save(plot_history({"full batch": history, "batch 10 (Keras split)": keras_history},
                             title="Spirals: hidden-layer model"), "history.png")
    output.announce()
    return {"linear_accuracy": linear_accuracy, "hidden_accuracy": hidden_accuracy, "test_accuracy": test_accuracy}
