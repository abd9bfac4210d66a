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
``label`` turns outcomes into the classification target: ``up`` (the return is positive, the seed's label) or
``above_median`` (above the date's cross-sectional median, Krauss et al.'s).
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
    """Wide arrays over (grid date, ticker): ``returns`` (NaN where unknown), ``realised`` (grid position on
    which the return is known, -1 where unknown), and flags: ``tradable`` (priced on the date), ``delisted``
    (closed by a delisting), ``assumed`` (with the assumed delisting return), ``halted`` (closed after t')."""

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
        """The outcomes of (date, ticker) rows: ``forward_return``, ``realised`` (a date or NaT) and the flags.
        With ``lag``, those of the period that starts ``lag`` grid dates after each row's date: what a book that
        trades ``lag`` periods after its signal holds (unknown past the grid's last date)."""
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
    """The outcomes of every (grid date, ticker) of a price panel (see the module's rules)."""
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
    """0/1 labels (float, NaN where the outcome is unknown) of rows indexed by (date, ticker).

    The date's median of ``above_median`` is taken over the rows ``in_median`` selects (by default all): give
    the rows whose outcome is known on the next date, so that no label waits on a halted name's later price.
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
    """The ``label`` (of ``kind``) and ``forward_return`` of rows ``index`` at the horizon a book trading ``lag``
    periods after the signal holds: the return over the period starting ``lag`` grid dates after each row's
    date, labelled against that period's median over the rows of the same signal date. ``lag = 0``: the rows'
    own outcomes and the labels a model trains on."""
    held = outcomes.at(index, lag)
    return pd.DataFrame({"label": label(held["forward_return"], kind, in_median=~held["halted"]),
                         "forward_return": held["forward_return"]})


def delisting_assumption(value) -> float:
    """The assumed delisting return of a setting: a number >= -1, 'last_price' (0) or 'shumway' (-0.30)."""
    if isinstance(value, str):
        if value not in DELISTING_ASSUMPTIONS:
            raise ValueError(f"delisting_return must be a number >= -1 or one of {list(DELISTING_ASSUMPTIONS)}. "
                             f"Received: delisting_return={value!r}")
        return DELISTING_ASSUMPTIONS[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value < np.inf:
        raise ValueError(f"delisting_return must be a number >= -1 (the return from the last price; -0.3 is "
                         f"Shumway's) or one of {list(DELISTING_ASSUMPTIONS)}. Received: delisting_return={value!r}")
    return float(value)
