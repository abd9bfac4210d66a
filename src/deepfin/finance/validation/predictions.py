"""Out-of-sample predictions, window by window, and the shuffled cross-validation a textbook uses, for comparison.

A model fitted on each walk-forward window's training rows predicts its test rows; ``shuffled_cv_auc`` is the
evaluation of Jansen (2020, ch. 17), shuffled stratified K-fold over all rows.

Each window (each fold) is one unit of work for ``deepfin.parallel.resumable``: a joblib job, recorded in a run's
journal as it finishes and taken from it when an interrupted run resumes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pandas as pd
from joblib import delayed
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from deepfin import parallel
from deepfin.finance.validation.walk_forward import Window


def walk_forward_predictions(model, X: pd.DataFrame, y: pd.Series, windows: list[Window], realised=None,
                             advance: Callable[[], None] = lambda: None, n_jobs: int = 1, journal=None,
                             last_model: bool = True):
    """Fit a clone of ``model`` on each window's training rows and predict all of its test rows.

    The windows are independent joblib jobs (``n_jobs``).

    Parameters
    ----------
    model : estimator
        A scikit-learn classifier with ``predict_proba``; it is cloned, never fitted itself.
    X : pd.DataFrame
        The rows, indexed by (date, ticker).
    y : pd.Series
        Their 0/1 labels, NaN where unknown.
    windows : list of Window
        The walk-forward windows.
    realised : array-like of datetime or None, default None
        The date each label becomes known: keeps training to labels known before the test window, and is
        passed on to the model's ``fit`` where it takes a ``realised`` argument.
    advance : callable, default no-op
        Called with no argument as each window finishes (a progress bar).
    n_jobs : int, default 1
        Windows fitted at once.
    journal : Journal or None, default None
        With a journal (``deepfin.finance.pipeline.journal``) each window's probabilities are recorded as it
        finishes, and a window already recorded is not fitted again.
    last_model : bool, default True
        Where the journal held the last window, fit it again to return its model (a journal keeps no models);
        with False, return None then.

    Returns
    -------
    predictions : pd.DataFrame
        Every test row, indexed by (date, ticker): ``window``, ``probability`` (of label 1) and ``label`` (NaN
        where unknown).
    model : estimator or None
        The model fitted on the last window.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from deepfin.finance import (grid, label, monthly_features, next_period_outcomes, synthetic_prices,
    ...                              walk_forward)
    >>> prices = synthetic_prices("planted", n_tickers=20, n_months=60, signal=0.5)
    >>> X = monthly_features(prices, lags=1)
    >>> y = label(next_period_outcomes(prices, grid(prices, "month")).at(X.index)["forward_return"], "up")
    >>> windows = walk_forward(X.index.get_level_values("date"), train_size=24, test_size=12)
    >>> predictions, last = walk_forward_predictions(LogisticRegression(), X, y, windows)
    >>> list(predictions.columns), len(predictions)
    (['window', 'probability', 'label'], 680)
    >>> int(predictions["label"].isna().sum())  # the last month's outcome is not known yet
    20
    """
    keys = [None if journal is None else journal.key(("walk-forward window", model, list(X.columns),
                                                      *window.rows(X.index, realised))) for window in windows]

    def jobs(todo):
        return (delayed(_fit_window)(model, X, y, windows[number], realised, number) for number in todo)

    def restore(number, stored):
        return _part(X, y, windows[number].rows(X.index, realised)[1], number, stored["probability"]), None

    def record(done):
        return {"probability": done[0]["probability"].to_numpy()}

    parts, last = {}, None
    for number, (part, fitted) in parallel.resumable(keys, journal, jobs, record, restore, n_jobs):
        parts[number] = part
        last = fitted if number == len(windows) - 1 else last
        advance()
    if last is None and last_model:
        last = _fit_window(model, X, y, windows[-1], realised, len(windows) - 1)[1]
    return pd.concat([parts[number] for number in range(len(windows))]), last


def _fit_window(model, X: pd.DataFrame, y: pd.Series, window: Window, realised, number: int):
    """Window ``number``'s predictions and the model fitted on it."""
    train, test = window.rows(X.index, realised)
    fitted = clone(model).fit(X.iloc[train], y.iloc[train], **realised_for(model, realised, train))
    return _part(X, y, test, number, fitted.predict_proba(X.iloc[test])[:, 1]), fitted


def _part(X: pd.DataFrame, y: pd.Series, test: np.ndarray, number: int, probability: np.ndarray) -> pd.DataFrame:
    """One window's predictions: its test rows, their probabilities and labels."""
    return pd.DataFrame({"window": number, "probability": probability, "label": y.iloc[test].to_numpy()},
                        index=X.index[test])


def realised_for(model, realised, rows=slice(None)) -> dict:
    """Give ``fit``'s ``realised`` argument to a model that takes it.

    Parameters
    ----------
    model : estimator
        The model to be fitted.
    realised : array-like of datetime or None
        The date each row's label becomes known.
    rows : slice or array-like, default every row
        The rows the model is fitted on.

    Returns
    -------
    dict
        ``{"realised": realised[rows]}`` when ``realised`` is given and ``model.fit`` has a ``realised``
        parameter, else ``{}``.
    """
    if realised is None or "realised" not in inspect.signature(model.fit).parameters:
        return {}
    return {"realised": np.asarray(realised)[rows]}


def shuffled_cv_auc(model, X: pd.DataFrame, y: pd.Series, n_splits: int = 5, seed: int = 0,
                    advance: Callable[[], None] = lambda: None, n_jobs: int = 1, journal=None) -> float:
    """Score ``model`` as Jansen (2020, ch. 17) evaluates it: mean ROC AUC over shuffled stratified K-fold.

    The folds are drawn from the rows whose label is known (not NaN) without regard to their dates, so rows of
    every date fall on both sides of each split: the leakage the walk-forward evaluation avoids. A model with a
    ``fit_rows`` method is fitted on a fold's rows without copying them first.

    Parameters
    ----------
    model : estimator
        A scikit-learn classifier with ``predict_proba``; it is cloned for each fold.
    X : pd.DataFrame
        The rows.
    y : pd.Series
        Their 0/1 labels, NaN where unknown.
    n_splits : int, default 5
        Folds.
    seed : int, default 0
        The shuffle's ``random_state``.
    advance : callable, default no-op
        Called with no argument as each fold is scored.
    n_jobs : int, default 1
        Folds fitted at once (joblib jobs).
    journal : Journal or None, default None
        With a journal each fold's AUC is recorded as it finishes, and a fold already recorded is not fitted
        again.

    Returns
    -------
    float
        The mean of the folds' ROC AUCs.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from deepfin.finance import grid, label, monthly_features, next_period_outcomes, synthetic_prices
    >>> prices = synthetic_prices("planted", n_tickers=20, n_months=60, signal=0.5)
    >>> X = monthly_features(prices, lags=1)
    >>> y = label(next_period_outcomes(prices, grid(prices, "month")).at(X.index)["forward_return"], "up")
    >>> round(shuffled_cv_auc(LogisticRegression(), X, y, n_splits=3), 2)
    0.71
    """
    labelled = np.flatnonzero(y.notna().to_numpy())

    def folds():  # positions in X of each fold's training and test rows, made as needed rather than held
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return ((labelled[train], labelled[test]) for train, test in splitter.split(labelled, y.iloc[labelled]))

    keys = [None] * n_splits if journal is None else [journal.key(("shuffled fold", model, list(X.columns), *fold))
                                                      for fold in folds()]

    def jobs(todo):
        return (delayed(_fold_auc)(model, X, y, train, test)
                for number, (train, test) in enumerate(folds()) if number in todo)

    scores = {}
    for number, score in parallel.resumable(keys, journal, jobs, lambda auc: {"auc": auc},
                                            lambda number, record: record["auc"], n_jobs):
        scores[number] = score
        advance()
    return float(np.mean([scores[number] for number in range(n_splits)]))


def _fold_auc(model, X: pd.DataFrame, y: pd.Series, train, test) -> float:
    fitted = clone(model)
    if hasattr(fitted, "fit_rows"):  # fits on X.iloc[train] without copying those rows first
        fitted.fit_rows(X, y, train)
    else:
        fitted.fit(X.iloc[train], y.iloc[train])
    return float(roc_auc_score(y.iloc[test], fitted.predict_proba(X.iloc[test])[:, 1]))
