"""Handwritten digits: softmax regression vs one hidden ReLU layer of 64 vs the same with L2 and dropout.

scikit-learn's 1,797 8x8 digits (70% training, 30% test, stratified), Adam with batches of 50 as in
*Machine Learning in Finance* (2019, Module 5). With MNIST files on this machine (``--mnist DIR`` or
$DEEPFIN_DATA; see deepfin.datasets.mnist) it also runs Module 5's MNIST experiment: 55,000 training images,
softmax regression for 10 epochs (Module 5: about 92% test accuracy) and 64 hidden ReLU units for 8 epochs
(Module 5: 97.6%). Writes confusion matrices and the softmax weights of each digit as images (Module 5's
'filters').
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.model_selection import train_test_split

from deepfin.datasets import digits, mnist
from deepfin.demos._common import Output, line
from deepfin.layers import Dense, Dropout
from deepfin.models import Sequential
from deepfin.regularizers import l2
from deepfin.utils import set_random_seed, to_categorical
from deepfin.viz import plot_confusion_matrix, plot_dense_weights


def build(kind: str, n_inputs: int) -> Sequential:
    """Build 'softmax' regression, 'hidden' (64 ReLU units) or 'regularized' (64 units, L2 1e-4, dropout 0.2).

    Each is compiled with Adam, categorical cross-entropy and accuracy, on ``n_inputs`` features.
    """
    if kind == "softmax":
        layers = [Dense(10, activation="softmax", input_dim=n_inputs)]
    elif kind == "hidden":
        layers = [Dense(64, activation="relu", input_dim=n_inputs), Dense(10, activation="softmax")]
    else:
        layers = [Dense(64, activation="relu", input_dim=n_inputs, kernel_regularizer=l2(1e-4)), Dropout(0.2),
                  Dense(10, activation="softmax", kernel_regularizer=l2(1e-4))]
    model = Sequential(layers)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def train_and_test(kind, x_train, y_train, x_test, y_test, epochs):
    """Train model ``kind`` in batches of 50; returns the model, its test accuracy and its predicted digits."""
    set_random_seed(0)
    model = build(kind, x_train.shape[1])
    model.fit(x_train, to_categorical(y_train, 10), epochs=epochs, batch_size=50, verbose=0)
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    return model, float(np.mean(predicted == y_test)), predicted


def add_arguments(parser) -> None:
    """The demo's own command-line option: where MNIST's files are."""
    parser.add_argument("--mnist", metavar="DIR", dest="mnist_path",
                        help="folder with MNIST's IDX files or mnist.npz (default: $DEEPFIN_DATA)")


def run(out=None, quick: bool = False, mnist_path=None, epochs: int | None = None) -> dict:
    """Run the demo: the three models on scikit-learn's digits, then Module 5's MNIST runs where MNIST is here.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plots; None: ``runs/digits``.
    quick : bool, default False
        Train 30 epochs rather than 60 on the digits.
    mnist_path : str or None, default None
        The folder of MNIST's files (``--mnist DIR``); None reads ``$DEEPFIN_DATA``, and without it the MNIST
        runs are left out.
    epochs : int or None, default None
        Epochs on the digits, instead of those.

    Returns
    -------
    dict
        Test accuracies: ``digits_softmax``, ``digits_hidden``, ``digits_regularized`` and, with MNIST,
        ``mnist_softmax`` and ``mnist_hidden``.
    """
    output = Output(out, "digits")
    epochs = epochs or (30 if quick else 60)
    X, y = digits()
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    print(f"scikit-learn digits: {len(x_train)} training and {len(x_test)} test images of 8x8, {epochs} epochs")
    runs = [(kind, epochs, None) for kind in ("softmax", "hidden", "regularized")]
    results = compare(output, "digits", "", (x_train, y_train, x_test, y_test), runs, (8, 8))
    if mnist_path is not None or os.environ.get(mnist.ENVIRONMENT_VARIABLE):
        (x_train, y_train), (x_test, y_test) = mnist.load_data(mnist_path)
        x_train, y_train = x_train[:55_000].reshape(min(len(x_train), 55_000), -1) / 255.0, y_train[:55_000]
        x_test = x_test.reshape(len(x_test), -1) / 255.0
        side = int(np.sqrt(x_train.shape[1]))
        print(f"MNIST: {len(x_train):,} training and {len(x_test):,} test images, batches of 50")
        runs = [("softmax", 10, "about 0.92"), ("hidden", 8, "0.9756")]
        results.update(compare(output, "MNIST", "mnist_", (x_train, y_train, x_test, y_test), runs, (side, side)))
    else:
        print(f"  (no MNIST files: pass --mnist DIR or set ${mnist.ENVIRONMENT_VARIABLE} for Module 5's MNIST run)")
    output.announce()
    return results


def compare(output: Output, data_name: str, file_prefix: str, data, runs, image_shape) -> dict:
    """Train each (kind, epochs, Module 5's figure) run on ``data`` = (x_train, y_train, x_test, y_test).

    Print and return the test accuracies (keys ``{data_name.lower()}_{kind}``), save a confusion matrix per run
    and the softmax weights as images (files ``{file_prefix}confusion_{kind}.png``, ...).
    """
    results = {}
    for kind, epochs, seed_figure in runs:
        model, accuracy, predicted = train_and_test(kind, *data, epochs)
        results[f"{data_name.lower()}_{kind}"] = accuracy
        seed_note = f"   (Module 5: {seed_figure})" if seed_figure else ""
        line(f"{data_name} {kind}, {epochs} epochs: test accuracy", f"{accuracy:.4f}{seed_note}")
        title = f"{data_name}, {kind}: accuracy {accuracy:.3f}"
        output.save(plot_confusion_matrix(data[3], predicted, title=title), f"{file_prefix}confusion_{kind}.png")
        if kind == "softmax":
            weights = plot_dense_weights(model.layers[0], image_shape, title=f"{data_name}: softmax weights per digit")
            output.save(weights, f"{file_prefix}weights_softmax.png")
    return results
