"""The long-short strategy the predictions imply, its costs, and the measures to judge it by.

On each date: long the ``k`` rows with the highest predicted probability and short the ``k`` lowest, each
leg equal-weighted with $1 (weights +1/k and -1/k, dollar-neutral), held one period. The period return is
the long leg's mean next-period return minus the short leg's, as in Krauss, Do and Huck (2017). Turnover is
``sum |w_t - w_(t-1)|`` (a full rotation of both legs is 4 half-turns), and each half-turn costs
``cost_bps`` basis points: at 5 bps a full rotation costs 0.20% a period, Krauss et al.'s figure.
Returns are dated by the date the positions are formed; they are earned over the following period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skfolio import measures


def long_short(predictions: pd.DataFrame, forward_returns: pd.Series, k: int, cost_bps: float) -> pd.DataFrame:
    """Per date: ``long`` and ``short`` leg returns, ``before_costs``, ``turnover``, ``after_costs``."""
    probability = predictions["probability"].unstack("ticker")
    realised = forward_returns.reindex(predictions.index).unstack("ticker").reindex_like(probability)
    n_names = probability.notna().sum(axis=1)
    if (n_names < 2 * k).any():
        date = n_names.index[np.argmax(n_names.to_numpy() < 2 * k)]
        raise ValueError(f"k={k} needs {2 * k} predictions a date; {date.date()} has {int(n_names[date])}. "
                         "Lower k.")
    rank = probability.rank(axis=1, ascending=False, method="first")
    is_long, is_short = rank.le(k), rank.gt(n_names - k, axis=0)
    weights = (is_long.astype(float) - is_short.astype(float)) / k
    turnover = weights.diff().abs().sum(axis=1)
    turnover.iloc[0] = weights.iloc[0].abs().sum()
    result = pd.DataFrame({"long": realised.where(is_long).mean(axis=1),
                           "short": realised.where(is_short).mean(axis=1)})
    result["before_costs"] = result["long"] - result["short"]
    result["turnover"] = turnover
    result["after_costs"] = result["before_costs"] - turnover * cost_bps / 1e4
    return result


def equal_weight_buy_and_hold(forward_returns: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """Equal dollars in every name priced on the first date, then left to drift; one return per date."""
    realised = forward_returns.unstack("ticker").reindex(dates)
    realised = realised.loc[:, realised.iloc[0].notna()].fillna(0.0)
    held = (1 + realised).cumprod().shift(1).fillna(1.0)
    return (held * realised).sum(axis=1) / held.sum(axis=1)


def decile_returns(predictions: pd.DataFrame, forward_returns: pd.Series) -> pd.Series:
    """Mean next-period return of each decile of predicted probability (1 = lowest), deciles taken per date."""
    rank = predictions["probability"].groupby(level="date").rank(pct=True)
    decile = np.ceil(rank * 10).clip(1, 10).astype(int).rename("decile")
    by_date = forward_returns.reindex(predictions.index).groupby([predictions.index.get_level_values("date"),
                                                                   decile]).mean()
    return by_date.groupby(level="decile").mean()


def performance(returns: pd.Series, periods_per_year: int, turnover: pd.Series | None = None) -> dict:
    """Annualised return and volatility, Sharpe, probabilistic Sharpe (P[true Sharpe > 0]), max drawdown,
    hit rate, the mean return a period, and mean turnover where given."""
    r = returns.dropna().to_numpy()
    mean, std = measures.mean(r), measures.standard_deviation(r)
    out = {"periods": int(len(r)), "mean_per_period": float(mean),
           "annual_return": float(mean * periods_per_year),
           "annual_volatility": float(std * np.sqrt(periods_per_year)),
           "sharpe": float(mean / std * np.sqrt(periods_per_year)) if std > 0 else float("nan"),
           "probabilistic_sharpe": float(measures.probabilistic_sharpe_ratio(r)),
           "max_drawdown": abs(float(measures.max_drawdown(measures.get_drawdowns(r, compounded=True)))),
           "hit_rate": float(np.mean(r > 0))}
    if turnover is not None:
        out["turnover"] = float(turnover.mean())
    return out
