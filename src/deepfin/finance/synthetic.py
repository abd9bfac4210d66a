"""Synthetic month-end price panels whose truth is known, to check that an evaluation tells it.

- ``random_walk``: independent returns; nothing is predictable, an honest AUC is 0.5.
- ``planted``: each stock's monthly return carries ``signal`` times its previous one (AR(1) momentum), so
  last month's return predicts the next month's sign (AUC about 0.5 + arcsin(signal) / pi).
- ``common_move``: every stock moves with the month's market return plus little noise of its own; which
  months go up is unpredictable, but rows of the same month look alike and share their label, which is what
  shuffled cross-validation leaks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("random_walk", "planted", "common_move")


def synthetic_prices(kind: str = "random_walk", n_tickers: int = 50, n_months: int = 240, signal: float = 0.5,
                     volatility: float = 0.06, seed: int = 0) -> pd.DataFrame:
    """Month-end prices (date x ticker) starting at 100, with the structure ``kind`` names."""
    if kind not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}: expected one of {KINDS}.")
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, volatility, (n_months, n_tickers))
    if kind == "planted":
        returns = np.empty_like(shocks)
        returns[0] = shocks[0]
        for t in range(1, n_months):
            returns[t] = signal * returns[t - 1] + np.sqrt(1 - signal**2) * shocks[t]
    elif kind == "common_move":
        returns = rng.normal(0.0, volatility, (n_months, 1)) + 0.2 * shocks
    else:
        returns = shocks
    prices = 100 * np.exp(np.cumsum(returns, axis=0))
    dates = pd.date_range("2000-01-31", periods=n_months, freq="ME")
    return pd.DataFrame(prices, index=dates, columns=[f"S{i:02d}" for i in range(n_tickers)])
