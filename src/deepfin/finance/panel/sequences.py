"""Sequences of daily returns for the sequence models: each row's last ``steps`` one-day returns, oldest first.

The sequence models (the LSTM of Fischer and Krauss (2018)) read them from the price panel at fit and predict
time.

The rows stay the study's rows (the same X, indexed by (date, ticker), for every family): ``ReturnWindows``
turns a row into its window of the panel's daily returns ending on the row's date, so no row sees a return after
its date, and the study's X does not grow by 240 columns. A return the panel does not know inside a window (a
price gap of a name that was halted) counts as 0, as a price carried forward would. ``ScalarStandardScaler``
standardises every return with one mean and one standard deviation, those of the training rows' windows (Fischer
and Krauss's "mean and standard deviation of the training set").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from deepfin.finance.panel.features import row_dates


class DailyReturns:
    """One-day returns of a price panel (date x ticker), float32, shared read-only by the estimators that read it.

    Copying an estimator (scikit-learn's ``clone``) shares it rather than copying it. A return the panel does
    not know is 0.

    Parameters
    ----------
    prices : pd.DataFrame
        The price panel, dates by tickers.
    """

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
        """Take, for each (date, ticker) of ``index``, the returns of the ``steps`` trading days up to its date.

        Parameters
        ----------
        index : pd.MultiIndex
            Rows (date, ticker), each a date and a ticker of the panel.
        steps : int
            Returns per row.

        Returns
        -------
        np.ndarray
            (rows, ``steps``) float32, oldest first, the row's own date last.

        Raises
        ------
        ValueError
            When a row is not in the panel, or has fewer than ``steps`` returns before it.
        """
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
    """Turn rows (a DataFrame indexed by (date, ticker)) into their last ``steps`` daily returns.

    Parameters
    ----------
    returns : DailyReturns or None, default None
        The panel's daily returns; ``transform`` needs them.
    steps : int, default 240
        Returns per row: (rows, steps) float32, oldest first.
    """

    def __init__(self, returns: DailyReturns | None = None, steps: int = 240):
        self.returns, self.steps = returns, steps

    def fit(self, X, y=None):
        """Nothing to learn."""
        return self

    def transform(self, X) -> np.ndarray:
        """The rows' windows of daily returns (``DailyReturns.windows``)."""
        if self.returns is None:
            raise ValueError("ReturnWindows needs the daily returns of the price panel (returns=DailyReturns(...)).")
        row_dates(X, "ReturnWindows", "to find each row's window")
        return self.returns.windows(X.index, self.steps)


class ScalarStandardScaler(TransformerMixin, BaseEstimator):
    """``(X - mean) / std`` with one mean and one standard deviation over every value of the training rows."""

    def fit(self, X, y=None):
        """Learn the mean and standard deviation of every value of ``X``; raises when they have no spread."""
        values = np.asarray(X)
        self.mean_, self.scale_ = float(values.mean(dtype=np.float64)), float(values.std(dtype=np.float64))
        if not np.isfinite(self.scale_) or self.scale_ == 0:
            raise ValueError("The training rows' returns have no spread to standardise by.")
        return self

    def transform(self, X) -> np.ndarray:
        """``(X - mean_) / scale_``, float32."""
        check_is_fitted(self, "mean_")
        return ((np.asarray(X) - self.mean_) / self.scale_).astype(np.float32)
