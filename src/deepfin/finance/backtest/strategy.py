"""The book a run's predictions imply: its trade dates, weights, returns, benchmarks and positions.

Signals are moved to their trade dates; the long-short book's weights and returns come from
``deepfin.finance.backtest.book``; the benchmarks are the universe equal-weighted and the S&P 500 index; the
accounting of the positions counts delistings, halts, names that could not be traded, ties and what other
delisting assumptions would have given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepfin.finance.backtest import book as bt
from deepfin.finance.panel.outcomes import DELISTING_ASSUMPTIONS, Outcomes, next_period_outcomes
from deepfin.finance.panel.periods import grid


def trade_signals(probability: pd.Series, dates: pd.DatetimeIndex, lag: int) -> pd.DataFrame:
    """Move probabilities to the trade dates they act on, ``lag`` grid dates after the signal.

    Parameters
    ----------
    probability : pd.Series
        Probabilities of rows (date, ticker).
    dates : pd.DatetimeIndex
        The grid's dates.
    lag : int
        Grid dates between a signal and its trade.

    Returns
    -------
    pd.DataFrame
        Trade dates by tickers, without the dates that have no signal.
    """
    wide = probability.unstack("ticker").reindex(dates)
    return wide.shift(lag).dropna(how="all")


def run(probability: pd.Series, outcomes: Outcomes, k: int, cost_bps: float, seed: int, lag: int):
    """Backtest predictions: the signals on their trade dates, the book's weights and its returns.

    Parameters
    ----------
    probability : pd.Series
        Probabilities of rows (date, ticker).
    outcomes : Outcomes
        The panel's outcomes: which names are tradable, their returns and halts.
    k : int
        Names a side.
    cost_bps : float
        Basis points per half-turn.
    seed : int
        The seed of the random tie-break.
    lag : int
        Grid dates between a signal and its trade.

    Returns
    -------
    signals : pd.DataFrame
        The probabilities, trade dates by tickers.
    weights : pd.DataFrame
        The book: names tradable on the trade date, each leg's capital less what halted positions still hold
        (``with_halted_capital_held``).
    returns : pd.DataFrame
        ``book_returns``'s per-date returns (dates with a held name's return unknown left out).
    """
    signals = trade_signals(probability, outcomes.grid.labels, lag)
    tradable = outcomes.frame("tradable").reindex(index=signals.index, columns=signals.columns, fill_value=False)
    weights = with_halted_capital_held(bt.book(signals, k, seed, tradable), outcomes)
    return signals, weights, bt.book_returns(weights, outcomes.frame("returns"), cost_bps)


def with_halted_capital_held(weights: pd.DataFrame, outcomes: Outcomes) -> pd.DataFrame:
    """Scale each leg's later positions down by the capital its halted positions still hold.

    A position halted on its next date stays open, and its dollars out of the book, until it is closed (its
    first later price, or ``max_halt`` periods: the outcome's ``realised`` date); the leg's other names share
    what is left. Its return stays booked on the date it was opened.

    Parameters
    ----------
    weights : pd.DataFrame
        The book, trade dates by tickers.
    outcomes : Outcomes
        The panel's outcomes (``halted``, ``realised``).

    Returns
    -------
    pd.DataFrame
        The weights, scaled down where halted positions hold capital (``weights`` itself when none does).
    """
    halted = outcomes.frame("halted").reindex_like(weights).fillna(False).to_numpy(bool)
    w = weights.to_numpy(copy=True)
    if not (halted & (w != 0)).any():
        return weights
    grid_of = outcomes.grid.labels.get_indexer(weights.index)
    realised = outcomes.frame("realised").reindex_like(weights).fillna(-1).to_numpy(int)
    locked = {1.0: np.zeros(len(outcomes.grid.labels)), -1.0: np.zeros(len(outcomes.grid.labels))}
    for row in range(len(w)):  # in date order: a position opened on scaled-down capital holds that much
        for sign, held in locked.items():
            leg = np.sign(w[row]) == sign
            w[row, leg] *= max(1.0 - held[grid_of[row]], 0.0)
        for column in np.flatnonzero(halted[row] & (w[row] != 0)):
            locked[np.sign(w[row, column])][grid_of[row] + 1:realised[row, column]] += abs(w[row, column])
    return pd.DataFrame(w, index=weights.index, columns=weights.columns)


def position_table(weights: pd.DataFrame, outcomes: Outcomes, lag: int) -> pd.DataFrame:
    """List every position of the book, as ``positions.csv`` holds it.

    Parameters
    ----------
    weights : pd.DataFrame
        The book, trade dates by tickers.
    outcomes : Outcomes
        The panel's outcomes.
    lag : int
        Grid dates between a signal and its trade.

    Returns
    -------
    pd.DataFrame
        One row per position: ``signal_date`` (the date of the prediction), ``trade_date`` (``lag`` periods
        later, when it is opened), ``ticker``, ``side`` (long or short), ``weight`` (signed), ``realised`` (the
        date its return is known: the next period's date, or later for a halt) and ``return`` (the name's return
        over the holding period, NaN where not known).
    """
    held = weights.rename_axis(index="date", columns="ticker").stack()
    held = held[held != 0]
    rows = outcomes.at(held.index)
    labels = outcomes.grid.labels
    trade_dates = held.index.get_level_values("date")
    return pd.DataFrame({"signal_date": labels[labels.get_indexer(trade_dates) - lag], "trade_date": trade_dates,
                         "ticker": held.index.get_level_values("ticker"),
                         "side": np.where(held.to_numpy() > 0, "long", "short"), "weight": held.to_numpy(),
                         "realised": rows["realised"].to_numpy(), "return": rows["forward_return"].to_numpy()})


def benchmarks(outcomes: Outcomes, members: pd.DataFrame, dates: pd.DatetimeIndex, period: str,
               real_dates: bool) -> pd.DataFrame:
    """Compute the benchmarks: the universe equal-weighted and, for real dates that it covers, the S&P 500 index.

    Parameters
    ----------
    outcomes : Outcomes
        The panel's outcomes.
    members : pd.DataFrame
        Index membership, grid dates by tickers.
    dates : pd.DatetimeIndex
        The trade dates.
    period : str
        The recipe's period, "day" or "month".
    real_dates : bool
        False for simulated data, which are not compared with the index.

    Returns
    -------
    pd.DataFrame
        ``equal_weight`` (every member priced on the date, from the price panel, not the model's rows) and,
        where it covers more than 95% of ``dates``, ``sp500_index`` (skfolio's S&P 500 index).
    """
    priced_members = members & outcomes.frame("tradable").reindex_like(members)
    out = pd.DataFrame({"equal_weight": bt.equal_weight(outcomes.frame(), priced_members, dates)})
    if not real_dates:
        return out
    from skfolio.datasets import load_sp500_index

    index = load_sp500_index()
    covered = next_period_outcomes(index, grid(index, period)).frame().iloc[:, 0].reindex(dates)
    if covered.notna().mean() > 0.95:
        out["sp500_index"] = covered
    return out


def positions(outcomes: Outcomes, prices: pd.DataFrame, delisting_returns: pd.Series, signals: pd.DataFrame,
              weights: pd.DataFrame, strategy: pd.DataFrame, k: int, lag: int) -> dict:
    """Count the book's positions by how they ended, and what other delisting assumptions would have given.

    Parameters
    ----------
    outcomes : Outcomes
        The panel's outcomes.
    prices : pd.DataFrame
        The price panel, to compute the outcomes again under other delisting assumptions.
    delisting_returns : pd.Series
        The delisting returns the data give.
    signals, weights, strategy : pd.DataFrame
        ``run``'s signals, weights and returns.
    k : int
        Names a side.
    lag : int
        Grid dates between a signal and its trade.

    Returns
    -------
    dict
        ``positions``; those closed by a delisting, from the data (``delisted_from_data``) or at the assumed
        return (``delisted_assumed``); ``halted`` (closed after a halt); ``not_opened`` (selections that could
        not be traded); ``lag``; ``dates_left_out`` (a held name's return unknown); ``ties_at_cutoff``;
        ``assumed_return``; and, when the assumed delisting return priced a position, ``sensitivity``: the mean
        return before costs with 0%, -30% and -100% assumed.
    """
    held = weights.to_numpy() != 0
    flags = {name: outcomes.frame(name).reindex_like(weights).fillna(False).to_numpy(bool)
             for name in ("delisted", "assumed", "halted")}
    active = (~signals.isna()).any(axis=1).sum()
    counts = {"positions": int(held.sum()),
              "delisted_from_data": int((held & flags["delisted"] & ~flags["assumed"]).sum()),
              "delisted_assumed": int((held & flags["assumed"]).sum()), "halted": int((held & flags["halted"]).sum()),
              "not_opened": int(2 * k * active - held.sum()), "lag": lag,
              "dates_left_out": int(held.any(axis=1).sum() - len(strategy)),
              "ties_at_cutoff": bt.ties_at_cutoff(signals, k), "assumed_return": outcomes.assumed_return}
    if counts["delisted_assumed"]:
        counts["sensitivity"] = {}
        for alternative in (0.0, DELISTING_ASSUMPTIONS["shumway"], -1.0):
            other = outcomes if alternative == outcomes.assumed_return else next_period_outcomes(
                prices, outcomes.grid, delisting_returns, alternative, outcomes.max_halt)
            counts["sensitivity"][alternative] = float(bt.book_returns(weights, other.frame(), 0.0)[
                "before_costs"].mean())
    return counts
