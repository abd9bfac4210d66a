"""Out-of-sample measures of predictions: ROC AUC and the rank information coefficient.

The ROC AUC by window, pooled with a bootstrap interval over dates, and per date; the rank information
coefficient and its companions in alphalens's conventions.

Predictions cover every test row, whether or not its outcome is known; the measures use the rows whose label
(for AUC) or next-period return (for the IC) is known, and ``labelled`` counts what they leave out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score

from deepfin._ranking import auc_with_weights
from deepfin.finance.validation.walk_forward import Window


def labelled(predictions: pd.DataFrame) -> pd.DataFrame:
    """Keep the predictions whose label is known (not NaN)."""
    return predictions[predictions["label"].notna()]


def auc_by_window(predictions: pd.DataFrame, windows: list[Window]) -> pd.DataFrame:
    """Compute the ROC AUC of each test window's labelled rows.

    Parameters
    ----------
    predictions : pd.DataFrame
        ``walk_forward_predictions``'s frame: ``window``, ``probability``, ``label``.
    windows : list of Window
        The test windows, in the order of the ``window`` numbers.

    Returns
    -------
    pd.DataFrame
        One row per window: ``window``, ``test`` (its dates), ``rows``, ``labelled`` and ``auc`` (NaN where the
        window's labelled rows hold one class only).
    """
    rows = []
    for number, part in predictions.groupby("window"):
        known = labelled(part)
        both = known["label"].nunique() == 2
        rows.append({"window": int(number), "test": windows[number].label(), "rows": len(part),
                     "labelled": len(known),
                     "auc": roc_auc_score(known["label"], known["probability"]) if both else np.nan})
    return pd.DataFrame(rows)


def bootstrap_auc(predictions: pd.DataFrame, n_resamples: int = 1000, level: float = 0.95, seed: int = 0):
    """Compute the pooled ROC AUC of the labelled rows, with a percentile interval from resampling whole dates.

    Dates, not rows, are drawn because the rows of one date share that date's market and are not
    independent draws.

    Parameters
    ----------
    predictions : pd.DataFrame
        Rows indexed by (date, ticker) with ``probability`` and ``label`` (NaN where unknown: left out).
    n_resamples : int, default 1000
        Bootstrap draws of the dates, with replacement.
    level : float, default 0.95
        The interval's coverage.
    seed : int, default 0
        The seed of the generator.

    Returns
    -------
    auc : float
        The pooled ROC AUC.
    low, high : float
        The interval's bounds. All three are NaN when the labelled rows hold one class only.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rows = pd.MultiIndex.from_product([pd.to_datetime(["2020-01-31", "2020-02-29"]), ["A", "B", "C"]],
    ...                                   names=["date", "ticker"])
    >>> predictions = pd.DataFrame({"probability": [0.9, 0.5, 0.1, 0.2, 0.6, 0.7],
    ...                             "label": [1.0, 0.0, 1.0, 0.0, 1.0, np.nan],
    ...                             "forward_return": [0.05, 0.01, 0.02, 0.03, -0.01, 0.04]}, index=rows)
    >>> [round(value, 3) for value in bootstrap_auc(predictions, n_resamples=100)]
    [0.667, 0.5, 1.0]
    """
    predictions = labelled(predictions)
    if predictions["label"].nunique() < 2:
        return float("nan"), float("nan"), float("nan")
    auc_with = auc_with_weights(predictions["probability"].to_numpy(), predictions["label"].to_numpy() == 1)
    date_codes = pd.factorize(predictions.index.get_level_values("date"))[0]
    n_dates = date_codes.max() + 1
    rng = np.random.default_rng(seed)
    draws = [auc_with(np.bincount(rng.integers(0, n_dates, n_dates), minlength=n_dates)[date_codes].astype(float))
             for _ in range(n_resamples)]
    low, high = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return auc_with(np.ones(len(date_codes))), float(low), float(high)


def per_date_auc(predictions: pd.DataFrame) -> pd.Series:
    """Compute the ROC AUC within each date: cross-sectional skill, what a long-short book can earn.

    Parameters
    ----------
    predictions : pd.DataFrame
        Rows indexed by (date, ticker) with ``probability`` and ``label`` (NaN where unknown: left out).

    Returns
    -------
    pd.Series
        Date -> AUC (ties ranked by their mean), named ``auc``, for the dates whose labelled rows hold both
        classes.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rows = pd.MultiIndex.from_product([pd.to_datetime(["2020-01-31", "2020-02-29"]), ["A", "B", "C"]],
    ...                                   names=["date", "ticker"])
    >>> predictions = pd.DataFrame({"probability": [0.9, 0.5, 0.1, 0.2, 0.6, 0.7],
    ...                             "label": [1.0, 0.0, 1.0, 0.0, 1.0, np.nan],
    ...                             "forward_return": [0.05, 0.01, 0.02, 0.03, -0.01, 0.04]}, index=rows)
    >>> per_date_auc(predictions).tolist()
    [0.5, 1.0]
    """
    known = labelled(predictions)
    dates = known.index.get_level_values("date")
    rank = known["probability"].groupby(dates).rank()
    positive = known["label"].to_numpy() == 1
    by_date = pd.DataFrame({"pos": positive, "n": 1, "pos_rank": rank.to_numpy() * positive}, index=dates)
    sums = by_date.groupby(level=0).sum()
    negatives = sums["n"] - sums["pos"]
    auc = (sums["pos_rank"] - sums["pos"] * (sums["pos"] + 1) / 2) / (sums["pos"] * negatives)
    return auc[(sums["pos"] > 0) & (negatives > 0)].rename("auc")


def information_coefficient(predictions: pd.DataFrame, returns: str = "forward_return") -> pd.Series:
    """Compute the rank information coefficient per date: the Spearman correlation of prediction and return.

    The correlation is taken across the names of each date whose return is known.

    Parameters
    ----------
    predictions : pd.DataFrame
        Rows indexed by (date, ticker) with ``probability`` and the column ``returns``.
    returns : str, default "forward_return"
        The column of next-period returns (NaN where unknown: left out).

    Returns
    -------
    pd.Series
        Date -> IC, named ``ic``, for the dates on which neither the predictions nor the returns are all equal.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rows = pd.MultiIndex.from_product([pd.to_datetime(["2020-01-31", "2020-02-29"]), ["A", "B", "C"]],
    ...                                   names=["date", "ticker"])
    >>> predictions = pd.DataFrame({"probability": [0.9, 0.5, 0.1, 0.2, 0.6, 0.7],
    ...                             "label": [1.0, 0.0, 1.0, 0.0, 1.0, np.nan],
    ...                             "forward_return": [0.05, 0.01, 0.02, 0.03, -0.01, 0.04]}, index=rows)
    >>> information_coefficient(predictions).tolist()
    [0.5, 0.5]
    """
    known = predictions[predictions[returns].notna()]
    dates = known.index.get_level_values("date")
    ranks = pd.DataFrame({"p": known["probability"].groupby(dates).rank().to_numpy(),
                          "r": known[returns].groupby(dates).rank().to_numpy()}, index=dates)
    centred = ranks - ranks.groupby(level=0).transform("mean")
    sums = pd.DataFrame({"pr": centred["p"] * centred["r"], "pp": centred["p"] ** 2, "rr": centred["r"] ** 2},
                        index=dates).groupby(level=0).sum()
    spread = np.sqrt(sums["pp"] * sums["rr"])
    return (sums["pr"] / spread)[spread > 0].rename("ic")


def ic_summary(ic: pd.Series) -> dict:
    """Summarise an IC series as alphalens's IC table does.

    Parameters
    ----------
    ic : pd.Series
        IC per date (``information_coefficient``); NaN is dropped.

    Returns
    -------
    dict
        ``dates`` (how many), ``mean``, ``std``, ``information_ratio`` (mean / std, the risk-adjusted IC),
        ``t_stat`` and ``p_value`` of the mean (one-sample t-test), ``skew`` and ``kurtosis`` (excess). With
        fewer than two dates, ``dates`` and ``mean`` only.

    Examples
    --------
    >>> import pandas as pd
    >>> summary = ic_summary(pd.Series([0.05, -0.02, 0.08, 0.03]))
    >>> {name: round(value, 3) for name, value in summary.items() if name in ("dates", "mean", "t_stat")}
    {'dates': 4, 'mean': 0.035, 't_stat': 1.665}
    """
    values = ic.dropna().to_numpy()
    if len(values) < 2:
        return {"dates": int(len(values)), "mean": float(np.mean(values)) if len(values) else float("nan")}
    mean, std = float(values.mean()), float(values.std(ddof=1))
    test = stats.ttest_1samp(values, 0.0)
    return {"dates": int(len(values)), "mean": mean, "std": std,
            "information_ratio": mean / std if std > 0 else float("nan"),
            "t_stat": float(test.statistic), "p_value": float(test.pvalue),
            "skew": float(stats.skew(values)), "kurtosis": float(stats.kurtosis(values))}


def quantile_of(predictions: pd.DataFrame, quantiles: int = 10) -> pd.Series:
    """Give each row the quantile of its prediction within its date (1 = lowest, ``quantiles`` = highest)."""
    rank = predictions["probability"].groupby(level="date").rank(pct=True)
    return np.ceil(rank * quantiles).clip(1, quantiles).astype(int)


def quantile_returns(predictions: pd.DataFrame, quantiles: int = 10, returns: str = "forward_return") -> pd.DataFrame:
    """Compute the mean return by quantile of the prediction, demeaned by date (alphalens's).

    Each date's quantile returns are demeaned by the date's mean return (what a dollar-neutral book earns).

    Parameters
    ----------
    predictions : pd.DataFrame
        Rows indexed by (date, ticker) with ``probability`` and the column ``returns``.
    quantiles : int, default 10
        How many quantiles.
    returns : str, default "forward_return"
        The column of next-period returns (NaN: left out).

    Returns
    -------
    pd.DataFrame
        One row per quantile (1 = lowest): ``quantile``, ``mean`` (over dates) and ``std_error`` (across
        dates).
    """
    known = predictions[predictions[returns].notna()]
    frame = pd.DataFrame({"date": known.index.get_level_values("date"),
                          "quantile": quantile_of(known, quantiles).to_numpy(), "r": known[returns].to_numpy()})
    frame["r"] -= frame.groupby("date")["r"].transform("mean")
    by_date = frame.groupby(["date", "quantile"])["r"].mean().unstack("quantile")
    return pd.DataFrame({"quantile": by_date.columns.astype(int), "mean": by_date.mean().to_numpy(),
                         "std_error": (by_date.std(ddof=1) / np.sqrt(by_date.notna().sum())).to_numpy()})


def quantile_turnover(predictions: pd.DataFrame, quantile: int, quantiles: int = 10) -> float:
    """Compute the mean share of a quantile's names that were not in it on the date before (alphalens's turnover).

    Returns NaN when no date follows another with names in ``quantile``.
    """
    bucket = quantile_of(predictions, quantiles)
    members = bucket[bucket == quantile].reset_index().groupby("date")["ticker"].apply(set)
    shares = [len(now - before) / len(now) for before, now in zip(members.iloc[:-1], members.iloc[1:]) if now]
    return float(np.mean(shares)) if shares else float("nan")


def rank_autocorrelation(predictions: pd.DataFrame) -> float:
    """Compute the mean Spearman correlation of each date's prediction ranks with the date before's.

    The correlation is taken over the names predicted on both dates (alphalens's factor rank
    autocorrelation): near 1, a slow signal that trades little. NaN when no pair of dates has one.
    """
    wide = predictions["probability"].unstack("ticker").to_numpy(dtype=float)
    both = ~(np.isnan(wide[1:]) | np.isnan(wide[:-1]))  # the names on a date and the date before
    counts = both.sum(axis=1, keepdims=True)
    centred = []
    for values in (wide[1:], wide[:-1]):
        ranks = np.nan_to_num(pd.DataFrame(np.where(both, values, np.nan)).rank(axis=1).to_numpy())
        centred.append(np.where(both, ranks - (counts + 1) / 2, 0.0))  # ranks 1..n average (n + 1) / 2
    now, before = centred
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (now * before).sum(axis=1) / np.sqrt((now ** 2).sum(axis=1) * (before ** 2).sum(axis=1))
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")
