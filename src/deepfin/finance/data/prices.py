"""Price panels in: files or the embedded S&P 500 sample, checked before anything is computed from them.

A panel is a DataFrame indexed by date (sorted, unique) with one column of prices per ticker, missing where a
name has no price (before it lists, after it delists, during a halt). Nothing is forward-filled and nothing is
excluded for what happens later: which names count on a date is decided date by date, downstream.

Files are wide (first column dates, one column per ticker) or long (one row per date and name), with the key
columns spelled as vendors spell them (``NAME_COLUMNS``, ``DATE_COLUMNS``); the value is a price
(``PRICE_COLUMNS``, CRSP's ``prc`` taken in absolute value: negative means a bid/ask average) or a simple
return (``RETURN_COLUMNS``), from which a price index is built. A long file may carry CRSP's ``dlret``, the
return from a name's last price to its delisting value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from deepfin.finance.data.tables import SEED_HDF_KEY, find_column, identifiers, numeric_column, parse_dates, read_table

# in order of preference: a permanent identifier before a ticker, which vendors reuse
NAME_COLUMNS = ("permno", "secid", "isin", "ticker", "symbol", "asset")
DATE_COLUMNS = ("date", "datetime", "timestamp")
# adjusted prices first; then total returns (a plain close is usually not adjusted for splits)
PRICE_COLUMNS = ("adj_close", "adj close", "adjclose", "adjusted_close")
RETURN_COLUMNS = ("ret", "return", "returns")
PLAIN_PRICE_COLUMNS = ("close", "price", "prc")
DELISTING_COLUMNS = ("dlret",)
CRSP_MISSING_RETURNS = (-66.0, -77.0, -88.0, -99.0, "A", "B", "C", "D", "E")
CRSP_MISSING_DELISTING_RETURNS = (-55.0, -66.0, -88.0, -99.0, "S", "T", "A", "P")


@dataclass
class PriceReport:
    """What loading and validation found: the names, the value read, gaps and codes counted.

    Attributes
    ----------
    n_dates : int
        The trading dates kept.
    tickers : list of str
        The names with at least one price.
    gaps : dict of str to int
        Per name, the missing prices between its first and last price (counted, never filled).
    notes : list of str
        What was read, left out or coded missing, one sentence each.
    spacing : str
        How far apart the dates are: "day", "week", "month" or "irregular" (``spacing``).
    """

    n_dates: int = 0
    tickers: list[str] = field(default_factory=list)
    gaps: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    spacing: str = "day"  # what the dates are: "day", "week", "month" or "irregular" (``spacing``)

    def lines(self) -> list[str]:
        """The report as lines of text: the count of names and dates, the notes, then each name's gaps."""
        out = [f"{len(self.tickers)} names over {self.n_dates} dates"]
        out += self.notes
        out += [f"{ticker}: {n} missing prices inside its history (left missing)" for ticker, n in self.gaps.items()]
        return out


@dataclass
class Panel:
    """Prices (date x ticker) and what the data say of delistings.

    Attributes
    ----------
    prices : pd.DataFrame
        Prices, dates by tickers, NaN where a name has no price.
    delisting_returns : pd.Series
        Name -> the return from its last price to its delisting value, where the data give one.
    source : str
        Where the prices came from, for reports and error messages.
    notes : list of str
        What loading found (the columns read, codes read as missing).
    simulated : bool
        True for simulated data: their dates are made up, and no real index is compared with them.
    """

    prices: pd.DataFrame
    delisting_returns: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    source: str = "the DataFrame given"
    notes: list[str] = field(default_factory=list)
    simulated: bool = False


def load_prices(source: str | os.PathLike | pd.DataFrame | None = None, **options) -> pd.DataFrame:
    """Load a wide price panel (date x ticker) from the embedded S&P 500 sample, a DataFrame or a file.

    ``load_panel(source, **options).prices``: see ``load_panel`` for the layouts read.

    Parameters
    ----------
    source : str, os.PathLike, pd.DataFrame or None, default None
        None for the embedded S&P 500 sample (skfolio's), a DataFrame, or a CSV, Parquet or HDF5 file.
    **options
        ``sep``, ``decimal``, ``date_format``, ``hdf_key``: how to read a file (``load_panel``).

    Returns
    -------
    pd.DataFrame
        Prices, dates by tickers, NaN where a name has no price.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"date": ["2020-01-02", "2020-01-03"], "AAA": [10.0, 10.5], "BBB": [20.0, 19.0]})
    >>> load_prices(wide).shape
    (2, 2)
    """
    return load_panel(source, **options).prices


def load_panel(source: str | os.PathLike | pd.DataFrame | None = None, *, sep: str | None = None,
               decimal: str = ".", date_format: str | None = None, hdf_key: str = SEED_HDF_KEY) -> Panel:
    """Load the price panel of the embedded S&P 500 sample, a DataFrame or a file (CSV, Parquet, HDF5).

    A table is long when it has a name column (``NAME_COLUMNS``): one row per date and name, with a price
    (``PRICE_COLUMNS``, then ``PLAIN_PRICE_COLUMNS``; CRSP's ``prc`` in absolute value) or a simple return
    (``RETURN_COLUMNS``, CRSP's missing-return codes read as missing), from which a price index is built
    (``prices_from_returns``), and optionally ``dlret``. Otherwise it is wide: a date column (or the first
    column), then one price column per name. A DataFrame indexed by its dates, or by (date, ticker), is read
    the same way.

    Parameters
    ----------
    source : str, os.PathLike, pd.DataFrame or None, default None
        None for the embedded S&P 500 sample (skfolio's), a DataFrame, or a file.
    sep : str or None, default None
        The CSV delimiter; None sniffs it.
    decimal : str, default "."
        The CSV decimal mark.
    date_format : str or None, default None
        The dates' ``strftime`` format, where reading them is ambiguous (``parse_dates``).
    hdf_key : str, default "quandl/wiki/prices"
        The key of the table in an HDF5 store (the key of Jansen (2020, ch. 17)'s ``assets.h5``).

    Returns
    -------
    Panel
        The prices (not validated yet: ``validate_prices``), delisting returns, source and notes.

    Raises
    ------
    ValueError
        On a table it cannot read as prices: a long table without a date or value column, repeated (date,
        name) rows, text where numbers belong, unreadable dates; the message names the columns found.
    FileNotFoundError
        When there is no file at ``source``.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"date": ["2020-01-31", "2020-02-28", "2020-01-31"],
    ...                      "permno": [10001, 10001, 10002], "ret": [0.01, -0.02, 0.03]})
    >>> panel = load_panel(long)
    >>> list(panel.prices.columns), panel.prices.shape
    (['10001', '10002'], (2, 2))
    >>> panel.notes
    ["names from column 'permno', dates from 'date', simple returns from 'ret'"]
    """
    if source is None:
        from skfolio.datasets import load_sp500_dataset

        return Panel(load_sp500_dataset(), source="embedded S&P 500 sample (skfolio)")
    if isinstance(source, pd.DataFrame):
        return _as_panel(source, "the DataFrame given", date_format)
    frame = read_table(source, sep=sep, decimal=decimal, hdf_key=hdf_key)
    return _as_panel(frame, str(source), date_format)


def _as_panel(frame: pd.DataFrame, origin: str, date_format: str | None) -> Panel:
    if isinstance(frame.index, pd.MultiIndex) or str(frame.index.name).lower() in DATE_COLUMNS + NAME_COLUMNS:
        frame = frame.reset_index()  # a long frame indexed by (date, ticker), or a frame indexed by its dates
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.rename_axis("date").reset_index()
    name = find_column(frame, NAME_COLUMNS)
    if name is not None:
        return _from_long(frame, name, origin, date_format)
    return _from_wide(frame, origin, date_format)


def _from_long(frame: pd.DataFrame, name: str, origin: str, date_format: str | None) -> Panel:
    date = find_column(frame, DATE_COLUMNS)
    value = next((c for spellings in (PRICE_COLUMNS, RETURN_COLUMNS, PLAIN_PRICE_COLUMNS)
                  if (c := find_column(frame, spellings)) is not None), None)
    if date is None or value is None:
        missing = "a date column" if date is None else "a price or return column"
        raise ValueError(
            f"{origin} looks long (it has a name column, {name!r}) but lacks {missing}. Columns found: "
            f"{[str(c) for c in frame.columns]}. Accepted: dates {list(DATE_COLUMNS)}; prices "
            f"{list(PRICE_COLUMNS + PLAIN_PRICE_COLUMNS)} or simple returns {list(RETURN_COLUMNS)}.")
    is_return = str(value).strip().lower() in RETURN_COLUMNS
    notes = [f"names from column {str(name)!r}, dates from {str(date)!r}, "
             f"{'simple returns' if is_return else 'prices'} from {str(value)!r}"]
    long = pd.DataFrame({"date": parse_dates(frame[date], f"{origin}, column {date!r}", date_format),
                         "ticker": identifiers(frame[name], f"{origin}, column {name!r}").to_numpy()})
    codes = CRSP_MISSING_RETURNS if is_return else ()
    values, n_coded = numeric_column(frame[value], f"{origin}, column {value!r}", codes)
    long["value"] = values.to_numpy()  # by position: the frame's own index may be anything
    if n_coded:
        notes.append(f"{n_coded} CRSP missing-return codes in {str(value)!r} read as missing")
    if str(value).strip().lower() == "prc" and (long["value"] < 0).any():
        notes.append(f"{int((long['value'] < 0).sum())} negative PRC values (bid/ask averages) taken in absolute "
                     "value")
        long["value"] = long["value"].abs()
    duplicated = long.duplicated(["date", "ticker"])
    if duplicated.any():
        first = long[duplicated].iloc[0]
        raise ValueError(f"{origin} has {int(duplicated.sum())} repeated ({date}, {name}) rows, first "
                         f"{first['date'].date()} {first['ticker']}; keep one row per date and name.")
    wide = long.pivot(index="date", columns="ticker", values="value").sort_index()
    wide = wide.rename_axis(None).rename_axis(None, axis=1)
    if is_return:
        wide = prices_from_returns(wide, origin)
    return Panel(wide, _delisting_column(frame, name, origin), origin, notes)


def _delisting_column(frame: pd.DataFrame, name: str, origin: str) -> pd.Series:
    column = find_column(frame, DELISTING_COLUMNS)
    if column is None:
        return pd.Series(dtype=float)
    return delisting_returns(frame[name], frame[column], f"{origin}, column {column!r}")


def load_delistings(path, *, sep: str | None = None, decimal: str = ".") -> pd.Series:
    """Read a delistings file (CSV or Parquet): a name column and ``dlret``, one return per name.

    ``dlret`` (or a column ``return`` or ``ret``) is the return from the name's last price to its delisting
    value; CRSP's missing-value codes read as missing.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    sep : str or None, default None
        The CSV delimiter; None sniffs it.
    decimal : str, default "."
        The CSV decimal mark.

    Returns
    -------
    pd.Series
        Ticker -> delisting return (the last one given per name), each at least -1.

    Raises
    ------
    ValueError
        When the file lacks a name or a return column, or holds a return below -100%.
    """
    frame = read_table(path, sep=sep, decimal=decimal, what="delistings")
    name, value = find_column(frame, NAME_COLUMNS), find_column(frame, DELISTING_COLUMNS + ("return", "ret"))
    if name is None or value is None:
        raise ValueError(f"{path}: a delistings file has a name column ({', '.join(NAME_COLUMNS)}) and 'dlret'. "
                         f"Columns found: {[str(c) for c in frame.columns]}.")
    return delisting_returns(frame[name], frame[value], f"{path}, column {value!r}")


def delisting_returns(names: pd.Series, values: pd.Series, origin: str) -> pd.Series:
    """Map each name to its delisting return, the last one given per name.

    CRSP's missing-value codes read as missing and are dropped; a return below -100% is an error.

    Parameters
    ----------
    names : pd.Series
        The names, one per value.
    values : pd.Series
        The delisting returns.
    origin : str
        Where they come from, for the error messages.

    Returns
    -------
    pd.Series
        Ticker -> delisting return, float, index named ``ticker``.
    """
    numbers, _ = numeric_column(values, origin, CRSP_MISSING_DELISTING_RETURNS)
    returns = pd.Series(numbers.to_numpy(), index=identifiers(names, origin)).dropna()
    returns = returns.groupby(level=0).last().astype(float).rename_axis("ticker")
    if (returns < -1).any():
        ticker = returns.index[np.argmax(returns.to_numpy() < -1)]
        raise ValueError(f"{origin}: a delisting return below -100% ({returns[ticker]} for {ticker}); returns are "
                         "simple returns, -1 means the holder lost everything.")
    return returns


def _from_wide(frame: pd.DataFrame, origin: str, date_format: str | None) -> Panel:
    date = find_column(frame, DATE_COLUMNS) or frame.columns[0]
    values = frame.drop(columns=[date])
    text = [c for c in values.columns if not pd.api.types.is_numeric_dtype(values[c])]
    words = [str(c) for c in text if pd.to_numeric(values[c], errors="coerce").isna().mean() > 0.5]
    if words or values.shape[1] == 0:
        raise ValueError(
            f"{origin}: no column names the assets of a long file (one of {list(NAME_COLUMNS)}), and as a wide "
            f"file (dates, then one price column per ticker) its columns {words} hold text. Columns found: "
            f"{[str(c) for c in frame.columns]}. If one of them names the assets, rename it to 'ticker'.")
    wide = values.copy()
    for column in values.columns:  # one wrong cell (text, infinity) in a wide column: say where
        wide[column], _ = numeric_column(values[column], f"{origin}, column {column!r}")
    wide.index = parse_dates(frame[date], f"{origin}, column {date!r}", date_format)
    wide.columns = identifiers(pd.Series(wide.columns), f"{origin}, the header")
    return Panel(wide.astype(float).rename_axis(None).rename_axis(None, axis=1), source=origin)


def prices_from_returns(returns: pd.DataFrame, origin: str = "the returns") -> pd.DataFrame:
    """Build a price index from simple returns: 1 on the date before each name's first return, then compounded.

    A name whose first return is on the panel's first date has no date before it: its index starts at 1 plus
    that return. A missing return leaves the name unpriced that date; the next return is taken from the last
    price, as CRSP measures it.

    Parameters
    ----------
    returns : pd.DataFrame
        Simple returns (0.01 for 1%), dates by tickers.
    origin : str, default "the returns"
        Where they come from, for the error messages.

    Returns
    -------
    pd.DataFrame
        The price index, dates by tickers.

    Raises
    ------
    ValueError
        On a return of -100% or less, or returns whose median size is above 0.5 (percentages, not decimals).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> returns = pd.DataFrame({"A": [np.nan, 0.10, -0.5]},
    ...                        index=pd.to_datetime(["2019-12-31", "2020-01-31", "2020-02-29"]))
    >>> prices_from_returns(returns)["A"].round(4).tolist()
    [1.0, 1.1, 0.55]
    """
    returns = returns.sort_index()
    if (returns <= -1).any().any():
        ticker = (returns <= -1).any().idxmax()
        raise ValueError(f"{origin}: a return of -100% or less for {ticker} on "
                         f"{(returns[ticker] <= -1).idxmax().date()}; a priced name cannot be worth nothing.")
    typical = returns.abs().stack().median()
    if typical > 0.5:
        raise ValueError(f"{origin}: the returns' median size is {typical:.3g}; give simple decimal returns "
                         "(0.01 for 1%), not percentages.")
    growth = np.log1p(returns).fillna(0.0).cumsum()
    prices = np.exp(growth).where(returns.notna())
    first = returns.notna().idxmax()  # each name's first return
    positions = returns.index.get_indexer(first) - 1
    for ticker, position in zip(returns.columns, positions):
        if position >= 0:
            prices.iloc[position, prices.columns.get_loc(ticker)] = 1.0
    return prices


def validate_prices(prices: pd.DataFrame, source: str | None = None) -> tuple[pd.DataFrame, PriceReport]:
    """Check a wide price panel; return it as floats, with a report.

    Missing prices inside a name's history are counted, never filled; names without any price and dates most
    names lack are reported. Dates on which no name is priced, or on which every priced name's price equals its
    last one (weekends and holidays of a calendar-day file, empty or forward-filled), are not trading days:
    they are left out and counted. The report's ``spacing`` says how far apart the dates left are.

    Parameters
    ----------
    prices : pd.DataFrame
        Prices, a DatetimeIndex of dates by tickers.
    source : str or None, default None
        The file the prices came from, named in the error messages when given.

    Returns
    -------
    prices : pd.DataFrame
        The trading dates' prices as floats, without the names that have no price.
    report : PriceReport
        The names, dates, gaps and notes.

    Raises
    ------
    ValueError
        On an index that is not a DatetimeIndex, unsorted or duplicate dates, non-numeric, infinite and
        non-positive prices (each message says where), and on a panel with no price.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> prices = pd.DataFrame({"A": [1.0, 1.1, 1.1, 1.2], "B": [2.0, 2.1, 2.1, np.nan]},
    ...                       index=pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-04", "2020-01-06"]))
    >>> clean, report = validate_prices(prices)
    >>> clean.shape, report.spacing
    ((3, 2), 'day')
    >>> report.lines()[0]
    '2 names over 3 dates'
    >>> "left out as not trading days" in report.notes[0]  # 2020-01-04, a Saturday, forward-filled
    True
    """
    where = f"{source}: " if source else ""
    _check_dates(prices.index, where)
    numeric = _positive_numbers(prices, where)
    numeric, left_out = _trading_days(numeric)
    unpriced = int((~numeric.notna().any()).sum())
    numeric = numeric.loc[:, numeric.notna().any()].astype(float)
    if numeric.shape[1] == 0:
        raise ValueError(f"{where}The panel holds no price.")
    inside = numeric.notna().cummax() & numeric[::-1].notna().cummax()[::-1]  # between first and last price
    gaps = (numeric.isna() & inside).sum()
    report = PriceReport(n_dates=len(numeric), tickers=[str(t) for t in numeric.columns],
                         gaps={str(t): int(n) for t, n in gaps[gaps > 0].items()}, notes=left_out,
                         spacing=spacing(numeric.index))
    if unpriced:
        report.notes.append(f"{unpriced} names without any price ignored")
    priced = numeric.notna().sum(axis=1)
    sparse = (priced < 0.5 * priced.shift(1)) & (priced.shift(1) >= 3)
    if sparse.any():
        report.notes.append(
            f"{int(sparse.sum())} dates on which fewer than half the names priced the date before have a price "
            f"(first {sparse.idxmax().date()}): a name missing on a date has no return across it; remove such a "
            "date if it was not a trading day")
    return numeric, report


def _trading_days(prices: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Leave out the dates that are not trading days, with notes that count them.

    Those are the dates on which no name is priced, or on which every priced name's price equals its last one
    (known on the date itself).
    """
    priced = prices.notna()
    last = prices.ffill().shift(1)
    unchanged = (priced & (prices == last)).sum(axis=1) == priced.sum(axis=1)
    empty = ~priced.any(axis=1)
    frozen = unchanged & ~empty & (priced.sum(axis=1) >= 2) & last.notna().any(axis=1)
    notes = []
    for dates, what, why in ((empty, "without any price", "no name traded on them"),
                             (frozen, "on which every price equals the name's last one",
                              "forward-filled: every name's return across them would be 0%")):
        if dates.any():
            notes.append(f"{int(dates.sum())} dates {what} left out as not trading days ({why}; first "
                         f"{dates.idxmax().date()}, {_weekends(prices.index[dates.to_numpy()])} of them weekends)")
    return prices[~(empty | frozen).to_numpy()], notes


def _weekends(dates: pd.DatetimeIndex) -> int:
    return int((dates.day_of_week >= 5).sum())


def spacing(dates: pd.DatetimeIndex) -> str:
    """Say how far apart ``dates`` are, from the median gap between them.

    Parameters
    ----------
    dates : pd.DatetimeIndex
        Sorted dates.

    Returns
    -------
    str
        "day" (a median gap of up to 4 days: trading days), "week" (5 to 10), "month" (25 to 35), else
        "irregular" (also for fewer than three dates).

    Examples
    --------
    >>> import pandas as pd
    >>> spacing(pd.date_range("2020-01-31", periods=6, freq="ME"))
    'month'
    """
    if len(dates) < 3:
        return "irregular"
    gap = float(np.median(np.diff(dates.to_numpy().astype("datetime64[s]")).astype(np.int64)) / 86_400)
    return "day" if gap <= 4 else "week" if 5 <= gap <= 10 else "month" if 25 <= gap <= 35 else "irregular"


def _check_dates(dates: pd.Index, where: str = "") -> None:
    if not isinstance(dates, pd.DatetimeIndex):
        raise ValueError(f"{where}Prices need a DatetimeIndex of dates; load them with deepfin.finance.load_prices.")
    duplicates = dates[dates.duplicated()]
    if len(duplicates):
        raise ValueError(f"{where}{len(duplicates)} duplicate dates in the prices, first {duplicates[0].date()}; "
                         f"keep one row per date (a long file needs a name column: {', '.join(NAME_COLUMNS)}).")
    if not dates.is_monotonic_increasing:
        position = int(np.argmax(np.diff(dates.asi8) < 0)) + 1
        raise ValueError(f"{where}Dates are not sorted: {dates[position].date()} comes after "
                         f"{dates[position - 1].date()}. Sort the file by date.")


def _positive_numbers(prices: pd.DataFrame, where: str = "") -> pd.DataFrame:
    numeric = prices.apply(pd.to_numeric, errors="coerce")
    not_numbers = numeric.isna() & prices.notna()
    if not_numbers.any().any():
        ticker = not_numbers.any().idxmax()
        raise ValueError(f"{where}Prices of {ticker} include values that are not numbers, first on "
                         f"{not_numbers[ticker].idxmax().date()}.")
    for wrong, what in ((numeric <= 0, "zero or negative"), (np.isinf(numeric), "infinite")):
        if wrong.any().any():
            ticker = wrong.sum().idxmax()
            raise ValueError(f"{where}{int(wrong.to_numpy().sum())} prices are {what} ({ticker} has "
                             f"{int(wrong[ticker].sum())}, first on {wrong[ticker].idxmax().date()}); prices must be "
                             "positive numbers.")
    return numeric
