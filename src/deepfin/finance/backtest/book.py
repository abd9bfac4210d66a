"""The long-short strategy the predictions imply, its costs, and the measures to judge it by.

On each trade date: long the ``k`` names with the highest predicted probability and short the ``k`` lowest,
ties broken at random with the run's seed (a collapsed network that predicts one number for every name must
not become an alphabetical book). Each leg is equal-weighted with $1 among the names that can be traded on the
date (a signal ``lag`` periods old may point at a name that has since stopped trading), held one period. The
period return is the long leg's mean next-period return minus the short leg's, as in Krauss, Do and Huck
(2017); a date on which a held name's return is unknown is left out, never booked as 0%. Turnover is
``sum |w_t - w_(t-1)|`` (a full rotation of both legs is 4 half-turns), and each half-turn costs ``cost_bps``
basis points: at 5 bps a full rotation costs 0.20% a period, Krauss et al.'s figure. Returns are dated by the
trade date; they are earned over the following period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from skfolio import measures

from deepfin.finance.backtest import tear_sheet
from deepfin.finance.validation.measures import quantile_of


def book(signals: pd.DataFrame, k: int, seed: int = 0, tradable: pd.DataFrame | None = None) -> pd.DataFrame:
    """Weights (trade dates x tickers): +1/n and -1/n on the long and short legs' ``n`` tradable names.

    ``signals`` holds the probabilities each trade date acts on (NaN: no prediction); ``tradable`` (default:
    where there is a signal) says which names can be traded on the date.
    """
    values = signals.to_numpy(dtype=float)
    n_names = np.sum(~np.isnan(values), axis=1)
    active = n_names > 0
    if (n_names[active] < 2 * k).any():
        row = np.flatnonzero(active & (n_names < 2 * k))[0]
        raise ValueError(f"k={k} needs {2 * k} predictions a date; {signals.index[row].date()} has "
                         f"{int(n_names[row])}. Lower k.")
    tie_breaker = np.random.default_rng(seed).random(values.shape)
    order = np.lexsort((tie_breaker, np.where(np.isnan(values), np.inf, -values)), axis=1)  # best first, NaN last
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(values.shape[1])[None, :], axis=1)
    is_long = (rank < k) & active[:, None]
    is_short = (rank >= (n_names - k)[:, None]) & (rank < n_names[:, None]) & active[:, None]
    can_trade = ~np.isnan(values) if tradable is None else tradable.reindex_like(signals).fillna(False).to_numpy(bool)
    weights = np.zeros(values.shape)
    for leg, sign in ((is_long & can_trade, 1.0), (is_short & can_trade, -1.0)):
        count = leg.sum(axis=1, keepdims=True)
        weights += np.where(leg, sign / np.maximum(count, 1), 0.0)
    return pd.DataFrame(weights, index=signals.index, columns=signals.columns)


def ties_at_cutoff(signals: pd.DataFrame, k: int) -> int:
    """Dates on which the k-th and (k+1)-th highest (or lowest) probabilities are equal: the book there was
    decided by the tie-break."""
    values = -np.sort(-signals.to_numpy(dtype=float), axis=1)  # descending, NaN last
    n = np.sum(~np.isnan(values), axis=1)
    rows = np.flatnonzero(n > 2 * k)
    top = values[rows, k - 1] == values[rows, k]
    bottom = values[rows, n[rows] - k] == values[rows, n[rows] - k - 1]
    return int(np.sum(top | bottom))


def book_returns(weights: pd.DataFrame, returns: pd.DataFrame, cost_bps: float) -> pd.DataFrame:
    """Per trade date: ``long`` and ``short`` leg returns, ``before_costs``, ``turnover``, ``after_costs``.

    Dates on which a held name's return is unknown are dropped.
    """
    realised = returns.reindex_like(weights).to_numpy(dtype=float)
    w = weights.to_numpy()
    held = w != 0
    unknown = (held & np.isnan(realised)).any(axis=1)
    earned = np.where(held, np.nan_to_num(realised), 0.0)
    long = (np.where(w > 0, w, 0) * earned).sum(axis=1)
    short = (np.where(w < 0, -w, 0) * earned).sum(axis=1)
    turnover = np.abs(np.diff(w, axis=0, prepend=0.0)).sum(axis=1)
    result = pd.DataFrame({"long": long, "short": short, "before_costs": long - short, "turnover": turnover},
                          index=weights.index)
    result["after_costs"] = result["before_costs"] - result["turnover"] * cost_bps / 1e4
    return result[~unknown & held.any(axis=1)]


def returns_table(strategy: pd.DataFrame, benchmark: pd.Series, cost_bps: float) -> pd.DataFrame:
    """The book per trade date, as ``returns.csv`` holds it: ``long`` and ``short`` (each leg's contribution,
    so ``long + short = gross``), ``gross`` (before costs), ``turnover`` (half-turns), ``costs``
    (``turnover * cost_bps / 1e4``), ``net`` (after costs) and ``benchmark`` (the equal-weighted universe on the
    trade date); ``strategy`` is ``book_returns``'s frame. Indexed by ``date``, the trade date; each return is
    earned over the period that follows it."""
    table = pd.DataFrame({"long": strategy["long"], "short": -strategy["short"], "gross": strategy["before_costs"],
                          "turnover": strategy["turnover"], "costs": strategy["turnover"] * cost_bps / 1e4,
                          "net": strategy["after_costs"], "benchmark": benchmark.reindex(strategy.index)})
    return table.rename_axis("date")


def long_short(signals: pd.DataFrame, returns: pd.DataFrame, k: int, cost_bps: float, seed: int = 0,
               tradable: pd.DataFrame | None = None) -> pd.DataFrame:
    """``book`` then ``book_returns``: the strategy's per-date figures."""
    return book_returns(book(signals, k, seed, tradable), returns, cost_bps)


def equal_weight(returns: pd.DataFrame, members: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.Series:
    """The universe equal-weighted and rebalanced each period: the mean next-period return of every member
    tradable on the date; NaN where a member's return is unknown."""
    realised = returns.reindex(dates)
    held = members.reindex(index=dates, columns=returns.columns, fill_value=False).to_numpy(bool)
    values = realised.to_numpy()
    unknown = (held & np.isnan(values)).any(axis=1)
    mean = np.where(held, values, 0.0).sum(axis=1) / np.maximum(held.sum(axis=1), 1)
    return pd.Series(np.where(unknown | (held.sum(axis=1) == 0), np.nan, mean), index=dates, name="equal_weight")


def decile_returns(predictions: pd.DataFrame, forward_returns: pd.Series) -> pd.Series:
    """Mean next-period return of each decile of predicted probability (1 = lowest), deciles taken per date."""
    decile = quantile_of(predictions, 10).rename("decile")
    by_date = forward_returns.reindex(predictions.index).groupby([predictions.index.get_level_values("date"),
                                                                   decile]).mean()
    return by_date.groupby(level="decile").mean()


def performance(returns: pd.Series, periods_per_year: int, turnover: pd.Series | None = None) -> dict:
    """Annualised return (mean and compounded) and volatility, Sharpe with its 95% interval, probabilistic
    Sharpe (P[true Sharpe > 0]), Sortino, Calmar, max drawdown, hit rate, the mean return a period with its
    Newey-West t-statistic, and mean turnover where given."""
    r = returns.dropna().to_numpy()
    mean, std = measures.mean(r), measures.standard_deviation(r)
    out = {"periods": int(len(r)), "mean_per_period": float(mean),
           "newey_west_t": tear_sheet.newey_west_t(returns),
           "annual_return": float(mean * periods_per_year), "cagr": tear_sheet.cagr(returns, periods_per_year),
           "annual_volatility": float(std * np.sqrt(periods_per_year)),
           "sharpe": float(mean / std * np.sqrt(periods_per_year)) if std > 0 else float("nan"),
           "sharpe_interval_95": list(tear_sheet.sharpe_interval(returns, periods_per_year)),
           "sortino": tear_sheet.sortino(returns, periods_per_year),
           "calmar": tear_sheet.calmar(returns, periods_per_year),
           "probabilistic_sharpe": float(measures.probabilistic_sharpe_ratio(r)),
           "max_drawdown": abs(float(measures.max_drawdown(measures.get_drawdowns(r, compounded=True)))),
           "hit_rate": float(np.mean(r > 0))}
    if turnover is not None:
        out["turnover"] = float(turnover.mean())
    return out


def against(strategy: pd.Series, benchmark: pd.Series, periods_per_year: int) -> dict:
    """The strategy regressed on a benchmark: beta, annualised alpha with its t-statistic, and the information
    ratio (annualised alpha over the residuals' annualised volatility, the appraisal ratio)."""
    both = pd.concat([strategy, benchmark], axis=1, keys=["strategy", "benchmark"]).dropna()
    if len(both) < 3:
        return {"periods": int(len(both))}
    fit = stats.linregress(both["benchmark"], both["strategy"])
    residuals = both["strategy"] - fit.intercept - fit.slope * both["benchmark"]
    spread = residuals.std(ddof=2)
    return {"periods": int(len(both)), "beta": float(fit.slope),
            "annual_alpha": float(fit.intercept * periods_per_year),
            "alpha_t_stat": float(fit.intercept / fit.intercept_stderr) if fit.intercept_stderr > 0 else float("nan"),
            "information_ratio": float(fit.intercept / spread * np.sqrt(periods_per_year)) if spread > 0
            else float("nan"), "correlation": float(fit.rvalue)}
