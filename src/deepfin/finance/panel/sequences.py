"""Sequences of daily returns for the sequence models (Fischer and Krauss's LSTM): each row's last ``steps``
one-day returns, oldest first, read from the price panel at fit and predict time.

The rows stay the study's rows (the same X, indexed by (date, ticker), for every family): ``ReturnWindows``
turns a row into its window of the panel's daily returns ending on the row's date, so no row sees a return after
its date, and the study's X does not grow by 240 columns. A return the panel does not know inside a window (a
price gap of a name that was halted) counts as 0, as a price carried forward would. ``ScalarStandardScaler``
standardises every return with one mean and one standard deviation, those of the training rows' windows (the
paper's "mean and standard deviation of the training set").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from deepfin.finance.panel.features import row_dates


class DailyReturns:
    """One-day returns of a price panel (date x ticker), float32, shared read-only by the estimators that read
    windows of it: copying an estimator (scikit-learn's ``clone``) shares it rather than copying it."""

    def __init__(self, prices: pd.DataFrame):
        returns = prices.pct_change(fill_method=None)
        self.dates = pd.DatetimeIndex(returns.index)
        self.tickers = pd.Index(returns.columns)
        self.values = np.nan_to_num(returns.to_numpy(np.float32), nan=0.0)

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return f"DailyReturns({len(self.dates)} dates x {len(self.tickers)} tickers)"

    def windows(self, index: pd.MultiIndex, steps: int) -> np.ndarray:
        """(rows, ``steps``): for each (date, ticker) of ``index``, the returns of the ``steps`` trading days up
        to and including its date, oldest first."""
        dates = self.dates.get_indexer(pd.DatetimeIndex(index.get_level_values("date")))
        tickers = self.tickers.get_indexer(index.get_level_values("ticker"))
        if (dates < 0).any() or (tickers < 0).any():
            row = int(np.flatnonzero((dates < 0) | (tickers < 0))[0])
            raise ValueError(f"Row {index[row]} is not in the price panel the daily returns come from.")
        if (dates < steps).any():
            row = int(np.flatnonzero(dates < steps)[0])
            raise ValueError(f"Row {index[row]} has fewer than {steps} daily returns before it; the sequence "
                             f"models need {steps}.")
        return self.values[dates[:, None] + np.arange(1 - steps, 1)[None, :], tickers[:, None]]


class ReturnWindows(TransformerMixin, BaseEstimator):
    """Rows (a DataFrame indexed by (date, ticker)) to their last ``steps`` daily returns, from ``returns`` (a
    ``DailyReturns``): (rows, steps) float32, oldest first."""

    def __init__(self, returns: DailyReturns | None = None, steps: int = 240):
        self.returns, self.steps = returns, steps

    def fit(self, X, y=None):
        return self

    def transform(self, X) -> np.ndarray:
        if self.returns is None:
            raise ValueError("ReturnWindows needs the daily returns of the price panel (returns=DailyReturns(...)).")
        row_dates(X, "ReturnWindows", "to find each row's window")
        return self.returns.windows(X.index, self.steps)


class ScalarStandardScaler(TransformerMixin, BaseEstimator):
    """``(X - mean) / std`` with one mean and one standard deviation over every value of the training rows."""

    def fit(self, X, y=None):
        values = np.asarray(X)
        self.mean_, self.scale_ = float(values.mean(dtype=np.float64)), float(values.std(dtype=np.float64))
        if not np.isfinite(self.scale_) or self.scale_ == 0:
            raise ValueError("The training rows' returns have no spread to standardise by.")
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "mean_")
        return ((np.asarray(X) - self.mean_) / self.scale_).astype(np.float32)
