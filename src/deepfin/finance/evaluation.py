"""Out-of-sample evaluation: walk-forward predictions, AUC by window and overall with a bootstrap interval
over dates, and the seed's shuffled cross-validation for comparison."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score

from deepfin.finance.validation import Window


def walk_forward_predictions(model, X: pd.DataFrame, y: pd.Series, windows: list[Window],
                             advance: Callable[[], None] = lambda: None):
    """Fit a clone of ``model`` on each window's training rows and predict its test rows.

    Returns the predictions (rows (date, ticker); columns ``window``, ``probability``, ``label``) and the
    model fitted on the last window.
    """
    parts, fitted = [], None
    for number, window in enumerate(windows):
        train, test = window.rows(X.index)
        fitted = clone(model).fit(X.iloc[train], y.iloc[train])
        parts.append(pd.DataFrame({"window": number, "probability": fitted.predict_proba(X.iloc[test])[:, 1],
                                   "label": y.iloc[test].to_numpy()}, index=X.index[test]))
        advance()
    return pd.concat(parts), fitted


def auc_by_window(predictions: pd.DataFrame, windows: list[Window]) -> pd.DataFrame:
    """ROC AUC of each test window (NaN where a window holds one class only)."""
    rows = []
    for number, part in predictions.groupby("window"):
        both = part["label"].nunique() == 2
        rows.append({"window": int(number), "test": windows[number].label(), "rows": len(part),
                     "auc": roc_auc_score(part["label"], part["probability"]) if both else np.nan})
    return pd.DataFrame(rows)


def bootstrap_auc(predictions: pd.DataFrame, n_resamples: int = 1000, level: float = 0.95, seed: int = 0):
    """Pooled ROC AUC and a percentile interval from resampling whole dates with replacement.

    Dates, not rows, are drawn because the rows of one date share that date's market and are not
    independent draws.
    """
    scores = predictions["probability"].to_numpy()
    positive = predictions["label"].to_numpy() == 1
    date_codes = pd.factorize(predictions.index.get_level_values("date"))[0]
    n_dates = date_codes.max() + 1
    auc = weighted_auc(scores, positive, np.ones(len(scores)))
    rng = np.random.default_rng(seed)
    draws = [weighted_auc(scores, positive, np.bincount(rng.integers(0, n_dates, n_dates),
                                                        minlength=n_dates)[date_codes].astype(float))
             for _ in range(n_resamples)]
    low, high = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return auc, float(low), float(high)


def weighted_auc(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> float:
    """ROC AUC with row weights (ties count half), by one sort: the weighted Mann-Whitney statistic."""
    order = np.argsort(scores, kind="stable")
    tie_group = np.cumsum(np.r_[True, np.diff(scores[order]) != 0]) - 1
    w, pos = weights[order], positive[order]
    pos_weight = np.bincount(tie_group, w * pos)
    neg_weight = np.bincount(tie_group, w * ~pos)
    total_pos, total_neg = pos_weight.sum(), neg_weight.sum()
    if total_pos == 0 or total_neg == 0:
        return float("nan")
    below = np.cumsum(neg_weight) - neg_weight
    return float(pos_weight @ (below + 0.5 * neg_weight) / (total_pos * total_neg))


def shuffled_cv_auc(model, X: pd.DataFrame, y: pd.Series, n_splits: int = 5, seed: int = 0,
                    advance: Callable[[], None] = lambda: None) -> float:
    """The seed's evaluation: mean ROC AUC over shuffled stratified K-fold (rows of every date on both sides)."""
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(clone(model), X, y, scoring=auc_scorer(advance), cv=folds)))


def auc_scorer(advance: Callable[[], None] = lambda: None):
    """scikit-learn's ROC AUC scorer that also calls ``advance()`` after each fold (a progress bar)."""
    auc = get_scorer("roc_auc")

    def scored(estimator, X_test, y_test):
        value = auc(estimator, X_test, y_test)
        advance()
        return value

    return scored
