"""What a position taken on each row date earns over the next period, and on which date that becomes known.

For a name priced on a grid date t (tradable), with t' the next grid date:

- priced on t': the return from t to t', known on t';
- not priced on t' but priced again within ``max_halt`` grid periods after t' (a halt, a missing price): the
  position is closed at the first later price, and the return is known on the first grid date at or after it;
- never priced again, or not within ``max_halt`` periods (a delisting, or a halt too long to wait for): the
  return to the last price, compounded with the delisting return, from the data (CRSP's DLRET) where it has
  one (known on t'), else the stated assumption (``delisting_return``), known ``max_halt`` periods after t',
  when the missing prices have lasted long enough to call it, not when a later file shows that the name never
  traded again. Without ``max_halt`` (None) a halt is waited for however long it lasts and an assumed
  delisting is known on t'. A name whose prices stop within the panel's last ``RECENT_END`` dates, with no
  delisting return in the data, is not called delisted (a vendor's file can lag by a few days): its outcome is
  unknown.

A period that is not complete has no outcome: the last grid date's rows have none, and a return whose closing
price falls after the last complete period is unknown too. Unknown outcomes are NaN, never 0%.
``label`` turns outcomes into the classification target: ``up`` (the return is positive, the label of Jansen
(2020, ch. 17)) or ``above_median`` (above the date's cross-sectional median, the label of Krauss, Do and Huck
(2017)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepfin.finance.panel.periods import Grid

DELISTING_ASSUMPTIONS = {"last_price": 0.0, "shumway": -0.30}
RECENT_END = 5
LABELS = ("up", "above_median")


@dataclass
class Outcomes:
    """The next-period outcome of every (grid date, ticker), as wide arrays (grid dates x tickers).

    Attributes
    ----------
    grid : Grid
        The row dates.
    tickers : pd.Index
        The names, the arrays' columns.
    returns : np.ndarray
        The return of a position taken on the date, NaN where unknown.
    realised : np.ndarray
        The grid position on which the return is known, -1 where unknown.
    tradable : np.ndarray
        True where the name is priced on the date.
    delisted : np.ndarray
        True where the position is closed by a delisting.
    assumed : np.ndarray
        True where that delisting is priced with the assumed delisting return.
    halted : np.ndarray
        True where the position is closed after the next grid date (a halt).
    assumed_return : float
        The assumed delisting return.
    max_halt : int or None
        The longest halt, in grid periods, waited for before a name counts as delisted.
    """

    grid: Grid
    tickers: pd.Index
    returns: np.ndarray
    realised: np.ndarray
    tradable: np.ndarray
    delisted: np.ndarray
    assumed: np.ndarray
    halted: np.ndarray
    assumed_return: float
    max_halt: int | None = None

    def frame(self, name: str = "returns") -> pd.DataFrame:
        """One of the arrays as a DataFrame (grid dates x tickers)."""
        return pd.DataFrame(getattr(self, name), index=self.grid.labels, columns=self.tickers)

    def at(self, index: pd.MultiIndex, lag: int = 0) -> pd.DataFrame:
        """Look up the outcomes of (date, ticker) rows.

        Parameters
        ----------
        index : pd.MultiIndex
            Rows (date, ticker); every date must be a grid date and every ticker one of ``tickers``.
        lag : int, default 0
            Take the period that starts ``lag`` grid dates after each row's date: what a book that trades
            ``lag`` periods after its signal holds (unknown past the grid's last date).

        Returns
        -------
        pd.DataFrame
            Indexed by ``index``: ``forward_return``, ``realised`` (the date it is known, or NaT),
            ``delisted``, ``assumed`` and ``halted``.

        Raises
        ------
        KeyError
            When a row is not a (grid date, ticker) pair of these outcomes.
        """
        rows = self.grid.labels.get_indexer(index.get_level_values("date"))
        columns = self.tickers.get_indexer(index.get_level_values("ticker"))
        if (rows < 0).any() or (columns < 0).any():
            raise KeyError("Some rows are not (grid date, ticker) pairs of these outcomes.")
        inside = rows + lag < len(self.grid.labels)
        rows = np.minimum(rows + lag, len(self.grid.labels) - 1)
        realised = np.where(inside, self.realised[rows, columns], -1)
        when = pd.DatetimeIndex(np.where(realised >= 0, self.grid.labels.to_numpy()[np.maximum(realised, 0)],
                                         np.datetime64("NaT")))
        return pd.DataFrame({"forward_return": np.where(inside, self.returns[rows, columns], np.nan),
                             "realised": when, "delisted": inside & self.delisted[rows, columns],
                             "assumed": inside & self.assumed[rows, columns],
                             "halted": inside & self.halted[rows, columns]}, index=index)


def next_period_outcomes(prices: pd.DataFrame, grid: Grid, delisting_returns: pd.Series | None = None,
                         assumed_return: float = 0.0, max_halt: int | None = None) -> Outcomes:
    """Compute the outcome of every (grid date, ticker) of a price panel, by the module's rules.

    Parameters
    ----------
    prices : pd.DataFrame
        The validated price panel, dates by tickers.
    grid : Grid
        The row dates (``grid(prices, period)``).
    delisting_returns : pd.Series or None, default None
        Ticker -> the return from its last price to its delisting value, where the data give one.
    assumed_return : float, default 0.0
        The delisting return assumed where the data give none (0: the last price; -0.3: Shumway's).
    max_halt : int or None, default None
        The grid periods without a price after which a position counts as delisted; None waits for the
        next price however long it takes.

    Returns
    -------
    Outcomes
        Returns, the dates they become known and the flags, the last grid date's row unknown.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from deepfin.finance import grid
    >>> dates = pd.date_range("2020-01-31", periods=9, freq="ME")
    >>> prices = pd.DataFrame({"A": np.linspace(100, 108, 9), "B": [50.0, 55.0] + [np.nan] * 7}, index=dates)
    >>> outcomes = next_period_outcomes(prices, grid(prices, "month"), assumed_return=-0.3)
    >>> outcomes.frame()["B"].round(4).tolist()[:3]  # B delists after February: -30% assumed
    [0.1, -0.3, nan]
    >>> outcomes.frame("assumed")["B"].tolist()[:3]
    [False, True, False]
    """
    P = prices.to_numpy(dtype=float)
    T, N = P.shape
    G = len(grid.labels)
    priced = ~np.isnan(P)
    columns = np.arange(N)
    never = np.int32(T)
    first_price_from = np.where(priced, np.arange(T, dtype=np.int32)[:, None], never)
    first_price_from = np.minimum.accumulate(first_price_from[::-1], axis=0)[::-1]  # first priced position >= s
    last_price = np.where(priced.any(axis=0), T - 1 - np.argmax(priced[::-1], axis=0), 0)
    last_price_to = np.maximum.accumulate(np.where(priced, np.arange(T)[:, None], 0), axis=0)  # last priced <= s

    start, end = grid.positions[:-1], grid.positions[1:]
    tradable = priced[grid.positions]
    close = first_price_from[end]
    next_date = np.arange(1, G)[:, None]
    given = (delisting_returns if delisting_returns is not None else pd.Series(dtype=float)).reindex(
        prices.columns).to_numpy(dtype=float)
    too_long = np.zeros_like(tradable[:-1]) if max_halt is None else (
        (close < T) & (grid.position_of(close) > next_date + max_halt))
    closes = (close < T) & ~too_long
    with np.errstate(invalid="ignore", divide="ignore"):
        closed_return = P[np.minimum(close, T - 1), columns] / P[start] - 1
        delisting = np.where(np.isnan(given), assumed_return, given)
        exit_price = np.where(too_long, P[last_price_to[end], columns], P[last_price, columns])
        delisted_return = exit_price / P[start] * (1 + np.where(too_long, assumed_return, delisting)) - 1
    called = np.isnan(given) | too_long  # delisted by the assumption: known once the halt has lasted max_halt
    realised = np.where(closes, grid.position_of(close),
                        np.where(called & (max_halt is not None), next_date + (max_halt or 0), next_date))
    realised = realised.astype(np.int32)
    stops_near_the_end = np.isnan(given) & (last_price >= T - 1 - RECENT_END)
    delisted = tradable[:-1] & ~closes & (too_long | ~stops_near_the_end)
    known = tradable[:-1] & (realised < G) & (delisted | closes)
    returns = np.where(known, np.where(closes, closed_return, delisted_return), np.nan)

    def with_last_row(values, fill):
        return np.concatenate([values, np.full((1, N), fill, dtype=values.dtype)])

    return Outcomes(grid=grid, tickers=pd.Index(prices.columns), returns=with_last_row(returns, np.nan),
                    realised=with_last_row(np.where(known, realised, -1).astype(np.int32), -1),
                    tradable=tradable, delisted=with_last_row(delisted, False),
                    assumed=with_last_row(delisted & called, False),
                    halted=with_last_row(known & closes & (close != end[:, None]), False),
                    assumed_return=assumed_return, max_halt=max_halt)


def label(forward_returns: pd.Series, kind: str, in_median: pd.Series | None = None) -> pd.Series:
    """Turn next-period returns into 0/1 labels, NaN where the outcome is unknown.

    Parameters
    ----------
    forward_returns : pd.Series
        Next-period returns of rows indexed by (date, ticker), NaN where unknown.
    kind : {"up", "above_median"}
        ``up``: 1 where the return is positive (the label of Jansen (2020, ch. 17)); ``above_median``: 1 where it
        is above the date's cross-sectional median (the label of Krauss, Do and Huck (2017)).
    in_median : pd.Series or None, default None
        Booleans selecting the rows the date's median of ``above_median`` is taken over (by default all): give
        the rows whose outcome is known on the next date, so that no label waits on a halted name's later price.

    Returns
    -------
    pd.Series
        Float labels named ``label``, NaN where the return is unknown.

    Raises
    ------
    ValueError
        On an unknown ``kind``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rows = pd.MultiIndex.from_product([pd.to_datetime(["2020-01-31"]), ["A", "B", "C"]],
    ...                                   names=["date", "ticker"])
    >>> label(pd.Series([0.02, -0.01, np.nan], index=rows), "up").tolist()
    [1.0, 0.0, nan]
    >>> label(pd.Series([0.02, -0.01, 0.005], index=rows), "above_median").tolist()
    [1.0, 0.0, 0.0]
    """
    if kind == "up":
        target = forward_returns > 0
    elif kind == "above_median":
        counted = forward_returns if in_median is None else forward_returns.where(in_median)
        median = counted.groupby(level="date").transform("median")
        target = forward_returns > median
    else:
        raise ValueError(f"Unknown label {kind!r}: expected one of {LABELS}.")
    return target.astype(float).where(forward_returns.notna()).rename("label")


def at_horizon(outcomes: Outcomes, index: pd.MultiIndex, kind: str, lag: int) -> pd.DataFrame:
    """Label rows by the period a book trading ``lag`` periods after the signal holds.

    The return is that of the period starting ``lag`` grid dates after each row's date, labelled against that
    period's median over the rows of the same signal date (halted rows left out of the median). ``lag = 0``:
    the rows' own outcomes and the labels a model trains on.

    Parameters
    ----------
    outcomes : Outcomes
        The panel's outcomes.
    index : pd.MultiIndex
        Rows (date, ticker).
    kind : {"up", "above_median"}
        The label (``label``).
    lag : int
        Periods between the signal and the trade.

    Returns
    -------
    pd.DataFrame
        ``label`` and ``forward_return``, indexed by ``index``.
    """
    held = outcomes.at(index, lag)
    return pd.DataFrame({"label": label(held["forward_return"], kind, in_median=~held["halted"]),
                         "forward_return": held["forward_return"]})


def delisting_assumption(value) -> float:
    """Read the ``delisting_return`` setting as a number.

    Parameters
    ----------
    value : float or str
        A number >= -1, ``"last_price"`` (0) or ``"shumway"`` (-0.30).

    Returns
    -------
    float
        The assumed delisting return.

    Raises
    ------
    ValueError
        On any other value.
    """
    if isinstance(value, str):
        if value not in DELISTING_ASSUMPTIONS:
            raise ValueError(f"delisting_return must be a number >= -1 or one of {list(DELISTING_ASSUMPTIONS)}. "
                             f"Received: delisting_return={value!r}")
        return DELISTING_ASSUMPTIONS[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value < np.inf:
        raise ValueError(f"delisting_return must be a number >= -1 (the return from the last price; -0.3 is "
                         f"Shumway's) or one of {list(DELISTING_ASSUMPTIONS)}. Received: delisting_return={value!r}")
    return float(value)
