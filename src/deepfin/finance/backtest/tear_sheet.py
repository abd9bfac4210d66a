"""The measures a portfolio manager reads a book by, beyond the mean and Sharpe ratio.

Compounded growth, downside and drawdown ratios, an interval for the Sharpe ratio, the drawdowns themselves,
returns by month and year, autocorrelation-robust t-statistics, and what the book can pay in costs.

Conventions are quantstats's and pyfolio's where they have one: compounded returns, the Sortino ratio's
downside deviation against 0, the Calmar ratio as compounded annual growth over the maximum drawdown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

SWEEP_BPS = (0.0, 2.5, 5.0, 10.0, 20.0)  # costs per half-turn the cost sweep books


def cagr(returns: pd.Series, periods_per_year: int) -> float:
    """Compute the compounded annual growth rate: the growth of $1 over the series, per year.

    Parameters
    ----------
    returns : pd.Series
        Returns a period; NaN is dropped.
    periods_per_year : int
        Periods in a year.

    Returns
    -------
    float
        The growth rate a year; -1 when $1 was lost, NaN for no returns.

    Examples
    --------
    >>> import pandas as pd
    >>> returns = pd.Series([0.10, -0.20, 0.05, 0.20], index=pd.date_range("2020-01-31", periods=4, freq="ME"))
    >>> round(cagr(returns, periods_per_year=12), 4)  # 1.1088 in four months: 1.1088 ** 3 - 1 a year
    0.3632
    """
    r = returns.dropna().to_numpy()
    if not len(r):
        return float("nan")
    growth = float(np.prod(1 + r))
    return growth ** (periods_per_year / len(r)) - 1 if growth > 0 else -1.0


def sortino(returns: pd.Series, periods_per_year: int) -> float:
    """Compute the Sortino ratio: the annualised mean over the downside deviation against 0.

    The downside deviation is the root mean square of the negative returns, over every period, as quantstats
    computes it. NaN when no return is negative.
    """
    r = returns.dropna().to_numpy()
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if len(r) else 0.0
    return float(r.mean() / downside * np.sqrt(periods_per_year)) if downside > 0 else float("nan")


def calmar(returns: pd.Series, periods_per_year: int) -> float:
    """Compute the Calmar ratio: compounded annual growth over the maximum drawdown (compounded).

    NaN when there is no drawdown.
    """
    table = drawdowns(returns)
    deepest = -float(table["depth"].min()) if len(table) else 0.0
    return cagr(returns, periods_per_year) / deepest if deepest > 0 else float("nan")


def sharpe_interval(returns: pd.Series, periods_per_year: int, level: float = 0.95) -> tuple[float, float]:
    """Compute a ``level`` interval for the annualised Sharpe ratio from its standard error under non-normal returns.

    The standard error is Mertens's (2002), as Bailey and Lopez de Prado's probabilistic Sharpe ratio uses it:
    ``sqrt((1 - skew SR + (kurtosis - 1) / 4 SR^2) / (n - 1))`` per period.

    Parameters
    ----------
    returns : pd.Series
        Returns a period; NaN is dropped.
    periods_per_year : int
        To annualise.
    level : float, default 0.95
        The coverage.

    Returns
    -------
    tuple of float
        The bounds, annualised; NaN for fewer than three returns or no spread.
    """
    r = returns.dropna().to_numpy()
    if len(r) < 3 or r.std(ddof=1) == 0:
        return float("nan"), float("nan")
    sr = r.mean() / r.std(ddof=1)
    skew, kurtosis = stats.skew(r), stats.kurtosis(r, fisher=False)
    se = np.sqrt(max(1 - skew * sr + (kurtosis - 1) / 4 * sr ** 2, 0.0) / (len(r) - 1))
    z = stats.norm.ppf(0.5 + level / 2)
    scale = np.sqrt(periods_per_year)
    return float((sr - z * se) * scale), float((sr + z * se) * scale)


def newey_west_t(returns: pd.Series, lags: int | None = None) -> float:
    """Compute the t-statistic of the mean return with Newey and West's (1987) standard error.

    The standard error is autocorrelation- and heteroskedasticity-consistent, with Bartlett weights.

    Parameters
    ----------
    returns : pd.Series
        Returns a period; NaN is dropped.
    lags : int or None, default None
        The lags weighed; by default ``floor(4 (n / 100) ^ (2 / 9))``, Newey and West's 1994 rule.

    Returns
    -------
    float
        The t-statistic; NaN for fewer than three returns or no variance.
    """
    r = returns.dropna().to_numpy()
    n = len(r)
    if n < 3:
        return float("nan")
    lags = int(np.floor(4 * (n / 100) ** (2 / 9))) if lags is None else lags
    e = r - r.mean()
    variance = e @ e / n
    for lag in range(1, min(lags, n - 1) + 1):
        variance += 2 * (1 - lag / (lags + 1)) * (e[lag:] @ e[:-lag]) / n
    return float(r.mean() / np.sqrt(variance / n)) if variance > 0 else float("nan")


def drawdowns(returns: pd.Series, top: int | None = None) -> pd.DataFrame:
    """List the drawdowns of the compounded growth of $1, deepest first.

    Parameters
    ----------
    returns : pd.Series
        Returns a period, indexed by date; NaN is dropped.
    top : int or None, default None
        Keep the ``top`` deepest.

    Returns
    -------
    pd.DataFrame
        One row per drawdown: ``depth`` (negative), ``start`` (the peak before it), ``trough``, ``recovery``
        (the first date back at the peak; NaT while it lasts) and ``periods`` (from start to recovery, or to the
        last date).

    Examples
    --------
    >>> import pandas as pd
    >>> returns = pd.Series([0.10, -0.20, 0.05, 0.20], index=pd.date_range("2020-01-31", periods=4, freq="ME"))
    >>> table = drawdowns(returns)
    >>> round(float(table["depth"].iloc[0]), 2), str(table["trough"].iloc[0].date())
    (-0.2, '2020-02-29')
    >>> str(table["recovery"].iloc[0].date()), int(table["periods"].iloc[0])
    ('2020-04-30', 3)
    """
    r = returns.dropna()
    growth = (1 + r).cumprod()
    peak = np.maximum.accumulate(np.concatenate([[1.0], growth.to_numpy()]))[1:]
    below = growth.to_numpy() < peak
    rows, dates = [], r.index
    position = 0
    while position < len(r):
        if not below[position]:
            position += 1
            continue
        end = position
        while end < len(r) and below[end]:
            end += 1
        depth = growth.to_numpy()[position:end] / peak[position:end] - 1
        trough = position + int(np.argmin(depth))
        rows.append({"depth": float(depth.min()), "start": dates[position - 1] if position else pd.NaT,
                     "trough": dates[trough], "recovery": dates[end] if end < len(r) else pd.NaT,
                     "periods": end - position + 1})
        position = end
    table = pd.DataFrame(rows, columns=["depth", "start", "trough", "recovery", "periods"])
    table = table.sort_values("depth", kind="stable").reset_index(drop=True)
    return table if top is None else table.head(top)


def period_returns(returns: pd.Series, frequency: str) -> pd.Series:
    """Compound returns by calendar ``frequency``: "month" or "year" (labelled by the period's end)."""
    alias = {"month": "ME", "year": "YE"}[frequency]
    return returns.dropna().groupby(pd.Grouper(freq=alias)).apply(lambda r: float(np.prod(1 + r) - 1))


def break_even_bps(gross: pd.Series, turnover: pd.Series) -> float:
    """Compute the cost per half-turn, in basis points, at which the book's mean return after costs is 0.

    That is its mean return before costs over its mean turnover (NaN without turnover).
    """
    both = pd.concat([gross, turnover], axis=1).dropna()
    mean_turnover = float(both.iloc[:, 1].mean()) if len(both) else 0.0
    return float(both.iloc[:, 0].mean() / mean_turnover * 1e4) if mean_turnover > 0 else float("nan")


def cost_sweep(gross: pd.Series, turnover: pd.Series, periods_per_year: int, bps=SWEEP_BPS) -> list[dict]:
    """Compute the book's mean return and annualised Sharpe ratio after each cost per half-turn in ``bps``.

    Returns
    -------
    list of dict
        One per cost: ``bps``, ``mean`` and ``sharpe``.
    """
    rows = []
    for cost in bps:
        net = (gross - turnover * cost / 1e4).dropna()
        std = float(net.std(ddof=1)) if len(net) > 1 else 0.0
        rows.append({"bps": float(cost), "mean": float(net.mean()) if len(net) else float("nan"),
                     "sharpe": float(net.mean() / std * np.sqrt(periods_per_year)) if std > 0 else float("nan")})
    return rows
