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
    """The training and test dates of one walk-forward step."""

    train: pd.DatetimeIndex
    test: pd.DatetimeIndex

    def rows(self, index: pd.MultiIndex, realised=None) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the training and test rows of a (date, ticker) index; with ``realised`` (each row's
        label date, NaT when unknown), only training rows whose label is realised before the first test date."""
        dates = index.get_level_values("date")
        train = dates.isin(self.train)
        if realised is not None:
            train &= np.asarray(pd.DatetimeIndex(realised) < self.test[0])
        return np.flatnonzero(train), np.flatnonzero(dates.isin(self.test))

    def label(self) -> str:
        return f"{self.test[0].date()} to {self.test[-1].date()}"


def walk_forward(dates, train_size: int, test_size: int, expanding: bool = False, purge: int = 1,
                 embargo: int = 0) -> list[Window]:
    """Windows over ``dates`` (sizes in dates): rolling (or expanding) training, then a gap, then the test."""
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
