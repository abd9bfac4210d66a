"""Features and labels from a price panel, vectorised, one row per (date, ticker).

- ``monthly_features``: the seed's recipe, the last 24 monthly returns, optional year and month dummies,
  label = next month's return > 0.
- ``daily_features``: Krauss, Do and Huck's 31 returns R(1..20) and R(40, 60, ..., 240) in days, label = the
  next day's return above that day's cross-sectional median.

A row is dated when its features are known (the close of that day or month); its label looks one period
ahead, which is the horizon a walk-forward split must purge. ``RECIPES`` pairs each recipe with its
period length and its next-period returns (what a backtest earns on a row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

KRAUSS_HORIZONS = (*range(1, 21), *range(40, 241, 20))


def monthly_features(prices: pd.DataFrame, lags: int = 24, dummies: bool = False) -> tuple[pd.DataFrame, pd.Series]:
    """``X`` (rows (date, ticker), columns r1..r{lags} [, year_*, month_*]) and ``y`` (1 if next month rose)."""
    returns = _monthly_returns(prices)
    features = _stack({f"r{k}": returns.shift(k - 1) for k in range(1, lags + 1)})
    label = _stack({"label": returns.shift(-1)})["label"]
    X, y = _complete(features, label, lambda future: (future > 0).astype(int))
    return (with_calendar_dummies(X) if dummies else X), y


def with_calendar_dummies(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with one-hot columns year_* and month_* of each row's date (the seed's dummies)."""
    dates = X.index.get_level_values("date")
    calendar = pd.DataFrame({"year": dates.year, "month": dates.month}, index=X.index).astype(str)
    return X.join(pd.get_dummies(calendar, dtype=float))


def daily_features(prices: pd.DataFrame, horizons=KRAUSS_HORIZONS) -> tuple[pd.DataFrame, pd.Series]:
    """``X`` (rows (date, ticker), columns R1..R240) and ``y`` (1 if tomorrow beats tomorrow's median)."""
    features = _stack({f"R{m}": prices / prices.shift(m) - 1 for m in horizons})
    tomorrow = _next_day_returns(prices)
    above_median = tomorrow.gt(tomorrow.median(axis=1), axis=0).astype(float).where(tomorrow.notna())
    label = _stack({"label": above_median})["label"]
    return _complete(features, label, lambda value: value.astype(int))


def monthly_forward_returns(prices: pd.DataFrame) -> pd.Series:
    """Next month's return of each (month-end date, ticker)."""
    return _stack({"forward": _monthly_returns(prices).shift(-1)})["forward"].dropna()


def daily_forward_returns(prices: pd.DataFrame) -> pd.Series:
    """Next day's return of each (date, ticker)."""
    return _stack({"forward": _next_day_returns(prices)})["forward"].dropna()


def _monthly_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Month-end to month-end returns (a missing month-end price gives a missing return, never zero)."""
    return prices.resample("ME").last().pct_change(fill_method=None)


def _next_day_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Each date's return over the following day: the daily label and the daily backtest use this one."""
    return prices.shift(-1) / prices - 1


@dataclass(frozen=True)
class Recipe:
    """A way to turn prices into rows: features and label, next-period returns, periods in a year."""

    name: str
    features: Callable[..., tuple[pd.DataFrame, pd.Series]]
    forward_returns: Callable[[pd.DataFrame], pd.Series]
    periods_per_year: int
    period: str


RECIPES = {
    "monthly": Recipe("monthly", monthly_features, monthly_forward_returns, 12, "month"),
    "daily": Recipe("daily", daily_features, daily_forward_returns, 252, "day"),
}


def _stack(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Wide date x ticker frames -> one frame indexed by (date, ticker) with a column per name."""
    stacked = pd.concat(frames, axis=1).stack(level=1, future_stack=True)
    stacked.index.names = ["date", "ticker"]
    return stacked


def _complete(features: pd.DataFrame, label: pd.Series, to_label) -> tuple[pd.DataFrame, pd.Series]:
    """Rows whose features and label are all known, sorted by date then ticker."""
    keep = features.notna().all(axis=1) & label.notna()
    X = features[keep].sort_index()
    return X, to_label(label[keep]).reindex(X.index).rename("label")
