"""Out-of-sample measures of predictions: ROC AUC by window, pooled with a bootstrap interval over dates, and
per date; the rank information coefficient (alphalens's conventions).

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
    """The predictions whose label is known."""
    return predictions[predictions["label"].notna()]


def auc_by_window(predictions: pd.DataFrame, windows: list[Window]) -> pd.DataFrame:
    """ROC AUC of each test window's labelled rows (NaN where a window holds one class only)."""
    rows = []
    for number, part in predictions.groupby("window"):
        known = labelled(part)
        both = known["label"].nunique() == 2
        rows.append({"window": int(number), "test": windows[number].label(), "rows": len(part),
                     "labelled": len(known),
                     "auc": roc_auc_score(known["label"], known["probability"]) if both else np.nan})
    return pd.DataFrame(rows)


def bootstrap_auc(predictions: pd.DataFrame, n_resamples: int = 1000, level: float = 0.95, seed: int = 0):
    """Pooled ROC AUC of the labelled rows and a percentile interval from resampling whole dates.

    Dates, not rows, are drawn because the rows of one date share that date's market and are not
    independent draws.
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
    """ROC AUC within each date (dates whose labelled rows hold both classes): cross-sectional skill."""
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
    """Rank IC per date: Spearman correlation of the prediction and the next-period return across names."""
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
    """alphalens's IC table: mean, standard deviation, risk-adjusted IC (mean / std, the IC information
    ratio), t-statistic and p-value of the mean, skew and kurtosis, and the number of dates."""
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
    """Each row's quantile of the prediction within its date (1 = lowest, ``quantiles`` = highest)."""
    rank = predictions["probability"].groupby(level="date").rank(pct=True)
    return np.ceil(rank * quantiles).clip(1, quantiles).astype(int)


def quantile_returns(predictions: pd.DataFrame, quantiles: int = 10, returns: str = "forward_return") -> pd.DataFrame:
    """Mean return by quantile of the prediction (1 = lowest), each date's quantile returns demeaned by the
    date's mean return (what a dollar-neutral book earns), with the standard error across dates (alphalens's
    mean return by quantile, demeaned)."""
    known = predictions[predictions[returns].notna()]
    frame = pd.DataFrame({"date": known.index.get_level_values("date"),
                          "quantile": quantile_of(known, quantiles).to_numpy(), "r": known[returns].to_numpy()})
    frame["r"] -= frame.groupby("date")["r"].transform("mean")
    by_date = frame.groupby(["date", "quantile"])["r"].mean().unstack("quantile")
    return pd.DataFrame({"quantile": by_date.columns.astype(int), "mean": by_date.mean().to_numpy(),
                         "std_error": (by_date.std(ddof=1) / np.sqrt(by_date.notna().sum())).to_numpy()})


def quantile_turnover(predictions: pd.DataFrame, quantile: int, quantiles: int = 10) -> float:
    """Mean share of the names in ``quantile`` of the prediction on a date that were not in it on the date
    before (alphalens's quantile turnover)."""
    bucket = quantile_of(predictions, quantiles)
    members = bucket[bucket == quantile].reset_index().groupby("date")["ticker"].apply(set)
    shares = [len(now - before) / len(now) for before, now in zip(members.iloc[:-1], members.iloc[1:]) if now]
    return float(np.mean(shares)) if shares else float("nan")


def rank_autocorrelation(predictions: pd.DataFrame) -> float:
    """Mean Spearman correlation of each date's prediction ranks with the date before's, over the names on
    both (alphalens's factor rank autocorrelation): near 1, a slow signal that trades little."""
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
