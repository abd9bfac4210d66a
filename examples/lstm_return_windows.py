"""An LSTM on windows of daily returns, written as Keras 3 code with `keras` replaced by `deepfin`.

A simulated market whose next-day return reverses part of today's (a planted one-day reversal): each sample is
the last 20 daily returns of one stock, the label whether its next return beats the day's median. A
``Normalization`` layer learns the returns' scale from the training windows (``adapt``), an ``LSTM(16)`` reads
the window, and early stopping watches a hold-out of later dates. The test AUC is above 0.5 because the
reversal is there; on random walks (``--signal none``) it stays at 0.5.

    python examples/lstm_return_windows.py [--names 40] [--days 600] [--epochs 10] [--signal reversal|none]
"""

import argparse

import numpy as np
from sklearn.metrics import roc_auc_score

from deepfin import callbacks, layers, models
from deepfin.utils import set_random_seed

WINDOW = 20


def simulated_returns(names: int, days: int, signal: str, rng: np.random.Generator) -> np.ndarray:
    """Daily returns (days, names): noise, plus minus 10% of yesterday's return with the reversal."""
    returns = 0.02 * rng.standard_normal((days, names))
    if signal == "reversal":
        for t in range(1, days):
            returns[t] -= 0.1 * returns[t - 1]
    return returns


def windows(returns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each (day, stock)'s last WINDOW returns (samples, WINDOW, 1), its label and its day."""
    days, names = returns.shape
    x, y, day = [], [], []
    for t in range(WINDOW, days - 1):
        above = returns[t + 1] > np.median(returns[t + 1])
        for stock in range(names):
            x.append(returns[t - WINDOW + 1:t + 1, stock])
            y.append(above[stock])
            day.append(t)
    return np.array(x, "float32")[..., None], np.array(y, "float32"), np.array(day)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=40)
    parser.add_argument("--days", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--signal", default="reversal", choices=["reversal", "none"])
    args = parser.parse_args()
    set_random_seed(0)
    x, y, day = windows(simulated_returns(args.names, args.days, args.signal, np.random.default_rng(0)))
    train, test = day < 0.7 * args.days, day >= 0.7 * args.days + 1  # a day's gap: the label looks one day ahead

    normalize = layers.Normalization(axis=None)
    normalize.adapt(x[train])
    model = models.Sequential([layers.Input((WINDOW, 1)), normalize, layers.LSTM(16), layers.Dropout(0.1),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["auc"])
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(x[train], y[train], validation_split=0.2, shuffle=True, epochs=args.epochs,
                        batch_size=256, callbacks=[stop], verbose=0)
    auc = roc_auc_score(y[test], model.predict(x[test], batch_size=4096, verbose=0).ravel())
    print(f"{len(history.history['loss'])} epochs; test AUC {auc:.3f} on {test.sum()} windows "
          f"({args.signal}: {'above' if args.signal == 'reversal' else 'about'} 0.5)")


if __name__ == "__main__":
    main()
