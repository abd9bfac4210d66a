"""The dates a recipe makes rows on, and only complete periods among them.

A daily recipe's dates are the panel's dates. A monthly recipe's are month ends: a row is labelled with the
calendar month end and stands at the month's last date in the panel, where a name is tradable only if it is
priced on that date. A month counts only when it is complete: the panel goes on into a later month, or ends on
or after the month's last business day (Monday to Friday). Data ending on 28 December therefore give no December
row, and no "next month" for November; a month whose last weekday is an exchange holiday counts only once the
data reach the next month (a complete month dropped, never a partial one used).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Grid:
    """Row dates (``labels``) and, for each, the position in the panel of the date it stands at.

    Attributes
    ----------
    labels : pd.DatetimeIndex
        The row dates: the panel's dates (daily), or calendar month ends (monthly).
    positions : np.ndarray
        For each row date, the position in ``panel_dates`` of the date it stands at.
    panel_dates : pd.DatetimeIndex
        The price panel's dates.
    """

    labels: pd.DatetimeIndex
    positions: np.ndarray
    panel_dates: pd.DatetimeIndex

    @property
    def trading_dates(self) -> pd.DatetimeIndex:
        """The panel date each row date stands at (a month's last date in the panel, for monthly rows)."""
        return self.panel_dates[self.positions]

    def position_of(self, panel_positions: np.ndarray) -> np.ndarray:
        """Find, for panel positions, the first grid position at or after each.

        Parameters
        ----------
        panel_positions : np.ndarray
            Positions in ``panel_dates``.

        Returns
        -------
        np.ndarray
            Grid positions, ``len(labels)`` where no row date is at or after the panel position.
        """
        return np.searchsorted(self.positions, panel_positions, side="left")


def grid(prices: pd.DataFrame, period: str) -> Grid:
    """Make the row dates of ``period`` over a panel's dates: every date, or complete month ends.

    Parameters
    ----------
    prices : pd.DataFrame
        A price panel; only its (sorted) dates are read.
    period : {"day", "month"}
        The recipe's period.

    Returns
    -------
    Grid
        Daily: every panel date. Monthly: one row date per complete month (see the module), labelled with the
        calendar month end and standing at the month's last date in the panel.

    Raises
    ------
    ValueError
        On an unknown ``period``.

    Examples
    --------
    >>> import pandas as pd
    >>> dates = pd.to_datetime(["2020-01-30", "2020-01-31", "2020-02-27", "2020-02-28", "2020-03-02"])
    >>> months = grid(pd.DataFrame({"A": [1.0, 1.1, 1.2, 1.3, 1.4]}, index=dates), "month")
    >>> [str(d.date()) for d in months.labels]  # March is not complete
    ['2020-01-31', '2020-02-29']
    >>> [str(d.date()) for d in months.trading_dates]
    ['2020-01-31', '2020-02-28']
    """
    dates = prices.index
    if period == "day":
        return Grid(dates, np.arange(len(dates)), dates)
    if period != "month":
        raise ValueError(f"Unknown period {period!r}: expected 'day' or 'month'.")
    months = dates.to_period("M")
    last_of_month = np.flatnonzero(np.r_[months[1:] != months[:-1], True])
    complete = np.ones(len(last_of_month), dtype=bool)
    final = dates[last_of_month[-1]].normalize()
    month_end = final.to_period("M").to_timestamp(how="end").normalize()
    complete[-1] = final >= pd.offsets.BMonthEnd().rollback(month_end)  # reached the month's last business day
    positions = last_of_month[complete]
    labels = pd.DatetimeIndex(dates[positions].to_period("M").to_timestamp(how="end").normalize())
    return Grid(labels, positions, dates)
