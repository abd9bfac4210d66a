"""The universal approximator: 100 steep sigmoids with trained heights, and a trained MLP, on Module 5's f(x).

The experiment of *Machine Learning in Finance* (2019, Module 5). Target
f(x) = 0.2 + 0.4x^2 + 0.3x sin(15x) + 0.05 cos(50x) at 100 points of [0, 1]. Module 5's construction, written
on deepfin's engine (Variable, Tensor ops, backward, SGD): hidden units sigmoid(w x + b_j) with w = 100 fixed
and offsets b_j = -w * linspace(0, 1, 100) fixed, output = the sum of the units times trained heights (started
at +1, -1, +1, ...), cost = sum of squared errors, 1,000 gradient steps at learning rate 1e-4; Module 5 prints
cost 0.078198. Then an MLP (1 -> 100 ReLU -> 100 ReLU -> 1, Adam at 0.002, input rescaled to [-1, 1]) whose
weights are all trained. Writes fit.png.
"""

from __future__ import annotations

import numpy as np

from deepfin.callbacks import EarlyStopping
from deepfin.datasets import universal_approximation
from deepfin.demos._common import Output, line
from deepfin.engine import Tensor, Variable, no_grad
from deepfin.layers import Dense
from deepfin.models import Sequential
from deepfin.optimizers import SGD, Adam
from deepfin.utils import set_random_seed
from deepfin.viz import plot_function_fit

SEED_COST = 0.078198


def steep_sigmoid_fit(x, y, n_neurons: int = 100, steepness: float = 100.0, steps: int = 1000,
                      learning_rate: float = 1e-4):
    """Fit Module 5's fixed-sigmoid network: only the output heights are trained, by plain gradient descent.

    Parameters
    ----------
    x, y : np.ndarray
        The points and the target's values.
    n_neurons : int, default 100
        Sigmoid units.
    steepness : float, default 100.0
        The units' fixed slope w; the offsets are ``-w * linspace(0, 1, n_neurons)``.
    steps : int, default 1000
        Gradient steps.
    learning_rate : float, default 1e-4
        SGD's learning rate.

    Returns
    -------
    cost : float
        The sum of squared errors after training.
    fitted : np.ndarray
        The fitted values.
    """
    x = x.astype("float32")
    offsets = -steepness * np.linspace(0.0, 1.0, n_neurons, dtype="float32")
    units = Tensor(steepness * x + offsets).sigmoid()          # (points, neurons), not trained
    heights = Variable(np.where(np.arange(n_neurons) % 2 == 0, 1.0, -1.0).astype("float32"), name="heights")
    target = Tensor(y.astype("float32"))
    optimizer = SGD(learning_rate=learning_rate)
    for _ in range(steps):
        cost = (((units * heights).sum(axis=1) - target) ** 2).sum()
        heights.zero_grad()
        cost.backward()
        optimizer.apply([heights.grad], [heights])
    with no_grad():
        fitted = (units * heights).sum(axis=1)
        cost = float(((fitted - target) ** 2).sum().item())
    return cost, fitted.numpy()


def mlp_fit(x, y, epochs: int):
    """Fit a small MLP, every weight trained with Adam on the mean squared error; returns (cost, fitted).

    It keeps the weights of its best epoch. The rate is one at which full-batch training runs smooth: at 0.005
    the loss spikes now and then, and the basin it ends in depends on rounding (the compiled and eager paths,
    equal for the first 200 steps, then ended at costs 0.12 and 0.015).
    """
    set_random_seed(0)
    model = Sequential([Dense(100, activation="relu", input_dim=1), Dense(100, activation="relu"), Dense(1)])
    model.compile(optimizer=Adam(learning_rate=0.002), loss="mse")
    centred = 2 * x - 1
    best = EarlyStopping(monitor="loss", patience=epochs, restore_best_weights=True)
    model.fit(centred, y, epochs=epochs, batch_size=len(x), verbose=0, callbacks=[best])
    fitted = model.predict(centred, verbose=0).ravel()
    return float(((fitted - y) ** 2).sum()), fitted


def run(out=None, quick: bool = False, epochs: int | None = None) -> dict:
    """Run the demo: both fits, their costs, and fit.png.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plot; None: ``runs/universal``.
    quick : bool, default False
        Not used.
    epochs : int or None, default None
        The MLP's full-batch epochs, instead of 3,000.

    Returns
    -------
    dict
        ``sigmoid_cost`` and ``mlp_cost``: the sums of squared errors.
    """
    output = Output(out, "universal")
    epochs = epochs or 3000
    x, y = universal_approximation(100)
    sigmoid_cost, sigmoid_fitted = steep_sigmoid_fit(x, y)
    mlp_cost, mlp_fitted = mlp_fit(x, y, epochs)
    print("universal approximation of f(x) on 100 points of [0, 1]; cost = sum of squared errors")
    line("100 steep sigmoids, trained heights", f"{sigmoid_cost:.6f}   (Module 5: {SEED_COST})")
    line(f"MLP 1-100-100-1, {epochs} Adam steps", f"{mlp_cost:.6f}")
    output.save(plot_function_fit(x, y, {f"100 steep sigmoids (cost {sigmoid_cost:.4f})": sigmoid_fitted,
                                         f"MLP 1-100-100-1 (cost {mlp_cost:.4f})": mlp_fitted},
                                  title="Universal approximation of f(x)"), "fit.png")
    output.announce()
    return {"sigmoid_cost": sigmoid_cost, "mlp_cost": mlp_cost}
