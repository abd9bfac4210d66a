"""Learning rates and capacity: SGD at 1e-6, 0.01 and 1 side by side, then DataCamp's capacity table.

From DataCamp's course *Introduction to Deep Learning in Python*: its ``get_new_model`` (100 ReLU -> 100 ReLU
-> 2 softmax, categorical cross-entropy) trained with SGD at each learning rate it tests on
make_classification (5,000 x 20, batches of 32): at 1e-6 the loss barely moves and 0.01 learns. The course
warns that 1 is too large; on these well-scaled features it is the fastest of the three, and the plot shows it
(the course's own data had unscaled columns). Then its
workflow for capacity: start small and grow the network while the validation score improves, on the
bank-transactions regression (30% validation split), printed as its table of hidden layers x nodes ->
validation MSE -> next step. Writes learning_rates.png and capacity.png.
"""

from __future__ import annotations

import numpy as np

from deepfin.datasets import bank_transactions, classification
from deepfin.demos._common import Output, line
from deepfin.layers import Dense
from deepfin.models import Sequential
from deepfin.optimizers import SGD
from deepfin.utils import set_random_seed, to_categorical
from deepfin.viz import plot_history
from deepfin.viz._figures import finish, new_figure

LEARNING_RATES = (0.000001, 0.01, 1)
CAPACITY_STEPS = ((1, 100), (1, 250), (2, 250), (3, 250), (3, 200))  # DataCamp's sequence of experiments


def get_new_model(input_shape, outputs: int = 2, activation: str | None = "softmax", nodes: int = 100,
                  hidden_layers: int = 2) -> Sequential:
    """Build DataCamp's model, with its layer count and width as parameters (not compiled).

    Parameters
    ----------
    input_shape : tuple of int
        The input's shape, ``(features,)``.
    outputs : int, default 2
        Output units.
    activation : str or None, default "softmax"
        The output's activation; None: linear.
    nodes : int, default 100
        Units per hidden layer (ReLU).
    hidden_layers : int, default 2
        Hidden layers.

    Returns
    -------
    Sequential
        The model.

    Examples
    --------
    >>> model = get_new_model((2,), outputs=1, activation=None, nodes=10, hidden_layers=1)
    >>> model.count_params()  # 2*10 + 10, 10*1 + 1
    41
    """
    model = Sequential([Dense(nodes, activation="relu", input_shape=input_shape)])
    for _ in range(hidden_layers - 1):
        model.add(Dense(nodes, activation="relu"))
    model.add(Dense(outputs, activation=activation))
    return model


def learning_rate_experiment(epochs: int) -> dict:
    """Train ``get_new_model`` with SGD at each of ``LEARNING_RATES``; returns each one's History by label."""
    predictors, labels = classification()
    target = to_categorical(labels)
    histories = {}
    for lr in LEARNING_RATES:
        set_random_seed(0)
        model = get_new_model((predictors.shape[1],))
        model.compile(optimizer=SGD(lr=lr), loss="categorical_crossentropy", metrics=["accuracy"])
        histories[f"lr={lr:g}"] = model.fit(predictors, target, epochs=epochs, verbose=0)
    return histories


def capacity_experiment(epochs: int) -> list[dict]:
    """Train each step of DataCamp's sequence on bank transactions; its best validation MSE and the next step.

    The rule: increase capacity while the validation MSE improves, else decrease it.

    Returns
    -------
    list of dict
        One per step: ``hidden_layers``, ``nodes``, ``val_mse`` and ``next_step`` ("done" for the last).
    """
    X, y = bank_transactions(5000, random_state=1)
    rows, best = [], np.inf
    for hidden_layers, nodes in CAPACITY_STEPS:
        set_random_seed(0)
        model = get_new_model((2,), outputs=1, activation=None, nodes=nodes, hidden_layers=hidden_layers)
        model.compile(optimizer="adam", loss="mean_squared_error")
        history = model.fit(X, y, validation_split=0.3, epochs=epochs, verbose=0)
        val_mse = min(history.history["val_loss"])
        improved = val_mse < best
        best = min(best, val_mse)
        rows.append({"hidden_layers": hidden_layers, "nodes": nodes, "val_mse": val_mse,
                     "next_step": "increase capacity" if improved else "decrease capacity"})
    rows[-1]["next_step"] = "done"
    return rows


def run(out=None, quick: bool = False, epochs: int | None = None) -> dict:
    """Run the demo: the learning rates, then the capacity table; write learning_rates.png and capacity.png.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plots; None: ``runs/learning-rates``.
    quick : bool, default False
        5 epochs per learning rate rather than 10, and 15 per capacity step rather than 30.
    epochs : int or None, default None
        Epochs per learning rate, instead of those.

    Returns
    -------
    dict
        ``final_loss`` (each learning rate's last training loss) and ``capacity``
        (``capacity_experiment``'s rows).
    """
    output = Output(out, "learning-rates")
    epochs = epochs or (5 if quick else 10)
    histories = learning_rate_experiment(epochs)
    print(f"SGD learning rates on make_classification, {epochs} epochs of batches of 32")
    final = {}
    for label, history in histories.items():
        losses = history.history["loss"]
        final[label] = losses[-1]
        line(f"{label}: loss first -> last epoch", f"{losses[0]:.4f} -> {losses[-1]:.4f}  "
                                                   f"accuracy {history.history['accuracy'][-1]:.3f}")
    output.save(plot_history(histories, log_scale=True, title="SGD at three learning rates"), "learning_rates.png")

    rows = capacity_experiment(epochs=15 if quick else 30)
    print("capacity, on bank transactions (best validation MSE over the epochs)")
    print(f"  {'hidden layers':>13}  {'nodes per layer':>15}  {'validation MSE':>14}  next step")
    for row in rows:
        print(f"  {row['hidden_layers']:>13}  {row['nodes']:>15}  {row['val_mse']:>14.2f}  {row['next_step']}")
    fig, (ax,) = new_figure(panel_size=(6.5, 4.0))
    labels = [f"{r['hidden_layers']} x {r['nodes']}" for r in rows]
    ax.bar(labels, [r["val_mse"] for r in rows], color="C0")
    ax.set_xlabel("hidden layers x nodes per layer")
    ax.set_ylabel("validation MSE")
    output.save(finish(fig, None, "Capacity experiments, in DataCamp's order"), "capacity.png")
    output.announce()
    return {"final_loss": final, "capacity": rows}
