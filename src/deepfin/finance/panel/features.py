"""Features from a price panel, vectorised, one row per (date, ticker) known on that date.

- ``monthly_features``: the recipe of Jansen (2020, ch. 17), the last 24 monthly returns (month-end to
  month-end, the last price of each month), optional year and month dummies; rows on complete month ends.
- ``daily_features``: the 31 returns of Krauss, Do and Huck (2017), R(1..20) and R(40, 60, ..., 240) in days.

Features are float32 (computed in float64 from the prices, then rounded once): the rows of a 500-name, 25-year
daily panel take 370 MB rather than 740 MB.

A row exists when the name is priced on its date (tradable) and every feature is known from prices up to that
date: a name enters the cross-section once it has the history its features need and stays in it until its last
price, whatever happens later. Labels are not here: they come from the next period's outcome
(``deepfin.finance.panel.outcomes``), which may be unknown for a row that is still predicted and ranked.
``RECIPES`` pairs each recipe with its period, periods a year and default label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from deepfin.finance.panel.periods import grid

KRAUSS_HORIZONS = (*range(1, 21), *range(40, 241, 20))


def monthly_features(prices: pd.DataFrame, lags: int = 24, dummies: bool = False) -> pd.DataFrame:
    """Make the monthly rows: each name's last ``lags`` monthly returns on each complete month end.

    A monthly return runs from the last price of one month to the last price of the next. A row exists where
    the name is priced on the month's last date in the panel and all ``lags`` returns are known.

    Parameters
    ----------
    prices : pd.DataFrame
        The validated price panel, dates by tickers.
    lags : int, default 24
        Monthly returns per row: Jansen (2020, ch. 17) uses 24.
    dummies : bool, default False
        Also append the year and month dummies of the rows' dates (``with_calendar_dummies``).

    Returns
    -------
    pd.DataFrame
        Float32 rows indexed by (date, ticker), the date the calendar month end; columns ``r1`` ...
        ``r{lags}``, ``r1`` the month just ended, then (with ``dummies``) ``year_*`` and ``month_*``.

    Examples
    --------
    >>> from deepfin.finance import synthetic_prices
    >>> X = monthly_features(synthetic_prices(n_tickers=2, n_months=5), lags=2)
    >>> list(X.columns), list(X.index.names), len(X)
    (['r1', 'r2'], ['date', 'ticker'], 6)
    """
    months = grid(prices, "month")
    returns = prices.resample("ME").last().pct_change(fill_method=None)  # last price of each month to the next
    tradable = pd.DataFrame(False, index=returns.index, columns=prices.columns)
    tradable.loc[months.labels] = prices.notna().to_numpy()[months.positions]
    X = _known_rows({f"r{k}": lambda k=k: returns.shift(k - 1) for k in range(1, lags + 1)}, tradable)
    return with_calendar_dummies(X) if dummies else X


def daily_features(prices: pd.DataFrame, horizons=KRAUSS_HORIZONS) -> pd.DataFrame:
    """Make the daily rows: each name's returns over the last m trading days, for each m in ``horizons``.

    Parameters
    ----------
    prices : pd.DataFrame
        The validated price panel, dates by tickers.
    horizons : tuple of int, default KRAUSS_HORIZONS
        The m's: by default those of Krauss, Do and Huck (2017), 1 to 20, then 40 to 240 by 20.

    Returns
    -------
    pd.DataFrame
        Float32 rows indexed by (date, ticker), where the name is priced on the date and every return is
        known; columns ``R{m}`` = price / price m trading days earlier - 1.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> prices = pd.DataFrame({"A": np.linspace(1, 2, 30)}, index=pd.bdate_range("2020-01-01", periods=30))
    >>> X = daily_features(prices, horizons=(1, 5))
    >>> list(X.columns), len(X)
    (['R1', 'R5'], 25)
    """
    return _known_rows({f"R{m}": lambda m=m: prices / prices.shift(m) - 1 for m in horizons}, prices.notna())


def with_calendar_dummies(X: pd.DataFrame) -> pd.DataFrame:
    """Append one-hot uint8 columns ``year_*`` and ``month_*`` of each row's date, for the years and months of its rows.

    The dummies Jansen (2020, ch. 17) makes with ``pd.get_dummies`` over the whole sample:
    ``CalendarDummies.of(X).transform(X)``.

    Parameters
    ----------
    X : pd.DataFrame
        Rows indexed by (date, ticker).

    Returns
    -------
    pd.DataFrame
        ``X`` with the dummy columns appended.

    Examples
    --------
    >>> from deepfin.finance import monthly_features, synthetic_prices
    >>> X = monthly_features(synthetic_prices(n_tickers=2, n_months=5), lags=2)
    >>> list(with_calendar_dummies(X).columns)
    ['r1', 'r2', 'year_2000', 'month_3', 'month_4', 'month_5']
    """
    return CalendarDummies.of(X).transform(X)


_CALENDAR_DATES = ("Calendar dummies", "to read each row's date")  # row_dates's message


class CalendarDummies(TransformerMixin, BaseEstimator):
    """Append one-hot uint8 columns ``year_*`` and ``month_*`` of each row's date to a DataFrame.

    The date is the ``date`` level of the row's index. The columns are those of the ``years`` and ``months``
    given, each prefix's values sorted as text (month_1, month_10, month_11, month_12, month_2, ...; the
    ``pd.get_dummies`` of numbers in Jansen (2020, ch. 17) sorts them as numbers, which only permutes the
    network's inputs). A row whose year or month is not among them has zeros in those columns.

    Given categories are settings, so every set of rows gets the same columns: a model can carry the step and
    make the dummies of the rows it is given (a shuffled fold's training rows, its test rows) instead of holding
    them for the whole panel. ``of(X)`` takes the years and months of ``X``'s rows. ``years=None`` (or
    ``months=None``) learns them in ``fit`` from the rows it is fitted on, point in time: a test row of a year the
    training rows do not have gets zeros in every year column, not a column of its own that training never
    set. The categories used are ``years_`` and ``months_``.

    Parameters
    ----------
    years : sequence of int or None, default ()
        The years that get a column; None learns them in ``fit``.
    months : sequence of int or None, default 1 to 12
        The months that get a column; None learns them in ``fit``.

    Attributes
    ----------
    years_ : list of int
        The years of the columns (after ``fit``).
    months_ : list of int
        The months of the columns (after ``fit``).

    Examples
    --------
    >>> from deepfin.finance import monthly_features, synthetic_prices
    >>> X = monthly_features(synthetic_prices(n_tickers=2, n_months=5), lags=2)
    >>> dummies = CalendarDummies(years=None).fit(X)
    >>> dummies.years_, dummies.months_[:3]
    ([2000], [1, 2, 3])
    >>> list(dummies.transform(X).columns)[:5]
    ['r1', 'r2', 'year_2000', 'month_1', 'month_10']
    """

    def __init__(self, years=(), months=tuple(range(1, 13))):
        self.years, self.months = years, months

    @classmethod
    def of(cls, X: pd.DataFrame) -> CalendarDummies:
        """The dummies of the years and months that ``X``'s rows have."""
        dates = row_dates(X, *_CALENDAR_DATES)
        return cls(years=sorted(set(dates.year)), months=sorted(set(dates.month)))

    def fit(self, X: pd.DataFrame, y=None):
        """Learn the years and months not given (None) from the dates of ``X``'s rows."""
        dates = row_dates(X, *_CALENDAR_DATES)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.years_ = sorted(set(dates.year)) if self.years is None else list(self.years)
        self.months_ = sorted(set(dates.month)) if self.months is None else list(self.months)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` with the dummy columns appended."""
        dates = row_dates(X, *_CALENDAR_DATES)
        years, months = self._categories()
        parts = [_one_hot(prefix, values, categories) for prefix, values, categories in
                 (("year", dates.year, years), ("month", dates.month, months))]
        return X.join(pd.concat(parts, axis=1).set_axis(X.index))

    def _categories(self) -> tuple[list, list]:
        """The years and months of the columns: learned in ``fit`` where not given."""
        if self.years is None or self.months is None:
            check_is_fitted(self, "years_")
            return self.years_, self.months_
        return list(self.years), list(self.months)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The input columns, then ``year_*`` and ``month_*`` in the order ``transform`` appends them."""
        names = list(self.feature_names_in_ if input_features is None else input_features)
        for prefix, categories in zip(("year", "month"), self._categories()):
            names += [f"{prefix}_{value}" for value in sorted(categories, key=str)]
        return np.asarray(names, dtype=object)


def row_dates(X, needed_by: str, purpose: str) -> pd.DatetimeIndex:
    """Read the date of each row of ``X``, a DataFrame indexed by (date, ticker).

    Parameters
    ----------
    X : pd.DataFrame
        Rows with a ``date`` index level.
    needed_by : str
        What needs the dates, for the error message.
    purpose : str
        What it needs them for, for the error message.

    Returns
    -------
    pd.DatetimeIndex
        The ``date`` level of ``X``'s index.

    Raises
    ------
    ValueError
        When ``X`` is not a DataFrame with a ``date`` index level.
    """
    if not isinstance(X, pd.DataFrame) or "date" not in (X.index.names or []):
        raise ValueError(f"{needed_by} needs a DataFrame indexed by (date, ticker), {purpose}. "
                         f"Received: {type(X).__name__}")
    return pd.DatetimeIndex(X.index.get_level_values("date"))


@dataclass(frozen=True)
class Recipe:
    """A way to turn prices into rows: its features, period, periods in a year and default label.

    Attributes
    ----------
    name : str
        "monthly" or "daily".
    features : callable
        Prices -> rows (``monthly_features``, ``daily_features``).
    period : str
        The grid's period, "month" or "day".
    periods_per_year : int
        12 or 252, to annualise.
    label : str
        The default label: "up" (monthly) or "above_median" (daily).
    """

    name: str
    features: Callable[..., pd.DataFrame]
    period: str
    periods_per_year: int
    label: str


RECIPES = {
    "monthly": Recipe("monthly", monthly_features, "month", 12, "up"),
    "daily": Recipe("daily", daily_features, "day", 252, "above_median"),
}


def _known_rows(features: dict[str, Callable[[], pd.DataFrame]], tradable: pd.DataFrame) -> pd.DataFrame:
    """Rows whose name is tradable on the date and whose features are all known, sorted by date then ticker.

    ``features`` maps each column to a function making its wide (date x ticker) frame; each frame is made
    twice (once to find the known rows, once to take their values) so that only one is in memory at a time.
    The values are computed in float64 and stored in float32: one (rows x features) array filled column by
    column, with no float64 copy of the rows.
    """
    tradable = tradable.sort_index(axis=1)
    known = tradable.to_numpy(dtype=bool).copy()
    for make in features.values():
        known &= make().reindex(columns=tradable.columns).notna().to_numpy()
    rows, columns = np.nonzero(known)
    index = pd.MultiIndex.from_arrays([tradable.index[rows], tradable.columns[columns]], names=["date", "ticker"])
    values = np.empty((len(rows), len(features)), dtype=np.float32)
    for j, make in enumerate(features.values()):
        values[:, j] = make().reindex(columns=tradable.columns).to_numpy()[rows, columns]
    return pd.DataFrame(values, index=index, columns=list(features), copy=False)


def _one_hot(prefix: str, values, categories) -> pd.DataFrame:
    """Make one uint8 column ``{prefix}_{category}`` per category, ordered as text (as ``pd.get_dummies``).

    A value not among the categories gets zeros.
    """
    ordered = sorted(categories, key=str)
    position = pd.Index(ordered).get_indexer(np.asarray(values))
    one_hot = np.zeros((len(position), len(ordered)), dtype=np.uint8)
    known = position >= 0
    one_hot[np.flatnonzero(known), position[known]] = 1
    return pd.DataFrame(one_hot, columns=[f"{prefix}_{value}" for value in ordered], copy=False)
