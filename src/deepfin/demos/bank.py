"""DataCamp's bank example: forward propagation and gradient steps by hand, then predicting transactions.

From DataCamp's course *Introduction to Deep Learning in Python*. First its hand calculations, done with
deepfin's Tensor so the chain rule is the engine's:
a customer with 2 children and 3 accounts through hidden weights [1, 1] and [-1, 1] and output weights
[2, -1] (hidden values [5, 1], prediction 9; with tanh, 1.2382242525694254); the slope -24 of one weight
and its update to 2.24; the gradient [30, 40] of a two-input model and its error falling from 5 to 2.5;
backpropagated slopes 6 and 18. Then the course's regression network (2 -> 100 ReLU -> 100 ReLU -> 1, Adam,
mean squared error) on synthetic customers (deepfin.datasets.bank_transactions), against a linear
regression and the noise floor. Writes fit.png (predicted against true mean transactions).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from deepfin.datasets import bank_transactions
from deepfin.datasets.bank import expected_transactions
from deepfin.demos._common import Output, line
from deepfin.engine import Tensor
from deepfin.layers import Dense
from deepfin.models import Sequential
from deepfin.utils import set_random_seed
from deepfin.viz import plot_function_fit


def hand_examples() -> dict:
    """Compute DataCamp's worked numbers, each by deepfin's engine (forward pass or backward pass).

    Returns
    -------
    dict
        ``hidden_values`` and ``prediction`` ([5, 1] and 9), ``tanh_prediction`` (1.2382242525694254),
        ``slope`` and ``updated_weight`` (-24 and 2.24), ``error``, ``gradient`` and ``updated_error`` (5,
        [30, 40] and 2.5), ``backprop_slopes`` (6 and 18).

    Examples
    --------
    >>> numbers = hand_examples()
    >>> numbers["hidden_values"], numbers["prediction"], numbers["slope"], numbers["backprop_slopes"]
    ([5.0, 1.0], 9.0, -24.0, [6.0, 18.0])
    """
    customer = Tensor([2.0, 3.0])                       # children, accounts
    hidden = Tensor([[1.0, -1.0], [1.0, 1.0]])          # columns: node_0 [1, 1], node_1 [-1, 1]
    output = Tensor([2.0, -1.0])
    hidden_values = customer @ hidden
    prediction = (hidden_values * output).sum()
    tanh_prediction = ((customer @ hidden).tanh() * output).sum()

    weight = Tensor(2.0, requires_grad=True)            # one weight, input 3, target 10
    ((weight * 3.0 - 10.0) ** 2).backward()
    updated_weight = weight.item() - 0.01 * weight.grad.item()

    weights = Tensor([1.0, 2.0], requires_grad=True)    # two inputs [3, 4], target 6
    inputs = Tensor([3.0, 4.0])
    error = (weights * inputs).sum() - 6.0
    (error**2).backward()
    new_error = float(((weights.numpy() - 0.01 * weights.grad) * inputs.numpy()).sum() - 6.0)

    output_weights = Tensor([1.0, 2.0], requires_grad=True)  # hidden values [1, 3] into a ReLU output, target 4
    (((Tensor([1.0, 3.0]) * output_weights).sum().relu() - 4.0) ** 2).backward()
    return {"hidden_values": hidden_values.numpy().tolist(), "prediction": prediction.item(),
            "tanh_prediction": tanh_prediction.item(), "slope": weight.grad.item(), "updated_weight": updated_weight,
            "error": error.item(), "gradient": weights.grad.tolist(), "updated_error": new_error,
            "backprop_slopes": output_weights.grad.tolist()}


def build() -> Sequential:
    """Build DataCamp's regression model: 2 -> 100 ReLU -> 100 ReLU -> 1, Adam, mean squared error."""
    model = Sequential([Dense(100, activation="relu", input_shape=(2,)), Dense(100, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def run(out=None, quick: bool = False, epochs: int | None = None) -> dict:
    """Run the demo: print the hand calculations, train the network, write fit.png.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plot; None: ``runs/bank``.
    quick : bool, default False
        Train 30 epochs rather than 60.
    epochs : int or None, default None
        Epochs, instead of those.

    Returns
    -------
    dict
        ``hand_examples``'s numbers, and the test MSE of the network (``network_mse``), of a linear
        regression (``linear_mse``) and of the true mean (``floor_mse``).
    """
    output = Output(out, "bank")
    epochs = epochs or (30 if quick else 60)
    hand = hand_examples()
    print("DataCamp's hand calculations, by deepfin's engine")
    line("hidden values, prediction", f"{hand['hidden_values']}, {hand['prediction']:g}   (DataCamp: [5, 1], 9)")
    line("prediction with tanh", f"{hand['tanh_prediction']!r}   (DataCamp: 1.2382242525694254)")
    line("slope of one weight, updated weight",
         f"{hand['slope']:g}, {hand['updated_weight']:g}   (DataCamp: -24, 2.24)")
    line("error, gradient, error after the step",
         f"{hand['error']:g}, {hand['gradient']}, {hand['updated_error']:g}   (DataCamp: 5, [30, 40], 2.5)")
    line("backpropagated slopes", f"{hand['backprop_slopes']}   (DataCamp: 6 and 18)")

    X, y = bank_transactions(5000, random_state=0)
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    set_random_seed(0)
    model = build()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    network_mse = mean_squared_error(y_test, model.predict(x_test, verbose=0).ravel())
    linear_mse = mean_squared_error(y_test, LinearRegression().fit(x_train, y_train).predict(x_test))
    floor_mse = mean_squared_error(y_test, expected_transactions(*x_test.T))
    print(f"transactions next year from children and accounts: {len(x_train)} customers to train, "
          f"{len(x_test)} to test")
    line("test MSE: network 2-100-100-1", f"{network_mse:.2f}")
    line("test MSE: linear regression", f"{linear_mse:.2f}")
    line("test MSE: the true mean (noise floor)", f"{floor_mse:.2f}")
    grid = np.array([[children, 3.0] for children in np.linspace(0, 5, 51)])
    output.save(plot_function_fit(grid[:, 0], expected_transactions(*grid.T), {
        "network": model.predict(grid, verbose=0).ravel(),
        "linear regression": LinearRegression().fit(x_train, y_train).predict(grid)},
        xlabel="children", ylabel="transactions next year", target_label="true mean",
        title="Mean transactions against children, for customers with 3 accounts"), "fit.png")
    output.announce()
    return {**hand, "network_mse": network_mse, "linear_mse": linear_mse, "floor_mse": floor_mse}
