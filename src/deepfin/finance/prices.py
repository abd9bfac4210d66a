"""Price panels in: files or the embedded S&P 500 sample, checked before anything is computed from them.

A panel is a DataFrame indexed by date (sorted, unique) with one column of prices per ticker. Nothing is
forward-filled: a missing price stays missing, so no fake zero return is ever made from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

SEED_HDF_KEY = "quandl/wiki/prices"  # the seed's store: pd.read_hdf('assets.h5', 'quandl/wiki/prices')
_LONG_COLUMNS = ("date", "ticker")


@dataclass
class PriceReport:
    """What validation found and did: tickers excluded (with why) and gaps counted."""

    n_dates: int = 0
    tickers: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    gaps: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{len(self.tickers)} tickers kept over {self.n_dates} dates"]
        out += [f"excluded {ticker}: {why}" for ticker, why in self.excluded.items()]
        out += [f"{ticker}: {n} missing prices inside its history (left missing)" for ticker, n in self.gaps.items()]
        return out


def load_prices(source: str | os.PathLike | pd.DataFrame | None = None, hdf_key: str = SEED_HDF_KEY) -> pd.DataFrame:
    """A wide panel (date x ticker) from the embedded S&P 500 sample (``None``), a DataFrame, or a file.

    Files: CSV or Parquet, wide (first column dates, one column per ticker) or long (columns ``date``,
    ``ticker`` and one price column); HDF5 in the seed's layout (index (date, ticker), ``adj_close``).
    """
    if source is None:
        from skfolio.datasets import load_sp500_dataset

        return load_sp500_dataset()
    if isinstance(source, pd.DataFrame):
        return _as_wide(source, "the DataFrame given")
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"No price file at {path}. Give a CSV, Parquet or HDF5 file (or nothing, for the "
                                "embedded S&P 500 sample).")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(path)
    elif suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif suffix in (".h5", ".hdf5", ".hdf"):
        frame = pd.read_hdf(path, hdf_key)
        frame = frame.reset_index() if isinstance(frame.index, pd.MultiIndex) else frame
    else:
        raise ValueError(f"Unknown price file type {suffix!r} for {path}: expected .csv, .parquet or .h5.")
    return _as_wide(frame, str(path))


def validate_prices(prices: pd.DataFrame, min_history: int = 260) -> tuple[pd.DataFrame, PriceReport]:
    """Check a wide panel; returns it without tickers whose history is too short, and a report.

    Raises on unsorted or duplicate dates and on non-positive prices (each names where). Tickers with fewer
    than ``min_history`` prices are excluded and reported; missing prices inside a history are counted.
    """
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("Prices need a DatetimeIndex of dates; load them with deepfin.finance.load_prices.")
    duplicates = prices.index[prices.index.duplicated()]
    if len(duplicates):
        raise ValueError(f"{len(duplicates)} duplicate dates in the prices, first {duplicates[0].date()}; "
                         "keep one row per date.")
    if not prices.index.is_monotonic_increasing:
        position = int(np.argmax(np.diff(prices.index.asi8) < 0)) + 1
        raise ValueError(f"Dates are not sorted: {prices.index[position].date()} comes after "
                         f"{prices.index[position - 1].date()}. Sort the file by date.")
    numeric = prices.apply(pd.to_numeric, errors="coerce")
    not_numbers = numeric.isna() & prices.notna()
    if not_numbers.any().any():
        ticker = not_numbers.any().idxmax()
        raise ValueError(f"Prices of {ticker} include values that are not numbers, first on "
                         f"{not_numbers[ticker].idxmax().date()}.")
    non_positive = numeric <= 0
    if non_positive.any().any():
        ticker = non_positive.sum().idxmax()
        raise ValueError(f"{int(non_positive.to_numpy().sum())} prices are zero or negative ({ticker} has "
                         f"{int(non_positive[ticker].sum())}, first on {non_positive[ticker].idxmax().date()}); "
                         "prices must be positive.")
    report = PriceReport(n_dates=len(numeric))
    counts = numeric.notna().sum()
    for ticker in numeric.columns[counts < min_history]:
        report.excluded[str(ticker)] = f"{int(counts[ticker])} prices, fewer than min_history={min_history}"
    kept = numeric.drop(columns=list(report.excluded))
    if kept.shape[1] == 0:
        raise ValueError(f"No ticker has at least min_history={min_history} prices; lower min_history or give "
                         "more data.")
    inside = kept.notna().cummax() & kept[::-1].notna().cummax()[::-1]  # between first and last price
    gaps = (kept.isna() & inside).sum()
    report.gaps = {str(t): int(n) for t, n in gaps[gaps > 0].items()}
    report.tickers = [str(t) for t in kept.columns]
    return kept.astype(float), report


def _as_wide(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    lower = {str(c).lower(): c for c in frame.columns}
    if all(name in lower for name in _LONG_COLUMNS):
        values = [c for c in frame.columns if str(c).lower() not in _LONG_COLUMNS]
        preferred = [c for c in values if str(c).lower() in ("adj_close", "adj close", "close", "price")]
        if not preferred and len(values) != 1:
            raise ValueError(f"{origin} is long (date, ticker, ...) but its price column is ambiguous among "
                             f"{values}; name it 'price', 'close' or 'adj_close'.")
        column = (preferred or values)[0]
        long = frame[[lower["date"], lower["ticker"], column]].copy()
        long.columns = ["date", "ticker", "price"]
        long["date"] = pd.to_datetime(long["date"])
        duplicated = long.duplicated(["date", "ticker"])
        if duplicated.any():
            first = long[duplicated].iloc[0]
            raise ValueError(f"{origin} has {int(duplicated.sum())} repeated (date, ticker) rows, first "
                             f"{first['date'].date()} {first['ticker']}.")
        return long.pivot(index="date", columns="ticker", values="price").rename_axis(None, axis=1)
    wide = frame.set_index(frame.columns[0]) if not isinstance(frame.index, pd.DatetimeIndex) else frame
    try:
        wide.index = pd.to_datetime(wide.index)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{origin}: the first column should hold dates (wide layout) or the file should have "
                         f"date and ticker columns (long layout). {error}") from None
    return wide.rename_axis(None)
