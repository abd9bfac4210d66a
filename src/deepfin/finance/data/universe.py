"""Index membership through time: which names a run may train on, predict and hold on each date.

Two layouts (CSV or Parquet), as vendors and papers keep them:

- constituent lists: ``date, ticker`` rows, the members on each list's date. A list holds from its date
  until the next list (Krauss et al. use month-end S&P 500 lists this way); dates before the first list have
  no members;
- intervals: ``ticker, start, end`` rows, a member from ``start`` to ``end`` inclusive (``end`` is the last
  day as a member; empty: still a member).

Membership on a date uses only lists dated on or before it, so a name's later joining or leaving the index
never reaches back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepfin.finance.data.prices import DATE_COLUMNS, NAME_COLUMNS
from deepfin.finance.data.tables import find_column, identifiers, parse_dates, read_table

START_COLUMNS = ("start", "start_date", "from", "begin", "added")
END_COLUMNS = ("end", "end_date", "ending", "to", "until")  # the last day as a member (CRSP: ending)


@dataclass(frozen=True)
class Universe:
    """Index membership, as constituent lists or as intervals (exactly one of them).

    Parameters
    ----------
    lists : pd.DataFrame or None, default None
        Constituent lists: ``date``, ``ticker`` rows.
    intervals : pd.DataFrame or None, default None
        Intervals: ``ticker``, ``start``, ``end`` rows, ``end`` the last day as a member (NaT: still a member).
    source : str, default "the membership given"
        Where the membership came from.

    Raises
    ------
    ValueError
        When both or neither of ``lists`` and ``intervals`` are given.

    Examples
    --------
    >>> import pandas as pd
    >>> lists = pd.DataFrame({"date": pd.to_datetime(["2020-01-31", "2020-01-31", "2020-02-29"]),
    ...                       "ticker": ["A", "B", "A"]})
    >>> members = Universe(lists=lists).mask(pd.to_datetime(["2020-01-15", "2020-02-03", "2020-03-02"]), ["A", "B"])
    >>> members.to_numpy().tolist()  # no list yet on 15 January; February's list drops B
    [[False, False], [True, True], [True, False]]
    """

    lists: pd.DataFrame | None = None
    intervals: pd.DataFrame | None = None
    source: str = "the membership given"

    def __post_init__(self):
        if (self.lists is None) == (self.intervals is None):
            raise ValueError("A Universe holds constituent lists or intervals, exactly one of them.")

    @property
    def tickers(self) -> pd.Index:
        """Every name that is ever a member."""
        table = self.lists if self.lists is not None else self.intervals
        return pd.Index(table["ticker"].unique())

    def mask(self, dates: pd.DatetimeIndex, tickers) -> pd.DataFrame:
        """Say which names are members on which dates.

        A date's membership is the latest constituent list dated on or before it, or the intervals that hold
        it (``start`` and ``end`` inclusive).

        Parameters
        ----------
        dates : pd.DatetimeIndex
            Sorted dates.
        tickers : array-like
            The names to say it of; names the membership never lists are never members.

        Returns
        -------
        pd.DataFrame
            Booleans, ``dates`` by ``tickers``: True where the name is a member on the date.
        """
        tickers = pd.Index(tickers)
        if self.lists is not None:
            listed = pd.crosstab(self.lists["date"], self.lists["ticker"]).gt(0)
            listed = listed.reindex(columns=tickers, fill_value=False)
            as_of = listed.index.searchsorted(dates, side="right") - 1  # the latest list on or before each date
            values = np.where(as_of[:, None] >= 0, listed.to_numpy()[np.maximum(as_of, 0)], False)
            return pd.DataFrame(values, index=dates, columns=tickers)
        values = np.zeros((len(dates), len(tickers)), dtype=bool)
        column = tickers.get_indexer(self.intervals["ticker"])
        first = dates.searchsorted(self.intervals["start"], side="left")
        ends = self.intervals["end"]
        last = np.where(ends.isna(), len(dates), dates.searchsorted(ends.fillna(dates[0]), side="right"))
        for j, a, b in zip(column, first, last):
            if j >= 0:
                values[a:b, j] = True
        return pd.DataFrame(values, index=dates, columns=tickers)

    def describe(self) -> str:
        """One line on what the membership holds and where it came from."""
        if self.lists is not None:
            dates = self.lists["date"]
            return (f"{dates.nunique()} constituent lists from {dates.min().date()} to {dates.max().date()}, "
                    f"{self.lists['ticker'].nunique()} names ({self.source})")
        names = self.intervals["ticker"].nunique()
        return f"{len(self.intervals)} membership intervals of {names} names ({self.source})"


def load_universe(source: str | os.PathLike | pd.DataFrame, *, sep: str | None = None, decimal: str = ".",
                  date_format: str | None = None) -> Universe:
    """Load index membership from a file or DataFrame, as constituent lists or as intervals.

    A table with a date column (``DATE_COLUMNS``) holds constituent lists; one with start and end columns
    (``START_COLUMNS``, ``END_COLUMNS``) holds intervals, an empty end meaning still a member. Names are read as
    ``identifiers``, dates as ``parse_dates``.

    Parameters
    ----------
    source : str, os.PathLike or pd.DataFrame
        A CSV or Parquet file, or a DataFrame.
    sep : str or None, default None
        The CSV delimiter; None sniffs it.
    decimal : str, default "."
        The CSV decimal mark.
    date_format : str or None, default None
        The dates' ``strftime`` format, where reading them is ambiguous.

    Returns
    -------
    Universe
        The membership, with ``source`` naming the file (or "the membership DataFrame").

    Raises
    ------
    ValueError
        When the table lacks a name column, or both a date and a start column (the message names the columns
        found and those accepted); when it has a start but no end column; when an interval ends before it
        starts.

    Examples
    --------
    >>> import pandas as pd
    >>> intervals = pd.DataFrame({"ticker": ["A", "B"], "start": ["2020-01-01", "2020-02-01"],
    ...                           "end": ["2020-01-31", None]})
    >>> universe = load_universe(intervals)
    >>> universe.describe()
    '2 membership intervals of 2 names (the membership DataFrame)'
    >>> universe.mask(pd.to_datetime(["2020-01-31", "2020-02-03"]), ["A", "B"]).to_numpy().tolist()
    [[True, False], [False, True]]
    """
    if isinstance(source, pd.DataFrame):
        frame, origin = source, "the membership DataFrame"
    else:
        frame, origin = read_table(source, sep=sep, decimal=decimal, what="universe"), str(source)
    name = find_column(frame, NAME_COLUMNS)
    date, start, end = (find_column(frame, spellings) for spellings in (DATE_COLUMNS, START_COLUMNS, END_COLUMNS))
    if name is None or (date is None and start is None):
        raise ValueError(
            f"{origin}: a membership file has {list(NAME_COLUMNS)[3]!r} and 'date' columns (a constituent list on "
            f"each date) or {list(NAME_COLUMNS)[3]!r}, 'start' and 'end' columns (intervals). Columns found: "
            f"{[str(c) for c in frame.columns]}. Accepted names: {list(NAME_COLUMNS)}; dates "
            f"{list(DATE_COLUMNS)}; starts {list(START_COLUMNS)}; ends {list(END_COLUMNS)}.")
    tickers = identifiers(frame[name], f"{origin}, column {name!r}").to_numpy()
    if date is not None:
        lists = pd.DataFrame({"date": parse_dates(frame[date], f"{origin}, column {date!r}", date_format),
                              "ticker": tickers}).drop_duplicates()
        return Universe(lists=lists.reset_index(drop=True), source=origin)
    if end is None:
        raise ValueError(f"{origin} has a start column ({start!r}) but no end column: name the last day as a member "
                         f"one of {list(END_COLUMNS)} (empty where the name is still a member). Columns found: "
                         f"{[str(c) for c in frame.columns]}.")
    starts = parse_dates(frame[start], f"{origin}, column {start!r}", date_format)
    ends = frame[end]
    open_end = ends.isna() | (ends.astype(str).str.strip() == "")
    parsed_ends = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if (~open_end).any():
        parsed_ends[~open_end] = parse_dates(ends[~open_end], f"{origin}, column {end!r}", date_format)
    intervals = pd.DataFrame({"ticker": tickers, "start": starts, "end": parsed_ends.to_numpy()})
    backwards = intervals["end"] < intervals["start"]
    if backwards.any():
        row = intervals[backwards].iloc[0]
        raise ValueError(f"{origin}: {row['ticker']} ends ({row['end'].date()}) before it starts "
                         f"({row['start'].date()}).")
    return Universe(intervals=intervals, source=origin)
