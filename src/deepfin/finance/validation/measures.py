"""Out-of-sample evaluation: walk-forward predictions; ROC AUC by window, pooled with a bootstrap interval over
dates, and per date; the rank information coefficient (alphalens's conventions); the seed's shuffled
cross-validation for comparison.

Predictions cover every test row, whether or not its outcome is known; the measures use the rows whose label
(for AUC) or next-period return (for the IC) is known, and ``labelled`` counts what they leave out.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from deepfin._ranking import auc_with_weights
from deepfin.finance.journal import recorded
from deepfin.finance.validation import Window


def walk_forward_predictions(model, X: pd.DataFrame, y: pd.Series, windows: list[Window], realised=None,
                             advance: Callable[[], None] = lambda: None, n_jobs: int = 1, journal=None,
                             last_model: bool = True):
    """Fit a clone of ``model`` on each window's training rows and predict all of its test rows.

    ``realised`` (the date each label becomes known) keeps training to labels known before the test window and
    is passed on to the model's ``fit`` where it takes it. The windows are independent joblib jobs (``n_jobs``).
    With a ``journal`` (``deepfin.finance.journal``) each window's probabilities are recorded as it finishes and
    a window already recorded is not fitted again. Returns the predictions (rows (date, ticker); columns
    ``window``, ``probability``, ``label``, NaN where unknown) and the model fitted on the last window (fitted
    again where the journal held that window, as a journal keeps no models; None then with ``last_model=False``).
    """
    keys = [None if journal is None else journal.key(("walk-forward window", model, list(X.columns),
                                                      *window.rows(X.index, realised))) for window in windows]
    found = recorded(journal, keys)
    todo = [number for number in range(len(windows)) if number not in found]
    parts = {}
    for number, record in found.items():
        parts[number] = _part(X, y, windows[number].rows(X.index, realised)[1], number, record["probability"])
        advance()
    last = None
    jobs = (delayed(_fit_window)(model, X, y, windows[number], realised, number) for number in todo)
    for number, part, fitted in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs) if todo else ():
        if journal is not None:
            journal.put(keys[number], {"probability": part["probability"].to_numpy()})
        parts[number] = part
        last = fitted if number == len(windows) - 1 else last
        advance()
    if last is None and last_model:
        last = _fit_window(model, X, y, windows[-1], realised, len(windows) - 1)[2]
    return pd.concat([parts[number] for number in range(len(windows))]), last


def _fit_window(model, X: pd.DataFrame, y: pd.Series, window: Window, realised, number: int):
    train, test = window.rows(X.index, realised)
    fitted = clone(model).fit(X.iloc[train], y.iloc[train], **realised_for(model, realised, train))
    return number, _part(X, y, test, number, fitted.predict_proba(X.iloc[test])[:, 1]), fitted


def _part(X: pd.DataFrame, y: pd.Series, test: np.ndarray, number: int, probability: np.ndarray) -> pd.DataFrame:
    """One window's predictions: its test rows, their probabilities and labels."""
    return pd.DataFrame({"window": number, "probability": probability, "label": y.iloc[test].to_numpy()},
                        index=X.index[test])


def realised_for(model, realised, rows=slice(None)) -> dict:
    """``{"realised": ...}`` for a model whose ``fit`` takes the dates its labels are realised, else ``{}``."""
    if realised is None or "realised" not in inspect.signature(model.fit).parameters:
        return {}
    return {"realised": np.asarray(realised)[rows]}


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


def shuffled_cv_auc(model, X: pd.DataFrame, y: pd.Series, n_splits: int = 5, seed: int = 0,
                    advance: Callable[[], None] = lambda: None, n_jobs: int = 1, journal=None) -> float:
    """The seed's evaluation: mean ROC AUC over shuffled stratified K-fold (rows of every date on both sides)
    of the rows whose label ``y`` is known (not NaN); the folds are joblib jobs (``n_jobs``), ``advance()`` is
    called as each is scored. With a ``journal`` each fold's AUC is recorded as it finishes and a fold already
    recorded is not fitted again."""
    labelled = np.flatnonzero(y.notna().to_numpy())

    def folds():  # positions in X of each fold's training and test rows, made as needed rather than held
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return ((labelled[train], labelled[test]) for train, test in splitter.split(labelled, y.iloc[labelled]))

    keys = [None] * n_splits if journal is None else [journal.key(("shuffled fold", model, list(X.columns), *fold))
                                                      for fold in folds()]
    found = recorded(journal, keys)
    todo = [number for number in range(n_splits) if number not in found]
    scores = {}
    for number, record in found.items():
        scores[number] = record["auc"]
        advance()
    jobs = (delayed(_fold_auc)(model, X, y, train, test, number)
            for number, (train, test) in enumerate(folds()) if number in todo)
    for number, score in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs) if todo else ():
        if journal is not None:
            journal.put(keys[number], {"auc": score})
        scores[number] = score
        advance()
    return float(np.mean([scores[number] for number in range(n_splits)]))


def _fold_auc(model, X: pd.DataFrame, y: pd.Series, train, test, number: int) -> tuple[int, float]:
    fitted = clone(model)
    if hasattr(fitted, "fit_rows"):  # fits on X.iloc[train] without copying those rows first
        fitted.fit_rows(X, y, train)
    else:
        fitted.fit(X.iloc[train], y.iloc[train])
    return number, float(roc_auc_score(y.iloc[test], fitted.predict_proba(X.iloc[test])[:, 1]))
