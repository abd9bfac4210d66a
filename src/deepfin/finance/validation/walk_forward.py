"""Validation by time: walk-forward windows on dates, never on rows.

Rows are keyed by (date, ticker), so a split on rows would put some tickers of a date in training and the
others in test. ``walk_forward`` splits the sorted unique dates with skfolio's ``WalkForward`` and maps the
windows back to rows. Between a window's last training date and its first test date lie ``purge`` dates
(the label horizon: a row's label is realised one period after its date, so the last training label would
otherwise be realised on the first test date) and ``embargo`` more (for dependence that outlasts the label).
Test windows follow each other without overlap; the last one may be shorter. Given the date each row's label
is realised, ``Window.rows`` also leaves out training rows whose label is not known before the first test date
(a halted name's label can come later than one period).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from skfolio.model_selection import WalkForward


@dataclass(frozen=True)
class Window:
    """The training and test dates of one walk-forward step.

    Attributes
    ----------
    train : pd.DatetimeIndex
        The training dates.
    test : pd.DatetimeIndex
        The test dates, after the training dates and the gap.
    """

    train: pd.DatetimeIndex
    test: pd.DatetimeIndex

    def rows(self, index: pd.MultiIndex, realised=None) -> tuple[np.ndarray, np.ndarray]:
        """Find the positions of the window's training and test rows in a (date, ticker) index.

        Parameters
        ----------
        index : pd.MultiIndex
            Rows (date, ticker).
        realised : array-like of datetime or None, default None
            Each row's label date (NaT when unknown): when given, only the training rows whose label is realised
            before the first test date are kept.

        Returns
        -------
        train : np.ndarray
            Positions of the training rows.
        test : np.ndarray
            Positions of the test rows (all of them, whatever their labels).
        """
        dates = index.get_level_values("date")
        train = dates.isin(self.train)
        if realised is not None:
            train &= np.asarray(pd.DatetimeIndex(realised) < self.test[0])
        return np.flatnonzero(train), np.flatnonzero(dates.isin(self.test))

    def label(self) -> str:
        """The test dates as text: ``"first to last"``."""
        return f"{self.test[0].date()} to {self.test[-1].date()}"


def walk_forward(dates, train_size: int, test_size: int, expanding: bool = False, purge: int = 1,
                 embargo: int = 0) -> list[Window]:
    """Cut ``dates`` into walk-forward windows: rolling (or expanding) training, then a gap, then the test.

    Sizes count dates (periods of the recipe). The gap is ``purge + embargo`` dates; test windows follow each
    other without overlap, the last one possibly shorter.

    Parameters
    ----------
    dates : array-like of datetime
        The rows' dates; duplicates are dropped and the rest sorted.
    train_size : int
        Training dates per window (the first window's, when ``expanding``).
    test_size : int
        Test dates per window.
    expanding : bool, default False
        Keep every earlier date in training rather than the last ``train_size``.
    purge : int, default 1
        Dates between training and test for the label horizon (a label is realised one period after its date).
    embargo : int, default 0
        More dates between them, for dependence that outlasts the label.

    Returns
    -------
    list of Window
        The windows, in date order.

    Raises
    ------
    ValueError
        When a size is not an integer of at least 1 (``purge``, ``embargo``: 0), or when ``train_size`` and
        the gap leave no test date.

    Examples
    --------
    >>> import pandas as pd
    >>> dates = pd.date_range("2000-01-31", periods=10, freq="ME")
    >>> windows = walk_forward(dates, train_size=4, test_size=2)
    >>> [window.label() for window in windows]
    ['2000-06-30 to 2000-07-31', '2000-08-31 to 2000-09-30', '2000-10-31 to 2000-10-31']
    >>> [str(d.date()) for d in windows[0].train]  # May 2000 is the purge
    ['2000-01-31', '2000-02-29', '2000-03-31', '2000-04-30']
    """
    dates = pd.DatetimeIndex(dates).unique().sort_values()
    for name, value, least in (("train_size", train_size, 1), ("test_size", test_size, 1), ("purge", purge, 0),
                               ("embargo", embargo, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"walk_forward needs an integer {name} >= {least}. Received: {name}={value!r}")
    if train_size + purge + embargo + 1 > len(dates):
        raise ValueError(f"train_size={train_size} plus a gap of {purge + embargo} leaves no test date among "
                         f"{len(dates)} dates; shorten train_size.")
    splitter = WalkForward(test_size=test_size, train_size=train_size, expand_train=expanding, reduce_test=True,
                           purged_size=purge + embargo)
    return [Window(dates[train], dates[test]) for train, test in splitter.split(np.zeros((len(dates), 1)))]
