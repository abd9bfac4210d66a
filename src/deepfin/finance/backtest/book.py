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
    """Make the long-short book's weights: long the ``k`` highest probabilities, short the ``k`` lowest.

    Ties are broken at random with ``seed``. Each leg is equal-weighted with $1 among its names that can be
    traded on the date: +1/n and -1/n on the long and short legs' ``n`` tradable names.

    Parameters
    ----------
    signals : pd.DataFrame
        The probabilities each trade date acts on, trade dates by tickers (NaN: no prediction).
    k : int
        Names a side.
    seed : int, default 0
        The seed of the random tie-break.
    tradable : pd.DataFrame or None, default None
        Booleans, which names can be traded on the date; by default, where there is a signal.

    Returns
    -------
    pd.DataFrame
        Weights, trade dates by tickers.

    Raises
    ------
    ValueError
        When a date with predictions has fewer than ``2 k`` of them.

    Examples
    --------
    >>> import pandas as pd
    >>> signals = pd.DataFrame([[0.9, 0.2, 0.5, 0.6]], index=pd.to_datetime(["2020-01-31"]), columns=list("ABCD"))
    >>> book(signals, k=1).iloc[0].tolist()
    [1.0, -1.0, 0.0, 0.0]
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
    """Count the dates on which the k-th and (k+1)-th highest (or lowest) probabilities are equal.

    On those dates the book was decided by the tie-break.
    """
    values = -np.sort(-signals.to_numpy(dtype=float), axis=1)  # descending, NaN last
    n = np.sum(~np.isnan(values), axis=1)
    rows = np.flatnonzero(n > 2 * k)
    top = values[rows, k - 1] == values[rows, k]
    bottom = values[rows, n[rows] - k] == values[rows, n[rows] - k - 1]
    return int(np.sum(top | bottom))


def book_returns(weights: pd.DataFrame, returns: pd.DataFrame, cost_bps: float) -> pd.DataFrame:
    """Compute the book's returns per trade date, before and after costs.

    Dates on which a held name's return is unknown are dropped, as are dates without a position.

    Parameters
    ----------
    weights : pd.DataFrame
        The book, trade dates by tickers (``book``).
    returns : pd.DataFrame
        Each name's return over the period after each trade date, NaN where unknown.
    cost_bps : float
        Basis points per half-turn.

    Returns
    -------
    pd.DataFrame
        Per trade date: ``long`` (the long leg's return), ``short`` (the short leg's: the mean return of the
        names it is short), ``before_costs`` (``long - short``), ``turnover`` (``sum |w_t - w_(t-1)|``, in
        half-turns) and ``after_costs`` (``before_costs - turnover * cost_bps / 1e4``).

    Examples
    --------
    >>> import pandas as pd
    >>> signals = pd.DataFrame([[0.9, 0.2, 0.5, 0.6]], index=pd.to_datetime(["2020-01-31"]), columns=list("ABCD"))
    >>> returns = pd.DataFrame([[0.05, -0.02, 0.0, 0.01]], index=signals.index, columns=list("ABCD"))
    >>> book_returns(book(signals, k=1), returns, cost_bps=5).iloc[0].round(6).tolist()
    [0.05, -0.02, 0.07, 2.0, 0.069]
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
    """Lay out the book per trade date as ``returns.csv`` holds it.

    Parameters
    ----------
    strategy : pd.DataFrame
        ``book_returns``'s frame.
    benchmark : pd.Series
        The equal-weighted universe's return per trade date.
    cost_bps : float
        Basis points per half-turn.

    Returns
    -------
    pd.DataFrame
        Indexed by ``date``, the trade date (each return is earned over the period that follows it): ``long``
        and ``short`` (each leg's contribution, so ``long + short = gross``), ``gross`` (before costs),
        ``turnover`` (half-turns), ``costs`` (``turnover * cost_bps / 1e4``), ``net`` (after costs) and
        ``benchmark``.
    """
    table = pd.DataFrame({"long": strategy["long"], "short": -strategy["short"], "gross": strategy["before_costs"],
                          "turnover": strategy["turnover"], "costs": strategy["turnover"] * cost_bps / 1e4,
                          "net": strategy["after_costs"], "benchmark": benchmark.reindex(strategy.index)})
    return table.rename_axis("date")


def long_short(signals: pd.DataFrame, returns: pd.DataFrame, k: int, cost_bps: float, seed: int = 0,
               tradable: pd.DataFrame | None = None) -> pd.DataFrame:
    """Book the signals and compute the book's returns: ``book`` then ``book_returns``.

    Parameters
    ----------
    signals : pd.DataFrame
        The probabilities each trade date acts on, trade dates by tickers.
    returns : pd.DataFrame
        Each name's return over the period after each trade date.
    k : int
        Names a side.
    cost_bps : float
        Basis points per half-turn.
    seed : int, default 0
        The seed of the random tie-break.
    tradable : pd.DataFrame or None, default None
        Which names can be traded on the date; by default, where there is a signal.

    Returns
    -------
    pd.DataFrame
        ``book_returns``'s frame: ``long``, ``short``, ``before_costs``, ``turnover``, ``after_costs``.

    Examples
    --------
    >>> import pandas as pd
    >>> signals = pd.DataFrame([[0.9, 0.2, 0.5, 0.6]], index=pd.to_datetime(["2020-01-31"]), columns=list("ABCD"))
    >>> returns = pd.DataFrame([[0.05, -0.02, 0.0, 0.01]], index=signals.index, columns=list("ABCD"))
    >>> round(float(long_short(signals, returns, k=1, cost_bps=5)["after_costs"].iloc[0]), 6)
    0.069
    """
    return book_returns(book(signals, k, seed, tradable), returns, cost_bps)


def equal_weight(returns: pd.DataFrame, members: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.Series:
    """Compute the universe's return, equal-weighted and rebalanced each period.

    Parameters
    ----------
    returns : pd.DataFrame
        Each name's return over the period after each date.
    members : pd.DataFrame
        Booleans, dates by tickers: the members tradable on the date.
    dates : pd.DatetimeIndex
        The dates to compute it on.

    Returns
    -------
    pd.Series
        The mean next-period return of the date's members, named ``equal_weight``; NaN where a member's
        return is unknown or the date has no member.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> dates = pd.to_datetime(["2020-01-31", "2020-02-29"])
    >>> returns = pd.DataFrame({"A": [0.02, 0.01], "B": [0.0, np.nan]}, index=dates)
    >>> equal_weight(returns, pd.DataFrame(True, index=dates, columns=["A", "B"]), dates).tolist()
    [0.01, nan]
    """
    realised = returns.reindex(dates)
    held = members.reindex(index=dates, columns=returns.columns, fill_value=False).to_numpy(bool)
    values = realised.to_numpy()
    unknown = (held & np.isnan(values)).any(axis=1)
    mean = np.where(held, values, 0.0).sum(axis=1) / np.maximum(held.sum(axis=1), 1)
    return pd.Series(np.where(unknown | (held.sum(axis=1) == 0), np.nan, mean), index=dates, name="equal_weight")


def decile_returns(predictions: pd.DataFrame, forward_returns: pd.Series) -> pd.Series:
    """Compute the mean next-period return of each decile of predicted probability, deciles taken per date.

    Parameters
    ----------
    predictions : pd.DataFrame
        Rows indexed by (date, ticker) with ``probability``.
    forward_returns : pd.Series
        The rows' next-period returns.

    Returns
    -------
    pd.Series
        Decile (1 = lowest) -> the mean over dates of the decile's mean return.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rows = pd.MultiIndex.from_product([pd.to_datetime(["2020-01-31"]), list("ABCDEFGHIJ")],
    ...                                   names=["date", "ticker"])
    >>> predictions = pd.DataFrame({"probability": np.linspace(0, 1, 10)}, index=rows)
    >>> decile_returns(predictions, pd.Series(np.arange(10) / 100, index=rows)).round(2).tolist()
    [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09]
    """
    decile = quantile_of(predictions, 10).rename("decile")
    by_date = forward_returns.reindex(predictions.index).groupby([predictions.index.get_level_values("date"),
                                                                   decile]).mean()
    return by_date.groupby(level="decile").mean()


def performance(returns: pd.Series, periods_per_year: int, turnover: pd.Series | None = None) -> dict:
    """Measure a return series: annualised return and volatility, Sharpe, Sortino and Calmar ratios, drawdown.

    Parameters
    ----------
    returns : pd.Series
        Returns a period; NaN is dropped.
    periods_per_year : int
        12 (monthly) or 252 (daily), to annualise.
    turnover : pd.Series or None, default None
        Turnover a period, whose mean is reported when given.

    Returns
    -------
    dict
        ``periods``, ``mean_per_period`` and its ``newey_west_t``, ``annual_return`` (mean times
        ``periods_per_year``), ``cagr`` (compounded), ``annual_volatility``, ``sharpe`` (annualised) and its
        ``sharpe_interval_95``, ``sortino``, ``calmar``, ``probabilistic_sharpe`` (P[true Sharpe > 0]),
        ``max_drawdown`` (compounded, as a positive fraction), ``hit_rate`` (the share of positive periods),
        and ``turnover`` where given.

    Examples
    --------
    >>> import pandas as pd
    >>> returns = pd.Series([0.02, -0.01, 0.03, 0.01, -0.02, 0.04],
    ...                     index=pd.date_range("2020-01-31", periods=6, freq="ME"))
    >>> figures = performance(returns, periods_per_year=12)
    >>> round(figures["sharpe"], 3), round(figures["max_drawdown"], 3), round(figures["hit_rate"], 3)
    (1.745, 0.02, 0.667)
    """
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
    """Regress the strategy's returns on a benchmark's: beta, alpha and the information ratio.

    Parameters
    ----------
    strategy : pd.Series
        The strategy's returns a period.
    benchmark : pd.Series
        The benchmark's, on the same dates (dates where either is missing are left out).
    periods_per_year : int
        To annualise.

    Returns
    -------
    dict
        ``periods``; with three periods or more also ``beta``, ``annual_alpha`` with its ``alpha_t_stat``,
        ``information_ratio`` (annualised alpha over the residuals' annualised volatility, the appraisal
        ratio) and ``correlation``.

    Examples
    --------
    >>> import pandas as pd
    >>> dates = pd.date_range("2020-01-31", periods=6, freq="ME")
    >>> strategy = pd.Series([0.02, -0.01, 0.03, 0.01, -0.02, 0.04], index=dates)
    >>> benchmark = pd.Series([0.01, -0.02, 0.02, 0.0, -0.01, 0.03], index=dates)
    >>> figures = against(strategy, benchmark, periods_per_year=12)
    >>> round(figures["beta"], 3), round(figures["annual_alpha"], 3)
    (1.171, 0.07)
    """
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
